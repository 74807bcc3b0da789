"""Text from snapshots and results made safe to show: control characters escaped, never sent to a terminal.

A snapshot is written by someone else's machine (or a pasted report): its text may hold ESC sequences
(colours, cursor moves, OSC 52 clipboard writes, OSC 8 links), C1 controls, bidi overrides that reorder
what a reader sees, or lone surrogates that make an encoder fail. ``printable`` shows each of them as a
visible escape (``\\x1b``, ``\\u202e``) and keeps newlines and tabs.
"""

from __future__ import annotations

import re

# C0 except tab and newline, DEL, C1; bidi embeddings/overrides/isolates and marks; lone surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every terminal control character, bidi control and lone surrogate shown escaped."""
    return _UNSAFE.sub(_escape, str(text))
