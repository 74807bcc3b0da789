"""Two real users and a shared runs folder: the other user never gets their playbook run as you (review H2).

The review's reproduction: a team's group-writable ``runs/`` (2777, no sticky bit); the attacker polls
for gpudock's run folder, renames it away and puts their own in its place with the same layout and a
playbook of theirs; ansible-playbook then read that playbook by path and ran it with the victim's
SSH keys (``raw: id > FILE`` with ``delegate_to: localhost`` wrote the victim's uid). Here the attacker
does that, and also plants links from the swapped folder into a folder of the victim's. gpudock must
run only its own playbook (from a private folder), write its record into the folder it made (whatever
it is called now) and never through the attacker's links.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time

import pytest

from tests.security.standin import ROOT, healthy_snapshot, standin_inventory
from tests.security.users import two_users

pytestmark = [pytest.mark.requires_root, pytest.mark.requires_ansible]

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


def test_another_user_cannot_swap_the_run_folder_under_a_fleet_run():
    with two_users() as (victim, attacker, base):
        shared = base / "shared"
        shared.mkdir()
        shared.chmod(0o2777)  # a team's runs/: group-writable, setgid, no sticky bit
        precious = victim.home / "precious"
        precious.mkdir()
        (precious / "notes.txt").write_text("mine\n")
        os.chown(precious, victim.uid, victim.gid)
        canary_dir = base / "canary"
        canary_dir.mkdir(mode=0o777)
        canary_dir.chmod(0o777)
        canary, log = canary_dir / "pwned", attacker.home / "swaps"
        inventory = standin_inventory(base / "inventory", {"good": {"changed": False, "snapshot": healthy_snapshot()}})
        for path in (base / "inventory", *(base / "inventory").iterdir()):
            path.chmod(0o755)
        spy = attacker.run([sys.executable, "-c", ATTACKER, str(shared), str(precious), str(canary), str(log)])
        time.sleep(0.3)  # the attacker is polling before the victim starts
        gpudock = victim.run(
            [sys.executable, "-m", "gpudock", "fleet", "doctor", "-i", str(inventory), "--json", "--out",
             str(shared / "run")],
            # PYTHONWARNINGS: this test is about the race, not about warnings (test_fleet_answers.py is)
            env={
                "PYTHONPATH": str(ROOT / "src"),
                "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin",
                "PYTHONWARNINGS": "ignore",
            },
            stdout=-1, stderr=-1, text=True,
        )  # fmt: skip
        out, err = gpudock.communicate(timeout=180)
        (attacker.home / "swaps.stop").touch()
        spy.wait(timeout=30)
        swaps = int(log.read_text())

        assert swaps >= 1, "the attacker never swapped the folder: the test proved nothing"
        assert not canary.exists(), f"the attacker's playbook ran as the victim: {canary.read_text()}"
        assert "Traceback" not in err, err[-2000:]
        assert gpudock.returncode in (0, 1), err[-2000:]
        [row] = json.loads(out)["hosts"]
        assert row["host"] == "good" and row["verdict"] == "ok"
        assert sorted(p.name for p in precious.iterdir()) == ["notes.txt"]  # nothing written through a link
        # the record is in the folder gpudock made, under whatever name the attacker gave it
        mine = [p for p in shared.iterdir() if p.name.startswith("run.orig") and p.stat().st_uid == victim.uid]
        kept = [p for p in mine if (p / "fleet.json").is_file()]
        assert len(kept) == 1, [p.name for p in shared.iterdir()]
        record = kept[0]
        assert (record / "snapshots" / "good.json").is_file()
        assert "gpudock probes" in (record / "ansible" / "fleet-doctor.yml").read_text()
        assert (shared / "run" / "fleet.json").is_symlink()  # the attacker's link, untouched
