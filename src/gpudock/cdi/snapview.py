"""The CDI checks' questions answered from a snapshot (the doctor), and what the prober collects for them.

A snapshot holds every spec under ``/etc/cdi`` and ``/var/run/cdi`` in ``files`` (whole, up to
``MAX_SPEC_BYTES``; a larger one is kept as ``TOO_LARGE``), each host path those specs name in ``paths``,
the spec folders themselves in ``paths`` (so "no spec" is told apart from "not probed"), and
``stat_cdi_nodes``: ``stat -L -c '%n|%F|%t|%T'`` of the device nodes the specs name and of ``/dev/nvidia*``.
A question the snapshot cannot answer is None ("not known"): its check is skipped, never failed.
"""

from __future__ import annotations

import os
import re

from ..snapshot_values import SPEC_TOO_LARGE as TOO_LARGE
from .discover import PROC_VERSION, driver_version
from .spec import MAX_SPEC_BYTES, SPEC_DIRS, SUFFIXES, InvalidSpec, load

NODE_PROBE = "stat_cdi_nodes"
MAX_PATHS = 512
MAX_SPEC_FILES = 64  # host paths of the specs recorded in `paths`
_STAT_LINE = re.compile(r"^(/[^|]{1,4000})\|([^|]{1,40})\|([0-9a-f]{1,8})\|([0-9a-f]{1,8})$")
_STAT_MISSING = re.compile(r"cannot (?:stat|statx) '([^']{1,4000})': No such file or directory")


def is_spec_path(path: str) -> bool:
    folder, _, name = path.rpartition("/")
    return folder in SPEC_DIRS + ("/run/cdi",) and name.endswith(SUFFIXES)


class SnapshotView:
    def __init__(self, snap, wsl: bool = False):
        self.snap = snap
        self._wsl = wsl
        self._nodes, self._absent = _stat_listing(snap)

    def probed(self) -> bool:
        """Whether the spec folders were looked at at all (else "no spec" means "not known")."""
        paths = self.snap.data.get("paths") or {}
        return any(folder in paths for folder in SPEC_DIRS) or bool(self.spec_files())

    def spec_files(self) -> dict[str, str | None]:
        files = self.snap.data.get("files") or {}
        specs = [(p, t) for p, t in sorted(files.items()) if is_spec_path(p) and t is not None][:MAX_SPEC_FILES]
        return {p: (None if t == TOO_LARGE else t) for p, t in specs}  # as many as the prober reads: bounded

    def exists(self, path: str) -> bool | None:
        if path in self._nodes:
            return True
        if path in self._absent:
            return False
        return self.snap.path(path)

    def node(self, path: str) -> tuple[str, int, int] | None:
        return self._nodes.get(path)

    def known_node(self, path: str) -> bool:
        return path in self._absent or self.snap.path(path) is False

    def driver_version(self) -> str | None:
        return driver_version(self.snap.file(PROC_VERSION))

    def wsl(self) -> bool:
        return self._wsl

    def gpu_nodes(self) -> list[str] | None:
        if self.snap.command(NODE_PROBE) is None:
            return None
        return sorted((p for p in self._nodes if re.fullmatch(r"/dev/nvidia\d{1,3}", p)), key=_minor)

    def driver_sonames(self) -> list[str] | None:
        return None


def _minor(path: str) -> int:
    return int(path[len("/dev/nvidia") :])


def _stat_listing(snap) -> tuple[dict[str, tuple[str, int, int]], set[str]]:
    result = snap.command(NODE_PROBE)
    nodes: dict[str, tuple[str, int, int]] = {}
    absent: set[str] = set()
    if result is None:
        return nodes, absent
    for line in result.stdout.splitlines()[:2000]:
        match = _STAT_LINE.match(line.strip())
        if match and "special file" in match.group(2):
            kind = "c" if match.group(2).startswith("character") else "b"
            nodes[match.group(1)] = (kind, int(match.group(3), 16), int(match.group(4), 16))
    for line in result.stderr.splitlines()[:2000]:
        match = _STAT_MISSING.search(line)
        if match:
            absent.add(match.group(1))
    return nodes, absent


# --- what the prober collects (live host) ---------------------------------------------------------------


def read_specs(glob_paths) -> dict[str, str]:
    """Text of each spec file on this host (regular files only, never followed into a FIFO), capped."""
    found = {}
    for path in glob_paths:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            import stat

            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            data = os.read(fd, MAX_SPEC_BYTES + 1)
        except OSError:
            continue
        finally:
            os.close(fd)
        found[path] = TOO_LARGE if len(data) > MAX_SPEC_BYTES else data.decode("utf-8", errors="replace")
    return found


def named_paths(specs: dict[str, str]) -> tuple[list[str], list[str]]:
    """(host paths, device node paths) the readable NVIDIA specs name, each list bounded."""
    paths: dict[str, None] = {}
    nodes: dict[str, None] = {}
    for path, text in sorted(specs.items()):
        try:
            spec = load(text, path)
        except InvalidSpec:
            continue
        for _owner, edits in spec.edits():
            for node in edits.nodes:
                nodes.setdefault(node.host_path)
        for host_path in spec.host_paths():
            paths.setdefault(host_path)
    return list(paths)[:MAX_PATHS], list(nodes)[:MAX_PATHS]


def spec_globs() -> list[str]:
    return [f"{folder}/*{suffix}" for folder in SPEC_DIRS for suffix in SUFFIXES]
