"""A fleet row is ok only from a whole, valid snapshot; Ansible's warnings never break a fleet command.

Against stand-in hosts (local connection, crafted answers: tests/security/standin.py) through the real
Ansible. Reproduces review holes H3 (a host that answers without a snapshot, or with an answer over
ansible-runner's 700,000-character event limit, was "ok", exit 0) and M4 (any Ansible warning made every
fleet command refuse a valid inventory: "ansible-inventory printed no JSON").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.security.standin import gpudock, healthy_snapshot, standin_inventory

pytestmark = pytest.mark.requires_ansible

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


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("answers")
    big = healthy_snapshot()
    big["files"]["/etc/gpudock-test-padding"] = "x" * BIG
    answers = {
        "good": {"changed": False, "snapshot": healthy_snapshot()},
        "nothing": {"changed": False},  # not gpudock's module, or a result ansible-runner emptied
        "empty": {"changed": False, "snapshot": {}},
        "cut": {"changed": False, "snapshot": {"platform": {"system": "Linux"}}},
        "big": {"changed": False, "snapshot": big},
    }
    inventory = standin_inventory(folder, answers)
    # a group and a host of the same name: Ansible warns "Found both group and host with same name"
    inventory.write_text(inventory.read_text() + "[samename]\nsamename\n[samename:vars]\nansible_connection=local\n")
    python = folder / "python-good"
    inventory.write_text(inventory.read_text() + f"ansible_python_interpreter={python}\n")
    plugins = folder / "vars_plugins"
    plugins.mkdir()
    (plugins / "noisy.py").write_text(NOISY_PLUGIN)
    out = folder / "run"
    proc = gpudock(
        "fleet", "doctor", "-i", str(inventory), "--json", "--out", str(out), env={"ANSIBLE_VARS_PLUGINS": str(plugins)}
    )
    return proc, out


def test_ansible_warnings_go_to_stderr_and_the_data_still_parses(fleet_run):
    proc, _out = fleet_run
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)  # stdout is the data alone
    assert [h["host"] for h in doc["hosts"]] == ["good", "nothing", "empty", "cut", "big", "samename"]
    warned = [line for line in proc.stderr.splitlines() if line.startswith("ansible: ")]
    text = "\n".join(warned)
    assert "Found both group and host with same name: samename" in text
    assert "noisy-plugin: its library is deprecated" in text  # the Python warning, from stderr
    assert "noisy-plugin: this plugin is deprecated" in text  # Ansible's deprecation
    assert "noisy-plugin: a warning while reading variables" in text


def test_no_answer_or_a_cut_answer_is_a_failed_row_never_ok(fleet_run):
    proc, _out = fleet_run
    rows = {h["host"]: h for h in json.loads(proc.stdout)["hosts"]}
    assert rows["good"]["verdict"] == "ok" and rows["samename"]["verdict"] == "ok"
    for host in ("nothing", "empty"):
        assert rows[host]["verdict"] == "failed" and "holds none" in rows[host]["error"], rows[host]
        assert rows[host]["snapshot"] is None
    assert rows["cut"]["verdict"] == "failed" and "incomplete (no commands)" in rows["cut"]["error"]
    assert proc.returncode == 1


def test_a_big_answer_arrives_whole(fleet_run):
    proc, out = fleet_run
    big = next(h for h in json.loads(proc.stdout)["hosts"] if h["host"] == "big")
    assert big["verdict"] == "ok", big
    saved = json.loads((out / big["snapshot"]).read_text())
    assert "/etc/gpudock-test-padding" in saved["files"]
    assert saved["commands"]["nvidia_smi"]["rc"] == 0


def test_the_run_folder_keeps_the_playbook_and_transcript_but_no_secrets(fleet_run):
    _proc, out = fleet_run
    assert (out / "ansible" / "fleet-doctor.yml").is_file()
    [ident] = [p for p in (out / "ansible").iterdir() if p.is_dir()]
    kept = sorted(p.name for p in ident.iterdir())
    assert "stdout" in kept and "command" not in kept and "env" not in kept  # `command` holds the environment
    assert "noisy-plugin: a warning while reading variables" in (ident / "warnings").read_text()
    assert not list(Path(out).rglob("job_events"))
