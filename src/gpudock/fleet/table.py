"""The fleet table: one line per host (host, verdict, first error's title), details below it.

At any width the summary lines stay one per host (cut with "…", never wrapped); wide terminals also
get the platform, driver, Docker, toolkit and GPU-in-a-container columns. Commands print whole, never
wrapped. All host text is a rich ``Text`` (never markup), and rich prints plain text when the output
is not a terminal or NO_COLOR is set.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..textsafety import printable
from .columns import columns
from .doctor import FAILED, OK, PROBLEM, UNREACHABLE, FleetReport, HostRow

WIDE = 140
_STYLE = {OK: "green", PROBLEM: "bold red", UNREACHABLE: "bold magenta", FAILED: "bold red"}
_COLUMNS = ("platform", "driver", "docker", "toolkit", "gpu_in_container")
_HEADERS = ("platform", "driver", "Docker", "toolkit", "GPU in container")


def _one_line(text: str) -> str:
    """Host text on one line, control characters escaped (inventory names and probe output are untrusted)."""
    return " ".join(printable(text or "").split())


def headline(row: HostRow) -> str:
    """The row's reason in a few words: its first error's title, Ansible's reason, or what is fine."""
    if row.error:
        return _one_line(row.error)
    first = row.first_error
    if first:
        return _one_line(first.title)
    return "no errors"


def first_fix(row: HostRow) -> str | None:
    first = row.first_error
    return _one_line(first.fix[0]) if first and first.fix else None


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _compact(report: FleetReport, console: Console) -> None:
    host_w = min(max((len(_one_line(r.host)) for r in report.rows), default=4), 24)
    verdict_w = max(len(v) for v in _STYLE)
    for row in report.rows:
        line = Text(_cut(_one_line(row.host), host_w).ljust(host_w) + "  ")
        line.append(row.verdict.ljust(verdict_w), style=_STYLE[row.verdict])
        rest = console.width - host_w - verdict_w - 4
        line.append("  " + _cut(headline(row), max(rest, 10)))
        console.print(line, no_wrap=True, overflow="ignore", crop=False)


def _wide(report: FleetReport, console: Console) -> None:
    table = Table(show_lines=False, expand=True, box=None, pad_edge=False)
    for header in ("host", "verdict", *_HEADERS, "first error"):
        table.add_column(header, no_wrap=header != "first error", overflow="ellipsis")
    for row in report.rows:
        cols = columns(row.snapshot, row.findings, row.facts) if row.snapshot else {}
        table.add_row(
            Text(_one_line(row.host)),
            Text(row.verdict, style=_STYLE[row.verdict]),
            *(Text(cols.get(key, "—")) for key in _COLUMNS),
            Text(headline(row)),
        )
    console.print(table)


def _details(report: FleetReport, console: Console, verbose: bool = False) -> None:
    for row in report.rows:
        if row.verdict == OK and not verbose:
            continue
        console.print(Text(f"{_one_line(row.host)}: {row.verdict}", style=_STYLE[row.verdict]))
        if row.snapshot is not None:
            cols = columns(row.snapshot, row.findings, row.facts)
            facts = " · ".join(f"{h} {cols[k]}" for h, k in zip(_HEADERS, _COLUMNS, strict=True))
            console.print(Text("  " + facts), soft_wrap=True)
        console.print(Text("  " + headline(row)), soft_wrap=True)
        fix = first_fix(row)
        if fix:
            console.print(Text("  first fix: " + fix), soft_wrap=True)  # a command is never wrapped
        for finding in row.findings if verbose else ():
            if finding.severity != "ok":
                console.print(Text(f"  {finding.severity}: {finding.code}: {_one_line(finding.title)}"), soft_wrap=True)


def print_fleet(report: FleetReport, console: Console | None = None, verbose: bool = False) -> None:
    """The table, then the details of every host that is not ok (``verbose``: of every host, every finding)."""
    console = console or Console(highlight=False)
    if console.width >= WIDE:
        _wide(report, console)
    else:
        _compact(report, console)
    if not report.ok or verbose:
        console.print()
        _details(report, console, verbose)
    summary = report.summary()
    words = ", ".join(f"{summary[v]} {v}" for v in (OK, PROBLEM, UNREACHABLE, FAILED) if summary[v])
    console.print(Text(f"{summary['hosts']} host(s): {words}"))
    if report.run_dir:
        console.print(Text(f"snapshots and fleet.json in {report.run_dir}"), soft_wrap=True)
