"""Slides: a run's executed notebooks -> a Marp deck (deck.md + deck_files/) and a reveal.js deck (reveal.html).

Both decks come from one slide plan (``slideplan``: what is shown, condensed or continued so each slide
fits 1280×720). The Marp deck carries its theme in its front matter, so plain
``npx @marp-team/marp-cli deck.md`` renders it as intended; the reveal.js deck loads reveal.js from a copy
written beside it from gpudock's package data, never from the network. Output is deterministic: figure
names are content hashes, nothing records a time.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from . import pdffonts, slideplan
from .exceptions import CannotWrite, GpudockError, MissingTool, RunFolderMissing, UnreadableNotebook, UsageError
from .pinned import Pinned
from .rundir import RUNS
from .slidepdf import find_chromium, find_marp, inline_figures, marp_pdf
from .softbreaks import join_soft_breaks

DATA = Path(__file__).parent / "data"
TEMPLATES = DATA / "templates"
THEME = DATA / "slide-theme.css"
REVEAL_DATA = DATA / "reveal.js"
TITLE = "WSL + docker + GPU (2)"
LANG = "ja"
FORMATS = ("marp", "reveal", "both", "pdf")


# --- which run --------------------------------------------------------------------------------------------


def tutorial_notebooks() -> list[str]:
    """The tutorial's notebook names (notebooks/*.md), or [] where the notebooks are not at hand."""
    from .runner import find_notebooks

    try:
        return [p.stem for p in find_notebooks()]
    except GpudockError:
        return []


def missing_notebooks(folder: Path, names: list[str]) -> list[str]:
    return [name for name in names if not (folder / f"{name}.ipynb").is_file()]


def pick_run(base: str | Path = RUNS, names: list[str] | None = None) -> tuple[Path, list[str]]:
    """The latest tutorial run (a folder with summary.json) that executed every notebook, else the latest
    tutorial run; with the notebooks it lacks."""
    names = tutorial_notebooks() if names is None else names
    base = Path(base)
    runs = sorted(p for p in base.glob("*") if (p / "summary.json").is_file()) if base.is_dir() else []
    if not runs:
        raise RunFolderMissing(None, f"no tutorial run under {base}/ (no summary.json); run `gpudock run` first")
    for run in reversed(runs):
        if not missing_notebooks(run, names):
            return run, []
    return runs[-1], missing_notebooks(runs[-1], names)


def executed_notebooks(
    run_dir: str | Path | None, say: Callable[[str], None] = lambda line: None
) -> tuple[Path, list[Path]]:
    """The run folder (default: the latest complete tutorial run) and its executed notebooks, in order."""
    names = tutorial_notebooks()
    if run_dir:
        folder = Path(run_dir)
        if not folder.is_dir():
            raise RunFolderMissing(folder, "no such run folder")
        missing = missing_notebooks(folder, names)
    else:
        folder, missing = pick_run(names=names)
        if not missing:
            say(f"gpudock: slides from {folder} (the latest run that executed all {len(names)} notebooks)")
    notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not notebooks:
        raise RunFolderMissing(folder, "holds no executed notebooks (*.ipynb); give the folder `gpudock run` wrote")
    if missing:
        say(f"gpudock: {folder} lacks {', '.join(missing)}; building slides from the {len(notebooks)} it has")
    return folder, notebooks


MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024  # an executed notebook with its figures; more is not one gpudock wrote


def read_notebook(path: Path):
    """An executed notebook of the run folder: a regular file inside it, within the size bound, then nbformat."""
    import nbformat

    from .files import inside, read_bytes_bounded

    inside(path.parent, path.name, UnreadableNotebook)  # a link pointing out of the run folder is refused
    data = read_bytes_bounded(path, UnreadableNotebook, MAX_NOTEBOOK_BYTES)
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as err:  # nbformat raises several types for a broken file (and UnicodeDecodeError)
        raise UnreadableNotebook(path, f"not a readable notebook ({type(err).__name__})") from None


def deck_plan(notebooks: list[Path], full: bool = True) -> list[slideplan.Slide]:
    """Every notebook slide (``full``), or the talk (``gpudock.talk``: at most 20 slides, notes for the rest)."""
    cells = [(path.stem, read_notebook(path).cells) for path in notebooks]
    if full:
        return slideplan.plan(cells)
    from . import talk

    summary = notebooks[0].parent / "summary.json" if notebooks else None
    return talk.talk(talk.read_run(cells, _summary(summary)))


def _summary(path: Path | None) -> list | None:
    """A run's summary.json (a list of entries), or None where it is missing, too large or not JSON."""
    from .files import inside, parse_json, read_json_text

    if path is None:
        return None
    try:  # a regular file inside the run folder, within a bound: a FIFO or /dev/zero named summary.json is none
        inside(path.parent, path.name, UnreadableNotebook)
        value = parse_json(read_json_text(path, UnreadableNotebook, 1024 * 1024), str(path), UnreadableNotebook)
    except UnreadableNotebook:
        return None
    return value if isinstance(value, list) else None


# --- Marp -----------------------------------------------------------------------------------------------------


_BACKTICKS = re.compile(r"`+")
_LANG = re.compile(r"[A-Za-z0-9_+#.-]{1,32}")


def _fence(text: str, lang: str) -> str:
    """``text`` as a code block that nothing in it can close (CommonMark 0.31, 4.5 "Fenced code blocks").

    A closing fence may be indented up to three spaces and followed by spaces, and must be at least as
    long as the opening one: so the fence is one backtick longer than the longest run of backticks
    anywhere in the text (a run inside a line cannot close it, but counting every run is simplest to
    trust). The info string (the language) may hold no backtick: anything but a plain name is ``text``.
    https://spec.commonmark.org/0.31.2/#fenced-code-blocks"""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    lang = lang if _LANG.fullmatch(lang or "") else "text"
    return f"{ticks}{lang}\n{text}\n{ticks}"


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})  # "[" escaped: no "![" image can form


def _md_escape(text: str) -> str:
    """Inline text with every Markdown (and Marp comment/style) character escaped, on one line."""
    return " ".join(text.split("\n")).translate(_MD_SPECIAL)


def _md_title(title: str) -> str:
    """A heading's plain text for Marp: ``<`` as an entity, so no ``<!-- directive -->`` or ``<style>`` starts."""
    return " ".join(title.split()).replace("&", "&amp;").replace("<", "&lt;")


# a line YAML could read as a mapping key (``style:``, ``"_class":``), a flow mapping, an explicit key or a
# document marker: what could make Marpit read a comment as directives (its loose YAML quotes the values)
_YAML_KEYISH = re.compile(r"""^\s*(?:["']?[^\s"':#|$`>-][^:"']*["']?\s*:(?:\s|$)|[{?]|---|\.\.\.)""", re.M)


def _md_note(note: str) -> str:
    """A speaker note as a Marp comment that is never read as directives.

    Marpit parses every HTML comment as YAML and applies the directives it finds (``backgroundImage``,
    ``style``: remote fetches, CSS). A note that could read as a mapping gets a first line that is a plain
    YAML scalar: the comment is then a scalar or a YAML error, never a mapping, so it stays a note. Other
    notes (prose, commands, tables, code fences) are kept as written; ``-->`` never ends a comment early."""
    body = note.replace("-->", "-- >").strip()
    # a note that starts with a reserved YAML indicator (a ``` fence, @) is a YAML error already
    guard = "note\n" if _YAML_KEYISH.search(body) and body[:1] not in "`@" else ""
    return "<!--\n" + guard + body + "\n-->"


def _md_table(block: slideplan.Block) -> str:
    header, *rows = block.rows

    def line(cells):
        return "| " + " | ".join(_md_escape(c).replace("\n", " ") for c in cells) + " |"

    rule = "| " + " | ".join("---:" if a == "right" else "---" for a in block.align) + " |"
    table = "\n".join([line(header), rule, *(line(r) for r in rows)])
    parts = [_md_escape(block.caption)] if block.caption else []
    return "\n\n".join([*parts, table, *([_md_escape(block.footer)] if block.footer else [])])


def _md_block(block: slideplan.Block, files: str) -> str:
    if block.kind == "markdown":
        return join_soft_breaks(block.text)  # Marp renders every newline as <br>
    if block.kind == "code":
        return _fence(block.text, block.lang or "text")
    if block.kind == "text":
        return _fence(block.text, "text")
    if block.kind == "table":
        return _md_table(block)
    return f"![figure]({files}/{block.image_name})"


def marp_markdown(slides: list[slideplan.Slide], files: str = "deck_files") -> str:
    """The Marp deck's text: front matter with the theme inlined, then one `---`-separated part per slide."""
    style = THEME.read_text(encoding="utf-8").strip()
    front = (
        "---\nmarp: true\ntheme: default\nsize: 16:9\nclass: gpudock\npaginate: true\n"
        f"lang: {LANG}\ntitle: {json.dumps(TITLE)}\nstyle: |\n"
        + "\n".join(("  " + line).rstrip() for line in style.split("\n"))
        + "\n---\n\n"
    )
    parts = []
    for slide in slides:
        lines = ["<!-- _class: gpudock figure -->"] if slide.figure else []
        if slide.title:
            lines.append("#" * slide.level + " " + _md_title(slide.title))
        lines += [_md_block(b, files) for b in slide.blocks]
        lines += [_md_note(note) for note in slide.notes]
        parts.append("\n\n".join(lines))
    return front + "\n\n---\n\n".join(parts) + "\n"


# --- reveal.js ------------------------------------------------------------------------------------------------


def _html_table(block: slideplan.Block) -> str:
    header, *rows = block.rows

    def cells(tag, row):
        return "".join(
            f'<{tag} style="text-align:{a}">{html.escape(c)}</{tag}>' for c, a in zip(row, block.align, strict=True)
        )

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    table = f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"
    caption = f'<p class="caption">{html.escape(block.caption)}</p>' if block.caption else ""
    footer = f'<p class="caption">{html.escape(block.footer)}</p>' if block.footer else ""
    return caption + table + footer


def _html_block(block: slideplan.Block, md, files: str) -> str:
    if block.kind == "markdown":
        return md.render(join_soft_breaks(block.text)).strip()
    if block.kind in ("code", "text"):
        lang = html.escape(block.lang or "text")
        return f'<pre><code class="language-{lang}">{html.escape(block.text)}</code></pre>'
    if block.kind == "table":
        return _html_table(block)
    return f'<p><img src="{files}/{block.image_name}" alt="figure"></p>'


def reveal_html(slides: list[slideplan.Slide], reveal: str = "reveal.js", files: str = "deck_files") -> str:
    import jinja2

    md = slideplan.markdown_parser()
    rendered = []
    for slide in slides:
        parts = [md.render("#" * slide.level + " " + slide.title).strip()] if slide.title else []
        parts += [_html_block(b, md, files) for b in slide.blocks]
        parts += [f'<aside class="notes">{md.render(note).strip()}</aside>' for note in slide.notes]
        classes = "gpudock figure" if slide.figure else "gpudock"
        rendered.append({"classes": classes, "source": html.escape(slide.source), "html": "\n".join(parts)})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False, keep_trailing_newline=True)
    return env.get_template("reveal.html.j2").render(
        slides=rendered, title=html.escape(TITLE), lang=LANG, reveal=reveal, theme=THEME.read_text(encoding="utf-8")
    )


def find_reveal() -> Path:
    """reveal.js 4 (dist/ and the notes plugin): $GPUDOCK_REVEAL_JS, else the copy in gpudock's package data."""
    override = os.environ.get("GPUDOCK_REVEAL_JS")
    for candidate in [Path(override)] if override else [REVEAL_DATA]:
        if (candidate / "dist" / "reveal.js").is_file():
            return candidate
    raise MissingTool(
        f"reveal.js not found in {override or REVEAL_DATA}",
        "set GPUDOCK_REVEAL_JS to an unpacked reveal.js 4 package, or reinstall gpudock",
    )


REVEAL_FILES = ("dist/reveal.js", "dist/reveal.css", "plugin/notes/notes.js", "LICENSE")


# --- writing ---------------------------------------------------------------------------------------------------


def _prepare_out(target: Path, force: bool, explicit: bool) -> None:
    if target.is_symlink():
        raise CannotWrite(target, "is a symlink; give the real folder (gpudock never writes through a link)")
    if target.exists() and not target.is_dir():
        raise CannotWrite(target, "is a file, not a folder")
    if explicit and target.is_dir() and any(target.iterdir()) and not force:
        raise CannotWrite(target, "holds files; give --force to replace the decks in it")
    target.mkdir(parents=True, exist_ok=True)


def _write_figures(slides: list[slideplan.Slide], out: Pinned) -> None:
    out.remove_tree("deck_files")  # stale figures of an earlier build would linger (a link is removed, not followed)
    figures = {b.image_name: b.data for s in slides for b in s.blocks if b.kind == "image"}
    for name in sorted(figures):
        out.write_bytes(f"deck_files/{name}", figures[name])


def _write_reveal(out: Pinned) -> None:
    source = find_reveal()
    out.remove_tree("reveal.js")
    for part in REVEAL_FILES:
        out.copy_file(source / part, f"reveal.js/{part}")


def _target(out: str | Path | None, folder: Path) -> Pinned:
    """Where the decks go, held by descriptor: --out, else RUN/slides (a link there is refused, not followed)."""
    if out is not None:
        return Pinned(out)
    with Pinned(folder) as run:
        return run.folder("slides")


def export(
    run_dir: str | Path | None = None,
    fmt: str = "both",
    out: str | Path | None = None,
    force: bool = False,
    say: Callable[[str], None] = lambda line: None,
    full: bool = False,
) -> list[Path]:
    """Turn a run (default: the latest complete one) into decks (the talk, or ``full``: every notebook slide);
    returns the files written."""
    if fmt not in FORMATS:
        raise UsageError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "pdf":  # before anything is written: the tools, and a font for the Japanese text
        find_marp(), find_chromium(), pdffonts.require_cjk_font()
    if out is not None:  # an --out that would be overwritten is refused before anything else is said or read
        _prepare_out(Path(out), force, explicit=True)
    folder, notebooks = executed_notebooks(run_dir, say)
    slides = deck_plan(notebooks, full)
    with _target(out, folder) as target:
        _write_figures(slides, target)
        written = []
        if fmt in ("marp", "both", "pdf"):
            deck = marp_markdown(slides)
            written.append(target.write_text("deck.md", deck))
        if fmt in ("reveal", "both"):
            _write_reveal(target)
            written.append(target.write_text("reveal.html", reveal_html(slides)))
        if fmt == "pdf":
            pdf = marp_pdf(inline_figures(deck, slides))
            pdffonts.check_pdf(pdf)  # a deck of boxes (no CJK glyphs) is not kept
            written.append(target.write_bytes("deck.pdf", pdf))
    return written
