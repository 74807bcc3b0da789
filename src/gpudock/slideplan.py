"""Slide plan: executed notebook cells -> slides that each fit a 1280×720 frame at readable sizes.

Pure functions (no files, no browser). The plan is shared by the Marp and the reveal.js decks, so both
show the same slides. Heights are estimated from the theme's sizes (``data/slide-theme.css``; keep the
numbers below in step with it) and checked for real in headless Chromium by tests/test_slides.py.

Which cells appear (cell tags, set in the notebook's cell metadata):

- ``nav``: navigation links (previous / next notebook) — left out.
- ``static``: reference blocks for readers of the notebook (typo notes, long tables to look up) — left out.
- ``slide-skip`` or slideshow type ``skip``: left out. ``parameters`` and papermill's cells: left out.
- ``slide-show-code``: the code cell's source is shown; otherwise code sources are hidden, outputs shown.
- slideshow type ``slide``/``subslide`` starts a slide, ``notes`` becomes speaker notes.

Long outputs: a text output or table that needs more than ``MAX_PAGES`` slides is condensed to its first
lines/rows plus "… N more", always keeping every error/warning title and its first fix (every row that
reports an error); shorter ones and long Markdown continue on "（続き）" slides. rich's box-drawing tables
become real tables, and columns with the same value in every row move into the table's caption. Each
figure gets its own slide.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace

SKIP_TAGS = frozenset({"nav", "static", "slide-skip", "parameters", "injected-parameters", "papermill-error-cell-tag"})
SHOW_CODE_TAG = "slide-show-code"
CONTINUED = "（続き）"
MAX_PAGES = 2  # a text output longer than this many slides is condensed

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

# A finding's title line ("✗ [error] code: title") and a fix line ("    1. do this") in gpudock's reports.
ERROR_TITLE = re.compile(r"^\s*(?:[✗✘!]\s*)?\[(?:error|warning)\]|^\s*(?:error|Error|ERROR)\b|^gpudock refuses")
FIRST_FIX = re.compile(r"^\s+1[.)]\s")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BOX_TOP = "┏┌╭╔"
BOX_CHARS = set("┏┓┗┛┃━┳┻╋┡┩╇┌┐└┘│─┬┴┼├┤╭╮╯╰╞╡╪═║╔╗╚╝╠╣╦╩╬")


@dataclass(frozen=True)
class Block:
    """One thing on a slide. kind: markdown | code | text | table | image."""

    kind: str
    text: str = ""  # markdown source, code, or output text
    lang: str = ""  # code: the language for highlighting
    rows: tuple[tuple[str, ...], ...] = ()  # table: header row first
    align: tuple[str, ...] = ()  # table: "left" / "right" per column
    caption: str = ""  # table: the title and the columns that are the same in every row
    footer: str = ""  # table: "… N more rows" under it
    data: bytes = b""  # image bytes
    mime: str = ""  # image type

    @property
    def image_name(self) -> str:
        """A stable file name: the same figure always gets the same name (rebuilds are byte-identical)."""
        ext = {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg"}[self.mime]
        return f"figure-{hashlib.sha256(self.data).hexdigest()[:12]}.{ext}"


@dataclass
class Slide:
    title: str = ""  # the heading's text
    level: int = 2
    blocks: list[Block] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figure: bool = False
    source: str = ""  # the notebook it comes from


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
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\*\*|__|`"), ""),
]


def _plain(inline: str) -> str:
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
            height += heading_height(_plain(tokens[i + 1].content), level)
        elif tok.type == "paragraph_open":
            lines = wrapped_lines(_plain(tokens[i + 1].content), width - indent, BODY_PX)
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
                    rows[-1].append(_plain(tokens[j].content))
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


def _list_items(source: str) -> list[str]:
    """A top-level list's items as Markdown (numbered items keep their numbers)."""
    lines = source.split("\n")
    return [
        "\n".join(lines[t.map[0] : t.map[1]]).rstrip("\n")
        for t in markdown_parser().parse(source)
        if t.type == "list_item_open" and t.level == 1 and t.map
    ]


# --- tables ---------------------------------------------------------------------------------------------


def table_height(rows, width: float = CONTENT_W) -> float:
    if not rows:
        return 0.0
    ncols = max(len(r) for r in rows)
    natural = [
        max((text_width(r[c], BODY_PX) if c < len(r) else 0) for r in rows) + 2 * CELL_PAD_X for c in range(ncols)
    ]
    total = sum(natural) or 1
    widths = [w if total <= width else width * w / total for w in natural]
    height = 0.0
    for row in rows:
        lines = max(
            wrapped_lines(cell, max(widths[c] - 2 * CELL_PAD_X, BODY_PX), BODY_PX) for c, cell in enumerate(row)
        )
        height += lines * BODY_PX * BODY_LH + 2 * CELL_PAD_Y + 1
    return height + BLOCK_GAP


def block_height(block: Block) -> float:
    if block.kind == "markdown":
        return markdown_height(block.text)
    if block.kind in ("code", "text"):
        return code_height(block.text)
    if block.kind == "table":
        lines = sum(wrapped_lines(t, CONTENT_W, BODY_PX) for t in (block.caption, block.footer) if t)
        return lines * (BODY_PX * BODY_LH + 6) + table_height(block.rows)
    return FIGURE_MAX_H


def _split_box_row(line: str, cuts: list[int]) -> list[str]:
    return [line[a + 1 : b] for a, b in zip(cuts, cuts[1:], strict=False)]


def parse_box_table(lines: list[str]) -> Block | None:
    """rich's box-drawing table (the lines from its top border to its bottom border) -> a table Block."""
    top = lines[0]
    cuts = [i for i, ch in enumerate(top) if ch in BOX_CHARS and ch not in "━─═"]
    if len(cuts) < 2:
        return None
    body = lines[1:-1]
    sep = next((i for i, line in enumerate(body) if line.lstrip()[:1] in "┡├╞╠"), None)
    if sep is None:
        return None
    header_lines, data_lines = body[:sep], body[sep + 1 :]

    def merge(group):
        cells = [_split_box_row(line, cuts) for line in group]
        return tuple(" ".join(c[i].strip() for c in cells if c[i].strip()) for i in range(len(cuts) - 1))

    header = merge(header_lines)
    ruled = any(line.lstrip()[:1] in "├┡╞╠" for line in data_lines)
    groups: list[list[str]] = []
    for line in data_lines:
        if line.lstrip()[:1] in "├┡╞╠":
            groups.append([])
            continue
        cells = [c.strip() for c in _split_box_row(line, cuts)]
        filled = sum(1 for c in cells if c)
        continuation = groups and groups[-1] and (ruled or filled * 2 <= len(cells))
        if continuation:
            groups[-1].append(line)
        else:
            groups.append([line])
    raw_groups = [g for g in groups if g]
    rows = [merge(g) for g in raw_groups]
    align = []
    for i in range(len(cuts) - 1):
        firsts = [_split_box_row(g[0], cuts)[i] for g in raw_groups]
        right = sum(1 for c in firsts if c.strip() and len(c) - len(c.rstrip()) < len(c) - len(c.lstrip()))
        align.append("right" if firsts and right * 2 > len(firsts) else "left")
    return Block("table", rows=(header, *rows), align=tuple(align))


def lift_constant_columns(table: Block, title: str = "") -> Block:
    """Columns with one value in every row (2+ rows) move into the caption: narrower tables, same facts."""
    header, *rows = table.rows
    keep = [i for i in range(len(header)) if len(rows) < 2 or len({r[i] for r in rows}) > 1]
    lifted = [f"{header[i]}: {rows[0][i]}" for i in range(len(header)) if i not in keep and rows[0][i]]
    caption = " · ".join(([title] if title else []) + lifted)
    return replace(
        table,
        rows=tuple(tuple(r[i] for i in keep) for r in table.rows),
        align=tuple(table.align[i] for i in keep),
        caption=caption,
    )


def text_blocks(text: str) -> list[Block]:
    """Terminal text -> text blocks, with rich's box-drawing tables turned into table blocks."""
    lines = ANSI.sub("", text).rstrip("\n").split("\n")
    blocks: list[Block] = []
    plain: list[str] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].lstrip()
        if stripped[:1] in BOX_TOP:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].lstrip()[:1] in "┗└╰╚"), None)
            table = parse_box_table([line.rstrip() for line in lines[i : end + 1]]) if end else None
            if table:
                title = ""
                if plain and plain[-1].strip() and not (set(plain[-1]) & BOX_CHARS):
                    title = plain.pop().strip()  # rich centres the table's title above it
                if any(p.strip() for p in plain):
                    blocks.append(Block("text", "\n".join(plain).strip("\n")))
                plain = []
                blocks.append(lift_constant_columns(table, title))
                i = end + 1
                continue
        plain.append(lines[i].rstrip())
        i += 1
    if any(p.strip() for p in plain):
        blocks.append(Block("text", "\n".join(plain).strip("\n")))
    return blocks


# --- condensing and splitting ------------------------------------------------------------------------------


def must_keep(lines: list[str]) -> set[int]:
    """Every error/warning title and the first fix that follows it."""
    keep: set[int] = set()
    for i, line in enumerate(lines):
        if ERROR_TITLE.search(line):
            keep.add(i)
            for j in range(i + 1, len(lines)):
                if lines[j][:1] not in (" ", "\t") and lines[j]:
                    break
                if FIRST_FIX.match(lines[j]):
                    keep.add(j)
                    break
    return keep


def condense(text: str, room: float) -> str:
    """The first lines plus "… N more lines", keeping every error title and first fix, within ``room``."""
    lines = text.split("\n")
    keep = must_keep(lines)

    def build(n: int) -> str:
        out, skipped = lines[:n], 0
        for i in range(n, len(lines)):
            if i in keep:
                if skipped:
                    out.append(f"… {skipped} more lines")
                    skipped = 0
                out.append(lines[i])
            else:
                skipped += 1
        if skipped:
            out.append(f"… {skipped} more lines (the notebook shows them all)")
        return "\n".join(out)

    for n in range(len(lines), -1, -1):
        candidate = build(n)
        if code_height(candidate) <= room:
            return candidate
    return build(0)


def condense_table(table: Block, room: float) -> Block:
    """The first rows plus a "… N more rows" row, keeping every row that reports an error, within ``room``."""
    header, *rows = table.rows
    keep = {i for i, row in enumerate(rows) if any(ERROR_TITLE.search(c) or "error" in c.lower() for c in row)}

    def build(n: int) -> Block:
        chosen = [r for i, r in enumerate(rows) if i < n or i in keep]
        more = len(rows) - len(chosen)
        footer = f"… {more} more rows (the notebook shows them all)" if more else ""
        return replace(table, rows=(header, *chosen), footer=footer)

    for n in range(len(rows), -1, -1):
        if block_height(build(n)) <= room:
            return build(n)
    return build(0)


def _split_lines(block: Block, room: float) -> tuple[Block | None, Block]:
    lines = block.text.split("\n")
    n = 0
    while n < len(lines) and code_height("\n".join(lines[: n + 1])) <= room:
        n += 1
    if n == 0:
        return None, block
    if n < len(lines):  # cut before an item (a line at the margin) rather than inside one
        starts = [k for k in range(n, max(n // 2, n - 6), -1) if lines[k].strip() and not lines[k][0].isspace()]
        n = starts[0] if starts else n
    return replace(block, text="\n".join(lines[:n])), replace(block, text="\n".join(lines[n:]))


def _split_table(block: Block, room: float) -> tuple[Block | None, Block]:
    header, *rows = block.rows
    n = 0
    while n < len(rows) and block_height(replace(block, rows=(header, *rows[: n + 1]))) <= room:
        n += 1
    if n == 0:
        return None, block
    return replace(block, rows=(header, *rows[:n]), footer=""), replace(block, rows=(header, *rows[n:]), caption="")


def _split_markdown(block: Block, room: float) -> tuple[Block | None, Block]:
    items = _list_items(block.text)
    if len(items) < 2:
        return None, block
    n = 0
    while n < len(items) and markdown_height("\n".join(items[: n + 1])) <= room:
        n += 1
    if n == 0:
        return None, block
    return replace(block, text="\n".join(items[:n])), replace(block, text="\n".join(items[n:]))


def split_block(block: Block, room: float) -> tuple[Block | None, Block]:
    """The largest head of ``block`` that fits ``room`` (None when nothing fits) and the rest."""
    if block.kind in ("code", "text"):
        return _split_lines(block, room)
    if block.kind == "table":
        return _split_table(block, room)
    if block.kind == "markdown":
        return _split_markdown(block, room)
    return None, block


def paginate(slide: Slide) -> list[Slide]:
    """One logical slide -> slides that fit: continuation slides, and one slide per figure."""
    pages: list[Slide] = []
    budget = CONTENT_H * SAFETY

    def new_page(continued: bool) -> Slide:
        title = slide.title + CONTINUED if continued and not slide.title.endswith(CONTINUED) else slide.title
        page = Slide(title=title, level=slide.level, source=slide.source)
        pages.append(page)
        return page

    def room(page: Slide) -> float:
        return budget - heading_height(page.title, page.level) - sum(block_height(b) for b in page.blocks)

    page = new_page(False)
    page.notes = list(slide.notes)
    for block in slide.blocks:
        if block.kind == "image":
            fig = page if not page.blocks else new_page(False)
            fig.title, fig.figure = slide.title or fig.title, True
            fig.blocks.append(block)
            page = new_page(True)
            continue
        fresh = budget - heading_height(slide.title + CONTINUED, slide.level)
        if block.kind == "text":
            overhead = 2 * CODE_PAD + BLOCK_GAP + 6 * CODE_PX * CODE_LH  # a block's frame, a cut between items
            total = max(room(page), 0) + (MAX_PAGES - 1) * fresh - MAX_PAGES * overhead
            if block_height(block) > total:
                block = replace(block, text=condense(block.text, total))
        if block.kind == "table":
            overhead = table_height(block.rows[:1]) + 2 * BODY_PX * BODY_LH  # the header again, a cut
            total = max(room(page), 0) + (MAX_PAGES - 1) * fresh - MAX_PAGES * overhead
            if block_height(block) > total:
                block = condense_table(block, total)
        while True:
            if block_height(block) <= room(page):
                page.blocks.append(block)
                break
            head, rest = split_block(block, room(page))
            if head is None and not page.blocks:  # does not fit an empty slide and cannot be split
                page.blocks.append(block)
                break
            if head is not None:
                page.blocks.append(head)
                block = rest
            page = new_page(True)
    return [p for p in pages if p.blocks or p is pages[0]]


# --- notebook cells -> logical slides -------------------------------------------------------------------


def _image(data, mime: str) -> Block:
    raw = data.encode() if mime == "image/svg+xml" else base64.b64decode(data)
    return Block("image", data=raw, mime=mime)


def output_blocks(output) -> list[Block]:
    """One cell output -> blocks: figures, Markdown, tables from rich's box text, terminal text, errors."""
    kind = output.get("output_type")
    if kind == "stream":
        return text_blocks(output.get("text", ""))
    if kind == "error":
        return [Block("text", f"{output.get('ename', 'Error')}: {ANSI.sub('', output.get('evalue', ''))}")]
    data = output.get("data", {})
    for mime in ("image/png", "image/jpeg", "image/svg+xml"):
        if mime in data:
            return [_image(data[mime], mime)]
    if "text/markdown" in data:
        return [Block("markdown", data["text/markdown"])]
    if "text/plain" in data:
        return text_blocks(data["text/plain"])
    return []


def _merge_streams(outputs) -> list:
    merged = []
    for out in outputs:
        if out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream":
            if merged[-1].get("name") == out.get("name"):
                merged[-1] = {**merged[-1], "text": merged[-1]["text"] + out.get("text", "")}
                continue
        merged.append(dict(out))
    return merged


def logical_slides(cells, source: str = "") -> list[Slide]:
    """Cells of one executed notebook -> slides as the notebook's slideshow metadata groups them."""
    slides: list[Slide] = []
    for cell in cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")
        if tags & SKIP_TAGS or kind == "skip":
            continue
        if kind == "notes":
            if slides:
                slides[-1].notes.append(cell.get("source", ""))
            continue
        if kind in ("slide", "subslide") or not slides:
            slides.append(Slide(source=source))
        slide = slides[-1]
        if cell.get("cell_type") == "markdown":
            for piece_kind, text in markdown_blocks(cell.get("source", "")):
                if piece_kind.startswith("heading") and not slide.title and not slide.blocks:
                    slide.title, slide.level = _plain(text), int(piece_kind[-1])
                elif piece_kind.startswith("heading"):
                    slide.blocks.append(Block("markdown", "#" * int(piece_kind[-1]) + " " + text))
                elif piece_kind.startswith("code:"):
                    slide.blocks.append(Block("code", text, lang=piece_kind[5:]))
                else:
                    slide.blocks.append(Block("markdown", text))
        elif cell.get("cell_type") == "code":
            if SHOW_CODE_TAG in tags and cell.get("source", "").strip():
                slide.blocks.append(Block("code", cell["source"].rstrip(), lang="python"))
            for out in _merge_streams(cell.get("outputs", [])):
                slide.blocks.extend(output_blocks(out))
    slides = [s for s in slides if s.title or s.blocks]
    for before, slide in zip(slides, slides[1:], strict=False):  # an untitled slide continues the one before
        if not slide.title and before.title:
            slide.title = before.title if before.title.endswith(CONTINUED) else before.title + CONTINUED
            slide.level = before.level
    return slides


def plan(notebooks: list[tuple[str, list]]) -> list[Slide]:
    """(name, cells) per executed notebook, in order -> every slide of the deck, each sized to fit."""
    deck: list[Slide] = []
    for name, cells in notebooks:
        for slide in logical_slides(cells, name):
            deck.extend(paginate(slide))
    return deck
