"""CDI facts of a snapshot, read once for the doctor's rules and the CDI planner: the engine and its CDI switch,
whether a container got the GPU through CDI, and ``gpudock cdi check`` over the snapshot (``cdi.snapview``)."""

from __future__ import annotations

import re

from ..cdi.check import Result, check
from ..cdi.snapview import SnapshotView
from .evidence import Line, container_saw_gpu, daemon_json, engine_version, find, search, version_tuple
from .host import WSL2

CDI_PROBE = "docker_cdi_gpu"


def podman(snap) -> bool:
    return bool(find(snap, r"Podman Engine|^podman version|Emulate Docker CLI using podman", None))


def engine(snap) -> tuple[int, ...] | None:
    return version_tuple(engine_version(snap))


def cdi_feature(snap) -> bool | None:
    """daemon.json's features.cdi (None when not set or not known)."""
    config = daemon_json(snap)
    features = config.get("features") if isinstance(config, dict) else None
    value = features.get("cdi") if isinstance(features, dict) else None
    return value if isinstance(value, bool) else None


def engine_uses_cdi(snap) -> str | None:
    """Why this engine resolves GPUs through CDI (a phrase), or None."""
    version = engine(snap)
    if podman(snap):
        return "Podman reads CDI specs natively"
    if version and version >= (28, 2) and cdi_feature(snap) is not False:
        return f"Docker {'.'.join(map(str, version))} resolves --gpus through CDI (on by default from 28.2)"
    if cdi_feature(snap) and (version is None or version >= (25,)):
        return "daemon.json turns CDI on (features.cdi)"
    return None


def gpus_through_cdi(snap) -> Line | None:
    """`docker info` lists NVIDIA CDI devices ("Discovered Devices: cdi: nvidia.com/gpu=…") on an engine that
    resolves `--gpus` through them (28.2 or newer): then the devices are in the container's OCI spec, not added
    behind runc's back by the toolkit's hook."""
    version = engine(snap)
    line = find(snap, r"^\s*(Discovered Devices:\s*)?cdi: nvidia\.com/gpu=\S", ["docker_info"])
    return line if line and (version is None or version >= (28, 2)) and cdi_feature(snap) is not False else None


def cdi_works(snap) -> Line | None:
    """A container got the GPU through ``--device nvidia.com/gpu=all``: nvidia-smi ran, or it saw the GPU's nodes."""
    saw = container_saw_gpu(snap, [CDI_PROBE])
    if saw:
        return saw
    result = snap.command(CDI_PROBE)
    if result and result.ok and search(r"^nvidiactl$", result.stdout) and search(r"^nvidia\d{1,3}$", result.stdout):
        return Line(CDI_PROBE, "the container has /dev/nvidiactl and the GPU's /dev/nvidia<N> (listed by busybox ls)")
    return None


def results(snap, host) -> Result | None:
    """``gpudock cdi check`` over the snapshot; None when the snapshot holds nothing of the spec folders."""
    cached = getattr(snap, "_gpudock_cdi", None)
    if cached is not None:
        return cached[0]
    view = SnapshotView(snap, wsl=host.kind == WSL2)
    result = check(view) if view.probed() else None
    snap._gpudock_cdi = (result,)
    return result


CDI_OFF = r"could not select device driver \"cdi\" with capabilities: \[\]"
NO_CDI_ENGINE = r"error gathering device information while adding custom device \"[a-z0-9.-]{1,100}/[^\"]{1,100}\""


def cdi_not_in_use(result) -> bool:
    """The CDI probe failed only because this engine has CDI off or none (< 25): not a broken GPU path."""
    return bool(search(CDI_OFF, result.text) or search(NO_CDI_ENGINE, result.text))


# the engines' words for a device no spec they loaded provides (also broken by a terminal's line wrap);
# the group is what was asked for
UNRESOLVABLE = r"unresolvable CDI de\s{0,20}vices?:? {0,3}(\S{0,200})"


def spec_unseen(snap, host) -> Line | None:
    """The engine's "unresolvable CDI devices X" while the specs on disk check clean and provide X: the engine
    is not reading the specs it has. Seen with Docker 26.1 (docs/benchmarks/cdi-refresh-h100): once a container
    asked for a device while no spec existed, dockerd logged "failed to monitor for changes" and resolved nothing
    more, even with the spec back, until it was restarted."""
    line = find(snap, UNRESOLVABLE)
    result = results(snap, host)
    if line is None or result is None or not result.ok or not result.devices():
        return None
    asked = re.search(UNRESOLVABLE, line.text, re.I)
    names = [name for name in re.split(r",\s*", asked.group(1).rstrip(".,;")) if name] if asked else []
    if not names or not all(name.startswith("nvidia.com/gpu=") for name in names):
        return None
    return line if {name.split("=", 1)[1] for name in names} <= set(result.devices()) else None
