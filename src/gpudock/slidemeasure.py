"""How tall things are on a 1280×720 slide: text, code, Markdown and tables at the theme's sizes.

Pure estimates from the theme's sizes (``data/slide-theme.css``; keep the numbers below in step with
it), checked for real in headless Chromium by tests/test_slides.py. Each measure is linear in its input.
"""

from __future__ import annotations

import math
import re
import unicodedata

# The frame and the theme's sizes in CSS px (data/slide-theme.css).
WIDTH, HEIGHT = 1280, 720
PAD_X, PAD_Y = 56, 40
CONTENT_W, CONTENT_H = WIDTH - 2 * PAD_X, HEIGHT - 2 * PAD_Y
BODY_PX, BODY_LH = 24, 1.35
CODE_PX, CODE_LH, CODE_PAD, CODE_CHAR_EM = 16, 1.3, 8, 0.61
HEADING_PX = {1: 40, 2: 34, 3: 28}
HEADING_LH, HEADING_GAP = 1.2, 16
BLOCK_GAP = 12
CELL_PAD_Y, CELL_PAD_X = 3, 10
FIGURE_MAX_H = CONTENT_H - 70  # under a one-line title
SAFETY = 0.93  # estimates are rough: fill at most this share of a slide


# --- text measures -------------------------------------------------------------------------------------


def _char_em(ch: str, mono: bool) -> float:
    if unicodedata.east_asian_width(ch) in "WF":
        return 1.0
    if mono:
        return CODE_CHAR_EM
    if ch == " ":
        return 0.28
    return 0.62 if ch.isupper() or ch in "mwMW@%&" else 0.54


def text_width(text: str, px: float, mono: bool = False) -> float:
    return sum(_char_em(ch, mono) for ch in text) * px


def wrapped_lines(text: str, width: float, px: float, mono: bool = False) -> int:
    """How many lines ``text`` takes at ``px`` in ``width`` (word wrap; CJK wraps anywhere)."""
    total = 0
    for line in text.split("\n"):
        if mono:  # pre-wrap + overflow-wrap: anywhere
            total += max(1, math.ceil(text_width(line, px, True) / width - 1e-9))
            continue
        count, used = 1, 0.0
        for word in re.findall(r"[\u3000-\u9fff\uff00-\uffef]|[^\s\u3000-\u9fff\uff00-\uffef]+\s*|\s+", line):
            w = text_width(word, px)
            if used + w > width + 0.5 and used > 0:
                count += 1 + int(w // width)
                used = w % width
            else:
                used += w
        total += count
    return total


def code_height(text: str, width: float = CONTENT_W) -> float:
    rows = wrapped_lines(text, width - 2 * CODE_PAD - 4, CODE_PX, mono=True)
    return rows * CODE_PX * CODE_LH + 2 * CODE_PAD + BLOCK_GAP


def heading_height(title: str, level: int) -> float:
    if not title:
        return 0.0
    px = HEADING_PX.get(level, 28)
    return wrapped_lines(title, CONTENT_W, px * 1.05) * px * HEADING_LH + HEADING_GAP


# --- Markdown --------------------------------------------------------------------------------------------


def markdown_parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])  # ~~…~~ as Marp does


_INLINE_MD = [
    # negated classes that stop at the next bracket: linear on any text (``[`` × 100,000 included)
    (re.compile(r"!?\[([^\[\]\n]*)\]\([^()\[\]\n]*\)"), r"\1"),
    (re.compile(r"\*\*|__|`"), ""),
]


def plain(inline: str) -> str:
    """Inline Markdown as the text it shows (links and images by their text, no emphasis markers)."""
    for pattern, repl in _INLINE_MD:
        inline = pattern.sub(repl, inline)
    return inline


def markdown_height(source: str, width: float = CONTENT_W) -> float:
    """Rendered height of a Markdown snippet in the theme (paragraphs, lists, quotes, tables, code)."""
    tokens = markdown_parser().parse(source)
    height, indent = 0.0, 0.0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            indent += 1.4 * BODY_PX
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            indent -= 1.4 * BODY_PX
            height += BLOCK_GAP if tok.level == 0 else 0
        elif tok.type == "blockquote_open":
            indent += 22
            height += 8
        elif tok.type == "blockquote_close":
            indent -= 22
            height += 8 + (BLOCK_GAP if tok.level == 0 else 0)
        elif tok.type == "heading_open":
            level = int(tok.tag[1])
            height += heading_height(plain(tokens[i + 1].content), level)
        elif tok.type == "paragraph_open":
            lines = wrapped_lines(plain(tokens[i + 1].content), width - indent, BODY_PX)
            height += lines * BODY_PX * BODY_LH + (0 if tok.hidden else 10)
        elif tok.type == "list_item_close":
            height += 4
        elif tok.type in ("fence", "code_block"):
            height += code_height(tok.content.rstrip("\n"), width - indent)
        elif tok.type == "hr":
            height += 24
        elif tok.type == "table_open":
            rows, j = [], i
            while tokens[j].type != "table_close":
                if tokens[j].type == "tr_open":
                    rows.append([])
                elif tokens[j].type == "inline":
                    rows[-1].append(plain(tokens[j].content))
                j += 1
            height += table_height(rows, width - indent)
            i = j
        i += 1
    return height


def markdown_blocks(source: str) -> list[tuple[str, str]]:
    """Top-level pieces of a Markdown cell as (kind, text): heading, fence (code), or markdown."""
    lines = source.split("\n")
    pieces = []
    for tok in markdown_parser().parse(source):
        if tok.level != 0 or tok.nesting == -1 or not tok.map:
            continue
        text = "\n".join(lines[tok.map[0] : tok.map[1]]).strip("\n")
        if tok.type == "heading_open":
            pieces.append(("heading" + tok.tag[1], text.lstrip("#").strip()))
        elif tok.type == "fence":
            pieces.append(("code:" + (tok.info.strip() or "text"), tok.content.rstrip("\n")))
        elif tok.type == "code_block":
            pieces.append(("code:text", tok.content.rstrip("\n")))
        elif tok.type != "hr":
            pieces.append(("markdown", text))
    return pieces


def list_items(source: str) -> list[str]:
    """A top-level list's items as Markdown (numbered items keep their numbers)."""
    lines = source.split("\n")
    return [
        "\n".join(lines[t.map[0] : t.map[1]]).rstrip("\n")
        for t in markdown_parser().parse(source)
        if t.type == "list_item_open" and t.level == 1 and t.map
    ]


# --- tables ---------------------------------------------------------------------------------------------


# --- tables ---------------------------------------------------------------------------------------------


def table_widths(rows, width: float = CONTENT_W) -> list[float]:
    """Each column's width: its widest cell, all scaled down together when the table is wider than ``width``."""
    ncols = max((len(r) for r in rows), default=0)
    natural = [
        max((text_width(r[c], BODY_PX) if c < len(r) else 0) for r in rows) + 2 * CELL_PAD_X for c in range(ncols)
    ]
    total = sum(natural) or 1
    return [w if total <= width else width * w / total for w in natural]


def row_height(row, widths: list[float]) -> float:
    lines = max(
        (wrapped_lines(cell, max(widths[c] - 2 * CELL_PAD_X, BODY_PX), BODY_PX) for c, cell in enumerate(row)),
        default=1,
    )
    return lines * BODY_PX * BODY_LH + 2 * CELL_PAD_Y + 1


def table_height(rows, width: float = CONTENT_W) -> float:
    if not rows:
        return 0.0
    widths = table_widths(rows, width)
    return sum(row_height(row, widths) for row in rows) + BLOCK_GAP
