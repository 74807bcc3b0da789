"""Benchmarks on a CPU-only host (CI): the CPU rows, the JSON contract, compare, container parsing."""

import json
import subprocess
import sys

import numpy as np
import pytest

from gpudock.bench import nbody
from gpudock.bench.compare import compare
from gpudock.bench.container import parse_nbody
from gpudock.bench.results import RESULT_KEYS, Result, Results
from gpudock.exceptions import GpudockError


def test_numpy_nbody_matches_the_reference_in_both_precisions():
    for precision, limit in (("fp32", 1e-4), ("fp64", 1e-12)):
        pos = nbody.bodies(700, precision)  # fresh random bodies, padded to 1024 with zero-mass ones
        got, want = nbody.accel_numpy(pos), nbody.accel_reference(pos)
        assert np.max(np.abs(got - want)) / np.max(np.abs(want)) < limit


def test_nbody_reference_against_a_two_body_hand_calculation():
    pos = np.zeros((nbody.PAD, 4))
    pos[0, :] = (0, 0, 0, 1.0)
    pos[1, :] = (1, 0, 0, 2.0)
    acc = nbody.accel_reference(pos)
    expected = 2.0 / (1 + nbody.SOFTENING2) ** 1.5
    assert acc[0, 0] == pytest.approx(expected) and acc[1, 0] == pytest.approx(-expected / 2)


def test_gflops_counts_like_nvidia_nbody():
    # Docker's docs example: 30720 bodies, 10 iterations in 69.280 ms = 2724.379 GFLOP/s (fp32, 20 flops)
    assert nbody.gflops(30720, "fp32", 0.069280 / 10) == pytest.approx(2724.379, rel=1e-4)


def test_quick_cli_json_follows_the_contract(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "bench", "--quick", "--json", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc == json.loads(out.read_text())
    assert set(doc) == {"host", "results"} and doc["results"]
    for row in doc["results"]:
        assert set(RESULT_KEYS) <= set(row)
        assert row["where"] in ("host", "container") and row["value"] > 0 and row["repeats"] >= 3
    if not doc["host"]["gpus"]:
        assert "no GPU" in proc.stderr and doc["host"]["no_gpu"]
        assert {r["name"] for r in doc["results"]} == {
            "nbody",
            "nbody_fastmath",
            "nbody_numpy",
            "gemm",
            "copy",
            "copy_numpy",
        }
    cpu_rows = [r for r in doc["results"] if r["device"].startswith("cpu")]
    threads = doc["host"]["cpu_threads"]
    for row in cpu_rows:  # every compiled row names its code and thread count; FLOP rows their share of peak
        if row["name"] in ("nbody", "nbody_fastmath", "copy"):
            assert "numba" in row["note"] and f"{threads} threads" in row["note"]
        if row["name"] in ("nbody", "nbody_fastmath", "gemm") and doc["host"]["cpu_peak"]["clock_ghz"]:
            assert "% of the FP" in row["note"] and "FMA peak" in row["note"]
    assert any("NumPy matmul on" in r["note"] for r in cpu_rows if r["name"] == "gemm")
    assert doc["host"]["cpu_peak"]["derivation"]


def _results(value):
    return Results(
        {"hostname": "x"}, [Result("gemm", "host", "cuda:0 X", "fp32", 8192, "GFLOP/s", value, 7, 0.02, 0.01)]
    )


def test_compare_matches_host_and_container_rows():
    a, b = _results(100.0), _results(99.5)
    b.results[0].where = "container"
    (row,) = compare(a, b)
    assert row.ratio == pytest.approx(0.995) and row.within_noise and row.faster == ""
    slower = compare(a, _results(80.0))[0]
    assert not slower.within_noise and slower.faster == "A" and "A faster by 25.0 %" in slower.verdict


@pytest.mark.parametrize(
    "content, message",
    [
        ("garbage", "not a JSON results file"),
        ('{"results": [{"name": "x"}]}', "results[0] lacks where"),
        ('{"snapshot": {}}', "not a gpudock bench file"),
        (
            '{"host": {}, "results": [{"name": "a", "where": "host", "device": "d", "precision": "p", "size": 1, '
            '"metric": "m", "value": "fast", "repeats": 1, "median_s": 1, "spread": 0}]}',
            "value must be a number",
        ),
    ],
)
def test_compare_refuses_corrupt_or_foreign_files_with_one_line(tmp_path, content, message):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    _results(1.0).save(good)
    bad.write_text(content)
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "bench", "compare", str(good), str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_bench_with_wrong_words_is_usage_error():
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "bench", "comapre", "a", "b"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "invalid choice: 'comapre' (choose from 'compare')" in proc.stderr


NBODY_DOCKER_DOCS = """> Windowed mode
> Simulation data stored in video memory
> Single precision floating point simulation
> 1 Devices used for simulation
GPU Device 0: "GeForce RTX 2060 with Max-Q Design" with compute capability 7.5

> Compute 7.5 CUDA device: [GeForce RTX 2060 with Max-Q Design]
30720 bodies, total time for 10 iterations: 69.280 ms
= 136.219 billion interactions per second
= 2724.379 single-precision GFLOP/s at 20 flops per interaction
"""


def test_parse_nvidia_nbody_output():
    result = parse_nbody(NBODY_DOCKER_DOCS)
    assert (result.name, result.where, result.precision, result.size, result.value) == (
        "nbody",
        "reference",
        "fp32",
        30720,
        2724.379,
    )
    assert "NVIDIA's nbody -benchmark" in result.note
    assert result.device == "cuda:0 GeForce RTX 2060 with Max-Q Design"
    assert result.median_s == pytest.approx(0.006928)


def test_parse_failure_names_the_last_line():
    with pytest.raises(GpudockError, match="only 0 Devices available"):
        parse_nbody("> Windowed mode\nError: only 0 Devices available, 1 requested.  Exiting.\n")


@pytest.mark.requires_docker
def test_nbody_sample_absent_offline_is_one_clear_message():
    from gpudock.bench.container import nbody_sample

    with pytest.raises(GpudockError, match="is not on this host"):
        nbody_sample(pull=False)


@pytest.mark.requires_docker
def test_nbody_sample_pull_failure_offline_is_one_clear_message():
    from gpudock.bench.container import nbody_sample

    said = []
    with pytest.raises(GpudockError, match="cannot pull"):
        nbody_sample(pull=True, say=said.append)
    assert said and "pulling" in said[0]


def test_where_tells_a_container_from_a_machine_image(tmp_path, monkeypatch):
    from gpudock.bench.run import _where

    dockerenv = tmp_path / ".dockerenv"
    dockerenv.touch()
    overlay = tmp_path / "overlay"
    overlay.write_text(
        "80 52 0:43 / / rw,relatime master:2 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X\n"
    )
    ext4 = tmp_path / "ext4"
    ext4.write_text("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n")
    monkeypatch.delenv("GPUDOCK_WHERE", raising=False)
    assert _where(str(overlay), str(dockerenv)) == "container"
    assert _where(str(ext4), str(dockerenv)) == "host"  # a VM whose image was built with Docker
    assert _where(str(overlay), str(tmp_path / "absent")) == "host"
    monkeypatch.setenv("GPUDOCK_WHERE", "container")
    assert _where(str(ext4), str(tmp_path / "absent")) == "container"
