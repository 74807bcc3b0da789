"""Short device labels (``gpu0``, ``cpu``) and the compact table every bench table is made of."""

from __future__ import annotations

import re

from rich import box
from rich.table import Table
from rich.text import Text

from ..textsafety import printable
from .results import Results


def device_label(device: str) -> str:
    """``cuda:0 NVIDIA H200`` → ``gpu0``; ``cpu Intel(R) …`` → ``cpu``; anything else: its first word, short."""
    gpu = re.match(r"cuda:(\d+)\b", device)
    if gpu:
        return f"gpu{gpu.group(1)}"
    first = printable(device).split(" ", 1)[0] if device.strip() else "?"
    return first[:10]


def device_labels(results: Results) -> dict[str, str]:
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


def table_of(title: str, columns: list[tuple[str, bool]]) -> Table:
    """A compact table whose numeric columns never wrap (``columns``: (name, right-aligned))."""
    table = Table(title=Text(title), box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0), show_edge=False)
    for name, right in columns:
        table.add_column(name, justify="right" if right else "left", no_wrap=right, overflow="fold")
    return table
