"""Slides again: a run's executed notebooks -> a Marp deck (markdown + images) and reveal.js HTML.

Both go through nbconvert with templates shipped in gpudock/data/templates. The reveal.js HTML
loads reveal.js from a copy beside it (npm's `reveal.js`, found in node_modules), never a CDN.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .exceptions import MissingTool, RunFolderMissing, RunFolderNotEmpty, UsageError
from .rundir import latest_run

TEMPLATES = Path(__file__).parent / "data" / "templates"
FRONT_MATTER = "---\nmarp: true\ntheme: template\npaginate: true\nlang: ja\ntitle: WSL + docker + GPU (2)\n---\n\n"
FORMATS = ("marp", "reveal", "both")
REVEAL_FILES = (
    "dist/reveal.js",
    "dist/reveal.css",
    "dist/theme/white.css",
    "dist/theme/fonts/source-sans-pro",
    "plugin/notes/notes.js",
    "LICENSE",
)
# text before HTML: Marp shows raw HTML escaped, and rich's tables carry a plain-text twin
_MARKDOWN_PRIORITY = ["image/png", "image/jpeg", "image/svg+xml", "text/markdown", "text/plain"]


def executed_notebooks(run_dir: str | Path | None) -> tuple[Path, list[Path]]:
    """The run folder (default: the latest under runs/) and its executed notebooks, in order."""
    folder = Path(run_dir) if run_dir else latest_run()
    if folder is None:
        raise RunFolderMissing(None, "no run folder given and no tutorial run under runs/; run `gpudock run` first")
    if not folder.is_dir():
        raise RunFolderMissing(folder, "no such run folder")
    notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not notebooks:
        raise RunFolderMissing(folder, "holds no executed notebooks (*.ipynb); give the folder `gpudock run` wrote")
    return folder, notebooks


def _read(path: Path):
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises several types for a broken file
        raise UsageError(f"{path}: not a readable notebook ({type(err).__name__})") from None


def marp_deck(notebooks: list[Path], out: Path, name: str = "deck") -> Path:
    """``out/<name>.md`` with figures in ``out/<name>_files/``."""
    from nbconvert.exporters import MarkdownExporter
    from traitlets.config import Config

    config = Config()
    config.NbConvertBase.display_data_priority = _MARKDOWN_PRIORITY
    exporter = MarkdownExporter(config=config, template_name="marp", extra_template_basedirs=[str(TEMPLATES)])
    files = f"{name}_files"
    (out / files).mkdir(parents=True, exist_ok=True)
    bodies = []
    for path in notebooks:
        body, resources = exporter.from_notebook_node(
            _read(path), resources={"output_files_dir": files, "unique_key": path.stem, "metadata": {"name": path.stem}}
        )
        for filename, data in resources.get("outputs", {}).items():
            (out / filename).write_bytes(data)
        bodies.append(body.strip())
    target = out / f"{name}.md"
    target.write_text(FRONT_MATTER + "\n\n---\n\n".join(bodies) + "\n", encoding="utf-8")
    return target


def find_reveal() -> Path:
    """A local reveal.js (4.x) package folder: $GPUDOCK_REVEAL_JS, or node_modules/reveal.js here or in the checkout."""
    candidates = [Path(os.environ["GPUDOCK_REVEAL_JS"])] if os.environ.get("GPUDOCK_REVEAL_JS") else []
    candidates += [Path("node_modules/reveal.js"), Path(__file__).resolve().parents[2] / "node_modules" / "reveal.js"]
    for candidate in candidates:
        if (candidate / "dist" / "reveal.js").is_file():
            return candidate
    raise MissingTool(
        "reveal.js not found",
        "run `npm install` in the repository (package.json lists it) "
        "or set GPUDOCK_REVEAL_JS to an unpacked reveal.js 4 package",
    )


def reveal_deck(notebooks: list[Path], out: Path, name: str = "deck") -> Path:
    """``out/<name>.html`` (all notebooks, one deck) with reveal.js copied to ``out/reveal.js``."""
    import nbformat
    from nbconvert.exporters import SlidesExporter

    source = find_reveal()
    local = out / "reveal.js"
    for part in REVEAL_FILES:  # what the template loads, not the whole 5 MB package
        target = local / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if (source / part).is_dir():
            shutil.copytree(source / part, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source / part, target)
    merged = nbformat.v4.new_notebook(metadata=_read(notebooks[0]).metadata)
    merged.metadata["title"] = "WSL + docker + GPU (2)"
    for path in notebooks:
        cells = [
            c
            for c in _read(path).cells
            if not {"parameters", "injected-parameters", "papermill-error-cell-tag"} & set(c.metadata.get("tags", []))
        ]
        merged.cells += cells
    exporter = SlidesExporter(
        template_name="gpudock-reveal",
        extra_template_basedirs=[str(TEMPLATES)],
        reveal_url_prefix="reveal.js",
        reveal_theme="white",
    )
    html, _ = exporter.from_notebook_node(merged, resources={"metadata": {"name": name}})
    target = out / f"{name}.html"
    target.write_text(html, encoding="utf-8")
    return target


def export(
    run_dir: str | Path | None = None, fmt: str = "both", out: str | Path | None = None, force: bool = False
) -> list[Path]:
    """Turn a run (default: the latest tutorial run) into decks; returns the files written.

    An ``out`` folder that already holds files is refused unless ``force`` (its files would be overwritten).
    """
    if fmt not in FORMATS:
        raise UsageError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    folder, notebooks = executed_notebooks(run_dir)
    if out and not force and Path(out).is_dir() and any(Path(out).iterdir()):
        raise RunFolderNotEmpty(out, "add --force to overwrite its decks")
    if out and Path(out).exists() and not Path(out).is_dir():
        raise UsageError(f"{out}: is a file, not a folder")
    target = Path(out) if out else folder / "slides"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    if fmt in ("marp", "both"):
        written.append(marp_deck(notebooks, target))
        theme = Path(__file__).parent / "data" / "marp-theme-template.css"
        shutil.copy(theme, target / "template.css")
    if fmt in ("reveal", "both"):
        written.append(reveal_deck(notebooks, target))
    return written
