"""Terminal layout shared by the doctor, plan and bench views: prose wraps, commands and URLs never do.

Rich wraps every ``Text`` at whitespace, which splits a command or a URL across lines so it cannot be
copied. Here text is a list of tokens: prose words wrap; an *atomic* token (a command, a backticked
span, a URL, a finding code) is never split: it moves to the next line whole, and a command longer than
the terminal runs past its edge (the terminal soft-wraps it, and copying it still gives one line).

All text from snapshots and results goes through ``printable`` and into ``Text`` objects, never markup:
``[/`` in a snapshot prints as it is and control characters are shown escaped.

How a fix step is read (``split_step``), so rule authors know how to write one:

* ``CMD`` where the first word is a known program (``sudo``, ``docker``, ``gpudock``, …) and the text,
  outside quotes, has no prose punctuation (``, `` ``. `` ``→`` or a trailing ``:``/``.``) is a
  command: shown on its own line, unwrapped;
* ``CMD   # comment``: the command, then the comment as a wrapped ``# …`` line beneath it;
* ``prose: CMD`` or ``prose: `CMD` `` (a sentence ending in a colon, then a command): the sentence,
  then the command on its own line; ``(Windows PowerShell) CMD`` likewise;
* anything else is prose; a backticked span inside it is kept whole (never split across lines).
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass

from rich.cells import cell_len, chop_cells
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.style import Style
from rich.text import Text

from .textsafety import printable

# First words that make a fix step a command (after optional VAR=value assignments).
PROGRAMS = frozenset(
    """sudo docker dockerd gpudock nvidia-smi nvidia-ctk nvidia-container-cli apt apt-get apt-key apt-cache dpkg
    dpkg-query dpkg-reconfigure systemctl service wsl wsl.exe curl wget sh bash grep ls cat lspci modprobe mokutil
    dkms newgrp usermod reboot which echo export rm tee nvcc podman journalctl dmesg uname pkill pgrep id groups
    sed test python3 pip powershell.exe cmd.exe docker-compose snap update-alternatives ln mkdir cp mv chmod
    chown env sg command""".split()
)
COMMAND_STYLE = Style(bold=True)
COMMENT_STYLE = Style(dim=True)
DIM = Style(dim=True)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Token:
    text: str
    style: Style | str = ""
    atomic: bool = False  # never split: commands, codes, URLs, backticked spans
    link: str = ""
    gap: str = " "  # what separates it from the token before it on the same line


def words(text: str, style: Style | str = "", keep_spaces: bool = False) -> list[Token]:
    """Prose: whitespace-separated words; backticked spans (with punctuation touching them) and URLs stay whole.

    ``keep_spaces`` keeps the spacing between words where they share a line (evidence: aligned columns
    of nvidia-smi stay aligned).
    """
    tokens: list[Token] = []
    before = ""  # the text just before a backticked span: its trailing spaces are the span's gap
    for index, piece in enumerate(re.split(r"([^\s`]*`[^`]*`[^\s`]*)", printable(text))):
        if index % 2:  # a backticked span
            gap = re.search(r"\s*$", before).group() if keep_spaces and tokens else " "
            tokens.append(Token(piece, style, True, gap=gap or " "))
            continue
        before = piece
        for match in re.finditer(r"(\s*)(\S+)", piece):
            word = match.group(2)
            space = (match.group(1) or " ") if keep_spaces and tokens else " "
            tokens.append(Token(word, style, bool(_URL.match(word.rstrip(".,;)"))), gap=space))
    return tokens


def atom(text: str, style: Style | str = "", link: str = "") -> Token:
    return Token(printable(text), style, True, link)


class Wrapped:
    """Tokens laid out at the width given at render time, with a first-line and a hanging prefix."""

    def __init__(self, tokens: list[Token], indent: int = 0, first: Text | str | None = None, hang: int | None = None):
        self.tokens = tokens
        self.indent = indent
        self.first = Text(first) if isinstance(first, str) else first
        self.hang = indent + (self.first.cell_len if self.first is not None else 0) if hang is None else hang

    def lines(self, width: int) -> list[Text]:
        first = Text(" " * self.indent) + (self.first or Text())
        lines = [first]
        used = first.cell_len
        fresh = True  # nothing after the prefix yet
        for token in self._pieces(max(width - self.hang, 10)):
            size = cell_len(token.text)
            if not fresh and used + len(token.gap) + size > width:
                lines.append(Text(" " * self.hang))
                used, fresh = self.hang, True
            if not fresh:
                lines[-1].append(token.gap)
                used += len(token.gap)
            style = Style.parse(token.style) if isinstance(token.style, str) and token.style else token.style
            if token.link:
                style = (style or Style()) + Style(link=token.link)
            lines[-1].append(token.text, style or None)
            used += size
            fresh = False
        for line in lines:
            line.no_wrap, line.overflow, line.end = True, "ignore", "\n"
        return lines

    def _pieces(self, room: int):
        for token in self.tokens:
            if token.atomic or cell_len(token.text) <= room:
                yield token
            else:  # a long prose word (a path in evidence): folded, it is not something to copy
                for index, chunk in enumerate(chop_cells(token.text, room)):
                    yield Token(chunk, token.style, gap=token.gap if index == 0 else " ")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.lines(options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        longest = max((cell_len(t.text) for t in self.tokens), default=0) + self.hang
        return Measurement(min(longest, options.max_width), options.max_width)


def command_lines(command: str, indent: int, first: Text | str | None = None) -> list[Wrapped]:
    """A command (possibly several lines, e.g. a heredoc): each line whole, never wrapped."""
    out = []
    hang = indent + (Text(first).cell_len if isinstance(first, str) else first.cell_len if first else 0)
    for number, line in enumerate(printable(command).split("\n")):
        if number == 0:
            out.append(Wrapped([atom(line, COMMAND_STYLE)], indent, first))
        else:
            out.append(Wrapped([atom(line, COMMAND_STYLE)], hang))
    return out


def url_token(url: str) -> Token:
    clean = printable(url)
    return Token(clean, Style(underline=True), True, link=clean if _URL.match(clean) else "")


# --- fix steps: prose or command ---------------------------------------------------------------------


def _outside_quotes(text: str) -> str:
    """``text`` with quoted parts blanked, so punctuation inside quotes does not count as prose."""
    out, quote = [], ""
    for char in text:
        if quote:
            out.append(" ")
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def _split_comment(text: str) -> tuple[str, str]:
    bare = _outside_quotes(text)
    match = re.search(r"\s#\s", bare)
    if not match:
        return text.strip(), ""
    return text[: match.start()].strip(), text[match.end() :].strip()


def is_command(text: str) -> bool:
    """True when ``text`` reads as one shell command (see the module docstring for the rule)."""
    text = text.strip()
    if text.startswith("`") and text.endswith("`") and text.count("`") == 2:
        text = text[1:-1]
    if not text or "`" in text:
        return False
    bare = _outside_quotes(text)
    if re.search(r", |\. |→|[.:]$", bare):
        return False
    first = next((w for w in text.split() if not _ASSIGN.match(w)), "")
    return first in PROGRAMS or first.startswith(("/", "./"))


def split_step(step: str) -> list[tuple[str, str]]:
    """A fix step as parts: ("command", …), ("comment", …) or ("prose", …), in reading order."""
    step = step.strip()
    command, comment = _split_comment(step)
    if is_command(command):
        return [("command", command.strip("`"))] + ([("comment", comment)] if comment else [])
    where = re.fullmatch(r"\(([^()]{1,40})\)\s+(.+)", step, re.S)
    if where:
        command, comment = _split_comment(where.group(2))
        if is_command(command):
            parts = [("prose", f"in {where.group(1)}:"), ("command", command.strip("`"))]
            return parts + ([("comment", comment)] if comment else [])
    for match in re.finditer(r": ", step):
        head, tail = step[: match.start() + 1], step[match.end() :]
        command, comment = _split_comment(tail)
        if is_command(command):
            return [("prose", head), ("command", command.strip("`"))] + ([("comment", comment)] if comment else [])
    return [("prose", step)]


def step_view(number: int, step: str, indent: int, label: str | None = None) -> list[Wrapped]:
    """One numbered fix step (or one labelled ``label``): its prose wraps, its command sits on a line of its own."""
    label = Text(label if label is not None else f"{number}. ")
    inner = indent + len(label)
    out: list[Wrapped] = []
    after_prose, command_at = False, inner
    for kind, text in split_step(step):
        first = None if out else label
        at = indent if first is not None else inner
        if kind == "command":
            out += command_lines(text, at + 2 if after_prose else at, first)
            command_at = out[-1].hang
        elif kind == "comment":
            out.append(Wrapped(words(text, COMMENT_STYLE), command_at, Text("# ", style=COMMENT_STYLE)))
        else:
            out.append(Wrapped(words(text), at, first, hang=inner))
        after_prose = kind == "prose"
    return out


# --- consoles ----------------------------------------------------------------------------------------


def terminal_console() -> Console:
    """The CLI's console: colour only on a terminal that wants it (rich honours NO_COLOR, TERM=dumb, pipes).

    Output that the terminal's encoding cannot hold is written escaped instead of failing.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
    return Console(highlight=False, emoji=False)


def unicode_ok(console: Console) -> bool:
    try:
        "✓✗·—".encode(console.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class NotebookDisplay:
    """Jupyter shows the view as the same plain-text layout (in a <pre>), never cropped or re-wrapped."""

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        import html

        text = render_plain(self, 100)
        return {"text/plain": text, "text/html": f"<pre>{html.escape(text)}</pre>"}


def render_plain(renderable, width: int = 100) -> str:
    """A renderable as plain text at ``width``: no ANSI codes (notebooks, slides, nbval, tests)."""
    console = Console(
        file=io.StringIO(), width=width, color_system=None, force_jupyter=False, force_terminal=False, emoji=False
    )
    console.print(renderable, crop=False)
    return "\n".join(line.rstrip() for line in console.file.getvalue().rstrip().splitlines())
