"""Drive Ansible through ansible-runner: the one place the fleet touches other hosts.

A playbook (a list of plays) runs against the user's own inventory; every task outcome per host is
collected from runner events. An unreachable host, a failed ``become`` or a failed task is an outcome
with Ansible's own reason, never an exception.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import BadInventory, MissingTool
from .remote import MODULES

# Ansible's settings for a fleet run (environment variables of ansible-playbook, per its config docs).
ANSIBLE_ENV = {
    "ANSIBLE_TIMEOUT": "10",  # seconds for the SSH connection itself
    "ANSIBLE_RETRY_FILES_ENABLED": "False",
    "ANSIBLE_NOCOLOR": "True",
    "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
    "ANSIBLE_DEPRECATION_WARNINGS": "False",
    "ANSIBLE_LIBRARY": str(MODULES),
    "ANSIBLE_SSH_RETRIES": "0",
}
_EVENT_STATUS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}

_RECAP = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored")


@dataclass
class TaskOutcome:
    task: str
    status: str  # ok | changed | failed | unreachable | skipped
    result: dict


@dataclass
class HostOutcome:
    host: str
    tasks: list[TaskOutcome] = field(default_factory=list)
    stats: dict | None = None  # this host's counts from the play recap (failures, dark, rescued, ...)

    @property
    def unreachable(self) -> TaskOutcome | None:
        return next((t for t in self.tasks if t.status == "unreachable"), None)

    @property
    def failed(self) -> TaskOutcome | None:
        """The failure that stopped the host; a failure a ``rescue`` (a step's fallback) handled is not one."""
        if self.stats is not None and not self.stats.get("failures"):
            return None
        return next((t for t in reversed(self.tasks) if t.status == "failed"), None)

    @property
    def changed(self) -> list[TaskOutcome]:
        return [t for t in self.tasks if t.status == "changed"]

    @property
    def reason(self) -> str | None:
        """Ansible's own words for what went wrong, or None."""
        bad = self.unreachable or self.failed
        if bad is None:
            return None
        return reason_text(bad.result)

    def result_of(self, task: str) -> dict | None:
        return next((t.result for t in self.tasks if t.task == task and t.status in ("ok", "changed")), None)


def reason_text(result: dict) -> str:
    """One line from a failed or unreachable result: its msg, else stderr, else the rc."""
    for key in ("msg", "stderr", "module_stderr", "module_stdout"):
        value = result.get(key)
        if isinstance(value, str) and value.strip():
            lines = [line.strip() for line in value.strip().splitlines() if line.strip()]
            return " ".join(lines)[:500]
    return f"exit {result.get('rc')}" if "rc" in result else "failed"


def ansible_runner():
    try:
        import ansible_runner
    except ImportError:
        raise MissingTool(
            "ansible-runner is not installed", "install the fleet extra: pip install 'gpudock[fleet]'"
        ) from None
    return ansible_runner


@dataclass(frozen=True)
class Inventory:
    """An Ansible inventory read once: its file, the ``--limit`` pattern, and the hosts that leaves, in order.

    Every fleet command reads it before it makes its run folder (a bad inventory leaves nothing behind) and
    passes this value on; nothing reads the file a second time.
    """

    path: Path
    limit: str | None
    hosts: tuple[str, ...]


def check_inventory(inventory: str | Path) -> Path:
    path = Path(inventory)
    if not path.exists():
        raise BadInventory(path, "no such file")
    if path.is_dir() and not any(path.iterdir()):
        raise BadInventory(path, "an empty folder")
    return path.resolve()


def read_inventory(inventory: str | Path, limit: str | None = None) -> Inventory:
    """The inventory's hosts (after ``limit``), as ansible-inventory reads them; a bad one raises BadInventory."""
    path = check_inventory(inventory)  # a missing file is bad usage even where Ansible is missing
    runner = ansible_runner()
    with tempfile.TemporaryDirectory(prefix="gpudock-inv-") as tmp:
        return Inventory(path, limit, tuple(_inventory_list(runner, path, limit, tmp)))


def _inventory_list(runner, path: Path, limit: str | None, tmp: str) -> list[str]:
    args = ["--list", "-i", str(path)] + (["--limit", limit] if limit else [])
    out, err, rc = runner.run_command(
        executable_cmd="ansible-inventory",
        cmdline_args=args,
        private_data_dir=tmp,
        quiet=True,
        # the runner's pty mixes stderr into stdout: a Python warning (cryptography 51's DSA deprecation under
        # ansible-core 2.19) would break the JSON
        envvars={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_NOCOLOR": "True", "PYTHONWARNINGS": "ignore"},
    )
    if rc != 0:
        raise BadInventory(path, _first_error(err or out) or f"ansible-inventory exit {rc}")
    try:
        data = json.loads(out)
    except json.JSONDecodeError:
        raise BadInventory(path, "ansible-inventory printed no JSON") from None
    hosts = list(dict.fromkeys(_hosts_of(data, "all")))  # inventory order, each host once
    if not hosts:
        raise BadInventory(path, "no hosts" + (f" match --limit {limit!r}" if limit else ""))
    return hosts


def _hosts_of(data: dict, group: str) -> list[str]:
    entry = data.get(group) or {}
    found = list(entry.get("hosts") or [])
    for child in entry.get("children") or []:
        found += _hosts_of(data, child)
    return found


def _first_error(text: str) -> str:
    for line in (text or "").splitlines():
        if "ERROR" in line or "error" in line.lower():
            return line.strip()[:300]
    return (text or "").strip().splitlines()[0][:300] if (text or "").strip() else ""


def run_playbook(
    plays: list[dict],
    inventory: Inventory,
    artifact_dir: str | Path,
    *,
    limit: str | None = None,
    forks: int = 5,
    on_task: Callable[[str, TaskOutcome], None] | None = None,
    name: str = "gpudock",
) -> dict[str, HostOutcome]:
    """Run ``plays`` on the inventory's hosts (``limit``: fewer of them) and return every host's task outcomes.

    ``on_task(host, outcome)`` hears each as it ends."""
    runner = ansible_runner()
    artifact_dir = Path(artifact_dir)
    artifact_dir.mkdir(parents=True, exist_ok=True)
    playbook = artifact_dir / f"{name}.yml"
    from ..install.ansible import dump_playbook

    playbook.write_text(dump_playbook(plays), encoding="utf-8")
    outcomes: dict[str, HostOutcome] = {}

    def handle(event: dict) -> bool:
        status = _EVENT_STATUS.get(event.get("event", ""))
        data = event.get("event_data") or {}
        if event.get("event") == "playbook_on_stats":
            for host in outcomes:
                outcomes[host].stats = {key: (data.get(key) or {}).get(host, 0) for key in _RECAP}
            return True
        if status is None or not data.get("host"):
            return True
        result = data.get("res") or {}
        if status == "ok" and result.get("changed"):
            status = "changed"
        if status == "failed" and data.get("ignore_errors"):
            status = "ok"
        outcome = TaskOutcome(data.get("task") or "", status, result)
        outcomes.setdefault(data["host"], HostOutcome(data["host"])).tasks.append(outcome)
        if on_task:
            on_task(data["host"], outcome)
        return True

    with tempfile.TemporaryDirectory(prefix="gpudock-ansible-") as private:
        runner.run(
            private_data_dir=private,
            project_dir=os.getcwd(),  # relative key paths in the inventory resolve as with ansible-playbook
            artifact_dir=str(artifact_dir),
            ident=f"{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}",
            playbook=str(playbook),
            inventory=str(inventory.path),
            limit=limit or inventory.limit,
            forks=forks,
            envvars=ANSIBLE_ENV,
            quiet=True,
            event_handler=handle,
            rotate_artifacts=0,
        )
    return outcomes
