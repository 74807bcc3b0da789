"""`bench compare` flags differences beyond the measured spread and names the faster side; the results
contract stays additive; the four figures render at slide size with their values on the axes."""

import json
import os
import subprocess
import sys

import matplotlib
import matplotlib.colors
import matplotlib.text
import pytest

from gpudock.bench import plot
from gpudock.bench.ceilings import ceiling_key, ceilings_for, ceilings_from, nbody_issue_limit
from gpudock.bench.results import ADDITIVE_KEYS, RESULT_KEYS, Result, Results, compare

GPU, CPU = "cuda:0 NVIDIA H200", "cpu Intel(R) Xeon(R) Processor (16 threads)"


def row(name, value, where="host", precision="fp32", spread=0.01, device=GPU, size=262144, metric="GFLOP/s", note=""):
    return Result(name, where, device, precision, size, metric, value, 7, 0.03, spread, note)


@pytest.mark.parametrize(
    "a, b, spread_a, spread_b, faster",
    [
        (100.0, 100.4, 0.01, 0.01, ""),  # 0.4 % inside ±1 %
        (100.0, 101.5, 0.01, 0.01, "B"),  # 1.5 % beyond ±1 %
        (100.0, 98.0, 0.01, 0.01, "A"),
        (100.0, 103.0, 0.08, 0.02, ""),  # a noisy side widens the band: ±5 %
        (100.0, 100.2, 0.001, 0.001, "B"),  # a quiet pair flags even 0.2 %
    ],
)
def test_compare_flags_only_differences_beyond_the_measured_spread(a, b, spread_a, spread_b, faster):
    (c,) = compare(Results({}, [row("nbody", a, spread=spread_a)]), Results({}, [row("nbody", b, spread=spread_b)]))
    assert c.faster == faster and c.within_noise == (faster == "")
    assert c.noise == pytest.approx((spread_a + spread_b) / 2)
    if faster:
        assert c.verdict.startswith(f"{faster} faster by") and "beyond ±" in c.verdict
    else:
        assert c.verdict.startswith("within spread")


def test_compare_pairs_reference_rows_only_with_reference_rows():
    a = Results({}, [row("nbody", 42000.0), row("nbody", 30470.0, "reference")])
    b = Results({}, [row("nbody", 42100.0, "container"), row("nbody", 30490.0, "reference")])
    pairs = {(c.where_a, c.where_b): c for c in compare(a, b)}
    assert set(pairs) == {("host", "container"), ("reference", "reference")}
    assert pairs[("reference", "reference")].a == 30470.0


def test_compare_in_merged_files_pairs_like_with_like():
    merged = Results({}, [row("gemm", 100.0), row("gemm", 99.0, "container")])
    same = compare(merged, merged)
    assert sorted((c.where_a, c.where_b) for c in same) == [("container", "container"), ("host", "host")]


def test_comparison_table_says_which_side_is_faster():
    from rich.console import Console

    from gpudock.bench.tables import print_comparison

    console = Console(record=True, width=200)
    rows = compare(Results({}, [row("gemm", 100.0)]), Results({}, [row("gemm", 90.0)]))
    print_comparison(rows, "a.json", "b.json", console=console)
    text = console.export_text()
    assert "A faster by 11.1 %" in text and "0.900" in text


def test_results_contract_is_additive(tmp_path):
    doc = Results(
        {"hostname": "h", "ceilings": {GPU: {"fp32": 1.0}}},
        [row("nbody", 1.0), row("nbody", 2.0, "reference", note="NVIDIA's nbody -benchmark (nbody-reference)")],
    )
    path = doc.save(tmp_path / "r.json")
    raw = json.loads(path.read_text())
    for r in raw["results"]:
        assert set(RESULT_KEYS) <= set(r) and set(r) - set(RESULT_KEYS) <= set(ADDITIVE_KEYS)
    assert raw["results"][1]["where"] == "reference" and "NVIDIA" in raw["results"][1]["note"]
    back = Results.load(path)
    assert [r.where for r in back.results] == ["host", "reference"]
    raw["results"][0]["future_field"] = 1  # unknown keys from a newer writer are ignored
    assert Results.from_dict(raw).results[0].value == 1.0
    merged = Results.merged(back, Results({"hostname": "c"}, [row("nbody", 3.0, "container")]))
    assert [r.where for r in merged.results] == ["host", "reference", "container"]
    assert merged.host["hostname"] == "h" and merged.host["merged"] == [{"hostname": "c"}]


def test_ceilings_name_the_nbody_issue_limit_and_the_fma_peak():
    h200 = ceilings_from("9.0", 132, 1980000, 3133000, 6144)
    assert h200["nbody_issue_fp32"] == pytest.approx(51467.8, rel=1e-4)  # 132 x 1.98 GHz x 128/13 x 20
    assert h200["fp32"] == pytest.approx(66908.16) and h200["fp16"] == pytest.approx(1070530.56)
    assert nbody_issue_limit(132, 1980000, "6.0") is None
    names = [name for name, _ in ceilings_for(row("nbody", 42216.2), h200)]
    assert names == ["nbody issue limit (13 instructions per interaction)", "FP32 FMA peak"]
    assert [n for n, _ in ceilings_for(row("nbody", 25600.0, precision="fp64"), h200)] == ["FP64 FMA peak"]
    assert ceiling_key(row("gemm", 1.0, precision="fp64"), h200) == "fp64_gemm"
    cpu = {"fp32": 2150.4, "fp64": 1075.2}
    assert ceiling_key(row("gemm", 1.0, precision="fp64", device=CPU), cpu) == "fp64"  # no tensor cores
    assert ceilings_for(row("nbody_fastmath", 365.7, device=CPU), cpu) == [("FP32 FMA peak", 2150.4)]


def _h200_results():
    rows = [
        row("nbody", 42216.2),
        row("nbody", 30471.9, "reference"),
        row("nbody", 25600.9, precision="fp64"),
        row("nbody", 20262.0, "reference", precision="fp64"),
        row("gemm", 51116.9, size=8192),
        row("copy_d2d", 4275.4, precision="bytes", size=1 << 31, metric="GB/s"),
        row("nbody", 42139.6, "container"),
        row("gemm", 50589.7, "container", size=8192),
        row("nbody", 290.1, device=CPU, size=8192),
        row("nbody_fastmath", 365.7, device=CPU, size=8192),
        row("nbody_numpy", 1.37, device=CPU, size=8192),
        row("gemm", 1120.9, device=CPU, size=2048),
        row("copy", 93.3, precision="bytes", device=CPU, size=1 << 29, metric="GB/s"),
    ]
    ceilings = {GPU: ceilings_from("9.0", 132, 1980000, 3133000, 6144), CPU: {"fp32": 2150.4, "fp64": 1075.2}}
    return Results({"ceilings": ceilings}, rows)


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [
        t.get_text() for ax in fig.axes for t in ax.get_yticklabels() + ax.get_xticklabels()
    ]


def test_figures_answer_their_question_with_values_printed(tmp_path):
    figs = plot.figures(_h200_results())
    for key, fig in figs.items():
        assert tuple(fig.get_size_inches()) == pytest.approx(plot.SLIDE), key  # the slides' figure box, 1:1
        sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
        assert min(sizes) >= plot.MIN_PT, key  # 13 pt at 100 dpi: 18 px on a 1280×720 slide
        fig.savefig(tmp_path / f"{key}.png", dpi=60)
        assert (tmp_path / f"{key}.png").stat().st_size > 5000
    a = " | ".join(_texts(figs["a"]))
    assert "82 %  42.2 TFLOP/s of 51.5 TFLOP/s" in a and "63 %  42.2 TFLOP/s of 66.9 TFLOP/s" in a
    assert "nbody fp32 · issue limit" in a and "nbody fp32 · FMA peak" in a
    assert "nbody fastmath fp32 · FMA peak" in a and "17 %" in a and "nbody_numpy" not in a
    b = _texts(figs["b"])
    assert "42.2\n(1.39×)" in b and "30.5" in b and "25.6\n(1.26×)" in b
    assert any("measured in the same run" in t.get_text() for t in figs["b"].axes[0].get_legend().get_texts())
    c = " | ".join(_texts(figs["c"]))
    assert "0.998" in c and "0.990" in c and "beyond spread" in c
    colours = {tuple(p.get_facecolor()) for ax in figs["c"].axes for p in ax.patches if p.get_height() == 0.5}
    assert colours == {matplotlib.colors.to_rgba(plot.GREEN)}  # one colour: the side of 0 is the direction
    d = _texts(figs["d"])
    assert "42.2 TFLOP/s\n115×" in d and "366 GFLOP/s\n(fastmath)" in d and "4,275 GB/s\n46×" in d
    assert not any("1.37" in t for t in d)  # never against NumPy


def test_figures_say_what_is_missing_instead_of_plotting_nothing():
    cpu_only = Results({}, [row("nbody", 290.1, device=CPU, size=8192)])
    figs = plot.figures(cpu_only)
    assert all(isinstance(f, plot.Missing) for f in figs.values())  # a sentence, not a blank canvas
    assert "no ceilings known" in repr(figs["a"]) and repr(figs["a"]).startswith("(a) ")
    assert "no NVIDIA reference" in repr(figs["b"])
    assert "no host-and-container pair" in repr(figs["c"])
    assert "need both a GPU and the compiled CPU baseline" in repr(figs["d"])


def test_anchor_is_labelled_when_nvidia_was_not_run():
    results = Results({}, [row("nbody", 42216.2)])
    legend = [t.get_text() for t in plot.fig_reference(results).axes[0].get_legend().get_texts()]
    assert any("anchor recorded 2026-11-28" in t and "not measured in this run" in t for t in legend)


def test_compare_cli_prints_the_verdict(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    Results({}, [row("gemm", 100.0)]).save(a)
    Results({}, [row("gemm", 120.0)]).save(b)
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "bench", "compare", str(a), str(b)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "B faster by 20.0 %" in proc.stdout
