"""SSH host keys in every fleet command: always checked; a new host trusted only when the user says so.

ansible-runner exports ``ANSIBLE_HOST_KEY_CHECKING=False`` unless its caller sets it
(ansible_runner/config/_base.py), and Ansible then puts ``-o StrictHostKeyChecking=no`` on ssh's command
line before the inventory's own options; OpenSSH keeps the first value of an option (ssh_config(5)).
The engine sets ``ANSIBLE_HOST_KEY_CHECKING=True``; this module says what ssh is told besides
(docs/fleet.md, "Host keys").
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import UsageError

HOST_KEY_FAILED = "Host key verification failed"


@dataclass(frozen=True)
class HostKeys:
    """How ssh checks each host's key. Always checked: an unknown or changed key refuses the host.

    ``trust_new`` accepts a key never seen before and records it (OpenSSH's ``accept-new``: a changed
    key is still refused); ``known_hosts`` is the file ssh checks and records in (default: ssh's own,
    ``~/.ssh/known_hosts``). An inventory's own ``StrictHostKeyChecking`` in ``ansible_ssh_common_args``
    comes first on ssh's command line, and OpenSSH keeps the first value, so it wins over these.
    """

    trust_new: bool = False
    known_hosts: Path | None = None

    def ssh_extra_args(self) -> str:
        args = ["-o", "StrictHostKeyChecking=" + ("accept-new" if self.trust_new else "yes")]
        if self.known_hosts is not None:
            args += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        return " ".join(args)

    def env(self) -> dict[str, str]:
        return {"ANSIBLE_SSH_EXTRA_ARGS": self.ssh_extra_args()}


STRICT = HostKeys()  # the default: known keys only


def known_hosts_file(path: str | Path) -> Path:
    """A known_hosts file the user controls: their own (or root's), not writable by others, not a link."""
    target = Path(path).expanduser().absolute()
    if any(ch.isspace() or ch in "\"'" for ch in str(target)):
        raise UsageError(f"--known-hosts {path}: give a path without spaces or quotes (ssh reads it as one word)")
    try:
        info = target.lstat()
    except FileNotFoundError:
        info = None
    folder = target.parent.stat() if target.parent.exists() else None
    if folder is None:
        raise UsageError(f"--known-hosts {path}: its folder does not exist")
    for what, st in (("file", info), ("folder", folder)):
        if st is None:
            continue
        if what == "file" and not stat.S_ISREG(st.st_mode):
            raise UsageError(f"--known-hosts {path}: not a regular file (a symlink or a device); give the file itself")
        if st.st_uid not in (os.geteuid(), 0) or (
            st.st_mode & 0o022 and not (what == "folder" and st.st_mode & 0o1000)
        ):
            raise UsageError(
                f"--known-hosts {path}: its {what} is another user's or writable by others, "
                "so anyone could add keys to it; use a file only you can write"
            )
    return target


def host_key_reason(ssh_output: str) -> str:
    """ssh's refusal, in one line that says what happened and what to do."""
    if "IDENTIFICATION HAS CHANGED" in ssh_output:
        return (
            f"ssh: {HOST_KEY_FAILED}: the host's key CHANGED since it was recorded (an impostor, or a "
            "reinstalled host): find out which, then remove the old key (ssh-keygen -R HOST)"
        )
    return (
        f"ssh: {HOST_KEY_FAILED}: the host's key is not in known_hosts; compare its fingerprint "
        "with the host's own, then rerun with --trust-new-hosts"
    )


def unchecked_keys(hosts: list[str], hostvars: dict) -> list[str]:
    """A line per host whose inventory variables take host-key checking out of gpudock's hands.

    Seen with `ansible-playbook -vvv`: ``ansible_ssh_extra_args`` replaces ``ANSIBLE_SSH_EXTRA_ARGS`` (gpudock's
    ``StrictHostKeyChecking`` and ``UserKnownHostsFile`` are gone), and ``ansible_host_key_checking: false``
    puts ``StrictHostKeyChecking=no`` first, where OpenSSH keeps the first value."""
    lines = []
    for host in hosts:
        own = hostvars.get(host) if isinstance(hostvars.get(host), dict) else {}
        why = []
        if own.get("ansible_ssh_extra_args"):
            why.append("ansible_ssh_extra_args replaces gpudock's ssh options (--trust-new-hosts, --known-hosts)")
        if str(own.get("ansible_host_key_checking", "")).strip().lower() in ("false", "no", "0", "off"):
            why.append("ansible_host_key_checking is off")
        common = str(own.get("ansible_ssh_common_args") or "")
        if "StrictHostKeyChecking=no" in common.replace(" ", "") or "UserKnownHostsFile=/dev/null" in common:
            why.append("ansible_ssh_common_args turns key checking off")
        if why:
            lines.append(f"inventory: {host}: its SSH host key is not checked as gpudock asks: {'; '.join(why)}")
    return lines
