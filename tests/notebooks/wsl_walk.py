"""The WSL 2 reader's two paths as replay snapshots: `python -m tests.notebooks.wsl_walk` rewrites them.

Both start from the composed healthy WSL 2 host (tests/data/snapshots/wsl2-healthy.json: Windows 11,
Ubuntu 24.04 with systemd, an RTX 4070 Laptop GPU through the Windows driver) and change what the path
changes; every output keeps the format of a real one (sources in each file's ``source``):

- ``wsl2-docker-desktop``: Docker Desktop with WSL integration on; nothing Docker or NVIDIA installed in
  the distro (the docker CLI is Docker Desktop's, `docker info` says "Operating System: Docker Desktop").
- ``wsl2-ubuntu2404-fresh``: the same distro before 04 and 05: no docker command, no Container Toolkit;
  only the Windows driver's /usr/lib/wsl/lib.
- ``wsl2-ubuntu2404-group-pending``: right after 04: docker-ce installed and the user added to the docker
  group, but the session has not logged in again (permission denied; `getent group docker` lists the user).

tests/notebooks/test_wsl_walk.py replays notebooks 00-06 against each.
"""

from __future__ import annotations

import copy
import json

from tests.helpers import SNAPSHOTS

BASE = SNAPSHOTS / "wsl2-healthy.json"
WINDOWS_11 = {"rc": 0, "stdout": "\nMicrosoft Windows [Version 10.0.26100.4652]\n", "stderr": ""}
NOT_FOUND = "Command '{0}' not found, but can be installed with:\n"
DPKG_NONE = "dpkg-query: no packages found matching {0}\n"

DESKTOP_VERSION = (
    "Client:\n Version:           28.3.2\n API version:       1.51\n Context:           default\n\n"
    "Server: Docker Desktop 4.43.2 (199162)\n Engine:\n  Version:          28.3.2\n"
    "  API version:      1.51 (minimum version 1.24)\n  OS/Arch:          linux/amd64\n"
)
DESKTOP_INFO = (
    "Client:\n Version:    28.3.2\n Context:    default\n\nServer:\n Containers: 0\n Server Version: 28.3.2\n"
    " Storage Driver: overlayfs\n Cgroup Driver: cgroupfs\n Cgroup Version: 2\n"
    " Runtimes: io.containerd.runc.v2 nvidia runc\n Default Runtime: runc\n"
    " Kernel Version: 6.6.87.2-microsoft-standard-WSL2\n Operating System: Docker Desktop\n OSType: linux\n"
    " Architecture: x86_64\n Name: docker-desktop\n"
)


def _base() -> dict:
    return json.loads(BASE.read_text(encoding="utf-8"))["snapshot"]


def _distro_without_docker_or_toolkit(groups: str) -> dict:
    """Windows 11's Ubuntu 24.04 with no Docker Engine and no Container Toolkit installed in it."""
    snap = copy.deepcopy(_base())
    cmds = snap["commands"]
    cmds["windows_version"] = WINDOWS_11
    cmds["nvidia_ctk_version"] = {"rc": 127, "stdout": "", "stderr": "nvidia-ctk: command not found\n"}
    cmds["dpkg_nvidia"] = {"rc": 1, "stdout": "", "stderr": DPKG_NONE.format("*nvidia*")}
    cmds["dpkg_docker"] = {"rc": 1, "stdout": "", "stderr": DPKG_NONE.format("docker*")}
    cmds["systemctl_docker"] = {"rc": 4, "stdout": "inactive\n", "stderr": ""}
    cmds["id"] = {"rc": 0, "stdout": f"uid=1000(taro) gid=1000(taro) groups={groups}\n"}
    snap["files"].pop("/etc/docker/daemon.json")
    snap["paths"].update(
        {"/usr/bin/dockerd": False, "/usr/bin/nvidia-container-runtime-hook": False, "/usr/bin/nvidia-ctk": False}
    )
    return snap


def docker_desktop() -> dict:
    snap = _distro_without_docker_or_toolkit("1000(taro),4(adm),27(sudo),1001(docker)")
    cmds = snap["commands"]
    cmds["docker_version"] = {"rc": 0, "stdout": DESKTOP_VERSION, "stderr": ""}
    cmds["docker_info"] = {"rc": 0, "stdout": DESKTOP_INFO, "stderr": ""}
    snap["paths"]["/mnt/wsl/docker-desktop/cli-tools"] = True
    return snap


def ubuntu_fresh() -> dict:
    snap = _distro_without_docker_or_toolkit("1000(taro),4(adm),27(sudo)")
    for name in ("docker_version", "docker_info", "docker_hello", "docker_gpu"):
        snap["commands"][name] = {"rc": 127, "stdout": "", "stderr": NOT_FOUND.format("docker")}
    snap["paths"]["/var/run/docker.sock"] = False
    return snap


PERMISSION = (
    "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: "
    'Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.51/version": dial unix /var/run/docker.sock: connect: '
    "permission denied\n"
)


def group_pending() -> dict:
    """After 04 (docker-ce installed, `usermod -aG docker`), before a new login: the docker group trap."""
    snap = ubuntu_fresh()
    cmds = snap["commands"]
    base = _base()["commands"]
    for name in ("docker_info", "docker_hello", "docker_gpu"):
        cmds[name] = {"rc": 1, "stdout": "", "stderr": PERMISSION}
    cmds["docker_version"] = {"rc": 1, "stdout": base["docker_version"]["stdout"].split("\nServer:")[0] + "\n"}
    cmds["docker_version"]["stderr"] = PERMISSION
    cmds["dpkg_docker"] = base["dpkg_docker"]
    cmds["systemctl_docker"] = {"rc": 0, "stdout": "active\n", "stderr": ""}
    cmds["getent_group_docker"] = {"rc": 0, "stdout": "docker:x:988:taro\n", "stderr": ""}
    snap["paths"].update({"/var/run/docker.sock": True, "/usr/bin/dockerd": True})
    return snap


WALKS = {
    "wsl2-docker-desktop": (
        docker_desktop,
        "WSL 2 with Docker Desktop: Windows 11, Ubuntu 24.04, Docker Desktop's WSL integration on; "
        "nothing Docker or NVIDIA installed in the distro.",
    ),
    "wsl2-ubuntu2404-fresh": (
        ubuntu_fresh,
        "WSL 2 before 04 and 05: Windows 11 and its NVIDIA driver, Ubuntu 24.04 with systemd; "
        "no Docker and no Container Toolkit in the distro yet.",
    ),
    "wsl2-ubuntu2404-group-pending": (
        group_pending,
        "WSL 2 right after 04: docker-ce installed and taro added to the docker group, but this login "
        "session does not have the group yet (no new login, `wsl --terminate` not run).",
    ),
}
SOURCE = (
    "composed by tests/notebooks/wsl_walk.py from wsl2-healthy.json; Docker Desktop's `docker version`/`docker "
    "info` in the layout of https://docs.docker.com/desktop/features/wsl/ and tests/data/cases/"
    "wsl2-desktop-and-docker-ce.json; `cmd.exe /c ver` of Windows 11 24H2 (build 26100)"
)


def write() -> list[str]:
    written = []
    for name, (make, caption) in WALKS.items():
        doc = {"description": caption, "caption": caption, "source": SOURCE, "snapshot": make()}
        path = SNAPSHOTS / f"{name}.json"
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path.name)
    return written


if __name__ == "__main__":
    print("wrote " + ", ".join(write()))
