"""Evidence readers the rules share (and ``generations`` uses): each reads one kind of proof.

Every reader works line by line on lines cut to ``MAX_LINE`` characters, with patterns that are
anchored or of bounded repetition, so a hostile snapshot (megabytes on one line) cannot make a
regular expression run away. Probes are visited in sorted order, so the evidence chosen never
depends on the order of keys in the snapshot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from ..images import IMAGES_PROBE
from ..snapshot import CommandResult, Snapshot

MAX_LINE = 1000  # characters of one line a pattern looks at; real error lines are far shorter
MAX_LINES = 2000  # non-empty lines per probe a pattern looks at (docker info, apt-get update: a few hundred)
# Probes that run a container: text from them was printed inside a container or by the runtime's hook.
CONTAINER_PROBES = ("docker_gpu", "docker_gpu_runtime", "docker_gpu_sudo", "docker_nbody", "nvidia_docker_run")
# Probes whose text is the host's own nvidia-smi.
HOST_SMI_PROBES = ("nvidia_smi", "nvidia_smi_query")
DOCKER_CLI_PROBES = ("docker_version", "docker_info", "docker_ps")
TOOLKIT_PROBES = ("nvidia_ctk_version", "nvidia_container_cli_version", "nvidia_container_cli_info")


class Line(NamedTuple):
    """One line of evidence and the probe (or ``files`` / ``paths``) it came from."""

    probe: str
    text: str


@lru_cache(maxsize=512)
def _regex(pattern: str, flags: int) -> re.Pattern:
    return re.compile(pattern, flags)


def lines_of(text: str) -> list[str]:
    """Non-empty lines, each cut to MAX_LINE characters, at most MAX_LINES of them."""
    return list(_lines(text))


@lru_cache(maxsize=64)
def _lines(text: str) -> tuple[str, ...]:
    found = []
    for line in text.splitlines():
        line = line[:MAX_LINE].rstrip()
        if line.strip():
            found.append(line)
            if len(found) >= MAX_LINES:
                break
    return tuple(found)


def probe_names(snap: Snapshot) -> list[str]:
    """The probes whose output may hold a message; the image listing holds names only (an image may be called
    anything), so a search over all probes never reads it."""
    return sorted(name for name in (snap.data.get("commands") or {}) if name != IMAGES_PROBE)


def results(snap: Snapshot, names: Iterable[str] | None = None) -> list[CommandResult]:
    chosen = probe_names(snap) if names is None else list(names)
    return [r for r in (snap.command(n) for n in chosen) if r]


def find(snap: Snapshot, pattern: str, names: Iterable[str] | None = None, flags: int = re.I) -> Line | None:
    """The first line matching ``pattern`` in the named probes (all, in sorted order, for None)."""
    regex = _regex(pattern, flags)
    for result in results(snap, names):
        for line in _lines(result.text):
            if regex.search(line):
                return Line(result.name, line.strip())
    return None


def search(pattern: str, text: str, flags: int = re.I) -> re.Match | None:
    """``re.search`` over ``text`` line by line (bounded like ``find``)."""
    regex = _regex(pattern, flags)
    for line in _lines(text):
        match = regex.search(line)
        if match:
            return match
    return None


def cite(line: Line | None) -> str:
    """The evidence string of a finding: ``probe: line``."""
    if not line:
        return ""
    return f"{line.probe}: {line.text[:300]}"


def installed_packages(snap: Snapshot, pattern: str, probe: str = "dpkg_nvidia") -> list[str]:
    """Installed package names (status ii/hi/iU…) matching ``pattern`` in a ``dpkg -l`` listing."""
    listing = snap.command(probe)
    names: list[str] = []
    if not listing:
        return names
    regex = _regex(pattern, 0)
    for line in lines_of(listing.stdout):
        match = re.match(r"[ih][iUFHWt]\s{1,20}(\S{1,200})", line)
        if match:
            name = match.group(1).split(":")[0]
            if regex.fullmatch(name) and name not in names:
                names.append(name)
    return names


_SMI_ROW = r"^\|\s{1,20}\d{1,3}\s{1,20}[A-Za-z][^|]{0,200}\|"
_SMI_HEADER = r"NVIDIA-SMI\s{1,20}[\d.]{1,20}.{0,80}Driver Version"
_NBODY_RATE = r"=\s{0,5}[\d.]{1,20}\s{1,5}billion interactions per second"


def container_saw_gpu(snap: Snapshot, names: Iterable[str] = CONTAINER_PROBES) -> Line | None:
    """A container printed an nvidia-smi GPU row (or its header, if cut) or nbody's rate."""
    for result in results(snap, names):
        if result.rc not in (0, None) or result.timed_out:
            continue
        text = result.stdout or result.text
        if search(r"No devices were found|Failed to initialize NVML", text):
            continue
        row = search(_SMI_ROW, text, 0) or search(_NBODY_RATE, text)
        if row:
            return Line(result.name, row.group(0).strip())
        header = search(_SMI_HEADER, text, 0)
        if header:
            return Line(result.name, header.group(0).strip())
    return None


# what a host nvidia-smi prints when it runs but the driver or the GPU is not healthy (it may print its
# header first, then crash): never proof that the driver works
SMI_BROKEN = (
    r"couldn't communicate|Failed to initialize NVML|couldn't find libnvidia-ml|No devices were found"
    r"|Segmentation fault|segmentation fault|core dumped|Unable to determine the device handle|GPU is lost"
    r"|Unknown Error|fallen off the bus"
)


def host_smi_ok(snap: Snapshot) -> Line | None:
    """The host's own nvidia-smi shows a driver version (and did not crash or fail after printing it)."""
    smi = snap.command("nvidia_smi")
    if smi and smi.rc in (0, None) and not smi.timed_out:
        if not search(SMI_BROKEN, smi.text):
            match = search(
                r"Driver Version\s{0,30}:\s{0,30}[\d.]{1,20}(\s{1,20}CUDA Version:\s{0,5}[\d.]{1,10})?", smi.text
            )
            if match:
                return Line("nvidia_smi", match.group(0))
    query = snap.command("nvidia_smi_query")
    if query and query.ok:
        match = search(r",\s{0,5}\d{1,4}\.\d", query.stdout)
        if match:
            return Line("nvidia_smi_query", lines_of(query.stdout)[0])
    return None


def ran_cleanly(result: CommandResult | None) -> bool:
    """A command that exited 0, or whose exit status a report left out, with output and no error line."""
    if not result or result.timed_out or result.rc not in (0, None) or not result.stdout.strip():
        return False
    return not search(r"error|failed|not found|cannot|unable|denied|couldn't", result.text)


def _json_object(text: str) -> dict | None:
    text = text.strip()
    if not text.startswith("{") or len(text) > 2_000_000:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def runtimes(snap: Snapshot) -> Line | None:
    """Docker's runtimes as ``docker info`` lists them (a pasted fragment with only its
    ``Runtimes:`` line counts), or the JSON of ``docker info --format '{{json .Runtimes}}'``."""
    listing = snap.command("docker_info_runtimes")
    if listing and listing.rc in (0, None):
        value = _json_object(listing.stdout)
        if value is not None:
            return Line("docker_info_runtimes", "Runtimes: " + " ".join(sorted(str(k) for k in value)))
    info = snap.command("docker_info")
    if not info or info.rc not in (0, None):
        return None
    for line in lines_of(info.text):
        stripped = line.strip()
        if stripped.startswith("Runtimes:"):
            return Line("docker_info", stripped)
    value = _json_object(info.stdout)
    if value is not None and isinstance(value.get("Runtimes"), dict):
        return Line("docker_info", "Runtimes: " + " ".join(sorted(str(k) for k in value["Runtimes"])))
    return None


def runtime_names(line: Line | None) -> set[str]:
    if not line:
        return set()
    return set(line.text.split(":", 1)[1].split())


def daemon_json(snap: Snapshot) -> dict | None:
    """/etc/docker/daemon.json parsed; {} for an absent file, None when not probed or unreadable JSON."""
    text = snap.file("/etc/docker/daemon.json")
    if text is None:
        return None
    if not text.strip():
        return {}
    return _json_object(text)


def daemon_json_has_nvidia(snap: Snapshot) -> bool | None:
    """Whether daemon.json registers the nvidia runtime; None when not known."""
    config = daemon_json(snap)
    if config is None:
        text = snap.file("/etc/docker/daemon.json")
        return None if text is None else bool(re.search(r'"nvidia"\s{0,20}:', text[:100_000]))
    runtimes_ = config.get("runtimes")
    return isinstance(runtimes_, dict) and "nvidia" in runtimes_


def cdi_specs(snap: Snapshot) -> list[str]:
    """NVIDIA CDI spec files the snapshot saw (paths, or the ``ls_cdi`` listing of /etc/cdi and /var/run/cdi)."""
    found = [p for p in ("/etc/cdi/nvidia.yaml", "/var/run/cdi/nvidia.yaml") if snap.path(p)]
    listing = snap.command("ls_cdi")
    if listing:
        folder = ""
        for line in lines_of(listing.stdout):
            if line.endswith(":") and line.startswith("/"):
                folder = line[:-1]
                continue
            name = line.split()[-1]
            if "nvidia" in name and name.endswith((".yaml", ".json")):
                path = f"{folder}/{name}" if folder else name
                if path not in found:
                    found.append(path)
    return sorted(found)


def toolkit_evidence(snap: Snapshot) -> list[str]:
    """Proof that the NVIDIA Container Toolkit is installed, read without running a container."""
    proof = []
    for name in TOOLKIT_PROBES:
        result = snap.command(name)
        if not result or result.timed_out or result.not_found or not result.stdout.strip():
            continue
        # rc unknown (a pasted report): judge by the text, a version line is proof
        if result.ok or (result.rc is None and search(r"version|NVRM|Device Index", result.stdout)):
            proof.append(f"{name}: {lines_of(result.stdout)[0][:120]}")
    for path in ("/usr/bin/nvidia-container-runtime-hook", "/usr/bin/nvidia-ctk"):
        if snap.path(path):
            proof.append(f"{path} exists")
    packages = installed_packages(snap, r"nvidia-container-toolkit(-base)?|libnvidia-container-tools")
    if packages:
        proof.append("installed: " + ", ".join(packages))
    if "nvidia" in runtime_names(runtimes(snap)):
        proof.append("docker info: Runtimes lists nvidia")
    if daemon_json_has_nvidia(snap):
        proof.append("/etc/docker/daemon.json has runtimes.nvidia")
    specs = [p for p in cdi_specs(snap) if _toolkit_made(snap.file(p))]
    if specs:
        proof.append("CDI spec: " + ", ".join(specs))
    return proof


def _toolkit_made(text: str | None) -> bool:
    """A CDI spec proves the toolkit only when the toolkit wrote it (its hooks); None: not read, so counted."""
    return text is None or not text or "nvidia-cdi-hook" in text[:300_000] or "nvidia-ctk" in text[:300_000]


def toolkit_absent(snap: Snapshot) -> Line | None:
    """Proof that the toolkit is not installed: its commands are missing and nothing else shows it."""
    if toolkit_evidence(snap):
        return None
    probed = [snap.command(n) for n in TOOLKIT_PROBES]
    probed = [r for r in probed if r]
    if probed and all(r.not_found for r in probed):
        first = probed[0]
        return Line(first.name, (lines_of(first.text) or [f"{first.name}: command not found"])[0])
    return None


def docker_info_ok(snap: Snapshot) -> bool:
    info = snap.command("docker_info")
    return bool(info and info.rc in (0, None) and search(r"Server Version|\"ServerVersion\"", info.text))


def engine_version(snap: Snapshot) -> str | None:
    """The engine's version from ``docker info`` (or ``docker version``'s Server section)."""
    info = snap.command("docker_info")
    if info:
        match = search(
            r"Server Version:\s{0,10}(\S{1,60})|\"ServerVersion\"\s{0,5}:\s{0,5}\"([^\"]{1,60})\"", info.text
        )
        if match:
            return match.group(1) or match.group(2)
    version = snap.command("docker_version")
    if version:
        lines = lines_of(version.text)
        for number, line in enumerate(lines):
            if line.strip() in ("Engine:", "Server:") or line.startswith("Server:"):
                for nxt in lines[number + 1 : number + 4]:
                    match = re.match(r"\s{0,10}Version:\s{0,10}(\S{1,60})", nxt)
                    if match:
                        return match.group(1)
    return None


def version_tuple(version: str | None) -> tuple[int, ...] | None:
    """'20.10.24+dfsg1' -> (20, 10, 24); None for text that is not a version."""
    if not version:
        return None
    match = re.match(r"(\d{1,4})(?:\.(\d{1,4}))?(?:\.(\d{1,4}))?", version)
    return tuple(int(p) for p in match.groups() if p is not None) if match else None


def first_error_line(result: CommandResult) -> str:
    """The line of a failed probe most likely to name the problem."""
    lines = lines_of(result.text)
    for line in lines:
        if re.search(r"error|denied|failed|cannot|unable|not found|invalid", line, re.I):
            return line.strip()
    return lines[0].strip() if lines else "no output"
