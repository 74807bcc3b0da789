"""Plan: Docker Engine, from the distribution (docker.io) or Docker's apt repository (docker-ce).

Official steps: https://docs.docker.com/engine/install/ubuntu/ and /debian/ (apt repository with
a signed-by keyring), https://docs.docker.com/engine/install/linux-postinstall/ (docker group).
Without systemd (WSL's default, containers) the daemon is started by its SysV script, and where
that fails (e.g. its `ulimit -n 1048576` refused) by running dockerd directly.
"""

from __future__ import annotations

import re
import shlex

from ..hostinfo import HostInfo
from ..snapshot import Snapshot
from . import distro
from .plan import Check, Plan, PlanRefused, Step, dpkg_installed, file_exists

DOCS_UBUNTU = "https://docs.docker.com/engine/install/ubuntu/"
DOCS_DEBIAN = "https://docs.docker.com/engine/install/debian/"
DOCS_POSTINSTALL = "https://docs.docker.com/engine/install/linux-postinstall/"
SOURCES = ("distro", "docker-ce")
CE_PACKAGES = ("docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin", "docker-compose-plugin")
CONFLICTING = ("docker.io", "docker-doc", "docker-compose", "docker-compose-v2", "podman-docker", "containerd", "runc")
DOCKER_ANSWERS = Check(("docker", "info"), root=True)


def daemon_steps(host: HostInfo, action: str = "start") -> list[Step]:
    """Start (or restart) dockerd the way this host can: systemd, else the init script, else dockerd itself."""
    if host.systemd:
        verb = ("enable", "--now") if action == "start" else ("restart",)
        return [
            Step(
                f"{action} the Docker daemon (systemd)",
                ("systemctl", *verb, "docker"),
                check=DOCKER_ANSWERS if action == "start" else None,
                verify=DOCKER_ANSWERS,
                verify_wait_s=30,
                docs=DOCS_POSTINSTALL,
            )
        ]
    steps = []
    if action == "restart":
        steps.append(
            Step(
                "stop the running dockerd (no systemd)",
                ("pkill", "-TERM", "-x", "dockerd"),
                check=Check(("sh", "-c", "! pgrep -x dockerd")),
                verify=Check(("sh", "-c", "! pgrep -x dockerd")),
                verify_wait_s=20,
                fallback=Step("no dockerd was running", ("true",)),
            )
        )
    direct = Step(
        "start dockerd directly (the init script failed)",
        ("dockerd",),
        background=True,
        verify=DOCKER_ANSWERS,
        verify_wait_s=30,
    )
    steps.append(
        Step(
            "start the Docker daemon without systemd (SysV init script)",
            ("service", "docker", "start"),
            check=DOCKER_ANSWERS,
            verify=DOCKER_ANSWERS,
            verify_wait_s=15,
            fallback=direct,
            docs="https://docs.docker.com/engine/daemon/start/",
        )
    )
    return steps


def _group_step(host: HostInfo) -> list[Step]:
    user = host.user if host.user and not host.is_root else None
    if not user:
        return []
    return [
        Step(
            f"let {shlex.quote(user)} use Docker without sudo (docker group; log in again afterwards)",
            ("usermod", "-aG", "docker", user),
            check=Check(("id", "-nG", user), r"(^|\s)docker(\s|$)"),
            docs=DOCS_POSTINSTALL,
        )
    ]


def _refuse_over_docker_desktop(snap: Snapshot, host: HostInfo) -> None:
    if host.docker_desktop or (host.kind == "wsl2" and snap.path("/mnt/wsl/docker-desktop/cli-tools")):
        raise PlanRefused(
            "Docker Desktop's WSL integration serves this distro: do not install Docker Engine over it. "
            "Use Docker Desktop (Settings → Resources → WSL integration), or turn its integration off "
            f"for this distro first; see {DOCS_UBUNTU}"
        )


def answering_engine(snap: Snapshot, host: HostInfo) -> str | None:
    """'engine 28.2.2, Docker Desktop' when `docker info` answered with a server in this snapshot, else None."""
    info = snap.command("docker_info")
    if not info or info.rc not in (0, None):
        return None
    version = re.search(r"^\s*Server Version:\s*(\S+)|\"ServerVersion\"\s*:\s*\"([^\"]+)\"", info.text, re.M)
    if not version:
        return None
    return f"engine {version.group(1) or version.group(2)}" + (
        f", {host.docker_engine_os}" if host.docker_engine_os else ""
    )


def plan_docker(snap: Snapshot, host: HostInfo, source: str = "distro") -> Plan:
    if source not in SOURCES:
        raise PlanRefused(f"unknown Docker source {source!r}: choose one of {', '.join(SOURCES)}")
    engine = answering_engine(snap, host)
    if engine:  # docker-ce, docker.io or Docker Desktop's integration: use it, never install a second engine
        return Plan(
            "docker",
            distro.describe(host),
            [],
            verify=[Check(("docker", "info"))],
            notes=[
                f"Docker already answers `docker info` here ({engine}): reusing it, nothing to install. "
                "To switch engines, remove this one first."
            ],
        )
    distro.require_debian_family(host, "Docker", DOCS_UBUNTU)
    _refuse_over_docker_desktop(snap, host)
    family = "ubuntu" if host.distro_id == "ubuntu" or "ubuntu" in host.id_like.split() else "debian"
    docs = DOCS_UBUNTU if family == "ubuntu" else DOCS_DEBIAN
    if source == "distro":
        installed = dpkg_installed("docker.io")
        steps = [
            Step("refresh the package lists", ("apt-get", "update"), check=installed),
            Step(
                "install Docker Engine from the distribution (docker.io)",
                ("apt-get", "install", "-y", "docker.io"),
                check=installed,
                verify=installed,
                docs=docs,
            ),
        ]
        notes = ["docker.io conflicts with Docker's docker-ce packages: use one source only."]
    else:
        installed = dpkg_installed("docker-ce")
        keyring = "/etc/apt/keyrings/docker.asc"
        codename = host.codename
        if not codename:
            raise PlanRefused("cannot plan docker-ce: os-release has no VERSION_CODENAME")
        steps = [
            Step(
                f"remove {pkg}, which conflicts with docker-ce",
                ("apt-get", "remove", "-y", pkg),
                check=Check(
                    ("sh", "-c", f"! dpkg-query -W -f='${{Status}}' {pkg} 2>/dev/null | grep -q 'install ok installed'")
                ),
                docs=docs,
            )
            for pkg in CONFLICTING
            if snap.command("dpkg_docker") is None or pkg in (snap.command("dpkg_docker").stdout or "")
        ]
        steps += [
            Step("refresh the package lists", ("apt-get", "update"), check=installed),
            Step(
                "install ca-certificates and curl",
                ("apt-get", "install", "-y", "ca-certificates", "curl"),
                check=dpkg_installed("curl"),
            ),
            Step(
                "create /etc/apt/keyrings",
                ("install", "-m", "0755", "-d", "/etc/apt/keyrings"),
                check=Check(("test", "-d", "/etc/apt/keyrings")),
            ),
            Step(
                "download Docker's signing key (https)",
                ("curl", "-fsSL", f"https://download.docker.com/linux/{family}/gpg", "-o", keyring),
                check=file_exists(keyring),
                verify=file_exists(keyring),
                docs=docs,
            ),
            Step(
                "make the key readable by apt",
                ("chmod", "a+r", keyring),
                check=Check(("sh", "-c", f'test -r {keyring} && [ "$(stat -c %a {keyring})" = 644 ]')),
            ),
            Step(
                "add Docker's repository, signed-by its key",
                ("tee", "/etc/apt/sources.list.d/docker.sources"),
                stdin=(
                    f"Types: deb\nURIs: https://download.docker.com/linux/{family}\nSuites: {codename}\n"
                    f"Components: stable\nArchitectures: {distro.deb_arch(host)}\nSigned-By: {keyring}\n"
                ),
                check=Check(("grep", "-qs", f"Signed-By: {keyring}", "/etc/apt/sources.list.d/docker.sources")),
                docs=docs,
            ),
            Step("refresh the package lists", ("apt-get", "update"), check=installed),
            Step(
                "install docker-ce and its plugins",
                ("apt-get", "install", "-y", *CE_PACKAGES),
                check=installed,
                verify=installed,
                docs=docs,
            ),
        ]
        notes = ["docker-ce replaces the distribution's docker.io (removed first, as Docker's docs say)."]
    steps += _group_step(host) + daemon_steps(host, "start")
    if host.kind == "wsl2" and not host.systemd:
        notes.append(
            "WSL without systemd: the daemon does not start at boot; run `sudo service docker start` "
            "(or enable systemd in /etc/wsl.conf) after each `wsl --shutdown`."
        )
    return Plan("docker", distro.describe(host), steps, verify=[DOCKER_ANSWERS], notes=notes)
