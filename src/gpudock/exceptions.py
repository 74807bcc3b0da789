"""Every error gpudock reports to a person, in one module.

Each class builds its own one-line message from what it is given (papermill's ``exceptions.py`` is the
model) and carries the exit code the CLI returns for it. Library callers (notebooks) see ordinary
exceptions; the CLI prints ``str(err)`` and exits with ``err.exit_code``, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .exitcodes import ExitCode


class GpudockError(Exception):
    """A problem the person can fix; the message says what is wrong and what to do."""

    exit_code = ExitCode.USAGE


# --- bad usage or unreadable input: exit 2 ------------------------------------------------------------


class UsageError(GpudockError):
    """A wrong argument or option value; the message is the whole explanation."""


class UnknownNotebook(UsageError):
    def __init__(self, name: str, known: Iterable[str]):
        super().__init__(f"no single notebook matches {name!r}; the notebooks are: {', '.join(known)}")


class UnknownParameter(UsageError):
    def __init__(self, name: str, accepted: str):
        super().__init__(f"unknown parameter {name!r}; these notebooks accept: {accepted}")


class BadParameterValue(UsageError):
    def __init__(self, name: str, expected: str, raw: str):
        super().__init__(f"parameter {name} takes {expected}, not {raw!r}")


class NotebooksNotFound(UsageError):
    def __init__(self):
        super().__init__("no notebooks/ folder here or beside the gpudock source; run from the repository")


class SnapshotError(GpudockError):
    """A snapshot that cannot be read or does not follow the contract."""

    def __init__(self, problem: str, source: str | Path | None = None):
        self.source, self.problem = source, problem
        super().__init__(f"snapshot: {source}: {problem}" if source else f"snapshot: {problem}")


class ResultsFileError(GpudockError):
    """A bench results file that cannot be read or does not follow the contract."""

    def __init__(self, source: str | Path, problem: str):
        self.source, self.problem = str(source), problem
        super().__init__(f"{source}: {problem}")


class NoComparablePoints(UsageError):
    def __init__(self, a: str, b: str):
        super().__init__(f"{a} and {b} share no measured point (the same benchmark, precision and size)")


class NeedsYes(UsageError):
    """--apply without --yes asks before each root step; with no terminal nobody can answer (exit 2)."""

    def __init__(self):
        super().__init__("no terminal to answer the questions of --apply; add --yes to run without asking")


class RunFolderNotEmpty(UsageError):
    def __init__(self, path: str | Path, how: str = "give a new folder (earlier runs are never overwritten)"):
        super().__init__(f"{path} already holds files; {how}")


class UnreadableNotebook(UsageError):
    """An executed notebook of a run folder that cannot be read (a device, a link out, too big, not JSON)."""

    def __init__(self, path: str | Path, problem: str):
        self.source, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")


class RunFolderBusy(UsageError):
    def __init__(self, path: str | Path):
        super().__init__(f"{path}: another gpudock run is writing there; give a new folder")


class RunFolderMissing(UsageError):
    def __init__(self, path: str | Path | None, problem: str):
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{problem}")


class CannotWrite(UsageError):
    """An output path that cannot be written (a folder we were told to use, a file in the way)."""

    def __init__(self, path: str | Path | None, reason: str):
        where = f"{path}: " if path else ""
        super().__init__(f"cannot write {where}{reason}")


# --- the host or a run has a problem: exit 1 -----------------------------------------------------------


class HostProblem(GpudockError):
    exit_code = ExitCode.PROBLEM


class PlanRefused(HostProblem):
    """This host must not get this install (WSL driver, Docker Desktop, unsupported distro)."""


class ApplyFailed(HostProblem):
    """An apply step or the final verification failed; earlier steps stay done, reruns skip them."""


class ContainerFailed(HostProblem):
    def __init__(self, image: str, detail: str):
        super().__init__(f"{image}: {detail}")


class BenchmarkError(HostProblem):
    """A benchmark that ran but whose result cannot be trusted or read."""


# --- a tool or daemon this command needs is missing: exit 3 --------------------------------------------


class MissingTool(GpudockError):
    exit_code = ExitCode.MISSING

    def __init__(self, what: str, how: str):
        self.what, self.how = what, how
        super().__init__(f"{what}; {how}")


class DockerUnavailable(MissingTool):
    """No Docker daemon answers, or this user may not use its socket."""

    def __init__(self, reason: str, how: str = "start it (`gpudock doctor` says how)"):
        super().__init__(f"docker: {reason}", how)


class ImageMissing(MissingTool):
    def __init__(self, image: str, how: str):
        super().__init__(f"{image} is not on this host", how)


class BadInventory(UsageError):
    """An Ansible inventory that cannot be read or names no host (exit 2)."""

    def __init__(self, path: str | Path, problem: str):
        super().__init__(f"inventory {path}: {problem}")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled where Ctrl-C is (a KeyboardInterrupt): the same clean-up, exit 143."""
