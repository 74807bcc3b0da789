"""Slide plan: executed notebook cells -> slides that each fit a 1280×720 frame at readable sizes.

Pure functions (no files, no browser). The plan is shared by the Marp and the reveal.js decks, so both
show the same slides. Heights are estimated by ``slidemeasure`` from the theme's sizes and checked for
real in headless Chromium by tests/test_slides.py; what a slide holds and how outputs become blocks is
``slideparts``. The work is linear in the notebooks' size (a tampered run is input too): condensing
counts rows once, cuts are found from running sums or by bisection, never by re-measuring every prefix.

Which cells appear (cell tags, set in the notebook's cell metadata):

- ``nav``: navigation links (previous / next notebook) — left out.
- ``static``: reference blocks for readers of the notebook (typo notes, long tables to look up) — left out.
- ``slide-skip`` or slideshow type ``skip``: left out. ``parameters`` and papermill's cells: left out.
- ``slide-show-code``: the code cell's source is shown; otherwise code sources are hidden, outputs shown.
- slideshow type ``slide``/``subslide`` starts a slide, ``notes`` becomes speaker notes.

Long outputs: a text output or table that needs more than ``MAX_PAGES`` slides is condensed to its first
lines/rows plus "… N more", always keeping every error/warning title and its first fix (every row that
reports an error); shorter ones and long Markdown continue on "（続き）" slides. Code and Markdown lists
longer than ``MAX_BLOCK_PAGES`` slides are condensed the same way. rich's box-drawing tables
become real tables, and columns with the same value in every row move into the table's caption. Each
figure gets its own slide.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .slidemeasure import (
    BLOCK_GAP,
    BODY_LH,
    BODY_PX,
    CODE_LH,
    CODE_PAD,
    CODE_PX,
    CONTENT_H,
    CONTENT_W,
    SAFETY,
    heading_height,
    list_items,
    markdown_blocks,
    markdown_height,
    markdown_parser,
    plain,
    table_height,
    wrapped_lines,
)
from .slideparts import Block, Slide, block_height, markdown_block, merge_streams, output_blocks, text_blocks

__all__ = ["Block", "Slide", "markdown_parser", "plan", "text_blocks", "condense", "paginate", "logical_slides"]

SKIP_TAGS = frozenset({"nav", "static", "slide-skip", "parameters", "injected-parameters", "papermill-error-cell-tag"})
SHOW_CODE_TAG = "slide-show-code"
CONTINUED = "（続き）"
MAX_PAGES = 2  # a text output longer than this many slides is condensed
MAX_BLOCK_PAGES = 8  # code or a Markdown list longer than this many slides is condensed too

# A finding's title line ("✗ [error] code: title") and a fix line ("    1. do this") in gpudock's reports.
ERROR_TITLE = re.compile(r"^\s*(?:[✗✘!]\s*)?\[(?:error|warning)\]|^\s*(?:error|Error|ERROR)\b|^gpudock refuses")
FIRST_FIX = re.compile(r"^\s+1[.)]\s")
_CODE_WIDTH = CONTENT_W - 2 * CODE_PAD - 4  # as slidemeasure.code_height wraps


# --- condensing and splitting ------------------------------------------------------------------------------


def must_keep(lines: list[str]) -> set[int]:
    """Every error/warning title and the first fix that follows it (in one backward and one forward pass)."""
    fix_ahead: list[int | None] = [None] * (len(lines) + 1)  # the first fix at or after j, before a break
    for j in range(len(lines) - 1, -1, -1):
        if lines[j] and lines[j][:1] not in (" ", "\t"):
            fix_ahead[j] = None  # a line at the margin ends the finding
        elif FIRST_FIX.match(lines[j]):
            fix_ahead[j] = j
        else:
            fix_ahead[j] = fix_ahead[j + 1]
    keep: set[int] = set()
    for i, line in enumerate(lines):
        if ERROR_TITLE.search(line):
            keep.add(i)
            if fix_ahead[i + 1] is not None:
                keep.add(fix_ahead[i + 1])
    return keep


def _code_rows(line: str) -> int:
    return wrapped_lines(line, _CODE_WIDTH, CODE_PX, mono=True)


def _rows_height(rows: int) -> float:
    return rows * CODE_PX * CODE_LH + 2 * CODE_PAD + BLOCK_GAP  # slidemeasure.code_height for ``rows`` rows


def condense(text: str, room: float) -> str:
    """The first lines plus "… N more lines", keeping every error title and first fix, within ``room``.

    Linear: each line's rows are counted once; the head shrinks a line at a time while running sums
    track the head, the kept lines after it and the "… N more" markers between them."""
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

    rows = [_code_rows(line) for line in lines]
    marker = _code_rows(f"… {len(lines)} more lines (the notebook shows them all)")  # the longest marker
    head, tail, gaps = sum(rows), 0, 0
    if _rows_height(head) <= room:
        return text
    for n in range(len(lines) - 1, -1, -1):  # the head is lines[:n]
        head -= rows[n]
        if n in keep:
            tail += rows[n]
        elif n + 1 == len(lines) or n + 1 in keep:
            gaps += 1  # line n starts a new run of left-out lines
        if _rows_height(head + tail + gaps * marker) <= room:
            return build(n)
    return build(0)


def _largest(fits, high: int) -> int:
    """The largest n in [0, high] with ``fits(n)`` (fits grows false as n grows), by bisection."""
    low = 0
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def condense_table(table: Block, room: float) -> Block:
    """The first rows plus a "… N more rows" row, keeping every row that reports an error, within ``room``."""
    header, *rows = table.rows
    keep = {i for i, row in enumerate(rows) if any(ERROR_TITLE.search(c) or "error" in c.lower() for c in row)}

    def build(n: int) -> Block:
        chosen = [r for i, r in enumerate(rows) if i < n or i in keep]
        more = len(rows) - len(chosen)
        footer = f"… {more} more rows (the notebook shows them all)" if more else ""
        return replace(table, rows=(header, *chosen), footer=footer)

    return build(_largest(lambda n: block_height(build(n)) <= room, len(rows)))


def condense_list(block: Block, room: float) -> Block:
    """A Markdown list's first items plus "… N more items", within ``room`` (other Markdown stays whole)."""
    items = list_items(block.text)
    if len(items) < 2:
        return block

    def build(n: int) -> str:
        more = f"\n\n… {len(items) - n} more items (the notebook shows them all)" if n < len(items) else ""
        return "\n".join(items[:n]) + more

    return replace(block, text=build(_largest(lambda n: markdown_height(build(n)) <= room, len(items))))


def _split_lines(block: Block, room: float) -> tuple[Block | None, Block]:
    lines = block.text.split("\n")
    n, used = 0, 0
    while n < len(lines) and _rows_height(used + _code_rows(lines[n])) <= room:
        used += _code_rows(lines[n])
        n += 1
    if n == 0:
        return None, block
    if n < len(lines):  # cut before an item (a line at the margin) rather than inside one
        starts = [k for k in range(n, max(n // 2, n - 6), -1) if lines[k].strip() and not lines[k][0].isspace()]
        n = starts[0] if starts else n
    return replace(block, text="\n".join(lines[:n])), replace(block, text="\n".join(lines[n:]))


def _split_table(block: Block, room: float) -> tuple[Block | None, Block]:
    header, *rows = block.rows
    n = _largest(lambda k: block_height(replace(block, rows=(header, *rows[:k]))) <= room, len(rows))
    if n == 0:
        return None, block
    return replace(block, rows=(header, *rows[:n]), footer=""), replace(block, rows=(header, *rows[n:]), caption="")


def _split_markdown(block: Block, room: float) -> tuple[Block | None, Block]:
    items = list_items(block.text)
    if len(items) < 2:
        return None, block
    n = _largest(lambda k: markdown_height("\n".join(items[:k])) <= room, len(items))
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


def _fit(block: Block, first_room: float, fresh: float) -> Block:
    """``block`` condensed where it would take more than its share of slides (MAX_PAGES or MAX_BLOCK_PAGES)."""
    pages = MAX_PAGES if block.kind in ("text", "table") else MAX_BLOCK_PAGES
    if block.kind in ("text", "code"):
        overhead = 2 * CODE_PAD + BLOCK_GAP + 6 * CODE_PX * CODE_LH  # a block's frame, a cut between items
    elif block.kind == "table":
        overhead = table_height(block.rows[:1]) + 2 * BODY_PX * BODY_LH  # the header again, a cut
    elif block.kind == "markdown":
        overhead = 2 * BODY_PX * BODY_LH
    else:
        return block
    total = max(first_room, 0) + (pages - 1) * fresh - pages * overhead
    if block_height(block) <= total:
        return block
    if block.kind in ("text", "code"):
        return replace(block, text=condense(block.text, total))
    if block.kind == "table":
        return condense_table(block, total)
    return condense_list(block, total)


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
        block = _fit(block, room(page), budget - heading_height(slide.title + CONTINUED, slide.level))
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
    return [p for p in pages if p.blocks or p is pages[0]]


# --- notebook cells -> logical slides -------------------------------------------------------------------


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _source(cell: dict) -> str:
    value = cell.get("source", "")
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return value if isinstance(value, str) else ""


def _markdown_cell(slide: Slide, source: str) -> None:
    for piece_kind, text in markdown_blocks(source):
        if piece_kind.startswith("heading") and not slide.title and not slide.blocks:
            slide.title, slide.level = plain(text), int(piece_kind[-1])
        elif piece_kind.startswith("heading"):
            slide.blocks.append(markdown_block("#" * int(piece_kind[-1]) + " " + text))
        elif piece_kind.startswith("code:"):
            slide.blocks.append(Block("code", text, lang=piece_kind[5:]))
        else:
            slide.blocks.append(markdown_block(text))


def logical_slides(cells, source: str = "") -> list[Slide]:
    """Cells of one executed notebook -> slides as the notebook's slideshow metadata groups them."""
    slides: list[Slide] = []
    for cell in cells if isinstance(cells, list) else []:
        cell = _dict(cell)
        metadata = _dict(cell.get("metadata"))
        tags = (
            {t for t in metadata.get("tags") or [] if isinstance(t, str)}
            if isinstance(metadata.get("tags"), list)
            else set()
        )
        kind = _dict(metadata.get("slideshow")).get("slide_type", "-")
        if tags & SKIP_TAGS or kind == "skip":
            continue
        if kind == "notes":
            if slides:
                slides[-1].notes.append(_source(cell))
            continue
        if kind in ("slide", "subslide") or not slides:
            slides.append(Slide(source=source))
        slide = slides[-1]
        if cell.get("cell_type") == "markdown":
            _markdown_cell(slide, _source(cell))
        elif cell.get("cell_type") == "code":
            if SHOW_CODE_TAG in tags and _source(cell).strip():
                slide.blocks.append(Block("code", _source(cell).rstrip(), lang="python"))
            for out in merge_streams(cell.get("outputs", [])):
                slide.blocks.extend(output_blocks(out, source or "notebook"))
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
