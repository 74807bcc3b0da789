"""One home for host advice: how to start or restart Docker on this host, and the documentation links.

The doctor's fix texts (``gpudock.diagnose``) and the install planners (``gpudock.install``) both
read these, so a finding and a plan never disagree on how to restart dockerd or which page to read.

Restart policy (checked against Docker's "Start the daemon" page and NVIDIA's install guide):
systemd hosts use ``systemctl``; hosts known to lack systemd (WSL without ``systemd=true``,
containers) use the SysV script ``service docker …``; where nothing says whether systemd runs, try
systemctl, then the script. A daemon is never stopped by process name (``pkill dockerd`` would also
stop other users' rootless daemons); only a dockerd that gpudock itself started is stopped, through
gpudock's own pidfile.
"""

from __future__ import annotations

import shlex

from .facts.host import WSL2, HostInfo

# Names the doctor's fixes and the planners share (one place, so the two never drift apart).
CUDA_KEYRING_DEB = "cuda-keyring_1.1-1_all.deb"
TOOLKIT_KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"
# the deck-era repository lists: nvidia-docker, nvidia-container-runtime, libnvidia-container(-experimental)
LEGACY_LIST_PATTERNS = ("nvidia-docker*.list", "nvidia-container-runtime*.list", "libnvidia-container*.list")

DOCS = {
    "wsl_cuda": "https://docs.nvidia.com/cuda/wsl-user-guide/index.html",
    "wsl_config": "https://learn.microsoft.com/windows/wsl/wsl-config",
    "wsl_systemd": "https://learn.microsoft.com/windows/wsl/systemd",
    "wsl_install": "https://learn.microsoft.com/windows/wsl/install",
    "docker_install_ubuntu": "https://docs.docker.com/engine/install/ubuntu/",
    "docker_install_debian": "https://docs.docker.com/engine/install/debian/",
    "docker_postinstall": "https://docs.docker.com/engine/install/linux-postinstall/",
    "docker_daemon": "https://docs.docker.com/engine/daemon/start/",
    "docker_proxy": "https://docs.docker.com/engine/daemon/proxy/",
    # the Engine's CDI settings (docs.docker.com/build/building/cdi/ is Buildx's page: CDI in builds)
    "docker_cdi": "https://docs.docker.com/reference/cli/dockerd/#configure-cdi-devices",
    "docker_desktop_wsl": "https://docs.docker.com/desktop/features/wsl/",
    "docker_desktop_gpu": "https://docs.docker.com/desktop/features/gpu/",
    "toolkit_install": "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html",
    "toolkit_troubleshooting": "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/troubleshooting.html",
    "toolkit_cdi": "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/cdi-support.html",
    "driver_install": "https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html",
    "driver_pinning": "https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/version-locking.html",
    "cuda_compat": "https://docs.nvidia.com/deploy/cuda-compatibility/index.html",
    "cuda_key_rotation": "https://developer.nvidia.com/blog/updating-the-cuda-linux-gpg-repository-key/",
    "nvidia_docker_archived": "https://github.com/NVIDIA/nvidia-docker",
    "nvidia_docker2_conffile": "https://github.com/NVIDIA/nvidia-docker/issues/1575",
}

# A dockerd that gpudock starts itself (no systemd, init script failed) records its pid here, so a
# later restart stops that daemon and no other.
GPUDOCK_DOCKERD_PIDFILE = "/run/gpudock-dockerd.pid"
GPUDOCK_DOCKERD_LOG = "/var/log/gpudock-dockerd.log"
DIRECT_DOCKERD = ("dockerd", "--pidfile", GPUDOCK_DOCKERD_PIDFILE)


def service_manager(host: HostInfo) -> str:
    """How dockerd is managed here: 'desktop', 'systemd', 'sysv' (known: no systemd) or 'unknown'."""
    if host.docker_desktop:
        return "desktop"
    if host.systemd:
        return "systemd"
    if host.systemd is False:
        return "sysv"
    return "unknown"


def daemon_commands(host: HostInfo, action: str = "start") -> list[tuple[str, ...]]:
    """The commands (argv, run as root) that start or restart dockerd here, each a fallback for the one before.

    ``action`` is 'start' or 'restart'. Docker Desktop's engine is started on Windows: no commands.
    """
    manager = service_manager(host)
    systemctl = ("systemctl", "enable", "--now", "docker") if action == "start" else ("systemctl", "restart", "docker")
    service = ("service", "docker", action)
    if manager == "desktop":
        return []
    if manager == "systemd":
        return [systemctl]
    if manager == "sysv":
        return [service]
    return [systemctl, service]


def stop_own_dockerd() -> tuple[str, ...]:
    """argv that stops a dockerd gpudock started, through its pidfile; nothing to stop is fine."""
    return (
        "start-stop-daemon", "--stop", "--oknodo", "--retry", "TERM/20/KILL/5",
        "--pidfile", GPUDOCK_DOCKERD_PIDFILE, "--exec", "/usr/bin/dockerd",
    )  # fmt: skip


def docker_service(host: HostInfo, action: str = "start") -> list[str]:
    """Fix steps (text) that start/restart dockerd on this host, best first; the same policy as the plans."""
    if service_manager(host) == "desktop":
        return [
            "Start Docker Desktop on Windows (or restart it from its "
            "tray icon) and wait until it says the engine is running"
        ]
    alternatives = daemon_commands(host, action)
    steps = [" || ".join("sudo " + shlex.join(argv) for argv in alternatives)]
    if service_manager(host) == "unknown":
        steps[0] += "   # systemd hosts, else the init script"
    if service_manager(host) != "systemd":
        if action == "restart":
            steps.append(
                f"a dockerd that gpudock started itself, stopped through its pidfile (then started again): "
                f"sudo {shlex.join(stop_own_dockerd())}"
            )
        steps.append(
            f"where the init script fails (no script, `ulimit` refused): sudo sh -c "
            f"'{shlex.join(DIRECT_DOCKERD)} > {GPUDOCK_DOCKERD_LOG} 2>&1 &'"
        )
    if host.kind == WSL2 and host.systemd is False:
        steps.append(
            "optional, to get systemd: add `[boot]` / `systemd=true` "
            "to /etc/wsl.conf, then run `wsl --shutdown` in Windows"
        )
    return steps


def windows(command: str) -> str:
    """A step the user types in Windows PowerShell, not in Linux."""
    return f"(Windows PowerShell) {command}"


def wsl_restart_steps() -> list[str]:
    return [windows("wsl --update"), windows("wsl --shutdown"), "open the distro again"]
