"""Plan: the NVIDIA Container Toolkit, wired into Docker.

Official steps (install guide, "With apt: Ubuntu, Debian"):
https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html
— NVIDIA's key dearmored into /usr/share/keyrings, one `stable/deb` list with signed-by,
`nvidia-container-toolkit`, `nvidia-ctk runtime configure --runtime=docker`, daemon restart.
CDI: https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/cdi-support.html
"""

from __future__ import annotations

from ..exceptions import PlanRefused
from ..hostinfo import HostInfo
from ..images import CUDA_IMAGE
from ..snapshot import Snapshot
from . import distro
from .docker import daemon_steps
from .plan import (
    Check,
    Plan,
    RootFile,
    Step,
    Work,
    apt_get,
    command_exists,
    dpkg_installed,
    file_contains,
    file_exists,
    key_fingerprint,
    writes,
)

DOCS = "https://docs.docker.com/desktop/features/gpu/"
DOCS_INSTALL = "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html"
DOCS_CDI = "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/cdi-support.html"
KEY_URL = "https://nvidia.github.io/libnvidia-container/gpgkey"
# The key behind KEY_URL, "NVIDIA CORPORATION (Open Source Projects) <cudatools@nvidia.com>" (apt reports it as
# NO_PUBKEY DDCAE044F796ECB0 when missing), as NVIDIA's repository serves it and its maintainers quote it:
# https://github.com/NVIDIA/nvidia-container-toolkit/issues/650, https://github.com/NVIDIA/libnvidia-container/issues/280
TOOLKIT_KEY_FINGERPRINT = "C95B321B61E88C1809C4F759DDCAE044F796ECB0"
KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"
LIST = "/etc/apt/sources.list.d/nvidia-container-toolkit.list"
LIST_LINE = f"deb [signed-by={KEYRING}] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /"
PACKAGES = (
    "nvidia-container-toolkit",
    "nvidia-container-toolkit-base",
    "libnvidia-container-tools",
    "libnvidia-container1",
)
LEGACY_LISTS = ("nvidia-docker.list", "nvidia-container-runtime.list", "libnvidia-container.list")
GPU_CONTAINER = Check(
    ("docker", "run", "--rm", "--gpus", "all", CUDA_IMAGE, "nvidia-smi"), what="a container sees the GPU"
)


def plan_toolkit(snap: Snapshot, host: HostInfo, version: str | None = None, cdi: bool = False) -> Plan:
    distro.require_debian_family(host, "the NVIDIA Container Toolkit", DOCS_INSTALL)
    if host.docker_desktop:
        raise PlanRefused(
            "Docker Desktop's engine serves this distro and brings its own GPU support: skip the toolkit "
            f"here (installing it in the distro does not reach Docker Desktop's engine); see {DOCS}"
        )
    installed = dpkg_installed("nvidia-container-toolkit")
    download, dearmored = Work("nvidia-container-toolkit.gpgkey"), Work("nvidia-container-toolkit-keyring.gpg")
    key_ok = key_fingerprint(KEYRING, TOOLKIT_KEY_FINGERPRINT, what=f"{KEYRING} holds NVIDIA's repository key")
    steps = []
    legacy = [
        f"/etc/apt/sources.list.d/{name}" for name in LEGACY_LISTS if snap.file(f"/etc/apt/sources.list.d/{name}")
    ]
    if legacy:  # an old list for the same repository breaks apt: "Conflicting values set for option Signed-By"
        steps.append(
            Step(
                "remove the legacy nvidia-docker / libnvidia-container lists",
                ("rm", "-f", "--", *legacy),
                check=Check(("ls", "--", *legacy), negate=True, what="no legacy list is left"),
                docs=DOCS_INSTALL,
            )
        )
    pins = tuple(f"{p}={version}" for p in PACKAGES) if version else ("nvidia-container-toolkit",)
    steps += [
        Step(
            "install the prerequisites",
            apt_get("install", "-y", "--no-install-recommends", "ca-certificates", "curl", "gnupg2"),
            check=command_exists("curl", "gpg"),
            docs=DOCS_INSTALL,
        ),
        Step(
            "download NVIDIA's repository key (https) into a private folder and check its fingerprint",
            ("curl", "-fsSL", "--proto", "=https", "-o", download, KEY_URL),
            root=False,
            check=key_ok,
            verify=key_fingerprint(download, TOOLKIT_KEY_FINGERPRINT, what="the download is NVIDIA's repository key"),
            docs=DOCS_INSTALL,
        ),
        Step(
            "dearmor it into a keyring file (still in the private folder)",
            ("gpg", "--batch", "--yes", "--dearmor", "-o", dearmored, download),
            root=False,
            check=key_ok,
            docs=DOCS_INSTALL,
        ),
        writes(
            "install the verified keyring where apt looks",
            RootFile(KEYRING, source=dearmored, mode="0644"),
            check=key_ok,
            docs=DOCS_INSTALL,
        ),
        writes(
            "add the toolkit repository, signed-by that keyring",
            RootFile(LIST, content=LIST_LINE + "\n"),
            docs=DOCS_INSTALL,
        ),
        Step("refresh the package lists", apt_get("update"), check=installed),
        Step(
            "install nvidia-container-toolkit" + (f" {version}" if version else ""),
            apt_get("install", "-y", *pins),
            check=installed,
            verify=installed,
            docs=DOCS_INSTALL,
        ),
        Step(
            "register the nvidia runtime with Docker",
            ("nvidia-ctk", "runtime", "configure", "--runtime=docker"),
            check=file_contains("/etc/docker/daemon.json", r'"nvidia"', what="daemon.json names the nvidia runtime"),
            verify=file_contains("/etc/docker/daemon.json", r'"nvidia"', what="daemon.json names the nvidia runtime"),
            docs=DOCS_INSTALL,
        ),
    ]
    restart = daemon_steps(host, "restart")
    runtime_known = Check(
        ("docker", "info", "--format", "{{json .Runtimes}}"),
        r'"nvidia"',
        root=True,
        what="Docker already lists the nvidia runtime",
    )
    # every stop (and systemd's restart) is skipped once Docker lists the runtime; the start keeps its own check
    stops = max(1, len(restart) - 1)
    restart = [_with_check(step, runtime_known) if i < stops else step for i, step in enumerate(restart)]
    steps += restart
    if cdi:
        steps.append(
            Step(
                "generate a CDI spec (Podman, Docker ≥ 25 with CDI)",
                ("nvidia-ctk", "cdi", "generate", "--output=/var/run/cdi/nvidia.yaml"),
                check=file_exists("/var/run/cdi/nvidia.yaml"),
                verify=file_exists("/var/run/cdi/nvidia.yaml"),
                docs=DOCS_CDI,
            )
        )
    notes = [
        "Docker registers --gpus only if nvidia-container-runtime-hook "
        "was on PATH when dockerd started: hence the restart."
    ]
    if host.kind == "wsl2":
        notes.append("WSL 2: the toolkit finds the Windows driver through /usr/lib/wsl/lib; install no Linux driver.")
    return Plan("toolkit", distro.describe(host), steps, verify=[GPU_CONTAINER], notes=notes)


def _with_check(step: Step, check: Check) -> Step:
    from dataclasses import replace

    return replace(step, check=check)
