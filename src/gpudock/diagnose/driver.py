"""Driver layer: the host's NVIDIA kernel driver and its user-space libraries (native Linux).

Evidence comes from the host's own probes (``nvidia_smi``, ``nvidia_container_cli_*``) or from the
runtime hook's own words (``nvidia-container-cli: …`` runs on the host even inside a container
probe). Text that ``nvidia-smi`` prints *inside* a container (``couldn't find libnvidia-ml.so``) is
about the container, never proof that the host lacks a driver.
"""

from __future__ import annotations

from ..facts.evidence import (
    CONTAINER_PROBES,
    HOST_SMI_PROBES,
    SMI_BROKEN,
    Line,
    cite,
    container_saw_gpu,
    find,
    host_smi_ok,
    lines_of,
    probe_names,
    ran_cleanly,
    search,
)
from ..facts.host import WSL1, WSL2
from ..fixes import DOCS, wsl_restart_steps
from .registry import Hit, register

HOOK_NO_NVML = r"load library failed: libnvidia-ml\.so"
SMI_NO_NVML = r"couldn't find libnvidia-ml\.so|NVIDIA-SMI couldn't find"


def _driver_answered(snap) -> bool:
    """The driver works: nvidia-smi exited 0 (its output not shown), or a GPU container exited 0 without an
    error line (`sudo docker` reaching the engine that has the toolkit, beside Docker Desktop's)."""
    smi = snap.command("nvidia_smi")
    if smi and smi.ok and not search(SMI_BROKEN, smi.text):
        return True
    return any(ran_cleanly(snap.command(name)) for name in CONTAINER_PROBES)


@register(
    "nvidia-driver-missing",
    severity="error",
    layer="driver",
    order=10,
    title="No NVIDIA driver on this host",
    fix=[
        "check the GPU is there: `lspci -d 10de:`",
        "gpudock plan driver   # NVIDIA's CUDA repository (cuda-keyring), then nvidia-open "
        "(open kernel modules, the default since R560) or, for Maxwell/Pascal/Volta, the proprietary "
        "cuda-drivers pinned to the 580 branch",
        "sudo reboot",
        "nvidia-smi",
    ],
    docs=[DOCS["driver_install"]],
)
def nvidia_driver_missing(snap, host):
    if host.kind in (WSL1, WSL2) or container_saw_gpu(snap) or host_smi_ok(snap) or _driver_answered(snap):
        return None
    hit = None
    for name in HOST_SMI_PROBES:
        smi = snap.command(name)
        if smi and smi.not_found:
            hit = Line(smi.name, (lines_of(smi.text) or ["nvidia-smi: command not found"])[0])
            break
    hit = hit or find(
        snap, SMI_NO_NVML + r"|nvidia-smi: (command )?not found|Command 'nvidia-smi' not found", HOST_SMI_PROBES
    )
    host_probes = [n for n in probe_names(snap) if n not in CONTAINER_PROBES]
    hit = hit or find(snap, HOOK_NO_NVML, host_probes)
    # The hook (on the host) saying it cannot load NVML inside a container probe's error.
    hit = hit or find(snap, r"nvidia-container-cli: initialization error: " + HOOK_NO_NVML, CONTAINER_PROBES)
    if not hit:
        return None
    evidence = cite(hit) + ("; /dev/nvidia0 is absent" if snap.path("/dev/nvidia0") is False else "")
    return Hit(evidence)


@register(
    "nvidia-driver-unreachable",
    severity="error",
    layer="driver",
    order=20,
    title="nvidia-smi is installed but cannot talk to the NVIDIA kernel driver",
    fix=[
        "sudo modprobe nvidia   # read the error: 'Key was rejected by service' means Secure Boot blocks the module",
        "mokutil --sb-state   # 'SecureBoot enabled': enrol the key DKMS signs modules with, e.g. "
        "`sudo mokutil --import /var/lib/dkms/mok.pub` (Ubuntu: /var/lib/shim-signed/mok/MOK.der), reboot "
        "and choose 'Enroll MOK' in the blue screen",
        "dkms status   # a module not built for the running kernel:",
        "sudo apt-get install linux-headers-$(uname -r) && sudo dkms autoinstall",
        "sudo reboot",
    ],
    docs=[DOCS["driver_install"]],
)
def nvidia_driver_unreachable(snap, host):
    if host.kind in (WSL1, WSL2):
        return None
    pattern = r"couldn't communicate with the NVIDIA driver|nvml error: driver not loaded|NVIDIA driver is not loaded"
    hit = find(snap, pattern, [n for n in probe_names(snap) if n not in CONTAINER_PROBES])
    if not hit and not host_smi_ok(snap):
        # inside a container only when the host's own nvidia-smi does not contradict it
        hit = find(snap, pattern, CONTAINER_PROBES)
    return Hit(cite(hit)) if hit else None


def _mismatch_fix(snap, host, hit):
    steps = [
        "sudo reboot   # the kernel module is older than the libraries a driver upgrade installed",
        "after the reboot `cat /proc/driver/nvidia/version` and `nvidia-smi` show the same version",
    ]
    if host.kind == WSL2:
        steps = [
            "inside WSL a Linux driver shadows the Windows one: remove it (see wsl-linux-driver-installed)",
            *wsl_restart_steps(),
        ]
    if hit.data.get("probe") in CONTAINER_PROBES:
        steps.append(
            "if the host's nvidia-smi works, the image ships its own driver libraries: use an image without them"
        )
    return steps


@register(
    "nvml-version-mismatch",
    severity="error",
    layer="driver",
    order=30,
    title="NVML: driver/library version mismatch",
    fix=_mismatch_fix,
    docs=[DOCS["driver_install"]],
)
def nvml_version_mismatch(snap, host):
    hit = find(snap, r"Driver/library version mismatch")
    if not hit:
        return None
    title = None
    if hit.probe in CONTAINER_PROBES and host_smi_ok(snap):
        title = "NVML version mismatch inside the container: the image brings its own driver libraries"
    return Hit(cite(hit), {"probe": hit.probe}, title=title)


@register("nvidia-driver-ok", severity="ok", layer="driver", order=90, title="The NVIDIA driver answers")
def nvidia_driver_ok(snap, host):
    hit = host_smi_ok(snap)
    if not hit:
        return None
    names = ", ".join(g["name"] for g in host.gpus)
    return Hit(cite(hit), title="The NVIDIA driver answers" + (f": {names}" if names else ""))
