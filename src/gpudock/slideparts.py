"""What a slide holds (``Block``, ``Slide``) and how a notebook cell's output becomes blocks.

Terminal text becomes text blocks, with rich's box-drawing tables turned into real tables (columns
with one value in every row move into the caption); figures become image blocks. A notebook may come
from elsewhere: its image data is checked (valid base64), and every scan here is linear in the text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field, replace

from .exceptions import UsageError
from .slidemeasure import (
    BODY_LH,
    BODY_PX,
    CONTENT_W,
    FIGURE_MAX_H,
    code_height,
    markdown_height,
    table_height,
    wrapped_lines,
)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BOX_TOP = "┏┌╭╔"
BOX_BOTTOM = "┗└╰╚"
BOX_CHARS = set("┏┓┗┛┃━┳┻╋┡┩╇┌┐└┘│─┬┴┼├┤╭╮╯╰╞╡╪═║╔╗╚╝╠╣╦╩╬")
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg"}


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
        ext = IMAGE_TYPES[self.mime]
        return f"figure-{hashlib.sha256(self.data).hexdigest()[:12]}.{ext}"


@dataclass
class Slide:
    title: str = ""  # the heading's text
    level: int = 2
    blocks: list[Block] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figure: bool = False
    source: str = ""  # the notebook it comes from


def block_height(block: Block) -> float:
    if block.kind == "markdown":
        return markdown_height(block.text)
    if block.kind in ("code", "text"):
        return code_height(block.text)
    if block.kind == "table":
        lines = sum(wrapped_lines(t, CONTENT_W, BODY_PX) for t in (block.caption, block.footer) if t)
        return lines * (BODY_PX * BODY_LH + 6) + table_height(block.rows)
    return FIGURE_MAX_H


# --- rich's box-drawing tables --------------------------------------------------------------------------


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
    firsts = [_split_box_row(g[0], cuts) for g in raw_groups]  # each row's first line, split once
    align = []
    for i in range(len(cuts) - 1):
        right = sum(
            1 for f in firsts if f[i].strip() and len(f[i]) - len(f[i].rstrip()) < len(f[i]) - len(f[i].lstrip())
        )
        align.append("right" if firsts and right * 2 > len(firsts) else "left")
    return Block("table", rows=(header, *rows), align=tuple(align))


def lift_constant_columns(table: Block, title: str = "") -> Block:
    """Columns with one value in every row (2+ rows) move into the caption: narrower tables, same facts."""
    header, *rows = table.rows
    keep = [i for i in range(len(header)) if len(rows) < 2 or len({r[i] for r in rows}) > 1]
    kept = set(keep)
    lifted = [f"{header[i]}: {rows[0][i]}" for i in range(len(header)) if i not in kept and rows[0][i]]
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
    bottom: list[int | None] = [None] * (len(lines) + 1)  # the next box bottom at or after each line
    for j in range(len(lines) - 1, -1, -1):
        bottom[j] = j if lines[j].lstrip()[:1] in BOX_BOTTOM else bottom[j + 1]
    blocks: list[Block] = []
    plain: list[str] = []
    i, tried_until = 0, -1
    while i < len(lines):
        stripped = lines[i].lstrip()
        end = bottom[i + 1] if stripped[:1] in BOX_TOP and i > tried_until else None
        table = parse_box_table([line.rstrip() for line in lines[i : end + 1]]) if end else None
        if end and not table:
            tried_until = end  # not a table: no line up to that bottom starts one (each line is read once)
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


# --- Markdown that reaches a deck ------------------------------------------------------------------------

# Marpit reads every <!-- comment --> as directives and every <style> as CSS whatever markdown-it's html
# setting (@marp-team/marpit lib/markdown/comment.js, style/parse.js); images load when the deck renders
_MARP_ACTIVE = re.compile(r"<!--|<style", re.IGNORECASE)


def _active_tokens(tokens) -> bool:
    for token in tokens:
        if token.type in ("html_block", "html_inline", "image"):
            return True
        if token.children and _active_tokens(token.children):
            return True
    return False


def markdown_block(text: str) -> Block:
    """Notebook Markdown as a block: as Markdown, or as its source in a code block when it holds raw HTML,
    a comment, a style element or an image (what would act when a deck renders: fetches, directives, CSS).
    The tutorial's own Markdown holds none of these; a tampered run shows them as text in both decks."""
    from markdown_it import MarkdownIt

    if _MARP_ACTIVE.search(text) or _active_tokens(MarkdownIt("commonmark", {"html": True}).parse(text)):
        return Block("code", text, lang="markdown")
    return Block("markdown", text)


# --- cell outputs -----------------------------------------------------------------------------------------


def _text(value) -> str:
    """A notebook string field: a string, or a list of strings (nbformat's multi-line form)."""
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return value if isinstance(value, str) else ""


def _image(data, mime: str, source: str) -> Block:
    text = _text(data)
    if mime == "image/svg+xml":
        return Block("image", data=text.encode("utf-8", errors="replace"), mime=mime)
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(f"{source}: an {mime} output is not valid base64 data (a damaged notebook)") from None
    return Block("image", data=raw, mime=mime)


def output_blocks(output, source: str = "notebook") -> list[Block]:
    """One cell output -> blocks: figures, Markdown, tables from rich's box text, terminal text, errors."""
    if not isinstance(output, dict):
        return []
    kind = output.get("output_type")
    if kind == "stream":
        return text_blocks(_text(output.get("text", "")))
    if kind == "error":
        return [Block("text", f"{_text(output.get('ename')) or 'Error'}: {ANSI.sub('', _text(output.get('evalue')))}")]
    data = output.get("data")
    data = data if isinstance(data, dict) else {}
    for mime in IMAGE_TYPES:
        if mime in data:
            return [_image(data[mime], mime, source)]
    if "text/markdown" in data:
        return [markdown_block(_text(data["text/markdown"]))]
    if "text/plain" in data:
        return text_blocks(_text(data["text/plain"]))
    return []


def merge_streams(outputs) -> list:
    """Consecutive outputs of one stream (stdout, stderr) as one."""
    merged = []
    for out in outputs if isinstance(outputs, list) else []:
        if not isinstance(out, dict):
            continue
        if out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream":
            if merged[-1].get("name") == out.get("name"):
                merged[-1] = {**merged[-1], "text": _text(merged[-1].get("text")) + _text(out.get("text"))}
                continue
        merged.append(dict(out))
    return merged
