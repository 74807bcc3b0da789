"""Plans as playbooks: the same steps as argv tasks, become only for root steps, host text never templated."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from gpudock.facts.host import host_info
from gpudock.install import make_plan
from gpudock.install.ansible import Unsafe, plan_play, to_playbook
from gpudock.install.plan import Check, Daemon, Plan, RootFile, Step
from gpudock.snapshot import Snapshot
from tests.helpers import SNAPSHOTS
from tests.install.hosts import host_snapshot


class _Loader(yaml.SafeLoader):
    """Reads !unsafe as Ansible does for us here: a plain string, remembered as unsafe."""


_Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))


def _load(text: str) -> list[dict]:
    return yaml.load(text, Loader=_Loader)


def _tasks(tasks):
    for task in tasks:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key, []))


def _plan(step: str, snapshot: str | None = None) -> Plan:
    """A plan for a saved snapshot, or for a Debian 12 host where no Docker engine answers yet (so every step
    plans something: a host whose engine answers gets an empty docker plan)."""
    snap = Snapshot.load(SNAPSHOTS / snapshot) if snapshot else host_snapshot("debian-12", "native")
    return make_plan(step, snap, host_info(snap))


@pytest.mark.parametrize("step", ["driver", "docker", "toolkit", "all"])
def test_every_command_is_an_argv_list_and_become_only_for_root_steps(step):
    plan = _plan(step)
    play = _load(to_playbook(plan))[0]
    commands = [t for t in _tasks(play["tasks"]) if "ansible.builtin.command" in t]
    assert commands
    for task in commands:
        args = task["ansible.builtin.command"]
        assert isinstance(args["argv"], list) and "cmd" not in args, task
    assert not any("ansible.builtin.shell" in t or "ansible.builtin.raw" in t for t in _tasks(play["tasks"]))
    root_titles = {s.title for s in plan.steps if s.root}
    user_titles = {s.title for s in plan.steps if not s.root}
    for task in _tasks(play["tasks"]):
        if task.get("name") in user_titles and "block" not in task:
            assert not task.get("become"), task["name"]
        if task.get("name") in root_titles and "ansible.builtin.command" in task:
            assert task.get("become") is True, task["name"]


def test_the_docker_playbook_refuses_docker_desktop_before_any_change():
    play = plan_play(_plan("docker"))
    first_change = next(i for i, t in enumerate(play["tasks"]) if "when" in t and "gpudock_check" in str(t["when"]))
    names = [t["name"] for t in play["tasks"][:first_change]]
    assert "refuse to install an engine over Docker Desktop" in names


def test_the_driver_playbook_refuses_wsl_on_the_host():
    play = plan_play(_plan("driver"))
    refusal = next(t for t in play["tasks"] if t["name"] == "refuse a Linux NVIDIA driver on WSL")
    assert "gpudock_dxg.stat.exists" in refusal["when"]


def test_text_from_a_host_is_never_templated():
    hostile = "{{ lookup('pipe', 'id') }}"
    plan = Plan(
        "docker",
        hostile,
        [
            Step(
                f"let {hostile} use Docker",
                ("usermod", "-aG", "docker", "--", hostile),
                check=Check(("id", "-nG", "--", hostile), r"(^|\s)docker(\s|$)"),
            ),
            Step("write a file", writes=RootFile("/etc/gpudock-test", content=f"user={hostile}\n")),
        ],
    )
    text = to_playbook(plan)
    play = _load(text)[0]
    for task in _tasks(play["tasks"]):
        for value in _strings(task):
            if "lookup(" in value:
                assert isinstance(value, Unsafe), value
    assert "!unsafe" in text


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_checks_gate_steps_and_fallbacks_are_rescues():
    daemon = Daemon("/run/gpudock-x.pid", "/var/log/gpudock-x.log")
    step = Step(
        "start x",
        ("service", "x", "start"),
        check=Check(("x", "ping")),
        verify=Check(("x", "ping")),
        verify_wait_s=5,
        fallback=Step("start x directly", ("/usr/sbin/x", "--pidfile", daemon.pidfile), background=daemon),
    )
    play = plan_play(Plan("docker", "h", [step]))
    check, body = play["tasks"][-2:]
    assert check["ansible.builtin.command"]["argv"] == ["x", "ping"] and check["failed_when"] is False
    assert body["when"] == "not (gpudock_check_1.rc == 0)"
    assert [t["name"] for t in body["block"]] == ["start x", "verify: start x"]
    assert body["block"][1]["retries"] == 5
    rescue = body["rescue"][0]["ansible.builtin.command"]["argv"]
    assert (
        rescue[:2] == ["start-stop-daemon", "--start"]
        and "--pidfile" in rescue
        and rescue[-2:] == ["--pidfile", daemon.pidfile]
    )


def test_negated_check_and_line_regex():
    step = Step("s", ("true",), check=Check(("dpkg", "-l"), r"^ii\s+x$", negate=True))
    body = plan_play(Plan("docker", "h", [step]))["tasks"][-1]
    matched = "gpudock_check_1.stdout is search(gpudock_check_1_regex, multiline=True)"
    assert body["when"] == f"not (not (gpudock_check_1.rc == 0 and {matched}))"
    assert body["vars"]["gpudock_check_1_regex"] == r"^ii\s+x$"


@pytest.mark.requires_ansible
@pytest.mark.parametrize("step", ["driver", "docker", "toolkit", "all"])
def test_playbooks_pass_ansible_syntax_check(step, tmp_path):
    path = tmp_path / "plan.yml"
    path.write_text(to_playbook(_plan(step, "native-h200-healthy.json")))
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("localhost ansible_connection=local\n")
    proc = subprocess.run(
        ["ansible-playbook", "--syntax-check", "-i", str(inventory), str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
