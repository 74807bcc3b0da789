"""``gpudock doctor --check``: the doctor's verdict as the one line a scheduler's health check reads.

Slurm's ``HealthCheckProgram`` and Kubernetes node-problem-detector's custom plugins both take an exit
status and one line of output: node-problem-detector reads exit 0 as OK, 1 as NonOK and 2 as Unknown
and keeps ``max_output_length`` characters (80 by default); a Slurm health check drains the node
itself with ``scontrol`` and the line as the reason. So the line is plain text (no colour), at most
``WIDTH`` characters, and starts with ``gpudock`` so a wrapper can tell its own drains from others.
"""

from __future__ import annotations

from .textsafety import printable

WIDTH = 80


def _one_line(text: str) -> str:
    return " ".join(printable(text or "").split())


def _cut(text: str, width: int = WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def check_line(report) -> str:
    """``gpudock ok: …`` or ``gpudock error: CODE: title (+N more)``, at most WIDTH characters."""
    errors = [f for f in report.findings if f.severity == "error"]
    warnings = [f for f in report.findings if f.severity == "warning"]
    if errors:
        first = errors[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        head = f"gpudock error: {first.code}{more}: "
        return _cut(head + _one_line(first.title))
    if warnings:
        codes = ", ".join(f.code for f in warnings)
        return _cut(f"gpudock ok: no errors; {len(warnings)} warning{'s' * (len(warnings) != 1)}: {codes}")
    return f"gpudock ok: no errors ({len(report.findings)} findings)"
