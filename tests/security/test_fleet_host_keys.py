"""SSH host keys are checked in every fleet command, against real sshd containers (review hole H1).

ansible-runner exported ANSIBLE_HOST_KEY_CHECKING=False unless told otherwise, so Ansible put
``-o StrictHostKeyChecking=no`` first on ssh's command line and accepted any host: an impostor on a
target's address got `fleet install --apply`'s playbook, as root. Here a host whose key is in no
known_hosts file is refused; ``--trust-new-hosts`` accepts and records a new key, never a changed one.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from gpudock.fleet import engine, hostkeys
from tests.fleet.sshhosts import USER, Fleet
from tests.security.standin import gpudock

pytestmark = [pytest.mark.requires_docker, pytest.mark.requires_ansible]

PING = [{"name": "ping", "hosts": "all", "gather_facts": False, "tasks": [{"ansible.builtin.ping": {}}]}]


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    fleet = Fleet(tmp_path_factory.mktemp("hostkeys"))
    try:
        yield fleet, fleet.start("impostor")
    finally:
        fleet.stop()


def _inventory(fleet: Fleet, port: int, name: str = "plain", ssh: str = "") -> engine.Inventory:
    """An inventory that says nothing about host keys: what gpudock does is all that checks them."""
    path = fleet.folder / f"{name}.ini"
    path.write_text(
        f"impostor ansible_host=127.0.0.1 ansible_port={port} ansible_user={USER} "
        f"ansible_ssh_private_key_file={fleet.keys / 'client'} ansible_python_interpreter=/usr/bin/python3 "
        f"ansible_ssh_common_args='-o IdentitiesOnly=yes -o ConnectTimeout=5 {ssh}'\n"
    )
    return engine.Inventory(path, None, ("impostor",))


def test_a_host_with_an_unknown_key_is_refused(host, tmp_path):
    fleet, impostor = host
    known = tmp_path / "known_hosts"
    known.write_text("")
    proc = gpudock(
        "fleet", "doctor", "-i", str(_inventory(fleet, impostor.port).path), "--known-hosts", str(known), "--json",
        "--out", str(tmp_path / "run"),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr[-2000:]
    [row] = json.loads(proc.stdout)["hosts"]
    assert row["verdict"] == "unreachable" and "Host key verification failed" in row["error"], row
    assert "--trust-new-hosts" in row["error"]
    assert known.read_text() == ""  # nothing was recorded without --trust-new-hosts


def test_trust_new_hosts_records_a_new_key_and_still_refuses_a_changed_one(host, tmp_path):
    fleet, impostor = host
    inventory = _inventory(fleet, impostor.port)
    known = tmp_path / "known_hosts"
    known.write_text("")
    trusting = hostkeys.HostKeys(trust_new=True, known_hosts=known)
    outcomes = engine.run_playbook(PING, inventory, None, host_keys=trusting, name="trust")
    assert outcomes["impostor"].reason is None, outcomes["impostor"].reason
    key = " ".join((fleet.keys / f"host_{impostor.port}.pub").read_text().split()[:2])
    assert key in known.read_text()  # the key is now known, in the user's own file (its name may be hashed)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    other = " ".join((tmp_path / "other.pub").read_text().split()[:2])  # the key the real host had
    known.write_text(f"[127.0.0.1]:{impostor.port} {other}\n")
    fresh = _inventory(fleet, impostor.port, "fresh", "-o ControlPath=none")  # not Ansible's open connection
    changed = engine.run_playbook(PING, fresh, None, host_keys=trusting, name="changed")
    assert changed["impostor"].unreachable and "key CHANGED" in changed["impostor"].reason


def test_a_known_hosts_file_others_can_write_is_refused(tmp_path):
    shared = tmp_path / "known_hosts"
    shared.write_text("")
    shared.chmod(0o666)
    with pytest.raises(Exception, match="writable by others"):
        hostkeys.known_hosts_file(shared)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(Exception, match="not a regular file"):
        hostkeys.known_hosts_file(link)
