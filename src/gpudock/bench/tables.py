"""Benchmark tables for the terminal and notebooks, 80 columns wide.

Rows name the device by a short label (``gpu0``, ``cpu``); the full device names are listed once
above the table. The note and the repeat count are shown with ``verbose`` (and are in the JSON).
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..layout import terminal_console
from ..textsafety import printable
from .labels import device_label, device_labels, table_of  # noqa: F401  (device_label: older imports)
from .results import Comparison, Results


def _size(result) -> str:
    if result.metric == "GB/s":
        return f"{result.size / (1 << 20):.0f} MiB"
    return f"{result.size}³" if result.name == "gemm" else f"N={result.size}"


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
    labels = device_labels(results)
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
    if any(r.fraction_of_ceiling is not None for r in results.results):
        table.add_column("ceil", no_wrap=True, justify="right")
    flagged = any(flags(r) for r in results.results)
    if flagged:
        table.add_column("!", no_wrap=True)
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
        if any(x.fraction_of_ceiling is not None for x in results.results):
            row.append(f"{100 * r.fraction_of_ceiling:.0f} %" if r.fraction_of_ceiling is not None else "")
        if flagged:
            row.append(flags(r))
        if verbose:
            row += [str(r.repeats), printable(r.note)]
        table.add_row(*(Text(cell) for cell in row))
    if len(places) == 1 and places:
        lines.append(Text(f"measured on the {printable(next(iter(places)))}", style="dim"))
    after = [Text(FLAGS_LEGEND, style="dim")] if flagged else []
    return Group(*lines, table, *after)


def flags(r) -> str:
    """Marks for the main table (FLAGS_LEGEND says them in words under it)."""
    marks = ""
    if r.fraction_of_ceiling is not None and r.expected_fraction and r.fraction_of_ceiling < r.expected_fraction:
        marks += "L"
    if r.noisy:
        marks += "N"
    reasons = (r.telemetry or {}).get("reasons") or {}
    if any(share >= 0.2 for reason, share in reasons.items() if reason != "gpu_idle"):
        marks += "C"
    return marks


FLAGS_LEGEND = "! L: low (under its expected share of the ceiling), N: noisy, C: clocks limited; see 'Why low'"


def reference_table(results: Results) -> Table | None:
    """gpudock's nbody against NVIDIA's at the same N: measured in the same run, else the labelled anchor."""
    from .reference import pairs

    found = pairs(results)
    if not found:
        return None
    labels = device_labels(results)
    table = table_of(
        "nbody: gpudock against NVIDIA's nbody -benchmark (same N, same flop count)",
        [
            ("dev", False),
            ("prec", False),
            ("N", True),
            ("gpudock", True),
            ("NVIDIA", True),
            ("ratio", True),
            ("NVIDIA's figure", False),
        ],
    )
    for p in found:
        table.add_row(
            Text(labels.get(p.device, device_label(p.device))),
            Text(printable(p.precision)),
            f"{p.size:,}",
            f"{p.gpudock:,.0f}",
            f"{p.nvidia:,.0f}",
            f"{p.ratio:.3f}",
            Text(printable(p.source)),
        )
    return table


def cpu_table(results: Results) -> Table | None:
    """The GPU against the compiled CPU baseline, and the compiled baseline against NumPy's loops."""
    from .plot import gpu_vs_cpu

    rows = [r for r in results.results if r.where in ("host", "container") and not r.device.startswith("cuda:")]
    numpy = {(r.precision, r.size): r for r in rows if r.name == "nbody_numpy"}
    table = table_of(
        "GPU against the compiled CPU baseline; compiled CPU against NumPy",
        [("comparison", False), ("prec", False), ("faster side", True), ("slower side", True), ("ratio", True)],
    )
    for label, g, c in gpu_vs_cpu(results):
        table.add_row(
            Text(f"GPU vs CPU: {printable(label.split()[0])}"),
            Text(printable(g.precision)),
            Text(f"{g.value:,.1f} {printable(g.metric)}"),
            Text(f"{c.value:,.1f} {printable(c.metric)}"),
            f"{g.value / c.value:,.0f}×",
        )
    for r in rows:
        ref = numpy.get((r.precision, r.size))
        if r.name in ("nbody", "nbody_fastmath") and ref:
            table.add_row(
                Text(f"numba vs NumPy: {printable(r.name)}"),
                Text(printable(r.precision)),
                f"{r.value:,.1f} GFLOP/s",
                f"{ref.value:,.2f} GFLOP/s",
                f"{r.value / ref.value:,.0f}×",
            )
    return table if table.row_count else None


def result_views(results: Results, verbose: bool = False) -> list:
    """Every table these results call for: the measurements, NVIDIA's reference, torch.matmul's, the
    attestation (ceilings, best published, clocks), why figures are low, the host facts, the CPU comparison."""
    from .explain_tables import attestation_table, gemm_reference_table, host_facts_table, why_low_table

    views = (
        results_table(results, verbose),
        reference_table(results),
        gemm_reference_table(results),
        attestation_table(results),
        why_low_table(results),
        host_facts_table(results),
        cpu_table(results),
    )
    return [v for v in views if v]


def print_results(results: Results, console: Console | None = None, verbose: bool = False) -> None:
    console = console or terminal_console()
    for view in result_views(results, verbose):
        console.print(view)


def print_comparison(rows: list[Comparison], name_a: str, name_b: str, console: Console | None = None) -> None:
    table = Table(title=Text(f"B = {printable(name_b)} against A = {printable(name_a)}"))
    for column in ("benchmark", "device", "precision", "size", "A", "B", "B/A", "verdict"):
        table.add_column(column, no_wrap=column in ("A", "B", "B/A"))
    for row in rows:
        name, device, precision, size = row.key
        table.add_row(
            Text(printable(name)),
            Text(printable(device)),
            Text(printable(precision)),
            f"{size / (1 << 20):.0f} MiB" if row.metric == "GB/s" else str(size),
            f"{row.a:,.1f}",
            Text(f"{row.b:,.1f} {printable(row.metric)}"),
            f"{row.ratio:.3f}",
            Text(printable(row.verdict)),
        )
    (console or terminal_console()).print(table)
