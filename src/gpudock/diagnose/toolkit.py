"""Toolkit layer: the NVIDIA Container Toolkit and Docker's wiring to it, judged without a container.

The toolkit's state comes from its own commands (``nvidia-ctk --version``, ``nvidia-container-cli
--version`` / ``info``), the runtimes ``docker info`` lists (a pasted fragment with only its
``Runtimes:`` line counts), ``/etc/docker/daemon.json`` and the CDI spec folders, so an offline
host with no image to run still gets its verdict.
"""

from __future__ import annotations

from ..facts.cdi import cdi_works, engine, spec_unseen
from ..facts.evidence import (
    Line,
    cite,
    container_saw_gpu,
    daemon_json_has_nvidia,
    docker_info_ok,
    find,
    host_smi_ok,
    installed_packages,
    runtime_names,
    runtimes,
    toolkit_absent,
    toolkit_evidence,
)
from ..fixes import DOCS, LEGACY_LIST_PATTERNS, docker_service
from ..images import CUDA_IMAGE
from .cdi import GPUS_BEFORE_28_2
from .docker import current_context
from .registry import Hit, register

LEGACY_LISTS = " ".join(f"/etc/apt/sources.list.d/{pattern}" for pattern in LEGACY_LIST_PATTERNS)
_LEGACY_REPO = r"nvidia\.github\.io/(nvidia-docker|nvidia-container-runtime)"


def _legacy_fix(snap, host, hit):
    steps = []
    if hit.data.get("v1"):
        steps.append(
            "nvidia-docker 1.0: `sudo apt-get remove nvidia-docker`, then `docker volume ls -q -f "
            "name=nvidia_driver_ | xargs -r docker volume rm`"
        )
    steps += [
        "sudo cp -a /etc/docker/daemon.json /root/daemon.json.bak   # if it exists: nvidia-docker2 owns this file",
        "sudo apt-get remove nvidia-docker2 nvidia-container-runtime   # remove, never purge: purge deletes "
        "/etc/docker/daemon.json (a conffile of nvidia-docker2) and with it the nvidia runtime",
        f"sudo rm -f {LEGACY_LISTS}   # the old repositories (keep nvidia-container-toolkit.list)",
        "gpudock plan toolkit   # the NVIDIA Container Toolkit from its current repository",
        "sudo nvidia-ctk runtime configure --runtime=docker   # writes the nvidia runtime into daemon.json again",
        *docker_service(host, "restart"),
        "use `docker run --gpus all …` instead of `nvidia-docker run …`",
    ]
    return steps


@register(
    "legacy-nvidia-docker",
    severity="warning",
    layer="toolkit",
    order=10,
    title="Legacy NVIDIA Docker (nvidia-docker 1.0 / nvidia-docker2) is in use",
    fix=_legacy_fix,
    docs=[DOCS["toolkit_install"], DOCS["nvidia_docker2_conffile"], DOCS["nvidia_docker_archived"]],
)
def legacy_nvidia_docker(snap, host):
    packages = installed_packages(snap, r"nvidia-docker2?|nvidia-container-runtime")
    hit = Line("dpkg_nvidia", "installed: " + ", ".join(packages)) if packages else None
    if not hit:
        for path, text in sorted(snap.files_matching("/etc/apt/sources.list.d/").items()):
            line = find_line(text, "nvidia.github.io/")
            if line and ("nvidia-docker" in line or "nvidia-container-runtime" in line):
                hit = Line("files", f"{path}: {line[:200]}")
                break
    v1 = find(snap, r"nvidia-docker-plugin|nvidia_driver_\d")
    hit = hit or v1 or find(snap, _LEGACY_REPO + r"|# Unsupported distribution!")
    nvdocker = snap.command("nvidia_docker_run")
    if not hit and nvdocker and nvdocker.ok:
        hit = Line("nvidia_docker_run", "the nvidia-docker wrapper works")
    if not hit:
        return None
    return Hit(cite(hit), {"v1": bool(v1) or "nvidia-docker" in packages})


def find_line(text: str, needle: str) -> str | None:
    for line in text.splitlines()[:2000]:
        if needle in line:
            return line.strip()
    return None


CDI_ROUTE_TITLE = "--gpus needs the NVIDIA Container Toolkit on this engine; this host's GPU containers go through CDI"


def _toolkit_missing_fix(snap, host, hit):
    if hit.data.get("cdi_route"):
        return ["`docker run --device nvidia.com/gpu=all …` once dockerd reads its spec (cdi-device-unresolvable)",
                GPUS_BEFORE_28_2]  # fmt: skip
    if host.docker_desktop:
        steps = [
            "Docker Desktop: use the WSL 2 backend, update Docker Desktop and the NVIDIA Windows driver, "
            "`wsl --update`",
            "do not install the toolkit inside the distro for Docker Desktop's engine",
        ]
    elif current_context(snap) == "desktop-linux":
        steps = [
            "the CLI talks to Docker Desktop (context desktop-linux), which has no NVIDIA runtime: "
            "`docker context use default`",
        ]
    elif toolkit_evidence(snap):
        steps = [
            "the toolkit is installed but dockerd started before it (Docker registers --gpus only if "
            "nvidia-container-runtime-hook was on PATH at start): restart the daemon",
            *docker_service(host, "restart"),
        ]
    else:
        steps = [
            *_cdi_alternative(snap, host),
            "gpudock plan toolkit   # NVIDIA's repository with a signed-by keyring, nvidia-container-toolkit",
            "sudo nvidia-ctk runtime configure --runtime=docker",
            *docker_service(host, "restart"),
        ]
    steps.append(f"docker run --rm --gpus all {CUDA_IMAGE} nvidia-smi")
    return steps


def _cdi_alternative(snap, host) -> list[str]:
    """With Docker 25 or newer and a loaded driver, CDI needs no toolkit and no NVIDIA repository (offline too)."""
    version = engine(snap)
    if host.is_wsl or not version or version < (25,) or not host_smi_ok(snap):
        return []
    return [
        "no toolkit needed with this Docker (25 or newer): sudo gpudock install cdi --apply   # a CDI spec from the "
        "loaded driver, then `docker run --device nvidia.com/gpu=all …`; or, for `--gpus`, the toolkit:",
    ]


_TOOLKIT_MISSING_TITLE = "docker --gpus cannot work: the NVIDIA Container Toolkit is not installed or not registered"


@register(
    "nvidia-toolkit-missing",
    severity="error",
    layer="toolkit",
    order=20,
    title=_TOOLKIT_MISSING_TITLE,
    fix=_toolkit_missing_fix,
    docs=[DOCS["toolkit_install"]],
)
def toolkit_refused_by_docker(snap, host):
    """Docker's own words: no device driver for the gpu capability (a note instead where CDI gives the GPU, or where
    the CDI route is set up and only dockerd's view of the spec is stale: cdi-device-unresolvable says so)."""
    if cdi_works(snap):
        return None
    hit = find(snap, r"could not select device driver .{0,80} with capabilities: \[\[gpu\]\]")
    if hit and spec_unseen(snap, host):
        return Hit(cite(hit), {"cdi_route": True}, severity="info", title=CDI_ROUTE_TITLE)
    return Hit(cite(hit)) if hit else None


@register(
    "nvidia-toolkit-missing",
    severity="error",
    layer="toolkit",
    order=21,
    title="The NVIDIA Container Toolkit is not installed (judged without a container)",
    fix=_toolkit_missing_fix,
    docs=[DOCS["toolkit_install"]],
)
def toolkit_not_installed(snap, host):
    """No container needed: the toolkit's commands are missing and nothing else shows it, while Docker answers."""
    if (
        host.docker_desktop
        or container_saw_gpu(snap)
        or cdi_works(snap)
        or spec_unseen(snap, host)
        or find(snap, r"could not select device driver")
    ):
        return None
    hello = snap.command("docker_hello")
    if not (docker_info_ok(snap) or (hello and hello.ok)):
        return None
    absent = toolkit_absent(snap)
    return Hit(cite(absent)) if absent else None


@register(
    "nvidia-runtime-unknown",
    severity="error",
    layer="toolkit",
    order=30,
    title="Docker does not know the nvidia runtime (--runtime=nvidia)",
    fix=lambda snap, host, hit: [
        "sudo nvidia-ctk runtime configure --runtime=docker   # adds runtimes.nvidia to /etc/docker/daemon.json",
        *docker_service(host, "restart"),
        "docker info | grep -i runtimes   # must list nvidia",
        "or drop --runtime=nvidia and use --gpus all",
    ],
    docs=[DOCS["toolkit_install"]],
)
def nvidia_runtime_unknown(snap, host):
    hit = find(snap, r"unknown or invalid runtime name: nvidia|Unknown runtime specified nvidia")
    return Hit(cite(hit)) if hit else None


def _not_configured_fix(snap, host, hit):
    if hit.data.get("restart_only"):
        return [
            "the nvidia runtime is already in /etc/docker/daemon.json: the daemon has not read it yet",
            *docker_service(host, "restart"),
            "docker info | grep -i runtimes   # must list nvidia",
        ]
    return [
        "sudo nvidia-ctk runtime configure --runtime=docker",
        *docker_service(host, "restart"),
        "docker info | grep -i runtimes   # must list nvidia",
    ]


@register(
    "nvidia-runtime-not-configured",
    severity="warning",
    layer="toolkit",
    order=40,
    title="The toolkit is installed but Docker is not configured for it",
    fix=_not_configured_fix,
    docs=[DOCS["toolkit_install"]],
)
def nvidia_runtime_not_configured(snap, host):
    if host.docker_desktop or not toolkit_evidence(snap):
        return None
    listed = runtimes(snap)
    in_daemon_json = daemon_json_has_nvidia(snap)
    if find(snap, r"cdi: nvidia\.com/gpu", ["docker_info"]):
        return None  # Docker 28.2+ lists the GPUs as CDI devices: --device nvidia.com/gpu=all needs no runtime
    if listed is not None:
        if "nvidia" in runtime_names(listed):
            return None
        if in_daemon_json:
            return Hit(
                cite(listed),
                {"restart_only": True},
                title="daemon.json has the nvidia runtime but the running dockerd does not: restart it",
            )
        return Hit(cite(listed))
    if in_daemon_json is False:
        text = snap.file("/etc/docker/daemon.json")
        return Hit(
            cite(Line("files", "/etc/docker/daemon.json " + ("is absent" if not text else "has no nvidia runtime")))
        )
    return None
