"""Turn CDI on in /etc/docker/daemon.json (``"features": {"cdi": true}``) by editing the text, not rewriting it.

The file is checked as JSON first (comments ``//`` and ``/* */`` are tolerated and kept, as some editors
write them); invalid JSON is refused and left untouched. The change is the smallest insertion or
replacement at the right place: every other key, its order, the indentation and the comments stay as
they were. The result is checked again: the same document with ``features.cdi`` true.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring


class DaemonJsonError(ValueError):
    """daemon.json cannot be edited safely; the message is one line."""


def blank_comments(text: str) -> str:
    """``text`` with comments outside strings replaced by spaces (newlines kept): offsets stay the same."""
    out, i, n = list(text), 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out[i:end] = " " * (end - i)
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise DaemonJsonError("has a /* comment that never ends")
            out[i : end + 2] = [ch if ch == "\n" else " " for ch in text[i : end + 2]]
            i = end + 2
        else:
            i += 1
    return "".join(out)


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _members(clean: str, start: int) -> tuple[dict[str, tuple[int, int]], int]:
    """{key: (value start, value end)} of the object whose ``{`` is at ``start``, and the index of its ``}``."""
    decoder = json.JSONDecoder()
    spans: dict[str, tuple[int, int]] = {}
    i = _skip(clean, start + 1)
    if clean[i] == "}":
        return spans, i
    while True:
        key, i = scanstring(clean, i + 1)
        i = _skip(clean, _skip(clean, i) + 1)  # past ':'
        _value, end = decoder.raw_decode(clean, i)
        spans[key] = (i, end)
        i = _skip(clean, end)
        if clean[i] == "}":
            return spans, i
        i = _skip(clean, i + 1)  # past ','


def _indent_after(text: str, brace: int) -> str | None:
    """The indentation of the first member line after the ``{`` at ``brace`` (None: all on one line)."""
    match = re.match(r"[ \t]*\n([ \t]*)\S", text[brace + 1 :])
    return match.group(1) if match else None


def with_cdi(text: str | None) -> str | None:
    """daemon.json's text with CDI on; None when it is on already. DaemonJsonError when it is not safe to edit."""
    if text is None or not text.strip():
        return '{\n  "features": {\n    "cdi": true\n  }\n}\n'
    clean = blank_comments(text)
    try:
        data = json.loads(clean)
    except json.JSONDecodeError as err:
        raise DaemonJsonError(f"is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    if not isinstance(data, dict):
        raise DaemonJsonError("is not a JSON object")
    features = data.get("features", {})
    if not isinstance(features, dict):
        raise DaemonJsonError('has "features" that is not an object')
    if features.get("cdi") is True:
        return None
    top = _skip(clean, 0)
    spans, close = _members(clean, top)
    if "features" not in spans:
        indent = _indent_after(text, top)
        if not spans:
            new = text[:top] + '{\n  "features": {\n    "cdi": true\n  }\n}' + text[close + 1 :]
        elif indent is None:
            new = text[: top + 1] + '"features": {"cdi": true}, ' + text[top + 1 :]
        else:
            at = text.index("\n", top) + 1
            new = text[:at] + f'{indent}"features": {{"cdi": true}},\n' + text[at:]
    else:
        start, _end = spans["features"]
        inner, inner_close = _members(clean, start)
        if "cdi" in inner:
            value_start, value_end = inner["cdi"]
            new = text[:value_start] + "true" + text[value_end:]
        elif not inner:
            new = text[:start] + '{"cdi": true}' + text[inner_close + 1 :]
        else:
            new = text[: start + 1] + '"cdi": true, ' + text[start + 1 :]
    merged = json.loads(blank_comments(new))
    expected = {**data, "features": {**features, "cdi": True}}
    if merged != expected:  # never write a file that says anything else than the old one plus CDI
        raise DaemonJsonError('could not be edited safely (duplicate keys?); add "features": {"cdi": true} by hand')
    return new
