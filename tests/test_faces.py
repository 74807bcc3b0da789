"""One library under both faces: the notebooks (gpudock.tutorial) and the CLI reach the doctor, the planners
and Docker through the same functions, and show the same doctor output for the same snapshot."""

import ast
import json
import os
import subprocess
import sys
from dataclasses import asdict

import nbformat
import pytest
from rich.console import Group

from gpudock.cli import main
from gpudock.layout import render_plain
from gpudock.tutorial import Session
from gpudock.views import findings_text, generations_view
from tests.helpers import CASES, ROOT, SNAPSHOTS

SRC = ROOT / "src" / "gpudock"
FACES = ("tutorial.py", "cli.py")
# What a face may not import: the doctor's rules, the prober, the host facts and the generations table. A face
# holds the doctor's Report (gpudock.doctor) and the planners' Plan (gpudock.install.plan_for), and shows them.
FACE_MAY_NOT = {"diagnose", "probe", "facts", "generations", "hostinfo"}
# The floors below the faces: who may not import whom (the first part of a module's name under gpudock).
# The host facts read the snapshot only; the rules read the facts; the planners, the fleet and the generations
# table read the facts, never the rules.
MAY_NOT = {
    "facts": {"diagnose", "install", "fleet", "doctor", "probe", "generations", "tutorial", "cli", "views"},
    "diagnose": {"install", "fleet", "doctor", "probe", "generations", "tutorial", "cli"},
    "generations": {"diagnose", "install", "fleet", "doctor", "probe", "tutorial", "cli"},
    "install": {"diagnose", "fleet", "probe", "tutorial", "cli"},
    "fleet": {"diagnose", "tutorial", "cli"},
}
SNAPSHOT_FILES = sorted(SNAPSHOTS.glob("*.json")) + [
    CASES / name for name in ("debian12-daemon-down.json", "wsl2-lib-file-exists-linux-driver.json")
]


def _module_name(path) -> list[str]:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path) -> set[str]:
    """Every gpudock module ``path`` imports (at any depth, in any function), as absolute dotted names."""
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = base + (node.module.split(".") if node.module else [])
            names.add(".".join(module))
            names.update(".".join([*module, alias.name]) for alias in node.names)  # `from . import probe`
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n.startswith("gpudock.")}


def _floors(path) -> set[str]:
    """The parts of gpudock (``diagnose``, ``facts``, ``probe``, …) that ``path`` imports."""
    return {name.split(".")[1] for name in _imports(path)}


def _part(path) -> str:
    relative = path.relative_to(SRC)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


@pytest.mark.parametrize("face", FACES)
def test_the_faces_import_no_rules_prober_or_host_facts(face):
    reached = _floors(SRC / face) & FACE_MAY_NOT
    assert not reached, f"{face} imports {reached}: go through gpudock.doctor / gpudock.install.plan_for"


def test_each_floor_imports_only_what_is_below_it():
    wrong = {}
    for path in sorted(SRC.rglob("*.py")):
        banned = _floors(path) & MAY_NOT.get(_part(path), set())
        if banned:
            wrong[str(path.relative_to(SRC))] = sorted(banned)
    assert not wrong, f"imports across the floors: {wrong}"


def test_the_guard_sees_relative_imports_at_any_depth(tmp_path):
    """The import reader resolves ``..diagnose`` from a subpackage and names imported from a package."""
    assert "gpudock.diagnose" in _imports(SRC / "doctor.py")
    assert "gpudock.facts.evidence" in _imports(SRC / "install" / "docker.py")  # from ..facts.evidence import
    assert "gpudock.probe" in _imports(SRC / "doctor.py")  # `from . import probe`
    assert _part(SRC / "diagnose" / "docker.py") == "diagnose" and _part(SRC / "cli.py") == "cli"


def test_no_module_imports_its_own_package_init_for_a_name():
    """No arrow back up: a module never takes a name from the package that holds it (``from . import
    __version__``); the package's ``__init__`` loads lazily and may load the module itself."""
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        package = ".".join(_module_name(path)[:-1])
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module:
                for alias in node.names:
                    if not (path.parent / f"{alias.name}.py").exists() and not (path.parent / alias.name).is_dir():
                        wrong.append(f"{path.relative_to(SRC)}: from . import {alias.name} ({package})")
    assert not wrong, wrong


def test_no_import_circle_between_modules():
    """Module A imports B (anywhere in A) and B imports A: a circle, such as bench/cpu.py <-> cpu_kernels.py was."""
    graph = {}
    for path in SRC.rglob("*.py"):
        if path.name != "__init__.py":
            graph[".".join(_module_name(path))] = _imports(path)
    circles = sorted(
        f"{a} <-> {b}" for a, targets in graph.items() for b in targets if a < b and a in graph.get(b, set())
    )
    assert not circles, circles


def test_import_gpudock_cli_loads_only_what_parsing_needs():
    """The package __init__ is lazy (PEP 562): `gpudock --help` loads the CLI, the exit codes and exceptions."""
    code = "import sys, gpudock.cli; print(sorted(m for m in sys.modules if m.startswith('gpudock')))"
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", code], text=True).replace("'", '"'))
    assert set(loaded) <= {"gpudock", "gpudock._version", "gpudock.cli", "gpudock.exceptions", "gpudock.exitcodes"}
    code = "import gpudock; print(gpudock.check.__module__, gpudock.Report.__name__, gpudock.__version__)"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).split()[:2] == ["gpudock.doctor", "Report"]


@pytest.mark.parametrize("path", SNAPSHOT_FILES, ids=[p.stem for p in SNAPSHOT_FILES])
def test_notebook_and_cli_doctor_agree(path, capsys):
    session = Session(str(path))
    main(["doctor", "--snapshot", str(path), "--json"])
    cli = json.loads(capsys.readouterr().out)
    assert cli["findings"] == [f.as_dict() for f in session.findings]
    assert cli["host"] == session.host.as_dict()
    assert cli["generations"] == [asdict(g) for g in session.report.generations]  # both from the Report
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    text = subprocess.run(
        [sys.executable, "-m", "gpudock", "doctor", "--snapshot", str(path), "--verbose"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    ).stdout
    assert findings_text(session.findings, width=100, verbose=True) in text
    assert render_plain(Group(*generations_view(session.report.generations)), 100) in text


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
