"""Show findings as a list people read top to bottom (like ``flutter doctor``); the contract's JSON for tools.

One line per finding (mark, title, code), then its evidence, numbered fix steps with each command on a
line of its own (never wrapped) and the docs as full URLs. Ok-findings are one line each; ``verbose``
adds their evidence. The same view prints in a terminal, in Jupyter (rich renders it as HTML) and as
plain text for notebooks (``findings_text``).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text

from .facts.host import KIND_LABELS, NATIVE
from .findings import Finding
from .layout import (
    DIM,
    NotebookDisplay,
    Wrapped,
    atom,
    render_plain,
    step_view,
    terminal_console,
    unicode_ok,
    url_token,
    words,
)
from .textsafety import printable

if TYPE_CHECKING:  # types only: the views read what the Report carries, never the host facts themselves
    from .facts import HostInfo
    from .generations import Generation

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "ok": "green"}
MARKS = {"error": "✗", "warning": "!", "info": "i", "ok": "✓"}
ASCII_MARKS = {"error": "x", "warning": "!", "info": "i", "ok": "+"}
INDENT = 4


def doctor_json(findings: list[Finding], host: HostInfo, generations: list[Generation] | None = None) -> str:
    """The contract's ``{"findings", "host"}``, plus ``generations`` where given (an additive key)."""
    data = {"findings": [f.as_dict() for f in findings], "host": host.as_dict()}
    if generations is not None:
        data["generations"] = [asdict(g) for g in generations]
    return json.dumps(data, indent=2, ensure_ascii=False)


def generations_text(generations: list[Generation]) -> str:
    """Deck 1.3's table for one host: a line per generation (✓ present, · not), its evidence, then a summary."""
    lines = [
        f"{'✓' if gen.present else '·'} {gen.name}" + (f"\n    {printable(gen.evidence)}" if gen.evidence else "")
        for gen in generations
    ]
    return "\n".join([*lines, "", _generations_summary(generations)])


def _generations_summary(generations: list[Generation]) -> str:
    current = [g.name for g in generations if g.present]
    return "this host: " + (", ".join(current) if current else "no NVIDIA container support installed yet")


def generations_view(generations: list[Generation], unicode: bool = True) -> list[Wrapped]:
    """``generations_text`` for a terminal: the same lines, wrapped under their own indent."""
    out = []
    for gen in generations:
        mark = (MARKS if unicode else ASCII_MARKS)["ok"] if gen.present else ("·" if unicode else "-")
        out.append(Wrapped(words(gen.name), 0, Text(mark + " ", style=_STYLE["ok"] if gen.present else "")))
        if gen.evidence:
            out.append(Wrapped(words(gen.evidence, DIM), INDENT))
    return [*out, Wrapped([]), Wrapped(words(_generations_summary(generations)))]


def host_line(host: HostInfo, short: bool = False) -> str:
    """The host on one line; ``short`` names the distribution by id and version (``debian 12``)."""
    kind = "native Linux" if host.kind == NATIVE else KIND_LABELS.get(host.kind, "unknown kind")
    name = host.pretty_name or host.distro_id or "unknown distro"
    if short and host.distro_id:
        name = f"{host.distro_id} {host.distro_version or ''}".strip()
    parts = [name, kind, host.arch or "?"]
    parts.append("systemd" if host.systemd else "no systemd" if host.systemd is False else "systemd unknown")
    if host.docker_desktop:
        parts.append("Docker Desktop engine")
    return printable(" · ".join(parts))


def _marks(console: Console) -> dict[str, str]:
    return MARKS if unicode_ok(console) else ASCII_MARKS


class OneLine:
    """The first of ``texts`` that fits, else the last cut with an ellipsis (the host summary); never wrapped."""

    def __init__(self, *texts: Text):
        self.texts = texts

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        fits = [t for t in self.texts if t.cell_len <= options.max_width]
        text = (fits[0] if fits else self.texts[-1]).copy()
        text.truncate(options.max_width, overflow="ellipsis")
        text.no_wrap = True
        yield text


class FindingView:
    """One finding: mark, title and code; evidence; numbered fix steps; docs."""

    def __init__(self, finding: Finding, verbose: bool = False):
        self.finding = finding
        self.verbose = verbose

    def parts(self, marks: dict[str, str]) -> list[Wrapped]:
        f = self.finding
        style = _STYLE.get(f.severity, "")
        mark = Text(marks.get(f.severity, "?") + " ", style=style)
        title = words(f.title, Style(bold=True) if f.severity != "ok" else "")
        out = [Wrapped([*title, atom(f"[{f.code}]", DIM)], 0, mark)]
        collapsed = f.severity == "ok" and not self.verbose
        if f.evidence and not collapsed:
            for line in printable(f.evidence).split("\n"):
                out.append(Wrapped(words(line, DIM, keep_spaces=True), INDENT))
        if collapsed:
            return out
        for number, step in enumerate(f.fix, 1):
            out += step_view(number, step, INDENT)
        out += [Wrapped([url_token(url)], INDENT) for url in f.docs]
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for part in self.parts(_marks(console)):
            yield from part.lines(options.max_width)


class DoctorView(NotebookDisplay):
    """The whole doctor screen: host line, the generations (where given), findings, a closing line that says
    what to do next."""

    def __init__(
        self,
        findings: list[Finding],
        host: HostInfo | None,
        verbose: bool = False,
        summary: bool = True,
        generations: list[Generation] | None = None,
    ):
        self.findings = findings
        self.host = host
        self.verbose = verbose
        self.summary = summary
        self.generations = generations

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.host is not None:
            dot = "·" if unicode_ok(console) else "-"
            full, short = (host_line(self.host, s).replace("·", dot) for s in (False, True))
            yield OneLine(
                Text(f"gpudock doctor {dot} ", style="bold") + Text(full),
                Text(f"gpudock doctor {dot} ", style="bold") + Text(short),
                Text(short),
            )
            yield Text("")
        if self.generations:
            yield from generations_view(self.generations, unicode_ok(console))
            yield Text("")
        previous = None
        for f in self.findings:
            # a blank line between detailed findings; ok-lines stay together
            if previous is not None and not (f.severity == previous == "ok" and not self.verbose):
                yield Text("")
            yield FindingView(f, self.verbose)
            previous = f.severity
        if not self.findings:
            yield Text("no problems found in this part")
        if self.summary:
            yield Text("")
            yield summary_line(self.findings)


def summary_line(findings: list[Finding]) -> Wrapped:
    """What to do next, in one sentence (wrapped, `gpudock doctor` kept whole)."""
    text = summary_text(findings)
    return Wrapped(words(text.plain, text.style))


def summary_text(findings: list[Finding]) -> Text:
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    if errors:
        counts = f"{errors} error{'s' * (errors != 1)}" + (
            f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
        )
        return Text(f"{counts}: fix the first error first, then run `gpudock doctor` again.", style="bold red")
    if warnings:
        return Text(f"No errors; {warnings} warning{'s' * (warnings != 1)}.", style="bold yellow")
    return Text("No errors.", style="bold green")


def doctor_view(
    findings: list[Finding],
    host: HostInfo | None = None,
    verbose: bool = False,
    generations: list[Generation] | None = None,
) -> DoctorView:
    """The doctor screen as a rich renderable (terminal, Jupyter, or ``render_plain``)."""
    return DoctorView(findings, host, verbose, generations=generations)


def print_findings(
    findings: list[Finding],
    host: HostInfo,
    console: Console | None = None,
    verbose: bool = False,
    generations: list[Generation] | None = None,
) -> None:
    console = console or terminal_console()
    console.print(doctor_view(findings, host, verbose, generations), crop=False)


def findings_text(findings: list[Finding], width: int = 100, verbose: bool = False) -> str:
    """Plain text in the doctor's layout, the same on every run of the same snapshot (notebooks, nbval)."""
    return render_plain(DoctorView(findings, None, verbose, summary=False), width)


__all__ = [
    "DoctorView",
    "doctor_json",
    "doctor_view",
    "findings_text",
    "generations_text",
    "host_line",
    "print_findings",
]
