"""SSH test hosts shared by the fleet tests of one module (started once: each costs a container)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.fleet.sshhosts import NVIDIA_SMI, USER, Fleet


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Three hosts: an H200 (stand-in nvidia-smi; this machine's Docker CLI and engine), one without a
    Docker CLI, and a port with nothing listening."""
    fleet = Fleet(tmp_path_factory.mktemp("lab"))
    try:
        gid = os.stat("/var/run/docker.sock").st_gid
        docker_group = f"groupadd -g {gid} hostdocker 2>/dev/null || true; usermod -aG {gid} {USER}\n"
        fleet.start(
            "h200",
            extra=NVIDIA_SMI + docker_group,
            mounts=[(shutil.which("docker"), "/usr/bin/docker:ro"), ("/var/run/docker.sock", "/var/run/docker.sock")],
        )
        fleet.start("nodocker")
        fleet.down("down")
        yield fleet
    finally:
        fleet.stop()
