"""The fleet's defences that need no SSH host: what Ansible is told, what it reads, where gpudock writes.

Review holes H1 (settings), H2 (the pinned run folder), L13 (daemon.json parsed), L14 (wheels from a
read-only checkout), L15 (host names with commas); the fleet document read back from a folder.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from gpudock.exceptions import CannotWrite, SnapshotError
from gpudock.fleet import engine, hostkeys
from gpudock.fleet.doctor import FleetReport
from gpudock.fleet.install import only_hosts
from gpudock.install.plan import runtime_registered
from gpudock.pinned import Pinned


def test_ansible_is_told_to_check_host_keys_and_to_keep_big_answers():
    assert engine.ANSIBLE_ENV["ANSIBLE_HOST_KEY_CHECKING"] == "True"  # ansible-runner's default is False
    assert int(engine.ANSIBLE_ENV["MAX_EVENT_RES"]) >= 16 * 1024 * 1024  # a whole snapshot file's worth
    assert hostkeys.STRICT.ssh_extra_args() == "-o StrictHostKeyChecking=yes"
    trusting = hostkeys.HostKeys(trust_new=True, known_hosts="/home/u/known")
    assert trusting.env() == {
        "ANSIBLE_SSH_EXTRA_ARGS": "-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/home/u/known"
    }


def test_the_private_folder_is_the_users_alone_and_goes_away():
    with engine.private_folder() as private:
        assert stat.S_IMODE(private.stat().st_mode) == 0o700 and private.stat().st_uid == os.geteuid()
    assert not private.exists()


def test_writes_go_to_the_folder_gpudock_made_even_after_it_is_swapped(tmp_path):
    """H2: a run folder renamed away and replaced (by a folder or a link) after gpudock took it."""
    run, elsewhere = tmp_path / "run", tmp_path / "victim"
    run.mkdir()
    elsewhere.mkdir()
    with Pinned(run) as record:
        run.rename(tmp_path / "moved")
        run.symlink_to(elsewhere)  # the attacker's replacement: a link to a folder of the victim's
        record.write_text("fleet.json", "{}")
        record.write_text("snapshots/h.json", "{}")
    assert (tmp_path / "moved" / "fleet.json").read_text() == "{}"
    assert (tmp_path / "moved" / "snapshots" / "h.json").is_file() and not list(elsewhere.iterdir())


def test_a_link_planted_inside_the_run_folder_is_never_followed(tmp_path):
    run, elsewhere = tmp_path / "run", tmp_path / "victim"
    run.mkdir()
    elsewhere.mkdir()
    (run / "snapshots").symlink_to(elsewhere)
    (elsewhere / "keep").write_text("mine")
    (run / "fleet.json").symlink_to(elsewhere / "keep")
    with Pinned(run) as record:
        with pytest.raises(CannotWrite, match="symlink"):
            record.write_text("snapshots/h.json", "{}")
        record.write_text("fleet.json", "{}")  # replaces the link itself
        record.remove_tree("snapshots")  # removes the link, not what it points to
    assert (elsewhere / "keep").read_text() == "mine" and not (run / "fleet.json").is_symlink()
    (tmp_path / "link-to-run").symlink_to(run)
    with pytest.raises(CannotWrite, match="symlink"):
        Pinned(tmp_path / "link-to-run")


def test_a_fleet_document_cannot_point_outside_its_folder(tmp_path):
    (tmp_path / "outside.json").write_text(json.dumps({"platform": {"system": "Linux"}}))
    run = tmp_path / "run"
    run.mkdir()
    for name in ("../outside.json", "/etc/hostname"):
        (run / "fleet.json").write_text(json.dumps({"hosts": [{"host": "h", "snapshot": name}]}))
        with pytest.raises(SnapshotError, match="leaves its folder"):
            FleetReport.load(run / "fleet.json")
    (run / "fleet.json").write_text("[" * 100_000)
    with pytest.raises(SnapshotError):
        FleetReport.load(run / "fleet.json")


@pytest.mark.parametrize(
    "daemon_json, registered",
    [
        ('{"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}}}', True),
        ('{"default-runtime": "nvidia"}', False),  # L13: the grep for "nvidia" passed and configure was skipped
        ('{"log-opts": {"tag": "nvidia"}}', False),
        ("not JSON", False),
    ],
)
def test_the_runtime_check_reads_daemon_json_as_json(tmp_path, daemon_json, registered):
    path = tmp_path / "daemon.json"
    path.write_text(daemon_json)
    check = runtime_registered(str(path), "nvidia")
    assert (subprocess.run(check.argv, capture_output=True).returncode == 0) is registered


def test_a_plan_for_some_hosts_never_reaches_the_others_whatever_their_names():
    """L15: `--limit a,b` split a host name that holds a comma; the pieces could select other hosts."""
    play = only_hosts({"name": "p", "hosts": "all", "tasks": [{"name": "t", "ansible.builtin.ping": {}}]}, ["x,y"])
    gate = play["tasks"][0]
    assert gate["ansible.builtin.meta"] == "end_host" and gate["when"] == "inventory_hostname not in gpudock_plan_hosts"
    assert play["vars"]["gpudock_plan_hosts"] == ["x,y"] and play["hosts"] == "all"


@pytest.mark.requires_ansible
def test_only_hosts_runs_on_exactly_the_named_hosts(tmp_path):
    inventory = tmp_path / "inventory.yml"
    names = ["x,y", "x", "y", "{{ lookup('pipe', 'touch C') }}"]
    inventory.write_text(
        json.dumps({"all": {"hosts": {n: {"ansible_connection": "local"} for n in names}}})  # JSON is YAML
    )
    play = {"name": "p", "hosts": "all", "gather_facts": False, "tasks": [{"name": "t", "ansible.builtin.debug": {}}]}
    hosts = engine.Inventory(inventory, None, tuple(names))
    outcomes = engine.run_playbook([only_hosts(play, ["x,y", names[3]])], hosts, None, name="only")
    ran = {host for host, outcome in outcomes.items() if any(t.task == "t" for t in outcome.tasks)}
    assert ran == {"x,y", names[3]} and not (tmp_path / "C").exists()


def test_wheels_are_built_from_a_private_copy_never_in_the_checkout(tmp_path, monkeypatch):
    """L14: `pip wheel CHECKOUT` wrote build files into the checkout: a read-only or another user's failed."""
    from gpudock.fleet import bench

    calls = []

    def pip(argv, **kwargs):
        calls.append((argv, kwargs.get("cwd")))
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(bench.subprocess, "run", pip)
    with engine.private_folder() as private:
        bench.build_wheels(private / "build")
        source = private / "build" / "source"
        assert (source / "pyproject.toml").is_file() and (source / "src" / "gpudock" / "cli" / "__init__.py").is_file()
        assert not list(source.rglob("__pycache__"))
    assert str(source) in calls[0][0] and all(cwd == private / "build" for _, cwd in calls)


@pytest.mark.requires_ansible
def test_an_inventory_that_takes_host_key_checking_away_is_named_before_anything_runs(tmp_path):
    """The merged tree's review: a host's ansible_ssh_extra_args replaced gpudock's StrictHostKeyChecking and
    UserKnownHostsFile, and ansible_host_key_checking=false put StrictHostKeyChecking=no first, silently."""
    path = tmp_path / "hosts.ini"
    path.write_text(
        "extra ansible_host=127.0.0.1 ansible_ssh_extra_args='-o ProxyJump=bastion'\n"
        "off ansible_host=127.0.0.2 ansible_host_key_checking=false\n"
        "common ansible_host=127.0.0.3 ansible_ssh_common_args='-o StrictHostKeyChecking=no'\n"
        "plain ansible_host=127.0.0.4 ansible_ssh_common_args='-o ConnectTimeout=5'\n"
    )
    said: list[str] = []
    inventory = engine.read_inventory(path, warn=said.append)
    assert inventory.hosts == ("extra", "off", "common", "plain")
    named = [line for line in said if line.startswith("inventory: ")]
    assert [line.split(":")[1].strip() for line in named] == ["extra", "off", "common"], said
    assert "replaces gpudock's ssh options" in named[0] and "ansible_host_key_checking is off" in named[1]
