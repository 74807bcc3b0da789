"""The site of the executed tutorial (gpudock.site, scripts/site), read as a reader's browser reads it.

Built once per module from replay runs: the session's reference run (the healthy H200 snapshot with the
measured results, tests/conftest.py) and the golden replays of two more hosts (tests/notebooks/golden/,
which the notebook tests keep equal to fresh replays). In headless Chromium: every page loads, every link
inside the site resolves, nothing is requested from outside it, and no page scrolls sideways at 1280 or 390 px.
"""

import re
import time
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import nbformat
import pytest

from gpudock import site
from tests.helpers import ROOT
from tests.test_slides import Served, browser  # noqa: F401  (browser is a fixture used below)

GOLDEN = ROOT / "tests" / "notebooks" / "golden"
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def built(reference_run, tmp_path_factory):
    pytest.importorskip("myst_nb")
    hosts = [
        site.Host("native-h200", reference_run),
        site.Host("wsl2", GOLDEN / "wsl2-healthy"),
        site.Host("debian12-no-gpu", GOLDEN / "debian12-ci-no-gpu"),
    ]
    out = tmp_path_factory.mktemp("site") / "html"
    started = time.monotonic()
    site.build(hosts, out)
    print(f"site built in {time.monotonic() - started:.1f} s")
    return out


def test_executed_copies_link_to_their_sibling_notebooks(reference_run):
    """runs/<time>/: each link to another notebook names its executed .ipynb beside it, and that file is there."""
    targets = []
    for path in sorted(reference_run.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                assert not re.search(r"\]\(\d\d-[\w-]+\.md", cell.source), f"{path.name} still links to a .md"
                targets += re.findall(r"\]\((\d\d-[\w-]+\.ipynb)", cell.source)
    assert len(targets) >= 14 and all((reference_run / t).is_file() for t in targets), targets


def test_relink_changes_only_links_to_the_given_notebooks():
    from gpudock.links import relink

    text = "[a](01-docker-check.md) [b](99-other.md) [c](https://x.org/01-docker-check.md) [d](02-x.md#h)"
    assert relink(text, {"01-docker-check", "02-x"}) == (
        "[a](01-docker-check.ipynb) [b](99-other.md) [c](https://x.org/01-docker-check.md) [d](02-x.ipynb#h)"
    )


def test_a_bad_host_argument_is_one_line_and_exit_2(tmp_path, capsys):
    assert site.main([str(tmp_path / "o"), "no-equals-sign"]) == 2
    assert site.main([str(tmp_path / "o"), f"x={tmp_path}"]) == 2  # a folder without executed notebooks
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("gpudock site: ") for line in err)


def test_every_notebook_is_a_page_with_its_outputs(built):
    for label, run in (("native-h200", None), ("wsl2", "wsl2-healthy"), ("debian12-no-gpu", "debian12-ci-no-gpu")):
        pages = sorted(p.stem for p in (built / label).glob("*.html"))
        names = sorted(p.stem for p in (GOLDEN / (run or "native-h200-healthy")).glob("*.ipynb"))
        assert pages == names, label
    assert str(ROOT) not in (built / "native-h200" / "01-docker-check.html").read_text()  # no parameter cells
    doctor = (built / "debian12-no-gpu" / "00-index.html").read_text()
    assert "cell_output" in doctor and "nvidia-driver-missing" in doctor
    bench = (built / "native-h200" / "06-benchmark.html").read_text()
    figures = re.findall(r'<img[^>]+src="(\.\./_images/[^"]+\.png)"', bench)
    assert len(figures) >= 4 and all((built / "native-h200" / f).resolve().is_file() for f in figures)


def _internal(base: str, page_url: str, href: str) -> str | None:
    url = urldefrag(urljoin(page_url, href))[0]
    return url if url.startswith(base) else None


@pytest.mark.requires_browser
def test_pages_load_links_resolve_nothing_from_outside_no_sideways_scroll(browser, built):  # noqa: F811
    pages = sorted(str(p.relative_to(built)) for p in built.rglob("*.html"))
    assert len(pages) >= 26
    problems, outside = [], []
    with Served(built) as served:
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.on(
                "request", lambda r, s=served: None if r.url.startswith((s.base, "data:")) else outside.append(r.url)
            )
            page.on("requestfailed", lambda r: outside.append("failed: " + r.url))
            for name in pages:
                response = page.goto(served.base + name, wait_until="load")
                if response is None or response.status != 200:
                    problems.append(f"{name}: status {response and response.status}")
                    continue
                wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if wide > 0:
                    problems.append(f"{name} at {width} px: {wide} px wider than the window")
                if width != WIDTHS[0]:
                    continue
                for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
                    url = _internal(served.base, page.url, href)
                    target = built / url[len(served.base) :] if url else None
                    if target is not None and not (target.is_file() or (target / "index.html").is_file()):
                        problems.append(f"{name}: link {href} points to nothing")
            page.close()
    assert not outside, f"requests outside the site: {sorted(set(outside))[:10]}"
    assert not problems, "\n".join(problems[:20])


@pytest.mark.requires_browser
def test_search_finds_japanese_words_and_text_is_set_in_a_cjk_font(browser, built):  # noqa: F811
    with Served(built) as served:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(served.base + "search.html?q=" + "ドライバ")
        page.wait_for_selector("ul.search li", timeout=20000)
        hits = page.eval_on_selector_all("ul.search li a", "els => els.map(e => e.getAttribute('href'))")
        assert any("03-install-driver" in h for h in hits), hits
        page.goto(served.base + "native-h200/02-nvidia-docker-history.html")
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert font.startswith('"Noto Sans CJK JP"'), font
        page.close()


def test_front_page_names_each_host(built):
    front = (built / "index.html").read_text()
    for label in ("native-h200", "wsl2", "debian12-no-gpu"):
        assert f'href="{label}/00-index.html"' in front
    assert Path(built / ".nojekyll").is_file()
