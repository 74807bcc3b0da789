"""Snapshots of a driver-only GPU host with Docker 26 (no toolkit), before and after `gpudock install cdi`,
as the prober writes them (the output texts are Docker 26's and nvidia-smi 580's own words)."""

from __future__ import annotations

import copy

from gpudock.snapshot import Snapshot
from tests.cdi_fixtures import proc_version

VERSION = "580.159.04"
SMI = (
    "+-----------------------------------------------------------------------------------------+\n"
    f"| NVIDIA-SMI {VERSION}             Driver Version: {VERSION}     CUDA Version: 13.0     |\n"
    "|-----------------------------------------+------------------------+----------------------+\n"
    "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |\n"
    "|=========================================+========================+======================|\n"
    "|   0  NVIDIA H100 80GB HBM3          On  |   00000000:00:07.0 Off |                    0 |\n"
    "+-----------------------------------------+------------------------+----------------------+\n"
)
LIB = "/usr/local/nvidia/lib64"
SPEC = f"""cdiVersion: 0.5.0
kind: nvidia.com/gpu
devices:
- name: '0'
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
- name: all
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
containerEdits:
  env:
  - NVIDIA_VISIBLE_DEVICES=void
  deviceNodes:
  - path: /dev/nvidiactl
  - path: /dev/nvidia-uvm
  mounts:
  - hostPath: {LIB}/libcuda.so.{VERSION}
    containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.1
    options: [ro, nosuid, nodev, bind]
  - hostPath: {LIB}/libnvidia-ml.so.{VERSION}
    containerPath: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1
    options: [ro, nosuid, nodev, bind]
  - hostPath: /usr/bin/nvidia-smi
    containerPath: /usr/bin/nvidia-smi
    options: [ro, nosuid, nodev, bind]
"""
OS = (
    'PRETTY_NAME="Ubuntu 24.04.3 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\n'
    "ID=ubuntu\nID_LIKE=debian\n"
)
DAEMON_JSON = '{\n  "data-root": "/var/lib/gpudock-docker",\n  "storage-driver": "overlay2"\n}\n'
NOT_FOUND = {"rc": 127, "stdout": "", "stderr": "command not found"}
GPUS_REFUSED = 'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].\n'
CDI_OFF = 'docker: Error response from daemon: could not select device driver "cdi" with capabilities: [].\n'
HELLO = "gpudock/hello:latest"
STAT = (
    "/dev/nvidiactl|character special file|c3|ff\n/dev/nvidia-uvm|character special file|1fc|0\n"
    "/dev/nvidia0|character special file|c3|0\n"
)


def before(**changes) -> dict:
    """A driver-only host: Docker 26 without features.cdi, no toolkit, no spec."""
    doc = {
        "platform": {"system": "Linux", "release": "6.18.44-fc-v310-gpu", "machine": "x86_64"},
        "env": {"USER": "root"},
        "files": {
            "/etc/os-release": OS,
            "/proc/driver/nvidia/version": proc_version(VERSION),
            "/etc/docker/daemon.json": DAEMON_JSON,
        },
        "paths": {"/etc/cdi": False, "/var/run/cdi": False, "/dev/nvidia0": True, "/dev/nvidiactl": True},
        "commands": {
            "id": {"rc": 0, "stdout": "uid=0(root) gid=0(root) groups=0(root)\n", "stderr": ""},
            "systemctl_docker": NOT_FOUND,
            "nvidia_smi": {"rc": 0, "stdout": SMI, "stderr": ""},
            "nvidia_smi_query": {"rc": 0, "stdout": f"NVIDIA H100 80GB HBM3, {VERSION}, 81559 MiB\n", "stderr": ""},
            "docker_version": {
                "rc": 0,
                "stdout": "Server:\n Engine:\n  Version:          26.1.5+dfsg1\n",
                "stderr": "",
            },
            "docker_info": {
                "rc": 0,
                "stdout": " Server Version: 26.1.5+dfsg1\n Runtimes: io.containerd.runc.v2 runc\n"
                " Operating System: Ubuntu 24.04.3 LTS\n",
                "stderr": "",
            },
            "docker_hello": {
                "rc": 0,
                "stdout": "Hello from Docker!\n",
                "stderr": "",
                "argv": ["docker", "run", "--rm", HELLO],
            },
            "docker_gpu": {
                "rc": 125,
                "stdout": "",
                "stderr": GPUS_REFUSED,
                "argv": ["docker", "run", "--rm", "--gpus", "all", HELLO, "nvidia-smi"],
            },
            "docker_cdi_gpu": {
                "rc": 125,
                "stdout": "",
                "stderr": CDI_OFF,
                "argv": [
                    "docker",
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    "--device",
                    "nvidia.com/gpu=all",
                    HELLO,
                    "/bin/busybox",
                    "ls",
                    "/dev",
                ],
            },
            "stat_cdi_nodes": {
                "rc": 1,
                "stdout": STAT,
                "stderr": "stat: cannot statx '/dev/dxg': No such file or directory\n",
            },
            "nvidia_ctk_version": NOT_FOUND,
            "nvidia_container_cli_version": NOT_FOUND,
            "nvidia_container_cli_info": NOT_FOUND,
        },
    }
    for key, value in changes.items():
        doc[key] = value
    return doc


def after(spec: str = SPEC, listing: str = "console\nnull\nnvidia-uvm\nnvidia0\nnvidiactl\nshm\n") -> dict:
    """The host after `gpudock install cdi --apply`: the spec, features.cdi, a CDI container that saw the GPU."""
    doc = copy.deepcopy(before())
    doc["files"]["/etc/cdi/nvidia.yaml"] = spec
    doc["files"]["/etc/docker/daemon.json"] = DAEMON_JSON.replace("{\n", '{\n  "features": {"cdi": true},\n', 1)
    doc["paths"].update(
        {"/etc/cdi": True, f"{LIB}/libcuda.so.{VERSION}": True, f"{LIB}/libnvidia-ml.so.{VERSION}": True}
    )
    doc["paths"]["/usr/bin/nvidia-smi"] = True
    doc["commands"]["docker_cdi_gpu"] = {**doc["commands"]["docker_cdi_gpu"], "rc": 0, "stdout": listing, "stderr": ""}
    return doc


def snap(doc: dict) -> Snapshot:
    return Snapshot(doc)
