"""Plan: Docker Engine, from the distribution (docker.io) or Docker's apt repository (docker-ce).

Official steps: https://docs.docker.com/engine/install/ubuntu/ and /debian/ (apt repository with
a signed-by keyring), https://docs.docker.com/engine/install/linux-postinstall/ (docker group).
Without systemd (older or imported WSL distros, `[boot] systemd=false`, containers) the daemon is
started by its SysV script, and where that fails (e.g. its `ulimit -n 1048576` refused) by running
dockerd directly under gpudock's pidfile. Start/restart policy: ``gpudock.fixes``.
"""

from __future__ import annotations

import shlex

from .. import fixes
from ..exceptions import PlanRefused
from ..facts.evidence import engine_version
from ..facts.host import WSL2, HostInfo
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

DOCS_UBUNTU = fixes.DOCS["docker_install_ubuntu"]
DOCS_DEBIAN = fixes.DOCS["docker_install_debian"]
DOCS_POSTINSTALL = fixes.DOCS["docker_postinstall"]
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
DOCKERD_DAEMON = Daemon(pidfile=fixes.GPUDOCK_DOCKERD_PIDFILE, log=fixes.GPUDOCK_DOCKERD_LOG)


# Over 60 lines on purpose: one decision (the service manager) with its three answers side by side.
def daemon_steps(host: HostInfo, action: str = "start") -> list[Step]:
    """Start (or restart) dockerd the way this host can (the policy of ``gpudock.fixes``).

    systemd: systemctl. Known without systemd: the SysV script, else dockerd itself under gpudock's pidfile.
    Unknown: systemctl, falling back to the script. A dockerd is stopped only through the init system or
    gpudock's own pidfile, never by its name.
    """
    manager = fixes.service_manager(host)
    alternatives = fixes.daemon_commands(host, action)
    direct = Step(
        "start dockerd directly (the init script failed); its pid goes to gpudock's pidfile",
        fixes.DIRECT_DOCKERD,
        background=DOCKERD_DAEMON,
        verify=DOCKER_ANSWERS,
        verify_wait_s=30,
    )
    if manager == "systemd":
        return [
            Step(
                f"{action} the Docker daemon (systemd)",
                alternatives[0],
                check=DOCKER_ANSWERS if action == "start" else None,
                verify=DOCKER_ANSWERS,
                verify_wait_s=30,
                docs=fixes.DOCS["docker_daemon"],
            )
        ]
    if manager == "unknown":
        script = Step(
            f"{action} the Docker daemon (SysV init script: this host has no systemd)",
            alternatives[1],
            verify=DOCKER_ANSWERS,
            verify_wait_s=15,
            fallback=direct if action == "start" else None,
        )
        return [
            Step(
                f"{action} the Docker daemon (systemd; the init script where systemd does not run)",
                alternatives[0],
                check=DOCKER_ANSWERS if action == "start" else None,
                verify=DOCKER_ANSWERS,
                verify_wait_s=30,
                fallback=script,
                docs=fixes.DOCS["docker_daemon"],
            )
        ]
    steps = []
    if action == "restart":
        steps += [
            Step(
                "stop the Docker daemon (SysV init script)",
                ("service", "docker", "stop"),
                fallback=Step("the init script had no daemon to stop", ("true",), root=False),
                docs=fixes.DOCS["docker_daemon"],
            ),
            Step(
                "stop the dockerd that gpudock started, through its pidfile",
                stop_daemon(DOCKERD_DAEMON, DOCKERD),  # --oknodo: nothing to stop is fine
            ),
        ]
    steps.append(
        Step(
            "start the Docker daemon without systemd (SysV init script)",
            ("service", "docker", "start"),
            check=DOCKER_ANSWERS,
            verify=DOCKER_ANSWERS,
            verify_wait_s=15,
            fallback=direct,
            docs=fixes.DOCS["docker_daemon"],
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
    if host.docker_desktop or (host.kind == WSL2 and snap.path("/mnt/wsl/docker-desktop/cli-tools")):
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
    version = engine_version(snap)
    if not version:
        return None
    return f"engine {version}" + (f", {host.docker_engine_os}" if host.docker_engine_os else "")


def plan_docker(snap: Snapshot, host: HostInfo, source: str = "distro") -> Plan:
    """The Docker plan: reuse an engine that answers; else the distribution's docker.io or Docker's docker-ce,
    the user in the docker group, the daemon started."""
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
        steps, notes = _distro_steps(host, docs)
    else:
        steps, notes = _docker_ce_steps(snap, host, family, docs)
    steps += _group_step(host) + daemon_steps(host, "start")
    if host.kind == WSL2 and host.systemd is False:
        notes.append(
            "This WSL distro runs without systemd (an older or imported distro, or `[boot] systemd=false`): the "
            "daemon does not start by itself; run `sudo service docker start` after each `wsl --shutdown`, or "
            "turn systemd on in /etc/wsl.conf (`[boot]` / `systemd=true`)."
        )
    eol = distro.end_of_life(host)
    if eol:
        notes.insert(0, eol)
    if fixes.service_manager(host) == "unknown":
        notes.append("The snapshot does not say whether systemd runs: systemctl is tried first, then the init script.")
    return Plan("docker", distro.describe(host), steps, verify=[DOCKER_ANSWERS], notes=notes)


def _distro_steps(host: HostInfo, docs: str) -> tuple[list[Step], list[str]]:
    """The distribution's docker.io, with a note where that release ships an engine past its end of life."""
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
    old = distro.DISTRO_DOCKER_IO.get((host.distro_id, host.distro_version))
    if old:
        notes.append(
            f"{host.pretty_name or host.distro_id} ships docker.io {old}: past Docker's end of life and without "
            "CDI (Docker Engine 25 or newer). For CDI, or a supported engine, use --source docker-ce."
        )
    return steps, notes


def _docker_ce_steps(snap: Snapshot, host: HostInfo, family: str, docs: str) -> tuple[list[Step], list[str]]:
    """Docker's docker-ce: conflicting packages removed, its key checked, its repository added, installed."""
    if not host.codename:
        raise PlanRefused("cannot plan docker-ce: os-release has no valid VERSION_CODENAME")
    installed = dpkg_installed("docker-ce")
    steps = [
        *_remove_conflicting_steps(snap, docs),
        Step("refresh the package lists", apt_get("update"), check=installed),
    ]
    steps += [
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
        *_docker_repository_steps(host, family, docs),
        Step("refresh the package lists", apt_get("update"), check=installed),
        Step(
            "install docker-ce and its plugins",
            apt_get("install", "-y", *CE_PACKAGES),
            check=installed,
            verify=installed,
            docs=docs,
        ),
    ]
    return steps, ["docker-ce replaces the distribution's docker.io (removed first, as Docker's docs say)."]


def _remove_conflicting_steps(snap: Snapshot, docs: str) -> list[Step]:
    """Each package that conflicts with docker-ce, where the snapshot shows it installed (all where not probed)."""
    listing = snap.command("dpkg_docker")
    return [
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
        if listing is None or pkg in (listing.stdout or "")
    ]


def _docker_repository_steps(host: HostInfo, family: str, docs: str) -> list[Step]:
    """Docker's release key downloaded and checked in a private folder, installed, then its deb822 source."""
    key_ok = key_fingerprint(KEYRING, DOCKER_KEY_FINGERPRINT, what=f"{KEYRING} holds Docker's release key")
    download = Work("docker.asc")
    sources = RootFile(
        "/etc/apt/sources.list.d/docker.sources",
        content=(
            f"Types: deb\nURIs: https://download.docker.com/linux/{family}\nSuites: {host.codename}\n"
            f"Components: stable\nArchitectures: {distro.deb_arch(host)}\nSigned-By: {KEYRING}\n"
        ),
    )
    return [
        Step(
            "download Docker's signing key (https) into a private folder and check its fingerprint",
            ("curl", "-fsSL", "--proto", "=https", "-o", download, f"https://download.docker.com/linux/{family}/gpg"),
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
    ]
