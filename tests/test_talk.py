"""The talk (gpudock slides without --full), soft breaks and strikethrough, and the PDF's Japanese font checks.

The talk is read from the session's reference run (tests/conftest.py: the healthy H200 replay with the
measured results) and from the golden replay of a host without a GPU; nothing here fixes a slide's text.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from gpudock import pdffonts, slides, talk
from gpudock.softbreaks import join_soft_breaks
from tests.helpers import ROOT

NO_GPU = ROOT / "tests" / "notebooks" / "golden" / "debian12-ci-no-gpu"
SEED_FLOW = ["1.1.", "1.2.", "1.3. ", "1.3.2.", "1.3.3.", "このホスト", "1.4.", "確認", "ベンチマーク"]


def _talk(folder: Path):
    notebooks = sorted(folder.glob("[0-9][0-9]-*.ipynb"))
    return slides.deck_plan(notebooks, full=False), notebooks


def _texts(slide) -> str:
    return "\n".join([slide.title, *(b.text or " ".join(c for r in b.rows for c in r) for b in slide.blocks)])


def test_talk_follows_the_seed_decks_flow_in_at_most_20_slides(reference_run):
    deck, notebooks = _talk(reference_run)
    assert len(deck) <= talk.MAX_SLIDES < len(slides.deck_plan(notebooks, full=True))
    titles = [s.title for s in deck]
    assert titles[0] == talk.TITLE and titles[-1] == "まとめ" and "今日はここまで" in _texts(deck[-1])
    positions = [next(i for i, t in enumerate(titles) if t.startswith(step)) for step in SEED_FLOW]
    assert positions == sorted(positions), titles
    assert [t[:3] for t in titles if t.startswith("(")] == ["(a)", "(b)", "(c)", "(d)"]
    assert not [s for s in deck if s.source.startswith("07")], "the fleet replay's hosts are not this host"
    assert all(s.title for s in deck) and not [t for t in titles if t.endswith("（続き）")]


def test_what_a_slide_leaves_out_is_in_its_notes(reference_run):
    deck, _ = _talk(reference_run)
    run = talk.read_run([(p.stem, slides.read_notebook(p).cells) for p in sorted(reference_run.glob("*.ipynb"))], None)
    hello = next(s for s in deck if s.title.startswith("1.1."))
    for block in [b for s in run.find("01", "1.1") for b in s.blocks]:
        carried = block in hello.blocks or any(block.text.strip() in note for note in hello.notes)
        assert carried or block.kind == "text", f"1.1 drops {block.text[:60]!r}"
    for block in [b for s in run.find("01", "1.1") for b in s.blocks if b.kind == "text"]:
        assert any(block.text.strip() in note for note in hello.notes) or any(
            block.text.strip() == b.text.strip() for b in hello.blocks
        )
    assert all(s.notes for s in deck), [s.title for s in deck if not s.notes]


def test_the_payoff_slide_shows_the_measured_container_and_sample_figures(reference_run):
    measured = json.loads((ROOT / "docs" / "benchmarks" / "h200-host.json").read_text())
    rows = measured["results"] if isinstance(measured, dict) else measured
    want = {
        (r["where"], r["precision"]): r["value"]
        for r in rows
        if r.get("name") == "nbody" and r.get("where") in ("container", "reference")
    }
    deck, _ = _talk(reference_run)
    table = next(b for s in deck for b in s.blocks if b.kind == "table" and "nbody" in s.title)
    shown = " ".join(c for r in table.rows for c in r)
    for (where, precision), value in want.items():
        assert f"{value:,.0f}" in shown, (where, precision, value)
    ratio = want[("container", "fp32")] / want[("reference", "fp32")]
    assert f"{ratio:.2f}×" in shown


def test_a_host_without_a_gpu_gets_a_sentence_not_blank_figures():
    deck, _ = _talk(NO_GPU)
    assert len(deck) <= talk.MAX_SLIDES
    assert not [s for s in deck if s.figure], "a CPU-only talk shows no figure slides"
    ending = _texts(deck[-1])
    assert "測れなかった図" in ending and "(b)" in ending


def test_soft_breaks_are_joined_and_block_structure_kept():
    kept = "\n\n```\nx\ny\n```\n| t |\n| u |\nhard  \nbreak"  # code, table rows, a hard break
    source = "古くなった．\nこのノートブック\nand\nthen\n\n- item\n  more\n- two\n\n> a\n> b" + kept
    assert join_soft_breaks(source) == "古くなった．このノートブック and then\n\n- item more\n- two\n\n> a b" + kept


def _bodies(deck_md: str) -> list[str]:
    """Each slide's Markdown without its speaker notes (HTML comments)."""
    body = deck_md.split("\n---\n\n", 1)[1]
    return [re.sub(r"<!--.*?-->", "", part, flags=re.S) for part in body.split("\n\n---\n\n")]


def test_committed_talk_has_no_break_in_mid_sentence_and_reveal_strikes_through():
    deck_md = (ROOT / "slides" / "deck.md").read_text()
    for i, part in enumerate(_bodies(deck_md), 1):
        assert join_soft_breaks(part) == part, f"slide {i} keeps a soft line break (Marp shows it as <br>)"
    html = (ROOT / "slides" / "reveal.html").read_text()
    assert "~~" not in re.sub(r"<aside.*?</aside>", "", html, flags=re.S) and "<s>" in html


def test_committed_slides_are_the_talk():
    assert len(_bodies((ROOT / "slides" / "deck.md").read_text())) <= talk.MAX_SLIDES


# --- the PDF's Japanese font --------------------------------------------------------------------------------

FONTCONF = """<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>"""


def _dejavu_only(tmp_path: Path) -> dict:
    """An environment whose fontconfig knows DejaVu only: what a stock WSL Ubuntu has."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(FONTCONF.format(cache=tmp_path / "fc-cache"))
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def test_pdf_without_a_cjk_font_is_exit_3_naming_the_package(reference_run, tmp_path, monkeypatch):
    from tests.test_slides import gpudock

    if not Path("/usr/share/fonts/truetype/dejavu").is_dir() or not pdffonts.cjk_fonts():
        pytest.skip("needs fontconfig with DejaVu and a CJK font (.ci/run installs both)")
    monkeypatch.setenv("FONTCONFIG_FILE", _dejavu_only(tmp_path)["FONTCONFIG_FILE"])
    proc = gpudock("slides", str(reference_run), "--out", str(tmp_path / "o"), "--format", "pdf", timeout=120)
    assert proc.returncode == 3 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "fonts-noto-cjk" in proc.stderr and not (tmp_path / "o" / "deck.pdf").exists()


@pytest.mark.requires_browser
def test_missing_glyphs_are_found_in_a_pdf_chromium_made_without_a_cjk_font(tmp_path):
    from tests.conftest import browser_path

    page = tmp_path / "page.html"
    page.write_text('<html lang="ja"><body><p>日本語の文字 and Latin</p></body></html>', encoding="utf-8")

    def pdf(name: str, env: dict) -> bytes:
        target = tmp_path / name
        subprocess.run(
            [browser_path(), "--headless", "--no-sandbox", "--disable-gpu", f"--print-to-pdf={target}", str(page)],
            capture_output=True,
            env=env,
            timeout=120,
        )
        return target.read_bytes()

    tofu = pdf("tofu.pdf", _dejavu_only(tmp_path))
    assert pdffonts.missing_glyphs(tofu) >= 6  # 日本語の文字: six boxes
    with pytest.raises(pdffonts.MissingTool, match="fonts-noto-cjk"):
        pdffonts.check_pdf(tofu)
    if pdffonts.cjk_fonts():
        assert pdffonts.missing_glyphs(pdf("ok.pdf", dict(os.environ))) == 0
