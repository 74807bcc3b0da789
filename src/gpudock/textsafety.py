"""Untrusted text made safe to show: no terminal control, no bidi tricks, no unencodable characters.

Snapshot and results text comes from other hosts. ``printable`` escapes what a terminal would act on
(C0 controls except newline and tab, DEL, C1 controls, so every ESC/CSI/OSC sequence such as OSC 52
clipboard writes), bidi overrides and isolates (text that reads differently than it runs), line and
paragraph separators, and lone surrogates (which no UTF-8 stream can encode). It is pure and total:
any ``str`` in, a ``str`` out that encodes as UTF-8. Rich markup is a separate matter: render the result
as ``rich.text.Text`` (or ``markup=False``), never as markup.
"""

from __future__ import annotations

import re

# C0 except \t \n, DEL, C1; bidi embeddings/overrides/isolates and marks; LS/PS; BOM; lone surrogates
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff\ud800-\udfff]"
)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control, bidi and surrogate characters shown as ``\\xNN`` / ``\\uNNNN`` escapes."""
    return _UNSAFE.sub(_escape, str(text))


def mathtext_literal(text: str) -> str:
    """``text`` for a matplotlib label, shown as written: every ``$`` escaped, so no mathtext is parsed.

    Matplotlib reads text between two unescaped ``$`` as mathtext (its own TeX subset), and an unknown
    command there (``$\\undefinedcommand$``) fails the whole figure; ``\\$`` is a literal dollar sign.
    https://matplotlib.org/stable/users/explain/text/mathtext.html"""
    return printable(str(text)).replace("$", r"\$")
