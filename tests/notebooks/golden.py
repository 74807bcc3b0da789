"""Golden notebooks for nbval: `python -m tests.notebooks.golden` replays every scenario through every notebook.

Each scenario is a snapshot in tests/data/snapshots/; its executed notebooks (with outputs) land in
tests/notebooks/golden/<scenario>/. The snapshot path is relative to that folder, where nbval runs the
kernel, so the goldens re-execute anywhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.helpers import ROOT, SNAPSHOTS

GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIOS = ("wsl2-healthy", "native-h200-healthy", "debian12-ci-no-gpu")


def make(scenario: str) -> list[str]:
    import nbformat

    from gpudock.runner import execute, find_notebooks

    folder = GOLDEN / scenario
    folder.mkdir(parents=True, exist_ok=True)
    snapshot = os.path.relpath(SNAPSHOTS / f"{scenario}.json", folder)
    failed = []
    for path in find_notebooks():
        out = folder / f"{path.stem}.ipynb"
        result = execute(path, out, {"snapshot": snapshot}, cwd=folder)
        if result.status != "ok":
            failed.append(f"{scenario}/{path.stem}: {result.error}")
        nb = nbformat.read(out, as_version=4)
        nb.metadata.pop("papermill", None)  # timestamps and absolute paths: not part of the expectation
        for number, cell in enumerate(nb.cells):
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
            cell.id = f"cell-{number:03d}"  # stable ids: a regeneration changes only what really changed
        nbformat.write(nb, out)
    return failed


if __name__ == "__main__":
    os.chdir(ROOT)
    problems = [p for s in SCENARIOS for p in make(s)]
    print("\n".join(problems) or f"golden notebooks written for {', '.join(SCENARIOS)}")
    sys.exit(1 if problems else 0)
