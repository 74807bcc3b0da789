"""Run one probe command: an argv list with a time-out, in its own process group, never raising.

A missing command is rc 127, a hung one is recorded with ``timed_out``, undecodable bytes are replaced,
and each stream keeps at most ``MAX_OUTPUT`` characters (head and tail, marked as cut). Ctrl-C kills
every running probe's process group at once (``kill_running``). ``gpudock.probe`` says what to run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence

from .snapshot import MAX_TEXT, NOT_FOUND, cap_text

MAX_OUTPUT = MAX_TEXT  # characters kept per stream, head and tail; nvidia-smi -q on 8 GPUs is ~60k
_RUNNING: set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()
_STOPPING = threading.Event()


def _decode(data: bytes | None) -> str:
    return cap_text((data or b"").decode("utf-8", errors="replace"), MAX_OUTPUT)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def kill_running() -> None:
    """Kill every probe still running (and what it started): Ctrl-C must not leave one behind."""
    _STOPPING.set()
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for proc in running:
        _kill_group(proc)


def run_command(
    argv: Sequence[str],
    timeout: float = 15.0,
    env: Mapping[str, str] | None = None,
    user: str | int | None = None,
) -> dict:
    """Run ``argv`` and return the snapshot's command entry; never raises.

    The command runs in its own process group so a time-out also kills what it
    started (``docker run`` leaves a client waiting otherwise). ``user`` runs it
    as another account (root only), for tests of the docker group.
    """
    full_env = dict(os.environ)
    full_env.update({"LC_ALL": "C", "LANG": "C"})  # rules read English messages
    full_env.update(env or {})
    extra = {}
    if user is not None:
        extra = {"user": user, "group": _primary_group(user), "extra_groups": []}
    if _STOPPING.is_set():
        return {"rc": None, "stdout": "", "stderr": f"{argv[0]}: not run (interrupted)"}
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            start_new_session=True,
            **extra,
        )
    except FileNotFoundError:
        return {"rc": NOT_FOUND, "stdout": "", "stderr": f"{argv[0]}: command not found"}
    except PermissionError as err:
        return {"rc": 126, "stdout": "", "stderr": f"{argv[0]}: {err.strerror}"}
    except (OSError, ValueError, KeyError) as err:
        return {"rc": None, "stdout": "", "stderr": f"{argv[0]}: cannot start: {err}"}
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
        stopping = _STOPPING.is_set()
    if stopping:  # Ctrl-C came between the check above and Popen: kill_running() could not see this one
        _kill_group(proc)
    try:
        return _wait(proc, timeout)
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)


def _wait(proc: subprocess.Popen, timeout: float) -> dict:
    """The command's entry once it ends, or once ``timeout`` passed and its group was killed."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            out, err = b"", b""
        return {
            "rc": None,
            "stdout": _decode(out),
            "stderr": _decode(err) + f"\n[gpudock: no answer within {timeout:g} s; killed]",
            "timed_out": True,
        }
    except BaseException:  # Ctrl-C in the calling thread: the probe's whole group goes too
        _kill_group(proc)
        raise
    return {"rc": proc.returncode, "stdout": _decode(out), "stderr": _decode(err)}


def _primary_group(user: str | int) -> int:
    import pwd

    entry = pwd.getpwnam(user) if isinstance(user, str) else pwd.getpwuid(user)
    return entry.pw_gid


def read_file(path: str) -> str | None | bool:
    """Text, None when absent, False when present but unreadable or not a regular file (then: not probed)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError:
        return False
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode) and not path.startswith("/proc/"):
            os.close(fd)
            return False
        with os.fdopen(fd, "rb") as handle:
            return _decode(handle.read(MAX_OUTPUT * 4))
    except FileNotFoundError:
        return None
    except OSError:
        return False


def allow_runs() -> None:
    """A new probe round may start commands again (after an earlier one was interrupted)."""
    _STOPPING.clear()


def running_commands(most: int = 2) -> str:
    """The commands still running, shortest first, for a progress line ("waiting for: docker run …")."""
    with _RUNNING_LOCK:
        argvs = [list(proc.args)[:4] for proc in _RUNNING]
    shown = sorted((" ".join(map(str, argv)) for argv in argvs), key=len)[:most]
    return ("waiting for: " + ", ".join(shown) + (" …" if len(argvs) > most else "")) if shown else ""
