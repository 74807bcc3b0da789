"""Snapshot -> [Finding]: the doctor, as a table of small rules (``registry.RULES``), one module per layer.

Rules read evidence, not exit codes alone: reports pasted by users lose the exit status (``rc``
null), get cut short, and come from older or newer tools, so each signature is a loose,
case-insensitive pattern over the text of the probe it belongs to. ``diagnose`` never raises: a rule
that crashes becomes a ``doctor-rule-error`` finding (an error, so the verdict is never lowered).
Findings are sorted by severity, then layer (platform, driver, apt, docker, toolkit, container),
then the rule's order: what to fix first comes first.
"""

from __future__ import annotations

from ..facts.host import HostInfo, host_info
from ..findings import Finding
from ..snapshot import Snapshot
from . import apt, apt_sha1, cdi, container, docker, driver, engine, platform, smi, toolkit, toolkit_risks  # noqa: F401
from .registry import LAYERS, RULES, SEVERITIES, Hit, RuleRecord, codes, layer_of, register

_SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


def _run(record: RuleRecord, snap: Snapshot, host: HostInfo, findings: list[Finding]) -> Finding | None:
    try:
        hit = record.rule(snap, host, tuple(findings)) if record.follow_up else record.rule(snap, host)
        return record.finding(snap, host, hit) if hit else None
    except Exception as err:  # a rule bug must not hide the other findings, nor lower the verdict
        return Finding(
            "doctor-rule-error",
            "error",
            f"gpudock's rule {record.name} ({record.code}) failed on this snapshot",
            f"{type(err).__name__}: {str(err)[:200]}",
            ["please report this with the snapshot (`gpudock doctor --save-snapshot F`)"],
        )


def diagnose(snap: Snapshot, host: HostInfo | None = None) -> list[Finding]:
    """All findings, ordered by what to fix first (errors before warnings, lower layers first)."""
    host = host or host_info(snap)
    found: list[tuple[tuple, Finding]] = []
    for follow_up in (False, True):
        for record in sorted((r for r in RULES if r.follow_up == follow_up), key=lambda r: (r.rank, r.code)):
            finding = _run(record, snap, host, [f for _, f in found])
            if finding:
                found.append((record.rank, finding))
    found.sort(key=lambda pair: (_SEVERITY_RANK.get(pair[1].severity, 9), pair[0], pair[1].code, pair[1].evidence))
    unique: list[Finding] = []
    for _, finding in found:  # two rules of one code seeing the same thing report it once
        if not any(f.code == finding.code and f.evidence == finding.evidence for f in unique):
            unique.append(finding)
    return unique


__all__ = ["diagnose", "codes", "layer_of", "LAYERS", "RULES", "Hit", "RuleRecord", "register"]
