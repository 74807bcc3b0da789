"""`gpudock lab`: JupyterLab on the tutorial, with the notebooks opening as notebooks.

JupyterLab runs at the repository root, on 127.0.0.1 only, with a token (``JUPYTER_TOKEN`` when set,
else a new random one). It gets folders of its own, so the user's other JupyterLab set-ups are not
touched, and each checkout has its own (a second checkout's `gpudock lab`, or the test suite, never
re-points a running server's next kernel to another Python), under
``$XDG_STATE_HOME/gpudock/lab/<checkout name>-<hash of its path>`` (default ``~/.local/state/…``):

- ``user-settings``: jupytext's notebook view is the default for Markdown, so a click on
  ``notebooks/01-….md`` or a URL ``/lab/tree/notebooks/01-….md`` shows cells, not the text;
- ``kernels/python3``: the kernel the notebooks name (``python3``, "Python 3") is this Python, the
  one gpudock is installed in, with the display name the notebooks carry, so opening a notebook
  does not change its metadata (which would mark it unsaved);
- ``workspaces``: JupyterLab's layout for this server.

Saving writes only what jupytext keeps in a Markdown notebook (no outputs; jupytext.toml filters
the jupytext version), so a notebook whose outputs alone changed is saved byte for byte unchanged.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .exceptions import MissingTool, UsageError
from .exitcodes import ExitCode

DOCMANAGER = Path("@jupyterlab") / "docmanager-extension" / "plugin.jupyterlab-settings"
NOTIFICATIONS = Path("@jupyterlab") / "apputils-extension" / "notification.jupyterlab-settings"
JUPYTEXT_VIEWER = "Jupytext Notebook"
# what the tutorial notebooks' kernelspec says (notebooks/*.md front matter)
KERNEL_NAME, KERNEL_DISPLAY_NAME = "python3", "Python 3"
FIRST_PORT = 8888
START_PAGE = "notebooks/00-index.md"


@dataclass
class LabDirs:
    settings: Path
    workspaces: Path
    data: Path  # prepended to JUPYTER_PATH: holds kernels/python3


def state_dir(root: Path | None = None) -> Path:
    """The lab's own folders for the checkout at ``root`` (default: this one), keyed by its path."""
    import hashlib

    root = (root or checkout_root()).resolve()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    key = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in root.name)[:40] or "checkout"
    return Path(base) / "gpudock" / "lab" / f"{name}-{key}"


def checkout_root() -> Path:
    """The repository root: the folder that holds notebooks/."""
    from .runner import notebooks_dir

    return notebooks_dir().resolve().parent


def _read_settings(path: Path) -> dict | None:
    """A .jupyterlab-settings file as a dict; None when it is not plain JSON (JupyterLab allows comments)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, OSError):
        return None
    return value if isinstance(value, dict) else None


def _update_settings(path: Path, change: Callable[[dict], None], say: Callable[[str], None]) -> None:
    settings = _read_settings(path)
    if settings is None:
        say(f"gpudock lab: {path} is not plain JSON; left as it is")
        return
    wanted = json.loads(json.dumps(settings))
    change(wanted)
    if wanted != settings:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")


def _jupytext_for_markdown(settings: dict) -> None:
    settings.setdefault("defaultViewers", {})["markdown"] = JUPYTEXT_VIEWER


def _quiet_notifications(settings: dict) -> None:
    settings.setdefault("fetchNews", "false")
    settings.setdefault("checkForUpdates", False)


def prepare(base: Path | None = None, python: str = sys.executable, say: Callable[[str], None] = print) -> LabDirs:
    """Create (or update) the lab's own settings, workspaces and kernel folders; return them."""
    base = base or state_dir()
    dirs = LabDirs(base / "user-settings", base / "workspaces", base / "data")
    dirs.workspaces.mkdir(parents=True, exist_ok=True)
    # jupytext's notebook view for Markdown (what `jupytext-config set-default-viewer markdown` does globally)
    _update_settings(dirs.settings / DOCMANAGER, _jupytext_for_markdown, say)
    # no "receive Jupyter news?" prompt and no update check, unless the user chose otherwise in this lab
    _update_settings(dirs.settings / NOTIFICATIONS, _quiet_notifications, say)
    kernel = dirs.data / "kernels" / KERNEL_NAME
    kernel.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": KERNEL_DISPLAY_NAME,
        "language": "python",
        "metadata": {"debugger": True},
    }
    (kernel / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    return dirs


def free_port(start: int = FIRST_PORT, host: str = "127.0.0.1", tries: int = 100) -> int:
    """The first port from ``start`` that nothing listens on."""
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    raise UsageError(f"no free port in {start}–{start + tries - 1}; give one with --port")


def command(
    root: Path,
    dirs: LabDirs,
    port: int,
    open_browser: bool = True,
    extra: Sequence[str] = (),
    python: str = sys.executable,
) -> list[str]:
    """The JupyterLab command line; ``extra`` (the user's own JupyterLab options) comes last and wins."""
    argv = [
        python,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.contents_manager_class=gpudock.labserver.TutorialContentsManager",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.open_browser={open_browser}",
        f"--LabApp.user_settings_dir={dirs.settings}",
        f"--LabApp.workspaces_dir={dirs.workspaces}",
        f"--LabApp.default_url=/lab/tree/{START_PAGE}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    return argv + list(extra)


def environment(dirs: LabDirs, base: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: our kernel first on JUPYTER_PATH, and a token (JUPYTER_TOKEN when set)."""
    env = dict(os.environ if base is None else base)
    env["JUPYTER_PATH"] = os.pathsep.join([str(dirs.data), *filter(None, [env.get("JUPYTER_PATH")])])
    if not env.get("JUPYTER_TOKEN"):
        env["JUPYTER_TOKEN"] = secrets.token_hex(24)
    return env


# JupyterLab options that would open the server to others or drop its token: gpudock lab never passes them on
_EXPOSING = re.compile(
    r"^--(?:ServerApp\.|NotebookApp\.)?(?:ip|allow_remote_access|IdentityProvider\.token|token)(?:=|$)"
)


def refuse_exposure(extra: Sequence[str]) -> None:
    """gpudock lab listens on 127.0.0.1 with a token; an option that changes either is refused, not passed on."""
    for arg in extra:
        if _EXPOSING.match(arg):
            raise UsageError(
                f"gpudock lab serves 127.0.0.1 with a token only, so {arg.split('=')[0]} is refused; "
                "run `jupyter lab` yourself for another set-up"
            )


def start(
    port: int | None = None,
    open_browser: bool = True,
    extra: Sequence[str] = (),
    say: Callable[[str], None] = print,
) -> int:
    """Become JupyterLab (exec): Ctrl-C, SIGTERM and its exit status are JupyterLab's own. Returns only on failure."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        raise MissingTool(
            f"JupyterLab is not installed for {sys.executable}", "reinstall gpudock (`scripts/bootstrap`)"
        ) from None
    if port is not None and not 1 <= port <= 65535:
        raise UsageError(f"--port takes a TCP port from 1 to 65535, not {port}")
    refuse_exposure(extra)
    if os.geteuid() == 0 and "--allow-root" not in extra:  # JupyterLab's refusal comes after 15 lines of its log
        raise UsageError(
            "gpudock lab: JupyterLab does not run as root; run it as your own user, "
            "or add --allow-root (JupyterLab's option) if you mean to"
        )
    root = checkout_root()
    dirs = prepare(say=say)
    port = port if port is not None else free_port()
    env = environment(dirs)
    say(
        f"gpudock lab: JupyterLab at http://127.0.0.1:{port}/lab/tree/{START_PAGE}?token={env['JUPYTER_TOKEN']}\n"
        f"  root {root}; its own settings, kernel and workspaces in {dirs.settings.parent}; Ctrl-C twice stops it"
    )
    sys.stdout.flush()
    sys.stderr.flush()
    argv = command(root, dirs, port, open_browser, extra)
    os.chdir(root)
    os.execve(argv[0], argv, env)
    return ExitCode.PROBLEM  # not reached: execve replaces this process or raises OSError
