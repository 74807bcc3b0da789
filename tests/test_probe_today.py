"""Issue 21's probes: the docker group, where `docker` lives, the driver's libraries on disk (no image pulls)."""

import os
import subprocess

import pytest

from gpudock import probe
from gpudock.diagnose import diagnose
from tests.helpers import ensure_user

NEW = ("getent_group_docker", "which_docker", "ls_driver_libs")


def test_the_new_probes_are_quick_bounded_and_pull_nothing():
    table = {p.name: p for p in probe.probes(gpu_image="img")}
    for name in NEW:
        assert table[name].image is None and not table[name].deep and 0 < table[name].timeout <= 15
    assert "/dev/char/195:255" in probe.PATHS and "/etc/nvidia-container-runtime/config.toml" in probe.FILES


def test_ls_driver_libs_lists_the_libraries_and_says_when_there_are_none(tmp_path):
    (tmp_path / "libnvidia-ml.so.550.107.02").write_text("")
    (tmp_path / "libnvidia-ml.so.1").symlink_to("libnvidia-ml.so.550.107.02")
    found = probe.run_command(["sh", "-c", probe.ls_driver_libs_script((str(tmp_path), "/nonexistent"))])
    assert found["rc"] == 0 and "libnvidia-ml.so.1 -> libnvidia-ml.so.550.107.02" in found["stdout"]
    empty = probe.run_command(["sh", "-c", probe.ls_driver_libs_script(("/nonexistent",))])
    assert empty["rc"] == 2 and "no libnvidia-ml.so*" in empty["stderr"]


def test_ls_driver_libs_keeps_at_most_forty_names(tmp_path):
    for n in range(60):
        (tmp_path / f"libcuda.so.1.{n}").write_text("")
    found = probe.run_command(["sh", "-c", probe.ls_driver_libs_script((str(tmp_path),))])
    assert found["stdout"].count("libcuda.so") == 40


def test_which_docker_resolves_links_and_says_not_found(tmp_path):
    real = tmp_path / "real-docker"
    real.write_text("#!/bin/sh\n")
    real.chmod(0o755)
    (tmp_path / "docker").symlink_to(real)
    found = probe.run_command(["sh", "-c", probe.WHICH_DOCKER], env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert found["stdout"].split() == [str(tmp_path / "docker"), str(real)]
    missing = probe.run_command(["/bin/sh", "-c", probe.WHICH_DOCKER], env={"PATH": str(tmp_path / "none")})
    assert missing["rc"] == 127 and "not found" in missing["stderr"]


@pytest.mark.requires_root
def test_live_added_to_the_group_but_not_in_this_session_is_pending(tmp_path):
    """A probe run as a user whose session lacks the group (extra_groups=[]) while /etc/group lists them."""
    name = "gpudock-test21"
    ensure_user(name)
    subprocess.run(["groupadd", "-f", "docker"], check=True)
    subprocess.run(["usermod", "-aG", "docker", name], check=True)
    try:
        os.chmod(tmp_path, 0o777)
        snap = probe.collect(names=["id", "getent_group_docker"], user=name, env={"HOME": str(tmp_path)})
        pending = [f for f in diagnose(snap) if f.code == "docker-group-pending"]
        assert pending and name in pending[0].evidence, snap.data["commands"]
    finally:
        subprocess.run(["gpasswd", "-d", name, "docker"], check=False, capture_output=True)
