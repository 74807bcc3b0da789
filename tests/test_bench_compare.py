"""`bench compare` across machines: rows pair on benchmark, precision and size; devices and thread counts are
notes; every pair has a verdict; the table fits 80 columns (README's own example against the H200 file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from rich.console import Console

from gpudock.bench.compare import compare, notes_of, print_comparison, short_verdict
from gpudock.bench.results import Result, Results
from tests.helpers import ROOT

H200 = ROOT / "docs" / "benchmarks" / "h200-host.json"
SMALL_CPU = "cpu Intel(R) Core(TM) i5 (2 threads)"


def cpu_host_like_h200() -> Results:
    """A 2-thread CPU host that ran the full CPU benchmarks: the H200 file's CPU points, slower."""
    h200 = Results.load(H200)
    rows = [
        Result(r.name, "host", SMALL_CPU, r.precision, r.size, r.metric, r.value / 7, r.repeats, 0.1, 0.02)
        for r in h200.results
        if not r.device.startswith("cuda:")
    ]
    return Results({"hostname": "laptop"}, rows)


def render(rows, a="a.json", b="b.json", ra=None, rb=None) -> list[str]:
    console = Console(record=True, width=80, force_terminal=False)
    print_comparison(rows, a, b, ra, rb, console=console)
    return console.export_text().splitlines()


def test_cpu_rows_pair_across_machines_with_the_thread_count_as_a_note():
    a, b = Results.load(H200), cpu_host_like_h200()
    rows = compare(a, b)
    assert len(rows) == len(b.results) == 10  # every CPU point pairs, although no device string is equal
    assert all(r.device_a.endswith("(16 threads)") and r.device_b == SMALL_CPU for r in rows)
    notes = notes_of(rows[0])
    assert "threads: 16 (A), 2 (B)" in notes and any(n.startswith("device: cpu Intel(R) Xeon") for n in notes)
    assert all(short_verdict(r) == "A 7.0× faster" for r in rows)


def test_readme_example_exits_0_and_fits_80_columns(tmp_path):
    mine = tmp_path / "mine.json"
    cpu_host_like_h200().save(mine)
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "bench", "compare", str(H200), str(mine)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    table = [line for line in lines if line.startswith(("nbody", "gemm", "copy"))]
    assert len(table) == 10 and all("A 7.0× faster" in line for line in table)
    assert "…" not in "\n".join(table)  # no number or name is cut
    assert any("threads: 16 (A), 2 (B)" in line for line in lines)
    assert "not compared: 26 point(s) only in A, 0 only in B" in proc.stdout


def test_the_whole_h200_file_against_itself_is_one_line_per_point():
    h200 = Results.load(H200)
    rows = compare(h200, h200)
    assert len(rows) == len(h200.results) == 36
    assert {(r.where_a, r.where_b) for r in rows} == {("host", "host"), ("container", "container"), ("reference",) * 2}
    lines = render(rows, ra=h200, rb=h200)
    assert all(len(line) <= 80 for line in lines)
    assert {"GFLOP/s, host:", "GFLOP/s, container:", "GFLOP/s, NVIDIA's program:", "GB/s, container:"} <= set(lines)
    assert len(lines) < 50  # 36 rows, their headers and units (the boxed table took 173 lines)
    body = [line for line in lines if line.split()[:1] and line.split()[0] in {r.key[0] for r in rows}]
    assert len(body) == 36 and all("within ±" in line for line in body)
    assert "262144" in "\n".join(body) and "2 GiB" in "\n".join(body)


def test_a_gpu_pairs_with_the_gpu_most_like_it():
    a = Results(
        {},
        [Result("gemm", "host", f"cuda:{i} NVIDIA H100", "fp32", 8192, "GFLOP/s", 100.0, 3, 1, 0.01) for i in range(2)],
    )
    b = Results({}, [Result("gemm", "host", "cuda:1 NVIDIA H100", "fp32", 8192, "GFLOP/s", 100.0, 3, 1, 0.01)])
    (row,) = compare(a, b)
    assert row.device_a == "cuda:1 NVIDIA H100" and notes_of(row) == []


def test_verdicts():
    def one(a, b, spread=0.01):
        mk = lambda v: Results({}, [Result("nbody", "host", "cuda:0 X", "fp32", 1, "GFLOP/s", v, 3, 1, spread)])  # noqa: E731
        return short_verdict(compare(mk(a), mk(b))[0])

    assert one(100, 100.5) == "within ±1.0 %"
    assert one(100, 120) == "B faster by 20.0 %"
    assert one(100, 80) == "A faster by 25.0 %"
    assert one(100, 1) == "A 100× faster"
    assert one(1, 3.5) == "B 3.5× faster"


def test_hostile_names_print_as_text():
    bad = "gemm[/red]\x1b[31m"
    a = Results({"hostname": "[bold]x"}, [Result(bad, "host", "cpu y", "fp32", 1, "GFLOP/s", 1.0, 1, 1, 0.0)])
    lines = render(compare(a, a), ra=a, rb=a)
    text = "\n".join(lines)
    assert "\x1b" not in text and "[/red]" in text and "[bold]x" in text


def test_results_file_pairs_stay_json_serialisable(tmp_path):
    rows = compare(Results.load(H200), cpu_host_like_h200())
    assert json.dumps([r.__dict__ for r in rows])
