"""Drive Ansible through ansible-runner: the one place the fleet touches other hosts.

A playbook (a list of plays) runs against the user's own inventory; every task outcome per host is
collected from runner events. An unreachable host, a failed ``become`` or a failed task is an outcome
with Ansible's own reason, never an exception.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import BadInventory, MissingTool
from .hostkeys import HOST_KEY_FAILED, STRICT, HostKeys, host_key_reason, unchecked_keys
from .remote import MODULES
from .tools import ansible_path, ansible_program

# Ansible's settings for a fleet run (environment variables of ansible-playbook, per its config docs).
ANSIBLE_ENV = {
    "ANSIBLE_TIMEOUT": "10",  # seconds for the SSH connection itself
    "ANSIBLE_RETRY_FILES_ENABLED": "False",
    "ANSIBLE_NOCOLOR": "True",
    "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
    "ANSIBLE_DEPRECATION_WARNINGS": "False",
    "ANSIBLE_LIBRARY": str(MODULES),
    "ANSIBLE_SSH_RETRIES": "0",
    # ansible-runner sets ANSIBLE_HOST_KEY_CHECKING=False unless told otherwise (ansible_runner/config/_base.py),
    # and Ansible then puts StrictHostKeyChecking=no before the inventory's own ssh options: keys must be checked
    "ANSIBLE_HOST_KEY_CHECKING": "True",
    # ansible-runner's display callback empties any task result over 700,000 characters (MAX_EVENT_RES):
    # a host's whole answer (up to the 16 MB a snapshot file may hold) must arrive, or be refused, never emptied
    "MAX_EVENT_RES": str(64 * 1024 * 1024),
}
# Events that carry Ansible's own messages (warnings, deprecations), never task data.
_MESSAGE_EVENTS = ("warning", "deprecated", "system_warning", "error")


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
        if isinstance(value, str) and HOST_KEY_FAILED in value:
            return host_key_reason(value)
        if isinstance(value, str) and value.strip():
            lines = [line.strip() for line in value.strip().splitlines() if line.strip()]
            return " ".join(lines)[:500]
    return f"exit {result.get('rc')}" if "rc" in result else "failed"


def ansible_runner():
    try:
        import ansible_runner
    except ImportError:
        from .tools import install_hint

        raise MissingTool(f"ansible-runner is not installed for {sys.executable}", install_hint()) from None
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


def read_inventory(
    inventory: str | Path, limit: str | None = None, warn: Callable[[str], None] | None = None
) -> Inventory:
    """The inventory's hosts (after ``limit``), as ansible-inventory reads them; a bad one raises BadInventory.

    Ansible's stdout is the data (JSON) and its stderr the warnings; ``warn`` hears each warning line."""
    path = check_inventory(inventory)  # a missing file is bad usage even where Ansible is missing
    runner = ansible_runner()
    with tempfile.TemporaryDirectory(prefix="gpudock-inv-") as tmp:
        return Inventory(path, limit, tuple(_inventory_list(runner, path, limit, tmp, warn)))


def _inventory_list(runner, path: Path, limit: str | None, tmp: str, warn) -> list[str]:
    args = ["--list", "-i", str(path)] + (["--limit", limit] if limit else [])
    out, err, rc = runner.run_command(
        executable_cmd=ansible_program("ansible-inventory"),  # beside this Python first, then PATH
        cmdline_args=args,
        private_data_dir=tmp,
        quiet=True,
        runner_mode="subprocess",  # no pty: stdout (the JSON) and stderr (warnings) stay apart
        envvars={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_NOCOLOR": "True"},
    )
    if rc != 0:
        raise BadInventory(path, _first_error(err or out) or f"ansible-inventory exit {rc}")
    _pass_on(err, warn)
    try:
        data = json.loads(out)
    except (json.JSONDecodeError, RecursionError):
        raise BadInventory(path, "ansible-inventory printed no JSON") from None
    if not isinstance(data, dict):
        raise BadInventory(path, "ansible-inventory printed no inventory")
    hosts = list(dict.fromkeys(_hosts_of(data, "all")))  # inventory order, each host once
    if not hosts:
        raise BadInventory(path, "no hosts" + (f" match --limit {limit!r}" if limit else ""))
    if warn is not None:
        meta = data.get("_meta") if isinstance(data.get("_meta"), dict) else {}
        for line in unchecked_keys(hosts, meta.get("hostvars") if isinstance(meta.get("hostvars"), dict) else {}):
            warn(line)
    return hosts


def _pass_on(text: str | None, warn: Callable[[str], None] | None) -> None:
    """Ansible's stderr (warnings, deprecations) to ``warn``, a line at a time."""
    if warn is None:
        return
    for line in (text or "").splitlines():
        if line.strip():
            warn(line.rstrip())


def _hosts_of(data: dict, group: str, seen: frozenset = frozenset()) -> list[str]:
    entry = data.get(group) or {}
    if not isinstance(entry, dict) or group in seen:
        return []
    found = [h for h in entry.get("hosts") or [] if isinstance(h, str)]
    for child in entry.get("children") or []:
        found += _hosts_of(data, child, seen | {group})
    return found


def _first_error(text: str) -> str:
    for line in (text or "").splitlines():
        if "ERROR" in line or "error" in line.lower():
            return line.strip()[:300]
    return (text or "").strip().splitlines()[0][:300] if (text or "").strip() else ""


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A folder only this user can enter (``mkdtemp``: 0700) for everything Ansible reads and writes.

    The playbook, the wheels fleet bench copies and ansible-runner's artifacts live here while Ansible
    runs, never in the run folder: a run folder may sit where others can write (a shared ``runs/``),
    and anything read back from there could have been swapped meanwhile. Removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="gpudock-ansible-") as tmp:
        yield Path(tmp)


def run_playbook(
    plays: list[dict],
    inventory: Inventory,
    record=None,
    *,
    limit: str | None = None,
    forks: int = 5,
    on_task: Callable[[str, TaskOutcome], None] | None = None,
    name: str = "gpudock",
    host_keys: HostKeys | None = None,
    warn: Callable[[str], None] | None = None,
    private: Path | None = None,
) -> dict[str, HostOutcome]:
    """Run ``plays`` on the inventory's hosts (``limit``: fewer of them) and return every host's task outcomes.

    ``on_task(host, outcome)`` hears each as it ends.
    Ansible reads the playbook from ``private`` (a ``private_folder()``; one is made when not given);
    afterwards the playbook and Ansible's transcript are copied into ``record`` (a ``pinned.Pinned`` run
    folder) under ``ansible/``, for the record only. ``warn`` hears Ansible's warnings."""
    runner = ansible_runner()
    with contextlib.ExitStack() as stack:
        if private is None:
            private = stack.enter_context(private_folder())
        playbook = private / f"{name}.yml"
        from ..install.ansible import dump_playbook

        fd = os.open(playbook, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(dump_playbook(plays))
        ident = f"{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
        (private / "runner").mkdir(mode=0o700, exist_ok=True)
        events = _EventSink(on_task, warn)
        _run_cancellable(
            runner,
            private_data_dir=str(private / "runner"),
            project_dir=os.getcwd(),  # relative key paths in the inventory resolve as with ansible-playbook
            artifact_dir=str(private / "artifacts"),
            ident=ident,
            playbook=str(playbook),
            inventory=str(inventory.path),
            limit=limit or inventory.limit,
            forks=forks,
            envvars={**ANSIBLE_ENV, **(host_keys or STRICT).env(), **ansible_path()},  # Ansible beside this Python
            quiet=True,
            event_handler=events.handle,
            rotate_artifacts=0,
            settings={"pexpect_timeout": 0.5},  # how often ansible-runner looks at the cancel flag
        )
        if record is not None:
            _keep_record(record, playbook, private / "artifacts" / ident, ident, events.messages)
    return events.outcomes


def _run_cancellable(runner, **kwargs) -> None:
    """ansible-runner in a thread, cancelled (its process group killed) when gpudock is interrupted.

    Without a ``cancel_callback`` ansible-runner installs its own SIGINT and SIGTERM handlers for good
    (ansible_runner/utils ``signal_handler``): Ctrl-C would only cancel Ansible, the fleet command would go on
    as if the hosts had not answered, and gpudock's own handlers would be gone. And ansible-playbook runs
    in a session of its own (pexpect), its workers in sessions of theirs, so a Ctrl-C at the terminal
    reaches none of them: here an interrupt stops the playbook as Ansible stops itself on SIGTERM (its
    workers end their connections), with ansible-runner's kill as the fallback, then goes on up."""
    cancel, done = threading.Event(), threading.Event()
    thread, _ = runner.run_async(cancel_callback=cancel.is_set, finished_callback=lambda _: done.set(), **kwargs)
    try:
        # Event.wait, never Thread.join: an exception raised inside join() can leave the thread reading as
        # finished while it still runs (CPython gh-90882)
        while not done.wait(0.2) and thread.is_alive():
            pass
    except BaseException:  # KeyboardInterrupt, exceptions.Terminated (SIGTERM)
        _stop_playbook()  # Ansible stops its workers itself (they run in sessions of their own)
        if not done.wait(10):
            cancel.set()  # then ansible-runner kills the playbook's process group
            done.wait(20)
        raise


def _stop_playbook() -> None:
    """SIGTERM to ansible-playbook (a child of this process): it passes the signal to its workers, each of
    which ends its own process group (the connection and the module), then ends itself."""
    me = os.getpid()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == me and b"ansible-playbook" in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGTERM)
        except (OSError, ValueError, IndexError):
            continue


def _keep_record(record, playbook: Path, artifacts: Path, ident: str, messages: list[str]) -> None:
    """The playbook and Ansible's transcript into the run folder (never ``command`` or ``env``: secrets)."""
    record.copy_file(playbook, f"ansible/{playbook.name}")
    for part in ("stdout", "stderr", "rc", "status"):
        source = artifacts / part
        if source.is_file() and not source.is_symlink():
            record.copy_file(source, f"ansible/{ident}/{part}")
    if messages:
        record.write_text(f"ansible/{ident}/warnings", "\n".join(messages) + "\n")


class _EventSink:
    """ansible-runner's events: task outcomes per host (the data), Ansible's warnings kept apart."""

    def __init__(self, on_task, warn):
        self.outcomes: dict[str, HostOutcome] = {}
        self.messages: list[str] = []
        self.on_task, self.warn = on_task, warn

    def handle(self, event: dict) -> bool:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        if kind in _MESSAGE_EVENTS:
            text = " ".join(str(event.get("stdout") or "").split())
            if text:
                self.messages.append(text)
                if self.warn:
                    self.warn(text)
            return True
        if kind == "playbook_on_stats":
            for host in self.outcomes:
                self.outcomes[host].stats = {key: (data.get(key) or {}).get(host, 0) for key in _RECAP}
            return True
        status = _EVENT_STATUS.get(kind)
        if status is None or not data.get("host"):
            return True
        result = data.get("res")
        result = result if isinstance(result, dict) else {}
        if status == "ok" and result.get("changed"):
            status = "changed"
        if status == "failed" and data.get("ignore_errors"):
            status = "ok"
        outcome = TaskOutcome(data.get("task") or "", status, result)
        self.outcomes.setdefault(data["host"], HostOutcome(data["host"])).tasks.append(outcome)
        if self.on_task:
            self.on_task(data["host"], outcome)
        return True
