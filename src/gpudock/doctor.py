"""The doctor as one call: a snapshot (live or from a file) -> findings + host facts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import probe
from .diagnose import diagnose
from .findings import Finding, has_errors
from .hostinfo import HostInfo, host_info
from .snapshot import Snapshot


@dataclass
class Report:
    findings: list[Finding]
    host: HostInfo
    snapshot: Snapshot

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)

    def __rich__(self):  # shows as the table in Jupyter and rich consoles
        from .report import findings_table

        return findings_table(self.findings, self.host)


def load_or_probe(snapshot: str | Path | Snapshot | None = None, deep: bool = False, say=print) -> Snapshot:
    """The snapshot to work from: given, read from a file, or probed live (``say`` hears of image pulls)."""
    if isinstance(snapshot, Snapshot):
        return snapshot
    if snapshot:
        return Snapshot.load(snapshot)
    return probe.collect(deep=deep, say=say)


def check(snapshot: str | Path | Snapshot | None = None, deep: bool = False, say=print) -> Report:
    snap = load_or_probe(snapshot, deep=deep, say=say)
    host = host_info(snap)
    return Report(diagnose(snap, host), host, snap)
