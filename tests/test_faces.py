"""One library under both faces: the notebooks (gpudock.tutorial) and the CLI reach the doctor, the planners
and Docker through the same functions, and show the same doctor output for the same snapshot."""

import ast
import json
import os
import subprocess
import sys

import nbformat
import pytest

from gpudock.cli import main
from gpudock.tutorial import Session
from gpudock.views import findings_text
from tests.helpers import CASES, ROOT, SNAPSHOTS

FACES = ("tutorial.py", *sorted(f"cli/{p.name}" for p in (ROOT / "src" / "gpudock" / "cli").glob("*.py")))
# what only the doctor, the planners and the fleet may reach: the rules, the prober and the host facts
INNER = {"diagnose", "probe", "hostinfo"}
SNAPSHOT_FILES = sorted(SNAPSHOTS.glob("*.json")) + [
    CASES / name for name in ("debian12-daemon-down.json", "wsl2-lib-file-exists-linux-driver.json")
]


def _imported_modules(path, top: int = 1) -> set[str]:
    """gpudock's modules that ``path`` imports; ``top`` is the relative level of gpudock itself there."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")
            names.update(module[:1] if node.level == top and node.module else [])
            names.update(alias.name for alias in node.names if node.level == top and not node.module)
            if node.module and node.module.startswith("gpudock."):
                names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[1] for a in node.names if a.name.startswith("gpudock."))
    return names


@pytest.mark.parametrize("face", FACES)
def test_the_faces_import_no_rules_prober_or_host_facts(face):
    reached = _imported_modules(ROOT / "src" / "gpudock" / face, top=face.count("/") + 1) & INNER
    assert not reached, f"{face} imports {reached}: go through gpudock.doctor / gpudock.install.plan_for"


@pytest.mark.parametrize("path", SNAPSHOT_FILES, ids=[p.stem for p in SNAPSHOT_FILES])
def test_notebook_and_cli_doctor_agree(path, capsys):
    session = Session(str(path))
    main(["doctor", "--snapshot", str(path), "--json"])
    cli = json.loads(capsys.readouterr().out)
    assert cli["findings"] == [f.as_dict() for f in session.findings]
    assert cli["host"] == session.host.as_dict()
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    text = subprocess.run(
        [sys.executable, "-m", "gpudock", "doctor", "--snapshot", str(path), "--verbose"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    ).stdout
    assert findings_text(session.findings, width=100, verbose=True) in text


def test_the_executed_index_notebook_shows_what_the_cli_shows(tmp_path):
    """The run folder's 00-index shows the doctor's findings exactly as the library renders them."""
    snapshot = SNAPSHOTS / "debian12-ci-no-gpu.json"
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "run", "00", "--snapshot", str(snapshot), "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    nb = nbformat.read(tmp_path / "run" / "00-index.ipynb", as_version=4)
    shown = next(
        "".join(o.get("text", "") for o in cell.outputs)
        for cell in nb.cells
        if cell.cell_type == "code" and cell.source.strip() == "t.show_findings()"
    )
    assert shown.rstrip("\n") == findings_text(Session(str(snapshot)).findings, verbose=True)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary[0]["status"] == "ok" and summary[0]["verdict"] == "error"  # the CI host: no driver
    assert summary[0]["host"]["kind"] == "native" and summary[0]["gpudock"]
    assert "KeyboardInterrupt" not in proc.stderr and "IPKernelApp" not in proc.stderr


def test_a_broken_run_snapshot_is_one_line_and_exit_2_before_any_notebook(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "run", "--snapshot", str(bad), "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("gpudock: snapshot:")
    assert not (tmp_path / "run").exists()
