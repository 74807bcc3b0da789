"""Run folders: runs/<UTC timestamp>[-N]/, created fresh so an earlier run is never overwritten.

An explicit ``--out`` folder must be empty, and a run takes it with a lock file created with
``O_EXCL``: two runs started into one folder at once cannot both proceed (the second is refused, not
merged). Install logs go to ``runs/<stamp>-install-STEP``; only folders holding a tutorial run's
``summary.json`` count as runs for ``slides``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .exceptions import CannotWrite, RunFolderBusy, RunFolderNotEmpty

RUNS = Path("runs")
LOCK = ".gpudock-run.lock"


def new_run_dir(out: str | Path | None = None, base: str | Path = RUNS, suffix: str = "", lock: bool = False) -> Path:
    """Create and return a new run folder. An explicit ``out`` must not hold an earlier run.

    With ``lock`` the folder is taken with a lock file (``release_run_dir`` removes it).
    """
    if out is not None:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise CannotWrite(path, "is a file, not a folder")
        path.mkdir(parents=True, exist_ok=True)
        if lock:
            try:
                fd = os.open(path / LOCK, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            except FileExistsError:
                raise RunFolderBusy(path) from None
            os.write(fd, f"{os.getpid()}\n".encode())
            os.close(fd)
        if any(p.name != LOCK for p in path.iterdir()):
            if lock:
                release_run_dir(path)
            raise RunFolderNotEmpty(path)
        return path
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + suffix
    for attempt in range(1000):
        path = Path(base) / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            continue
        if lock:
            (path / LOCK).write_text(f"{os.getpid()}\n")
        return path
    raise CannotWrite(base, "no new run folder could be created there")


def release_run_dir(path: Path) -> None:
    try:
        (Path(path) / LOCK).unlink()
    except FileNotFoundError:
        pass
