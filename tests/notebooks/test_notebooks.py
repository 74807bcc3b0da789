"""The tutorial notebooks: readable by jupytext/JupyterLab, run headless by `gpudock run`, checked by nbval."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from gpudock.exceptions import UsageError
from gpudock.runner import declared_parameters, find_notebooks, resolve_parameters, run_notebooks
from tests.helpers import ROOT

GOLDEN = Path(__file__).parent / "golden"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))
SECTIONS = [
    "00-index",
    "01-docker-check",
    "02-nvidia-docker-history",
    "03-install-driver",
    "04-install-docker",
    "05-install-container-toolkit",
    "06-benchmark",
    "07-fleet",
]


def gpudock(*args, cwd=ROOT, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "gpudock", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


def test_one_notebook_per_section_each_opens_with_a_parameters_cell():
    assert [p.stem for p in NOTEBOOKS] == SECTIONS
    for path in NOTEBOOKS:
        nb = jupytext.read(path)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        assert nb.metadata["jupytext"]["text_representation"]["format_name"] == "markdown"
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1 and "snapshot" in declared_parameters(path)
        assert any(
            c.cell_type == "markdown" and any("\u3040" <= ch <= "\u30ff" for ch in c.source) for c in nb.cells
        ), f"{path.name} keeps the deck's Japanese narrative"


def test_outdated_commands_are_kept_visible_and_marked():
    driver = (ROOT / "notebooks" / "03-install-driver.md").read_text()
    assert "sudo apt-key add /var/cuda-repo-ubuntu2004-11-0-local/7fa2af80.pub" in driver and "【古い" in driver
    assert "cuda-drivers パ kk－次" not in driver and "パッケージ（あるいはその相当品）" in driver
    history = (ROOT / "notebooks" / "02-nvidia-docker-history.md").read_text()
    assert (
        "ボリュームプラグラインのデーモン" not in history
        and "利用かのうにする" not in history
        and "【古い情報" in history
    )
    for path in NOTEBOOKS:  # shell snippets that must not run are not executable cells
        for cell in jupytext.read(path).cells:
            if cell.cell_type == "code":
                assert not cell.source.lstrip().startswith(("%%", "!")), f"{path.name}: shell in a code cell"


@pytest.mark.parametrize("scenario", sorted(p.name for p in GOLDEN.iterdir()))
def test_golden_sources_match_the_notebooks(scenario):
    for path in NOTEBOOKS:
        golden = nbformat.read(GOLDEN / scenario / f"{path.stem}.ipynb", as_version=4)
        kept = [
            (c.cell_type, c.source) for c in golden.cells if "injected-parameters" not in c.metadata.get("tags", [])
        ]
        source = [(c.cell_type, c.source) for c in jupytext.read(path).cells]
        assert kept == source, f"{scenario}/{path.stem} is stale: run `python -m tests.notebooks.golden`"


def test_at_least_three_scenarios_including_a_broken_host():
    scenarios = {p.name for p in GOLDEN.iterdir()}
    assert {"wsl2-healthy", "native-h200-healthy", "debian12-ci-no-gpu"} <= scenarios
    broken = nbformat.read(GOLDEN / "debian12-ci-no-gpu" / "00-index.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in broken.cells for o in c.get("outputs", []))
    assert "nvidia-driver-missing" in text


def _nbval(path: Path, cwd: Path):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(cwd / "empty.ini"),
            "--nbval-lax",
            "--nbval-current-env",
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_changing_an_expected_output_makes_nbval_fail_and_restoring_passes(tmp_path):
    scenario = tmp_path / "golden" / "wsl2-healthy"
    shutil.copytree(GOLDEN / "wsl2-healthy", scenario)
    (tmp_path / "empty.ini").write_text("[pytest]\n")
    data = tmp_path / "data" / "snapshots"
    data.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "data" / "snapshots" / "wsl2-healthy.json", data)
    # the golden's relative snapshot path (../../../data/snapshots/…) must resolve from the copy too
    nested = tmp_path / "x" / "golden" / "wsl2-healthy"
    shutil.move(str(scenario), nested)
    shutil.move(str(tmp_path / "data"), tmp_path / "data")
    notebook = nested / "02-nvidia-docker-history.ipynb"
    original = notebook.read_text()
    assert _nbval(notebook, tmp_path).returncode == 0
    nb = nbformat.reads(original, as_version=4)
    cell = next(c for c in nb.cells if "nbval-check-output" in c.metadata.get("tags", []) and c.outputs)
    cell.outputs[0]["text"] = cell.outputs[0]["text"].replace("NVIDIA Container Toolkit", "NVIDIA Docker 3")
    nbformat.write(nb, notebook)
    failed = _nbval(notebook, tmp_path)
    assert failed.returncode != 0 and "NVIDIA Docker 3" in failed.stdout
    notebook.write_text(original)
    assert _nbval(notebook, tmp_path).returncode == 0


def test_parameters_are_checked_before_anything_runs(tmp_path):
    for args, message in (
        (("-p", "nosuch", "1"), "unknown parameter 'nosuch'"),
        (("-p", "apply", "maybe"), "parameter apply takes true or false, not 'maybe'"),
    ):
        proc = gpudock("run", *args, "--out", str(tmp_path / "never"))
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr
        assert not (tmp_path / "never").exists()


def test_parameter_types():
    paths = find_notebooks(["03", "06"])
    typed = resolve_parameters(paths, {"apply": "false", "quick": "0", "driver_branch": "580"})
    assert typed[paths[0]] == {"apply": False, "driver_branch": "580"} and typed[paths[1]] == {"quick": False}
    with pytest.raises(UsageError, match="no single notebook"):
        find_notebooks(["0"])


def test_replay_run_is_deterministic_and_never_overwrites(tmp_path):
    snapshot = ROOT / "tests" / "data" / "snapshots" / "wsl2-healthy.json"
    outputs = []
    for out in ("a", "b"):
        folder, runs = run_notebooks(["02"], {}, tmp_path / out, snapshot, say=lambda line: None)
        assert [r.status for r in runs] == ["ok"]
        summary = json.loads((folder / "summary.json").read_text())
        # the contract's four keys, and the additive ones (docs/contracts.md, "gpudock run summary")
        assert set(summary[0]) == {"notebook", "status", "duration_s", "error"} | {
            "verdict",
            "parameters",
            "gpudock",
            "host",
        }
        nb = nbformat.read(folder / "02-nvidia-docker-history.ipynb", as_version=4)
        outputs.append([o.get("text") for c in nb.cells for o in c.get("outputs", [])])
    assert outputs[0] == outputs[1] and any("NVIDIA Container Toolkit" in (t or "") for t in outputs[0])
    proc = gpudock("run", "02", "--snapshot", str(snapshot), "--out", str(tmp_path / "a"))
    assert proc.returncode == 2 and "already holds files" in proc.stderr


def test_a_failing_notebook_is_named_with_its_cell_and_the_others_still_run(tmp_path):
    header = (ROOT / "notebooks" / "01-docker-check.md").read_text().split("---\n", 2)
    broken = tmp_path / "90-broken.md"
    broken.write_text(
        "---\n" + header[1] + '---\n\n```python tags=["parameters"]\nsnapshot = ""\n```\n\n'
        '```python\nx = 1\n```\n\n```python\nraise RuntimeError("the deck\'s screenshot is lost")\n```\n'
    )
    good = ROOT / "notebooks" / "02-nvidia-docker-history.md"
    snapshot = ROOT / "tests" / "data" / "snapshots" / "wsl2-healthy.json"
    proc = gpudock("run", str(broken), str(good), "--snapshot", str(snapshot), "--out", str(tmp_path / "run"))
    assert proc.returncode == 1
    assert "90-broken failed at code cell 3 (In [4]): RuntimeError: the deck's screenshot is lost" in proc.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [(r["notebook"], r["status"]) for r in summary] == [
        ("90-broken", "failed"),
        ("02-nvidia-docker-history", "ok"),
    ]
    assert (tmp_path / "run" / "90-broken.ipynb").exists()


@pytest.mark.requires_docker
def test_whole_tutorial_live_on_this_host(tmp_path):
    proc = gpudock("run", "--out", str(tmp_path / "live"), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((tmp_path / "live" / "summary.json").read_text())
    assert [r["status"] for r in summary] == ["ok"] * len(SECTIONS)
    hello = nbformat.read(tmp_path / "live" / "01-docker-check.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in hello.cells for o in c.get("outputs", []))
    assert "live: " in "".join(
        o.get("text", "")
        for c in nbformat.read(tmp_path / "live" / "00-index.ipynb", as_version=4).cells
        for o in c.get("outputs", [])
    )
    assert "Hello from Docker!" in text and "docker-ok" in text
    bench = nbformat.read(tmp_path / "live" / "06-benchmark.ipynb", as_version=4)
    assert any("image/png" in o.get("data", {}) for c in bench.cells for o in c.get("outputs", []))
