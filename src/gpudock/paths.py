"""Where gpudock keeps what outlives a command: logs and state, one place each, whatever folder you stand in.

- logs (``gpudock install --apply``): ``$GPUDOCK_LOG_DIR``, else ``/var/log/gpudock`` as root, else
  ``$XDG_STATE_HOME/gpudock/log`` (``~/.local/state/gpudock/log``), one new folder per run;
- state (the last ``gpudock bench`` figures that ``doctor --prometheus`` exports; ``gpudock lab``'s own
  JupyterLab folders): ``$GPUDOCK_STATE_DIR``, else ``/var/lib/gpudock`` as root, else
  ``$XDG_STATE_HOME/gpudock``.

XDG's base directory specification names ``$XDG_STATE_HOME`` for logs and history; the FHS names
``/var/log`` and ``/var/lib`` for a system service's. The dockerd gpudock starts itself (no init system)
logs to ``fixes.GPUDOCK_DOCKERD_LOG``, the one path the doctor, the plans and apply all name.
Tutorial and fleet runs are run folders (``runs/<UTC time>…`` beside you, or ``--out``), not logs.
"""

from __future__ import annotations

import os
from pathlib import Path


def _is_root() -> bool:
    return os.geteuid() == 0


def _xdg_state() -> Path:
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "gpudock"


def state_home() -> Path:
    if os.environ.get("GPUDOCK_STATE_DIR"):
        return Path(os.environ["GPUDOCK_STATE_DIR"])
    return Path("/var/lib/gpudock") if _is_root() else _xdg_state()


def log_home() -> Path:
    if os.environ.get("GPUDOCK_LOG_DIR"):
        return Path(os.environ["GPUDOCK_LOG_DIR"])
    return Path("/var/log/gpudock") if _is_root() else _xdg_state() / "log"


def source_checkout() -> Path | None:
    """The source checkout gpudock runs from (an editable install: ``pip install -e .``), or None."""
    root = Path(__file__).resolve().parents[2]  # src/gpudock/paths.py -> the repository
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "gpudock").is_dir() else None


def log_home_text() -> str:
    """The log folder as help text shows it (this user's, spelled out)."""
    return str(log_home())


def new_log_dir(out: str | Path | None, name: str) -> Path:
    """A new, absolute log folder ``<log home>/<UTC time>-NAME`` (or ``out``, which must be empty)."""
    from .rundir import new_run_dir

    return new_run_dir(out, base=log_home(), suffix=f"-{name}").resolve()
