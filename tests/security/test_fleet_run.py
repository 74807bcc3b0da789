"""A fleet run in a shared runs/ folder against hostile hosts: review holes H2, H3 and M4 in one Ansible run.

Two real users: the victim is the test's own (root, as CI runs the tests), the attacker a fresh
unprivileged user. The victim runs `gpudock fleet doctor` into a team's group-writable ``runs/`` (2777,
no sticky bit), with stand-in hosts (local connection, crafted
answers: tests/security/standin.py) and an Ansible plugin that warns in every way plugins do.

- H2, the review's reproduction: the attacker polls for gpudock's run folder, renames it away and puts
  their own in its place with the same layout and a playbook of theirs; ansible-playbook read that
  playbook by path and ran it with the victim's SSH keys (``raw: id > FILE`` with ``delegate_to:
  localhost`` wrote the victim's uid). Here the attacker also plants links into a folder of the
  victim's. gpudock must run only its own playbook (from a private folder), write its record into the
  folder it made (whatever it is called now) and never through the attacker's links.
- H3: a host that answered without a snapshot, or with one over ansible-runner's 700,000-character
  event limit, was "ok", exit 0.
- M4: any Ansible warning (cryptography's deprecation on every start, a group and a host of one name,
  a plugin's) made every fleet command refuse a valid inventory: "ansible-inventory printed no JSON".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.security.standin import ROOT, healthy_snapshot, standin_inventory
from tests.security.users import other_user

pytestmark = [pytest.mark.requires_root, pytest.mark.requires_ansible]

# A vars plugin that warns the three ways plugins do: a Python warning at import (as cryptography's
# CryptographyDeprecationWarning does on every Ansible start), Ansible's deprecation, Ansible's warning.
NOISY_PLUGIN = """
import warnings

from ansible.plugins.vars import BaseVarsPlugin
from ansible.utils.display import Display


class NoisyDeprecationWarning(UserWarning):
    pass


warnings.warn("noisy-plugin: its library is deprecated", NoisyDeprecationWarning)
Display().deprecated("noisy-plugin: this plugin is deprecated", version="2.99")


class VarsModule(BaseVarsPlugin):
    REQUIRES_ENABLED = False

    def get_vars(self, loader, path, entities, cache=True):
        Display().warning("noisy-plugin: a warning while reading variables")
        return {}
"""
BIG = 1_200_000  # characters: over ansible-runner's default MAX_EVENT_RES of 700,000
HOSTS = ["good", "nothing", "empty", "cut", "big", "samename"]

# Run as the attacker: wait for the victim's run folder, swap it for one of ours, again and again.
ATTACKER = textwrap.dedent('''
    import os, sys, time
    shared, precious, canary, log = sys.argv[1:5]
    run = os.path.join(shared, "run")
    evil = """- hosts: all
      gather_facts: false
      tasks:
      - ansible.builtin.raw: "id > {canary}"
        delegate_to: localhost
    """.replace("{canary}", canary)
    swaps, deadline = 0, time.monotonic() + 60
    seen = None
    while time.monotonic() < deadline and not os.path.exists(log + ".stop"):
        try:
            info = os.lstat(run)
        except FileNotFoundError:
            time.sleep(0.002)
            continue
        if info.st_uid == os.getuid():
            time.sleep(0.01)
            continue
        seen = seen or time.monotonic()
        # the review's trigger (the playbook is written, Ansible's folder appears), or a second into the run
        try:
            ready = len(os.listdir(os.path.join(run, "ansible"))) >= 2
        except OSError:
            ready = False
        if not ready and time.monotonic() - seen < 1.0:
            time.sleep(0.002)
            continue
        moved = os.path.join(shared, f"run.orig{swaps}")
        os.rename(run, moved)
        os.mkdir(run, 0o777)
        os.mkdir(os.path.join(run, "ansible"), 0o777)
        try:  # the same layout: Ansible's own folders, writable, so the victim's run goes on in ours
            for name in os.listdir(os.path.join(moved, "ansible")):
                if os.path.isdir(os.path.join(moved, "ansible", name)):
                    os.mkdir(os.path.join(run, "ansible", name), 0o777)
                    os.chmod(os.path.join(run, "ansible", name), 0o777)
        except OSError:
            pass
        os.chmod(run, 0o777)
        os.chmod(os.path.join(run, "ansible"), 0o777)
        for name in ("fleet-doctor.yml", "playbook.yml"):
            with open(os.path.join(run, "ansible", name), "w") as handle:
                handle.write(evil)
            os.chmod(os.path.join(run, "ansible", name), 0o666)
        os.symlink(precious, os.path.join(run, "snapshots"))  # the victim's own folder, by a link
        os.symlink(os.path.join(precious, "fleet.json"), os.path.join(run, "fleet.json"))
        swaps += 1
        seen = None
    with open(log, "w") as handle:
        handle.write(str(swaps))
''')


def _answers() -> dict[str, dict]:
    big = healthy_snapshot()
    big["files"]["/etc/gpudock-test-padding"] = "x" * BIG
    return {
        "good": {"changed": False, "snapshot": healthy_snapshot()},
        "nothing": {"changed": False},  # not gpudock's module, or a result ansible-runner emptied
        "empty": {"changed": False, "snapshot": {}},
        "cut": {"changed": False, "snapshot": {"platform": {"system": "Linux"}}},
        "big": {"changed": False, "snapshot": big},
    }


def _hostile_inventory(folder: Path) -> Path:
    inventory = standin_inventory(folder, _answers())
    # a group and a host of the same name: Ansible warns "Found both group and host with same name"
    python = folder / "python-good"
    extra = f"[samename]\nsamename\n[samename:vars]\nansible_connection=local\nansible_python_interpreter={python}\n"
    inventory.write_text(inventory.read_text() + extra)
    (folder / "vars_plugins").mkdir()
    (folder / "vars_plugins" / "noisy.py").write_text(NOISY_PLUGIN)
    for path in (folder, *folder.rglob("*")):
        path.chmod(0o755)
    return inventory


@pytest.fixture(scope="module")
def shared_run():
    """The victim's fleet doctor into a shared runs/, raced by the attacker; what came of it."""
    with other_user() as (attacker, base):
        shared = base / "shared"
        shared.mkdir()
        shared.chmod(0o2777)  # a team's runs/: group-writable, setgid, no sticky bit
        precious = base / "victims-own"  # a folder of the victim's, for the attacker's links to point at
        precious.mkdir(mode=0o700)
        (precious / "notes.txt").write_text("mine\n")
        canary_dir = base / "canary"
        canary_dir.mkdir()
        canary_dir.chmod(0o777)
        canary, log = canary_dir / "pwned", attacker.home / "swaps"
        inventory = _hostile_inventory(base / "inventory")
        # the attacker's Python is the system's: its own script needs nothing else
        spy = attacker.run(["/usr/bin/python3", "-c", ATTACKER, str(shared), str(precious), str(canary), str(log)])
        time.sleep(0.3)  # the attacker is polling before the victim starts
        gpudock = subprocess.Popen(
            [sys.executable, "-m", "gpudock", "fleet", "doctor", "-i", str(inventory), "--json", "--out",
             str(shared / "run")],
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT / "src"),
                "PATH": f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                "ANSIBLE_VARS_PLUGINS": str(base / "inventory" / "vars_plugins"),
            },
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        out, err = gpudock.communicate(timeout=300)
        (attacker.home / "swaps.stop").touch()
        spy.wait(timeout=30)
        mine = [p for p in shared.iterdir() if p.name.startswith("run.orig") and p.stat().st_uid == os.getuid()]
        records = [p for p in mine if (p / "fleet.json").is_file()]
        yield {
            "rc": gpudock.returncode, "out": out, "err": err, "swaps": int(log.read_text()), "canary": canary,
            "precious": precious, "shared": shared, "records": records,
        }  # fmt: skip


def test_another_user_cannot_swap_the_run_folder_under_a_fleet_run(shared_run):
    run = shared_run
    assert run["swaps"] >= 1, "the attacker never swapped the folder: the test proved nothing"
    assert not run["canary"].exists(), f"the attacker's playbook ran as the victim: {run['canary'].read_text()}"
    assert "Traceback" not in run["err"] and run["rc"] == 1, run["err"][-2000:]
    assert sorted(p.name for p in run["precious"].iterdir()) == ["notes.txt"]  # nothing written through a link
    assert len(run["records"]) == 1, [p.name for p in run["shared"].iterdir()]  # in the folder gpudock made
    record = run["records"][0]
    assert (record / "snapshots" / "good.json").is_file()
    assert "gpudock probes" in (record / "ansible" / "fleet-doctor.yml").read_text()
    assert (run["shared"] / "run" / "fleet.json").is_symlink()  # the attacker's link, untouched


def test_ansible_warnings_go_to_stderr_and_the_data_still_parses(shared_run):
    doc = json.loads(shared_run["out"])  # stdout is the data alone
    assert [h["host"] for h in doc["hosts"]] == HOSTS
    text = "\n".join(line for line in shared_run["err"].splitlines() if line.startswith("ansible: "))
    assert "Found both group and host with same name: samename" in text
    assert "noisy-plugin: its library is deprecated" in text  # the Python warning, from stderr
    assert "noisy-plugin: this plugin is deprecated" in text  # Ansible's deprecation
    assert "noisy-plugin: a warning while reading variables" in text


def test_no_answer_or_a_cut_answer_is_a_failed_row_never_ok(shared_run):
    rows = {h["host"]: h for h in json.loads(shared_run["out"])["hosts"]}
    assert rows["good"]["verdict"] == "ok" and rows["samename"]["verdict"] == "ok"
    for host in ("nothing", "empty"):
        assert rows[host]["verdict"] == "failed" and "holds none" in rows[host]["error"], rows[host]
        assert rows[host]["snapshot"] is None
    assert rows["cut"]["verdict"] == "failed" and "incomplete (no commands)" in rows["cut"]["error"]


def test_a_big_answer_arrives_whole(shared_run):
    big = next(h for h in json.loads(shared_run["out"])["hosts"] if h["host"] == "big")
    assert big["verdict"] == "ok", big
    saved = json.loads((shared_run["records"][0] / big["snapshot"]).read_text())
    assert "/etc/gpudock-test-padding" in saved["files"] and saved["commands"]["nvidia_smi"]["rc"] == 0


def test_the_record_keeps_the_playbook_and_transcript_but_no_secrets(shared_run):
    record = shared_run["records"][0]
    [ident] = [p for p in (record / "ansible").iterdir() if p.is_dir()]
    kept = sorted(p.name for p in ident.iterdir())
    assert "stdout" in kept and "command" not in kept and "env" not in kept  # `command` holds the environment
    assert "noisy-plugin: a warning while reading variables" in (ident / "warnings").read_text()
    assert not list(record.rglob("job_events"))
