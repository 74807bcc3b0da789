"""gpudock: get an NVIDIA GPU working inside Docker (WSL 2 and native Linux) and prove it.

The library both faces call (the CLI and the notebooks' cell API ``gpudock.tutorial``):

- ``check(snapshot=None)`` -> ``Report`` (findings, host facts, snapshot): the doctor, live or replayed;
- ``plan_for(step, source)`` -> ``Plan``; ``apply(plan, log_dir)`` runs it (opt-in, shown first, logged);
- ``hello(build=False)``: gpudock's hello container through the Docker SDK;
- ``run_notebooks(...)``: the runner behind `gpudock run` (papermill), writing ``summary.json``.
"""

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

# after __version__, which the CLI reads; nothing below does I/O at import time
from .dockerops import hello  # noqa: E402
from .doctor import Report, check  # noqa: E402
from .exceptions import GpudockError, SnapshotError, UsageError  # noqa: E402
from .findings import Finding  # noqa: E402
from .install import Plan, apply, plan_for  # noqa: E402
from .runner import run_notebooks  # noqa: E402
from .snapshot import Snapshot  # noqa: E402

__all__ = [
    "apply",
    "check",
    "Finding",
    "GpudockError",
    "hello",
    "Plan",
    "plan_for",
    "Report",
    "run_notebooks",
    "Snapshot",
    "SnapshotError",
    "UsageError",
]
