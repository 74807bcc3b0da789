"""Plan: the NVIDIA driver through NVIDIA's CUDA repository (cuda-keyring).

Official steps: https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html
(network repository, `cuda-keyring_1.1-1_all.deb`, Debian needs `contrib`). Kernel modules
(…/kernel-modules.html): "Starting in the 560 driver release series, the open kernel module flavor is
the default and suggested installation"; open modules are "supported only on Turing and newer"; the
proprietary flavour "is required for older GPUs from the Maxwell, Pascal, or Volta architectures", whose
last driver branch is R580 (…/drivers/cuda-toolkit-driver-and-architecture-matrix.html); R620's kernel-modules
page (…/620/kernel-modules.html) describes only the open modules. So: `nvidia-open` by default; `cuda-drivers`
pinned to 580 for a Maxwell/Pascal/Volta GPU, chosen from the chip code lspci shows (GM…, GP…, GV…).
Branch pinning (…/version-locking.html, and "Recent Updates": "we suggest to install the pinning package
prior to installing the driver"; the versioned `cuda-drivers-580` "will be removed"): from R580 the plan
installs `nvidia-driver-pinning-<branch>` in a step of its own, then the unversioned meta package in the next.
A versioned `cuda-drivers-580` alone does not hold the branch: its dependencies are `>=` only, so apt pulls
590 components (https://forums.developer.nvidia.com/t/353805).
WSL 2 never gets a Linux driver: https://docs.nvidia.com/cuda/wsl-user-guide/index.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import fixes
from ..exceptions import PlanRefused, UsageError
from ..facts.host import WSL1, WSL2, HostInfo, architecture
from ..snapshot import Snapshot
from . import distro
from .plan import Check, Plan, RootFile, Step, Work, apt_get, command_exists, dpkg_installed, key_fingerprint, writes

DOCS = fixes.DOCS["driver_install"]
DOCS_PINNING = fixes.DOCS["driver_pinning"]
DOCS_WSL = fixes.DOCS["wsl_cuda"]
KEYRING_DEB = fixes.CUDA_KEYRING_DEB
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
    f"install only cuda-toolkit-X-Y (e.g. cuda-toolkit-13-0) from the wsl-ubuntu repository. See {DOCS_WSL}"
)


PRE_TURING = ("Maxwell", "Pascal", "Volta")  # proprietary modules only, last branch R580
LAST_PRE_TURING_BRANCH = 580
NO_PROPRIETARY_FROM = 620  # R620's guide has only the open kernel modules
PINNING_FROM = 580  # pinning package, then the unversioned meta package; older branches: versioned names
MODULES = ("open", "proprietary")
UNKNOWN_GPU_NOTE = (
    "No NVIDIA GPU model is known here (no lspci line with a chip code), so this plan installs nvidia-open, "
    "NVIDIA's default since R560, for Turing and newer GPUs (GeForce GTX 16xx / RTX 20xx and later, "
    "Quadro RTX, T4, A100, H100 and newer). A Maxwell, Pascal or Volta GPU (GeForce GTX 9xx/10xx, "
    "Quadro M/P/GV, Tesla M/P/V100) needs the proprietary modules instead: plan again with --proprietary "
    "(cuda-drivers pinned to 580, the last branch for those GPUs). `lspci -d 10de:` names the chip "
    "(GM…, GP…, GV…: proprietary)."
)


@dataclass(frozen=True)
class DriverChoice:
    """Which kernel-module flavour and branch to install, and why."""

    modules: str
    branch: int | None
    reason: str

    @property
    def meta_package(self) -> str:
        name = "nvidia-open" if self.modules == "open" else "cuda-drivers"
        if self.branch is not None and self.branch < PINNING_FROM:
            return f"{name}-{self.branch}"  # branches before the pinning packages: versioned meta package
        return name

    @property
    def pinning_package(self) -> str | None:
        return f"nvidia-driver-pinning-{self.branch}" if self.branch is not None else None


CONTRIB_SOURCES = "/etc/apt/sources.list.d/gpudock-debian-contrib.sources"


def contrib_sources(codename: str) -> str:
    """Debian's contrib component for this release as a deb822 stanza (the codename is validated on load)."""
    return (
        "Types: deb\n"
        "URIs: https://deb.debian.org/debian\n"
        f"Suites: {codename} {codename}-updates\n"
        "Components: contrib\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )


def _branch(branch: str | int | None) -> int | None:
    if branch is None or branch == "":
        return None
    if not re.fullmatch(r"\d{3}", str(branch)):
        raise UsageError(f"driver branch must be three digits such as 580, not {branch!r}")
    return int(branch)


def choose_driver(host: HostInfo, modules: str | None = None, branch: str | int | None = None) -> DriverChoice:
    """Open or proprietary modules, and the branch, from the chips lspci names (or the user's choice)."""
    pinned = _branch(branch)
    if modules not in (None, *MODULES):
        raise PlanRefused(f"unknown kernel module flavour {modules!r}: choose one of {', '.join(MODULES)}")
    archs = {chip: architecture(chip) for chip in host.gpu_chips}
    old = sorted(chip for chip, arch in archs.items() if arch in PRE_TURING)
    blackwell = sorted(chip for chip, arch in archs.items() if arch == "Blackwell")
    named = ", ".join(f"{chip} ({arch})" for chip, arch in archs.items() if arch) or "unknown"
    if old and blackwell:
        raise PlanRefused(
            f"no single driver serves these GPUs: {named}; Maxwell/Pascal/Volta need the proprietary modules "
            "(R580 at most), Blackwell needs the open modules"
        )
    if old:
        if modules == "open":
            raise PlanRefused(
                f"{', '.join(old)} is {archs[old[0]]}: NVIDIA's open kernel modules do not support Maxwell, "
                "Pascal or Volta; plan without --open (cuda-drivers pinned to 580)"
            )
        if pinned is not None and pinned > LAST_PRE_TURING_BRANCH:
            raise PlanRefused(
                f"{', '.join(old)} is {archs[old[0]]}: R{LAST_PRE_TURING_BRANCH} is the last driver branch "
                f"for Maxwell, Pascal and Volta, not {pinned}"
            )
        return DriverChoice(
            "proprietary",
            pinned or LAST_PRE_TURING_BRANCH,
            f"{named}: Maxwell/Pascal/Volta need the proprietary kernel modules, and R580 is their last branch",
        )
    if modules == "proprietary":
        if pinned is not None and pinned >= NO_PROPRIETARY_FROM:
            raise PlanRefused(f"R{NO_PROPRIETARY_FROM} and later have no proprietary kernel modules; use 580")
        if blackwell:
            raise PlanRefused(
                f"{', '.join(blackwell)} is Blackwell: it needs the open kernel modules (no --proprietary)"
            )
        return DriverChoice(
            "proprietary",
            pinned or LAST_PRE_TURING_BRANCH,
            f"proprietary kernel modules as asked (--proprietary), on branch {pinned or LAST_PRE_TURING_BRANCH}",
        )
    if archs and all(archs.values()):
        return DriverChoice("open", pinned, f"{named}: Turing or newer, NVIDIA's default open kernel modules")
    return DriverChoice("open", pinned, "open kernel modules (NVIDIA's default since R560)")


# Kernels whose headers the distribution ships as linux-headers-$(uname -r): Ubuntu's ABI-numbered
# flavours (generic, lowlatency, aws, azure, gcp, …) and Debian's (amd64, cloud-amd64, rt-amd64, bpo).
_DISTRO_KERNEL = {
    "ubuntu": re.compile(r"\d{1,2}\.\d{1,3}\.\d{1,3}-\d{1,4}-[a-z][a-z0-9]{1,20}(-[a-z0-9]{1,20}){0,2}"),
    "debian": re.compile(r"\d{1,2}\.\d{1,3}\.\d{1,3}-\d{1,3}(\.bpo\.\d{1,3})?(-cloud|-rt)?-(amd64|arm64)"),
}


def distribution_kernel(host: HostInfo) -> bool:
    """Whether the running kernel is the distribution's own (its headers are in the archive)."""
    family = "ubuntu" if host.distro_id == "ubuntu" or "ubuntu" in host.id_like.split() else "debian"
    return bool(host.kernel and _DISTRO_KERNEL[family].fullmatch(host.kernel))


def plan_driver(
    snap: Snapshot,
    host: HostInfo,
    branch: str | None = None,
    open_modules: bool = False,
    modules: str | None = None,
) -> Plan:
    """The driver plan; ``modules`` 'open' / 'proprietary' / None (chosen from lspci's chip codes).

    Tools, (Debian) contrib, NVIDIA's keyring checked and installed, the kernel headers, the branch pin,
    the driver, a reboot.
    """
    if host.kind in (WSL2, WSL1):
        raise PlanRefused(WSL_REFUSAL)
    distro.require_debian_family(host, "the NVIDIA driver", DOCS)
    repo, arch = distro.cuda_repo(host, DOCS)
    choice = choose_driver(host, modules or ("open" if open_modules else None), branch)
    notes: list[str] = []
    eol = distro.end_of_life(host)
    if eol:
        notes.append(eol)
    steps = [
        Step(
            "install curl and gpg to download and check the keyring package",
            apt_get("install", "-y", "ca-certificates", "curl", "gpg"),
            check=command_exists("curl", "gpg"),
        ),
        *_contrib_steps(host),
        *_keyring_steps(repo, arch, notes),
        Step("refresh the package lists", apt_get("update"), check=dpkg_installed(choice.meta_package)),
        *_headers_steps(host, notes),
        *_pin_steps(choice),
        *_driver_steps(choice),
    ]
    notes += [
        f"Driver: {choice.reason}.",
        f"Do not mix NVIDIA's packages with {distro_driver_packages(host)} on one machine.",
    ]
    notes += _gpu_notes(snap, host, asked=modules is not None or open_modules)
    if snap.command("nvidia_smi") and snap.command("nvidia_smi").ok:
        notes.insert(0, "A driver already answers here (nvidia-smi works): this plan would change it.")
    return Plan("driver", distro.describe(host), steps, verify=[NVIDIA_SMI], notes=notes)


def _contrib_steps(host: HostInfo) -> list[Step]:
    """Debian only: its contrib component, which NVIDIA's packages depend on."""
    if host.distro_id != "debian":
        return []
    if not host.codename:
        raise PlanRefused("cannot enable Debian's contrib: os-release has no (valid) VERSION_CODENAME")
    # a deb822 source of its own, not add-apt-repository: Debian 13 no longer ships software-properties-common
    return [
        writes(
            "enable Debian's contrib component (NVIDIA's packages depend on it)",
            RootFile(CONTRIB_SOURCES, contrib_sources(host.codename)),
            docs=DOCS,
            check=Check(
                ("grep", "-rqsE", r"^[^#]*\bcontrib\b", "/etc/apt/sources.list", "/etc/apt/sources.list.d"),
                what="contrib is enabled",
            ),
        )
    ]


def _keyring_steps(repo: str, arch: str, notes: list[str]) -> list[Step]:
    """cuda-keyring downloaded (https), its key checked against NVIDIA's fingerprint where published, installed."""
    download = Work(KEYRING_DEB)
    keyring_installed = dpkg_installed("cuda-keyring")
    base = f"https://developer.download.nvidia.com/compute/cuda/repos/{repo}/{arch}"
    steps = [
        Step(
            "download NVIDIA's cuda-keyring package (https) into a private folder",
            ("curl", "-fsSL", "--proto", "=https", "-o", download, f"{base}/{KEYRING_DEB}"),
            root=False,
            check=keyring_installed,
            docs=DOCS,
        )
    ]
    if repo in distro.NEW_KEY_REPOS:
        notes.append(
            f"NVIDIA signs its {repo} repository with a newer key whose fingerprint it does not publish where "
            "gpudock could check it: the plan trusts cuda-keyring's https download from NVIDIA."
        )
    else:
        key = Work(f"cuda-keyring/{KEYRING_IN_DEB}")
        steps += [
            Step(
                "unpack it without installing anything (dpkg-deb -x)",
                ("dpkg-deb", "-x", download, Work("cuda-keyring")),
                root=False,
                check=keyring_installed,
            ),
            Step(
                "check that the key inside is NVIDIA's CUDA repository key",
                ("gpg", "--batch", "--no-default-keyring", "--with-colons", "--show-keys", key),
                root=False,
                check=keyring_installed,
                verify=key_fingerprint(key, CUDA_KEY_FINGERPRINT, what="the key is NVIDIA's CUDA key"),
                docs=DOCS,
            ),
        ]
    return [
        *steps,
        Step(
            "install the keyring and the repository list (signed-by)",
            ("dpkg", "-i", download),
            check=keyring_installed,
            verify=keyring_installed,
            docs=DOCS,
        ),
    ]


def _headers_steps(host: HostInfo, notes: list[str]) -> list[Step]:
    """The running kernel's headers, where the distribution ships them; otherwise a note saying how."""
    kernel = host.kernel
    if kernel and re.fullmatch(r"[\w.+-]+", kernel) and distribution_kernel(host):
        return [
            Step(
                "install the headers of the running kernel (DKMS builds the module against them)",
                apt_get("install", "-y", f"linux-headers-{kernel}"),
                check=dpkg_installed(f"linux-headers-{kernel}"),
            )
        ]
    if kernel:
        shown = kernel if re.fullmatch(r"[\w.+-]{1,80}", kernel) else "unknown"
        notes.append(
            f"The running kernel ({shown}) is not "
            f"{host.pretty_name or host.distro_id}'s own, so its headers are not linux-headers-$(uname -r): install "
            "them the way that kernel came (e.g. Proxmox: proxmox-default-headers), or DKMS cannot build the module."
        )
    return []


def _pin_steps(choice: DriverChoice) -> list[Step]:
    """The branch pin (NVIDIA's pinning package), where a branch was chosen: its own apt transaction, first."""
    if not choice.pinning_package:
        return []
    pin = dpkg_installed(choice.pinning_package)
    title = f"pin the driver to the {choice.branch} branch first (NVIDIA's pinning package, its own transaction)"
    argv = apt_get("install", "-y", choice.pinning_package)
    if choice.branch >= PINNING_FROM:
        # required: without the pin the unversioned meta package after it installs the newest branch
        return [Step(title, argv, check=pin, verify=pin, docs=DOCS_PINNING)]
    # Branches before 580 have no pinning package in NVIDIA's repositories; their versioned meta package
    # below names the branch by itself.
    fallback = Step(
        f"no pinning package for {choice.branch}: the versioned {choice.meta_package} pins the branch",
        ("true",),
        root=False,
    )
    return [Step(title, argv, check=pin, fallback=fallback, docs=DOCS_PINNING)]


def _driver_steps(choice: DriverChoice) -> list[Step]:
    """The driver's meta package, then the reboot that loads its kernel module."""
    package = choice.meta_package
    installed = dpkg_installed(package)
    flavour = "open kernel modules" if choice.modules == "open" else "proprietary kernel modules"
    return [
        Step(
            f"install the driver: {package} ({flavour})",
            apt_get("install", "-y", package),
            check=installed,
            verify=installed,
            docs=DOCS,
        ),
        Step("reboot so the new kernel module loads", ("reboot",), manual=True, check=NVIDIA_SMI),
    ]


def _gpu_notes(snap: Snapshot, host: HostInfo, asked: bool) -> list[str]:
    """What the plan could not tell about the GPU: none on lspci, or no chip code to choose the modules from."""
    if host.gpu_chips:
        return []
    notes = []
    lspci = snap.command("lspci")
    if lspci and lspci.ok and not lspci.stdout.strip():
        notes.append("lspci lists no NVIDIA device on this host: check that the GPU is installed or passed through.")
    if not asked:
        notes.append(UNKNOWN_GPU_NOTE)
    return notes


def distro_driver_packages(host: HostInfo) -> str:
    """The distribution's own driver packages, by their names there (NVIDIA's must not be mixed with them)."""
    if host.distro_id == "ubuntu":
        return "Ubuntu's nvidia-driver-XXX packages"
    if host.distro_id == "debian":
        return "Debian's own nvidia-driver packages (non-free)"
    return f"{host.pretty_name or host.distro_id or 'the distribution'}'s own NVIDIA driver packages"
