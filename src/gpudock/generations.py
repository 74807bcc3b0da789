"""Which generation of "NVIDIA Docker" a host has (deck section 1.3), read from a Snapshot.

1.0  nvidia-docker + nvidia-docker-plugin (a volume plugin daemon, `nvidia_driver_<ver>` volumes)
2.0  nvidia-docker2: `--runtime=nvidia`, the `nvidia-docker` wrapper script
2.2+ NVIDIA Container Toolkit: Docker 19.03's `--gpus`, nvidia-container-runtime-hook, nvidia-ctk
CDI  Container Device Interface specs (`nvidia-ctk cdi generate`), `--device nvidia.com/gpu=all`
"""

from __future__ import annotations

from dataclasses import dataclass

from .facts.evidence import (  # the host facts the generations rest on
    cdi_specs,
    container_saw_gpu,
    daemon_json_has_nvidia,
    find,
    installed_packages,
    runtime_names,
    runtimes,
    toolkit_evidence,
)
from .snapshot import Snapshot


@dataclass
class Generation:
    key: str
    name: str
    present: bool
    evidence: str


def _runtime_nvidia(snap: Snapshot) -> str:
    listed = runtimes(snap)
    if "nvidia" in runtime_names(listed):
        return f"{listed.probe}: Runtimes lists nvidia"
    return "/etc/docker/daemon.json has runtimes.nvidia" if daemon_json_has_nvidia(snap) else ""


def generations(snap: Snapshot) -> list[Generation]:
    v1 = installed_packages(snap, r"nvidia-docker") or find(snap, r"nvidia-docker-plugin|nvidia_driver_\d")
    v2_pkgs = installed_packages(snap, r"nvidia-docker2|nvidia-container-runtime")
    runtime = _runtime_nvidia(snap)
    gpu_flag = container_saw_gpu(snap)
    cdi = cdi_specs(snap)

    def ev(*parts) -> str:
        return "; ".join(p for p in parts if p)

    toolkit_proof = [
        p for p in toolkit_evidence(snap) if not p.startswith(("docker info", "/etc/docker/daemon.json", "CDI spec"))
    ]
    toolkit_evidence_text = ev(
        *toolkit_proof,
        f"{gpu_flag.probe}: a --gpus container saw the GPU"
        if gpu_flag and gpu_flag.probe != "docker_gpu_runtime"
        else "",
    )
    return [
        Generation(
            "v1",
            "nvidia-docker 1.0 (nvidia-docker-plugin)",
            bool(v1),
            ("installed: nvidia-docker" if isinstance(v1, list) else f"{v1.probe}: {v1.text}") if v1 else "",
        ),
        Generation(
            "v2",
            "--runtime=nvidia, nvidia-docker2's way (today's toolkit registers it too)",
            bool(v2_pkgs or runtime),
            ev(("installed: " + ", ".join(v2_pkgs)) if v2_pkgs else "", runtime),
        ),
        Generation(
            "toolkit", "NVIDIA Container Toolkit (docker --gpus)", bool(toolkit_evidence_text), toolkit_evidence_text
        ),
        Generation("cdi", "CDI (--device nvidia.com/gpu=all)", bool(cdi), ("spec: " + ", ".join(cdi)) if cdi else ""),
    ]
