"""Prometheus metrics for node_exporter's textfile collector: the doctor's verdict, its findings, the last bench.

node_exporter reads every ``*.prom`` file in ``--collector.textfile.directory`` at each scrape, so the file
is written to a temporary name in the same folder and renamed over the old one (atomic: a scrape never
sees half a file). The text follows Prometheus' exposition format: ``# HELP`` and ``# TYPE`` once per
metric, its samples together, label values escaped (``\\``, ``"``, line feeds); host text is untrusted
and only ever a label value.

Metrics (all gauges; a fleet's carry a ``host`` label):

- ``gpudock_doctor_ok`` 1 when no finding is an error; ``gpudock_doctor_verdict{verdict}`` 1 for the worst
  severity found (``error``, ``warning``, ``ok``), 0 for the others;
- ``gpudock_doctor_finding{code,severity}`` 1 per finding; ``gpudock_doctor_findings{severity}`` counts;
- ``gpudock_doctor_last_run_timestamp_seconds``: when the doctor ran;
- ``gpudock_bench_<unit>{benchmark,where,device,precision,size}``: the last ``gpudock bench`` figures on
  this host (``gpudock_bench_gflop_per_second``, ``…_gb_per_second``, ``…_interactions_per_second``)
  and ``gpudock_bench_last_run_timestamp_seconds``;
- fleet only: ``gpudock_fleet_host_reachable{host}`` and ``gpudock_fleet_hosts{verdict}``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

SEVERITIES = ("error", "warning", "info", "ok")
VERDICTS = ("error", "warning", "ok")
BENCH_FILE = "bench-latest.json"


def escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{escape(value)}"' for key, value in labels.items()) + "}"


def _number(value: float) -> str:
    value = float(value)
    if value != value or abs(value) == float("inf"):
        return "NaN"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


class Exposition:
    """Metric families in the order first added; each family's samples printed together."""

    def __init__(self):
        self.families: dict[str, tuple[str, list[tuple[dict, float]]]] = {}

    def add(self, name: str, help_text: str, value: float, **labels: str) -> None:
        family = self.families.setdefault(name, (help_text, []))
        if any(existing == labels for existing, _ in family[1]):
            return  # one series per label set: a duplicate would make node_exporter drop the file
        family[1].append((labels, value))

    def text(self) -> str:
        lines = []
        for name, (help_text, samples) in self.families.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in samples]
        return "\n".join(lines) + "\n"


def _doctor(out: Exposition, findings: Iterable, verdict: str, ran_at: float, **host: str) -> None:
    findings = list(findings)
    out.add("gpudock_doctor_ok", "1 when the doctor found no error, else 0.", float(verdict != "error"), **host)
    for name in VERDICTS:
        out.add(
            "gpudock_doctor_verdict",
            "1 for the doctor's verdict (the worst severity found), 0 for the others.",
            float(name == verdict),
            **host,
            verdict=name,
        )
    for severity in SEVERITIES:
        count = sum(f.severity == severity for f in findings)
        out.add("gpudock_doctor_findings", "Number of findings by severity.", count, **host, severity=severity)
    for f in findings:
        out.add(
            "gpudock_doctor_finding",
            "1 for each finding the doctor reported, by code and severity (docs/contracts.md).",
            1,
            **host,
            code=f.code,
            severity=f.severity,
        )
    out.add("gpudock_doctor_last_run_timestamp_seconds", "When the doctor ran (Unix time).", ran_at, **host)


def unit_name(metric: str) -> str:
    """``GFLOP/s`` → ``gflop_per_second``: a results row's unit as part of a metric name."""
    name = re.sub(r"/s$", "_per_second", metric.strip().lower())
    return re.sub(r"[^a-z0-9_]+", "_", name).strip("_") or "value"


def _bench(out: Exposition, bench) -> None:
    results, ran_at = bench
    for r in results.results:
        out.add(
            f"gpudock_bench_{unit_name(r.metric)}",
            f"The last `gpudock bench` figure per measured point, in {escape(r.metric)}.",
            r.value,
            benchmark=r.name,
            where=r.where,
            device=r.device,
            precision=r.precision,
            size=str(r.size),
        )
    out.add("gpudock_bench_last_run_timestamp_seconds", "When those figures were measured (Unix time).", ran_at)


def doctor_metrics(report, bench=None, ran_at: float | None = None) -> str:
    """One host's doctor Report (and the last bench: ``(Results, unix time)``) as exposition text."""
    out = Exposition()
    _doctor(out, report.findings, report.verdict, time.time() if ran_at is None else ran_at)
    if bench is not None:
        _bench(out, bench)
    return out.text()


def fleet_metrics(report, ran_at: float | None = None) -> str:
    """A FleetReport as exposition text: every host's doctor metrics with a ``host`` label."""
    from .doctor import verdict_of

    out = Exposition()
    ran_at = time.time() if ran_at is None else ran_at
    for row in report.rows:
        out.add("gpudock_fleet_host_reachable", "1 when Ansible reached the host.", float(row.reachable), host=row.host)
    summary = report.summary()
    for verdict in ("ok", "problem", "unreachable", "failed"):
        out.add("gpudock_fleet_hosts", "Hosts by fleet verdict.", summary[verdict], verdict=verdict)
    for row in report.rows:
        if row.reachable and not row.error:
            _doctor(out, row.findings, verdict_of(row.findings), ran_at, host=row.host)
    return out.text()


def write_textfile(path: str | Path, text: str) -> Path:
    """Replace ``path`` atomically (a temporary file in the same folder, then a rename), mode 0644."""
    from .files import write_text_atomic

    return write_text_atomic(path, text, mode=0o644)


def remember_bench(results, say: Callable[[str], None] = lambda line: None) -> Path | None:
    """Keep these results as this host's last bench (what ``doctor --prometheus`` exports); never fails."""
    from .paths import state_home

    path = state_home() / BENCH_FILE
    try:
        return results.save(path)
    except OSError as err:
        say(f"gpudock: note: the results are not kept for `doctor --prometheus` ({path}: {err.strerror})")
        return None


def latest_bench():
    """(Results, when) of this host's last `gpudock bench`, or None (none yet, or unreadable)."""
    from .bench.results import Results
    from .exceptions import ResultsFileError
    from .paths import state_home

    path = state_home() / BENCH_FILE
    try:
        return Results.load(path), path.stat().st_mtime
    except (ResultsFileError, OSError):
        return None
