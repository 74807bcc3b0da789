"""The tutorial's text stays right for a WSL 2 reader in 2026 (review-2026-12/content.md, issue 26).

Each test guards one harmful or wrong fact the review found: it fails on the text as it was.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import jupytext
import pytest

from gpudock.fixes import DOCS
from tests.helpers import ROOT, SNAPSHOTS

NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.md"))
README = ROOT / "README.md"
DIARY = "https://github.com/rurusasu/Diary/blob/master/"
IMAGES = "https://github.com/rurusasu/Diary/blob/master/%E7%94%BB%E5%83%8F/0910/"
DECK_IMAGES = (
    "benchmark_1.png",
    "NVIDIA_Container_Toolkit.png",
    "CUDA-toolkit.png",
    "CUDA-toolkit_2.png",
    "CUDA-toolkit-install_1.png",
    "CUDA-toolkit-install_2.png",
    "CUDA-toolkit-install_3.png",
    "CUDA-toolkit-install_4.png",
)
# A Linux NVIDIA driver install: what WSL 2 must never run (NVIDIA's CUDA on WSL guide).
DRIVER_INSTALL = re.compile(r"apt(-get)? (-y )?install (-y )?(nvidia-open|cuda-drivers|nvidia-driver-pinning)")
NATIVE_ONLY_LABEL = "ネイティブ Linux のみ．WSL 2 では実行しない"


def text(path) -> str:
    return path.read_text(encoding="utf-8")


def markdown_cells(path):
    return [c.source for c in jupytext.read(path).cells if c.cell_type == "markdown"]


def console_blocks(source: str) -> list[str]:
    return re.findall(r"```console\n(.*?)```", source, flags=re.S)


def prose(source: str) -> str:
    return re.sub(r"```.*?```", "", source, flags=re.S)


def test_driver_commands_are_labelled_native_linux_only_where_they_stand():
    """H1: both driver blocks of 03 (the 2020 one and today's) say they are not for WSL 2, in their heading."""
    labelled = 0
    for path in NOTEBOOKS:
        for cell in markdown_cells(path):
            if any(DRIVER_INSTALL.search(block) for block in console_blocks(cell)):
                heading = next(line for line in cell.splitlines() if line.startswith("#"))
                assert NATIVE_ONLY_LABEL in heading, (path.name, heading)
                labelled += 1
    assert labelled == 2
    driver = text(ROOT / "notebooks" / "03-install-driver.md")
    assert "元のスライドはこの手順を WSL 2 の中で実行していた" in driver  # and why that was wrong even then


def test_nothing_says_the_decks_screenshots_are_lost():
    """F2, F3: the deck and its images are public in the author's repository."""
    for path in [*NOTEBOOKS, README, *(ROOT / "docs").glob("*.md")]:
        body = text(path)
        assert not re.search(r"失われ|screenshots? (are|were|is) (gone|lost)", body), path.name
    assert "ベンチマークまでは進まなかった" in text(ROOT / "notebooks" / "06-benchmark.md")


def test_every_deck_image_and_the_deck_itself_are_linked_never_copied():
    notebooks = "".join(text(p) for p in NOTEBOOKS)
    for name in DECK_IMAGES:
        assert f"]({IMAGES}{name})" in notebooks, name
    assert f"({DIARY}2020_0910.md)" in text(ROOT / "notebooks" / "00-index.md")
    copied = [p for p in ROOT.rglob("*.png") if p.name in DECK_IMAGES and ".venv" not in p.parts]
    assert not copied, copied  # the repository has no license: link, never copy


def test_apt_key_del_is_guarded_where_apt_key_no_longer_exists():
    """O2: apt-key is gone from Debian 13 and Ubuntu 26.04; O1: say when it went."""
    files = [*NOTEBOOKS, README, *(ROOT / "src" / "gpudock").rglob("*.py")]
    for path in files:
        for line in text(path).splitlines():
            if "sudo apt-key del" in line:  # prescribed, not mentioned
                assert "command -v apt-key" in line, (path.name, line)
    driver = text(ROOT / "notebooks" / "03-install-driver.md")
    assert "Debian 12 / Ubuntu 24.04 を最後に" in driver and "Ubuntu 22.04 以降で警告" not in driver


def test_the_driver_branch_is_pinned_first_in_its_own_transaction():
    """O3, C1: nvidia-driver-pinning-<branch>, then the unversioned meta package; never both in one apt-get."""
    for path in [*NOTEBOOKS, README]:
        for line in text(path).splitlines():
            if "nvidia-driver-pinning-" in line and re.search(r"apt(-get)? .*install", line):
                assert not re.search(r"nvidia-driver-pinning-\S+\s+(cuda-drivers|nvidia-open)", line), line
            assert not re.search(r"install -y cuda-drivers-\d", line), (path.name, line)
    block = next(b for b in console_blocks(text(ROOT / "notebooks" / "03-install-driver.md")) if "nvidia-open" in b)
    lines = block.splitlines()
    pin = next(i for i, line in enumerate(lines) if "install -y nvidia-driver-pinning-580" in line)
    assert re.search(r"install -y cuda-drivers\s", lines[pin + 1])


def test_windows_10_is_never_presented_as_current():
    """O4: Windows 10 left support on 2025-10-14; NVIDIA's WSL guide targets Windows 11."""
    for path in [*NOTEBOOKS, *(ROOT / "src" / "gpudock").rglob("*.py")]:
        lines = ["", *text(path).splitlines(), ""]
        for before, line, after in zip(lines, lines[1:], lines[2:], strict=False):
            if "Windows 10" in line and "21H2" in line:
                said = before + line + after  # a sentence wrapped over lines of code
                assert "Windows 11" in said and re.search(r"2025|サポートが終了", said), (path.name, line)


def test_systemd_in_wsl_is_stated_not_hedged():
    """O5: Microsoft: systemd is the default for the Ubuntu that `wsl --install` installs."""
    docker = text(ROOT / "notebooks" / "04-install-docker.md")
    assert "systemd で起動することが多い" not in docker and "既定で systemd で起動する" in docker


def test_the_cdi_link_is_the_engines_page_not_buildx():
    """O7."""
    assert DOCS["dockerd_cdi"] == "https://docs.docker.com/reference/cli/dockerd/#configure-cdi-devices"
    assert not [url for url in DOCS.values() if "build/building/cdi" in url]  # Buildx's page, not the Engine's
    assert not list(filter(lambda p: "build/building/cdi" in text(p), NOTEBOOKS))


def _pasted(block: str) -> str:
    """A console block as a reader pastes it: prompts dropped, heredoc bodies and continuations kept."""
    lines = [line[2:] if line.startswith("$ ") else line for line in block.splitlines() if not line.startswith("PS>")]
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash to parse the blocks")
def test_every_console_block_is_valid_shell_when_pasted():
    """O8: 04's docker-ce block was a `sudoedit` with the deb822 fields in a comment: not pasteable."""
    blocks = [(p.name, b) for p in NOTEBOOKS for c in markdown_cells(p) for b in console_blocks(c) if "$ " in b]
    assert len(blocks) >= 15
    for name, block in blocks:  # one at a time: an unclosed heredoc must not hide behind the next block
        script = _pasted(block)
        proc = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, (name, proc.stderr, script)
        assert "sudoedit" not in script, name


def test_dockers_own_order_desktop_first_then_remove_update_install():
    """O8, S3, C5: Desktop users are told to skip 04/05 before any command; then Docker's documented order."""
    docker = text(ROOT / "notebooks" / "04-install-docker.md")
    skip = docker.index("Docker Desktop を使う場合（WSL 2）は，このノートブックと 05 を飛ばす")
    assert skip < docker.index("```console")
    block = next(b for b in console_blocks(docker) if "docker-ce" in b)
    remove = block.index("sudo apt remove $(dpkg --get-selections docker.io")
    update = block.index("sudo apt update")
    install = block.index("sudo apt install")
    assert remove < update < install
    assert "tee /etc/apt/sources.list.d/docker.sources <<EOF" in block
    assert "Signed-By: /etc/apt/keyrings/docker.asc" in block
    assert "新しく入れるならこちらを勧める" in docker  # one recommendation for the Engine path


def test_the_docker_group_needs_a_new_login_and_the_text_says_how_on_wsl():
    """H2, S5, S6 (the reader's side; the doctor's `docker-group-pending` is issue 21's)."""
    docker = text(ROOT / "notebooks" / "04-install-docker.md")
    assert "wsl --terminate" in docker and "gpudock lab` も起動し直す" in docker and "docker-group-pending" in docker


def test_the_13_3_diagram_is_restated_where_it_matters_most():
    """F4: the host needs only the driver; CUDA comes in the image; on WSL 2 that driver is Windows'."""
    history = text(ROOT / "notebooks" / "02-nvidia-docker-history.md")
    driver = text(ROOT / "notebooks" / "03-install-driver.md")
    assert "ホストに要るのは NVIDIA ドライバだけで，CUDA Toolkit はコンテナイメージの中にある" in history
    wsl_box = driver.split("> **WSL 2 の場合（2026）**", 1)[1].split("<!-- #endregion -->", 1)[0]
    assert "ホストに要るのはドライバだけで，CUDA はコンテナイメージの中にある" in wsl_box
    assert "スクリーンショット `NVIDIA_Container_Toolkit.png`" not in history  # a diagram, not a screenshot


def test_the_wsl_readers_two_paths_are_in_the_index_with_windows_side_checks():
    """S1, S2: Windows 11, Docker Desktop or Docker Engine in Ubuntu 24.04, and how to see the driver from WSL."""
    index = text(ROOT / "notebooks" / "00-index.md")
    assert "Docker Desktop を使う" in index and "Ubuntu 24.04 の中に Docker Engine を入れる" in index
    for check in ("PS> nvidia-smi", "wsl --update", "wsl --version", "/usr/lib/wsl/lib/libcuda.so.1"):
        assert check in index, check


def test_faithfulness_the_conclusion_and_additions_are_marked():
    """F1 (1.1's conclusion), F6 (no 「ベンチマーク」 deck section), F8 (nbody is an addition), F7 (own slide)."""
    assert "その結果，Docker は正常に動作していることを確認した．" in text(ROOT / "notebooks" / "01-docker-check.md")
    index = text(ROOT / "notebooks" / "00-index.md")
    assert "| `06-benchmark` | ベンチマーク |" not in index
    nbody = text(ROOT / "notebooks" / "06-benchmark.md").split("## NVIDIA の nbody サンプル", 1)[1]
    assert "元のスライドにはないコマンドである" in nbody.split("```", 1)[0]
    cells = jupytext.read(ROOT / "notebooks" / "03-install-driver.md").cells
    ending = next(c for c in cells if "今日はここまで" in c.source)
    assert ending.metadata["slideshow"]["slide_type"] == "slide" and ending.source.startswith("## ")
    deck = text(ROOT / "slides" / "deck.md")  # the committed talk: the ending never under a 「続き」 title
    assert "今日はここまで．" in deck and not re.search(r"（続き）\n\n(?:[^#]*\n)?今日はここまで", deck)


def test_link_titles_are_japanese():
    """C8: 02 translated its link titles, 03, 04 and 05 did not."""
    for path in NOTEBOOKS:
        english = re.findall(r"(?<!`)\[([A-Za-z][A-Za-z ()]*)\]\(https?://", prose(text(path)))
        assert not english, (path.name, english)


def test_the_index_says_gpudocks_own_output_is_english_and_why():
    index = prose(text(ROOT / "notebooks" / "00-index.md"))
    assert "gpudock の出力は英語である" in index and "検索" in index


# --- one Japanese pass in the deck's voice ------------------------------------------------------

SPELLINGS = {  # one spelling per term: the deck's ドライバ／マネージャ (no ー after -er), Container Toolkit
    "ドライバー": "ドライバ",
    "ユーザー": "ユーザ",
    "サーバー": "サーバ",
    "クラスター": "クラスタ",
    "パラメーター": "パラメータ",
    "フォルダー": "フォルダ",
    "マネージャー": "マネージャ",
    "ツールキット": "Toolkit",
    "再生": "再現",
    "純粋な": "副作用のない",
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_one_spelling_per_term_and_full_width_punctuation(path):
    body = prose(text(path))
    for wrong, right in SPELLINGS.items():
        assert wrong not in body, f"{path.name}: {wrong} (write {right})"
    code_free = re.sub(r"`[^`\n]*`|\[[^\]]*\]\([^)]*\)|https?://\S+", "", body)
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff）」] ?:", code_free), f"{path.name}: ASCII ':' after Japanese"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_parameter_comments_are_japanese(path):
    """The cells readers edit explain themselves in the notebook's language."""
    params = next(c for c in jupytext.read(path).cells if "parameters" in c.metadata.get("tags", []))
    for line in params.source.splitlines():
        comment = line.split("#", 1)[1] if "#" in line else ""
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", comment), (path.name, line)


def test_the_readme_example_is_what_the_doctor_prints_today(monkeypatch, capsys):
    """C3 showed the README's example had drifted (`ubuntu` where the doctor now says `ubuntu:24.04`)."""
    from gpudock.cli import main

    for name, value in (("COLUMNS", "80"), ("NO_COLOR", "1"), ("TERM", "dumb")):
        monkeypatch.setenv(name, value)
    main(["doctor", "--snapshot", str(SNAPSHOTS / "debian12-ci-no-gpu.json")])
    example = text(README).split("## Example: `gpudock doctor`", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    assert capsys.readouterr().out == example
