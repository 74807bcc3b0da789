"""Benchmark tables for the terminal and notebooks, 80 columns wide.

Rows name the device by a short label (``gpu0``, ``cpu``); the full device names are listed once
above the table. The note and the repeat count are shown with ``verbose`` (and are in the JSON).
"""

from __future__ import annotations

import re

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..layout import terminal_console
from ..textsafety import printable
from .results import Comparison, Results


def _size(result) -> str:
    if result.metric == "GB/s":
        return f"{result.size / (1 << 20):.0f} MiB"
    return f"{result.size}³" if result.name == "gemm" else f"N={result.size}"


def device_label(device: str) -> str:
    """``cuda:0 NVIDIA H200`` → ``gpu0``; ``cpu Intel(R) …`` → ``cpu``; anything else: its first word, short."""
    gpu = re.match(r"cuda:(\d+)\b", device)
    if gpu:
        return f"gpu{gpu.group(1)}"
    first = printable(device).split(" ", 1)[0] if device.strip() else "?"
    return first[:10]


def _labels(results: Results) -> dict[str, str]:
    """Device → short label, unique within these results (a clash keeps a number)."""
    labels: dict[str, str] = {}
    for r in results.results:
        if r.device in labels:
            continue
        label = device_label(r.device)
        taken = set(labels.values())
        candidate, n = label, 2
        while candidate in taken:
            candidate, n = f"{label}-{n}", n + 1
        labels[r.device] = candidate
    return labels


def results_table(results: Results, verbose: bool = False) -> Group:
    """Header (host, time, devices by label) and one compact row per measured point."""
    host = results.host
    header = Text("gpudock bench", style="bold")
    facts = [printable(str(host[k])) for k in ("hostname", "time") if host.get(k)]
    if facts:
        header.append(" · " + " · ".join(facts))
    lines: list = [header]
    if host.get("no_gpu"):
        lines.append(Text("no GPU: " + printable(str(host["no_gpu"])), style="yellow"))
    labels = _labels(results)
    for device, label in labels.items():
        lines.append(Text(f"{label:>6} = {printable(device)}"))
    places = {r.where for r in results.results}
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0), show_edge=False, collapse_padding=True)
    table.add_column("dev", no_wrap=True)
    if len(places) > 1:
        table.add_column("where", no_wrap=True)
    table.add_column("benchmark", overflow="fold")
    table.add_column("prec", no_wrap=True)
    table.add_column("size", no_wrap=True, justify="right")
    table.add_column("value", no_wrap=True, justify="right")
    table.add_column("unit", no_wrap=True)
    table.add_column("±", no_wrap=True, justify="right")
    if verbose:
        table.add_column("repeats", no_wrap=True, justify="right")
        table.add_column("note", overflow="fold")
    for r in results.results:
        row = [labels[r.device]]
        if len(places) > 1:
            row.append(printable(r.where))
        row += [
            printable(r.name),
            printable(r.precision),
            _size(r),
            f"{r.value:,.1f}",
            printable(r.metric),
            f"{100 * r.spread / 2:.1f} %",
        ]
        if verbose:
            row += [str(r.repeats), printable(r.note)]
        table.add_row(*(Text(cell) for cell in row))
    if len(places) == 1 and places:
        lines.append(Text(f"measured on the {printable(next(iter(places)))}", style="dim"))
    return Group(*lines, table)


def print_results(results: Results, console: Console | None = None, verbose: bool = False) -> None:
    (console or terminal_console()).print(results_table(results, verbose))


def print_comparison(rows: list[Comparison], name_a: str, name_b: str, console: Console | None = None) -> None:
    table = Table(title=Text(f"B = {printable(name_b)} against A = {printable(name_a)}"))
    for column in ("benchmark", "device", "precision", "size", "A", "B", "B/A", "verdict"):
        table.add_column(column, no_wrap=column in ("A", "B", "B/A"))
    for row in rows:
        name, device, precision, size = row.key
        verdict = "within noise" if row.within_noise else ("faster" if row.ratio > 1 else "slower")
        table.add_row(
            Text(printable(name)),
            Text(printable(device)),
            Text(printable(precision)),
            f"{size / (1 << 20):.0f} MiB" if row.metric == "GB/s" else str(size),
            f"{row.a:,.1f}",
            Text(f"{row.b:,.1f} {printable(row.metric)}"),
            f"{row.ratio:.3f}",
            verdict,
        )
    (console or terminal_console()).print(table)
