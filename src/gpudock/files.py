"""Reading gpudock's JSON inputs safely; writing result files so that nothing is left half-done.

Inputs (snapshots, results) are read only from a regular file of at most ``MAX_FILE_BYTES``, opened
without blocking, so a FIFO, ``/dev/zero`` or a huge file is one clear error, never a hang.

The temporary file is created with ``O_EXCL`` under a fresh random name in the target's own folder
(``tempfile.mkstemp``), so a file or symlink planted at a predictable name (``out.json.tmp``) is never
opened or followed; it is then renamed over the target, atomically. A symlink *at the target* is
replaced by the new file, not followed: root never writes through someone else's link.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from .exceptions import SnapshotError

MAX_FILE_BYTES = 16 * 1024 * 1024  # a snapshot or results file larger than this is refused


def write_bytes_atomic(path: str | Path, data: bytes, mode: int = 0o644) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        raise IsADirectoryError(21, "Is a directory", str(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode & ~_umask())
        os.replace(tmp, target)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(err, OSError) and not err.filename:
            err.filename = str(target)  # "cannot write PATH: No space left on device", not without the path
        raise
    return target


def write_text_atomic(path: str | Path, text: str, mode: int = 0o644) -> Path:
    """Write ``text`` as UTF-8 (a lone surrogate is written as U+FFFD rather than failing half-way)."""
    return write_bytes_atomic(path, text.encode("utf-8", errors="replace"), mode)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def check_writable(path: str | Path) -> Path:
    """Raise OSError now if a file could not be written at ``path`` later (before a long run, e.g. bench)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(target))
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=folder)
    except OSError as err:
        err.filename = str(target)  # the path the person gave, not the probe file's name
        raise
    os.close(fd)
    os.unlink(tmp)
    return target


def read_bytes_bounded(path: str | Path, error: type = SnapshotError, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Opened without blocking (a FIFO never hangs) and checked on the open descriptor, so ``/dev/zero``,
    a FIFO or a folder is one clear error, never a hang or a MemoryError.
    """
    path = Path(path)

    def fail(problem: str):
        return error(problem, path) if error is SnapshotError else error(path, problem)

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise fail("no such file") from None
    except IsADirectoryError:
        raise fail("is a folder, not a file") from None
    except OSError as err:
        raise fail(f"cannot read ({err.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise fail("is a folder, not a file")
        raise fail("is not a regular file (a device, FIFO or socket); give the file itself")
    too_big = f"is larger than {_size(limit)}; not a file gpudock wrote"
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > limit:
            raise fail(too_big)
        try:
            data = handle.read(limit + 1)
        except OSError as err:
            raise fail(f"cannot read ({err.strerror})") from None
    if len(data) > limit:
        raise fail(too_big)
    return data


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"


def read_json_text(path: Path, error: type = SnapshotError, limit: int = MAX_FILE_BYTES) -> str:
    """The text of a JSON input file: a regular file of at most ``limit`` bytes, UTF-8 (``read_bytes_bounded``)."""
    data = read_bytes_bounded(path, error, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        problem = "is not UTF-8 text; give the JSON file gpudock wrote"
        raise (error(problem, path) if error is SnapshotError else error(path, problem)) from None


def inside(folder: str | Path, name: str | Path, error: type = SnapshotError) -> Path:
    """``folder/name``, refused when it leaves ``folder`` (``..``, an absolute name, a symlink pointing out)."""
    base = Path(folder).resolve()
    target = (Path(folder) / name).resolve()
    if target != base and base not in target.parents:
        problem = "leaves its folder (an absolute path, .. or a symlink pointing out); refused"
        where = Path(folder) / name
        raise error(problem, where) if error is SnapshotError else error(where, problem)
    return target


def parse_json(text: str, source: str, error: type = SnapshotError) -> Any:
    """``json.loads`` with every failure as one line: syntax, nesting, 5,000-digit numbers."""

    def fail(problem: str):
        return error(problem, source) if error is SnapshotError else error(source, problem)

    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise fail(f"is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    except RecursionError:
        raise fail("is nested too deeply to be gpudock's JSON") from None
    except ValueError as err:  # e.g. an integer with more digits than Python converts
        raise fail(f"is not usable JSON ({str(err)[:80]})") from None
