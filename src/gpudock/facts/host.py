"""Host facts derived from a Snapshot: distro, native / WSL 1 / WSL 2, architecture, systemd.

Pure functions of the snapshot, so a user's report and the live host are read the same way.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import asdict, dataclass, field

from ..snapshot import Snapshot

NATIVE, WSL1, WSL2, UNKNOWN = "native", "wsl1", "wsl2", "unknown"
# how each kind is written for people (the doctor's header says "native Linux"; tables and plans "native")
KIND_LABELS = {WSL2: "WSL 2", WSL1: "WSL 1", NATIVE: "native"}
# What systemctl prints where PID 1 is not systemd. The first line is unambiguous in any command's
# output; "Failed to connect to bus" only means this when systemctl itself says it.
NO_SYSTEMD = r"has not been booted with systemd"
NO_SYSTEMD_SYSTEMCTL = NO_SYSTEMD + r"|Failed to connect to bus"


def parse_os_release(text: str) -> dict[str, str]:
    """os-release(5): KEY=value lines, values optionally shell-quoted."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
            fields[key.strip()] = parts[0] if parts else ""
        except ValueError:  # an unbalanced quote in a pasted, cut-off file
            fields[key.strip()] = value.strip().strip("\"'")
    return fields


def wsl_kind(snap: Snapshot) -> str:
    """native, wsl1, wsl2 or unknown, from the kernel release, /proc/version, env and /dev/dxg."""
    release = snap.platform.get("release") or ""
    proc_version = snap.file("/proc/version") or ""
    proc_version = proc_version[:2000]
    if re.search(r"-Microsoft\b", release[:200]) or re.search(
        r"\d{1,3}\.\d{1,3}\.\d{1,3}-\d{1,6}-Microsoft", proc_version
    ):
        return WSL1
    if "microsoft-standard-wsl2" in release.lower() or re.search(r"microsoft-standard-WSL2", proc_version, re.I):
        return WSL2
    if "microsoft" in release.lower() or "microsoft" in proc_version.lower():
        return WSL2  # WSL 2 custom kernels still carry "microsoft"
    stub = " ".join(r.text for r in snap.commands() if "could not be found in this WSL" in r.text)
    if "WSL 1 distro" in stub:  # Docker Desktop's stub names the WSL version
        return WSL1
    if "WSL 2 distro" in stub:
        return WSL2
    if (
        snap.env.get("WSL_DISTRO_NAME")
        or snap.env.get("WSL_INTEROP")
        or snap.path("/proc/sys/fs/binfmt_misc/WSLInterop")
    ):
        return WSL2  # WSL 1 was caught above by its kernel release
    if snap.path("/dev/dxg"):
        return WSL2
    debug = snap.command("nvidia_container_cli_debug")
    if debug and "dxcore layer initialized successfully" in debug.text[:200_000]:
        return WSL2  # libnvidia-container found WSL's GPU-PV library
    if debug and "dxcore initialization failed, continuing assuming a non-WSL environment" in debug.text[:200_000]:
        return NATIVE
    if release or proc_version:
        return NATIVE
    return UNKNOWN


def has_systemd(snap: Snapshot) -> bool | None:
    """Whether systemd is PID 1; None when nothing in the snapshot tells."""
    systemctl = snap.command("systemctl_docker")
    if systemctl:
        if re.search(NO_SYSTEMD_SYSTEMCTL, systemctl.text) or systemctl.not_found:
            return False
        if systemctl.text.strip() in ("active", "inactive", "failed", "activating", "unknown") or systemctl.rc in (
            0,
            3,
        ):
            return True
    for result in snap.commands():
        if re.search(NO_SYSTEMD, result.text):
            return False
    return snap.path("/run/systemd/system")  # sd_booted(3) tests this very path


def docker_engine_os(snap: Snapshot) -> str | None:
    """``Operating System:`` of the engine the CLI talks to (Docker Desktop shows itself here)."""
    info = snap.command("docker_info")
    if not info:
        return None
    for line in info.text.splitlines()[:2000]:
        match = re.match(r"[ \t]{0,20}Operating System:[ \t]{0,20}(.{1,200})$", line[:300])
        if match:
            return match.group(1).strip()
    match = re.search(r'"OperatingSystem"\s{0,5}:\s{0,5}"([^"]{0,200})"', info.text[:200_000])
    return match.group(1) if match else None


def gpus(snap: Snapshot) -> list[dict]:
    """GPUs from ``nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader``."""
    query = snap.command("nvidia_smi_query")
    found = []
    if not query or query.failed:
        return found
    for line in query.stdout.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) >= 3 and cells[0] and not cells[0].startswith("name") and re.match(r"\d", cells[1]):
            found.append({"name": cells[0], "driver_version": cells[1], "memory_total": cells[2]})
    return found


def groups(snap: Snapshot) -> list[str]:
    """The group names ``id`` printed for this session (``gid=…(name) groups=…(name),…``); [] when not probed.

    A pasted fragment without ``uid=`` counts as a list of groups.
    """
    ident = snap.command("id")
    text = ident.stdout[:10_000] if ident else ""
    text = re.sub(r"^\s{0,20}uid=\d{1,10}\([^)]{0,64}\)", "", text)
    names: list[str] = []
    for name in re.findall(r"\d{1,10}\(([^()\s]{1,64})\)", text):
        if name not in names:
            names.append(name)
    return names


def driver_version(snap: Snapshot) -> str | None:
    """The NVIDIA driver's version: the first GPU's in ``nvidia-smi --query-gpu``, else ``nvidia-smi``'s header."""
    found = gpus(snap)
    if found:
        return found[0]["driver_version"]
    smi = snap.command("nvidia_smi")
    match = re.search(r"Driver Version:\s{0,30}([\d.]{1,20})", smi.text[:200_000]) if smi and smi.ok else None
    return match.group(1) if match else None


def windows_build(snap: Snapshot) -> int | None:
    """Windows' build number from ``cmd.exe /c ver`` (WSL), e.g. 19043 from ``[Version 10.0.19043.1288]``."""
    result = snap.command("windows_version")
    if not result:
        return None
    match = re.search(r"Version 10\.0\.(\d{5})\b", result.text[:2000])
    return int(match.group(1)) if match else None


# lspci's NVIDIA device names carry the chip code: "NVIDIA Corporation GP104 [GeForce GTX 1080]".
_CHIP = re.compile(r"NVIDIA Corporation\s{1,5}([A-Z]{2}\d{2,3}[A-Z]{0,4})\b")
# Chip code prefix -> architecture (NVIDIA's codenames).
ARCHITECTURES = {
    "GM": "Maxwell",
    "GP": "Pascal",
    "GV": "Volta",
    "TU": "Turing",
    "GA": "Ampere",
    "AD": "Ada Lovelace",
    "GH": "Hopper",
    "GB": "Blackwell",
}


def gpu_chips(snap: Snapshot) -> list[str]:
    """NVIDIA chip codes (GP104, GA102, GH100, …) from ``lspci``'s device names, in bus order."""
    result = snap.command("lspci")
    if not result:
        return []
    found = []
    for line in result.stdout.splitlines()[:200]:
        if not re.search(r"VGA|3D controller|Display controller", line[:300]):
            continue
        match = _CHIP.search(line[:300])
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


def architecture(chip: str) -> str | None:
    """'GP104' -> 'Pascal'; None for a code this table does not know."""
    for prefix in sorted(ARCHITECTURES, key=len, reverse=True):
        if chip.startswith(prefix) and chip[len(prefix) : len(prefix) + 1].isdigit():
            return ARCHITECTURES[prefix]
    return None


@dataclass
class HostInfo:
    """What kind of host this is; the ``host`` object of ``doctor --json``."""

    distro_id: str = ""
    distro_version: str = ""
    codename: str = ""
    pretty_name: str = ""
    id_like: str = ""
    kind: str = UNKNOWN
    arch: str = ""
    kernel: str = ""
    systemd: bool | None = None
    docker_engine_os: str | None = None
    wsl_distro: str | None = None
    user: str | None = None
    is_root: bool | None = None
    gpus: list = field(default_factory=list)
    gpu_chips: list = field(default_factory=list)
    windows_build: int | None = None

    @property
    def is_wsl(self) -> bool:
        return self.kind in (WSL1, WSL2)

    @property
    def docker_desktop(self) -> bool:
        return bool(self.docker_engine_os and "docker desktop" in self.docker_engine_os.lower())

    @property
    def debian_family(self) -> bool:
        return (
            self.distro_id in ("ubuntu", "debian")
            or "debian" in self.id_like.split()
            or "ubuntu" in self.id_like.split()
        )

    def as_dict(self) -> dict:
        data = asdict(self)
        data["docker_desktop"] = self.docker_desktop
        return data


def _user(snap: Snapshot) -> tuple[str | None, bool | None]:
    ident = snap.command("id")
    if ident and ident.stdout:
        match = re.search(r"uid=(\d+)\(([^)]*)\)", ident.stdout)
        if match:
            return match.group(2), match.group(1) == "0"
    user = snap.env.get("USER")
    return user, (user == "root") if user else None


def host_info(snap: Snapshot) -> HostInfo:
    osr = parse_os_release(snap.file("/etc/os-release") or "")
    user, is_root = _user(snap)
    return HostInfo(
        distro_id=osr.get("ID", "").lower(),
        distro_version=osr.get("VERSION_ID", ""),
        codename=osr.get("VERSION_CODENAME") or osr.get("UBUNTU_CODENAME", ""),
        pretty_name=osr.get("PRETTY_NAME", ""),
        id_like=osr.get("ID_LIKE", "").lower(),
        kind=wsl_kind(snap),
        arch=snap.platform.get("machine") or "",
        kernel=snap.platform.get("release") or "",
        systemd=has_systemd(snap),
        docker_engine_os=docker_engine_os(snap),
        wsl_distro=snap.env.get("WSL_DISTRO_NAME"),
        user=user,
        is_root=is_root,
        gpus=gpus(snap),
        gpu_chips=gpu_chips(snap),
        windows_build=windows_build(snap),
    )
