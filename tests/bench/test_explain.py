"""Attestation, "why low", interleaved comparisons and honest repeats: pure functions over recorded samples
and the committed device runs (docs/benchmarks/h100/issue25), no GPU needed."""

import json
import math

import pytest

from gpudock.bench.attest import attest, pcie_gbps
from gpudock.bench.datasheets import datasheet_for, published_for
from gpudock.bench.interleave import interleave
from gpudock.bench.results import Result, Results
from gpudock.bench.run import finish
from gpudock.bench.timing import calibrated, median_uncertainty, needs_more, sample_until
from gpudock.bench.whylow import explain
from gpudock.exceptions import ResultsFileError
from tests.helpers import ROOT

RUNS = ROOT / "docs" / "benchmarks" / "h100" / "issue25"
H100 = "cuda:0 NVIDIA H100 80GB HBM3"
DERIVED = {"fp32": 66908.16, "fp64": 33454.08, "fp64_gemm": 66908.16, "fp16": 1070530.56, "nbody_issue_fp32": 51467.8}
HOST = {
    "ceilings": {H100: DERIVED},
    "pcie": {H100: {"gen_max": 5.0, "width_max": 16.0, "gen_device_max": 5.0, "gen_host_max": 5.0}},
    "throttle": {H100: {"power_limit_w": 700.0, "default_power_limit_w": 700.0, "sm_clock_max_mhz": 1980.0}},
    "gpu_state": {H100: {"mig_mode": "Disabled"}},
    "numa": {H100: {"local": None}},
}


def row(name, precision, value, where="host", metric="GFLOP/s", telemetry=None, **extra):
    r = Result(name, where, H100, precision, 8192, metric, value, 7, 0.1, 0.01, "", telemetry=telemetry, **extra)
    return r


def judged(r, host=HOST, rows=None):
    attest(r, host)
    r.why_low = explain(r, host, rows or [r])
    return r


def causes(r):
    return [v["cause"] for v in r.why_low]


def test_datasheets_match_the_device_names_cuda_reports():
    assert datasheet_for(H100).model == "H100 SXM" and datasheet_for("cuda:0 NVIDIA H200").model == "H200 SXM"
    assert datasheet_for("cuda:1 NVIDIA H100 PCIe").model == "H100 PCIe"
    assert datasheet_for("cuda:0 NVIDIA H100 NVL").model == "H100 NVL"
    assert datasheet_for("cuda:0 NVIDIA A100-SXM4-80GB").memory == 2039
    assert datasheet_for("cuda:0 NVIDIA GeForce RTX 4070") is None
    assert datasheet_for(H100).peak("bf16") == 1979e3 / 2  # the datasheet's sparse figure, halved


def test_every_gpu_row_gets_its_ceiling_source_and_fraction():
    gemm = judged(row("gemm", "bf16", 740000.0))
    assert (
        gemm.ceiling == 989500 and "H100 SXM datasheet" in gemm.ceiling_source and "nvidia.com" in gemm.ceiling_source
    )
    assert gemm.fraction_of_ceiling == pytest.approx(740000 / 989500) and gemm.expected_fraction == 0.55
    fp64 = judged(row("gemm", "fp64", 55000.0))
    assert fp64.ceiling == 67000 and "tensor-core" in fp64.ceiling_source
    nbody = judged(row("nbody", "fp32", 42332.0))
    assert nbody.ceiling == 51467.8 and nbody.ceiling_source.startswith("nbody issue limit")
    pinned = judged(row("h2d_pinned", "bytes", 54.0, metric="GB/s"))
    assert pinned.ceiling == pytest.approx(63.015, rel=1e-4) and "PCIe Gen5 x16" in pinned.ceiling_source
    assert not pinned.why_low


def test_a_reference_is_measured_never_judged():
    nvidia = judged(row("nbody", "fp32", 30497.0, where="reference"))
    assert nvidia.ceiling == 67000 and nvidia.expected_fraction is None and not nvidia.why_low  # FMA peak


def test_best_published_is_cited_or_said_to_be_unknown():
    h200 = judged(Result("nbody", "host", "cuda:0 NVIDIA H200", "fp32", 262144, "GFLOP/s", 42216.0, 7, 1, 0.01))
    assert h200.best_published == 30465 and "NVIDIA publishes no Hopper nbody figure" in h200.best_published_source
    assert published_for("cuda:0 Tesla K20c", "nbody", "fp32", 65536).value == 1800
    gemm = judged(row("gemm", "fp32", 51000.0))
    assert gemm.best_published is None and gemm.best_published_source.startswith("no published figure")


def test_pcie_link_rates():
    assert pcie_gbps(5, 16) == pytest.approx(63.015, rel=1e-4)
    assert pcie_gbps(3, 16) == pytest.approx(15.754, rel=1e-4) and pcie_gbps(2, 8) == pytest.approx(4.0)
    assert pcie_gbps(None, 16) is None and pcie_gbps(9, 16) is None


def test_a_shared_gpu_is_named_with_the_process():
    tel = {"other_processes": [{"pid": 1053, "name": "python3", "used_mib": 984.0}], "own_process_listed": True}
    r = judged(row("gemm", "bf16", 330000.0, telemetry=tel))
    assert causes(r) == ["shared-gpu"] and "pid 1053 python3" in r.why_low[0]["evidence"]
    alone = {"other_processes": [{"pid": 9, "name": "python3", "used_mib": 1.0}], "own_process_listed": False}
    assert causes(judged(row("gemm", "bf16", 330000.0, telemetry=alone))) == ["no-cause-found"]


def test_power_cap_thermal_and_hardware_slowdowns_are_told_apart():
    tel = {"reasons": {"sw_power_cap": 0.9, "hw_thermal_slowdown": 0.3, "hw_power_brake_slowdown": 0.25},
           "sm_clock_mhz": {"median": 1100.0}, "sm_clock_max_mhz": 1980.0, "power_w": {"median": 699.0},
           "temperature_c": {"max": 91.0}}  # fmt: skip
    r = judged(row("gemm", "fp16", 400000.0, telemetry=tel))
    assert causes(r) == ["power-capped", "thermal-throttled", "hw-slowdown"]
    assert "1,100 of 1,980 MHz" in r.why_low[0]["evidence"] and "91.0 C" in r.why_low[1]["evidence"]
    lowered = {**HOST, "throttle": {H100: {"power_limit_w": 400.0, "default_power_limit_w": 700.0}}}
    r = judged(row("gemm", "fp16", 400000.0, telemetry={"reasons": {"sw_power_cap": 1.0}}), lowered)
    assert "lowered from the default 700 W" in r.why_low[0]["evidence"] and "nvidia-smi -pl 700" in r.why_low[0]["fix"]


def test_a_link_trained_down_a_remote_node_and_pageable_copies():
    tel = {"pcie_gen": 4.0, "pcie_width": 8.0}
    host = {**HOST, "numa": {H100: {"local": False, "gpu_node": 1, "gpu_cpus": "16-31", "process_cpus": "0-15"}}}
    host["pcie"] = {H100: {"gen_max": 5.0, "width_max": 16.0, "gen_device_max": 5.0, "gen_host_max": 4.0}}
    r = judged(row("h2d_pinned", "bytes", 12.0, metric="GB/s", telemetry=tel), host)
    assert causes(r) == ["pcie-trained-down", "pcie-slot-limited", "remote-numa"]
    assert "Gen4 x8" in r.why_low[0]["evidence"] and "numactl --cpunodebind=1" in r.why_low[2]["fix"]
    pinned = judged(row("h2d_pinned", "bytes", 54.0, metric="GB/s"))
    pageable = row("h2d_pageable", "bytes", 8.7, metric="GB/s", telemetry={"reasons": {"sw_power_cap": 1.0}})
    judged(pageable, rows=[pinned, pageable])
    assert causes(pageable) == ["pageable-copies"] and "54.0 GB/s pinned" in pageable.why_low[0]["evidence"]


def test_mig_and_noise_and_no_cause():
    mig = {**HOST, "gpu_state": {H100: {"mig_mode": "Enabled"}}}
    assert causes(judged(row("nbody", "fp32", 9000.0), mig)) == ["mig-slice"]
    noisy = row("gemm", "fp32", 51000.0, noisy=True, median_uncertainty=0.03)
    assert causes(judged(noisy)) == ["noisy"] and "±3.0 %" in noisy.why_low[0]["evidence"]
    assert causes(judged(row("nbody", "fp32", 20000.0))) == ["no-cause-found"]
    assert judged(row("nbody", "fp32", 42000.0)).why_low == []


def test_the_median_uncertainty_shrinks_and_repeats_stop():
    assert median_uncertainty([1.0, 1.0]) == math.inf
    steady = [1.0, 1.001, 0.999, 1.0, 1.002, 0.998, 1.0]
    assert median_uncertainty(steady) < 0.002 and not needs_more(steady, 0.01, 21)
    noisy = [1.0, 1.5, 0.7, 1.2, 0.9, 1.4, 0.8]
    assert needs_more(noisy, 0.01, 21) and not needs_more(noisy, 0.01, 7)
    values = iter([1.0, 1.5, 0.7] + [1.0] * 40)
    taken = sample_until(lambda: next(values), 3, 21, 0.01)
    assert 3 < len(taken) <= 21 and median_uncertainty(taken) <= 0.01


def test_calls_per_sample_come_from_warm_calls():
    """The first call compiles and allocates; calibrating on it made samples short (seen on the H100)."""
    asked = []

    def run(calls):
        asked.append(calls)
        return 10.0 if len(asked) == 1 else 0.0002 * calls

    take = calibrated(run, 0.0, 0.1)
    assert take() == pytest.approx(0.0002) and asked[-1] == 500


def test_alternating_rounds_cancel_a_linear_drift():
    clock = iter(range(1000))

    def side():  # the same work on a GPU that slows by 1 % per sample
        return 100.0 * (1 - 0.01 * next(clock))

    paired = interleave(side, side, 8)
    assert paired.ratio == pytest.approx(1.0, abs=2e-4) and len(paired.ratios) == 8
    clock = iter(range(1000))
    plain = [side() / side() for _ in range(8)]  # A B A B: A always gets the earlier, faster slot
    assert min(plain) > 1.005
    more = interleave(lambda: 1.0 + 0.5 * (next(clock) % 2), lambda: 1.0, 3, 9, 0.01)
    assert len(more.ratios) == 9  # uncertain ratios take more rounds, up to the cap
    assert more.to_dict("x")["program"] == "x"


def test_additive_fields_round_trip_and_wrong_types_read_as_absent(tmp_path):
    r = judged(row("gemm", "bf16", 330000.0, telemetry={"other_processes": [{"pid": 1, "name": "x", "used_mib": 1}]}))
    path = Results({}, [r]).save(tmp_path / "r.json")
    back = Results.load(path).results[0]
    assert (back.ceiling, back.fraction_of_ceiling, back.why_low) == (r.ceiling, r.fraction_of_ceiling, r.why_low)
    doc = json.loads(path.read_text())
    assert "window" not in doc["results"][0]
    doc["results"][0]["ceiling"] = "big"
    with pytest.raises(ResultsFileError, match=r"results\[0\]\.ceiling must be a number or null"):
        Results.from_dict(doc)
    doc["results"][0].update(ceiling=None, why_low=[{"cause": 1, "evidence": "e"}])
    assert Results.from_dict(doc).results[0].why_low == [{"evidence": "e"}]  # only text is kept


def test_the_recorded_h100_runs_are_explained_and_agree_with_torch():
    """docs/benchmarks/h100/issue25: run 3 (the final code) judged again by today's rules."""
    full = Results.load(RUNS / "run3" / "host-full.json")
    finish(full, None)
    vs = {r.precision: r.vs_reference["ratio"] for r in full.results if r.name == "gemm" and r.vs_reference}
    assert set(vs) == {"fp64", "fp32", "fp16", "bf16"} and all(abs(v - 1) <= 0.02 for v in vs.values()), vs
    refs = [r for r in full.results if r.where == "reference"]
    assert {r.name for r in refs} == {"nbody", "gemm"} and all(r.expected_fraction is None for r in refs)
    assert not [v for r in refs for v in r.why_low if v["cause"] == "no-cause-found"]
    pageable = [r for r in full.results if r.name.endswith("_pageable")]
    assert pageable and all("pageable-copies" in causes(r) for r in pageable)
    slow = Results.load(RUNS / "run3" / "slow-shared.json")
    finish(slow, None)
    ours = [r for r in slow.results if r.where == "host"]
    assert ours and all("shared-gpu" in causes(r) for r in ours)


def test_figure_a_and_the_tables_show_the_attestation():
    from rich.console import Console

    from gpudock.bench import plot
    from gpudock.bench.tables import print_results

    results = Results.load(RUNS / "run3" / "host-full.json")
    finish(results, None)
    bars = {b[1]: b for b in plot.ceiling_bars(results)}
    assert bars["gemm bf16 · datasheet"][3] == "734.6 TFLOP/s of 989.5 TFLOP/s"
    assert bars["nbody fp32 · issue limit"][4] == pytest.approx(100 * 30738 / 51467.8, rel=1e-3)  # ◆ published
    assert "h2d_pinned bytes · PCIe Gen5 x16" in bars
    texts = [t.get_text() for ax in plot.fig_ceilings(results).axes for t in ax.texts]
    assert "74 %  734.6 TFLOP/s of 989.5 TFLOP/s" in texts
    console = Console(record=True, width=120)
    print_results(results, console=console)
    text = console.export_text()
    for piece in ("H100 SXM datasheet", "issue limit", "pageable-copies", "within 2 %", "torch.matmul", "Gen5 x16"):
        assert piece in text, piece


def test_a_busy_cpu_is_named_for_cpu_rows():
    cpu = Result("nbody", "host", "cpu X (16 threads)", "fp32", 8192, "GFLOP/s", 100.0, 21, 1, 1.6, "")
    cpu.noisy, cpu.median_uncertainty, cpu.telemetry = True, 0.2, {"loadavg": 40.0, "cpus": 16}
    cpu.why_low = explain(cpu, {}, [cpu])
    assert causes(cpu) == ["cpu-busy", "noisy"] and "load average 40.0 on 16 CPUs" in cpu.why_low[0]["evidence"]


def test_only_selects_kinds_and_refuses_unknown_ones(capsys):
    from gpudock.bench.run import run_benchmarks
    from gpudock.cli import main

    results = run_benchmarks(quick=True, gpu=False, progress=False, only=("transfer",), say=lambda _: None)
    assert results.results == [] and results.host["no_gpu"]
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--only", "nbody,warp"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown kind warp" in err[0]
