"""gpudock: get an NVIDIA GPU working inside Docker (WSL 2 and native Linux) and prove it."""

from .diagnose import diagnose
from .errors import GpudockError, SnapshotError, UsageError
from .findings import Finding
from .hostinfo import HostInfo, host_info
from .snapshot import Snapshot

__version__ = "0.1.0"
__all__ = ["diagnose", "Finding", "GpudockError", "HostInfo", "host_info", "Snapshot", "SnapshotError", "UsageError"]
