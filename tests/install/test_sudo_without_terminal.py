"""Applying a plan where sudo would need a password but there is no terminal (a notebook's kernel): stop at once."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from gpudock.install import ApplyFailed, Plan, Step, apply

apply_module = importlib.import_module("gpudock.install.apply")  # the module; gpudock.install.apply is the function


@pytest.fixture
def fake_sudo(tmp_path, monkeypatch):
    """A `sudo` on PATH that records its arguments and, with -n, says a password is required."""
    calls = tmp_path / "sudo-calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sudo").write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n'
        'if [ "$1" = "-n" ]; then echo "sudo: a password is required" >&2; exit 1; fi\nexec "$@"\n'
    )
    (bin_dir / "sudo").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setattr(apply_module.os, "geteuid", lambda: 1000)
    return calls


def _plan(marker: Path) -> Plan:
    return Plan("docker", "test host", [Step("install something as root", ("touch", str(marker)), root=True)])


def test_without_a_terminal_a_password_prompt_is_refused_before_anything_runs(tmp_path, fake_sudo, monkeypatch):
    monkeypatch.setattr(apply_module, "has_terminal", lambda: False)
    marker = tmp_path / "installed"
    with pytest.raises(ApplyFailed) as err:
        apply(_plan(marker), tmp_path / "log", yes=True, console=Console(file=open(os.devnull, "w")))
    message = str(err.value)
    assert "no terminal" in message and "gpudock install docker --apply" in message
    assert fake_sudo.read_text().splitlines() == ["-n true"]  # asked once, never prompting
    assert not marker.exists()
    assert "refused:" in (tmp_path / "log" / "install-docker.log").read_text()


def test_with_passwordless_sudo_the_steps_run_with_sudo_n(tmp_path, fake_sudo, monkeypatch):
    monkeypatch.setattr(apply_module, "has_terminal", lambda: False)
    (tmp_path / "bin" / "sudo").write_text(
        f'#!/bin/sh\necho "$*" >> {fake_sudo}\n[ "$1" = "-n" ] && shift\nexec "$@"\n'
    )
    marker = tmp_path / "installed"
    result = apply(_plan(marker), tmp_path / "log", yes=True, console=Console(file=open(os.devnull, "w")))
    assert result.status == "ok" and marker.exists()
    assert fake_sudo.read_text().splitlines() == ["-n true", f"-n touch {marker}"]


def test_with_a_terminal_sudo_may_ask(tmp_path, fake_sudo, monkeypatch):
    monkeypatch.setattr(apply_module, "has_terminal", lambda: True)
    assert apply_module._argv(("apt-get", "update"), root=True) == ["sudo", "apt-get", "update"]
    monkeypatch.setattr(apply_module, "has_terminal", lambda: False)
    assert apply_module._argv(("apt-get", "update"), root=True) == ["sudo", "-n", "apt-get", "update"]


def test_a_process_in_a_session_of_its_own_has_no_terminal():
    """What Jupyter does to its kernels (start_new_session): has_terminal() is False there."""
    code = "from gpudock.install.apply import has_terminal; print(has_terminal())"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, start_new_session=True)
    assert proc.stdout.strip() == "False", proc.stderr
