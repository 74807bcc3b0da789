"""The tutorial as a static site: executed notebooks (replay runs, the H200's measured figures) -> HTML.

Sphinx with myst-nb, not Jupyter Book 2: Jupyter Book 2 (mystmd) downloads its site template from the web
when it builds, and its pages run a Node.js server or load a theme bundle; Sphinx and myst-nb (PyPI, the
``site`` extra) build from the executed notebooks with no network, and the pages they write are plain files
that work from any static host or a local folder. Furo (the theme) uses the system's fonts, never a web font;
the site's CSS names Noto Sans CJK JP (Debian's ``fonts-noto-cjk``) first for the Japanese text. Search is
Sphinx's own (a JavaScript index, with its Japanese word splitter). Notebooks are never executed here
(``nb_execution_mode = "off"``): the outputs are the run's, links between notebooks point to their sibling
pages (``gpudock.links``).

    python -m gpudock.site OUT LABEL=RUN_DIR [LABEL=RUN_DIR ...]   (scripts/site runs the replays first)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .exceptions import GpudockError, MissingTool, RunFolderMissing, UsageError

# Labels scripts/site gives the replay runs, with the sentence the front page says about each.
HOSTS = {
    "native-h200": "ネイティブ Ubuntu 24.04 + NVIDIA H200：すべて動くホスト（ベンチマークは H200 で測った値）",
    "wsl2": "WSL 2 の Ubuntu 24.04 + Docker Engine 28：すべて動くホスト",
    "debian12-no-gpu": "Debian 12，GPU なし（CI のマシン）：何が足りないかを doctor が示す",
}
# papermill's parameter cells: the run's own paths and defaults, not the tutorial (the slides leave them out too)
PAPERMILL_TAGS = {"parameters", "injected-parameters"}
CSS = """\
/* Japanese text in the system's CJK font (Debian/Ubuntu: fonts-noto-cjk); no web font is loaded */
body, .sidebar-tree, .toc-tree { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Yu Gothic",
  "Meiryo", -apple-system, "Segoe UI", sans-serif; line-break: strict; overflow-wrap: anywhere; }
code, pre, kbd { font-family: "DejaVu Sans Mono", "Noto Sans Mono CJK JP", monospace; }
div.cell_output pre, div.highlight pre { white-space: pre-wrap; word-break: break-all; }
div.cell_output img { max-width: 100%; height: auto; }
"""


@dataclass(frozen=True)
class Host:
    """One run shown on the site: ``label`` (its folder on the site) and the run folder of executed notebooks."""

    label: str
    run: Path

    @property
    def notebooks(self) -> list[Path]:
        return sorted(p for p in self.run.glob("[0-9][0-9]-*.ipynb"))


def parse_host(text: str) -> Host:
    label, sep, folder = text.partition("=")
    if not sep or not label or not label.replace("-", "").isalnum():
        raise UsageError(f"{text!r}: give LABEL=RUN_DIR (LABEL of letters, digits and '-', e.g. native-h200=runs/X)")
    host = Host(label, Path(folder))
    if not host.run.is_dir() or not host.notebooks:
        raise RunFolderMissing(
            host.run, "holds no executed notebooks (NN-name.ipynb); give a folder `gpudock run` wrote"
        )
    return host


def conf_py(project: str) -> str:
    return f"""\
project = {json.dumps(project)}
language = "ja"
extensions = ["myst_nb"]
html_theme = "furo"
html_title = {json.dumps(project)}
html_static_path = ["_static"]
html_css_files = ["gpudock.css"]
html_copy_source = False
html_show_sourcelink = False
html_permalinks = False
nb_execution_mode = "off"  # the outputs are the run's own
nb_ipywidgets_js = {{}}  # no require.js or widget scripts from a CDN
myst_enable_extensions = ["strikethrough"]
suppress_warnings = ["myst.header", "misc.highlighting_failure", "toc.not_included", "myst.strikethrough"]
exclude_patterns = ["_build"]
"""


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def write_sources(hosts: list[Host], source: Path, project: str) -> None:
    """Sphinx sources: conf.py, the front page, each host's notebooks relinked to their sibling pages."""
    import nbformat

    from .links import relink_notebook

    (source / "_static").mkdir(parents=True)
    (source / "_static" / "gpudock.css").write_text(CSS, encoding="utf-8")
    (source / "conf.py").write_text(conf_py(project), encoding="utf-8")
    front = [f"# {project}", "", "実行済みのチュートリアル：記録したホストの再生（`gpudock run --snapshot`）と，", ""]
    front[-2] += "GPU のホストで測ったベンチマーク結果から作った．出力と図はすべて実行したときのもの．"
    for host in hosts:
        names = {p.stem for p in host.notebooks}
        (source / host.label).mkdir()
        titles = []
        for path in host.notebooks:
            nb = relink_notebook(nbformat.read(path, as_version=4), names)
            nb.cells = [c for c in nb.cells if not set(c.metadata.get("tags", [])) & PAPERMILL_TAGS]
            nbformat.write(nb, source / host.label / path.name)
            titles.append((path.stem, _title(nb)))
        about = HOSTS.get(host.label, host.label)
        front += ["", f"## {about}", "", "```{toctree}", ":maxdepth: 1", f":caption: {host.label}", ""]
        front += [f"{t} <{host.label}/{stem}>" if t else f"{host.label}/{stem}" for stem, t in titles]
        front += ["```"]
    (source / "index.md").write_text("\n".join(front) + "\n", encoding="utf-8")


def sphinx_build(source: Path, out: Path) -> None:
    """Sphinx's html builder; exit 3 naming the extra when Sphinx or myst-nb is missing."""
    try:
        import furo  # noqa: F401  (only whether the packages are there)
        import myst_nb  # noqa: F401
        import sphinx  # noqa: F401
    except ImportError as err:
        raise MissingTool(
            f"{err.name} is not installed (the site is built with it)", "pip install 'gpudock[site]'"
        ) from None
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "auto", str(source), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise GpudockError(f"sphinx-build failed: {last}")


def build(hosts: list[Host], out: Path, project: str = "WSL + docker + GPU (2)") -> Path:
    """The site in ``out`` (replaced), from the hosts' runs; returns its front page."""
    if not hosts:
        raise UsageError("give at least one LABEL=RUN_DIR")
    with tempfile.TemporaryDirectory(prefix="gpudock-site-") as tmp:
        source = Path(tmp) / "source"
        write_sources(hosts, source, project)
        staged = Path(tmp) / "html"
        sphinx_build(source, staged)
        shutil.rmtree(staged / ".doctrees", ignore_errors=True)
        (staged / ".buildinfo").unlink(missing_ok=True)
        (staged / ".nojekyll").write_text("", encoding="utf-8")  # GitHub Pages serves _static/ as it is
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(staged, out)
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    from .exitcodes import ExitCode

    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print("usage: python -m gpudock.site OUT LABEL=RUN_DIR [LABEL=RUN_DIR ...]", file=sys.stderr)
        return int(ExitCode.USAGE)
    try:
        index = build([parse_host(a) for a in args[1:]], Path(args[0]))
    except GpudockError as err:
        print(f"gpudock site: {err}", file=sys.stderr)
        return int(getattr(err, "exit_code", ExitCode.PROBLEM))
    print(index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
