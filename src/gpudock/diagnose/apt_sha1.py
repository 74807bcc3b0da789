"""apt layer, continued: apt (sqv) refuses a repository whose signing key is bound with SHA1.

Since 2026-02-01 apt's Sequoia verifier (Debian 13, newer Ubuntu) rejects SHA1 binding signatures
(https://wiki.debian.org/Teams/Apt/Sha1Removal). NVIDIA's CUDA key 3bf863cc has one, and NVIDIA does not
re-sign existing repositories: only repositories built after the change carry a new key (debian13,
8793F200; NVIDIA/cuda-repo-management#39). So the 2022 key-rotation recipe (``apt-key del`` and
``cuda-keyring``) cannot help: the fix is the repository built for this release, where there is one.
"""

from __future__ import annotations

import re

from ..facts.evidence import cite, find
from ..fixes import CUDA_KEYRING_DEB, CUDA_REPOS, DOCS, NEW_KEY_REPOS
from .registry import Hit, register

SHA1_REJECTED = r"SHA1 is not considered secure"
SHA1_SOON = r"Policy will reject signature within a year"
_CUDA_REPO = re.compile(
    r"https://developer\.download\.nvidia\.com/compute/cuda/repos/([a-z0-9]{1,30})/([a-z0-9_]{1,20})"
)
# NVIDIA's CUDA repository key (2022): 3bf863cc, fingerprint EB693B3035CD5710E231E123A4B469963BF863CC
CUDA_KEY = r"A4B469963BF863CC|3BF863CC|3bf863cc"
_REPO_URL = re.compile(r"https?://[A-Za-z0-9.-]{1,100}/[A-Za-z0-9._/-]{0,200}")


def _host_repo(host) -> tuple[str, str] | None:
    """(repo, arch dir) NVIDIA builds for this host's release, when gpudock knows it."""
    entry = CUDA_REPOS.get((host.distro_id, host.distro_version))
    if not entry:
        return None
    repo, arches = entry
    arch = arches.get(host.arch or "x86_64")
    return (repo, arch) if arch else None


def _sha1_fix(snap, host, hit):
    used = hit.data.get("cuda_repo")
    if not used:
        return [
            "the repository's key is bound with SHA1, which apt no longer accepts: only its owner can fix it "
            "(a key bound with SHA-256); importing the same key again changes nothing",
            "until then, remove or disable that repository's list file so `apt-get update` works again",
        ]
    known = used[1] != ""
    where = used[0] if known else "developer.download.nvidia.com/compute/cuda"
    steps = [
        "NVIDIA does not re-sign existing repositories: `apt-key del` and reinstalling cuda-keyring for "
        f"{used[0]} cannot fix this",
    ]
    remove = (
        f"first remove the old CUDA list entry (`grep -l {where} /etc/apt/sources.list "
        "/etc/apt/sources.list.d/*`, then delete that line or file)"
    )
    own = _host_repo(host)
    if own and own[0] in NEW_KEY_REPOS and own[0] != used[0]:
        base = f"https://developer.download.nvidia.com/compute/cuda/repos/{own[0]}/{own[1]}"
        return steps + [
            f"use the repository NVIDIA built for {host.pretty_name or host.distro_id}, {own[0]}, signed with "
            f"a new key: {remove}",
            f"wget {base}/{CUDA_KEYRING_DEB}",
            f"sudo dpkg -i {CUDA_KEYRING_DEB}   # the {own[0]} key and list",
            "sudo apt-get update",
        ]
    if not host.distro_id:
        return steps + [
            "use the repository NVIDIA built for your release where it carries a new key (today: "
            + ", ".join(NEW_KEY_REPOS)
            + f"); {remove}, then install that repository's {CUDA_KEYRING_DEB}",
            "where NVIDIA has none for your release or architecture, install the driver from the distribution "
            "(Debian: `nvidia-driver` from non-free; Ubuntu: the archive's `nvidia-driver-<branch>` packages); "
            "do not lower apt's SHA1 policy",
        ]
    release = host.pretty_name or "this release"
    return steps + [
        f"NVIDIA publishes no repository with a new key for {release} ({host.arch or 'this architecture'}): "
        "install the driver from the distribution instead (Debian: `nvidia-driver` from non-free; Ubuntu: "
        f"`sudo ubuntu-drivers install`), and {remove.replace('first ', '')}",
        "follow NVIDIA's answer in the issue below for new repositories; do not lower apt's SHA1 policy",
    ]


@register(
    "apt-sha1-rejected",
    severity="error",
    layer="apt",
    order=15,
    title="apt rejects a repository signed with a SHA1-bound key (apt's sqv policy since 2026-02-01)",
    fix=_sha1_fix,
    docs=[DOCS["cuda_repo_sha1"], DOCS["debian_sha1_removal"], DOCS["driver_install"]],
)
def apt_sha1_rejected(snap, host):
    hit = find(snap, SHA1_REJECTED)
    severity = title = None
    if not hit:
        hit = find(snap, SHA1_SOON)
        if not hit:
            return None
        severity = "warning"
        title = "apt warns that it will reject a repository's SHA1-bound key: plan the move now"
    result = snap.command(hit.probe)
    text = (result.text if result else hit.text)[:200_000]
    cuda = _CUDA_REPO.search(text)
    repo = cuda.groups() if cuda else (("the CUDA repository", "") if re.search(CUDA_KEY, text) else None)
    url = _REPO_URL.search(hit.text) or cuda
    evidence = cite(hit)
    if url and url.group(0) not in evidence:
        evidence += f" ({url.group(0)})"
    return Hit(evidence, {"cuda_repo": repo}, severity=severity, title=title)
