"""Slides: Marp markdown and offline reveal.js from executed notebooks, checked in headless Chromium."""

import functools
import http.server
import shutil
import subprocess
import sys
import threading

import pytest

from tests.helpers import ROOT

SNAPSHOT = ROOT / "tests" / "data" / "snapshots" / "native-h200-healthy.json"
RESULTS = ROOT / "docs" / "benchmarks" / "h200-host.json"
MARP = ROOT / "node_modules" / ".bin" / "marp"


def gpudock(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "gpudock", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """The reference replay run (as slides/rebuild.sh makes it), executed once for these tests."""
    run = tmp_path_factory.mktemp("slides") / "run"
    proc = gpudock("run", "--snapshot", str(SNAPSHOT), "-p", "results", str(RESULTS), "--out", str(run))
    assert proc.returncode == 0, proc.stderr
    return run


@pytest.fixture(scope="module")
def decks(reference_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("decks")
    proc = gpudock("slides", str(reference_run), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_marp_deck_structure(decks):
    deck = (decks / "deck.md").read_text()
    assert deck.startswith("---\nmarp: true\ntheme: template\n")
    assert deck.count("\n---\n") >= 20  # the deck's sections, one slide each
    assert "# 1.3. NVIDIA Docker の歴史" in deck and "injected-parameters" not in deck and 'snapshot = ""' not in deck
    images = sorted((decks / "deck_files").glob("*.png"))
    assert images and f"![png](deck_files/{images[0].name})" in deck
    assert "\x1b[" not in deck, "no ANSI escape codes in slides"
    assert "/* @theme template */" in (decks / "template.css").read_text()


def test_reveal_deck_works_offline(decks):
    html = (decks / "deck.html").read_text()
    assert 'src="reveal.js/dist/reveal.js"' in html
    for tag in ('<script src="http', '<link rel="stylesheet" href="http'):
        assert tag not in html, "nothing may load from a CDN"
    assert (decks / "reveal.js" / "dist" / "reveal.js").is_file()


def test_slides_is_not_stale(decks):
    committed = (ROOT / "slides" / "deck.md").read_text()
    assert committed == (decks / "deck.md").read_text(), "slides/ is stale: run `bash slides/rebuild.sh`"
    assert sorted(p.name for p in (ROOT / "slides" / "deck_files").iterdir()) == sorted(
        p.name for p in (decks / "deck_files").iterdir()
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (("slides", "/nonexistent/run"), "no such run folder"),
        (("slides", "EMPTY"), "holds no executed notebooks"),
        (("slides", "EMPTY", "--format", "pdf"), "invalid choice"),
    ],
)
def test_bad_run_folder_exits_2_with_one_line(tmp_path, args, message):
    args = tuple(str(tmp_path) if a == "EMPTY" else a for a in args)
    proc = gpudock(*args)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.requires_browser
def test_reveal_deck_in_headless_chromium(decks, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.conftest import browser_path

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(decks))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    failed = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=browser_path(),
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-quic",
                ],
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/deck.html")
            page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=20000)
            title = page.inner_text(".reveal .slides section h1")
            sizes = page.evaluate(
                "Promise.all([...document.images].map(i => i.decode().then(() => i.naturalWidth, () => 0)))"
            )
            page.screenshot(path=str(tmp_path / "first-slide.png"))
            browser.close()
    finally:
        server.shutdown()
    assert "WSL + DOCKER + GPU (2)" in title.upper()
    assert sizes and all(width > 0 for width in sizes), f"benchmark figure did not load: {sizes}"
    assert not [url for url in failed if not url.endswith("favicon.ico")], failed
    assert (tmp_path / "first-slide.png").stat().st_size > 10_000


@pytest.mark.requires_browser
def test_marp_cli_renders_the_deck(decks, tmp_path):
    if not MARP.exists():
        from tests.conftest import _docker_required

        if _docker_required():
            pytest.fail("CI must render the Marp deck, but marp-cli is missing: .ci/run did not run `npm ci`")
        pytest.skip("marp-cli is not installed (npm install)")
    shutil.copytree(decks, tmp_path / "deck", dirs_exist_ok=True)
    proc = subprocess.run(
        [str(MARP), "--no-stdin", "--theme-set", "template.css", "--html", "deck.md", "-o", "deck-marp.html"],
        capture_output=True,
        text=True,
        cwd=tmp_path / "deck",
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "deck" / "deck-marp.html").read_text()
    assert "1.3. NVIDIA Docker の歴史" in html and 'lang="ja"' in html and "deck_files/" in html
