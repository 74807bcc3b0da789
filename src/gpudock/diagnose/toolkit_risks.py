"""Toolkit layer, continued: a toolkit too old for safety or for this WSL driver, and hosts exposed to NVML
"Unknown Error" before it happens.

Sources: NVIDIA's security bulletins (CVE-2024-0132/0133 fixed in 1.16.2; CVE-2025-23359 in 1.17.4;
CVE-2025-23266/23267 in 1.17.8) and the toolkit's release notes; NVIDIA/nvidia-container-toolkit#520
(R555 Windows drivers add libnvdxgdmal.so.1: fixed in toolkit 1.14.4 and 1.15.0, Docker Desktop 4.31.0);
NVIDIA's notice NVIDIA/nvidia-container-toolkit#48 and the toolkit's troubleshooting page (containers lose
the GPU after ``systemctl daemon-reload`` under the systemd cgroup driver; workarounds: /dev/char links,
CDI, or the cgroupfs driver).
"""

from __future__ import annotations

from ..facts.cdi import gpus_through_cdi
from ..facts.engine import cgroup_driver
from ..facts.evidence import CONTAINER_PROBES, Line, cite, container_saw_gpu, find, toolkit_evidence
from ..facts.host import UNKNOWN, WSL2
from ..facts.stack import smi_driver_version, toolkit_version
from ..fixes import DOCS, docker_service
from .registry import Hit, register

# (the first release with the fix, CVEs, NVIDIA's bulletin): a toolkit below a floor lacks that fix
CVE_FLOORS = (
    ((1, 16, 2), "CVE-2024-0132, CVE-2024-0133", "https://nvidia.custhelp.com/app/answers/detail/a_id/5582"),
    ((1, 17, 4), "CVE-2025-23359", "https://nvidia.custhelp.com/app/answers/detail/a_id/5616"),
    ((1, 17, 8), "CVE-2025-23266, CVE-2025-23267", "https://nvidia.custhelp.com/app/answers/detail/a_id/5659"),
)
SAFE_TOOLKIT = CVE_FLOORS[-1][0]
TOOLKIT_PACKAGES = " ".join(
    ("nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools", "libnvidia-container1")
)
# R555+ Windows drivers need libnvdxgdmal.so.1 in the container; toolkits 1.14.4 and 1.15.0 map it
WSL_DXGDMAL_DRIVER = 555
WSL_TOOLKIT_FIXED = ((1, 14, 4), (1, 15, 0))
NVML_UNKNOWN = r"Failed to initialize NVML: Unknown Error"
WSL_LIB_ERROR = r"named symbol not found|CUDA_ERROR_NOT_FOUND|libnvdxgdmal|cuda driver library init failure: 500"


def _shown(parts) -> str:
    return ".".join(str(p) for p in parts)


def _upgrade_steps(host) -> list[str]:
    if host.docker_desktop:
        return ["Docker Desktop bundles the toolkit: update Docker Desktop to its current release"]
    return [
        f"sudo apt-get update && sudo apt-get install --only-upgrade {TOOLKIT_PACKAGES}   "
        "# from NVIDIA's repository (`gpudock plan toolkit` sets it up)",
        *docker_service(host, "restart"),
        "nvidia-ctk --version   # the new version",
    ]


@register(
    "toolkit-vulnerable",
    severity="warning",
    layer="toolkit",
    order=15,
    title=f"The NVIDIA Container Toolkit is older than {_shown(SAFE_TOOLKIT)}, which fixed its container escapes",
    fix=lambda snap, host, hit: _upgrade_steps(host),
    docs=[DOCS["toolkit_release_notes"], *(floor[2] for floor in CVE_FLOORS)],
)
def toolkit_vulnerable(snap, host):
    version = toolkit_version(snap)
    if not version or not version.parts or version.parts >= SAFE_TOOLKIT:
        return None
    missing = [cves for floor, cves, _ in CVE_FLOORS if version.parts < floor]
    title = f"NVIDIA Container Toolkit {version.text} lacks the fixes for {'; '.join(missing)}"
    return Hit(cite(version.line), {"version": version.text}, title=title)


def _wsl_fix(snap, host, hit):
    if host.docker_desktop or hit.data.get("desktop"):
        return [
            "Docker Desktop 4.31.0 and newer bring a toolkit that maps libnvdxgdmal.so.1: update Docker Desktop",
            "or use a Windows NVIDIA driver older than 555 until then",
        ]
    return [
        "update the toolkit in this distro to 1.14.4 / 1.15.0 or newer (the R555+ Windows driver adds "
        "libnvdxgdmal.so.1, which older toolkits do not map into the container):",
        *_upgrade_steps(host),
        "docker run --rm --gpus all ubuntu nvidia-smi",
    ]


def _fixed_for_wsl(parts) -> bool:
    return parts >= WSL_TOOLKIT_FIXED[1] or WSL_TOOLKIT_FIXED[0] <= parts < (1, 15)


@register(
    "wsl-toolkit-too-old",
    severity="error",
    layer="toolkit",
    order=16,
    title="WSL 2: the toolkit is too old for this Windows driver (R555+ needs libnvdxgdmal.so.1 mapped)",
    fix=_wsl_fix,
    docs=[DOCS["toolkit_wsl_555"], DOCS["docker_desktop_release_notes"], DOCS["wsl_cuda"]],
)
def wsl_toolkit_too_old(snap, host):
    if host.kind not in (WSL2, UNKNOWN):
        return None
    version = toolkit_version(snap)
    if version and version.parts and _fixed_for_wsl(version.parts) and not host.docker_desktop:
        return None
    names = CONTAINER_PROBES if host.kind == WSL2 else None
    hit = None if container_saw_gpu(snap) else find(snap, WSL_LIB_ERROR, names)
    if hit:
        return Hit(cite(hit), {"desktop": host.docker_desktop})
    driver = smi_driver_version(snap) if host.kind == WSL2 else None
    if driver and version and driver.parts[:1] >= (WSL_DXGDMAL_DRIVER,) and not _fixed_for_wsl(version.parts):
        evidence = f"{cite(version.line)}; {cite(driver.line)}"
        return Hit(
            evidence,
            {"desktop": False},
            title=f"WSL 2: toolkit {version.text} predates Windows driver "
            f"{driver.text}: GPU containers fail with CUDA error 500",
        )
    return None


def _risk_fix(snap, host, hit):
    return [
        "create the /dev/char links runc needs, now and at every boot: "
        "`sudo nvidia-ctk system create-dev-char-symlinks --create-all`, and a udev rule in "
        "/lib/udev/rules.d/71-nvidia-dev-char.rules: "
        '`ACTION=="add", DEVPATH=="/bus/pci/drivers/nvidia", '
        'RUN+="/usr/bin/nvidia-ctk system create-dev-char-symlinks --create-all"`',
        "or request GPUs through CDI (`--device nvidia.com/gpu=all`): runc then sets the device rules itself",
        'or switch Docker to the cgroupfs driver: "exec-opts": ["native.cgroupdriver=cgroupfs"] in '
        "/etc/docker/daemon.json, then restart Docker",
        "check: `ls -l /dev/char | grep nvidia` lists the links",
    ]


@register(
    "nvml-unknown-error-risk",
    severity="warning",
    layer="toolkit",
    order=50,
    title="Running GPU containers here lose the GPU after `systemctl daemon-reload` (NVML: Unknown Error)",
    fix=_risk_fix,
    docs=[DOCS["nvml_unknown_notice"], DOCS["toolkit_troubleshooting"]],
)
def nvml_unknown_error_risk(snap, host):
    """NVIDIA's notice (#48): systemd cgroup driver, GPUs injected by the legacy hook, no /dev/char links."""
    if host.is_wsl or host.docker_desktop:
        return None
    driver, version, line = cgroup_driver(snap)
    # the hook injects GPUs here: the toolkit shows, or a container saw the GPU or lost it (NVML Unknown Error)
    injected = toolkit_evidence(snap) or container_saw_gpu(snap) or find(snap, NVML_UNKNOWN)
    if driver != "systemd" or not injected:
        return None
    if gpus_through_cdi(snap):  # the devices are in the OCI spec: runc's rules survive a reload
        return None
    for path in ("/dev/char/195:255", "/lib/udev/rules.d/71-nvidia-dev-char.rules"):
        if snap.path(path):
            return None  # the links exist (or are made at boot): runc keeps the device rules
    known = snap.path("/dev/char/195:255") is False
    shown = line.text + ("; /dev/char/195:255 (nvidiactl) is absent" if known else "")
    return Hit(cite(Line(line.probe, shown)), {"cgroup_version": version})
