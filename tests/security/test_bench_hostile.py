"""Benchmark files and outputs from other hosts: refused in one line or shown, never a traceback, never a
verdict from a number that is not a measurement. Review holes M3, M8, L1, L2, L3, L4.
"""

from __future__ import annotations

import io
import json
import time

import pytest

from gpudock import cli
from gpudock.bench.compare import compare
from gpudock.bench.container import parse_nbody
from gpudock.bench.results import RESULT_KEYS, Result, Results
from gpudock.exceptions import BenchmarkError, ResultsFileError
from gpudock.exitcodes import ExitCode
from gpudock.fleet import bench as fleet_bench
from gpudock.fleet.engine import HostOutcome, TaskOutcome
from tests.security.standin import ROOT

H200 = ROOT / "docs" / "benchmarks" / "h200-host.json"


def _with(doc: dict, **row) -> dict:
    doc = json.loads(json.dumps(doc))
    doc["results"][0].update(row)
    return doc


@pytest.mark.parametrize(
    "row",
    [
        {"value": 0},  # M8: 1 / ratio divided by zero
        {"value": float("nan")},  # L1: "A faster by nan %"
        {"value": -10.0},  # "A faster by -200.0 %"
        {"spread": float("nan")},
        {"spread": -5.0},  # "beyond ±-249.5 %"
        {"value": float("inf")},
    ],
)
def test_a_number_that_is_not_a_measurement_is_refused_in_one_line(tmp_path, capsys, row):
    a = json.loads(H200.read_text())
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(_with(a, **row)))
    code = cli.main(["bench", "compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE and "Traceback" not in err and "results[0]." in err, err
    assert len(err.strip().splitlines()) == 1


def test_compare_is_linear_in_rows(tmp_path):
    """L4: two 20,000-row files took 30 s (each row scanned every row of B)."""
    base = json.loads(H200.read_text())
    row = base["results"][0]
    rows = [Result(**{**{k: row[k] for k in RESULT_KEYS}, "size": n + 1}) for n in range(20_000)]
    a, b = Results({}, rows), Results({}, list(rows))
    started = time.monotonic()
    pairs = compare(a, b)
    assert len(pairs) == 20_000 and time.monotonic() - started < 3


def test_compare_is_linear_when_every_row_is_one_point():
    """20,000 rows of one point on distinct devices: each B row used to scan every free A row."""
    row = json.loads(H200.read_text())["results"][0]
    rows = [Result(**{**{k: row[k] for k in RESULT_KEYS}, "device": f"cuda:{n}"}) for n in range(20_000)]
    started = time.monotonic()
    pairs = compare(Results({}, rows), Results({}, rows[::-1]))
    assert time.monotonic() - started < 3
    assert [(c.device_a, c.device_b) for c in pairs[:2]] == [("cuda:19999", "cuda:19999"), ("cuda:19998", "cuda:19998")]


@pytest.mark.parametrize(
    "output",
    [
        "1024 bodies, total time for 0 iterations: 10.0 ms\n= 1.0 single-precision GFLOP/s at 20 flops per interaction",
        "1024 bodies, total time for 10 iterations: ... ms\n= 1.0 single-precision GFLOP/s at 20 flops per interaction",
        "1024 bodies, total time for 10 iterations: 10.0 ms\n= "
        + "9" * 400
        + " single-precision GFLOP/s at 20 flops per interaction",
    ],
)
def test_nvidia_nbody_output_gpudock_cannot_trust_is_a_benchmark_error(output):
    """L2: 0 iterations -> ZeroDivisionError, `...` -> ValueError, 400 digits -> a saved Infinity."""
    with pytest.raises(BenchmarkError):
        parse_nbody(output)


def _bench_outcome(stdout: str) -> HostOutcome:
    return HostOutcome(
        "h",
        [
            TaskOutcome("is gpudock on this host?", "ok", {"rc": 1}),
            TaskOutcome(fleet_bench.BENCH_TASK, "ok", {"rc": 0, "stdout": stdout}),
        ],
        {"failures": 0},
    )


@pytest.mark.parametrize("stdout", ["[" * 100_000, "9" * 5_000, "", '{"results": [], "host": []}', "null"])
def test_one_hosts_bench_output_is_its_error_row(stdout):
    """M3: `[`×100000 (RecursionError) or a 5,000-digit number (ValueError) ended fleet bench in a traceback."""
    row = fleet_bench._host_bench("h", _bench_outcome(stdout))
    assert row.results is None and "printed no usable results" in row.error


def test_names_with_mathtext_are_drawn_as_text():
    """M3, L3: a device or benchmark named `$\\undefinedcommand$` failed the figure (matplotlib mathtext)."""
    from gpudock.bench import plot

    doc = json.loads(H200.read_text())
    for row in doc["results"]:
        row["device"] = row["device"] + r" $\undefinedcommand$"
        row["precision"] = row["precision"] + "$"
    hostile = Results.from_dict(doc)
    plot.fig_gpu_vs_cpu(hostile).savefig(io.BytesIO(), format="png", dpi=8)  # lays out every text
    for name in ("fig_ceilings", "fig_reference", "fig_host_container", "fig_gpu_vs_cpu"):
        assert hasattr(getattr(plot, name), "__wrapped__"), f"{name} draws a file's text without making it literal"
    named = Results.from_dict(_with(json.loads(H200.read_text()), name=r"$\undefinedcommand$"))
    rows = [fleet_bench.HostBench(r"$\x$ host", named), fleet_bench.HostBench("other", named)]
    assert fleet_bench.side_by_side_png(fleet_bench.FleetBench(rows, ROOT))[:4] == b"\x89PNG"


def test_results_refuse_nan_at_load_even_where_the_schema_lets_it_through():
    with pytest.raises(ResultsFileError, match="median_s must be a finite number"):
        Results.from_dict(_with(json.loads(H200.read_text()), median_s=float("nan")))
