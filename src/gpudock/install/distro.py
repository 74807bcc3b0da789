"""Which distributions each install supports, and the names their repositories use."""

from __future__ import annotations

from ..exceptions import PlanRefused
from ..facts.host import KIND_LABELS, HostInfo
from ..fixes import CUDA_REPOS, NEW_KEY_REPOS  # noqa: F401  (NEW_KEY_REPOS: read as distro.NEW_KEY_REPOS)

# NVIDIA's CUDA repositories per release (the doctor's apt fixes name them too): one home in gpudock.fixes.
# Releases past their standard support: Ubuntu 20.04's ended in May 2025 (security updates continue only as
# ESM with Ubuntu Pro, to 2030: https://ubuntu.com/about/release-cycle), Debian 11's LTS in August 2026
# (https://wiki.debian.org/LTS). Plans still work; the plan warns.
END_OF_LIFE = {
    ("ubuntu", "20.04"): (
        "Ubuntu 20.04 left standard support in May 2025: no standard security updates (ESM only, with Ubuntu Pro)"
    ),
    ("debian", "11"): "Debian 11 (bullseye) left long-term support in August 2026: no security updates from Debian",
}
# The distributions' own docker.io that predates Docker Engine 25 (no CDI; 20.10 is past Docker's end of life).
DISTRO_DOCKER_IO = {
    ("debian", "11"): "20.10",
    ("debian", "12"): "20.10",
}


def end_of_life(host: HostInfo) -> str | None:
    """A plan note when the host's release is past its standard support, else None."""
    eol = END_OF_LIFE.get((host.distro_id, host.distro_version))
    return f"End of life: {eol}." if eol else None


DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "amd64": "amd64", "arm64": "arm64"}


def describe(host: HostInfo) -> str:
    kind = KIND_LABELS.get(host.kind, host.kind)
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
