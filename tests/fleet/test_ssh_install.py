"""Plans applied for real over SSH: the rendered playbook, then `fleet install docker --apply` and its rerun.

The hosts are containers that may run dockerd: this machine refuses ``--privileged`` (its own bounding
set lacks CAP_SYS_RESOURCE), so they get every other capability and no seccomp/AppArmor profile.
/etc/docker/daemon.json is written first with ``"bridge": "none", "iptables": false, "ip6tables":
false``: the inner dockerd makes no interface and no firewall rule. These hosts do NOT share this
machine's network namespace: with ``"bridge": "none"`` dockerd deletes any ``docker0`` it finds (it did,
under ``--network host``, and the machine's own engine lost its bridge), so each has its own namespace
and its sshd is published on 127.0.0.1 only. Their apt reads Debian's mirror; nothing else leaves.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.fleet.sshhosts import Fleet
from tests.fleet.test_ssh_fleet import gpudock

pytestmark = [pytest.mark.requires_docker, pytest.mark.requires_ansible]

DAEMON_JSON = '{"bridge": "none", "iptables": false, "ip6tables": false}'
SEED = f"mkdir -p /etc/docker; echo '{DAEMON_JSON}' > /etc/docker/daemon.json\n"
CAN_RUN_DOCKERD = (
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--tmpfs", "/var/lib/docker",
)  # fmt: skip


def _interfaces() -> set[str]:
    """This machine's network links, less the veth pairs of containers (other jobs start and stop theirs)."""
    return {name for name in os.listdir("/sys/class/net") if not name.startswith("veth")}


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    fleet = Fleet(tmp_path_factory.mktemp("engines"))
    # one download of docker.io for both hosts: they install one after the other, never at once (apt's lock)
    debs = tmp_path_factory.mktemp("apt-archives")
    try:
        for name in ("playbook", "fleet"):
            fleet.start(
                name,
                extra=SEED,
                docker_args=CAN_RUN_DOCKERD,
                own_network=True,
                mounts=[(debs, "/var/cache/apt/archives")],
            )
        fleet.interfaces_before = _interfaces()  # this machine's, with the two containers' own links
        yield fleet
    finally:
        fleet.stop()


def _docker_answers(fleet: Fleet, name: str) -> bool:
    host = next(h for h in fleet.hosts if h.name == name)
    return fleet.exec(host, "docker", "info").returncode == 0


def test_the_rendered_playbook_applies_for_real(engines, tmp_path):
    from gpudock.fleet.tools import ansible_program

    inventory = engines.inventory()
    probe = gpudock(
        "fleet", "doctor", "-i", str(inventory), "--limit", "playbook", "--json", "--out", str(tmp_path / "p")
    )
    snapshot = tmp_path / "p" / json.loads(probe.stdout)["hosts"][0]["snapshot"]
    plan = gpudock("plan", "docker", "--format", "ansible", "--snapshot", str(snapshot))
    assert plan.returncode == 0, plan.stderr
    playbook = tmp_path / "docker.yml"
    playbook.write_text(plan.stdout)
    assert not _docker_answers(engines, "playbook")
    ansible_playbook = ansible_program("ansible-playbook")  # where gpudock finds it: beside this Python, then PATH
    run = subprocess.run(
        [ansible_playbook, "-i", str(inventory), "--limit", "playbook", str(playbook)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert _docker_answers(engines, "playbook")
    again = subprocess.run(
        [ansible_playbook, "-i", str(inventory), "--limit", "playbook", str(playbook)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-2000:]


def test_fleet_install_docker_applies_then_changes_nothing(engines, tmp_path):
    inventory = engines.inventory()
    first = gpudock(
        "fleet",
        "install",
        "docker",
        "-i",
        str(inventory),
        "--limit",
        "fleet",
        "--apply",
        "--yes",
        "--out",
        str(tmp_path / "1"),
    )
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    install = json.loads((Path(tmp_path / "1") / "install.json").read_text())
    assert install["hosts"] == [
        {"host": "fleet", "status": "changed", "reason": None, "changed": install["hosts"][0]["changed"], "group": 0}
    ]
    assert "fleet: install Docker Engine from the distribution (docker.io): changed" in first.stdout
    assert _docker_answers(engines, "fleet")
    second = gpudock(
        "fleet", "install", "docker", "-i", str(inventory), "--apply", "--yes", "--out", str(tmp_path / "2")
    )
    assert second.returncode == 0, second.stdout[-3000:]
    assert "nothing changed on any host" in second.stdout
    assert _interfaces() == engines.interfaces_before and "docker0" in _interfaces()  # nothing added or deleted


def test_without_apply_nothing_runs(engines, tmp_path):
    proc = gpudock(
        "fleet", "install", "toolkit", "-i", str(engines.inventory()), "--limit", "fleet", "--out", str(tmp_path / "t")
    )
    assert proc.returncode == 0 and "Nothing was run" in proc.stdout
    assert (tmp_path / "t" / "playbooks" / "toolkit-1.yml").exists()


def test_apply_without_yes_and_without_a_terminal_runs_nothing(engines, tmp_path):
    out = tmp_path / "n"
    proc = gpudock(
        "fleet", "install", "docker", "-i", str(engines.inventory()), "--limit", "fleet", "--apply", "--out", str(out)
    )
    # refused before anything: no probe, no plan, no run folder (#28: a prompt without a terminal is exit 2)
    assert proc.returncode == 2 and "add --yes" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
