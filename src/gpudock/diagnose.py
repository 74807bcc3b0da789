"""Snapshot -> [Finding]: one small rule per code of finding-codes.md.

Rules read evidence, not exit codes alone: reports pasted by users lose the exit
status (``rc`` null), get cut short, and come from older or newer tools, so each
signature is a loose, case-insensitive pattern over every command's text. A rule
that sees nothing returns None; ``diagnose`` never raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .findings import Finding
from .fixes import DOCS, docker_service, windows
from .hostinfo import NO_SYSTEMD, NO_SYSTEMD_SYSTEMCTL, WSL1, WSL2, HostInfo, host_info
from .snapshot import CommandResult, Snapshot

Rule = Callable[[Snapshot, HostInfo], "Finding | None"]
RULES: list[Rule] = []

# What to fix first: platform, then the driver, apt, Docker, the toolkit, containers.
ORDER = [
    "wsl1-no-gpu",
    "wsl-gpu-not-exposed",
    "wsl-no-adapters",
    "wsl-linux-driver-installed",
    "nvidia-driver-missing",
    "nvidia-driver-unreachable",
    "nvml-version-mismatch",
    "apt-signed-by-conflict",
    "apt-key-missing",
    "docker-cli-missing",
    "docker-desktop-integration-off",
    "docker-desktop-conflict",
    "systemd-missing",
    "docker-daemon-unreachable",
    "docker-permission-denied",
    "docker-hello-failed",
    "legacy-nvidia-docker",
    "docker-gpus-unsupported",
    "nvidia-toolkit-missing",
    "nvidia-runtime-unknown",
    "nvidia-runtime-not-configured",
    "cuda-driver-too-old",
    "wsl-lib-file-exists",
    "nvml-unknown-error",
    "cuda-no-device",
    "nvidia-driver-ok",
    "docker-ok",
    "gpu-ok",
]
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2, "ok": 3}

CONTAINER_PROBES = ("docker_gpu", "docker_gpu_runtime", "docker_gpu_sudo", "docker_nbody", "nvidia_docker_run")
DOCKER_CLI_PROBES = ("docker_version", "docker_info", "docker_ps")


def rule(func: Rule) -> Rule:
    RULES.append(func)
    return func


def signature_rule(code: str, pattern: str, title: str, fix, docs: list[str], severity: str = "error") -> None:
    """A rule that fires on one text signature in any probe; ``fix`` is a list of steps or a function of the host."""

    def check(snap, host):
        hit = _find(snap, pattern)
        if not hit:
            return None
        return Finding(code, severity, title, _ev(hit), fix(host) if callable(fix) else list(fix), docs)

    check.__name__ = code.replace("-", "_")
    RULES.append(check)


# --- evidence helpers ------------------------------------------------------------------
def _find(snap: Snapshot, pattern: str, names: Iterable[str] | None = None, flags=re.I) -> tuple[str, str] | None:
    """(probe, line) of the first line matching ``pattern`` in the named (or all) probes."""
    regex = re.compile(pattern, flags)
    results = [snap.command(n) for n in names] if names is not None else snap.commands()
    for result in results:
        if not result:
            continue
        for line in result.lines():
            if regex.search(line):
                return result.name, line.strip()
    return None


def _ev(hit: tuple[str, str] | None) -> str:
    if not hit:
        return ""
    name, line = hit
    return f"{name}: {line[:300]}"


def _dpkg_installed(snap: Snapshot, pattern: str, probe: str = "dpkg_nvidia") -> list[str]:
    """Installed package names (status ii/hi/iU…) matching ``pattern`` in a ``dpkg -l`` listing."""
    listing = snap.command(probe)
    names = []
    if not listing:
        return names
    for line in listing.stdout.splitlines():
        match = re.match(r"^[ih][iUFHWt]\s+(\S+)", line)
        if match and re.fullmatch(pattern, match.group(1).split(":")[0]):
            names.append(match.group(1).split(":")[0])
    return names


def _container_saw_gpu(snap: Snapshot) -> tuple[str, str] | None:
    """A container printed an nvidia-smi GPU row (or its header, if cut) or nbody's rate."""
    for name in CONTAINER_PROBES:
        result = snap.command(name)
        if not result or (result.rc not in (0, None)) or result.timed_out:
            continue
        text = result.stdout or result.text
        if re.search(r"No devices were found|Failed to initialize NVML", text, re.I):
            continue
        row = re.search(r"^\|\s+\d+\s+[A-Za-z].*\|", text, re.M)
        header = re.search(r"NVIDIA-SMI\s+[\d.]+.*Driver Version", text)
        nbody = re.search(r"=\s*[\d.]+\s+billion interactions per second", text)
        if row or nbody:
            return name, (row or nbody).group(0).strip()
        if header:
            return name, header.group(0).strip()
    return None


def _host_smi_ok(snap: Snapshot) -> tuple[str, str] | None:
    smi = snap.command("nvidia_smi")
    if smi and smi.rc in (0, None) and not smi.timed_out:
        match = re.search(r"Driver Version:\s*[\d.]+(\s+CUDA Version:\s*[\d.]+)?", smi.text)
        if match and not re.search(r"couldn't communicate|Failed to initialize NVML", smi.text, re.I):
            return "nvidia_smi", match.group(0)
    query = snap.command("nvidia_smi_query")
    if query and query.ok and re.search(r",\s*\d+\.\d+", query.stdout):
        return "nvidia_smi_query", query.stdout.strip().splitlines()[0]
    return None


def _wsl_steps(host: HostInfo) -> list[str]:
    return [windows("wsl --update"), windows("wsl --shutdown"), "open the distro again"]


# --- platform ----------------------------------------------------------------------------
@rule
def wsl1_no_gpu(snap, host):
    if host.kind != WSL1:
        return None
    hit = _find(snap, r"WSL 1 distro")
    evidence = (
        _ev(hit) if hit else f"platform.release: {host.kernel or (snap.file('/proc/version') or '').strip()[:200]}"
    )
    distro = host.wsl_distro or "<distro>"
    return Finding(
        "wsl1-no-gpu",
        "error",
        "This distro runs under WSL 1, which has no GPU support",
        evidence,
        [
            windows(f"wsl --set-version {distro} 2"),
            windows("wsl --set-default-version 2"),
            "open the distro again and rerun `gpudock doctor`",
        ],
        [DOCS["wsl_install"], DOCS["wsl_cuda"]],
    )


@rule
def wsl_gpu_not_exposed(snap, host):
    if host.kind != WSL2:
        return None
    hit = _find(
        snap,
        r"driver error: failed to process request|GPU access blocked by the operating system|"
        r"load library failed: libnvidia-ml\.so",
    )
    if not hit:
        for path in ("/dev/dxg", "/usr/lib/wsl/lib/libcuda.so.1"):
            if snap.path(path) is False:
                hit = ("paths", f"{path} is absent")
                break
    if not hit:
        smi = snap.command("nvidia_smi")
        linux_driver = _linux_driver_packages(snap)
        if smi and (smi.not_found or smi.failed) and not linux_driver and not _container_saw_gpu(snap):
            hit = ("nvidia_smi", (smi.lines() or ["nvidia-smi failed"])[0])
    if not hit:
        return None
    return Finding(
        "wsl-gpu-not-exposed",
        "error",
        "WSL 2 does not expose the GPU (GPU paravirtualization is unusable)",
        _ev(hit),
        [
            "install the current NVIDIA driver for your GPU on Windows (not inside Linux)",
            *_wsl_steps(host),
            "`GPU access blocked by the operating system`: a data-centre GPU in TCC mode is not shared with WSL; "
            + windows("nvidia-smi -g 0 -dm 0")
            + " (as administrator, WDDM mode) and reboot Windows; also remove any "
            "nvidia-utils-* installed inside the distro",
            "check: `ls -l /dev/dxg /usr/lib/wsl/lib/libcuda.so.1` and `/usr/lib/wsl/lib/nvidia-smi` must work",
        ],
        [DOCS["wsl_cuda"]],
    )


signature_rule(
    "wsl-no-adapters",
    r"WSL environment detected but no adapters were found",
    "The container toolkit found WSL but no GPU adapter",
    lambda host: [
        "make sure the GPU is an NVIDIA GPU that Windows' Device Manager shows working",
        "install the current NVIDIA Windows driver (GPU-PV support)",
        *_wsl_steps(host),
        "update the toolkit in the distro: `gpudock plan toolkit`",
    ],
    [DOCS["wsl_cuda"], DOCS["toolkit_troubleshooting"]],
)

_LINUX_DRIVER = r"nvidia-driver(-\S+)?|nvidia-utils-\S+|libnvidia-compute-\S+|cuda-drivers(-\S+)?|nvidia-open(-\S+)?|nvidia-kernel-\S+|nvidia-dkms-\S+|nvidia-headless-\S+|xserver-xorg-video-nvidia\S*"


def _linux_driver_packages(snap: Snapshot) -> list[str]:
    return _dpkg_installed(snap, _LINUX_DRIVER)


@rule
def wsl_linux_driver_installed(snap, host):
    if host.kind != WSL2:
        return None
    packages = _linux_driver_packages(snap)
    hit = None
    if packages:
        hit = ("dpkg_nvidia", "installed: " + ", ".join(packages))
    else:
        hit = _find(
            snap, r"selecting /usr/lib/(x86_64|aarch64)-linux-gnu/libnvidia-ml\.so\.\d", ["nvidia_container_cli_debug"]
        )
        hit = hit or _find(snap, r"couldn't communicate with the NVIDIA driver", ["nvidia_smi"])
    if not hit:
        return None
    purge = "sudo apt-get purge --autoremove " + (
        " ".join(f"'{p}'" for p in packages)
        if packages
        else "'nvidia-driver-*' 'nvidia-utils-*' 'libnvidia-compute-*' cuda-drivers"
    )
    return Finding(
        "wsl-linux-driver-installed",
        "error",
        "A Linux NVIDIA driver is installed inside WSL 2 and shadows the Windows driver",
        _ev(hit),
        [
            purge,
            *_wsl_steps(host),
            "check: `which nvidia-smi` says /usr/lib/wsl/lib/nvidia-smi and it shows the GPU",
            "for nvcc inside WSL install only `cuda-toolkit-12-x` from the wsl-ubuntu repository, never `cuda` or `cuda-drivers`",
        ],
        [DOCS["wsl_cuda"]],
    )


# --- driver ------------------------------------------------------------------------------
@rule
def nvidia_driver_missing(snap, host):
    if host.kind in (WSL1, WSL2) or _container_saw_gpu(snap) or _host_smi_ok(snap):
        return None
    smi = snap.command("nvidia_smi") or snap.command("nvidia_smi_query")
    hit = None
    if smi and smi.not_found:
        hit = (smi.name, (smi.lines() or ["nvidia-smi: command not found"])[0])
    hit = hit or _find(
        snap, r"load library failed: libnvidia-ml\.so|couldn't find libnvidia-ml\.so|NVIDIA-SMI couldn't find"
    )
    hit = hit or _find(snap, r"nvidia-smi: (command )?not found|Command 'nvidia-smi' not found")
    if not hit:
        return None
    return Finding(
        "nvidia-driver-missing",
        "error",
        "No NVIDIA driver on this host",
        _ev(hit) + ("; /dev/nvidia0 is absent" if snap.path("/dev/nvidia0") is False else ""),
        [
            "check the GPU is there: `lspci | grep -i nvidia`",
            "gpudock plan driver   # NVIDIA's CUDA repository with cuda-keyring, then `cuda-drivers` or `nvidia-open`",
            "sudo reboot",
            "nvidia-smi",
        ],
        [DOCS["driver_install"]],
    )


@rule
def nvidia_driver_unreachable(snap, host):
    if host.kind in (WSL1, WSL2):
        return None
    hit = _find(
        snap, r"couldn't communicate with the NVIDIA driver|nvml error: driver not loaded|NVIDIA driver is not loaded"
    )
    if not hit:
        return None
    return Finding(
        "nvidia-driver-unreachable",
        "error",
        "nvidia-smi is installed but cannot talk to the NVIDIA kernel driver",
        _ev(hit),
        [
            "sudo modprobe nvidia   # read the error: 'Key was rejected by service' means Secure Boot blocks the module",
            "mokutil --sb-state; dkms status   # an unsigned module or one not built for this kernel",
            "sudo apt-get install linux-headers-$(uname -r) && sudo dpkg-reconfigure $(dpkg -l 'nvidia-dkms-*' 'nvidia-kernel-*' 2>/dev/null | awk '/^ii/{print $2}')",
            "sudo reboot",
        ],
        [DOCS["driver_install"]],
    )


@rule
def nvml_version_mismatch(snap, host):
    hit = _find(snap, r"Driver/library version mismatch")
    if not hit:
        return None
    steps = [
        "sudo reboot   # the kernel module is older than the libraries a driver upgrade installed",
        "after the reboot `cat /proc/driver/nvidia/version` and `nvidia-smi` show the same version",
    ]
    if host.kind == WSL2:
        steps = [
            "inside WSL a Linux driver shadows the Windows one: remove it (see wsl-linux-driver-installed)",
            *_wsl_steps(host),
        ]
    if hit[0] in CONTAINER_PROBES:
        steps.append(
            "if the host's nvidia-smi works, the image ships its own driver libraries: use an image without them"
        )
    return Finding(
        "nvml-version-mismatch",
        "error",
        "NVML: driver/library version mismatch",
        _ev(hit),
        steps,
        [DOCS["driver_install"]],
    )


# --- apt ---------------------------------------------------------------------------------
def _repo_fix(line: str) -> list[str]:
    if "developer.download.nvidia.com/compute/cuda" in line or "A4B469963BF863CC" in line or "3BF863CC" in line:
        return [
            "sudo apt-key del 7fa2af80",
            "gpudock plan driver   # installs NVIDIA's cuda-keyring package, which holds the current key",
            "remove the old CUDA list (the one without signed-by) from /etc/apt/sources.list.d/",
        ]
    if "nvidia.github.io" in line:
        return [
            "gpudock plan toolkit   # current keyring + one stable/deb list with signed-by",
            "remove old nvidia-docker / nvidia-container-runtime / libnvidia-container lists from /etc/apt/sources.list.d/",
        ]
    if "download.docker.com" in line:
        return ["gpudock plan docker --source docker-ce   # /etc/apt/keyrings/docker.asc referenced by signed-by"]
    return ["find the repository's current key and reference it with signed-by=… in its list file (never apt-key add)"]


@rule
def apt_key_missing(snap, host):
    hit = _find(snap, r"NO_PUBKEY|is not signed|SHA1 is not considered secure|repository .* is not signed")
    severity = "error"
    if not hit:
        hit = _find(snap, r"Key is stored in legacy trusted\.gpg keyring|apt-key is deprecated")
        severity = "warning"
    if not hit:
        return None
    name = hit[0]
    context = "\n".join(snap.command(name).lines()) if snap.command(name) else hit[1]
    return Finding(
        "apt-key-missing",
        severity,
        "apt rejects a repository's signing key",
        _ev(hit),
        [*_repo_fix(context), "sudo apt-get update   # must finish without W:/E: lines about keys"],
        [DOCS["cuda_key_rotation"], DOCS["toolkit_install"]],
    )


@rule
def apt_signed_by_conflict(snap, host):
    hit = _find(snap, r"Conflicting values set for option Signed-By")
    if not hit:
        return None
    url = re.search(r"https?://\S+", hit[1])
    where = url.group(0).rstrip("/:") if url else "<repository URL>"
    host_part = re.sub(r"^https?://", "", where).split("/")[0]
    return Finding(
        "apt-signed-by-conflict",
        "error",
        "apt-get update aborts: two list files describe one repository with different keys",
        _ev(hit),
        [
            f"grep -rl '{host_part}' /etc/apt/sources.list /etc/apt/sources.list.d/",
            "keep the file that has signed-by=<keyring> (today's instructions); delete the other, e.g. an old nvidia-docker.list or cuda-*.list",
            "sudo apt-get update",
        ],
        [DOCS["toolkit_troubleshooting"]],
    )


# --- docker ------------------------------------------------------------------------------
_DOCKER_STUB = r"The command 'docker' could not be found in this WSL"
_DOCKER_NOT_FOUND = (
    r"(^|[\s:])docker: (command )?not found|command not found: docker|Command 'docker' not found|"
    r"Unknown command: '?docker\b|" + _DOCKER_STUB
)


def _docker_cli_missing_hit(snap):
    for name in DOCKER_CLI_PROBES:
        result = snap.command(name)
        if result and result.rc == 127:
            return name, (result.lines() or ["docker: command not found"])[0]
    return _find(snap, _DOCKER_NOT_FOUND)


@rule
def docker_cli_missing(snap, host):
    hit = _docker_cli_missing_hit(snap)
    if not hit:
        return None
    steps = [
        "gpudock plan docker   # Docker Engine from your distribution (docker.io) or Docker's apt repository (docker-ce)"
    ]
    if host.kind == WSL2 or re.search(_DOCKER_STUB, hit[1]):
        steps.insert(
            0, "or, with Docker Desktop on Windows: Settings → Resources → WSL integration → turn on this distro"
        )
    return Finding(
        "docker-cli-missing",
        "error",
        "The docker command is not available",
        _ev(hit),
        steps,
        [DOCS["docker_install_ubuntu"], DOCS["docker_desktop_wsl"]],
    )


@rule
def docker_desktop_integration_off(snap, host):
    hit = _find(snap, r"could not be found in this WSL 2 distro|activate the WSL integration in Docker Desktop")
    if not hit or host.kind == WSL1:
        return None
    return Finding(
        "docker-desktop-integration-off",
        "error",
        "docker is Docker Desktop's stub: WSL integration is off for this distro",
        _ev(hit),
        [
            "Docker Desktop → Settings → Resources → WSL integration: turn on this distro, Apply & restart",
            "open a new shell and run `docker version`",
            "or, without Docker Desktop: `gpudock plan docker` installs Docker Engine inside the distro (not both)",
        ],
        [DOCS["docker_desktop_wsl"]],
    )


def _docker_info_ok(snap) -> bool:
    info = snap.command("docker_info")
    return bool(info and info.rc in (0, None) and re.search(r"Server Version|\"ServerVersion\"", info.text))


_UNREACHABLE = r"Cannot connect to the Docker daemon|failed to connect to the docker API at|Is the docker daemon running|error during connect"


@rule
def docker_daemon_unreachable(snap, host):
    if _docker_info_ok(snap):
        return None
    names = [n for n in DOCKER_CLI_PROBES + ("docker_hello", "docker_gpu", "docker_nbody") if snap.command(n)]
    hit = _find(snap, _UNREACHABLE, names) if names else None
    hit = hit or _find(snap, _UNREACHABLE)
    if not hit:
        return None
    steps = []
    docker_host = snap.env.get("DOCKER_HOST")
    socket = re.search(r"(unix|tcp|npipe)://[^\s;\"]+", hit[1])
    if docker_host:
        steps.append(
            f"DOCKER_HOST={docker_host} sends the CLI elsewhere: `unset DOCKER_HOST` unless that daemon is meant"
        )
    elif socket and socket.group(0).rstrip(".:") not in ("unix:///var/run/docker.sock", "unix:///run/docker.sock"):
        steps.append(f"the CLI looked at {socket.group(0).rstrip('.:')}: check `docker context ls` and DOCKER_HOST")
    installed = _dpkg_installed(snap, r"docker\.io|docker-ce|moby-engine", "dpkg_docker")
    if snap.path("/usr/bin/dockerd") is False and not installed and not host.docker_desktop:
        steps.append(
            "no Docker Engine is installed here: `gpudock plan docker`"
            + (" (or turn on Docker Desktop's WSL integration)" if host.kind == WSL2 else "")
        )
    else:
        steps += docker_service(host, "start")
    steps.append("docker info   # must show a Server section")
    return Finding(
        "docker-daemon-unreachable",
        "error",
        "The docker CLI is there but no Docker daemon answers",
        _ev(hit),
        steps,
        [DOCS["docker_daemon"]],
    )


@rule
def docker_permission_denied(snap, host):
    hit = _find(
        snap, r"permission denied while trying to connect to the docker|docker\.sock: connect: permission denied"
    )
    if not hit or hit[0] == "docker_gpu_sudo":
        return None
    user = host.user if host.user and host.user != "root" else "$USER"
    ident = snap.command("id")
    in_group = bool(ident and re.search(r"\(docker\)", ident.stdout))
    steps = [
        f"sudo usermod -aG docker {user}",
        "newgrp docker   # or log out and in again"
        + (f"; on WSL: {windows('wsl --terminate ' + (host.wsl_distro or '<distro>'))}" if host.kind == WSL2 else ""),
        "docker run --rm hello-world",
    ]
    if in_group:
        steps = [
            "`id` already lists the docker group: the socket's group is wrong. `ls -l /var/run/docker.sock` must show group docker",
            "sudo chgrp docker /var/run/docker.sock (or restart the daemon so it recreates the socket)",
        ]
    return Finding(
        "docker-permission-denied",
        "error",
        "This user may not use the Docker socket (not in the docker group)",
        _ev(hit),
        steps,
        [DOCS["docker_postinstall"]],
    )


@rule
def systemd_missing(snap, host):
    hit = _find(snap, NO_SYSTEMD) or _find(snap, NO_SYSTEMD_SYSTEMCTL, ["systemctl_docker"])
    systemctl = snap.command("systemctl_docker")
    if not hit and systemctl and systemctl.not_found:
        hit = ("systemctl_docker", (systemctl.lines() or ["systemctl: command not found"])[0])
    if not hit:
        return None
    steps = [
        "start services without systemctl: `sudo service docker start` (or `sudo dockerd &` where the init script fails)"
    ]
    if host.kind == WSL2:
        steps.append(
            "or turn systemd on: /etc/wsl.conf with `[boot]` and `systemd=true`, then " + windows("wsl --shutdown")
        )
    return Finding(
        "systemd-missing",
        "warning",
        "systemd is not running (PID 1): systemctl cannot start Docker here",
        _ev(hit),
        steps,
        [DOCS["wsl_config"], DOCS["docker_daemon"]],
    )


_HELLO_CAUSES = [
    (
        r"dial tcp|no such host|i/o timeout|TLS handshake timeout|connection refused|proxyconnect|server misbehaving|net/http|Client\.Timeout",
        [
            "the registry is unreachable from dockerd: configure its proxy (docs below) or check DNS",
            "offline: `gpudock hello --build` makes a local hello image FROM scratch (Debian's busybox-static)",
        ],
    ),
    (r"no space left on device", ["docker system df; docker system prune   # free space under /var/lib/docker"]),
    (r"toomanyrequests|rate limit", ["Docker Hub's pull limit: `docker login`, or wait"]),
    (r"pull access denied|manifest unknown|not found: manifest", ["the image name is wrong or private: check it"]),
]


@rule
def docker_hello_failed(snap, host):
    hello = snap.command("docker_hello")
    if not hello:
        return None
    saw_hello = "Hello from Docker" in hello.text
    if saw_hello or not hello.failed:
        return None
    if (
        re.search(_UNREACHABLE + r"|permission denied while trying to connect|" + _DOCKER_NOT_FOUND, hello.text, re.I)
        or hello.rc == 127
    ):
        return None
    lines = hello.lines()
    line = next(
        (ln for ln in lines if re.search(r"error|denied|failed|cannot|unable", ln, re.I)),
        lines[0] if lines else "no output",
    )
    steps = []
    for pattern, fix in _HELLO_CAUSES:
        if re.search(pattern, hello.text, re.I):
            steps += fix
            break
    if hello.timed_out:
        steps.append("the run hung: restart the daemon")
    if not steps:
        steps = docker_service(host, "restart") + [
            "read the daemon's log: `journalctl -u docker` or /var/log/dockerd.log"
        ]
    return Finding(
        "docker-hello-failed",
        "error",
        "Docker answers but a plain container does not run",
        f"docker_hello: {line[:300]}",
        steps,
        [DOCS["docker_proxy"], DOCS["docker_daemon"]],
    )


@rule
def docker_desktop_conflict(snap, host):
    hit = None
    if host.docker_desktop:
        local = _dpkg_installed(snap, r"docker\.io|docker-ce|moby-engine", "dpkg_docker")
        if local:
            hit = ("dpkg_docker", "Docker Desktop engine in use, but installed in the distro: " + ", ".join(local))
        elif snap.path("/usr/bin/dockerd"):
            hit = ("paths", "Docker Desktop engine in use, but /usr/bin/dockerd exists in the distro")
        elif snap.command("nvidia_ctk_version") and snap.command("nvidia_ctk_version").ok:
            hit = (
                "docker_info",
                f"Operating System: {host.docker_engine_os} while the NVIDIA Container Toolkit is installed in the distro",
            )
    sudo = snap.command("docker_gpu_sudo")
    plain = snap.command("docker_gpu") or snap.command("docker_info")
    if not hit and sudo and sudo.ok and plain and plain.failed:
        hit = ("docker_gpu_sudo", "`sudo docker` works while plain `docker` fails: two engines answer")
    if not hit:
        return None
    return Finding(
        "docker-desktop-conflict",
        "warning",
        "Two Docker engines (Docker Desktop and one inside the distro) claim the CLI",
        _ev(hit),
        [
            "choose one engine: `docker context ls`, `docker context use default` (distro engine) or `desktop-linux`",
            "with Docker Desktop: remove the distro's engine: `sudo apt-get purge docker-ce docker-ce-cli containerd.io docker.io`",
            "or without Docker Desktop: turn off its WSL integration for this distro",
        ],
        [DOCS["docker_desktop_wsl"]],
    )


def _engine_version(snap) -> str | None:
    info = snap.command("docker_info")
    match = info and re.search(r"Server Version:\s*(\S+)|\"ServerVersion\"\s*:\s*\"([^\"]+)\"", info.text)
    if match:
        return match.group(1) or match.group(2)
    version = snap.command("docker_version")
    match = version and re.search(r"^\s*Engine:\s*\n\s*Version:\s*(\S+)", version.text, re.M)
    return match.group(1) if match else None


@rule
def docker_ok(snap, host):
    hello = snap.command("docker_hello")
    if not hello or hello.failed or not (hello.ok or "Hello from Docker" in hello.text):
        return None
    evidence = "docker_hello: " + ("Hello from Docker!" if "Hello from Docker" in hello.text else "exit 0")
    title = "Docker Engine answers and runs containers"
    version = _engine_version(snap)
    if version:
        title += f" (engine {version})"
    return Finding("docker-ok", "ok", title, evidence)


# --- toolkit -----------------------------------------------------------------------------
@rule
def legacy_nvidia_docker(snap, host):
    packages = _dpkg_installed(snap, r"nvidia-docker2?|nvidia-container-runtime")
    hit = ("dpkg_nvidia", "installed: " + ", ".join(packages)) if packages else None
    if not hit:
        for path, text in snap.files_matching("/etc/apt/sources.list.d/").items():
            if re.search(r"nvidia\.github\.io/(nvidia-docker|nvidia-container-runtime)", text):
                hit = (
                    "files",
                    f"{path}: {next(ln for ln in text.splitlines() if 'nvidia.github.io' in ln).strip()[:200]}",
                )
                break
    hit = hit or _find(
        snap,
        r"nvidia-docker-plugin|nvidia_driver_\d|nvidia\.github\.io/(nvidia-docker|nvidia-container-runtime)|"
        r"# Unsupported distribution!",
    )
    nvdocker = snap.command("nvidia_docker_run")
    if not hit and nvdocker and nvdocker.ok:
        hit = ("nvidia_docker_run", "the nvidia-docker wrapper works")
    if not hit:
        return None
    return Finding(
        "legacy-nvidia-docker",
        "warning",
        "Legacy NVIDIA Docker (nvidia-docker 1.0 / nvidia-docker2) is in use",
        _ev(hit),
        [
            "sudo rm -f /etc/apt/sources.list.d/nvidia-docker.list /etc/apt/sources.list.d/nvidia-container-runtime.list",
            "gpudock plan toolkit   # the NVIDIA Container Toolkit from its current repository",
            "sudo apt-get purge nvidia-docker2 nvidia-container-runtime   # after the toolkit is installed",
            "use `docker run --gpus all …` instead of `nvidia-docker run …`",
        ],
        [DOCS["toolkit_install"], DOCS["nvidia_docker_archived"]],
    )


def _toolkit_installed(snap) -> bool:
    ctk = snap.command("nvidia_ctk_version")
    return bool(
        (ctk and ctk.ok)
        or snap.path("/usr/bin/nvidia-container-runtime-hook")
        or _dpkg_installed(snap, r"nvidia-container-toolkit(-base)?")
    )


@rule
def nvidia_toolkit_missing(snap, host):
    hit = _find(snap, r"could not select device driver .* with capabilities: \[\[gpu\]\]")
    if not hit:
        ctk, cli = snap.command("nvidia_ctk_version"), snap.command("nvidia_container_cli_info")
        docker_works = (snap.command("docker_hello") or CommandResult("", None, "", "")).ok
        if (
            ctk
            and ctk.not_found
            and (not cli or cli.not_found)
            and docker_works
            and not host.docker_desktop
            and not _container_saw_gpu(snap)
            and not _toolkit_installed(snap)
        ):
            hit = (ctk.name, (ctk.lines() or ["nvidia-ctk: command not found"])[0])
    if not hit:
        return None
    if host.docker_desktop:
        steps = [
            "Docker Desktop: use the WSL 2 backend, update Docker Desktop and the NVIDIA Windows driver, `wsl --update`",
            "do not install the toolkit inside the distro for Docker Desktop's engine",
        ]
    elif _toolkit_installed(snap):
        steps = [
            "the toolkit is installed but dockerd started before it (Docker registers --gpus only if "
            "nvidia-container-runtime-hook was on PATH at start): restart the daemon",
            *docker_service(host, "restart"),
        ]
    else:
        steps = [
            "gpudock plan toolkit   # NVIDIA's repository with a signed-by keyring, nvidia-container-toolkit",
            "sudo nvidia-ctk runtime configure --runtime=docker",
            *docker_service(host, "restart"),
        ]
    steps.append("docker run --rm --gpus all ubuntu nvidia-smi")
    return Finding(
        "nvidia-toolkit-missing",
        "error",
        "docker --gpus cannot work: the NVIDIA Container Toolkit is not installed or not registered",
        _ev(hit),
        steps,
        [DOCS["toolkit_install"]],
    )


signature_rule(
    "nvidia-runtime-unknown",
    r"unknown or invalid runtime name: nvidia|Unknown runtime specified nvidia",
    "Docker does not know the nvidia runtime (--runtime=nvidia)",
    lambda host: [
        "sudo nvidia-ctk runtime configure --runtime=docker   # adds runtimes.nvidia to /etc/docker/daemon.json",
        *docker_service(host, "restart"),
        "or drop --runtime=nvidia and use --gpus all",
    ],
    [DOCS["toolkit_install"]],
)


def _runtimes_line(snap) -> str | None:
    info = snap.command("docker_info")
    if not info or not _docker_info_ok(snap):
        return None
    match = re.search(r"^\s*Runtimes:(.*)$", info.text, re.M) or re.search(
        r'"Runtimes"\s*:\s*(\{[^}]*(\{[^}]*\}[^}]*)*\})', info.text
    )
    return match.group(0).strip() if match else None


signature_rule(
    "docker-gpus-unsupported",
    r"unknown flag: --gpus",
    "This docker CLI predates --gpus (Docker 19.03): the client, not the toolkit, is too old",
    lambda host: [
        "docker version   # the Client: Version must be 19.03 or newer (the server may already be)",
        "gpudock plan docker   # a current Docker Engine and CLI from one source",
        "until then: docker run --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=all …",
    ],
    [DOCS["docker_install_ubuntu"], DOCS["toolkit_install"]],
)


@rule
def nvidia_runtime_not_configured(snap, host):
    if host.docker_desktop or not _toolkit_installed(snap):
        return None
    runtimes = _runtimes_line(snap)
    if runtimes and "nvidia" not in runtimes:
        hit = ("docker_info", runtimes)
    else:
        daemon = snap.file("/etc/docker/daemon.json")
        if runtimes is None and daemon is not None and "nvidia" not in daemon:
            hit = ("files", "/etc/docker/daemon.json " + ("is absent" if daemon == "" else "has no nvidia runtime"))
        else:
            return None
    return Finding(
        "nvidia-runtime-not-configured",
        "warning",
        "The toolkit is installed but Docker is not configured for it",
        _ev(hit),
        [
            "sudo nvidia-ctk runtime configure --runtime=docker",
            *docker_service(host, "restart"),
            "docker info | grep -i runtimes   # must list nvidia",
        ],
        [DOCS["toolkit_install"]],
    )


# --- containers --------------------------------------------------------------------------
def _driver_cuda_version(snap) -> str | None:
    hit = _find(snap, r"CUDA Version:\s*[\d.]+", ["nvidia_smi"])
    return re.search(r"[\d.]+$", hit[1].split("CUDA Version:")[1].split()[0]).group(0) if hit else None


@rule
def cuda_driver_too_old(snap, host):
    hit = _find(snap, r"unsatisfied condition: cuda\s*>=\s*[\d.]+")
    if not hit:
        return None
    wanted = re.search(r"cuda\s*>=\s*([\d.]+)", hit[1]).group(1)
    have = _driver_cuda_version(snap)
    driver = (
        ["update the NVIDIA driver on Windows, then " + windows("wsl --shutdown")]
        if host.is_wsl
        else ["gpudock plan driver   # a newer driver branch", "sudo reboot"]
    )
    return Finding(
        "cuda-driver-too-old",
        "error",
        f"The image needs CUDA {wanted}, newer than the driver supports" + (f" ({have})" if have else ""),
        _ev(hit),
        [
            *driver,
            f"or use an image built for CUDA {have} or older" if have else "or use an image for an older CUDA",
            "do not set NVIDIA_DISABLE_REQUIRE: the program would fail later",
        ],
        [DOCS["cuda_compat"]],
    )


signature_rule(
    "wsl-lib-file-exists",
    r"file creation failed: .*lib(nvidia|cuda)\S*\.so[.\d]*: file exists",
    "The toolkit cannot mount the WSL driver libraries: the image already has them",
    [
        "use an image that does not ship libnvidia-ml.so.1 / libcuda.so.1 (the official nvidia/cuda images do not)",
        "if you built it: do not copy driver libraries into it (let the toolkit inject them)",
        "remove Linux driver packages from the distro (`dpkg -l '*nvidia*'`), then `gpudock plan toolkit` for a current toolkit",
    ],
    [DOCS["toolkit_troubleshooting"], DOCS["wsl_cuda"]],
)


@rule
def nvml_unknown_error(snap, host):
    hit = _find(snap, r"Failed to initialize NVML: Unknown Error")
    if not hit:
        return None
    config = snap.file("/etc/nvidia-container-runtime/config.toml") or ""
    no_cgroups = re.search(r"^\s*no-cgroups\s*=\s*true", config, re.M)
    if hit[0] in CONTAINER_PROBES:
        steps = ["this is a fresh container: the runtime did not give it the GPU's cgroup device access"]
        if no_cgroups:
            steps.append(
                "sudo nvidia-ctk config --set nvidia-container-cli.no-cgroups=false --in-place   # true is only for rootless Docker"
            )
        steps += ["gpudock plan toolkit   # a current toolkit supports cgroup v2", *docker_service(host, "restart")]
    else:
        steps = [
            "a container that worked lost the GPU after `systemctl daemon-reload` (systemd cgroup driver): recreate it",
            "to prevent it: use CDI (`sudo nvidia-ctk cdi generate --output=/var/run/cdi/nvidia.yaml`, `--device nvidia.com/gpu=all`) "
            'or set "exec-opts": ["native.cgroupdriver=cgroupfs"] in /etc/docker/daemon.json',
            "a fresh container failing the same way: check no-cgroups in /etc/nvidia-container-runtime/config.toml and update the toolkit",
        ]
    return Finding(
        "nvml-unknown-error",
        "error",
        "NVML: Unknown Error inside the container (GPU device access lost)",
        _ev(hit),
        steps,
        [DOCS["toolkit_troubleshooting"]],
    )


signature_rule(
    "cuda-no-device",
    r"only 0 Devices available|CUDA_ERROR_NO_DEVICE|no CUDA-capable device is detected|cudaErrorNoDevice|no devices supporting CUDA",
    "The container starts but CUDA sees no GPU",
    lambda host: (
        [
            "run the container with `--gpus all` (or `--runtime=nvidia`, or `--device nvidia.com/gpu=all` with CDI)",
            "do not set NVIDIA_VISIBLE_DEVICES=void/none or NVIDIA_DISABLE_REQUIRE",
        ]
        + (
            [
                "on WSL 2 check /dev/dxg and /usr/lib/wsl/lib inside the container; update the Windows driver and `wsl --update`"
            ]
            if host.kind == WSL2
            else []
        )
    ),
    [DOCS["toolkit_troubleshooting"]],
)


@rule
def nvidia_driver_ok(snap, host):
    hit = _host_smi_ok(snap)
    if not hit:
        return None
    names = ", ".join(g["name"] for g in host.gpus)
    return Finding("nvidia-driver-ok", "ok", "The NVIDIA driver answers" + (f": {names}" if names else ""), _ev(hit))


@rule
def gpu_ok(snap, host):
    hit = _container_saw_gpu(snap)
    if not hit:
        return None
    return Finding("gpu-ok", "ok", "A container sees the GPU", _ev(hit))


# --- entry point -------------------------------------------------------------------------
def _order_key(finding: Finding) -> tuple:
    rank = ORDER.index(finding.code) if finding.code in ORDER else len(ORDER)
    return (_SEVERITY_RANK.get(finding.severity, 9), rank)


def diagnose(snap: Snapshot, host: HostInfo | None = None) -> list[Finding]:
    """All findings, ordered by what to fix first (errors before warnings, lower layers first)."""
    host = host or host_info(snap)
    findings = []
    for check in RULES:
        try:
            found = check(snap, host)
        except Exception as err:  # a rule bug must not hide the other findings
            found = Finding(
                "doctor-rule-error",
                "info",
                f"gpudock's rule {check.__name__} failed on this snapshot",
                f"{type(err).__name__}: {err}",
                ["please report this with the snapshot"],
            )
        if found:
            findings.append(found)
    return sorted(findings, key=_order_key)
