"""``gpudock bench compare``: two results files side by side, also from two different machines.

Rows pair on what was measured: benchmark, precision, size and unit. The device, the CPU's thread count
and the place (host or container) are not part of the pairing (two machines never share a device
string: ``cpu Xeon (16 threads)`` against ``cpu Xeon (2 threads)``); where they differ, the row carries a
note. Within a file several rows may share a point (host and container rows, several GPUs); a B row
then takes the A row most like it: the same device and place, else the same kind of device (GPU or
CPU) and place, else the same kind, else any. NVIDIA's reference rows (``where: reference``) pair only
with reference rows.

The table fits 80 columns: one line per pair, grouped by unit and by where B measured it (host,
container, NVIDIA's program), the notes numbered below it.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from rich.console import Console, Group
from rich.text import Text

from ..layout import terminal_console
from ..textsafety import printable
from .results import Comparison, Result, Results

WIDTH = 80
_PLACES = {"host": "host", "container": "container", "reference": "NVIDIA's program"}
HEADERS = ("benchmark", "prec", "size", "A", "B", "B/A", "verdict")
_THREADS = re.compile(r"\s*\((\d+) threads?\)\s*$")


def _kind(device: str) -> str:
    return "gpu" if device.startswith("cuda:") else "cpu"


def _point(r: Result) -> tuple:
    return (r.name, r.precision, r.size, r.metric, r.where == "reference")


def _levels(r: Result) -> tuple[tuple, ...]:
    """The keys a row is found under, most alike first: same device and place, same device, same kind (GPU or
    CPU) and place, same kind, same place, any. A row's first level with a free row holds its best partner."""
    kind = _kind(r.device)
    return (("device", r.device, r.where), ("device", r.device), ("kind", kind, r.where), ("kind", kind),
            ("where", r.where), ("any",))  # fmt: skip


def pairs(a: Results, b: Results) -> list[tuple[Result, Result]]:
    """(A row, B row) for every point both files measured, in B's order; each row used at most once.

    Each A row is queued under every level of its point (file order); a taken row is skipped when met, so the
    work is linear in the rows even when thousands share one point."""
    queues: dict[tuple, deque[int]] = {}
    for index, r in enumerate(a.results):
        for level in _levels(r):
            queues.setdefault((_point(r), level), deque()).append(index)
    taken: set[int] = set()
    found = []
    for r in b.results:
        for level in _levels(r):
            queue = queues.get((_point(r), level))
            while queue and queue[0] in taken:
                queue.popleft()
            if queue:
                taken.add(queue[0])
                found.append((a.results[queue.popleft()], r))
                break
    return found


def compare(a: Results, b: Results) -> list[Comparison]:
    """Points measured in both files (same benchmark, precision, size, unit), B relative to A."""
    return [
        Comparison(
            r.key,
            r.metric,
            x.value,
            r.value,
            max(r.spread, x.spread),
            x.spread,
            r.spread,
            x.where,
            r.where,
            x.device,
            r.device,
        )  # fmt: skip
        for x, r in pairs(a, b)
    ]


def _threads(device: str) -> tuple[str, str | None]:
    match = _THREADS.search(device)
    return (device[: match.start()], match.group(1)) if match else (device, None)


def notes_of(row: Comparison) -> list[str]:
    """What differs between the two rows besides the figure: device, thread count, place."""
    notes = []
    device_a, threads_a = _threads(row.device_a)
    device_b, threads_b = _threads(row.device_b)
    if row.device_a and row.device_b and device_a != device_b:
        notes.append(f"device: {device_a} (A), {device_b} (B)")
    if threads_a and threads_b and threads_a != threads_b:
        notes.append(f"threads: {threads_a} (A), {threads_b} (B)")
    if row.where_a != row.where_b:
        notes.append(f"measured on the {row.where_a} (A), the {row.where_b} (B)")
    return [printable(n) for n in notes]


def short_verdict(row: Comparison) -> str:
    """``within ±1.0 %``, ``B faster by 12.3 %``, or ``A 145× faster`` for a factor of 2 and more."""
    if row.within_noise:
        return f"within ±{100 * row.noise:.1f} %"
    factor = row.ratio if row.ratio > 1 else 1 / row.ratio if row.ratio else float("inf")
    if factor >= 2:
        return f"{row.faster} {factor:,.0f}× faster" if factor >= 10 else f"{row.faster} {factor:.1f}× faster"
    return f"{row.faster} faster by {100 * (factor - 1):.1f} %"


def _size(row: Comparison) -> str:
    name, _device, _precision, size = row.key
    if row.metric == "GB/s":
        mib = size / (1 << 20)
        return f"{mib / 1024:g} GiB" if mib >= 1024 else f"{mib:.0f} MiB"
    return f"{size}³" if name == "gemm" else str(size)


def _value(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100_000 else f"{v:,.1f}"


def _ratio(r: float) -> str:
    return f"{r:,.0f}" if r >= 100 else f"{r:.3f}"


@dataclass
class _Line:
    cells: list[str]
    notes: list[int] = field(default_factory=list)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def comparison_view(rows: list[Comparison], name_a: str, name_b: str, a: Results | None = None, b=None) -> Group:
    """The comparison in lines of at most 80 columns: header, column names, a block per unit, numbered notes."""
    head = [Text(f"B = {printable(name_b)} against A = {printable(name_a)}", style="bold")]
    for label, results in (("A", a), ("B", b)):
        facts = [printable(str(results.host[k])) for k in ("hostname", "time") if results and results.host.get(k)]
        if facts:
            head.append(Text(f"{label}: " + " · ".join(facts)))
    notes: list[str] = []
    blocks: dict[str, list[_Line]] = {}
    for row in rows:
        numbers = []
        for note in notes_of(row):
            if note not in notes:
                notes.append(note)
            numbers.append(notes.index(note) + 1)
        name, _device, precision, _size_ = row.key
        cells = [printable(name), printable(precision), _size(row), _value(row.a), _value(row.b), _ratio(row.ratio)]
        block = f"{printable(row.metric)}, {_PLACES.get(row.where_b, printable(row.where_b))}"
        blocks.setdefault(block, []).append(_Line(cells + [short_verdict(row)], numbers))
    every = [line for lines in blocks.values() for line in lines]
    widths = [max([len(h)] + [len(line.cells[i]) for line in every]) for i, h in enumerate(HEADERS)]
    marks = max((len(",".join(map(str, line.notes))) for line in every), default=0)
    marks = max(marks, len("notes")) if marks else 0
    spare = WIDTH - (sum(widths) + len(widths) - 1 + (marks + 1 if marks else 0))
    if spare < 0:  # the benchmark name gives way; numbers and verdicts never do
        widths[0] = max(widths[0] + spare, 8)
    header = _row(HEADERS, widths) + (" notes" if marks else "")
    body = [Text(""), Text(header.rstrip(), style="bold", no_wrap=True)]
    for unit, lines in blocks.items():
        body.append(Text(f"{unit}:", style="dim"))
        for line in lines:
            text = _row(line.cells, widths) + (" " + ",".join(map(str, line.notes)) if line.notes else "")
            body.append(Text(text.rstrip(), no_wrap=True))
    tail = [Text("")] + [Text(f"{n}. {note}") for n, note in enumerate(notes, 1)] if notes else []
    return Group(*head, *body, *tail)


def _row(cells: list[str], widths: list[int]) -> str:
    left = {0, 1, 6}  # text columns; the numbers are right-aligned
    return " ".join(
        _cut(c, w).ljust(w) if i in left else _cut(c, w).rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def summary(rows: list[Comparison], a: Results, b: Results) -> Text | None:
    only_a, only_b = len(a.results) - len(rows), len(b.results) - len(rows)
    if not (only_a or only_b):
        return None
    return Text(
        f"not compared: {only_a} point(s) only in A, {only_b} only in B (another benchmark, precision or size)",
        style="dim",
    )


def print_comparison(
    rows: list[Comparison], name_a: str, name_b: str, a: Results | None = None, b: Results | None = None,
    console: Console | None = None,
) -> None:  # fmt: skip
    console = console or terminal_console()
    console.print(comparison_view(rows, name_a, name_b, a, b), crop=False)
    if a is not None and b is not None:
        line = summary(rows, a, b)
        if line is not None:
            console.print(line)
