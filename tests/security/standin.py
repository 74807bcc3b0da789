"""Stand-in fleet hosts: inventory entries with ``ansible_connection=local`` whose "Python" answers gpudock's
probe module with a crafted result (the adversarial review's method). Ansible's real transport, templating,
runner events and gpudock's controller code run; nothing is probed on this machine.

Each host's interpreter is a two-line shell script that prints its answer file, whatever module Ansible
asks it to run (fleet doctor runs only the probe module).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import SNAPSHOTS

ROOT = Path(__file__).resolve().parents[2]


def healthy_snapshot() -> dict:
    return json.loads((SNAPSHOTS / "native-h200-healthy.json").read_text())["snapshot"]


def standin_inventory(folder: Path, answers: dict[str, dict], extra: str = "") -> Path:
    """An INI inventory of local hosts, each answering the probe module with ``answers[host]``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["[lab]"]
    for host, answer in answers.items():
        reply = folder / f"answer-{host}.json"
        reply.write_text(json.dumps(answer))
        script = folder / f"python-{host}"
        script.write_text(f"#!/bin/sh\nexec cat '{reply}'\n")
        script.chmod(0o755)
        lines.append(f"{host} ansible_python_interpreter={script}")
    lines += ["[lab:vars]", "ansible_connection=local", extra]
    path = folder / "inventory.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


def gpudock(*args: str, env: dict | None = None, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """``python -m gpudock ARGS`` with this checkout's source first on the path."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})}
    environment.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "gpudock", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        **kwargs,
    )
