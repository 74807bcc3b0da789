"""`gpudock lab` keeps its kernel spec and workspaces per checkout, and says in one line why it will not run
as root."""

from __future__ import annotations

import json

import pytest

from gpudock import lab
from gpudock.cli import main


def test_each_checkout_has_its_own_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    one, two = tmp_path / "a" / "gpudock", tmp_path / "b" / "gpudock"  # same name, different checkouts
    assert lab.state_dir(one) != lab.state_dir(two)
    assert lab.state_dir(one) == lab.state_dir(one)
    assert lab.state_dir(one).parent == tmp_path / "state" / "gpudock" / "lab"
    assert lab.state_dir(one).name.startswith("gpudock-")
    assert lab.state_dir() == lab.state_dir(lab.checkout_root())  # the default is this checkout


def test_a_second_checkout_does_not_repoint_the_first_ones_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    one, two = tmp_path / "one", tmp_path / "two"
    first = lab.prepare(lab.state_dir(one), python="/one/.venv/bin/python", say=lambda line: None)
    second = lab.prepare(lab.state_dir(two), python="/two/.venv/bin/python", say=lambda line: None)
    spec = json.loads((first.data / "kernels" / lab.KERNEL_NAME / "kernel.json").read_text())
    assert spec["argv"][0] == "/one/.venv/bin/python"
    assert first.workspaces != second.workspaces and first.settings != second.settings


def test_as_root_one_line_and_exit_2_unless_allow_root(monkeypatch, capsys):
    pytest.importorskip("jupyterlab")
    monkeypatch.setattr(lab.os, "geteuid", lambda: 0)
    assert main(["lab", "--no-browser"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "does not run as root" in line and "--allow-root" in line


@pytest.mark.parametrize("port", ["0", "99999", "http"])
def test_a_port_out_of_range_is_usage(port, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["lab", "--port", port])
    assert exit_.value.code == 2 and "TCP port from 1 to 65535" in capsys.readouterr().err
