"""CDI: the doctor's three CDI codes, read through the same checks as ``gpudock cdi check`` (``gpudock.cdi.check``).

The snapshot's specs, the paths they name and their device nodes are checked by ``cdi.check.check`` over a
``SnapshotView``; the engines' own words (``unresolvable CDI devices``, ``failed to stat CDI host device``,
``conflicting device``) are read from any probe, so a pasted report is diagnosed as well as a live host.

A host whose GPU containers work through CDI (``docker_cdi_gpu`` ran nvidia-smi, or listed the GPU's
nodes) is healthy without the NVIDIA Container Toolkit: the toolkit rules stand down there, and a note
(``nvidia-toolkit-missing`` lowered to info) says what ``--gpus`` needs on this engine.
"""

from __future__ import annotations

import re

from ..cdi.check import MISSING, STALE
from ..facts.cdi import (
    CDI_OFF,
    CDI_PROBE,
    NO_CDI_ENGINE,
    UNRESOLVABLE,
    cdi_works,
    engine,
    engine_uses_cdi,
    podman,
    results,
    spec_unseen,
)
from ..facts.evidence import Line, cite, find, probe_names
from ..fixes import DOCS, docker_service
from .registry import Hit, register

GPUS_BEFORE_28_2 = (
    "`--gpus all` on Docker 25–28.1 needs the NVIDIA Container Toolkit (its nvidia-container-runtime-hook "
    "on PATH when dockerd starts); from Docker 28.2 `--gpus` resolves through the CDI spec as well"
)
UNSEEN_TITLE = (
    "The spec on disk provides the device and checks clean, yet the engine cannot resolve it: dockerd is not "
    "reading its spec folder (Docker 26 stops after a container asked while no spec existed); restart it"
)
INSTALL = "sudo gpudock install cdi --apply   # spec from the loaded driver, features.cdi, restart, verify"
CHECK = "gpudock cdi check   # every spec against this host: one line per problem"
CDI_DOCS = [DOCS["toolkit_cdi"], DOCS["dockerd_cdi"]]
_STALE_TEXT = (
    r"failed to stat CDI host device|conflicting device \"|"
    r"(error stat'ing file|cannot stat) .{0,3}/\S{1,300}\.so[.\d]{0,20}.{0,3}: No such file or directory|"
    r"error mounting \"/\S{1,300}\.so\.\d{2,4}\.\d{1,3}[.\d]{0,8}\".{0,300}no such file or directory|"
    r"unresolvable CDI devices.{0,200}conflicting"
)


def _own_probe_only(line: Line | None) -> bool:
    return line is not None and line.probe == CDI_PROBE


# --- cdi-spec-missing -----------------------------------------------------------------------------------


@register(
    "cdi-spec-missing",
    severity="warning",
    layer="toolkit",
    order=50,
    title="The engine reaches GPUs through CDI, but no NVIDIA CDI spec is in /etc/cdi or /var/run/cdi",
    fix=lambda snap, host, hit: [INSTALL, CHECK, "docker run --rm --device nvidia.com/gpu=all ubuntu nvidia-smi"],
    docs=CDI_DOCS,
)
def cdi_spec_missing(snap, host):
    result = results(snap, host)
    none_listed = find(snap, r"Found 0 CDI devices")
    missing = (result is not None and any(p.code == MISSING for p in result.problems)) or none_listed
    if not missing:
        return None
    unresolvable = find(snap, UNRESOLVABLE)
    if unresolvable:
        return Hit(
            cite(unresolvable),
            severity="error",
            title="A GPU container asked for a CDI device and no NVIDIA spec exists",
        )
    why = engine_uses_cdi(snap)
    if why or none_listed:
        return Hit(
            cite(none_listed) if none_listed else f"files: no nvidia.com/gpu spec in /etc/cdi or /var/run/cdi ({why})"
        )
    return None


# --- cdi-device-unresolvable ----------------------------------------------------------------------------


def _unresolvable_fix(snap, host, hit):
    devices = hit.data.get("devices")
    steps = []
    if hit.data.get("off"):
        steps.append(
            INSTALL + '   # merges "features": {"cdi": true} into /etc/docker/daemon.json and restarts dockerd'
        )
    elif hit.data.get("old"):
        steps.append("CDI needs Docker Engine 25 or newer: `gpudock plan docker --source docker-ce`, then " + INSTALL)
    elif hit.data.get("unseen"):  # the spec is right: writing it again changes nothing, a restart rereads it
        return [
            *docker_service(host, "restart"),
            "docker run --rm --device nvidia.com/gpu=all ubuntu:24.04 nvidia-smi -L   # resolves again",
            "podman: nothing to restart; check --cdi-spec-dir and the spec folders it names",
        ]
    else:
        if devices:
            steps.append("the specs here provide: " + ", ".join(f"nvidia.com/gpu={d}" for d in devices[:12]))
        steps.append(INSTALL)
    return [*steps, CHECK, "podman: add --cdi-spec-dir where the spec is not in /etc/cdi or /var/run/cdi"]


@register(
    "cdi-device-unresolvable",
    severity="error",
    layer="toolkit",
    order=51,
    title="A GPU container asked for a CDI device that no spec provides",
    fix=_unresolvable_fix,
    docs=CDI_DOCS,
)
def cdi_device_unresolvable(snap, host):
    result = results(snap, host)
    no_spec = result is not None and any(p.code == MISSING for p in result.problems)
    unresolvable = find(snap, UNRESOLVABLE)
    if unresolvable and not no_spec and not find(snap, r"Found 0 CDI devices"):
        if re.search(r"conflicting", unresolvable.text):
            return None  # two specs define the device: cdi-spec-stale says which
        if spec_unseen(snap, host):
            return Hit(cite(unresolvable), {"unseen": True}, title=UNSEEN_TITLE)
        return Hit(cite(unresolvable), {"devices": result.devices() if result else []})
    for pattern, key, title in (
        (CDI_OFF, "off", "Docker's CDI support is off: --device nvidia.com/gpu=… cannot resolve"),
        (NO_CDI_ENGINE, "old", "This Docker Engine has no CDI (it needs 25 or newer)"),
    ):
        line = find(snap, pattern)
        if line and (
            not _own_probe_only(line) or find(snap, pattern, [n for n in probe_names(snap) if n != CDI_PROBE])
        ):
            return Hit(cite(line), {key: True}, title=title)
    return None


# --- cdi-spec-stale -------------------------------------------------------------------------------------


def _stale_fix(snap, host, hit):
    return [*hit.data.get("fixes", []), CHECK]


@register(
    "cdi-spec-stale",
    severity="error",
    layer="toolkit",
    order=52,
    title="A CDI spec names a driver version, library or device node this host no longer has",
    fix=_stale_fix,
    docs=CDI_DOCS,
)
def cdi_spec_stale(snap, host):
    result = results(snap, host)
    problems = [p for p in (result.problems if result else []) if p.code == STALE]
    if problems:
        errors = [p for p in problems if p.severity == "error"]
        shown = (errors or problems)[:4]
        evidence = "\n".join("files: " + p.line().split("; fix: ")[0] for p in shown)
        if len(problems) > len(shown):
            evidence += f"\n(and {len(problems) - len(shown)} more: `gpudock cdi check`)"
        fixes = list(dict.fromkeys(p.fix for p in shown))
        return Hit(evidence, {"fixes": fixes}, severity=None if errors else "warning")
    line = find(snap, _STALE_TEXT)
    if line:
        return Hit(cite(line), {"fixes": [INSTALL + "   # or the toolkit's: sudo nvidia-ctk cdi generate --output=…"]})
    return None


# --- a host whose GPU containers work through CDI -------------------------------------------------------


def _gpus_note(snap, host, hit):
    version = engine(snap)
    if podman(snap):
        return ["Podman: `podman run --device nvidia.com/gpu=all …` (Podman 5 also maps `--gpus all` to it)"]
    if version and version >= (28, 2):
        return ["this engine (28.2 or newer) resolves `docker run --gpus all` through the CDI spec too"]
    return [
        "use `docker run --device nvidia.com/gpu=all …` (or nvidia.com/gpu=0, …): it works here through CDI",
        GPUS_BEFORE_28_2,
    ]


@register(
    "nvidia-toolkit-missing",
    severity="info",
    layer="toolkit",
    order=22,
    title="GPU containers work through CDI without the NVIDIA Container Toolkit; --gpus needs more on this engine",
    fix=_gpus_note,
    docs=CDI_DOCS,
)
def cdi_host_note(snap, host):
    works = cdi_works(snap)
    if not works:
        return None
    refused = find(snap, r"could not select device driver .{0,80} with capabilities: \[\[gpu\]\]")
    version = engine(snap)
    if not refused and (version and version >= (28, 2) or podman(snap)):
        return None  # --gpus works through CDI here: nothing to note
    return Hit(cite(refused) if refused else cite(works))
