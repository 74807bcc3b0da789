"""gpudock: get an NVIDIA GPU working inside Docker (WSL 2 and native Linux) and prove it."""

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

from .diagnose import diagnose  # noqa: E402  (after __version__, which the CLI reads without the rest)
from .exceptions import GpudockError, SnapshotError, UsageError  # noqa: E402
from .findings import Finding  # noqa: E402
from .hostinfo import HostInfo, host_info  # noqa: E402
from .snapshot import Snapshot  # noqa: E402

__all__ = ["diagnose", "Finding", "GpudockError", "HostInfo", "host_info", "Snapshot", "SnapshotError", "UsageError"]
