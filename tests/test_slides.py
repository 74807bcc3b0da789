"""Slides: the slide plan, the Marp and reveal.js decks, measured as a presenter sees them in headless Chromium.

The layout tests measure whatever deck the current notebooks give (no fixed texts): every slide's content
fits its 1280×720 frame at readable sizes, every figure is on screen, ArrowRight reaches every slide.
Set GPUDOCK_SLIDE_SHOTS=DIR to keep a screenshot of every slide.
"""

import filecmp
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gpudock import slideplan
from gpudock.bench import plot
from tests.helpers import ROOT

NO_GPU = ROOT / "tests" / "data" / "snapshots" / "debian12-ci-no-gpu.json"
MARP = ROOT / "node_modules" / ".bin" / "marp"
BODY_MIN_PX, CODE_MIN_PX, FIGURE_TEXT_MIN_PX = 24, 16, 18
SHOTS = os.environ.get("GPUDOCK_SLIDE_SHOTS")


def gpudock(*args, cwd=ROOT, timeout=300):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "gpudock", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env
    )


def rebuild(out: Path, run: Path) -> Path:
    """slides/rebuild.sh from an executed reference run (the session's, tests/conftest.py)."""
    proc = subprocess.run(
        ["bash", str(ROOT / "slides" / "rebuild.sh"), str(out), str(run)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def decks(reference_run, tmp_path_factory):
    return rebuild(tmp_path_factory.mktemp("decks"), reference_run)


@pytest.fixture(scope="module")
def problem_decks(tmp_path_factory):
    """A host with problems (no GPU, errors with fixes): long doctor output, refused plans."""
    base = tmp_path_factory.mktemp("problem")
    proc = gpudock("run", "--snapshot", str(NO_GPU), "--out", str(base / "run"))
    assert proc.returncode in (0, 1), proc.stderr
    proc = gpudock("slides", str(base / "run"), "--out", str(base / "slides"), "--full")  # every slide, measured
    assert proc.returncode == 0, proc.stderr
    return base / "slides"


# --- the plan (no browser) ----------------------------------------------------------------------------------


def _cells(*specs):
    cells = []
    for kind, source, meta, outputs in specs:
        cell = {"cell_type": kind, "source": source, "metadata": meta}
        if kind == "code":
            cell["outputs"] = outputs
        cells.append(cell)
    return cells


def test_tags_decide_what_is_shown():
    slides = slideplan.plan(
        [
            (
                "nb",
                _cells(
                    ("markdown", "# Title\n\nintro", {"slideshow": {"slide_type": "slide"}}, None),
                    ("markdown", "[next](02.ipynb)", {"tags": ["nav"]}, None),
                    ("markdown", "typo notes", {"tags": ["static"]}, None),
                    ("code", "hidden_source()", {}, [{"output_type": "stream", "name": "stdout", "text": "out1\n"}]),
                    ("code", "shown_source()", {"tags": ["slide-show-code"]}, []),
                    ("markdown", "say this", {"slideshow": {"slide_type": "notes"}}, None),
                ),
            )
        ]
    )
    assert len(slides) == 1 and slides[0].title == "Title"
    texts = [b.text for b in slides[0].blocks]
    assert texts == ["intro", "out1", "shown_source()"] and slides[0].notes == ["say this"]


def test_an_untitled_slide_continues_the_title_before_it():
    slides = slideplan.plan(
        [
            (
                "nb",
                _cells(
                    ("markdown", "## Section\n\ntext", {"slideshow": {"slide_type": "slide"}}, None),
                    ("markdown", "more, no heading", {"slideshow": {"slide_type": "subslide"}}, None),
                ),
            )
        ]
    )
    assert [s.title for s in slides] == ["Section", "Section" + slideplan.CONTINUED]


def test_rich_box_table_becomes_a_table_with_constant_columns_in_the_caption():
    text = (
        "           bench             \n"
        "┏━━━━━━┳━━━━━━┳━━━━━┳━━━━━━━━┓\n"
        "┃ dev  ┃ name ┃ rep ┃  value ┃\n"
        "┡━━━━━━╇━━━━━━╇━━━━━╇━━━━━━━━┩\n"
        "│ gpu  │ a    │ 7   │    1.0 │\n"
        "│ H200 │      │     │  GB/s  │\n"
        "│ gpu  │ b    │ 7   │   22.5 │\n"
        "│ H200 │      │     │  GB/s  │\n"
        "└──────┴──────┴─────┴────────┘\n"
    )
    [table] = slideplan.text_blocks(text)
    assert table.kind == "table" and table.caption == "bench · dev: gpu H200 · rep: 7"
    assert table.rows == (("name", "value"), ("a", "1.0 GB/s"), ("b", "22.5 GB/s")) and table.align[-1] == "right"


def test_long_output_is_condensed_keeping_every_error_title_and_first_fix():
    lines = [f"line {i}" for i in range(200)]
    lines[150:150] = ["✗ [error] late-error: the title", "    evidence: x", "    1. the first fix", "    2. more"]
    slides = slideplan.plan([("nb", _cells(("code", "", {}, [{"output_type": "stream", "text": "\n".join(lines)}])))])
    shown = "\n".join(b.text for s in slides for b in s.blocks)
    assert "✗ [error] late-error: the title" in shown and "    1. the first fix" in shown
    assert "    2. more" not in shown and "more lines" in shown
    assert len(slides) <= slideplan.MAX_PAGES


def test_long_table_is_condensed_keeping_rows_that_report_errors():
    rows = [f"│ row{i:02d} │ {'failed: error' if i == 50 else 'ok':13} │" for i in range(60)]
    text = "\n".join(
        [
            "┏━━━━━━━┳━━━━━━━━━━━━━━━┓",
            "┃ name  ┃ status        ┃",
            "┡━━━━━━━╇━━━━━━━━━━━━━━━┩",
            *rows,
            "└───────┴───────────────┘",
        ]
    )
    slides = slideplan.plan([("nb", _cells(("code", "", {}, [{"output_type": "stream", "text": text}])))])
    tables = [b for s in slides for b in s.blocks if b.kind == "table"]
    shown = [r[0] for t in tables for r in t.rows[1:]]
    assert len(slides) <= slideplan.MAX_PAGES and "row00" in shown and "row50" in shown and "row59" not in shown
    assert "more rows" in tables[-1].footer


def test_each_figure_gets_its_own_slide():
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    outputs = [
        {"output_type": "stream", "text": "before\n"},
        {"output_type": "display_data", "data": {"image/png": png}},
    ]
    slides = slideplan.plan([("nb", _cells(("markdown", "## Results", {}, None), ("code", "", {}, outputs)))])
    figures = [s for s in slides if s.figure]
    assert len(figures) == 1 and [b.kind for b in figures[0].blocks] == ["image"] and figures[0].title == "Results"


# --- the decks' files --------------------------------------------------------------------------------------


def test_marp_deck_carries_its_theme_and_figures(decks):
    deck = (decks / "deck.md").read_text()
    front = deck.split("\n---\n", 1)[0]
    assert "marp: true" in front and "theme: default" in front and "style: |" in front and "section.gpudock" in front
    images = sorted((decks / "deck_files").glob("*.png"))
    assert images and f"](deck_files/{images[0].name})" in deck
    assert "\x1b[" not in deck and "injected-parameters" not in deck and "┏" not in deck and "│" not in deck


def test_reveal_deck_works_offline(decks):
    html = (decks / "reveal.html").read_text()
    assert 'src="reveal.js/dist/reveal.js"' in html and 'navigationMode: "linear"' in html
    assert "http://" not in html.split("<body>")[0] and "https://" not in html.split("<body>")[0]
    assert '<script src="http' not in html and "<section>\n<section" not in html
    for part in ("dist/reveal.js", "dist/reveal.css", "plugin/notes/notes.js"):
        assert (decks / "reveal.js" / part).is_file()


def test_slides_is_not_stale(decks):
    committed = (ROOT / "slides" / "deck.md").read_text()
    assert committed == (decks / "deck.md").read_text(), "slides/ is stale: run `bash slides/rebuild.sh`"
    assert sorted(p.name for p in (ROOT / "slides" / "deck_files").iterdir()) == sorted(
        p.name for p in (decks / "deck_files").iterdir()
    )


def test_rebuild_is_byte_identical(reference_run, decks, tmp_path):
    """Two builds of one run give the same bytes (and one run gives the committed deck: the test above)."""
    a, b = decks, rebuild(tmp_path / "b", reference_run)
    compare = filecmp.dircmp(a, b)

    def differences(cmp):
        found = cmp.left_only + cmp.right_only + cmp.diff_files
        return found + [d for sub in cmp.subdirs.values() for d in differences(sub)]

    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert {"deck.md", "reveal.html"} <= {str(f) for f in files}
    assert not differences(compare)
    for name in files:  # dircmp compares by stat only
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# --- CLI ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (("slides", "/nonexistent/run"), "no such run folder"),
        (("slides", "EMPTY"), "holds no executed notebooks"),
        (("slides", "EMPTY", "--format", "odp"), "invalid choice"),
    ],
)
def test_bad_run_folder_exits_2_with_one_line(tmp_path, args, message):
    args = tuple(str(tmp_path) if a == "EMPTY" else a for a in args)
    proc = gpudock(*args)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_out_folder_with_files_needs_force(reference_run, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    proc = gpudock("slides", str(reference_run), "--out", str(tmp_path), "--format", "marp")
    assert proc.returncode == 2 and "--force" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "deck.md").exists()
    proc = gpudock("slides", str(reference_run), "--out", str(tmp_path), "--format", "marp", "--force")
    assert proc.returncode == 0 and (tmp_path / "deck.md").is_file() and (tmp_path / "keep.txt").read_text() == "mine"


def test_without_run_dir_the_latest_complete_run_is_taken(reference_run, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(reference_run, runs / "20260101T000000Z")
    partial = runs / "20260102T000000Z"
    shutil.copytree(reference_run, partial)
    (partial / "03-install-driver.ipynb").unlink()
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    (runs / "20260103T000000Z").mkdir()  # an install's log folder: no summary.json, not a tutorial run
    proc = gpudock("slides", "--format", "marp", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "20260101T000000Z" in proc.stderr and "03-install-driver" not in proc.stderr
    assert (runs / "20260101T000000Z" / "slides" / "deck.md").is_file()
    proc = gpudock("slides", str(partial), "--format", "marp", cwd=tmp_path)
    assert proc.returncode == 0 and "03-install-driver" in proc.stderr and (partial / "slides" / "deck.md").is_file()


def test_pdf_without_its_tools_is_one_line_and_exit_3(reference_run, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CHROME_PATH"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gpudock",
            "slides",
            str(reference_run),
            "--out",
            str(tmp_path / "o"),
            "--format",
            "pdf",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no node_modules here; the checkout's marp-cli may be found beside the package
        env={**env, "PATH": str(tmp_path), "PYTHONPATH": str(ROOT / "src")},  # no node, no chromium
        timeout=120,
    )
    assert proc.returncode == 3 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "marp-cli" in proc.stderr or "node" in proc.stderr or "chromium" in proc.stderr.lower()
    assert not (tmp_path / "o").exists(), "nothing is written when the PDF cannot be made"


@pytest.mark.requires_browser
def test_pdf_through_marp_cli_and_chromium(reference_run, tmp_path):
    _need_marp()
    proc = gpudock("slides", str(reference_run), "--out", str(tmp_path / "o"), "--format", "pdf")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "deck.pdf").read_bytes()[:5] == b"%PDF-"


# --- in the browser ----------------------------------------------------------------------------------------------

# Per slide: the frame, its content size, the smallest text and code sizes, figures and where they are.
MEASURE = """(section) => {
  const px = (el) => parseFloat(getComputedStyle(el).fontSize);
  const visible = (el) => el.getClientRects().length > 0 && el.textContent.trim() !== '';
  const text = [...section.querySelectorAll('p, li, td, th, h1, h2, h3, blockquote')].filter(visible);
  const code = [...section.querySelectorAll('pre, pre code, code')].filter(visible);
  const inner = [...section.querySelectorAll('pre, table')].map(el => [el.scrollWidth, el.clientWidth]);
  // Marp shrinks wide code with an SVG transform: rendered size / layout size shows it
  const scales = [...section.querySelectorAll('pre, pre code, table')].filter(el => el.offsetWidth > 0)
    .map(el => el.getBoundingClientRect().width / el.offsetWidth)
    .concat([...section.querySelectorAll('marp-pre')].map(el => {
      const svg = el.shadowRoot && el.shadowRoot.querySelector('marp-auto-scaling')?.shadowRoot?.querySelector('svg');
      return svg ? svg.getBoundingClientRect().width / Math.max(svg.viewBox.baseVal.width, 1) : 1;
    }));
  return {
    frame: [section.clientWidth, section.clientHeight],
    content: [section.scrollWidth, section.scrollHeight],
    bodyPx: Math.min(...text.map(px), 999),
    codePx: Math.min(...code.map(px), 999),
    inner: inner,
    scale: Math.min(1, ...scales),
    figures: [...section.querySelectorAll('img')].map(i => {
      const r = i.getBoundingClientRect();
      return {natural: i.naturalWidth, box: [r.left, r.top, r.right, r.bottom]};
    }),
    used: Math.max(0, ...[...section.children].map(c => c.getBoundingClientRect().bottom))
          - section.getBoundingClientRect().top + parseFloat(getComputedStyle(section).paddingBottom),
    title: (section.querySelector('h1, h2, h3') || {textContent: ''}).textContent.trim(),
  };
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.conftest import browser_path

    if not browser_path():
        pytest.skip("no Chromium")  # conftest turns requires_browser into a failure in CI first
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=browser_path(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Served:
    """A folder on a local HTTP server; every request that leaves it, or fails, is recorded."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()


def _open(browser, served, page_name, outside):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.on(
        "request",
        lambda r: None if r.url.startswith(served.base) or r.url.startswith("data:") else outside.append(r.url),
    )
    page.on("requestfailed", lambda r: outside.append("failed: " + r.url))
    page.goto(served.base + page_name)
    return page


def _check_slides(measures, name):
    problems = []
    for i, m in enumerate(measures, 1):
        where = f"{name} slide {i} ({m['title'][:40]!r})"
        if m["content"][1] > m["frame"][1] or m["content"][0] > m["frame"][0]:
            problems.append(f"{where}: content {m['content']} > frame {m['frame']}")
        if m["bodyPx"] < BODY_MIN_PX or m["codePx"] < CODE_MIN_PX:
            problems.append(f"{where}: text {m['bodyPx']} px, code {m['codePx']} px")
        if m["scale"] < 0.99:
            problems.append(f"{where}: code or a table is shrunk to {m['scale']:.2f} of its size")
        if any(scroll > client + 1 for scroll, client in m["inner"]):
            problems.append(f"{where}: a code block or table is wider than its box {m['inner']}")
        for fig in m["figures"]:
            left, top, right, bottom = fig["box"]
            if fig["natural"] <= 0 or left < 0 or top < 0 or right > 1280 or bottom > 720 or right - left < 50:
                problems.append(f"{where}: figure not fully on screen: {fig}")
            elif (right - left) / fig["natural"] * plot.MIN_PT * 100 / 72 < FIGURE_TEXT_MIN_PX:  # drawn at 100 dpi
                problems.append(f"{where}: figure shrunk to {(right - left) / fig['natural']:.2f}: text under 18 px")
    return problems


def measure_reveal(browser, folder: Path, shots: str | None = None):
    outside = []
    with Served(folder) as served:
        page = _open(browser, served, "reveal.html", outside)
        page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=20000)
        page.evaluate("Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
        page.evaluate("Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
        total = page.evaluate("Reveal.getTotalSlides()")
        measures, indices = [], []
        for i in range(total):
            if i:
                page.keyboard.press("ArrowRight" if i % 2 else "Space")
            page.wait_for_timeout(30)
            indices.append(page.evaluate("Reveal.getIndices().h"))
            measures.append(page.evaluate(MEASURE, page.query_selector(".reveal .slides > section.present")))
            if shots:
                page.screenshot(path=str(Path(shots) / f"reveal-{i + 1:02d}.png"))
        last = page.evaluate("Reveal.isLastSlide()")
        scale = page.evaluate("Reveal.getScale()")
        page.close()
    return {"measures": measures, "indices": indices, "last": last, "total": total, "scale": scale, "outside": outside}


def _need_marp():
    if not MARP.exists():
        from tests.conftest import _docker_required

        if _docker_required():
            pytest.fail("CI must render the Marp deck, but marp-cli is missing: .ci/run did not run `npm ci`")
        pytest.skip("marp-cli is not installed (npm ci)")


def marp_html(folder: Path, tmp_path: Path) -> Path:
    """The deck rendered by plain `marp deck.md` (no --theme-set, no --html): what a presenter gets."""
    copy = tmp_path / "marp"
    shutil.copytree(folder, copy)
    (copy / "deck.html").unlink(missing_ok=True)
    proc = subprocess.run([str(MARP), "--no-stdin", "deck.md"], capture_output=True, text=True, cwd=copy, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return copy


def measure_marp(browser, folder: Path, shots: str | None = None):
    outside = []
    with Served(folder) as served:
        page = _open(browser, served, "deck.html", outside)
        page.wait_for_selector("svg[data-marpit-svg]")
        page.evaluate("Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
        total = page.evaluate("document.querySelectorAll('svg[data-marpit-svg]').length")
        measures = []
        for i in range(total):
            if i:
                page.keyboard.press("ArrowRight")
            page.wait_for_timeout(60)
            section = page.query_selector("svg.bespoke-marp-active section")
            measures.append(page.evaluate(MEASURE, section))
            if shots:
                page.screenshot(path=str(Path(shots) / f"marp-{i + 1:02d}.png"))
        active = page.evaluate(
            "[...document.querySelectorAll('svg[data-marpit-svg]')]"
            ".findIndex(s => s.classList.contains('bespoke-marp-active'))"
        )
        style = page.evaluate(
            """() => { const s = document.querySelector('svg[data-marpit-svg] section');
                       const h = document.querySelector('section h1, section h2');
                       return {font: getComputedStyle(s).fontFamily, heading: getComputedStyle(h).color,
                               size: getComputedStyle(s).fontSize}; }"""
        )
        page.close()
    return {"measures": measures, "active": active, "total": total, "style": style, "outside": outside}


def _shots(name):
    if not SHOTS:
        return None
    folder = Path(SHOTS) / name
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


@pytest.mark.requires_browser
@pytest.mark.parametrize("which", ["reference", "problems"])
def test_reveal_every_slide_fits_and_arrow_keys_walk_the_deck(browser, decks, problem_decks, which):
    folder = decks if which == "reference" else problem_decks
    got = measure_reveal(browser, folder, _shots(f"reveal-{which}"))
    assert got["total"] >= 10 and got["scale"] == pytest.approx(1.0)
    assert got["indices"] == list(range(got["total"])) and got["last"], "ArrowRight/Space must reach every slide"
    assert not got["outside"], f"requests outside the deck folder: {got['outside']}"
    assert not _check_slides(got["measures"], "reveal"), "\n".join(_check_slides(got["measures"], "reveal"))
    assert any(m["figures"] for m in got["measures"]) or which == "problems"


@pytest.mark.requires_browser
@pytest.mark.parametrize("which", ["reference", "problems"])
def test_marp_every_slide_fits_in_the_decks_own_theme(browser, decks, problem_decks, which, tmp_path):
    _need_marp()
    folder = marp_html(decks if which == "reference" else problem_decks, tmp_path)
    got = measure_marp(browser, folder, _shots(f"marp-{which}"))
    assert got["active"] == got["total"] - 1, "ArrowRight must reach the last slide"
    assert '"Noto Sans CJK JP"' in got["style"]["font"] and got["style"]["heading"] == "rgb(78, 122, 0)", got["style"]
    assert got["style"]["size"] == "24px"
    assert not got["outside"], f"requests outside the deck folder: {got['outside']}"
    assert not _check_slides(got["measures"], "marp"), "\n".join(_check_slides(got["measures"], "marp"))
    assert len(got["measures"]) == len(measure_count(folder))


def measure_count(folder: Path) -> list[str]:
    """The Marp deck's slides as written (parts between front matter and `---` separators)."""
    body = (folder / "deck.md").read_text().split("\n---\n\n", 1)[1]
    return body.split("\n\n---\n\n")
