"""Which generation of "NVIDIA Docker" a host has (deck section 1.3), read from a Snapshot.

1.0  nvidia-docker + nvidia-docker-plugin (a volume plugin daemon, `nvidia_driver_<ver>` volumes)
2.0  nvidia-docker2: `--runtime=nvidia`, the `nvidia-docker` wrapper script
2.2+ NVIDIA Container Toolkit: Docker 19.03's `--gpus`, nvidia-container-runtime-hook, nvidia-ctk
CDI  Container Device Interface specs (`nvidia-ctk cdi generate`, or `gpudock cdi generate` with no toolkit),
     `--device nvidia.com/gpu=all`: present when an nvidia.com/gpu spec loads, or a container got the GPU through it
"""

from __future__ import annotations

from dataclasses import dataclass

from .facts.cdi import cdi_works
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


def _cdi(snap: Snapshot) -> str:
    """Evidence of the CDI generation: the NVIDIA specs that load (and their devices), a CDI container that worked."""
    from .cdi.check import check
    from .cdi.snapview import SnapshotView

    view = SnapshotView(snap)
    result = check(view) if view.probed() else None
    parts = []
    if result is not None and result.specs:
        devices = ", ".join(result.devices()[:4]) + (" …" if len(result.winner) > 4 else "")
        parts.append(
            "spec: " + ", ".join(s.path for s in result.specs) + (f" (nvidia.com/gpu={devices})" if devices else "")
        )
    elif cdi_specs(snap):
        parts.append("spec: " + ", ".join(cdi_specs(snap)))
    works = cdi_works(snap)
    if works:
        parts.append(f"{works.probe}: a --device nvidia.com/gpu=all container got the GPU")
    return "; ".join(parts)


def generations(snap: Snapshot) -> list[Generation]:
    v1 = installed_packages(snap, r"nvidia-docker") or find(snap, r"nvidia-docker-plugin|nvidia_driver_\d")
    v2_pkgs = installed_packages(snap, r"nvidia-docker2|nvidia-container-runtime")
    runtime = _runtime_nvidia(snap)
    gpu_flag = container_saw_gpu(snap)
    cdi = _cdi(snap)

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
        Generation("cdi", "CDI (--device nvidia.com/gpu=all)", bool(cdi), cdi),
    ]
