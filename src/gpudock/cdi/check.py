"""The one home of the CDI checks: ``gpudock cdi check`` and the doctor's three CDI codes both call ``check``.

The checks are pure functions of a *view* of a host, which answers a few questions (what spec files are
there, does a path exist, what is this device node, which driver is loaded, is this WSL, which GPU nodes
and driver libraries does the host have). ``tree.TreeView`` answers them from a live tree (or a fake one
under ``--root``); ``snapview.SnapshotView`` from a snapshot, where a question the probes did not ask is
answered None ("not known") and its check is skipped, never failed.

Each problem names the spec, the path or device, what is wrong and the fix, and carries the finding code it
is evidence for: ``cdi-spec-missing``, ``cdi-spec-stale`` or ``cdi-device-unresolvable``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Protocol

from .discover import LIBRARIES
from .spec import KIND, SPEC_DIRS, InvalidSpec, Spec, load

MISSING, STALE, UNRESOLVABLE = "cdi-spec-missing", "cdi-spec-stale", "cdi-device-unresolvable"
GPUDOCK_FIX = "sudo gpudock install cdi --apply   # writes the spec again from the loaded driver"
_VERSIONED = re.compile(r"\.so\.(\d{2,4}\.\d{1,3}(?:\.\d{1,3})?)$")
CORE_LIBS = {
    "libcuda.so": "CUDA programs cannot load the driver",
    "libnvidia-ml.so": "nvidia-smi and NVML cannot start",
}


class HostView(Protocol):
    def spec_files(self) -> dict[str, str | None]: ...
    def exists(self, path: str) -> bool | None: ...
    def node(self, path: str) -> tuple[str, int, int] | None: ...
    def known_node(self, path: str) -> bool: ...
    def driver_version(self) -> str | None: ...
    def wsl(self) -> bool: ...
    def gpu_nodes(self) -> list[str] | None: ...
    def driver_sonames(self) -> list[str] | None: ...


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str  # error | warning
    spec: str  # the spec file ("" when none)
    subject: str  # the path or device the problem is about
    message: str
    fix: str

    def line(self) -> str:
        where = ": ".join(p for p in (self.spec, self.subject) if p)
        return f"{where}: {self.message}; fix: {self.fix}" if where else f"{self.message}; fix: {self.fix}"


@dataclass
class Result:
    specs: list[Spec] = field(default_factory=list)  # the NVIDIA specs that loaded
    problems: list[Problem] = field(default_factory=list)
    winner: dict[str, str] = field(default_factory=dict)  # device -> the spec an engine takes it from

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def devices(self) -> list[str]:
        return sorted(self.winner)


def fix_for(spec: Spec | None, path: str = "") -> str:
    """How to write this spec again: the toolkit's own command for a spec its hooks show it made, else gpudock's."""
    if spec is not None and any("nvidia-cdi-hook" in h or "nvidia-ctk" in h for _o, e in spec.edits() for h in e.hooks):
        return f"sudo nvidia-ctk cdi generate --output={spec.path}   # (the toolkit made this spec)"
    return GPUDOCK_FIX


def stale(spec: Spec, subject: str, message: str, severity: str = "error") -> Problem:
    """A cdi-spec-stale problem of ``spec`` with the fix for who wrote it."""
    return Problem(STALE, severity, spec.path, subject, message, fix_for(spec))


def _priority(path: str) -> int:
    folder = posixpath.dirname(path)
    return SPEC_DIRS.index(folder) if folder in SPEC_DIRS else -1


def load_specs(view: HostView, result: Result) -> None:
    for path, text in sorted(view.spec_files().items(), key=lambda item: (_priority(item[0]), item[0])):
        if text is None:
            result.problems.append(
                Problem(STALE, "error", path, "", "cannot be read (unreadable or over 256 KiB)", GPUDOCK_FIX)
            )
            continue
        try:
            spec = load(text, path)
        except InvalidSpec as err:
            if f'"{KIND}"' in text or f"kind: {KIND}" in text or "nvidia.com/gpu" in text[:4096]:
                result.problems.append(
                    Problem(STALE, "error", path, "", f"engines refuse this spec: {err}", GPUDOCK_FIX)
                )
            continue  # another vendor's broken spec is not ours to judge
        if spec.kind == KIND:
            result.specs.append(spec)


def _conflicts(result: Result) -> None:
    """Two specs naming one device: same folder, engines drop it; different folders, the later folder wins."""
    owner: dict[str, Spec] = {}
    for spec in result.specs:  # in priority order: /etc/cdi, then /var/run/cdi
        for name in spec.devices:
            other = owner.get(name)
            if other is None or _priority(spec.path) > _priority(other.path):
                owner[name] = spec
                continue
            result.problems.append(
                Problem(
                    STALE,
                    "error",
                    spec.path,
                    f"{KIND}={name}",
                    f"also defined by {other.path} in the same folder: engines drop a device that two specs "
                    "of one folder define (conflicting device)",
                    f"keep one: sudo mv {spec.path} {spec.path}.disabled (a name without .yaml/.json is not read)",
                )
            )
            owner.pop(name, None)
    shadowed = {}
    for spec in result.specs:
        for name in spec.devices:
            if name in owner and owner[name] is not spec and _priority(owner[name].path) > _priority(spec.path):
                shadowed.setdefault(spec.path, owner[name].path)
    for path, winner in shadowed.items():
        result.problems.append(
            Problem(
                STALE,
                "warning",
                path,
                "",
                f"is shadowed: {winner} defines the same devices and wins "
                f"({SPEC_DIRS[1]} is read after {SPEC_DIRS[0]})",
                f"keep one spec of {KIND}: remove or rename the one you do not maintain",
            )
        )
    result.winner = {name: spec.path for name, spec in owner.items()}


def _check_nodes(view: HostView, spec: Spec, result: Result) -> None:
    for owner, edits in spec.edits():
        for node in edits.nodes:
            live = view.node(node.host_path)
            if live is None:
                if view.known_node(node.host_path):
                    where = f"device {owner}" if owner else "every device"
                    result.problems.append(
                        stale(
                            spec,
                            node.host_path,
                            f"this device node does not exist on the host ({where} of the spec needs it)",
                        )
                    )
                continue
            stated = (node.type, node.major, node.minor)
            if (
                node.major is not None
                and (stated[1], stated[2]) != (live[1], live[2])
                or (node.type and node.type != live[0])
            ):
                result.problems.append(
                    stale(
                        spec,
                        node.host_path,
                        f"the spec says {node.type or '?'} {node.major}:{node.minor}, the host's node is "
                        f"{live[0]} {live[1]}:{live[2]}: a container would get a node that reaches another device",
                    )
                )


def _check_paths(view: HostView, spec: Spec, result: Result) -> None:
    loaded = view.driver_version()
    reported: set[str] = set()
    for _owner, edits in spec.edits():
        for mount in edits.mounts:
            path = mount.host_path
            if path in reported:
                continue
            reported.add(path)
            version = _VERSIONED.search(path)
            driver_file = posixpath.basename(path).startswith(LIBRARIES) or "nvidia" in path
            if loaded and version and version.group(1) != loaded and driver_file:
                result.problems.append(
                    stale(
                        spec,
                        path,
                        f"is driver {version.group(1)}'s, but the loaded kernel module is {loaded} "
                        "(a driver update since the spec was written)",
                    )
                )
            elif view.exists(path) is False:
                result.problems.append(
                    stale(
                        spec, path, "does not exist on the host: a container asking for these devices fails to mount it"
                    )
                )
        for hook in edits.hooks:
            if hook not in reported and view.exists(hook) is False:
                reported.add(hook)
                result.problems.append(
                    stale(spec, hook, "the hook program this spec runs does not exist (the toolkit removed or moved?)")
                )


def _provides(spec: Spec, prefix: str) -> bool:
    for _owner, edits in spec.edits():
        for mount in edits.mounts:
            names = (posixpath.basename(mount.host_path), posixpath.basename(mount.container_path))
            if any(n.startswith(prefix) for n in names) or mount.host_path.rstrip("/") == "/usr/lib/wsl/lib":
                return True
    return False


def _check_content(view: HostView, spec: Spec, result: Result) -> None:
    nodes = {node.path for _owner, edits in spec.edits() for node in edits.nodes}
    needed = ["/dev/dxg"] if view.wsl() else ["/dev/nvidiactl", "/dev/nvidia-uvm"]
    for path in needed:
        if path not in nodes:
            why = (
                "CUDA cannot start in the container"
                if path != "/dev/dxg"
                else "WSL 2 containers reach the GPU only through it"
            )
            result.problems.append(stale(spec, path, f"the spec gives containers no {path}: {why}"))
    for prefix, why in CORE_LIBS.items():
        if not _provides(spec, prefix):
            result.problems.append(stale(spec, prefix + "*", f"the spec mounts no {prefix}*: {why} in the container"))
    host_libs = view.driver_sonames()
    for soname in host_libs or []:
        stem = soname.split(".so")[0] + ".so"
        if stem not in CORE_LIBS and not _provides(spec, stem):
            result.problems.append(
                stale(spec, soname, "the host's driver has this library but the spec does not mount it", "warning")
            )
    for gpu_node in view.gpu_nodes() or []:
        if gpu_node not in nodes:
            result.problems.append(
                stale(spec, gpu_node, "a GPU of this host is not in the spec (added since it was written?)", "warning")
            )


def check(view: HostView) -> Result:
    """Every CDI problem of this host's NVIDIA specs (``cdi check`` and the doctor print the same lines)."""
    result = Result()
    load_specs(view, result)
    if not result.specs:
        if not result.problems:
            result.problems.append(
                Problem(
                    MISSING,
                    "error",
                    "",
                    KIND,
                    f"no spec of kind {KIND} in {' or '.join(SPEC_DIRS)}: `--device {KIND}=all` is unresolvable",
                    GPUDOCK_FIX,
                )
            )
        return result
    _conflicts(result)
    for spec in result.specs:
        _check_nodes(view, spec, result)
        _check_paths(view, spec, result)
        _check_content(view, spec, result)
    if "all" not in result.winner:
        result.problems.append(
            Problem(
                UNRESOLVABLE,
                "error",
                result.specs[-1].path,
                f"{KIND}=all",
                "no spec defines the device all: `--device nvidia.com/gpu=all` is unresolvable",
                GPUDOCK_FIX,
            )
        )
    return result
