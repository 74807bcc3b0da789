"""Ansible is found beside gpudock's own Python first, then on PATH; missing everywhere is exit 3 with the
command that installs it (the SSH tests run every fleet command with Ansible off PATH)."""

from __future__ import annotations

import sys

import pytest

from gpudock.cli import main
from gpudock.exceptions import MissingTool
from gpudock.fleet import tools


def _program(folder, name):
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_beside_the_interpreter_wins_over_path(tmp_path, monkeypatch):
    venv, elsewhere = tmp_path / "venv" / "bin", tmp_path / "elsewhere"
    venv.mkdir(parents=True)
    elsewhere.mkdir()
    monkeypatch.setattr(sys, "executable", str(venv / "python"))
    monkeypatch.setenv("PATH", str(elsewhere))
    on_path = _program(elsewhere, "ansible-playbook")
    assert tools.ansible_program("ansible-playbook") == str(on_path)
    beside = _program(venv, "ansible-playbook")
    assert tools.ansible_program("ansible-playbook") == str(beside)
    assert tools.ansible_path()["PATH"].split(":")[0] == str(venv)


def test_missing_everywhere_is_exit_3_with_the_install_command(tmp_path, monkeypatch, capsys):
    pytest.importorskip("ansible_runner")
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[lab]\nh1\n")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(MissingTool, match="ansible-inventory"):
        tools.ansible_program("ansible-inventory")
    monkeypatch.chdir(tmp_path)
    assert main(["fleet", "doctor", "-i", str(inventory)]) == 3
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "ansible-inventory (Ansible) is not beside" in line and "bootstrap fleet" in line
    assert not (tmp_path / "runs").exists()  # nothing is left behind


def test_a_missing_inventory_is_still_bad_usage_without_ansible(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["fleet", "doctor", "-i", str(tmp_path / "none.ini")]) == 2
