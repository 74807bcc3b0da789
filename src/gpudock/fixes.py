"""Fix steps fitted to the host: how to start or restart Docker here, documentation links.

Kept apart from the rules so the notebooks and install plans give the same advice.
"""

from __future__ import annotations

from .hostinfo import HostInfo

DOCS = {
    "wsl_cuda": "https://docs.nvidia.com/cuda/wsl-user-guide/index.html",
    "wsl_config": "https://learn.microsoft.com/windows/wsl/wsl-config",
    "wsl_install": "https://learn.microsoft.com/windows/wsl/install",
    "docker_install_ubuntu": "https://docs.docker.com/engine/install/ubuntu/",
    "docker_postinstall": "https://docs.docker.com/engine/install/linux-postinstall/",
    "docker_daemon": "https://docs.docker.com/engine/daemon/start/",
    "docker_proxy": "https://docs.docker.com/engine/daemon/proxy/",
    "docker_desktop_wsl": "https://docs.docker.com/desktop/features/wsl/",
    "toolkit_install": "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html",
    "toolkit_troubleshooting": "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/troubleshooting.html",
    "driver_install": "https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html",
    "cuda_compat": "https://docs.nvidia.com/deploy/cuda-compatibility/index.html",
    "cuda_key_rotation": "https://developer.nvidia.com/blog/updating-the-cuda-linux-gpg-repository-key/",
    "nvidia_docker_archived": "https://github.com/NVIDIA/nvidia-docker",
}


def docker_service(host: HostInfo, action: str = "start") -> list[str]:
    """Commands that start/restart dockerd on this host, best first.

    systemd hosts use systemctl; without systemd (WSL's default, containers) the
    SysV script, and where that fails (e.g. its ``ulimit -n`` refused) dockerd itself.
    """
    direct = (
        "sudo sh -c 'dockerd > /var/log/dockerd.log 2>&1 &'   # "
        "when `service` fails too (no init script, ulimit refused)"
    )
    if host.docker_desktop:
        return [
            "Start Docker Desktop on Windows (or restart it from its "
            "tray icon) and wait until it says the engine is running"
        ]
    if host.systemd:
        verb = "enable --now" if action == "start" else "restart"
        return [f"sudo systemctl {verb} docker"]
    steps = [f"sudo service docker {action}", direct]
    if action == "restart":
        steps.insert(
            1, "where dockerd was started by hand: sudo pkill -x dockerd, wait until `pgrep -x dockerd` is empty, then:"
        )
    if host.systemd is None:
        steps.insert(
            0, f"sudo systemctl {'enable --now' if action == 'start' else 'restart'} docker   # on a systemd host"
        )
    if host.kind == "wsl2" and host.systemd is False:
        steps.append(
            "optional, to get systemd: add `[boot]` / `systemd=true` "
            "to /etc/wsl.conf, then run `wsl --shutdown` in Windows"
        )
    return steps


def windows(command: str) -> str:
    """A step the user types in Windows PowerShell, not in Linux."""
    return f"(Windows PowerShell) {command}"
