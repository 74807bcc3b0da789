"""argparse as gpudock's commands use it: one-line errors with "did you mean", examples in every help.

- A usage error is one line on stderr and exit 2, and it points at the help of the (sub)command it
  happened in (``see `gpudock plan --help```), with the closest valid name when there is one: for a
  subcommand, a choice (``--format``, a step) or an option (``--fromat`` → ``--format``).
- ``command(...)`` adds a subcommand with a description and an Examples section; examples are kept as
  written (one per line), prose is wrapped by argparse.
- Nothing here imports more than the standard library: ``gpudock --help`` stays fast.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Iterable

from ..exitcodes import ExitCode

_PARSER_ATTR = "_gpudock_parser"  # the deepest (sub)command parser that read the arguments


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate a typo most likely meant, or None (difflib's ratio, as git's and pip's suggestions)."""
    found = difflib.get_close_matches(word, [str(c) for c in candidates], n=1, cutoff=0.6)
    return found[0] if found else None


class Formatter(argparse.HelpFormatter):
    """Prose wraps to the terminal; a text that holds line breaks (the examples) is kept line for line."""

    def __init__(self, prog, indent_increment=2, max_help_position=30, width=None):
        super().__init__(prog, indent_increment, max_help_position, width)

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (exit 2) with a suggestion, not usage + error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")

    def _check_value(self, action, value):
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(repr(c) for c in action.choices)
            hint = closest(str(value), action.choices)
            suggestion = f"; did you mean {hint!r}?" if hint else ""
            raise argparse.ArgumentError(action, f"invalid choice: {value!r} (choose from {choices}){suggestion}")

    def parse_known_args(self, args=None, namespace=None):
        namespace, extra = super().parse_known_args(args, namespace)
        if not hasattr(namespace, _PARSER_ATTR):  # the innermost parser finishes first and names itself
            setattr(namespace, _PARSER_ATTR, self)
        return namespace, extra

    def parse_args(self, args=None, namespace=None):
        namespace, extra = self.parse_known_args(args, namespace)
        if extra:
            parser = getattr(namespace, _PARSER_ATTR, self)
            parser.error(unrecognized(parser, extra))
        return namespace

    def option_strings(self) -> list[str]:
        return [s for action in self._actions for s in action.option_strings]


def unrecognized(parser: Parser, extra: list[str]) -> str:
    message = f"unrecognized arguments: {' '.join(extra)}"
    first = next((word for word in extra if word.startswith("-")), None)
    hint = closest(first.split("=", 1)[0], parser.option_strings()) if first else None
    return message + (f"; did you mean {hint}?" if hint else "")


def parser_of(args: argparse.Namespace) -> Parser | None:
    """The (sub)command parser that read ``args``: its help is what a bare ``gpudock fleet`` prints."""
    return getattr(args, _PARSER_ATTR, None)


def examples(*lines: str) -> str:
    """An Examples section: ``"gpudock doctor --json   # what it does"`` per line, kept as written."""
    return "Examples:\n" + "".join(f"  {line}\n" for line in lines)


def command(sub, name: str, *, help: str, description: str | None = None, example: Iterable[str] = (), **kwargs):
    """A subcommand with its one-line help, a description (default: the help) and its examples."""
    lines = list(example)
    return sub.add_parser(
        name,
        help=help,
        description=description or help[:1].upper() + help[1:] + ".",
        epilog=examples(*lines) if lines else None,
        formatter_class=Formatter,
        **kwargs,
    )


def say(line: str) -> None:
    """A line for the person (progress, notes, errors): stderr, so stdout stays the command's data."""
    print(line, file=sys.stderr)


def need_a_terminal() -> None:
    """--apply without --yes asks questions: without a terminal nobody can answer, so refuse before anything."""
    from ..exceptions import NeedsYes

    if not sys.stdin.isatty():
        raise NeedsYes()
