"""Plan: the NVIDIA driver through NVIDIA's CUDA repository (cuda-keyring), as the deck did with `cuda-drivers`.

Official steps: https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html
(network repository, `cuda-keyring_1.1-1_all.deb`, Debian needs `contrib`; open kernel modules
`nvidia-open` are the default since R560 and need Turing or newer; `cuda-drivers` installs the
proprietary flavour the deck used). WSL 2 never gets a Linux driver:
https://docs.nvidia.com/cuda/wsl-user-guide/index.html
"""

from __future__ import annotations

import re

from ..exceptions import PlanRefused
from ..hostinfo import HostInfo
from ..snapshot import Snapshot
from . import distro
from .plan import Check, Plan, Step, dpkg_installed

DOCS = "https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html"
DOCS_WSL = "https://docs.nvidia.com/cuda/wsl-user-guide/index.html"
KEYRING_DEB = "cuda-keyring_1.1-1_all.deb"
NVIDIA_SMI = Check(("nvidia-smi",))

WSL_REFUSAL = (
    "WSL 2 must not get a Linux NVIDIA driver: the Windows driver provides the GPU, and its "
    "libraries appear in /usr/lib/wsl/lib (a Linux driver would shadow them). Install or update the "
    "NVIDIA driver on Windows, run `wsl --update`, then `nvidia-smi` here. For nvcc inside WSL "
    f"install only cuda-toolkit-12-x from the wsl-ubuntu repository. See {DOCS_WSL}"
)


def driver_package(open_modules: bool, branch: str | None) -> str:
    if branch is not None and not re.fullmatch(r"\d{3}", str(branch)):
        raise PlanRefused(f"driver branch must be three digits such as 580, not {branch!r}")
    name = "nvidia-open" if open_modules else "cuda-drivers"
    return f"{name}-{branch}" if branch else name


def plan_driver(snap: Snapshot, host: HostInfo, branch: str | None = None, open_modules: bool = False) -> Plan:
    if host.kind in ("wsl2", "wsl1"):
        raise PlanRefused(WSL_REFUSAL)
    distro.require_debian_family(host, "the NVIDIA driver", DOCS)
    repo, arch = distro.cuda_repo(host, DOCS)
    package = driver_package(open_modules, branch)
    base = f"https://developer.download.nvidia.com/compute/cuda/repos/{repo}/{arch}"
    staging = f"/tmp/gpudock-{KEYRING_DEB}"
    keyring_installed = dpkg_installed("cuda-keyring")
    installed = dpkg_installed(package)
    steps = [
        Step(
            "install curl to download the keyring package",
            ("apt-get", "install", "-y", "ca-certificates", "curl"),
            check=Check(("sh", "-c", "command -v curl")),
        )
    ]
    if host.distro_id == "debian":
        steps += [
            Step(
                "install add-apt-repository (software-properties-common)",
                ("apt-get", "install", "-y", "software-properties-common"),
                check=Check(("sh", "-c", "command -v add-apt-repository")),
            ),
            Step(
                "enable Debian's contrib component (NVIDIA's packages depend on it)",
                ("add-apt-repository", "-y", "contrib"),
                check=Check(
                    ("grep", "-rqsE", r"^[^#]*\bcontrib\b", "/etc/apt/sources.list", "/etc/apt/sources.list.d")
                ),
                docs=DOCS,
            ),
        ]
    steps += [
        Step(
            "download NVIDIA's cuda-keyring package (https)",
            ("curl", "-fsSL", "-o", staging, f"{base}/{KEYRING_DEB}"),
            root=False,
            check=keyring_installed,
            docs=DOCS,
        ),
        Step(
            "install the keyring and the repository list (signed-by)",
            ("dpkg", "-i", staging),
            check=keyring_installed,
            verify=keyring_installed,
            docs=DOCS,
        ),
        Step("refresh the package lists", ("apt-get", "update"), check=installed),
    ]
    kernel = host.kernel
    if kernel and re.fullmatch(r"[\w.+-]+", kernel):
        steps.append(
            Step(
                "install the headers of the running kernel (DKMS builds the module against them)",
                ("apt-get", "install", "-y", f"linux-headers-{kernel}"),
                check=dpkg_installed(f"linux-headers-{kernel}"),
            )
        )
    steps += [
        Step(
            f"install the driver: {package}"
            + (" (open kernel modules, Turing or newer)" if open_modules else " (as in the deck)"),
            ("apt-get", "install", "-y", package),
            check=installed,
            verify=installed,
            docs=DOCS,
        ),
        Step("reboot so the new kernel module loads", ("reboot",), manual=True, check=NVIDIA_SMI),
    ]
    notes = [
        "Do not mix NVIDIA's packages with Ubuntu's nvidia-driver-XXX packages on one machine.",
        "Open modules (--open) are NVIDIA's default since R560 and required on Grace Hopper/Blackwell; "
        "Maxwell, Pascal and Volta need cuda-drivers (proprietary).",
    ]
    if snap.command("nvidia_smi") and snap.command("nvidia_smi").ok:
        notes.insert(0, "A driver already answers here (nvidia-smi works): this plan would change it.")
    return Plan("driver", distro.describe(host), steps, verify=[NVIDIA_SMI], notes=notes)
