"""Which generation of "NVIDIA Docker" a host has (deck section 1.3), read from a Snapshot.

1.0  nvidia-docker + nvidia-docker-plugin (a volume plugin daemon, `nvidia_driver_<ver>` volumes)
2.0  nvidia-docker2: `--runtime=nvidia`, the `nvidia-docker` wrapper script
2.2+ NVIDIA Container Toolkit: Docker 19.03's `--gpus`, nvidia-container-runtime-hook, nvidia-ctk
CDI  Container Device Interface specs (`nvidia-ctk cdi generate`), `--device nvidia.com/gpu=all`
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .diagnose import _container_saw_gpu, _dpkg_installed, _find  # shared evidence readers
from .snapshot import Snapshot


@dataclass
class Generation:
    key: str
    name: str
    present: bool
    evidence: str


def _runtime_nvidia(snap: Snapshot) -> str:
    info = snap.command("docker_info")
    if info and re.search(r"Runtimes:.*\bnvidia\b|\"nvidia\"\s*:", info.text):
        return "docker_info: Runtimes lists nvidia"
    daemon = snap.file("/etc/docker/daemon.json") or ""
    return "/etc/docker/daemon.json has runtimes.nvidia" if '"nvidia"' in daemon else ""


def generations(snap: Snapshot) -> list[Generation]:
    v1 = _dpkg_installed(snap, r"nvidia-docker") or _find(snap, r"nvidia-docker-plugin|nvidia_driver_\d")
    v2_pkgs = _dpkg_installed(snap, r"nvidia-docker2|nvidia-container-runtime")
    runtime = _runtime_nvidia(snap)
    ctk = snap.command("nvidia_ctk_version")
    hook = snap.path("/usr/bin/nvidia-container-runtime-hook")
    toolkit_pkgs = _dpkg_installed(snap, r"nvidia-container-toolkit(-base)?")
    gpu_flag = _container_saw_gpu(snap)
    cdi = [p for p in ("/var/run/cdi/nvidia.yaml", "/etc/cdi/nvidia.yaml") if snap.path(p)]

    def ev(*parts) -> str:
        return "; ".join(p for p in parts if p)

    toolkit_evidence = ev(
        (ctk.stdout.splitlines()[0] if ctk and ctk.ok and ctk.stdout else ""),
        "nvidia-container-runtime-hook on PATH" if hook else "",
        ("installed: " + ", ".join(toolkit_pkgs)) if toolkit_pkgs else "",
        f"{gpu_flag[0]}: a --gpus container saw the GPU" if gpu_flag and gpu_flag[0] != "docker_gpu_runtime" else "",
    )
    return [
        Generation(
            "v1",
            "nvidia-docker 1.0 (nvidia-docker-plugin)",
            bool(v1),
            ("installed: nvidia-docker" if isinstance(v1, list) else f"{v1[0]}: {v1[1]}") if v1 else "",
        ),
        Generation(
            "v2",
            "--runtime=nvidia, nvidia-docker2's way (today's toolkit registers it too)",
            bool(v2_pkgs or runtime),
            ev(("installed: " + ", ".join(v2_pkgs)) if v2_pkgs else "", runtime),
        ),
        Generation("toolkit", "NVIDIA Container Toolkit (docker --gpus)", bool(toolkit_evidence), toolkit_evidence),
        Generation("cdi", "CDI (--device nvidia.com/gpu=all)", bool(cdi), ("spec: " + ", ".join(cdi)) if cdi else ""),
    ]
