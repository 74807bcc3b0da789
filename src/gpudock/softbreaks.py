"""Soft line breaks in a slide's Markdown, joined the way the text means them.

The notebooks wrap long Markdown lines in the source. CommonMark reads such a newline as a soft break, but
Marp renders with ``breaks: true`` (every newline a ``<br>``: a break in mid-sentence), and a browser shows a
soft break between two Japanese characters as a space ("古くなった． このノートブック群では"). So lines of one
paragraph, list item or quote are joined before either deck is written: with nothing between two CJK
characters, with a space otherwise. Code fences, headings, table rows and hard breaks (two trailing spaces
or a backslash) are kept as they are.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_BLOCK_START = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|#|\||```|~~~|<|$)")
_CJK = re.compile(r"[\u2e80-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _glue(before: str, after: str) -> str:
    return "" if _CJK.match(before[-1:]) and _CJK.match(after[:1]) else " "


def _quote(line: str) -> tuple[str, str]:
    """('> > ', rest) for a blockquote line; ('', line) otherwise."""
    match = re.match(r"^((?:\s{0,3}>\s?)+)", line)
    return (match.group(1), line[match.end() :]) if match else ("", line)


def join_soft_breaks(source: str) -> str:
    out: list[str] = []
    fenced = False
    for line in source.split("\n"):
        if _FENCE.match(_quote(line)[1]):
            fenced = not fenced
            out.append(line)
            continue
        prev = out[-1] if out else ""
        prev_mark, prev_text = _quote(prev)
        mark, text = _quote(line)
        joinable = (
            not fenced
            and out
            and prev_text.strip()
            and mark.replace(" ", "") == prev_mark.replace(" ", "")
            and not _BLOCK_START.match(text)
            and not prev_text.lstrip().startswith(("#", "|"))
            and not prev.endswith(("  ", "\\"))
            and not _FENCE.match(prev_text)
        )
        if joinable:
            rest = text.strip()
            out[-1] = prev.rstrip() + _glue(prev.rstrip(), rest) + rest
        else:
            out.append(line)
    return "\n".join(out)
