"""Slides from a run folder that came from elsewhere (a tarball, a shared runs/): every sink escaped,
every read bounded, nothing written through a link, linear work. Review holes M1, M2, M5, M6, L10, L11.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import threading
import time
from pathlib import Path

import nbformat
import pytest
from markdown_it import MarkdownIt

from gpudock import slideplan, slides
from gpudock.exceptions import GpudockError

BREAKOUT = "Hello\n   ```\n![w:900](/etc/gpudock-secret.png)\n# INJECTED"  # the review's probe output


def _notebook(folder: Path, name: str, cells: list) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    path = folder / f"{name}.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def _output_cell(text: str, **meta):
    cell = nbformat.v4.new_code_cell("print(...)", metadata=meta)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return cell


def _run(tmp_path: Path, *cells) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text("[]")
    _notebook(run, "01-docker-check", [nbformat.v4.new_markdown_cell("## Docker"), *cells])
    return run


def _fences(deck: str):
    return [t for t in MarkdownIt("commonmark").parse(deck) if t.type == "fence"]


def test_probe_text_never_leaves_its_code_fence(tmp_path):
    """M1: a line `   ```` closed the fence (CommonMark allows 3 spaces before a closing fence)."""
    for text in (BREAKOUT, "a\n   ```\n# x", "````\n```` \n# x", "~~~\n# x", "`" * 40 + "\n# x"):
        deck = slides._fence(text, "text")
        tokens = MarkdownIt("commonmark").parse(deck)
        assert [t.type for t in tokens] == ["fence"] and tokens[0].content == text + "\n", text
    assert slides._fence("x", "py`\n# x").startswith("```text\n")  # an info string with a backtick


def test_a_breakout_in_a_real_deck_stays_text(tmp_path):
    out = tmp_path / "out"
    slides.export(_run(tmp_path, _output_cell(BREAKOUT)), "marp", out, full=True)
    deck = (out / "deck.md").read_text()
    tokens = MarkdownIt("commonmark").parse(deck)
    assert not [t for t in tokens if t.type == "heading_open" and "INJECTED" in tokens[tokens.index(t) + 1].content]
    assert any("/etc/gpudock-secret.png" in t.content for t in _fences(deck))


@pytest.mark.parametrize(
    "markdown",
    [
        "<style>section { background: url(http://127.0.0.1:9/beacon.png) }</style>",  # Marp reads <style> always
        "<!-- backgroundImage: url(http://127.0.0.1:9/beacon.png) -->",  # Marp reads comments as directives
        "see ![bg](http://127.0.0.1:9/beacon.png)",
        "![](/etc/gpudock-secret.png)",
        "<img src=x onerror=alert(1)>",
    ],
)
def test_markdown_that_would_act_in_a_deck_is_shown_as_source(tmp_path, markdown):
    run = _run(tmp_path, nbformat.v4.new_markdown_cell(markdown))
    out = tmp_path / "out"
    slides.export(run, "both", out, full=True)
    deck = (out / "deck.md").read_text()
    assert any(markdown in t.content for t in _fences(deck)), deck[-800:]
    page = (out / "reveal.html").read_text()
    assert "http://127.0.0.1:9" not in page.replace("&quot;", '"').split("<pre>")[0]
    assert '<img src="http' not in page and "<style>section" not in page


def test_notes_are_never_marp_directives():
    deck = slides.marp_markdown([slideplan.Slide("T", notes=["backgroundImage: url(http://127.0.0.1:9/b.png)\n-->"])])
    note = deck.split("<!--\n", 1)[1].split("\n-->", 1)[0]
    assert "-->" not in note
    import yaml

    with pytest.raises(yaml.YAMLError):  # a scalar then a mapping: never a mapping of directives
        yaml.safe_load(note)


def test_reveal_deck_has_a_content_security_policy(tmp_path):
    out = tmp_path / "out"
    slides.export(_run(tmp_path, _output_cell("x")), "reveal", out, full=True)
    head = (out / "reveal.html").read_text().split("</head>")[0]
    assert 'http-equiv="Content-Security-Policy"' in head
    policy = head.split('http-equiv="Content-Security-Policy" content="')[1].split('"')[0]
    assert "default-src 'none'" in policy and "img-src 'self' file: data:" in policy and "http" not in policy


def test_a_slides_link_in_the_run_folder_is_refused_and_nothing_is_deleted(tmp_path):
    """M2: `slides` followed RUN/slides -> elsewhere and deleted reveal.js/ and deck_files/ there."""
    run = _run(tmp_path, _output_cell("x"))
    victim = tmp_path / "victim"
    (victim / "reveal.js" / "dist").mkdir(parents=True)
    (victim / "deck_files").mkdir()
    (victim / "reveal.js" / "dist" / "x.js").write_text("mine")
    (victim / "deck.md").write_text("mine")
    (run / "slides").symlink_to(victim)
    with pytest.raises(GpudockError, match="symlink"):
        slides.export(run, "both", full=True)
    assert (victim / "reveal.js" / "dist" / "x.js").read_text() == "mine" and (victim / "deck.md").read_text() == "mine"
    (run / "slides").unlink()
    (run / "slides" / "deck_files").mkdir(parents=True)
    os.rmdir(run / "slides" / "deck_files")
    (run / "slides" / "deck_files").symlink_to(victim / "deck_files")  # a link inside: removed, not followed
    (victim / "deck_files" / "keep.png").write_text("mine")
    slides.export(run, "marp", full=True)
    assert (victim / "deck_files" / "keep.png").exists() and not (run / "slides" / "deck_files").is_symlink()


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "outside", "huge"])
def test_special_notebooks_are_refused_at_once(tmp_path, kind, monkeypatch):
    """M5: a notebook that is /dev/zero was read until memory ran out; a FIFO hung forever."""
    run = _run(tmp_path, _output_cell("x"))
    bad = run / "02-bad.ipynb"
    if kind == "dev-zero":
        bad.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(bad)
    elif kind == "outside":
        (tmp_path / "elsewhere.ipynb").write_text((run / "01-docker-check.ipynb").read_text())
        bad.symlink_to(tmp_path / "elsewhere.ipynb")
    else:
        monkeypatch.setattr(slides, "MAX_NOTEBOOK_BYTES", 1000)
        bad.write_text("x" * 2000)
    started = time.monotonic()
    with pytest.raises(GpudockError) as err:
        slides.export(run, "marp", tmp_path / "out", full=True)
    assert time.monotonic() - started < 5 and "02-bad.ipynb" in str(err.value)


def test_bad_image_data_is_one_line(tmp_path):
    """L11: image/png that is not base64 ended in a binascii.Error traceback."""
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "not base64 at all!"})]
    with pytest.raises(GpudockError, match="not valid base64"):
        slides.export(_run(tmp_path, cell), "marp", tmp_path / "out", full=True)


def test_condensing_is_linear():
    """M6: 8,000 output lines took 256 s (every cut re-measured the whole text)."""
    timings = []
    for n in (4_000, 16_000):
        text = "\n".join(f"line {i} " + "x" * (i % 50) for i in range(n))
        started = time.monotonic()
        deck = slideplan.plan([("nb", [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [
            {"output_type": "stream", "name": "stdout", "text": text}]}])])  # fmt: skip
        timings.append(time.monotonic() - started)
        assert len(deck) <= slideplan.MAX_PAGES and "more lines" in deck[-1].blocks[-1].text
    assert timings[1] < 8, timings  # 16,000 lines in seconds, not hours (8,000 took 256 s)
    assert timings[1] < 10 * max(timings[0], 0.05), timings  # 4x the input, not 16x the time


def test_a_hostile_code_block_is_condensed_not_paginated_forever():
    source = "```\n" + "\n".join(f"row {i}" for i in range(20_000)) + "\n```"
    started = time.monotonic()
    deck = slideplan.plan([("nb", [{"cell_type": "markdown", "source": source, "metadata": {}}])])
    assert time.monotonic() - started < 8 and len(deck) <= slideplan.MAX_BLOCK_PAGES


@pytest.mark.requires_browser
def test_the_pdf_of_a_tampered_run_reads_no_local_file_and_fetches_nothing(tmp_path):
    """M1 end to end: marp-cli rendered the escaped Markdown, embedded local pictures and fetched URLs."""
    if not slides.find_marp().exists():
        pytest.skip("marp-cli not installed (npm ci)")
    hits: list[str] = []

    class Beacon(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Beacon)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    picture = tmp_path / "local.png"
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    picture.write_bytes(base64.b64decode(png))
    hostile = f"Hello\n   ```\n![]({url}/beacon.png)\n![w:900]({picture})\n# INJECTED"
    run = _run(
        tmp_path,
        _output_cell(hostile),
        nbformat.v4.new_markdown_cell(f"<style>section {{ background: url({url}/style.png) }}</style>"),
        nbformat.v4.new_markdown_cell(f"<!-- backgroundImage: url({url}/directive.png) -->\n\n![bg]({url}/bg.png)"),
    )
    try:
        slides.export(run, "pdf", tmp_path / "out", full=True)
    finally:
        server.shutdown()
    assert (tmp_path / "out" / "deck.pdf").read_bytes()[:5] == b"%PDF-"
    assert hits == []
    assert json.dumps(str(picture))[1:-1].encode() not in (tmp_path / "out" / "deck.pdf").read_bytes()
