"""Driver layer, continued: a host ``nvidia-smi`` that fails, and a driver upgrade waiting for a reboot.

A failing host ``nvidia-smi`` is never an all-clear, whatever its words: a rule that knows the text
(driver missing, unreachable, version mismatch, WSL) names it; ``nvidia-smi-failed`` catches the rest
(``No devices were found``, a crash, a GPU that fell off the bus). Sources: NVIDIA's driver installation
guide (kernel module flavours), NVIDIA's Xid documentation, the CUDA on WSL user guide.
"""

from __future__ import annotations

from ..facts.evidence import HOST_SMI_PROBES, Line, cite
from ..facts.host import WSL1, WSL2
from ..facts.stack import library_versions, loaded_module_version, same_release, smi_failure
from ..fixes import DOCS, windows, wsl_restart_steps
from .registry import Hit, register


def _explained(line: Line, findings) -> bool:
    """Another rule already names this failure (it cites the same probe, or the same words)."""
    for finding in findings:
        if finding.severity != "error" or finding.code in ("doctor-rule-error", "nvidia-smi-failed"):
            continue
        if finding.evidence.startswith(f"{line.probe}:"):
            return True
        cited = finding.evidence.split(": ", 1)[1] if ": " in finding.evidence else ""
        if len(cited) >= 12 and (cited in line.text or line.text in cited):
            return True
    return False


_STEPS = {
    "no-gpu": [
        "`lspci -d 10de:` must list the GPU; `sudo dmesg | grep -i nvrm` names why the driver did not take it "
        "(e.g. `RmInitAdapter failed`, or a GPU this driver or module flavour does not support)",
        "the open kernel modules (nvidia-open, the default since R560) support Turing and newer only: "
        "Maxwell, Pascal and Volta need the proprietary modules (`cuda-drivers`, pinned to the 580 branch): "
        "`gpudock plan driver --proprietary`; a GPU newer than the driver needs a newer branch",
        "sudo reboot",
    ],
    "lost": [
        "the GPU stopped answering (it may have fallen off the bus): `sudo dmesg | grep -iE 'NVRM|Xid'` shows "
        "the Xid code; look it up in NVIDIA's Xid documentation",
        "sudo reboot   # a GPU that fell off the bus returns only after a reset; check power and seating if it recurs",
        "sudo nvidia-bug-report.sh   # NVIDIA's report for a support request",
    ],
    "crash": [
        "nvidia-smi itself crashed: its libraries do not match the driver or are damaged; "
        "reinstall the driver packages (`gpudock plan driver`) and reboot",
        "sudo nvidia-bug-report.sh   # NVIDIA's report for a support request",
    ],
}


def _smi_fix(snap, host, hit):
    kind = hit.data.get("kind")
    if host.kind == WSL2:
        return [
            "inside WSL nvidia-smi is the Windows driver's (/usr/lib/wsl/lib/nvidia-smi); "
            "a Linux driver installed in the distro breaks it: `dpkg -l '*nvidia*'` must list no driver packages",
            "install the current NVIDIA driver on Windows (a driver that crashes nvidia-smi in WSL: "
            "try the previous or next release)",
            *wsl_restart_steps(),
            "then " + windows("nvidia-smi") + " and `/usr/lib/wsl/lib/nvidia-smi` must both show the GPU",
        ]
    return list(_STEPS.get(kind, [])) or [
        "run `nvidia-smi` by hand and read its message; `sudo dmesg | grep -i nvrm` shows the driver's side",
        "sudo nvidia-bug-report.sh   # NVIDIA's report for a support request",
    ]


_TITLES = {
    "no-gpu": "nvidia-smi runs but finds no GPU: the driver did not initialise the card",
    "lost": "nvidia-smi cannot reach the GPU: the card stopped answering",
    "crash": "nvidia-smi crashes on this host",
    "hung": "nvidia-smi hangs on this host",
}


@register(
    "nvidia-smi-failed",
    severity="error",
    layer="driver",
    order=40,
    title="The host's nvidia-smi fails: the driver is there but not healthy",
    fix=_smi_fix,
    docs=[DOCS["driver_install"], DOCS["driver_kernel_modules"], DOCS["driver_xid"]],
    follow_up=True,
)
def nvidia_smi_failed(snap, host, findings):
    """The catch-all for the host's own nvidia-smi: failing, crashing or finding no GPU is never an all-clear."""
    if host.kind == WSL1:
        return None  # WSL 1 has no GPU at all: wsl1-no-gpu says so
    for name in HOST_SMI_PROBES:
        failure = smi_failure(snap, name)
        if failure and not _explained(failure[1], findings):
            kind, line = failure
            return Hit(cite(line), {"kind": kind}, title=_TITLES.get(kind))
    return None


def _upgrade_fix(snap, host, hit):
    return [
        "sudo reboot   # loads the kernel module that matches the libraries installed on disk",
        "after the reboot `cat /proc/driver/nvidia/version` and `nvidia-smi` show the same version",
        "if upgrades are unattended, keep the driver out of them: `sudo apt-mark hold` the driver packages "
        "(`dpkg -l '*nvidia*'` lists them) or add them to `Unattended-Upgrade::Package-Blacklist` in "
        "/etc/apt/apt.conf.d/50unattended-upgrades, and upgrade the driver when you can reboot; with NVIDIA's "
        "repository, pin the branch with its nvidia-driver-pinning package",
    ]


@register(
    "driver-upgrade-pending",
    severity="warning",
    layer="driver",
    order=35,
    title="The driver's libraries on disk are newer than the loaded kernel module: reboot",
    fix=_upgrade_fix,
    docs=[DOCS["driver_install"], DOCS["ubuntu_auto_updates"]],
)
def driver_upgrade_pending(snap, host):
    """Libraries (``ls_driver_libs``, the driver packages, NVML's own line) ≠ ``/proc/driver/nvidia/version``."""
    if host.kind in (WSL1, WSL2):
        return None  # WSL has no Linux kernel module: the Windows driver serves the GPU
    module = loaded_module_version(snap)
    if not module:
        return None
    for library in library_versions(snap):
        if library.parts and not same_release(library.parts, module.parts):
            title = f"The driver on disk is {library.text}, the loaded kernel module {module.text}: reboot"
            return Hit(f"{cite(library.line)}; {cite(module.line)}", {"library": library.text}, title=title)
    return None
