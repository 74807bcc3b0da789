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
from .plan import Check, Plan, Step, Work, apt_get, command_exists, dpkg_installed, key_fingerprint

DOCS = "https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html"
DOCS_WSL = "https://docs.nvidia.com/cuda/wsl-user-guide/index.html"
KEYRING_DEB = "cuda-keyring_1.1-1_all.deb"
NVIDIA_SMI = Check(("nvidia-smi",), what="nvidia-smi answers")
# NVIDIA's CUDA repository key (3bf863cc, "cudatools <cudatools@nvidia.com>") that cuda-keyring installs, as
# NVIDIA published it with the 2022 key rotation ("Updating the CUDA Linux GPG Repository Key",
# https://developer.nvidia.com/blog/updating-the-cuda-linux-gpg-repository-key/; apt names it NO_PUBKEY
# A4B469963BF863CC when it is missing).
CUDA_KEY_FINGERPRINT = "EB693B3035CD5710E231E123A4B469963BF863CC"
KEYRING_IN_DEB = "usr/share/keyrings/cuda-archive-keyring.gpg"

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
    download = Work(KEYRING_DEB)
    unpacked = Work("cuda-keyring")
    keyring_installed = dpkg_installed("cuda-keyring")
    installed = dpkg_installed(package)
    steps = [
        Step(
            "install curl and gpg to download and check the keyring package",
            apt_get("install", "-y", "ca-certificates", "curl", "gpg"),
            check=command_exists("curl", "gpg"),
        )
    ]
    if host.distro_id == "debian":
        steps += [
            Step(
                "install add-apt-repository (software-properties-common)",
                apt_get("install", "-y", "software-properties-common"),
                check=command_exists("add-apt-repository"),
            ),
            Step(
                "enable Debian's contrib component (NVIDIA's packages depend on it)",
                ("add-apt-repository", "-y", "contrib"),
                check=Check(
                    ("grep", "-rqsE", r"^[^#]*\bcontrib\b", "/etc/apt/sources.list", "/etc/apt/sources.list.d"),
                    what="contrib is enabled",
                ),
                docs=DOCS,
            ),
        ]
    steps += [
        Step(
            "download NVIDIA's cuda-keyring package (https) into a private folder",
            ("curl", "-fsSL", "--proto", "=https", "-o", download, f"{base}/{KEYRING_DEB}"),
            root=False,
            check=keyring_installed,
            docs=DOCS,
        ),
        Step(
            "unpack it without installing anything (dpkg-deb -x)",
            ("dpkg-deb", "-x", download, unpacked),
            root=False,
            check=keyring_installed,
        ),
        Step(
            "check that the key inside is NVIDIA's CUDA repository key",
            (
                "gpg",
                "--batch",
                "--no-default-keyring",
                "--with-colons",
                "--show-keys",
                Work(f"cuda-keyring/{KEYRING_IN_DEB}"),
            ),
            root=False,
            check=keyring_installed,
            verify=key_fingerprint(
                Work(f"cuda-keyring/{KEYRING_IN_DEB}"), CUDA_KEY_FINGERPRINT, what="the key is NVIDIA's CUDA key"
            ),
            docs=DOCS,
        ),
        Step(
            "install the keyring and the repository list (signed-by)",
            ("dpkg", "-i", download),
            check=keyring_installed,
            verify=keyring_installed,
            docs=DOCS,
        ),
        Step("refresh the package lists", apt_get("update"), check=installed),
    ]
    kernel = host.kernel
    if kernel and re.fullmatch(r"[\w.+-]+", kernel):
        steps.append(
            Step(
                "install the headers of the running kernel (DKMS builds the module against them)",
                apt_get("install", "-y", f"linux-headers-{kernel}"),
                check=dpkg_installed(f"linux-headers-{kernel}"),
            )
        )
    steps += [
        Step(
            f"install the driver: {package}"
            + (" (open kernel modules, Turing or newer)" if open_modules else " (as in the deck)"),
            apt_get("install", "-y", package),
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
