"""apt layer: repositories apt refuses (keys, Signed-By conflicts); they block every install step.

Fixes follow NVIDIA's 2022 key-rotation notice: the old CUDA list entry goes *before* cuda-keyring
is installed, else apt stops with "Conflicting values set for option Signed-By".
"""

from __future__ import annotations

import re

from ..facts.evidence import cite, find, lines_of
from ..fixes import CUDA_KEYRING_DEB, DOCS, TOOLKIT_KEYRING
from .registry import Hit, register

# The repository directory of NVIDIA's CUDA repo as it appears in apt's messages (safe characters only).
_CUDA_REPO = r"https://developer\.download\.nvidia\.com/compute/cuda/repos/([a-z0-9-]{1,30})/([a-z0-9_]{1,20})"
KEYRING_DEB = CUDA_KEYRING_DEB
# apt-key "will last be available in Debian 12 and Ubuntu 24.04" (apt-key(8)): guarded, so the step is a
# no-op where the command no longer exists instead of "command not found".
OLD_KEY_STEP = (
    "command -v apt-key >/dev/null && sudo apt-key del 7fa2af80   # the pre-2022 CUDA key, where apt-key exists"
)


def cuda_key_steps(repo_url: str | None) -> list[str]:
    """NVIDIA's order for the rotated CUDA key: old key and old list out, then cuda-keyring, then update."""
    if repo_url is None:  # no repository in the evidence: a placeholder can only be prose, never a command
        return [
            OLD_KEY_STEP,
            "first remove the old CUDA list entry (the one without signed-by): "
            "`grep -l developer.download.nvidia.com /etc/apt/sources.list /etc/apt/sources.list.d/*`, then delete "
            "that line or file (installing cuda-keyring beside it ends in 'Conflicting values set for option "
            "Signed-By')",
            f"download {KEYRING_DEB} from your distribution's folder under "
            "https://developer.download.nvidia.com/compute/cuda/repos/ and install it: "
            f"`sudo dpkg -i {KEYRING_DEB}`",
            "sudo apt-get update",
        ]
    base = repo_url
    return [
        OLD_KEY_STEP,
        "first remove the old CUDA list entry (the one without signed-by): "
        "`grep -l developer.download.nvidia.com /etc/apt/sources.list /etc/apt/sources.list.d/*`, then delete "
        "that line or file (installing cuda-keyring beside it ends in 'Conflicting values set for option Signed-By')",
        f"wget {base}/{KEYRING_DEB}",
        f"sudo dpkg -i {KEYRING_DEB}   # installs the current key and a signed-by list",
    ]


def _repo_fix(text: str, host) -> list[str]:
    cuda = re.search(_CUDA_REPO, text)
    if cuda or re.search(r"A4B469963BF863CC|3BF863CC|developer\.download\.nvidia\.com/compute/cuda", text):
        steps = cuda_key_steps(cuda.group(0) if cuda else None)
        if host.is_wsl:
            steps.append("on WSL this is the wsl-ubuntu repository: the same steps; never install a driver there")
        return steps
    if "nvidia.github.io" in text:
        return [
            "remove every old nvidia-docker / nvidia-container-runtime / libnvidia-container*.list from "
            "/etc/apt/sources.list.d/ (keep nvidia-container-toolkit.list)",
            "fetch NVIDIA's current key: `curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey | "
            f"sudo gpg --dearmor --yes -o {TOOLKIT_KEYRING}`",
            "gpudock plan toolkit   # one stable/deb list with signed-by that keyring",
        ]
    if "download.docker.com" in text:
        return [
            "fetch Docker's current key into the keyring its list file names (signed-by): "
            "`sudo curl -fsSL https://download.docker.com/linux/$(. /etc/os-release; echo $ID)/gpg "
            "-o /etc/apt/keyrings/docker.asc`",
            "check its fingerprint: `gpg --show-keys /etc/apt/keyrings/docker.asc` must show "
            "9DC8 5822 9FC7 DD38 854A  E2D8 8D81 803C 0EBF CD88",
            "sudo apt-get update",
        ]
    return ["find the repository's current key and reference it with signed-by=… in its list file (never apt-key add)"]


def _key_fix(snap, host, hit):
    return [
        *_repo_fix(hit.data.get("context", ""), host),
        "sudo apt-get update   # must finish without W:/E: lines about keys",
    ]


@register(
    "apt-key-missing",
    severity="error",
    layer="apt",
    order=20,
    title="apt rejects a repository's signing key",
    fix=_key_fix,
    docs=[DOCS["cuda_key_rotation"], DOCS["toolkit_install"], DOCS["docker_install_debian"]],
)
def apt_key_missing(snap, host):
    hit = find(snap, r"NO_PUBKEY")
    if not hit and not find(snap, r"SHA1 is not considered secure"):  # a SHA1 rejection: apt-sha1-rejected
        hit = find(snap, r"is not signed")
    severity = None
    if not hit:
        hit = find(snap, r"Key is stored in legacy trusted\.gpg keyring|apt-key is deprecated")
        severity = "warning"
    if not hit:
        return None
    result = snap.command(hit.probe)
    context = "\n".join(lines_of(result.text)) if result else hit.text
    return Hit(cite(hit), {"context": context}, severity=severity)


def _signed_by_fix(snap, host, hit):
    where = hit.data.get("host") or "<repository host>"
    return [
        f"grep -rl '{where}' /etc/apt/sources.list /etc/apt/sources.list.d/",
        "keep the file that has signed-by=<keyring> (today's instructions); "
        "delete the other, e.g. an old nvidia-docker.list, libnvidia-container.list or cuda-*.list",
        "sudo apt-get update",
    ]


@register(
    "apt-signed-by-conflict",
    severity="error",
    layer="apt",
    order=10,
    title="apt-get update aborts: two list files describe one repository with different keys",
    fix=_signed_by_fix,
    docs=[DOCS["toolkit_troubleshooting"]],
)
def apt_signed_by_conflict(snap, host):
    hit = find(snap, r"Conflicting values set for option Signed-By")
    if not hit:
        return None
    url = re.search(r"https?://([A-Za-z0-9.-]{1,100})", hit.text)
    return Hit(cite(hit), {"host": url.group(1) if url else None})
