"""The docs point only at files inside the repository: every relative Markdown link resolves, and no text
names a folder outside the checkout (the team's shared notes, a machine's own paths)."""

from __future__ import annotations

import re
import subprocess

from tests.helpers import ROOT

_LINK = re.compile(r"\]\(([^)\s]+)\)")
_OUTSIDE = re.compile(r"\.\./shared/|/work/(main|shared|wt-)")


def _tracked(*patterns: str) -> list:
    out = subprocess.run(["git", "ls-files", *patterns], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    skip = ("tests/notebooks/golden/", "slides/", "src/gpudock/data/reveal.js/")
    return [ROOT / line for line in out.splitlines() if not line.startswith(skip) and (ROOT / line).is_file()]


def test_every_relative_markdown_link_resolves():
    broken = []
    for path in _tracked("*.md"):
        for target in _LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"[a-z][a-z0-9+.-]*:|#", target):  # a URL or an anchor on the same page
                continue
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_no_doc_or_source_points_outside_the_checkout():
    found = []
    for path in _tracked("*.md", "*.py", "*.sh", "*.toml", ".ci/*"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not found, found


def test_the_checks_see_what_they_look_for(tmp_path):
    assert _OUTSIDE.search("see .." + "/shared/anchors/x.md") and _OUTSIDE.search("/wo" + "rk/main/src")
    assert _LINK.findall("[a](docs/x.md) and [b](https://x)") == ["docs/x.md", "https://x"]


def test_the_readme_module_map_names_every_package_and_module():
    """README's "Where things live" has a line for each top-level module and package of src/gpudock."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Where things live", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    named = {name for cell in first_cells for name in re.findall(r"`([a-z_]+)/?`", cell)}
    src = ROOT / "src" / "gpudock"
    present = {p.stem for p in src.glob("*.py") if p.stem not in ("__init__", "__main__")}
    present |= {p.name for p in src.iterdir() if (p / "__init__.py").is_file()}
    assert present - named == set(), f"README's module map lacks {sorted(present - named)}"
    assert named - present == set(), f"README's module map names what is gone: {sorted(named - present)}"
