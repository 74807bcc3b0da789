"""Which distributions each install supports, and the names their repositories use."""

from __future__ import annotations

from ..exceptions import PlanRefused
from ..hostinfo import HostInfo

# NVIDIA's CUDA network repositories (https://developer.download.nvidia.com/compute/cuda/repos/):
# directory name per (distro, version), and the architectures NVIDIA ships there.
CUDA_REPOS = {
    ("ubuntu", "20.04"): ("ubuntu2004", {"x86_64": "x86_64", "aarch64": "sbsa"}),
    ("ubuntu", "22.04"): ("ubuntu2204", {"x86_64": "x86_64", "aarch64": "sbsa"}),
    ("ubuntu", "24.04"): ("ubuntu2404", {"x86_64": "x86_64", "aarch64": "sbsa"}),
    ("debian", "11"): ("debian11", {"x86_64": "x86_64"}),
    ("debian", "12"): ("debian12", {"x86_64": "x86_64"}),
}
DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "amd64": "amd64", "arm64": "arm64"}


def describe(host: HostInfo) -> str:
    kind = {"wsl2": "WSL 2", "wsl1": "WSL 1", "native": "native"}.get(host.kind, host.kind)
    name = host.pretty_name or (host.distro_id + " " + host.distro_version).strip() or "unknown distro"
    return f"{name} ({kind}, {host.arch or '?'})"


def require_debian_family(host: HostInfo, what: str, docs: str) -> None:
    if not host.distro_id:
        raise PlanRefused(
            f"cannot plan {what}: the snapshot has no /etc/os-release; "
            "run `gpudock doctor --save-snapshot F` on the host"
        )
    if not host.debian_family:
        raise PlanRefused(
            f"cannot plan {what} for {describe(host)}: gpudock plans apt-based installs only (Ubuntu, Debian); "
            f"follow the official instructions: {docs}"
        )


def deb_arch(host: HostInfo) -> str:
    return DEB_ARCH.get(host.arch, host.arch or "amd64")


def cuda_repo(host: HostInfo, docs: str) -> tuple[str, str]:
    """(repo directory, arch directory) for NVIDIA's CUDA repository, or PlanRefused."""
    entry = CUDA_REPOS.get((host.distro_id, host.distro_version))
    if not entry:
        supported = ", ".join(f"{d.capitalize()} {v}" for d, v in CUDA_REPOS)
        raise PlanRefused(
            f"cannot plan the NVIDIA driver for {describe(host)}: supported here are {supported}; see {docs}"
        )
    repo, arches = entry
    arch = arches.get(host.arch or "x86_64")
    if not arch:
        raise PlanRefused(f"NVIDIA ships no {host.arch} packages in its {repo} CUDA repository; see {docs}")
    return repo, arch
