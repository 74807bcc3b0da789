"""Benchmark tables for the terminal and notebooks."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .results import Comparison, Results


def _size(result) -> str:
    if result.metric == "GB/s":
        return f"{result.size / (1 << 20):.0f} MiB"
    return f"{result.size}³" if result.name == "gemm" else f"N={result.size}"


def results_table(results: Results) -> Table:
    title = "gpudock bench" + (f" — no GPU: {results.host['no_gpu']}" if results.host.get("no_gpu") else "")
    table = Table(title=escape(title))
    for column in ("device", "where", "benchmark", "precision", "size", "value", "± spread", "repeats"):
        table.add_column(column, justify="right" if column in ("value", "± spread", "repeats") else "left")
    for r in results.results:
        table.add_row(
            r.device,
            r.where,
            r.name,
            r.precision,
            _size(r),
            f"{r.value:,.1f} {r.metric}",
            f"{100 * r.spread / 2:.1f} %",
            str(r.repeats),
        )
    return table


def print_results(results: Results, console: Console | None = None) -> None:
    (console or Console()).print(results_table(results))


def print_comparison(rows: list[Comparison], name_a: str, name_b: str, console: Console | None = None) -> None:
    table = Table(title=f"B = {name_b} against A = {name_a}")
    for column in ("benchmark", "device", "precision", "size", "A", "B", "B/A", "verdict"):
        table.add_column(column)
    for row in rows:
        name, device, precision, size = row.key
        verdict = row.verdict
        table.add_row(
            name,
            device,
            precision,
            f"{size / (1 << 20):.0f} MiB" if row.metric == "GB/s" else str(size),
            f"{row.a:,.1f}",
            f"{row.b:,.1f} {row.metric}",
            f"{row.ratio:.3f}",
            verdict,
        )
    (console or Console()).print(table)
