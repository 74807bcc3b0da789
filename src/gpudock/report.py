"""Show findings: a rich table for people, the contract's JSON for tools."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .findings import Finding
from .hostinfo import HostInfo

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "ok": "green"}
_MARK = {"error": "✗", "warning": "!", "info": "i", "ok": "✓"}


def doctor_json(findings: list[Finding], host: HostInfo) -> str:
    return json.dumps(
        {"findings": [f.as_dict() for f in findings], "host": host.as_dict()}, indent=2, ensure_ascii=False
    )


def host_line(host: HostInfo) -> str:
    kind = {"wsl2": "WSL 2", "wsl1": "WSL 1", "native": "native Linux"}.get(host.kind, "unknown kind")
    parts = [host.pretty_name or host.distro_id or "unknown distro", kind, host.arch or "?"]
    parts.append("systemd" if host.systemd else "no systemd" if host.systemd is False else "systemd unknown")
    if host.docker_desktop:
        parts.append("Docker Desktop engine")
    return " · ".join(parts)


def findings_table(findings: list[Finding], host: HostInfo) -> Table:
    table = Table(title=f"gpudock doctor — {host_line(host)}", show_lines=True, expand=True)
    table.add_column("", width=2)
    table.add_column("finding", ratio=2, overflow="fold")
    table.add_column("evidence", ratio=3, overflow="fold")
    table.add_column("fix (in order)", ratio=4, overflow="fold")
    for f in findings:
        style = _STYLE.get(f.severity, "")
        title = Text(f"{f.title}\n", style=style)
        title.append(f.code, style="dim")
        fix = "\n".join(f"{i}. {step}" for i, step in enumerate(f.fix, 1))
        if f.docs:
            fix += ("\n" if fix else "") + "\n".join(f.docs)
        # Text, not markup: evidence such as "capabilities: [[gpu]]" must print as it is
        table.add_row(Text(_MARK.get(f.severity, "?"), style=style), title, Text(f.evidence), Text(fix))
    return table


def print_findings(findings: list[Finding], host: HostInfo, console: Console | None = None) -> None:
    console = console or Console()
    console.print(findings_table(findings, host))
    errors = sum(f.severity == "error" for f in findings)
    summary = (
        f"{errors} error(s); fix the first one first, then run `gpudock doctor` again." if errors else "No errors."
    )
    console.print(summary, style="bold red" if errors else "bold green", markup=False)


def findings_text(findings: list[Finding]) -> str:
    """Plain text, the same on every run of the same snapshot (notebooks compare it with nbval)."""
    if not findings:
        return "no problems found in this part"
    blocks = []
    for f in findings:
        lines = [f"{_MARK.get(f.severity, '?')} [{f.severity}] {f.code}: {f.title}"]
        if f.evidence:
            lines.append(f"    evidence: {f.evidence}")
        lines += [f"    {i}. {step}" for i, step in enumerate(f.fix, 1)]
        lines += [f"    see {url}" for url in f.docs]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
