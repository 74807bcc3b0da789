"""The talk: a deck of at most 20 slides that follows the seed deck's flow, from a run's executed notebooks.

``gpudock slides`` makes this by default (``--full`` keeps every notebook slide). The flow is the 2020 deck's
(1.1 hello-world, 1.2–1.3 the generations, 1.4 the installs), then what the seed never got to show: the
benchmark in a container beside NVIDIA's own sample, and an ending. Each talk slide is one page: what does
not fit goes to the speaker notes, never to a continuation slide, so the notes carry what the slide leaves
out. Sections whose notebook is not in the run are left out; so are the fleet replay (its hosts are another
machine's: it would contradict this host's slides) and slides with nothing measured (a sentence says so in
the ending instead of a blank figure).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from . import slideplan
from .slideplan import Block, Slide

MAX_SLIDES = 20
TITLE = "WSL + docker + GPU (2)"
_KEY_LINE = re.compile(r"^\s*(?:[✓✗✘!]\s|Hello from Docker|this host:)")
_MARK = {"ok": "✓", "warning": "!", "error": "✗"}


@dataclass
class Run:
    """What the talk reads from a run: each notebook's logical slides, and summary.json's entries."""

    slides: dict[str, list[Slide]]  # notebook name -> its logical slides (unpaginated)
    summary: dict[str, dict]  # notebook name -> its summary.json entry

    def find(self, prefix: str, title: str = "") -> list[Slide]:
        """The logical slides of notebook ``prefix…`` whose title starts with ``title`` ("" = all of them)."""
        for name, slides in self.slides.items():
            if name.startswith(prefix):
                return [s for s in slides if s.title.startswith(title)]
        return []

    @property
    def host(self) -> dict:
        entry = next(iter(self.summary.values()), {})
        return entry.get("host") if isinstance(entry.get("host"), dict) else {}


# --- one page -------------------------------------------------------------------------------------------------


def key_lines(text: str, most: int = 8) -> str:
    """A terminal output cut to what a listener reads: its verdict lines (✓ ✗ !), else its first lines."""
    lines = text.splitlines()
    keys = [line.strip() for line in lines if _KEY_LINE.match(line)]
    return "\n".join(keys[:most] if keys else lines[:most])


def room_left(page: Slide) -> float:
    """The height still free on ``page`` (the deck's own estimate of 1280×720, as the full deck uses)."""
    used = slideplan.heading_height(page.title, page.level) + sum(slideplan.block_height(b) for b in page.blocks)
    return slideplan.CONTENT_H * slideplan.SAFETY - used


def note_of(block: Block) -> str:
    """A block as speaker-note Markdown (a figure or table is named, its data is on the slide or in the notebook)."""
    if block.kind == "markdown":
        return block.text
    if block.kind in ("code", "text"):
        return "```\n" + block.text.strip("\n") + "\n```"
    if block.kind == "table":
        return block.caption or "(table)"
    return ""


def one_page(title: str, blocks: Iterable[Block], level: int = 2, source: str = "", notes=()) -> Slide:
    """A slide of the blocks that fit, in order (terminal text cut to its key lines); the rest to the notes."""
    page = Slide(title=title, level=level, source=source)
    left_out = []
    for block in blocks:
        if block.kind == "text":
            short = key_lines(block.text)
            if short != block.text.strip("\n"):
                left_out.append(note_of(block))
            block = replace(block, text=short)
        if block.kind == "image":
            page.figure = True
        if slideplan.block_height(block) <= room_left(page):
            page.blocks.append(block)
        else:
            left_out.append(note_of(block))
    where = [f"（ノートブック `{source}` の節．JupyterLab で開けば，その場で実行して見せられる）"] if source else []
    page.notes = [n for n in [*notes, *left_out, *where] if n.strip()]
    return page


def _blocks(slides: list[Slide], keep: Callable[[Block], bool] = lambda b: True) -> list[Block]:
    return [b for s in slides for b in s.blocks if keep(b)]


def _notes(slides: list[Slide], keep: Callable[[Block], bool]) -> list[str]:
    return [note_of(b) for s in slides for b in s.blocks if not keep(b)] + [n for s in slides for n in s.notes]


def _section(run: Run, prefix: str, title: str, keep=lambda b: True, heading: str = "") -> Slide | None:
    """One talk slide from the logical slides of ``prefix`` titled ``title…``: kept blocks on it, the rest noted."""
    found = run.find(prefix, title)
    if not found:
        return None
    first = found[0]
    return one_page(heading or first.title, _blocks(found, keep), first.level, first.source, notes=_notes(found, keep))


def _not_quote(block: Block) -> bool:
    """Readers' asides (> **補足** …) and reference lists stay in the notes."""
    return not (block.kind == "markdown" and block.text.lstrip().startswith(">"))


# --- the sections ---------------------------------------------------------------------------------------------


def title_slide(run: Run) -> Slide:
    host = run.host
    gpus = ", ".join(g for g in host.get("gpus") or [] if isinstance(g, str)) or ("GPU なし" if host else "")
    where = " · ".join(str(v) for v in (host.get("distro"), host.get("kind"), gpus) if v)
    lines = ["実行できるチュートリアル：2020 年のメモを，今日のホストで実行して確かめる"]
    if where:
        lines.append(f"このホスト：{where}")
    if host.get("replay"):
        lines.append(f"（記録したホストの再生：`{host['replay']}`）")
    notes = _notes(run.find("00"), lambda b: False)[:2]
    return Slide(TITLE, 1, [Block("markdown", "\n\n".join(lines))], notes=notes, source="00-index")


def hello_slide(run: Run) -> Slide | None:
    """1.1: the command, then this host's answer (the hello output and Docker's verdict)."""

    def keep(block: Block) -> bool:
        if block.kind == "markdown":
            return block.text.startswith("まず")
        return block.kind == "text" or (block.kind == "code" and "\n" not in block.text.strip())

    return _section(run, "01", "1.1", keep)


def plan_line(slides: list[Slide], verdict: str | None, step: str) -> str:
    """What gpudock's plan does on this host, in one line: nothing, or how many steps (they are in the notes)."""
    for block in _blocks(slides, lambda b: b.kind == "text" and b.text.startswith("gpudock plan")):
        steps = [line for line in block.text.splitlines() if re.match(r"^\s{0,3}\d+\.\s", line)]
        if "Nothing to run on this host" in block.text or not steps:
            return "何もしない（すでに動いている）"
        if verdict == "ok":
            return f"今は不要（動いている）．入れ直すなら {len(steps)} ステップ"
        return f"{len(steps)} ステップ：`gpudock install {step} --apply`"
    return "（このノートブックに計画の出力がない）"


def installs_slide(run: Run) -> Slide | None:
    """1.4 as this host's plan: the three steps of 2020, and what gpudock would do here for each."""
    steps = [
        ("03", "NVIDIA ドライバ", "driver"),
        ("04", "Docker", "docker"),
        ("05", "NVIDIA Container Toolkit", "toolkit"),
    ]
    rows = [("ステップ", "診断", "このホストでの計画")]
    notes = []
    for prefix, name, step in steps:
        slides = run.find(prefix)
        if not slides:
            continue
        entry = next((e for n, e in run.summary.items() if n.startswith(prefix)), {})
        rows.append((name, _MARK.get(entry.get("verdict"), "·"), plan_line(slides, entry.get("verdict"), step)))
        today = run.find(prefix, "今のやり方")
        notes += [f"**{slides[0].title}**"] + [note_of(b) for b in _blocks(today[:1], lambda b: b.kind == "markdown")]
    if len(rows) == 1:
        return None
    table = Block("table", rows=tuple(rows), align=("left", "left", "left"))
    lead = Block("markdown", "2020 年と同じ 3 ステップ．今のやり方は `gpudock plan` が，このホストを見て組み立てる．")
    return one_page("1.4. 環境構築方法：このホストの計画", [lead, table], 1, "03-install-driver", notes)


def figure_slides(run: Run) -> tuple[list[Slide], list[str]]:
    """(a)–(d): one slide per figure, its explanation in the notes; sections with no figure are named instead."""
    slides, missing = [], []
    for found in run.find("06", "("):
        images = [b for b in found.blocks if b.kind == "image"]
        if not images:
            missing.append(found.title)
            continue
        notes = [note_of(b) for b in found.blocks if b.kind != "image"] + found.notes
        notes.append("（図は notebook 06 が測定結果から描く．数値の表は notebook 06 の「測定結果」）")
        slides.append(Slide(found.title, found.level, images[:1], notes=notes, figure=True, source=found.source))
    return slides, missing


WHERE = {"container": "gpudock（コンテナ内）", "host": "gpudock（ホスト）", "reference": "NVIDIA nbody -benchmark"}


def nbody_rows(run: Run) -> dict[tuple[str, str], float]:
    """(where, precision) -> GFLOP/s of the nbody rows in notebook 06's results table (first row of each)."""
    found: dict[tuple[str, str], float] = {}
    for block in _blocks(run.find("06"), lambda b: b.kind == "text" and "GFLOP/s" in b.text):
        for line in block.text.splitlines():
            words = line.split()
            if "nbody" not in words or "GFLOP/s" not in words:
                continue
            at, unit = words.index("nbody"), words.index("GFLOP/s")
            if 1 <= at and at + 1 < len(words) and words[at - 1] in WHERE:
                try:
                    value = float(words[unit - 1].replace(",", ""))
                except ValueError:
                    continue
                found.setdefault((words[at - 1], words[at + 1]), value)
    return found


def payoff_slide(run: Run) -> Slide | None:
    """The measured result: gpudock's nbody in a container next to NVIDIA's sample (and the host), per precision."""
    rows = nbody_rows(run)
    precisions = sorted({p for _, p in rows})
    if not any(w == "container" for w, _ in rows) or not any(w == "reference" for w, _ in rows):
        return None
    table = [("", *(f"{p}（GFLOP/s）" for p in precisions))]
    for where in ("container", "reference", "host"):
        if any(w == where for w, _ in rows):
            table.append(
                (WHERE[where], *(f"{rows[(where, p)]:,.0f}" if (where, p) in rows else "—" for p in precisions))
            )
    ratio = [
        f"{rows[('container', p)] / rows[('reference', p)]:.2f}×"
        if {("container", p), ("reference", p)} <= rows.keys()
        else "—"
        for p in precisions
    ]
    table.append(("コンテナ内の gpudock / NVIDIA", *ratio))
    lead = Block("markdown", "同じ GPU，同じ N，同じ flop の数え方（1 相互作用 = 20 flop，fp64 は 30 flop）．")
    block = Block("table", rows=tuple(table), align=("left", *("right" for _ in precisions)))
    notes = ["値は notebook 06 の測定結果の表から．ホストの行は，コンテナで性能が落ちないことを示す．"]
    return one_page("コンテナの中の nbody と NVIDIA のサンプル", [lead, block], 2, "06-benchmark", notes)


def sample_slide(run: Run) -> Slide | None:
    """NVIDIA's nbody sample in a container: only where this run measured it (else figure (b) carries it)."""
    found = run.find("06", "NVIDIA の nbody")
    measured = [b for b in _blocks(found) if b.kind == "text" and "GFLOP" in b.text]
    return _section(run, "06", "NVIDIA の nbody") if measured else None


def ending_slide(run: Run, missing: list[str]) -> Slide:
    verdicts = [e.get("verdict") for e in run.summary.values() if e.get("verdict")]
    worst = "error" if "error" in verdicts else "warning" if "warning" in verdicts else "ok" if verdicts else ""
    said = {"ok": "このホストでは，コンテナから GPU が動いた．", "warning": "動いたが，診断に注意がある．"}
    items = [said.get(worst, "このホストでは，まだ直すところがある：`gpudock doctor` が順に示す．")]
    items.append("2020 年の手順は古くなった：今のやり方は `gpudock plan` が，ホストごとに組み立てる．")
    if missing:
        items.append("このホストでは測れなかった図：" + "，".join(missing) + "（GPU のあるホストで `gpudock run`）")
    items.append("全部のスライド：`gpudock slides --full`，実行済みのノートブック：サイト（`scripts/site`）")
    text = "\n".join(f"- {item}" for item in items) + "\n\n今日はここまで．"
    fleet = run.find("07")
    notes = [f"付録（`--full`）：{fleet[0].title}"] if fleet else []
    return Slide("まとめ", 1, [Block("markdown", text)], notes=notes, source="06-benchmark")


def talk(run: Run) -> list[Slide]:
    """The talk's slides, in the seed deck's order; at most MAX_SLIDES."""
    generations = lambda b: b.kind != "code"  # noqa: E731 (the commands behind the verdict lines go to the notes)
    deck = [
        title_slide(run),
        hello_slide(run),
        _section(run, "02", "1.2", _not_quote),
        _section(run, "02", "1.3. ", _not_quote),
        _section(run, "02", "1.3.2", _not_quote),
        _section(run, "02", "1.3.3", _not_quote),
        _section(run, "02", "このホスト", generations),
        installs_slide(run),
        _section(run, "05", "確認", lambda b: b.kind != "code"),
        _section(run, "06", "ベンチマーク", lambda b: b.kind == "text" or not b.text.startswith("GPU の")),
        payoff_slide(run),
    ]
    figures, missing = figure_slides(run)
    deck += [*figures, sample_slide(run), ending_slide(run, missing)]
    return [s for s in deck if s is not None][:MAX_SLIDES]


def read_run(notebooks: list[tuple[str, list]], summary: list | None) -> Run:
    """A Run from (name, cells) per executed notebook and summary.json's list (None where it is unreadable)."""
    slides = {name: slideplan.logical_slides(cells, name) for name, cells in notebooks}
    entries = {}
    for entry in summary if isinstance(summary, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("notebook"), str):
            entries[entry["notebook"]] = entry
    return Run(slides, entries)
