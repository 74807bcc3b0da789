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
# NVIDIA's CUDA network repositories (https://developer.download.nvidia.com/compute/cuda/repos/):
# directory name per (distro, version), and the architectures NVIDIA ships there. The driver installation
# guide's system requirements list ubuntu2204, ubuntu2404, debian12 and debian13; ubuntu2604 is published
# for CUDA 13.x (its cuda-keyring is what NVIDIA's download page installs); ubuntu2004 and debian11 are
# still served but past their distributions' end of life.
CUDA_REPOS = {
    ("ubuntu", "20.04"): ("ubuntu2004", {"x86_64": "x86_64", "aarch64": "sbsa"}),
    ("ubuntu", "22.04"): ("ubuntu2204", {"x86_64": "x86_64", "aarch64": "sbsa"}),
    ("ubuntu", "24.04"): ("ubuntu2404", {"x86_64": "x86_64", "aarch64": "sbsa"}),
    ("ubuntu", "26.04"): ("ubuntu2604", {"x86_64": "x86_64", "aarch64": "sbsa"}),
    ("debian", "11"): ("debian11", {"x86_64": "x86_64"}),
    ("debian", "12"): ("debian12", {"x86_64": "x86_64"}),
    ("debian", "13"): ("debian13", {"x86_64": "x86_64"}),
}
# Repositories signed with a key other than 3bf863cc (NVIDIA signs new repositories with new keys, e.g.
# debian13's 8793F200). Their fingerprint is not published where gpudock could check it, so the plan
# trusts cuda-keyring's https download for them and says so.
NEW_KEY_REPOS = ("debian13", "ubuntu2604")
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
    "dockerd_cdi": "https://docs.docker.com/reference/cli/dockerd/#configure-cdi-devices",
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
    # issue 21: sources of the newer codes' fixes (each checked against the page or thread it names)
    "toolkit_release_notes": "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/release-notes.html",
    "toolkit_rootless": "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html#rootless-mode",
    "toolkit_wsl_555": "https://github.com/NVIDIA/nvidia-container-toolkit/issues/520",
    "nvml_unknown_notice": "https://github.com/NVIDIA/nvidia-container-toolkit/issues/48",
    "docker_rootless": "https://docs.docker.com/engine/security/rootless/",
    "docker_desktop_release_notes": "https://docs.docker.com/desktop/release-notes/",
    "docker_snap": "https://github.com/canonical/docker-snap#nvidia-support",
    "cuda_repo_sha1": "https://github.com/NVIDIA/cuda-repo-management/issues/39",
    "debian_sha1_removal": "https://wiki.debian.org/Teams/Apt/Sha1Removal",
    "ubuntu_auto_updates": "https://documentation.ubuntu.com/server/how-to/software/automatic-updates/",
    "driver_xid": "https://docs.nvidia.com/deploy/xid-errors/index.html",
    "driver_kernel_modules": "https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/kernel-modules.html",
}

# A fix step that starts with this is an alternative to the step before it (do one of them), not the next
# step: the views show it under that step as "or …", unnumbered.
ALTERNATIVE = "or, "

# A dockerd that gpudock starts itself (no systemd, init script failed) records its pid here, so a
# later restart stops that daemon and no other.
GPUDOCK_DOCKERD_PIDFILE = "/run/gpudock-dockerd.pid"
GPUDOCK_DOCKERD_LOG = "/var/log/gpudock-dockerd.log"
DIRECT_DOCKERD = ("dockerd", "--pidfile", GPUDOCK_DOCKERD_PIDFILE)


def docker_install_page(host: HostInfo) -> str:
    """Docker's install page for this distribution (Debian's and Ubuntu's differ: repository, codenames)."""
    if host.distro_id in ("debian", "ubuntu"):
        return DOCS[f"docker_install_{host.distro_id}"]
    return "https://docs.docker.com/engine/install/"


def on_wsl(url: str):
    """A docs entry shown on WSL only (Docker Desktop's pages mean nothing on a Linux server)."""
    return lambda host: url if host.is_wsl else None


def daemon_log_step(host: HostInfo) -> str:
    """Where this host's dockerd logs: systemd's journal, the init script's file, or gpudock's own dockerd's."""
    manager = service_manager(host)
    if manager == "systemd":
        return "read the daemon's log: `journalctl -u docker`"
    places = [f"{GPUDOCK_DOCKERD_LOG} (a dockerd gpudock started)", "/var/log/docker.log (the init script's)"]
    if manager == "unknown":
        places.insert(0, "`journalctl -u docker` (systemd)")
    return "read the daemon's log: " + ", ".join(places)


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
                f"{ALTERNATIVE}for a dockerd that gpudock started itself, stop it through its pidfile "
                f"(then start it again): sudo {shlex.join(stop_own_dockerd())}"
            )
        steps.append(
            f"{ALTERNATIVE}where the init script fails (no script, `ulimit` refused): sudo sh -c "
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
