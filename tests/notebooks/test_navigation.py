"""Navigation between the notebooks: Markdown links (JupyterLab, GitHub) in cells tagged `nav` that slides leave out."""

import re
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))
LINK = re.compile(r"\[[^\]]+\]\(([^)\s]+)\)")


def _nav_cells(path: Path) -> list:
    return [c for c in jupytext.read(path).cells if "nav" in c.metadata.get("tags", [])]


def test_the_index_links_every_notebook():
    index = ROOT / "notebooks" / "00-index.md"
    linked = [target for cell in _nav_cells(index) for target in LINK.findall(cell.source)]
    assert set(linked) == {p.name for p in NOTEBOOKS[1:]}, linked
    for target in linked:
        assert (index.parent / target).is_file(), target


def test_each_notebook_ends_with_a_link_to_the_next():
    for path, following in zip(NOTEBOOKS, NOTEBOOKS[1:] + [None], strict=True):
        last = jupytext.read(path).cells[-1]
        assert "nav" in last.metadata.get("tags", []), f"{path.name} does not end with a navigation cell"
        assert last.cell_type == "markdown" and last.metadata.get("slideshow", {}).get("slide_type") == "skip"
        targets = LINK.findall(last.source)
        expected = following.name if following else "00-index.md"
        assert expected in targets, f"{path.name} should link {expected}: {last.source!r}"


def test_cells_that_can_change_the_host_carry_a_warning_before_their_parameters():
    for path in NOTEBOOKS:
        cells = jupytext.read(path).cells
        parameters = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
        if "apply = " not in cells[parameters].source:
            continue
        warning = cells[parameters - 1]
        assert "warning" in warning.metadata.get("tags", []), f"{path.name}: no warning before apply"
        assert "apply = True" in warning.source and "sudo" in warning.source
        assert re.search(r"gpudock install \w+ --apply", warning.source)


def test_slides_leave_navigation_out(tmp_path):
    """The decks drop cells tagged nav (the committed slides/deck.md has none of their links)."""
    deck = (ROOT / "slides" / "deck.md").read_text()
    for path in NOTEBOOKS:
        for cell in _nav_cells(path):
            assert cell.source.strip() not in deck
    # the index's nav line; `gpudock lab` itself is content too (04: restart it after joining the docker group)
    assert "](01-docker-check.md)" not in deck and "JupyterLab で読むには `gpudock lab`" not in deck
