"""Run folders: runs/<UTC timestamp>[-N]/, created fresh so an earlier run is never overwritten.

An explicit ``--out`` folder must be empty, and a run takes it with a lock file created with
``O_EXCL``: two runs started into one folder at once cannot both proceed (the second is refused, not
merged). The lock holds ``pid@host``: a lock whose process is gone (killed, a full disk) is taken
over. Install logs go to ``runs/<stamp>-install-STEP``; only folders holding a tutorial run's
``summary.json`` count as runs for ``slides``.
"""

from __future__ import annotations

import os
import socket
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
        if path.is_symlink():
            raise CannotWrite(path, "is a symlink; give a real folder")
        if path.exists() and not path.is_dir():
            raise CannotWrite(path, "is a file, not a folder")
        path.mkdir(parents=True, exist_ok=True)
        if lock:
            take_lock(path)
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
            take_lock(path)
        return path
    raise CannotWrite(base, "no new run folder could be created there")


def _owner() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"


def _stale(path: Path) -> bool:
    """A lock left by a gpudock that is gone: an empty or unreadable lock (a disk that was full), or the pid
    of a process that no longer runs on this machine. A lock from another machine is never stale here."""
    try:
        fd = os.open(path / LOCK, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            text = handle.read(200).decode("ascii", "replace").strip()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    pid, _, host = text.partition("@")
    if not pid.isdigit():
        return True
    if host and host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's live process
        return False
    return False


def take_lock(path: Path) -> None:
    """The run folder's lock (``O_EXCL``), holding ``pid@host``; a stale one is taken over, a live one refused."""
    for _attempt in range(2):
        try:
            fd = os.open(path / LOCK, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            if _attempt == 0 and _stale(path):
                release_run_dir(path)
                continue
            raise RunFolderBusy(path) from None
        try:
            os.write(fd, f"{_owner()}\n".encode())
        except OSError as err:
            os.close(fd)
            release_run_dir(path)  # a lock that says nothing (a full disk) is not left behind
            err.filename = err.filename or str(path / LOCK)
            raise
        os.close(fd)
        return
    raise RunFolderBusy(path)


def release_run_dir(path: Path) -> None:
    try:
        (Path(path) / LOCK).unlink()
    except FileNotFoundError:
        pass
