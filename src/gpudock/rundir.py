"""Run folders: runs/<UTC timestamp>[-N]/, created fresh so an earlier run is never overwritten."""

from __future__ import annotations

import time
from pathlib import Path

from .exceptions import CannotWrite, RunFolderNotEmpty

RUNS = Path("runs")


def new_run_dir(out: str | Path | None = None, base: str | Path = RUNS, suffix: str = "") -> Path:
    """Create and return a new run folder. An explicit ``out`` must not hold an earlier run."""
    if out is not None:
        path = Path(out)
        if path.exists() and any(path.iterdir()):
            raise RunFolderNotEmpty(path)
        path.mkdir(parents=True, exist_ok=True)
        return path
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + suffix
    for attempt in range(1000):
        path = Path(base) / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise CannotWrite(base, "no new run folder could be created there")


def latest_run(base: str | Path = RUNS) -> Path | None:
    runs = sorted(p for p in Path(base).glob("*") if p.is_dir()) if Path(base).is_dir() else []
    return runs[-1] if runs else None
