"""Versions of the GPU stack a snapshot shows: the toolkit, the driver's libraries on disk, the loaded module.

Each reader takes the best evidence there is and says where it came from (a ``Line``), so a rule can
cite it. Probes are real outputs (``nvidia-ctk --version``, ``dpkg -l``, ``ls -l`` of the driver's
libraries, ``/proc/driver/nvidia/version``); pasted reports are read the same way, line by line and
bounded (``evidence.lines_of``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..snapshot import Snapshot
from .evidence import Line, lines_of, probe_names, search

VERSION = r"\d{1,4}\.\d{1,4}(?:\.\d{1,4})?"
# what each toolkit command prints about its own version
_TOOLKIT_VERSION_LINES = (
    ("nvidia_ctk_version", r"NVIDIA Container Toolkit CLI version (" + VERSION + r")"),
    ("nvidia_container_cli_version", r"cli-version:\s{0,5}(" + VERSION + r")"),
    ("nvidia_container_cli_debug", r"initializing library context \(version=(" + VERSION + r")"),
)
# the same words anywhere in a pasted report (`nvidia-container-runtime --version` too)
_TOOLKIT_ANYWHERE = (
    r"NVIDIA Container Toolkit CLI version (" + VERSION + r")"
    r"|NVIDIA Container Runtime (?:Hook )?version (" + VERSION + r")"
    r"|cli-version:\s{0,5}(" + VERSION + r")"
    r"|initializing library context \(version=(" + VERSION + r")"
    # a toolkit package and its version as apt, dpkg -s or a person writes it:
    # "nvidia-container-toolkit/unknown,now 1.17.8-1 amd64", "nvidia-container-toolkit Version: 1.17.6-1",
    # "* libnvidia-container 1.17.5" (a bullet list; the library is released in step with the toolkit)
    r"|^\s{0,10}(?:[*-]\s{1,5})?(?:[ih][iUFHWt]\s{1,20})?(?:nvidia-container-toolkit(?:-base)?|libnvidia-container(?:-tools|1)?)(?::[a-z0-9]{1,12})?"
    r"(?:/\S{1,80})?[\s:]{1,10}(?:Version:\s{0,5}|now\s{1,5}|Installed:\s{0,5})?(?:\d{1,3}:)?(" + VERSION + r")"
)
# dpkg -l rows of the toolkit's packages (version column: 1.17.8-1, 1.13.5-1, 1:1.13.5-1)
_TOOLKIT_PACKAGES = r"nvidia-container-toolkit(?:-base)?|libnvidia-container-tools|libnvidia-container1"
_DPKG_ROW = re.compile(r"^[ih][iUFHWt]\s{1,20}(\S{1,200})\s{1,40}(?:\d{1,3}:)?(\S{1,80})")
# the driver's user-space libraries as `ls -l` shows them: libnvidia-ml.so.550.107.02, libcuda.so.550.107.02
_LIB_FILE = re.compile(r"lib(?:nvidia-ml|cuda)\.so\.(\d{2,4}\.\d{1,4}(?:\.\d{1,4})?)\b")
# driver packages that carry those libraries (Ubuntu: libnvidia-compute-550, nvidia-utils-550(-server);
# NVIDIA's repository and Debian: libnvidia-ml1, libcuda1, nvidia-driver-libs), as dpkg or apt print them
_DRIVER_PACKAGE = re.compile(
    r"(?:^|\s)(?:[ih][iUFHWt]\s{1,20})?((?:libnvidia-compute|nvidia-utils|nvidia-driver)-\d{3}(?:-server)?"
    r"|libnvidia-ml1|libcuda1|nvidia-driver-libs|nvidia-smi)(?::[a-z0-9]{1,12})?\s{1,40}(?:\d{1,3}:)?"
    r"(\d{3}\.\d{1,4}(?:\.\d{1,4})?)"
)
# NVML's own words when the two differ: "NVML library version: 580.178"
_NVML_LIBRARY = re.compile(r"NVML library version:\s{0,5}(\d{3}\.\d{1,4}(?:\.\d{1,4})?)")
# /proc/driver/nvidia/version: "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.90.07  Fri May 31 …"
# or "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  515.43.04  Release Build …"
_MODULE = re.compile(r"NVRM version:.{0,80}?Kernel Module(?: for \S{1,20})?\s{1,10}(\d{3}\.\d{1,4}(?:\.\d{1,4})?)")
# nvidia-smi's header: the driver NVML talks to, i.e. the loaded module (or, on WSL, the Windows driver)
_SMI_DRIVER = re.compile(r"Driver Version:\s{0,30}(\d{3}\.\d{1,4}(?:\.\d{1,4})?)")


class Version(NamedTuple):
    """A version as text, its numeric parts, and the evidence it came from."""

    text: str
    parts: tuple[int, ...]
    line: Line


def parts_of(text: str) -> tuple[int, ...]:
    match = re.match(r"(\d{1,4})(?:\.(\d{1,4}))?(?:\.(\d{1,4}))?", text)
    return tuple(int(p) for p in match.groups() if p is not None) if match else ()


def _version(text: str, line: Line) -> Version:
    return Version(text, parts_of(text), line)


def toolkit_version(snap: Snapshot) -> Version | None:
    """The NVIDIA Container Toolkit's version; the oldest component where several are shown.

    A toolkit is several packages (the hook, nvidia-ctk, libnvidia-container); the oldest one found is
    the one whose fixes are missing, so it is the one reported.
    """
    found: list[Version] = []
    for name, pattern in _TOOLKIT_VERSION_LINES:
        result = snap.command(name)
        if not result or result.not_found:
            continue
        for line in lines_of(result.text):
            match = re.search(pattern, line)
            if match:
                found.append(_version(match.group(1), Line(name, line.strip())))
                break
    found += _toolkit_packages(snap)
    if not found:
        for name in probe_names(snap):
            result = snap.command(name)
            for line in lines_of(result.text) if result else []:
                match = re.search(_TOOLKIT_ANYWHERE, line)
                if match:
                    text = next(g for g in match.groups() if g)
                    found.append(_version(text, Line(name, line.strip())))
                    break
    return min(found, key=lambda v: v.parts) if found else None


def _toolkit_packages(snap: Snapshot) -> list[Version]:
    listing = snap.command("dpkg_nvidia")
    found = []
    for line in lines_of(listing.stdout) if listing else []:
        match = _DPKG_ROW.match(line)
        if match and re.fullmatch(_TOOLKIT_PACKAGES, match.group(1).split(":")[0]):
            version = re.match(VERSION, match.group(2))
            if version:
                found.append(_version(version.group(0), Line("dpkg_nvidia", " ".join(line.split()[:3]))))
    return found


def loaded_module_version(snap: Snapshot) -> Version | None:
    """The NVIDIA kernel module that is loaded now (``/proc/driver/nvidia/version``)."""
    text = snap.file("/proc/driver/nvidia/version")
    for line in lines_of(text or ""):
        match = _MODULE.search(line)
        if match:
            return _version(match.group(1), Line("/proc/driver/nvidia/version", line.strip()))
    for name in probe_names(snap):  # a pasted `cat /proc/driver/nvidia/version`
        result = snap.command(name)
        for line in lines_of(result.text) if result else []:
            match = _MODULE.search(line)
            if match:
                return _version(match.group(1), Line(name, line.strip()))
    return None


def library_versions(snap: Snapshot) -> list[Version]:
    """Versions of the driver's user-space libraries on disk: ``ls -l`` of them, the packages that carry
    them, or NVML's own "NVML library version" line (which names only the first two parts)."""
    found: list[Version] = []
    listing = snap.command("ls_driver_libs")
    for line in lines_of(listing.stdout) if listing else []:
        for match in _LIB_FILE.finditer(line):
            found.append(_version(match.group(1), Line("ls_driver_libs", line.strip()[-200:])))
    for name in ["dpkg_nvidia"] + [n for n in probe_names(snap) if n != "dpkg_nvidia"]:
        result = snap.command(name)
        for line in lines_of(result.text) if result else []:
            if re.match(r"[a-z][a-zA-Z]\s", line) and not re.match(r"[ih][iUFHWt]\s", line):
                continue  # a dpkg row of a removed package (rc, un): its libraries are gone
            match = _DRIVER_PACKAGE.search(line) or _NVML_LIBRARY.search(line)
            if match:
                found.append(_version(match.groups()[-1], Line(name, " ".join(line.split())[:200])))
    return found


def same_release(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Two driver versions name the same release where both say something (550.107 ~ 550.107.02)."""
    common = min(len(a), len(b))
    return common >= 2 and a[:common] == b[:common]


def smi_driver_version(snap: Snapshot, names=("nvidia_smi",)) -> Version | None:
    """``Driver Version`` from an nvidia-smi table (the Windows driver's version inside WSL)."""
    for name in names:
        result = snap.command(name)
        for line in lines_of(result.text) if result else []:
            match = _SMI_DRIVER.search(line)
            if match:
                return _version(match.group(1), Line(name, line.strip()[:200]))
    return None


# a crash: the shell's words (bash, zsh), or the signal in the exit status (128 + 11 / 6 / 7, or -11 from Python)
_CRASH = r"Segmentation fault|segmentation fault|core dumped|Aborted|Bus error"
_CRASH_RC = (139, 134, 135, -11, -6, -7)
_NO_GPU = r"No devices were found"
_LOST = r"Unable to determine the device handle|GPU is lost|fallen off the bus|Unknown Error|RmInitAdapter failed"
_FAILURE_WORDS = r"error|fail|not found|unable|couldn't|cannot|invalid|denied|lost"


def smi_failure(snap: Snapshot, name: str = "nvidia_smi") -> tuple[str, Line] | None:
    """(kind, evidence) when the host's ``name`` probe shows nvidia-smi failing: crash, no-gpu, lost, failed."""
    smi = snap.command(name)
    if not smi or smi.not_found:
        return None
    lines = lines_of(smi.text)
    for kind, pattern in (("crash", _CRASH), ("no-gpu", _NO_GPU), ("lost", _LOST)):
        hit = search(pattern, smi.text)
        if hit:
            line = next((ln for ln in lines if hit.group(0) in ln), hit.group(0))
            return kind, Line(name, line.strip())
    if smi.rc in _CRASH_RC:
        return "crash", Line(name, f"exit status {smi.rc} (killed by a signal)")
    if smi.timed_out:
        return "hung", Line(name, "did not answer in time")
    if smi.rc not in (0, None):
        line = next((ln for ln in lines if re.search(_FAILURE_WORDS, ln, re.I)), lines[0] if lines else "no output")
        return "failed", Line(name, f"{line.strip()[:200]} (exit status {smi.rc})")
    return None
