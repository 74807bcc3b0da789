"""gpudock: get an NVIDIA GPU working inside Docker (WSL 2 and native Linux) and prove it.

The library both faces call (the CLI and the notebooks' cell API ``gpudock.tutorial``):

- ``check(snapshot=None)`` -> ``Report`` (findings, host facts, generations, snapshot): the doctor, live or
  replayed;
- ``plan_for(step, source)`` -> ``Plan``; ``apply(plan, log_dir)`` runs it (opt-in, shown first, logged);
- ``hello(build=False)``: gpudock's hello container through the Docker SDK;
- ``run_notebooks(...)``: the runner behind `gpudock run` (papermill), writing ``summary.json``.

The names are loaded on first use (PEP 562 ``__getattr__``): ``import gpudock.cli`` reads this file and
``_version`` only, so a command loads just the modules it calls. Nothing here does I/O at import time.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__ as __version__  # read without loading anything else

# public name -> the module that defines it
_EXPORTS = {
    "apply": ".install",
    "check": ".doctor",
    "Finding": ".findings",
    "GpudockError": ".exceptions",
    "hello": ".dockerops",
    "Plan": ".install",
    "plan_for": ".install",
    "Report": ".doctor",
    "run_notebooks": ".runner",
    "Snapshot": ".snapshot",
    "SnapshotError": ".exceptions",
    "UsageError": ".exceptions",
}

if TYPE_CHECKING:  # what type checkers and editors see; at run time __getattr__ loads them
    from .dockerops import hello
    from .doctor import Report, check
    from .exceptions import GpudockError, SnapshotError, UsageError
    from .findings import Finding
    from .install import Plan, apply, plan_for
    from .runner import run_notebooks
    from .snapshot import Snapshot


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


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
