"""Docker layer: the CLI, which engine it talks to, the daemon, the socket, a plain container."""

from __future__ import annotations

import re
import shlex

from ..facts.engine import docker_group_pending
from ..facts.evidence import (
    CONTAINER_PROBES,
    DOCKER_CLI_PROBES,
    Line,
    cite,
    container_saw_gpu,
    docker_info_ok,
    engine_version,
    find,
    first_error_line,
    installed_packages,
    lines_of,
    ran_cleanly,
    search,
    toolkit_evidence,
)
from ..facts.host import NO_SYSTEMD, NO_SYSTEMD_SYSTEMCTL, WSL1, WSL2, groups
from ..fixes import ALTERNATIVE, DOCS, daemon_log_step, docker_install_page, docker_service, on_wsl, windows
from .registry import Hit, register

DOCKER_STUB = r"The command 'docker' could not be found in this WSL"
DOCKER_NOT_FOUND = (
    r"(^|[\s:])docker: (command )?not found|command not found: docker|Command 'docker' not found|"
    r"Unknown command: '?docker\b|" + DOCKER_STUB
)
UNREACHABLE = (
    r"Cannot connect to the Docker daemon|failed to connect to the "
    r"docker API at|Is the docker daemon running|error during connect"
)
PERMISSION = r"permission denied while trying to connect to the docker|docker\.sock: connect: permission denied"
LOCAL_ENGINE = r"docker\.io|docker-ce|moby-engine"


def docker_cli_missing_hit(snap) -> Line | None:
    for name in DOCKER_CLI_PROBES:
        result = snap.command(name)
        if result and result.rc == 127:
            return Line(name, (lines_of(result.text) or ["docker: command not found"])[0])
    return find(snap, DOCKER_NOT_FOUND)


def _cli_missing_fix(snap, host, hit):
    plan = (
        "gpudock plan docker   # Docker Engine from your distribution (docker.io); "
        "--source docker-ce: from Docker's apt repository"
    )
    if host.kind == WSL2 or hit.data.get("stub"):  # two ways, one of them: Docker Desktop's, or an engine in WSL
        return [
            "with Docker Desktop on Windows: Settings → Resources → WSL integration → turn on this distro "
            "(then skip the Docker Engine and Container Toolkit installs: Docker Desktop brings both)",
            ALTERNATIVE + "without Docker Desktop: " + plan,
        ]
    return [plan]


@register(
    "docker-cli-missing",
    severity="error",
    layer="docker",
    order=10,
    title="The docker command is not available",
    fix=_cli_missing_fix,
    docs=[docker_install_page, on_wsl(DOCS["docker_desktop_wsl"])],
)
def docker_cli_missing(snap, host):
    hit = docker_cli_missing_hit(snap)
    if not hit:
        return None
    return Hit(cite(hit), {"stub": bool(re.search(DOCKER_STUB, hit.text))})


@register(
    "docker-desktop-integration-off",
    severity="error",
    layer="docker",
    order=20,
    title="docker is Docker Desktop's stub: WSL integration is off for this distro",
    fix=[
        "Docker Desktop → Settings → Resources → WSL integration: turn on this distro, Apply & restart",
        "already on: turn it off and on again, restart Docker Desktop, and " + windows("wsl --shutdown"),
        "open a new shell and run `docker version`",
        "or, without Docker Desktop: `gpudock plan docker` installs Docker Engine inside the distro (not both)",
    ],
    docs=[DOCS["docker_desktop_wsl"]],
)
def docker_desktop_integration_off(snap, host):
    hit = find(snap, r"could not be found in this WSL 2 distro|activate the WSL integration in Docker Desktop")
    if not hit or host.kind == WSL1:
        return None
    return Hit(cite(hit))


def current_context(snap) -> str | None:
    """The current context's name from ``docker context ls`` (the row marked ``*``)."""
    result = snap.command("docker_context_ls")
    if not result:
        return None
    for line in lines_of(result.stdout):
        match = re.match(r"([\w.-]{1,64}) \*(\s|$)", line)
        if match:
            return match.group(1)
    return None


def _conflict_fix(snap, host, hit):
    if hit.data.get("context"):
        return [
            "the CLI talks to Docker Desktop's engine (context desktop-linux), which has no NVIDIA runtime: "
            "`docker context use default` returns to the local engine with the toolkit",
            "keep one engine: quit Docker Desktop, or remove the local docker-ce if Desktop is what you want",
        ]
    if host.is_wsl:
        local = installed_packages(snap, LOCAL_ENGINE + r"|docker-ce-cli|containerd\.io", "dpkg_docker")
        remove = f"`sudo apt-get remove {' '.join(local)}`" if local else "(`dpkg -l 'docker*'` lists them)"
        return [
            f"keep one engine in this distro: with Docker Desktop, remove the distro's engine {remove}",
            "or keep docker-ce here and turn off Docker Desktop's WSL integration for this distro "
            "(Settings → Resources → WSL integration)",
            "then open a new shell: `docker info` shows one engine (`Operating System:`)",
        ]
    return [
        "keep one engine: `docker context ls`; `docker context use default` for the local engine",
        "or remove the local engine if Docker Desktop is what you want",
    ]


def _local_toolkit_evidence(snap) -> list[str]:
    """Toolkit evidence from this distro itself: with Docker Desktop, `docker info` describes Desktop's own VM,
    whose Runtimes list `nvidia` on every healthy Desktop (its GPU support), so that line proves nothing here."""
    return [proof for proof in toolkit_evidence(snap) if not proof.startswith("docker info:")]


@register(
    "docker-desktop-conflict",
    severity="warning",
    layer="docker",
    order=30,
    title="Two Docker engines (Docker Desktop and a local one) claim the CLI",
    fix=_conflict_fix,
    docs=[DOCS["docker_desktop_wsl"]],
)
def docker_desktop_conflict(snap, host):
    hit = None
    if host.docker_desktop:
        local = installed_packages(snap, LOCAL_ENGINE, "dpkg_docker")
        if local:
            hit = Line("dpkg_docker", "Docker Desktop engine in use, but installed in the distro: " + ", ".join(local))
        elif snap.path("/usr/bin/dockerd"):
            hit = Line("paths", "Docker Desktop engine in use, but /usr/bin/dockerd exists in the distro")
        elif _local_toolkit_evidence(snap):
            where = "in the distro" if host.is_wsl else "here"
            hit = Line("docker_info", f"Operating System: Docker Desktop while the NVIDIA Container Toolkit is {where}")
    context = current_context(snap)
    if not hit and context == "desktop-linux":
        local = (
            installed_packages(snap, LOCAL_ENGINE, "dpkg_docker")
            or snap.path("/usr/bin/dockerd")
            or toolkit_evidence(snap)
            or find(snap, r"could not select device driver", CONTAINER_PROBES)
        )
        if local:
            return Hit(
                cite(Line("docker_context_ls", "current context: desktop-linux (Docker Desktop)")), {"context": context}
            )
    sudo = snap.command("docker_gpu_sudo")
    plain = snap.command("docker_gpu") or snap.command("docker_info")
    if not hit and (ran_cleanly(sudo) or container_saw_gpu(snap, ["docker_gpu_sudo"])) and plain and plain.failed:
        # the user's own `docker` cannot run the GPU container: an error, not a matter of taste
        line = Line(plain.name, "fails while `sudo docker` runs the same GPU container: two engines answer")
        return Hit(cite(line), severity="error", title="Plain `docker` talks to another engine than `sudo docker`")
    return Hit(cite(hit)) if hit else None


@register(
    "systemd-missing",
    severity="warning",
    layer="docker",
    order=40,
    title="systemd is not running (PID 1): systemctl cannot start Docker here",
    fix=lambda snap, host, hit: [
        "start services without systemctl: `sudo service docker start` (the Docker package's init script)",
        *(
            ["or turn systemd on: /etc/wsl.conf with `[boot]` and `systemd=true`, then " + windows("wsl --shutdown")]
            if host.kind == WSL2
            else []
        ),
    ],
    docs=[DOCS["wsl_systemd"], DOCS["docker_daemon"]],
)
def systemd_missing(snap, host):
    hit = find(snap, NO_SYSTEMD) or find(snap, NO_SYSTEMD_SYSTEMCTL, ["systemctl_docker"])
    systemctl = snap.command("systemctl_docker")
    if not hit and systemctl and systemctl.not_found:
        hit = Line("systemctl_docker", (lines_of(systemctl.text) or ["systemctl: command not found"])[0])
    return Hit(cite(hit)) if hit else None


def _unreachable_fix(snap, host, hit):
    steps = []
    docker_host = snap.env.get("DOCKER_HOST")
    # only characters a socket address has: the text is shown as a hint, never as a command to paste
    socket = re.search(r"(unix|tcp|npipe)://[\w./:@%+-]{1,200}", hit.data.get("line", ""))
    if docker_host:
        steps.append(
            f"DOCKER_HOST={shlex.quote(docker_host[:200])} sends the CLI elsewhere: "
            "`unset DOCKER_HOST` unless that daemon is meant"
        )
    elif socket and socket.group(0).rstrip(".:") not in ("unix:///var/run/docker.sock", "unix:///run/docker.sock"):
        steps.append(f"the CLI looked at {socket.group(0).rstrip('.:')}: check `docker context ls` and DOCKER_HOST")
    installed = installed_packages(snap, LOCAL_ENGINE, "dpkg_docker")
    if snap.path("/usr/bin/dockerd") is False and not installed and not host.docker_desktop:
        steps.append(
            "no Docker Engine is installed here: `gpudock plan docker`"
            + (" (or turn on Docker Desktop's WSL integration)" if host.kind == WSL2 else "")
        )
    else:
        steps += docker_service(host, "start")
    steps.append("docker info   # must show a Server section")
    return steps


@register(
    "docker-daemon-unreachable",
    severity="error",
    layer="docker",
    order=50,
    title="The docker CLI is there but no Docker daemon answers",
    fix=_unreachable_fix,
    docs=[DOCS["docker_daemon"]],
)
def docker_daemon_unreachable(snap, host):
    if docker_info_ok(snap):
        return None
    names = [n for n in DOCKER_CLI_PROBES + ("docker_hello",) + CONTAINER_PROBES if snap.command(n)]
    hit = (find(snap, UNREACHABLE, names) if names else None) or find(snap, UNREACHABLE)
    return Hit(cite(hit), {"line": hit.text}) if hit else None


def _permission_fix(snap, host, hit):
    if hit.data.get("pending"):
        return [
            "you are already in the docker group, but this login session is not (`id`): log in again "
            "(see docker-group-pending); `sudo usermod` again changes nothing",
        ]
    if hit.data.get("in_group"):
        return [
            "`id` already lists the docker group: the socket's group is "
            "wrong. `ls -l /var/run/docker.sock` must show group docker",
            "sudo chgrp docker /var/run/docker.sock   # or restart the daemon, which recreates the socket",
        ]
    user = (
        host.user
        if host.user and host.user != "root" and re.fullmatch(r"[a-z_][a-z0-9_.-]{0,31}", host.user)
        else "$USER"
    )
    distro = host.wsl_distro if host.wsl_distro and re.fullmatch(r"[\w.-]{1,64}", host.wsl_distro) else "<distro>"
    return [
        f"sudo usermod -aG docker {user}",
        "newgrp docker   # or log out and in again"
        + (f"; on WSL: {windows('wsl --terminate ' + distro)}" if host.kind == WSL2 else ""),
        "docker run --rm hello-world",
    ]


@register(
    "docker-permission-denied",
    severity="error",
    layer="docker",
    order=60,
    title="This user may not use the Docker socket (not in the docker group)",
    fix=_permission_fix,
    docs=[DOCS["docker_postinstall"]],
)
def docker_permission_denied(snap, host):
    hit = find(snap, PERMISSION)
    if not hit or hit.probe == "docker_gpu_sudo":
        return None
    pending = bool(docker_group_pending(snap, host.user)) and not host.is_root
    return Hit(cite(hit), {"in_group": "docker" in groups(snap), "pending": pending})


OFFLINE = (
    r"dial tcp|no such host|i/o timeout|TLS handshake timeout|connection "
    r"refused|proxyconnect|server misbehaving|net/http|Client\.Timeout|network is unreachable"
)
_HELLO_CAUSES = [
    (
        OFFLINE,
        [
            "this host reaches no registry (offline, DNS or a proxy): configure dockerd's proxy (docs below) or DNS",
            "offline: `gpudock hello --build` makes a local hello image FROM scratch "
            "(the distribution's busybox-static); the GPU checks do not need the network",
        ],
    ),
    (r"no space left on device", ["docker system df; docker system prune   # free space under /var/lib/docker"]),
    (r"toomanyrequests|rate limit", ["Docker Hub's pull limit: `docker login`, or wait"]),
    (r"pull access denied|manifest unknown|not found: manifest", ["the image name is wrong or private: check it"]),
]


def _hello_fix(snap, host, hit):
    steps = list(hit.data.get("steps", []))
    if hit.data.get("timed_out"):
        steps.append("the run hung: restart the daemon")
    if not steps:
        steps = docker_service(host, "restart") + [daemon_log_step(host)]
    return steps


@register(
    "docker-hello-failed",
    severity="error",
    layer="docker",
    order=70,
    title="Docker answers but a plain container does not run",
    fix=_hello_fix,
    docs=[DOCS["docker_proxy"], DOCS["docker_daemon"]],
)
def docker_hello_failed(snap, host):
    hello = snap.command("docker_hello")
    if not hello or "Hello from Docker" in hello.text or not hello.failed:
        return None
    if hello.rc == 127 or search(UNREACHABLE + "|" + PERMISSION + "|" + DOCKER_NOT_FOUND, hello.text):
        return None
    steps: list[str] = []
    offline = False
    for pattern, fix in _HELLO_CAUSES:
        if search(pattern, hello.text):
            steps += fix
            offline = pattern == OFFLINE
            break
    title = None
    if offline:
        title = "Docker answers, but this host is offline: the hello-world image cannot be pulled"
    return Hit(
        f"docker_hello: {first_error_line(hello)[:300]}",
        {"steps": steps, "timed_out": hello.timed_out},
        title=title,
    )


@register(
    "docker-gpus-unsupported",
    severity="error",
    layer="docker",
    order=80,
    title="This docker CLI predates --gpus (Docker 19.03): the client, not the toolkit, is too old",
    fix=[
        "docker version   # the Client: Version must be 19.03 or newer (the server may already be)",
        "gpudock plan docker   # a current Docker Engine and CLI from one source",
        "until then: docker run --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=all …",
    ],
    docs=[docker_install_page, DOCS["toolkit_install"]],
)
def docker_gpus_unsupported(snap, host):
    hit = find(snap, r"unknown flag: --gpus")
    return Hit(cite(hit)) if hit else None


@register("docker-ok", severity="ok", layer="docker", order=90, title="Docker Engine answers and runs containers")
def docker_ok(snap, host):
    hello = snap.command("docker_hello")
    if not hello or hello.failed or not (hello.ok or "Hello from Docker" in hello.text):
        return None
    evidence = "docker_hello: " + ("Hello from Docker!" if "Hello from Docker" in hello.text else "exit 0")
    version = engine_version(snap)
    title = "Docker Engine answers and runs containers" + (f" (engine {version})" if version else "")
    return Hit(evidence, title=title)
