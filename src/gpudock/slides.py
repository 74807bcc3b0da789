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
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from . import pdffonts, slideplan
from .exceptions import CannotWrite, GpudockError, MissingTool, RunFolderMissing, UsageError
from .files import write_text_atomic
from .rundir import RUNS
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


def _read(path: Path):
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises several types for a broken file
        raise UsageError(f"{path}: not a readable notebook ({type(err).__name__})") from None


def deck_plan(notebooks: list[Path], full: bool = True) -> list[slideplan.Slide]:
    """Every notebook slide (``full``), or the talk (``gpudock.talk``: at most 20 slides, notes for the rest)."""
    cells = [(path.stem, _read(path).cells) for path in notebooks]
    if full:
        return slideplan.plan(cells)
    from . import talk

    summary = notebooks[0].parent / "summary.json" if notebooks else None
    return talk.talk(talk.read_run(cells, _summary(summary)))


def _summary(path: Path | None) -> list | None:
    """A run's summary.json (a list of entries), or None where it is missing, too large or not JSON."""
    try:
        if path is None or path.stat().st_size > 1024 * 1024:
            return None
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, list) else None


# --- Marp -----------------------------------------------------------------------------------------------------


def _fence(text: str, lang: str) -> str:
    longest = max((len(run) for run in text.replace("~", "`").split("\n") if set(run) == {"`"}), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def _md_escape(text: str) -> str:
    return text.translate(_MD_SPECIAL)


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
            lines.append("#" * slide.level + " " + slide.title)
        lines += [_md_block(b, files) for b in slide.blocks]
        lines += ["<!--\n" + note.replace("-->", "--&gt;").strip() + "\n-->" for note in slide.notes]
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


# --- PDF ---------------------------------------------------------------------------------------------------------


def find_marp() -> Path:
    for candidate in (
        Path("node_modules/.bin/marp"),
        Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "marp",
    ):
        if candidate.is_file() and shutil.which("node"):
            return candidate
        if candidate.is_file() and not shutil.which("node"):
            raise MissingTool("node not found (marp-cli runs on Node.js)", "apt-get install nodejs")
    found = shutil.which("marp")
    if found:
        return Path(found)
    raise MissingTool("marp-cli not found", "run `npm ci` in the gpudock checkout (package.json lists it)")


def find_chromium() -> Path:
    for name in (os.environ.get("CHROME_PATH", ""), "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) if name else None
        if found:
            return Path(found)
    raise MissingTool("no Chromium for the PDF", "apt-get install chromium (or set CHROME_PATH)")


def marp_pdf(deck: Path) -> Path:
    """deck.pdf beside deck.md, rendered by marp-cli with Debian's chromium."""
    marp, chromium = find_marp(), find_chromium()
    target = deck.with_suffix(".pdf")
    proc = subprocess.run(
        [str(marp.resolve()), "--no-stdin", "--pdf", "--allow-local-files", deck.name, "-o", target.name],
        cwd=deck.parent,
        env={**os.environ, "CHROME_PATH": str(chromium)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0 or not target.is_file():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise MissingTool(f"marp-cli could not render the PDF ({last})", "check that chromium starts headless here")
    return target


# --- writing ---------------------------------------------------------------------------------------------------


def _prepare_out(target: Path, force: bool, explicit: bool) -> None:
    if target.exists() and not target.is_dir():
        raise CannotWrite(target, "is a file, not a folder")
    if explicit and target.is_dir() and any(target.iterdir()) and not force:
        raise CannotWrite(target, "holds files; give --force to replace the decks in it")
    target.mkdir(parents=True, exist_ok=True)


def _write_figures(slides: list[slideplan.Slide], folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)  # stale figures of an earlier build would linger
    figures = {b.image_name: b.data for s in slides for b in s.blocks if b.kind == "image"}
    if figures:
        folder.mkdir(parents=True)
    for name in sorted(figures):
        (folder / name).write_bytes(figures[name])


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
    target = Path(out) if out else folder / "slides"
    if out is None:
        _prepare_out(target, force, explicit=False)
    slides = deck_plan(notebooks, full)
    _write_figures(slides, target / "deck_files")
    written = []
    if fmt in ("marp", "both", "pdf"):
        written.append(write_text_atomic(target / "deck.md", marp_markdown(slides)))
    if fmt in ("reveal", "both"):
        source = find_reveal()
        local = target / "reveal.js"
        if local.exists():
            shutil.rmtree(local)
        for part in REVEAL_FILES:
            (local / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / part, local / part)
        written.append(write_text_atomic(target / "reveal.html", reveal_html(slides)))
    if fmt == "pdf":
        pdf = marp_pdf(target / "deck.md")
        try:
            pdffonts.check_pdf(pdf.read_bytes())
        except MissingTool:
            pdf.unlink()  # a deck of boxes is not kept
            raise
        written.append(pdf)
    return written
