"""Benchmark tables for the terminal and notebooks."""

from __future__ import annotations

from pathlib import Path

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


def reference_table(results: Results) -> Table | None:
    """gpudock's nbody against NVIDIA's at the same N: measured in the same run, else the labelled anchor."""
    from .reference import pairs

    found = pairs(results)
    if not found:
        return None
    table = Table(title="nbody: gpudock against NVIDIA's nbody -benchmark (same N, same flop count)")
    for column in ("device", "precision", "N", "gpudock", "NVIDIA", "gpudock / NVIDIA", "NVIDIA's figure"):
        table.add_column(column, justify="right" if column in ("gpudock", "NVIDIA", "gpudock / NVIDIA") else "left")
    for p in found:
        table.add_row(
            p.device, p.precision, f"{p.size:,}", f"{p.gpudock:,.0f}", f"{p.nvidia:,.0f}", f"{p.ratio:.3f}", p.source
        )
    return table


def cpu_table(results: Results) -> Table | None:
    """The GPU against the compiled CPU baseline, and the compiled baseline against NumPy's loops."""
    from .plot import gpu_vs_cpu

    rows = [r for r in results.results if r.where in ("host", "container") and not r.device.startswith("cuda:")]
    numpy = {(r.precision, r.size): r for r in rows if r.name == "nbody_numpy"}
    table = Table(title="GPU against the compiled CPU baseline; compiled CPU against NumPy")
    for column in ("comparison", "precision", "faster side", "slower side", "ratio"):
        table.add_column(column, justify="right" if column == "ratio" else "left")
    for label, g, c in gpu_vs_cpu(results):
        table.add_row(
            f"GPU vs CPU: {label.split()[0]}",
            g.precision,
            f"{g.value:,.1f} {g.metric}",
            f"{c.value:,.1f} {c.metric} ({c.name})",
            f"{g.value / c.value:,.0f}×",
        )
    for r in rows:
        ref = numpy.get((r.precision, r.size))
        if r.name in ("nbody", "nbody_fastmath") and ref:
            table.add_row(
                f"numba vs NumPy: {r.name}",
                r.precision,
                f"{r.value:,.1f} GFLOP/s",
                f"{ref.value:,.2f} GFLOP/s",
                f"{r.value / ref.value:,.0f}×",
            )
    return table if table.row_count else None


def print_results(results: Results, console: Console | None = None) -> None:
    console = console or Console()
    console.print(results_table(results))
    for extra in (reference_table(results), cpu_table(results)):
        if extra is not None:
            console.print(extra)


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


def plain(renderable, width: int = 104) -> str:
    """A rich renderable as plain text (notebooks, slides, nbval comparisons: no ANSI codes)."""
    import io

    console = Console(file=io.StringIO(), width=width, color_system=None, force_jupyter=False, record=True)
    console.print(renderable)
    return console.export_text().rstrip()


def load_or_measure(
    results: str | Path = "", quick: bool = True, replay: bool = False, cpu: bool = True, nvidia_nbody: str = ""
) -> Results | None:
    """Notebook 06's data: a saved `gpudock bench --json` file, or a measurement of this host, printed as
    tables; None in a replay without saved results (a snapshot of another host measures nothing)."""
    if results:
        loaded = Results.load(results)
        print(
            f"saved results: {Path(results).name}, measured {loaded.host.get('time', '?')} "
            f"on {loaded.host.get('hostname', '?')}"
        )
    elif replay:
        print("skipped in replay: benchmarks measure the live host (run without a snapshot, or give saved results)")
        return None
    else:
        from .run import run_benchmarks

        loaded = run_benchmarks(quick=quick, cpu=cpu, progress=False, nvidia_nbody=nvidia_nbody or None)
    for table in (results_table(loaded), reference_table(loaded), cpu_table(loaded)):
        if table is not None:
            print(plain(table))
    return loaded
