"""Plans for people: one block per step (number and what it does, then the command, never wrapped).

The skip check is shown as a short phrase ("skipped if docker.io is installed"); the raw shell check
is shown with ``verbose`` (and is always in ``--format sh`` and ``--format json``). ``apply`` prints its
progress with the same pieces (``progress_line``, ``command_echo``), so a command is never broken there
either.
"""

from __future__ import annotations

import shlex

from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text

from ..layout import (
    DIM,
    NotebookDisplay,
    Wrapped,
    atom,
    command_lines,
    terminal_console,
    unicode_ok,
    url_token,
    words,
)
from .plan import Plan, Step, file_preview

_TITLE = Style(bold=True)


def skip_phrase(step: Step) -> str:
    """The short skip condition shown under a step ("skipped if docker.io is installed"; "" if it always runs)."""
    return step.check.describe() if step.check else ""


class StepView:
    """One step: ``N. title``, its command (and fallback) beneath, the skip phrase, the raw check if verbose."""

    def __init__(self, number: int, step: Step, verbose: bool = False, width_of_number: int = 2):
        self.number, self.step, self.verbose = number, step, verbose
        self.label = Text(f"{number:>{width_of_number}}. ")

    def parts(self) -> list[Wrapped]:
        step, inner = self.step, len(self.label)
        title = words(step.title, _TITLE)
        if step.manual:
            title.append(atom("(you do this)", "yellow"))
        out = [Wrapped(title, 0, self.label)]
        if step.writes is not None:  # the content is what to read; the install commands are plumbing
            out += command_lines(file_preview(step.writes), inner + 2)
            if self.verbose:
                out += command_lines(step.command_line(), inner + 2)
        else:
            out += command_lines(step.command_line(), inner + 2)
        if step.fallback:
            out.append(Wrapped(words("if that fails:", DIM), inner))
            out += command_lines(step.fallback.command_line(), inner + 2)
        phrase = skip_phrase(step)
        if phrase:
            out.append(Wrapped(words(phrase, DIM), inner))
        if self.verbose:
            if step.check:
                out.append(Wrapped([atom("check:", DIM), atom(step.check.shell(), DIM)], inner))
            if step.verify:
                out.append(Wrapped([atom("verified by:", DIM), atom(step.verify.shell(), DIM)], inner))
            if step.docs:
                out.append(Wrapped([url_token(step.docs)], inner))
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for part in self.parts():
            yield from part.lines(options.max_width)


class PlanView(NotebookDisplay):
    """The plan: a heading, its notes (prose), one block per step, the final checks."""

    def __init__(self, plan: Plan, verbose: bool = False, heading: bool = True):
        self.plan, self.verbose, self.heading = plan, verbose, heading

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        plan, width = self.plan, options.max_width
        if self.heading:
            dot = "·" if unicode_ok(console) else "-"
            yield from Wrapped(words(f"gpudock plan {plan.name} {dot} {plan.host}", _TITLE)).lines(width)
        for note in plan.notes:
            yield from Wrapped(words(note), 0, Text("note: ", style="yellow"), hang=2).lines(width)
        if plan.uses_work():
            yield Text("")
            yield from Wrapped(words("downloads go to a private folder; to copy these commands, first:")).lines(width)
            yield from command_lines('GPUDOCK_WORK="$(mktemp -d)"', 2)
        digits = len(str(len(plan.steps)))
        for number, step in enumerate(plan.steps, 1):
            yield Text("")
            yield StepView(number, step, self.verbose, digits)
        if plan.verify:
            yield Text("")
            yield Text("then it checks:")
            for check in plan.verify:
                yield from command_lines(shlex.join(check.argv), 2)


def plan_view(plan: Plan, verbose: bool = False) -> PlanView:
    """The plan as a rich renderable (terminal, Jupyter, or ``layout.render_plain``)."""
    return PlanView(plan, verbose)


def print_plan(plan: Plan, console: Console | None = None, verbose: bool = False) -> None:
    (console or terminal_console()).print(plan_view(plan, verbose), crop=False)


# --- apply's progress lines ---------------------------------------------------------------------------


def progress_line(number: int, total: int, title: str) -> Wrapped:
    """``[3/13] start the Docker daemon …`` (the title wraps; it is prose)."""
    return Wrapped(words(title, "cyan"), 0, Text(f"[{number}/{total}] ", style="cyan"))


def command_echo(command: str | list[str] | tuple[str, ...], prefix: str = "  $ ") -> Wrapped:
    """The command apply is about to run (an argv or a shell line), on one line, never wrapped."""
    line = command if isinstance(command, str) else shlex.join(str(word) for word in command)
    return Wrapped([atom(line, "bold")], 0, Text(prefix))


__all__ = ["command_echo", "plan_view", "print_plan", "progress_line", "skip_phrase"]
