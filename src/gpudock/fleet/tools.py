"""Where the Ansible programs are: beside gpudock's own Python first, then PATH.

``scripts/bootstrap fleet`` installs ansible-core into ``.venv``, whose ``bin/`` is on nobody's PATH
until the venv is activated; ``.venv/bin/gpudock fleet …`` (the README's way) must still find
``ansible-inventory`` and ``ansible-playbook`` there. Missing everywhere is exit 3 with the command that
installs them.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..exceptions import MissingTool


def interpreter_bin() -> Path:
    """The folder of this Python as started (a venv's ``bin/``; symlinks are not followed out of it)."""
    return Path(sys.executable).parent


def install_hint() -> str:
    from ..paths import source_checkout

    checkout = source_checkout()
    if checkout is not None:
        return f"install the fleet extra: {checkout / 'scripts' / 'bootstrap'} fleet"
    return f"install the fleet extra: {sys.executable} -m pip install 'gpudock[fleet]'"


def ansible_program(name: str) -> str:
    """The full path of an Ansible program (``ansible-inventory``, ``ansible-playbook``), or MissingTool."""
    beside = interpreter_bin() / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise MissingTool(f"{name} (Ansible) is not beside {sys.executable} nor on PATH", install_hint())


def ansible_path() -> dict[str, str]:
    """PATH for Ansible's own processes: the folder its programs were found in comes first."""
    folder = str(Path(ansible_program("ansible-playbook")).parent)
    return {"PATH": os.pathsep.join([folder, os.environ.get("PATH", "")])}
