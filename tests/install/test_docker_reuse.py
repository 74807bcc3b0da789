"""`gpudock install docker` reuses an engine that answers `docker info`; it installs one only where none does."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from hosts import host_snapshot  # noqa: E402

from gpudock.facts.host import host_info  # noqa: E402
from gpudock.install import make_plan  # noqa: E402

ANSWERS = {
    "docker-ce": "Client: Docker Engine - Community\n Version: 28.2.2\nServer:\n Server Version: 28.2.2\n"
    " Operating System: Ubuntu 24.04.3 LTS\n",
    "docker.io": "Server:\n Containers: 0\n Server Version: 20.10.24+dfsg1\n"
    " Operating System: Debian GNU/Linux 12 (bookworm)\n",
    "docker-desktop": "Server:\n Server Version: 28.3.0\n Operating System: Docker Desktop\n",
}


@pytest.mark.parametrize("engine", sorted(ANSWERS))
@pytest.mark.parametrize("source", ["distro", "docker-ce"])
def test_an_engine_that_answers_is_reused_whatever_it_is(engine, source):
    kind = "wsl2" if engine == "docker-desktop" else "native"
    snap = host_snapshot(
        "ubuntu-24.04", kind, commands={"docker_info": {"rc": 0, "stdout": ANSWERS[engine], "stderr": ""}}
    )
    plan = make_plan("docker", snap, host_info(snap), source=source)
    assert plan.steps == []
    version = ANSWERS[engine].split("Server Version: ")[1].split()[0]
    assert len(plan.notes) == 1 and "reusing it, nothing to install" in plan.notes[0] and version in plan.notes[0]
    assert [c.argv for c in plan.verify] == [("docker", "info")]


@pytest.mark.parametrize(
    "docker_info",
    [
        None,  # not probed
        {"rc": 127, "stdout": "", "stderr": "docker: command not found"},
        {
            "rc": 1,
            "stdout": "Client:\n Version: 20.10.24\n",
            "stderr": "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
            "Is the docker daemon running?",
        },
        {
            "rc": 1,
            "stdout": "",
            "stderr": "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock",
        },
    ],
)
def test_without_an_answering_engine_docker_is_installed(docker_info):
    commands = {"docker_info": docker_info} if docker_info else {}
    snap = host_snapshot("debian-12", "native", commands=commands)
    plan = make_plan("docker", snap, host_info(snap))
    assert any("apt-get" in step.argv and "install" in step.argv for step in plan.steps)
    assert not any("reusing it" in note for note in plan.notes)
