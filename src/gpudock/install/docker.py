"""Plan: Docker Engine, from the distribution (docker.io) or Docker's apt repository (docker-ce).

Official steps: https://docs.docker.com/engine/install/ubuntu/ and /debian/ (apt repository with
a signed-by keyring), https://docs.docker.com/engine/install/linux-postinstall/ (docker group).
Without systemd (WSL's default, containers) the daemon is started by its SysV script, and where
that fails (e.g. its `ulimit -n 1048576` refused) by running dockerd directly.
"""

from __future__ import annotations

import shlex

from ..exceptions import PlanRefused
from ..hostinfo import HostInfo
from ..snapshot import Snapshot
from . import distro
from .plan import (
    Check,
    Daemon,
    Plan,
    RootFile,
    Step,
    Work,
    apt_get,
    command_exists,
    dpkg_installed,
    key_fingerprint,
    stop_daemon,
    writes,
)

DOCS_UBUNTU = "https://docs.docker.com/engine/install/ubuntu/"
DOCS_DEBIAN = "https://docs.docker.com/engine/install/debian/"
DOCS_POSTINSTALL = "https://docs.docker.com/engine/install/linux-postinstall/"
SOURCES = ("distro", "docker-ce")
CE_PACKAGES = ("docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin", "docker-compose-plugin")
CONFLICTING = ("docker.io", "docker-doc", "docker-compose", "docker-compose-v2", "podman-docker", "containerd", "runc")
DOCKER_ANSWERS = Check(("docker", "info"), root=True, what="the Docker daemon answers")
# Docker's release key, "Docker Release (CE deb) <docker@docker.com>", as Docker's install docs published
# it ("Verify that you now have the key with the fingerprint 9DC8 5822 9FC7 DD38 854A E2D8 8D81 803C 0EBF
# CD88", docs.docker.com/engine/install/debian/ before 2023; https://github.com/docker/docs/pull/11990).
DOCKER_KEY_FINGERPRINT = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"
KEYRING = "/etc/apt/keyrings/docker.asc"
DOCKERD = "/usr/bin/dockerd"
# dockerd started by gpudock where no init system can: its own pidfile, so it is stopped through that
DOCKERD_DAEMON = Daemon(pidfile="/run/gpudock-dockerd.pid", log="/var/log/gpudock-dockerd.log")


def daemon_steps(host: HostInfo, action: str = "start") -> list[Step]:
    """Start (or restart) dockerd the way this host can: systemd, else the init script, else dockerd itself.

    A dockerd is stopped only through the init system or gpudock's own pidfile, never by its name.
    """
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
        steps += [
            Step(
                "stop the Docker daemon (SysV init script)",
                ("service", "docker", "stop"),
                fallback=Step("the init script had no daemon to stop", ("true",), root=False),
                docs="https://docs.docker.com/engine/daemon/start/",
            ),
            Step(
                "stop the dockerd that gpudock started, through its pidfile",
                stop_daemon(DOCKERD_DAEMON, DOCKERD),  # --oknodo: nothing to stop is fine
            ),
        ]
    direct = Step(
        "start dockerd directly (the init script failed); its pid goes to gpudock's pidfile",
        ("dockerd", "--pidfile", DOCKERD_DAEMON.pidfile),
        background=DOCKERD_DAEMON,
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
            ("usermod", "-aG", "docker", "--", user),
            check=Check(
                ("id", "-nG", "--", user), r"(^|\s)docker(\s|$)", what=f"{shlex.quote(user)} is in the docker group"
            ),
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


def plan_docker(snap: Snapshot, host: HostInfo, source: str = "distro") -> Plan:
    if source not in SOURCES:
        raise PlanRefused(f"unknown Docker source {source!r}: choose one of {', '.join(SOURCES)}")
    distro.require_debian_family(host, "Docker", DOCS_UBUNTU)
    _refuse_over_docker_desktop(snap, host)
    family = "ubuntu" if host.distro_id == "ubuntu" or "ubuntu" in host.id_like.split() else "debian"
    docs = DOCS_UBUNTU if family == "ubuntu" else DOCS_DEBIAN
    if source == "distro":
        installed = dpkg_installed("docker.io")
        steps = [
            Step("refresh the package lists", apt_get("update"), check=installed),
            Step(
                "install Docker Engine from the distribution (docker.io)",
                apt_get("install", "-y", "docker.io"),
                check=installed,
                verify=installed,
                docs=docs,
            ),
        ]
        notes = ["docker.io conflicts with Docker's docker-ce packages: use one source only."]
    else:
        installed = dpkg_installed("docker-ce")
        codename = host.codename
        if not codename:
            raise PlanRefused("cannot plan docker-ce: os-release has no valid VERSION_CODENAME")
        key_ok = key_fingerprint(KEYRING, DOCKER_KEY_FINGERPRINT, what=f"{KEYRING} holds Docker's release key")
        download = Work("docker.asc")
        sources = RootFile(
            "/etc/apt/sources.list.d/docker.sources",
            content=(
                f"Types: deb\nURIs: https://download.docker.com/linux/{family}\nSuites: {codename}\n"
                f"Components: stable\nArchitectures: {distro.deb_arch(host)}\nSigned-By: {KEYRING}\n"
            ),
        )
        steps = [
            Step(
                f"remove {pkg}, which conflicts with docker-ce",
                apt_get("remove", "-y", pkg),
                check=Check(
                    ("dpkg-query", "-W", "-f=${Status}", "--", pkg),
                    r"install ok installed",
                    negate=True,
                    what=f"{pkg} is not installed",
                ),
                docs=docs,
            )
            for pkg in CONFLICTING
            if snap.command("dpkg_docker") is None or pkg in (snap.command("dpkg_docker").stdout or "")
        ]
        steps += [
            Step("refresh the package lists", apt_get("update"), check=installed),
            Step(
                "install ca-certificates, curl and gpg",
                apt_get("install", "-y", "ca-certificates", "curl", "gpg"),
                check=command_exists("curl", "gpg"),
            ),
            Step(
                "create /etc/apt/keyrings",
                ("install", "-m", "0755", "-d", "/etc/apt/keyrings"),
                check=Check(("test", "-d", "/etc/apt/keyrings"), what="/etc/apt/keyrings exists"),
            ),
            Step(
                "download Docker's signing key (https) into a private folder and check its fingerprint",
                (
                    "curl",
                    "-fsSL",
                    "--proto",
                    "=https",
                    "-o",
                    download,
                    f"https://download.docker.com/linux/{family}/gpg",
                ),
                root=False,
                check=key_ok,
                verify=key_fingerprint(download, DOCKER_KEY_FINGERPRINT, what="the download is Docker's release key"),
                docs=docs,
            ),
            writes(
                "install the verified key where apt looks (readable by apt)",
                RootFile(KEYRING, source=download, mode="0644"),
                check=key_ok,
                docs=docs,
            ),
            writes("add Docker's repository, signed-by its key", sources, docs=docs),
            Step("refresh the package lists", apt_get("update"), check=installed),
            Step(
                "install docker-ce and its plugins",
                apt_get("install", "-y", *CE_PACKAGES),
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
