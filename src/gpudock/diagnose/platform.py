"""Platform layer: WSL 1 / WSL 2 and whether Windows shares the GPU with the distro at all."""

from __future__ import annotations

import re
import shlex

from ..facts.evidence import Line, cite, container_saw_gpu, find, installed_packages, lines_of
from ..facts.host import UNKNOWN, WSL1, WSL2, windows_build
from ..facts.stack import smi_failure
from ..fixes import DOCS, windows, wsl_restart_steps
from ..snapshot_values import invalid_evidence
from .registry import Hit, register

# GPU paravirtualization reached Windows 10 with 21H2 (build 19044); Windows 11 is 22000 and later, and
# Windows 10 left support on 2025-10-14 (learn.microsoft.com/lifecycle/products/windows-10-home-and-pro).
MIN_WINDOWS_BUILD = 19044
LINUX_DRIVER_PACKAGES = (
    r"nvidia-driver(-\S+)?|nvidia-utils-\S+|libnvidia-compute-\S+|cuda-drivers(-\S+)?|nvidia-open(-\S+)?"
    r"|nvidia-kernel-\S+|nvidia-dkms-\S+|nvidia-headless-\S+|xserver-xorg-video-nvidia\S*"
)
# Files a Linux driver puts in the distro; WSL's own live in /usr/lib/wsl/lib.
LINUX_DRIVER_FILES = ("/usr/bin/nvidia-smi", "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1")


def linux_driver_packages(snap) -> list[str]:
    return installed_packages(snap, LINUX_DRIVER_PACKAGES)


@register(
    "snapshot-invalid-field",
    severity="warning",
    layer="platform",
    order=0,
    title="Some snapshot values are not valid for their field and were treated as unknown",
    fix=["Probe the host again with `gpudock doctor --save-snapshot FILE` and send that file unedited."],
)
def snapshot_invalid_field(snap, host):
    """Values the snapshot's validation left out (``Snapshot.invalid_fields``): the verdict knows less."""
    return Hit(invalid_evidence(snap.invalid_fields)) if snap.invalid_fields else None


def _wsl1_fix(snap, host, hit):
    distro = host.wsl_distro if host.wsl_distro and re.fullmatch(r"[\w.-]{1,64}", host.wsl_distro) else "<distro>"
    return [
        windows(f"wsl --set-version {distro} 2"),
        windows("wsl --set-default-version 2"),
        "open the distro again and rerun `gpudock doctor`",
    ]


@register(
    "wsl1-no-gpu",
    severity="error",
    layer="platform",
    order=10,
    title="This distro runs under WSL 1, which has no GPU support",
    fix=_wsl1_fix,
    docs=[DOCS["wsl_install"], DOCS["wsl_cuda"]],
)
def wsl1_no_gpu(snap, host):
    if host.kind != WSL1:
        return None
    hit = find(snap, r"WSL 1 distro")
    if hit:
        return Hit(cite(hit))
    return Hit(f"platform.release: {host.kernel or (snap.file('/proc/version') or '').strip()[:200]}")


_GPU_PV = r"driver error: failed to process request|GPU access blocked by the operating system"


def _not_exposed_fix(snap, host, hit):
    steps = []
    build = hit.data.get("build")
    if build and build < MIN_WINDOWS_BUILD:
        steps.append(
            f"Windows build {build} predates GPU support in WSL: use Windows 11 (NVIDIA's WSL guide targets it; "
            "Windows 10 left support on 2025-10-14), or at least Windows 10 21H2 (build 19044)"
        )
    steps += [
        "install the current NVIDIA driver for your GPU on Windows (not inside Linux)",
        *wsl_restart_steps(),
        "`GPU access blocked by the operating system`: a data-centre GPU in TCC mode is not shared with WSL; "
        + windows("nvidia-smi -g 0 -dm 0")
        + " (as administrator, WDDM mode) and reboot Windows; also remove any "
        "nvidia-utils-* installed inside the distro",
        "check: `ls -l /dev/dxg /usr/lib/wsl/lib/libcuda.so.1` and `/usr/lib/wsl/lib/nvidia-smi` must work",
    ]
    return steps


@register(
    "wsl-gpu-not-exposed",
    severity="error",
    layer="platform",
    order=20,
    title="WSL 2 does not expose the GPU (GPU paravirtualization is unusable)",
    fix=_not_exposed_fix,
    docs=[DOCS["wsl_cuda"]],
)
def wsl_gpu_not_exposed(snap, host):
    build = windows_build(snap)
    if host.kind == UNKNOWN:
        # No platform section (a pasted report): this hook error is WSL's dxcore path failing.
        hit = find(snap, r"driver error: failed to process request")
        if hit:
            return Hit(
                cite(hit),
                {"build": build},
                title="The GPU is not shared with WSL 2 (dxcore: failed to process request)",
            )
        return None
    if host.kind != WSL2:
        return None
    hit = find(snap, _GPU_PV + r"|load library failed: libnvidia-ml\.so")
    if not hit and build and build < MIN_WINDOWS_BUILD:
        hit = Line("windows_version", f"Windows build {build} (GPU support in WSL needs 19044 or newer)")
    if not hit:
        for path in ("/dev/dxg", "/usr/lib/wsl/lib/libcuda.so.1"):
            if snap.path(path) is False:
                hit = Line("paths", f"{path} is absent")
                break
    if not hit:
        smi = snap.command("nvidia_smi")
        failure = smi_failure(snap)
        if smi and (smi.not_found or smi.failed or failure) and not linux_driver_packages(snap):
            if not container_saw_gpu(snap):
                hit = failure[1] if failure else Line("nvidia_smi", (lines_of(smi.text) or ["nvidia-smi failed"])[0])
    return Hit(cite(hit), {"build": build}) if hit else None


@register(
    "wsl-no-adapters",
    severity="error",
    layer="platform",
    order=30,
    title="The container toolkit found WSL but no GPU adapter",
    fix=[
        "make sure the machine has an NVIDIA GPU that Windows' Device Manager shows working "
        "(laptops with only an Intel/AMD GPU cannot run CUDA containers)",
        "install the current NVIDIA Windows driver (GPU-PV support)",
        *wsl_restart_steps(),
        "update the toolkit in the distro: `gpudock plan toolkit`",
    ],
    docs=[DOCS["wsl_cuda"], DOCS["toolkit_troubleshooting"]],
)
def wsl_no_adapters(snap, host):
    hit = find(snap, r"WSL environment detected but no adapters were found")
    return Hit(cite(hit)) if hit else None


def _linux_driver_fix(snap, host, hit):
    packages = hit.data.get("packages") or []
    purge = "sudo apt-get purge --autoremove " + (
        " ".join(shlex.quote(p) for p in packages)
        if packages
        else "'nvidia-driver-*' 'nvidia-utils-*' 'libnvidia-compute-*' 'nvidia-open*' cuda-drivers"
    )
    return [
        purge,
        "then check that no Linux driver file is left: `ls /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.* "
        "/usr/bin/nvidia-smi` must list nothing (a driver installed from NVIDIA's .run file: "
        "`sudo nvidia-uninstall`)",
        *wsl_restart_steps(),
        "check: `which nvidia-smi` says /usr/lib/wsl/lib/nvidia-smi and it shows the GPU",
        "for nvcc inside WSL install only `cuda-toolkit-X-Y` (e.g. cuda-toolkit-13-0) from "
        "the wsl-ubuntu repository, never `cuda` or `cuda-drivers`",
    ]


@register(
    "wsl-linux-driver-installed",
    severity="error",
    layer="platform",
    order=40,
    title="A Linux NVIDIA driver is installed inside WSL 2 and shadows the Windows driver",
    fix=_linux_driver_fix,
    docs=[DOCS["wsl_cuda"]],
)
def wsl_linux_driver_installed(snap, host):
    if host.kind != WSL2:
        return None
    packages = linux_driver_packages(snap)
    if packages:
        return Hit(cite(Line("dpkg_nvidia", "installed: " + ", ".join(packages))), {"packages": packages})
    hit = find(
        snap,
        r"selecting /usr/lib/(x86_64|aarch64)-linux-gnu/lib(nvidia|cuda)[\w-]{0,40}\.so\.\d",
        ["nvidia_container_cli_debug"],
    )
    if not hit:
        present = [p for p in LINUX_DRIVER_FILES if snap.path(p)]
        if present:
            hit = Line("paths", "Linux driver files in the distro: " + ", ".join(present))
    hit = hit or find(snap, r"couldn't communicate with the NVIDIA driver", ["nvidia_smi"])
    return Hit(cite(hit)) if hit else None
