"""NVIDIA's nbody beside gpudock's: parsing its real output, running it (faked here), pairing, the anchor."""

import subprocess

import pytest

from gpudock.bench.container import parse_nbody
from gpudock.bench.reference import H200_ANCHOR, anchor_for, nbody_command, pairs, run_nvidia_nbody
from gpudock.bench.results import Result, Results
from gpudock.exceptions import GpudockError

# The reference binary's lines as docs/reference/nbody-reference.md shows them (H200, 2026-11-28)
REFERENCE_FP32 = """GPU Device 0: "NVIDIA H200" with compute capability 9.0
262144 bodies, total time for 10 iterations: 451.2 ms
= 1523.0 billion interactions per second
= 30460.5 single-precision GFLOP/s at 20 flops per interaction
"""
# The container run of 2026-11-28 (docs/benchmarks/h200/issue14/container/nvidia-nbody-container.txt)
REFERENCE_CONTAINER = """GPU Device 0: "NVIDIA H200" with compute capability 9.0
262144 bodies, total time for 10 iterations: 450.683 ms
= 1524.785 billion interactions per second
= 30495.693 single-precision GFLOP/s at 20 flops per interaction
"""
FP64 = """> Double precision floating point simulation
GPU Device 0: "NVIDIA H200" with compute capability 9.0
262144 bodies, total time for 10 iterations: 1017.400 ms
= 675.434 billion interactions per second
= 20263.020 double-precision GFLOP/s at 30 flops per interaction
"""


def test_reference_lines_parse_into_a_reference_row():
    row = parse_nbody(REFERENCE_FP32, program="nbody-reference")
    assert (row.name, row.where, row.device, row.precision, row.size, row.metric) == (
        "nbody",
        "reference",
        "cuda:0 NVIDIA H200",
        "fp32",
        262144,
        "GFLOP/s",
    )
    assert row.value == 30460.5 and row.median_s == pytest.approx(0.04512)
    assert "nbody-reference" in row.note and "20 flops" in row.note
    assert parse_nbody(REFERENCE_CONTAINER).value == pytest.approx(30495.693)
    fp64 = parse_nbody(FP64)
    assert fp64.precision == "fp64" and "30 flops" in fp64.note


def test_command_uses_the_samples_own_flags():
    assert nbody_command("/x/nbody", 262144, "fp32") == ["/x/nbody", "-benchmark", "-numbodies=262144"]
    assert nbody_command("/x/nbody", 1024, "fp64", device=1) == [
        "/x/nbody",
        "-benchmark",
        "-numbodies=1024",
        "-device=1",
        "-fp64",
    ]


def _fake(outputs, rc=0):
    calls = []

    def run(argv, **kwargs):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, rc, outputs[len(calls) - 1], "")

    return run, calls


def test_runs_are_repeated_and_summarised_by_median_and_spread(tmp_path):
    lines = [REFERENCE_FP32.replace("30460.5", v) for v in ("30400.0", "30500.0", "30450.0")]
    run, calls = _fake(lines)
    row = run_nvidia_nbody(tmp_path / "nbody", 262144, "fp32", runs=3, run=run)
    assert len(calls) == 3 and row.repeats == 3
    assert row.value == 30450.0 and row.spread == pytest.approx(100 / 30450)
    assert row.where == "reference" and "median of 3 runs" in row.note and "nbody" in row.note


def test_failures_are_one_clear_message(tmp_path):
    with pytest.raises(GpudockError, match="no such file"):
        run_nvidia_nbody(tmp_path / "absent", 1024, "fp32")
    run, _ = _fake(["Error: only 0 Devices available, 1 requested.  Exiting.\n"], rc=1)
    with pytest.raises(GpudockError, match="exited with 1: Error: only 0 Devices"):
        run_nvidia_nbody(tmp_path / "nbody", 1024, "fp32", runs=1, run=run)
    run, _ = _fake([FP64])
    with pytest.raises(GpudockError, match="ran fp64 at N=262144, asked for fp32"):
        run_nvidia_nbody(tmp_path / "nbody", 262144, "fp32", runs=1, run=run)


def _row(where, value, precision="fp32", size=262144, device="cuda:0 NVIDIA H200"):
    return Result("nbody", where, device, precision, size, "GFLOP/s", value, 7, 0.03, 0.004)


def test_pairs_prefer_the_same_run_and_fall_back_to_the_labelled_anchor():
    same_run = Results({}, [_row("host", 42216.2), _row("reference", 30471.9)])
    (p,) = pairs(same_run)
    assert p.measured and p.source == "measured in this run" and p.ratio == pytest.approx(1.3854, rel=1e-4)
    anchored = Results({}, [_row("host", 42216.2), _row("container", 42139.6), _row("host", 25600.0, "fp64")])
    found = pairs(anchored)
    assert [(p.precision, p.measured) for p in found] == [("fp32", False), ("fp64", False)]  # host first, once
    assert found[0].nvidia == 30465.0 and found[1].nvidia == 19745.0
    assert "2026-11-28" in found[0].source and "H200" in found[0].source and "not measured" in found[0].source
    assert pairs(anchored, use_anchor=False) == []
    other = Results({}, [_row("host", 1000.0, device="cuda:0 NVIDIA A100-SXM4-80GB")])
    assert pairs(other) == [] and anchor_for("cuda:0 NVIDIA A100-SXM4-80GB") is None
    assert anchor_for("cuda:0 NVIDIA H200") is H200_ANCHOR and H200_ANCHOR.value("fp32", 1048576) == 31510.0
