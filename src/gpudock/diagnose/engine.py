"""Docker layer, continued: how Docker is installed (the snap, rootless mode) and a docker group not yet active.

Sources: the docker snap's README (its own NVIDIA support, its daemon.json, the clash with a host toolkit
since snap 29.2.0), Docker's rootless-mode page and NVIDIA's install guide (rootless: ``no-cgroups``),
Docker's post-install page (the docker group takes effect at the next login).
"""

from __future__ import annotations

import re

from ..facts.engine import docker_group_pending, docker_rootless, docker_snap
from ..facts.evidence import cite, container_saw_gpu, toolkit_evidence
from ..facts.host import WSL2
from ..fixes import DOCS, windows
from .registry import Hit, register


def _snap_fix(snap, host, hit):
    steps = [
        "the docker snap brings its own NVIDIA support (CDI, `--runtime nvidia`): run GPU containers as "
        "`docker run --rm --runtime nvidia --gpus all ubuntu nvidia-smi`; its daemon.json is "
        "/var/snap/docker/current/config/daemon.json, which `nvidia-ctk runtime configure` does not edit",
        "`sudo snap refresh docker`, then `sudo snap logs -n 100 docker.nvidia-container-toolkit` shows its GPU setup",
    ]
    if hit.data.get("host_toolkit"):
        steps.append(
            "the toolkit is also installed from apt: since snap 29.2.0 the snap fails GPU containers then; "
            "remove it (`sudo apt remove libnvidia-container1 libnvidia-container-tools "
            "nvidia-container-toolkit-base nvidia-container-toolkit`, reboot) or run with "
            '`--gpus "all,driver=nvidia.runtime-hook"`'
        )
    steps.append(
        "or use Docker's own packages, which gpudock's plans set up: `sudo snap remove --purge docker` "
        "(deletes the snap's images and containers), then `gpudock plan docker --source docker-ce` and "
        "`gpudock plan toolkit`"
    )
    return steps


@register(
    "docker-snap",
    severity="error",
    layer="docker",
    order=25,
    title="Docker is the snap package: the toolkit's configuration and gpudock's apt plans do not reach it",
    fix=_snap_fix,
    docs=[DOCS["docker_snap"], DOCS["toolkit_install"], DOCS["docker_install_ubuntu"]],
)
def docker_is_snap(snap, host):
    line = docker_snap(snap)
    if not line:
        return None
    works = container_saw_gpu(snap)
    return Hit(
        cite(line),
        {"host_toolkit": bool(toolkit_evidence(snap))},
        severity="warning" if works else None,
        title="Docker is the snap package; its GPU containers work, but gpudock's plans do not manage it"
        if works
        else None,
    )


def _rootless_fix(snap, host, hit):
    steps = [
        "rootless Docker cannot set the GPU's device cgroup: tell the toolkit not to "
        "(this affects every Docker on the host, so keep rootful GPU containers elsewhere): "
        "`sudo nvidia-ctk config --set nvidia-container-cli.no-cgroups --in-place`",
        "register the runtime with the rootless daemon: "
        "`nvidia-ctk runtime configure --runtime=docker --config=$HOME/.config/docker/daemon.json`",
        "systemctl --user restart docker",
        "or use CDI (`--device nvidia.com/gpu=all`), which needs no cgroup rights in the hook: "
        "a spec in /etc/cdi or /var/run/cdi that the rootless daemon can read",
    ]
    if hit.data.get("no_cgroups"):
        steps = ["no-cgroups is already true in /etc/nvidia-container-runtime/config.toml", *steps[1:]]
    return steps


@register(
    "docker-rootless",
    severity="warning",
    layer="docker",
    order=26,
    title="Docker runs rootless: GPU containers need the toolkit's rootless setup (no-cgroups) or CDI",
    fix=_rootless_fix,
    docs=[DOCS["toolkit_rootless"], DOCS["docker_rootless"]],
)
def docker_is_rootless(snap, host):
    line = docker_rootless(snap)
    if not line:
        return None
    config = snap.file("/etc/nvidia-container-runtime/config.toml") or ""
    no_cgroups = bool(re.search(r"^\s{0,10}no-cgroups\s{0,5}=\s{0,5}true", config[:100_000], re.M))
    works = container_saw_gpu(snap)
    return Hit(
        cite(line),
        {"no_cgroups": no_cgroups},
        severity="info" if works else None,
        title="Docker runs rootless, and its GPU containers work" if works else None,
    )


def _group_fix(snap, host, hit):
    distro = host.wsl_distro if host.wsl_distro and re.fullmatch(r"[\w.-]{1,64}", host.wsl_distro) else "<distro>"
    steps = ["log out and log in again: a session keeps the groups it started with (`newgrp docker` for one shell)"]
    if host.kind == WSL2:
        steps.append(
            "WSL: close every window of the distro, then " + windows(f"wsl --terminate {distro}") + " and open it again"
        )
    return steps + [
        "restart `gpudock lab` (and Jupyter) afterwards: they keep the groups they started with",
        "check: `id` lists docker, and `docker run --rm hello-world` works without sudo",
    ]


@register(
    "docker-group-pending",
    severity="warning",
    layer="docker",
    order=65,
    title="You were added to the docker group, but this login session does not have it yet",
    fix=_group_fix,
    docs=[DOCS["docker_postinstall"]],
)
def docker_group_not_active(snap, host):
    if host.is_root:
        return None
    line = docker_group_pending(snap, host.user)
    return Hit(cite(line)) if line else None
