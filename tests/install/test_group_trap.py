"""The docker-group trap: the plans' final GPU check runs as the user only where this session has the group."""

from gpudock.facts.host import host_info
from gpudock.install import make_plan
from tests.install.hosts import host_snapshot

IN_GROUP = {"id": {"rc": 0, "stdout": "uid=1000(alice) gid=1000(alice) groups=1000(alice),998(docker)\n", "stderr": ""}}
ROOT = {"id": {"rc": 0, "stdout": "uid=0(root) gid=0(root) groups=0(root)\n", "stderr": ""}}


def _plan(step, kind="native", **extra):
    snap = host_snapshot("ubuntu-24.04", kind, **extra)
    return make_plan(step, snap, host_info(snap))


def _final(plan):
    (check,) = plan.verify
    return check


def test_a_session_without_the_group_checks_with_sudo_and_says_how_to_get_it():
    for step in ("all", "toolkit"):
        plan = _plan(step)
        assert _final(plan).root and _final(plan).argv[:2] == ("docker", "run")
        note = " ".join(plan.notes)
        assert "log out and log in again" in note and "gpudock lab" in note
        assert _final(plan).shell().startswith("sudo docker run")


def test_wsl_says_wsl_terminate_with_the_distro():
    note = " ".join(_plan("all", "wsl2").notes)
    assert "wsl --terminate Ubuntu" in note


def test_a_session_in_the_group_or_root_checks_as_itself_without_a_note():
    for commands in (IN_GROUP, ROOT):
        plan = _plan("toolkit", commands=commands)
        assert not _final(plan).root
        assert not any("docker group" in n for n in plan.notes)


def test_the_script_runs_the_final_check_with_sudo():
    plan = _plan("all")
    assert "sudo docker run --rm --gpus all" in plan.to_sh()
