"""The review's text faults stay fixed: notebooks 00-07 and the README carry no outdated advice."""

import re

import pytest

from tests.helpers import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[0-7]-*.md"))
PROSE_FILES = [*NOTEBOOKS, ROOT / "README.md", *(ROOT / "src" / "gpudock").rglob("*.py")]


def prose(path):
    """Markdown text outside code fences (the deck's quoted English and commands excluded)."""
    text = path.read_text(encoding="utf-8")
    return re.sub(r"```.*?```", "", text, flags=re.S)


@pytest.mark.parametrize(
    "outdated",
    [
        r"WSL's default",  # O1: Ubuntu from `wsl --install` may well run systemd
        r"WSL の既定",
        r"nvidia-docker2[^\n]{0,80}(meta package|メタパッケージ)",  # O2: not published since toolkit 1.15.0
        r"cuda-toolkit-12-x",  # O7
        r"pkill -",  # H5: never stop a daemon by name
        r"as in the deck",  # H3: cuda-drivers is no longer the default
    ],
)
def test_no_outdated_advice(outdated):
    for path in PROSE_FILES:
        assert not re.search(outdated, path.read_text(encoding="utf-8")), (path.name, outdated)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_prose_is_in_the_decks_voice(path):
    text = prose(path)
    quoted = re.sub(r"「[^」]*」", "", text)  # the deck's own quotation (適当訳) keeps its です／ます
    assert not re.search(r"[、。]", text), "the deck writes 「，．」"
    assert not re.search(r"(です|ます|でした|ません)[．。]", quoted), "the deck writes である調"
    for inconsistent in ("もとのスライド", "デッキ", "画面写真", "第一世代"):
        assert inconsistent not in text, inconsistent


def test_the_typo_notes_are_one_line_at_the_end_of_the_index():
    for path in NOTEBOOKS:
        text = path.read_text(encoding="utf-8")
        assert "誤字を修正" not in text, path.name
    index = (ROOT / "notebooks" / "00-index.md").read_text(encoding="utf-8")
    before_navigation = index.rsplit('<!-- #region tags=["nav"]', 1)[0].rstrip().splitlines()
    assert "誤字" in "\n".join(before_navigation[-3:])  # the last cell before the table of contents
    assert index.count("誤字") == 1


@pytest.mark.parametrize("path", NOTEBOOKS[1:6], ids=[p.stem for p in NOTEBOOKS[1:6]])
def test_every_live_notebook_shows_todays_commands_as_static_blocks(path):  # 01-05: the deck's steps
    text = path.read_text(encoding="utf-8")
    live = len(re.findall(r'```python tags=\["nbval-check-output"\]', text))
    static = len(re.findall(r"```console\n(?:(?!```).)*?\$ ", text, flags=re.S))
    assert live and static >= live, (live, static)
