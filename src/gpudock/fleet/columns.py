"""The fleet table's columns for one host: platform, driver, Docker, toolkit, GPU in a container.

Short words read from the snapshot and its findings, so a row says at a glance where a host stands.
"""

from __future__ import annotations

import re

from ..facts import KIND_LABELS, HostInfo, driver_version, engine_version
from ..findings import Finding
from ..snapshot import Snapshot

NOT_PROBED = "not probed"


def platform_word(facts: HostInfo) -> str:
    distro = " ".join(part for part in (facts.distro_id.capitalize(), facts.distro_version) if part)
    return " ".join(part for part in (KIND_LABELS.get(facts.kind, "?"), distro) if part)


def driver_word(snap: Snapshot, facts: HostInfo) -> str:
    smi = snap.command("nvidia_smi")
    if not facts.gpus and smi is None:
        return NOT_PROBED
    if not facts.gpus and smi.not_found:
        return "none"
    return driver_version(snap) or "error"  # the GPU query's version first, else nvidia-smi's header


def docker_word(snap: Snapshot) -> str:
    version, info = snap.command("docker_version"), snap.command("docker_info")
    if version is None and info is None:
        return NOT_PROBED
    if (version and version.not_found) or (info and info.not_found):
        return "no CLI"
    if info and info.ok:
        return engine_version(snap) or "ok"
    return "no daemon"


def toolkit_word(snap: Snapshot) -> str:
    ctk = snap.command("nvidia_ctk_version")
    if ctk is None:
        return NOT_PROBED
    if ctk.ok:
        match = re.search(r"version\s+v?([\d.]+\S*)", ctk.text)
        return match.group(1) if match else "ok"
    return "none" if ctk.not_found else "error"


def gpu_word(snap: Snapshot, findings: list[Finding]) -> str:
    if any(f.code == "gpu-ok" for f in findings):
        return "yes"
    return "no" if snap.command("docker_gpu") else NOT_PROBED


def columns(snap: Snapshot, findings: list[Finding], facts: HostInfo) -> dict:
    return {
        "platform": platform_word(facts),
        "driver": driver_word(snap, facts),
        "docker": docker_word(snap),
        "toolkit": toolkit_word(snap),
        "gpu_in_container": gpu_word(snap, findings),
    }
