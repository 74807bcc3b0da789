"""Host facts: what a Snapshot says about the host, read in one place.

The floor under the doctor's rules (``gpudock.diagnose``), the install planners (``gpudock.install``),
the fleet and the generations table: each of them reads the host through this package, never through
another's module.

- ``host``: the kind of host (distro, native / WSL 1 / WSL 2, architecture, systemd, user and groups,
  GPUs and driver version) as ``HostInfo``, the ``host`` object of ``doctor --json``;
- ``gpus``: each GPU's compute capability and the driver's CUDA version, for ``gpudock check-image``;
- ``evidence``: bounded line readers over the probes' text (installed packages, Docker's runtimes and
  engine version, the toolkit, CDI specs, a container that saw the GPU).
- ``stack``: versions of the GPU stack (the toolkit, the driver's libraries on disk, the loaded kernel module)
  and a failing host ``nvidia-smi``;
- ``engine``: how Docker is installed and who may use it (the snap, rootless mode, the cgroup driver, the
  docker group against this session's groups).

Pure functions of the snapshot: a user's report and the live host are read the same way.
"""

from .evidence import engine_version, version_tuple
from .host import KIND_LABELS, NATIVE, UNKNOWN, WSL1, WSL2, HostInfo, driver_version, groups, host_info

__all__ = [
    "KIND_LABELS",
    "NATIVE",
    "UNKNOWN",
    "WSL1",
    "WSL2",
    "HostInfo",
    "driver_version",
    "engine_version",
    "groups",
    "host_info",
    "version_tuple",
]
