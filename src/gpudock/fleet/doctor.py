"""``gpudock fleet doctor``: every host's probes through Ansible, each answer diagnosed here by the same rules.

The fleet document is ``{"hosts": [{"host", "reachable", "error", "findings", "host_facts", ...}],
"summary": {...}}`` (docs/contracts.md); each reachable host's snapshot is saved in the run folder
and replays with ``gpudock doctor --snapshot``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..doctor import check
from ..exceptions import SnapshotError
from ..facts.host import HostInfo
from ..findings import Finding, has_errors
from ..snapshot import Snapshot
from . import engine, remote
from .columns import columns

OK, PROBLEM, UNREACHABLE, FAILED = "ok", "problem", "unreachable", "failed"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class HostRow:
    """One host's line of the fleet: its verdict, and why."""

    host: str
    reachable: bool
    error: str | None = None  # Ansible's reason when the host could not be probed
    findings: list[Finding] = field(default_factory=list)
    facts: HostInfo | None = None
    snapshot: Snapshot | None = None
    snapshot_file: str | None = None

    @property
    def verdict(self) -> str:
        if not self.reachable:
            return UNREACHABLE
        if self.error:
            return FAILED
        return PROBLEM if has_errors(self.findings) else OK

    @property
    def first_error(self) -> Finding | None:
        return next((f for f in self.findings if f.severity == "error"), None)

    def as_dict(self) -> dict:
        return {
            "host": self.host,
            "reachable": self.reachable,
            "error": self.error,
            "verdict": self.verdict,
            "findings": [f.as_dict() for f in self.findings],
            "host_facts": self.facts.as_dict() if self.facts else None,
            "columns": columns(self.snapshot, self.findings, self.facts) if self.snapshot else None,
            "snapshot": self.snapshot_file,
        }


@dataclass
class FleetReport:
    rows: list[HostRow]
    run_dir: Path | None = None

    @property
    def ok(self) -> bool:
        return all(row.verdict == OK for row in self.rows)

    def summary(self) -> dict:
        counts = {verdict: 0 for verdict in (OK, PROBLEM, UNREACHABLE, FAILED)}
        for row in self.rows:
            counts[row.verdict] += 1
        return {"hosts": len(self.rows), **counts, "run_dir": str(self.run_dir) if self.run_dir else None}

    def as_dict(self) -> dict:
        return {"hosts": [row.as_dict() for row in self.rows], "summary": self.summary()}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)

    def save(self, path: Path) -> Path:
        from ..files import write_text_atomic

        return write_text_atomic(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> FleetReport:
        """A saved fleet document back as rows (the notebook's replay); snapshots are re-read and re-diagnosed."""
        path = Path(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = []
        for entry in data["hosts"]:
            snap_file = entry.get("snapshot")
            if snap_file:
                rows.append(row_from_snapshot(entry["host"], Snapshot.load(path.parent / snap_file), snap_file))
            else:
                rows.append(HostRow(entry["host"], bool(entry.get("reachable")), entry.get("error")))
        return cls(rows, path.parent)


def row_from_snapshot(host: str, snap: Snapshot, snapshot_file: str | None = None) -> HostRow:
    report = check(snap)  # the same doctor as `gpudock doctor`, on this host's snapshot
    return HostRow(host, True, None, report.findings, report.host, snap, snapshot_file)


def row_from_outcome(host: str, outcome: engine.HostOutcome | None, task: str) -> HostRow:
    """A host's row from its Ansible outcome: a diagnosed snapshot, or an error row with Ansible's reason."""
    if outcome is None:
        return HostRow(host, False, "Ansible reported nothing for this host (no task ran)")
    if outcome.unreachable:
        return HostRow(host, False, outcome.reason)
    result = outcome.result_of(task)
    if result is None:
        return HostRow(host, True, outcome.reason or "the probe task did not run")
    try:
        snap = remote.snapshot_from_result(result)
    except SnapshotError as err:
        return HostRow(host, True, f"the host's answer is not a snapshot: {err}")
    return row_from_snapshot(host, snap)


def file_name(host: str) -> str:
    """A host name as a file name (inventory names are free text)."""
    return (_SAFE_NAME.sub("_", host).strip("._") or "host")[:100]


def save_snapshots(rows: list[HostRow], run_dir: Path) -> None:
    used: set[str] = set()
    for row in rows:
        if row.snapshot is None:
            continue
        name, n = file_name(row.host), 1
        while name in used:
            n += 1
            name = f"{file_name(row.host)}-{n}"
        used.add(name)
        row.snapshot_file = f"snapshots/{name}.json"
        row.snapshot.save(run_dir / row.snapshot_file)


def probe_plays(deep: bool = False) -> list[dict]:
    return [
        {
            "name": "gpudock fleet doctor",
            "hosts": "all",
            "gather_facts": False,
            "strategy": "free",  # each host goes at its own pace: a slow one holds no other back
            "tasks": [remote.probe_task(deep)],
        }
    ]


def fleet_doctor(inventory: engine.Inventory, run_dir: Path, *, forks: int = 5, deep: bool = False) -> FleetReport:
    """Probe every host of ``inventory`` (``engine.read_inventory``), diagnose each, save snapshots and the fleet
    document."""
    outcomes = engine.run_playbook(probe_plays(deep), inventory, run_dir / "ansible", forks=forks, name="fleet-doctor")
    rows = [row_from_outcome(host, outcomes.get(host), "gpudock probes") for host in inventory.hosts]
    save_snapshots(rows, run_dir)
    report = FleetReport(rows, run_dir)
    report.save(run_dir / "fleet.json")
    return report
