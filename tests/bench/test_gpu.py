"""On a real GPU (the lent H200): kernels give right answers, every precision runs. Skipped without a GPU."""

import numpy as np
import pytest

pytestmark = pytest.mark.requires_gpu


@pytest.mark.parametrize("precision, limit", [("fp32", 1e-4), ("fp64", 1e-10)])
def test_nbody_kernel_matches_the_float64_reference(precision, limit):
    from gpudock.bench.run import check_nbody_gpu

    for n in (256, 1000, 4096):  # fresh random bodies each time; 1000 exercises the zero-mass padding
        assert check_nbody_gpu(precision, n, tolerance=limit) < limit


CONFIGS = [
    ("fp32", dict(bodies_per_thread=1, threads=256, tile=256, unroll=32, rsqrt="libm")),
    ("fp32", dict(bodies_per_thread=2, threads=256, tile=1024, unroll=64, slices=4, splits=16, min_blocks=8)),
    ("fp32", dict(bodies_per_thread=2, threads=128, tile=64, unroll=16, splits=3, staging="warp")),
    ("fp32", dict(bodies_per_thread=4, threads=128, tile=256, unroll=8, rsqrt="soft2", splits=5)),
    ("fp64", dict(bodies_per_thread=1, threads=256, tile=256, unroll=16, rsqrt="libm")),
    ("fp64", dict(bodies_per_thread=2, threads=256, tile=1024, unroll=8, rsqrt="newton", slices=4, splits=8)),
]


@pytest.mark.parametrize("precision, fields", CONFIGS)
def test_every_kernel_shape_computes_all_interactions(precision, fields):
    """Each tuning knob (bodies per thread, slices, source splits, warp staging, rsqrt) gives the same
    function: poisoned output, fresh bodies, several N including uneven splits of the tiles."""
    import cupy

    from gpudock.bench import nbody
    from gpudock.bench.run import TOLERANCE

    config = nbody.KernelConfig(**fields)
    for n in (2048, 5000, 9000):
        pos = nbody.bodies(n, precision)
        if not config.fits(pos.shape[0]):
            continue
        out = cupy.full(pos.shape, cupy.nan, dtype=pos.dtype)
        got = cupy.asnumpy(nbody.accel_gpu(cupy.asarray(pos), precision, out, config))
        assert nbody.relative_error(got, nbody.accel_reference(pos)) < TOLERANCE[precision], (n, config)


def test_nvidia_reference_runs_beside_gpudock():
    """With GPUDOCK_NVIDIA_NBODY=PATH (NVIDIA's nbody or the headless reference binary): reference rows."""
    import os

    from gpudock.bench.reference import run_nvidia_nbody

    path = os.environ.get("GPUDOCK_NVIDIA_NBODY")
    if not path:
        pytest.skip("set GPUDOCK_NVIDIA_NBODY to NVIDIA's nbody binary")
    row = run_nvidia_nbody(path, 65536, "fp32", runs=1)
    assert row.where == "reference" and row.value > 0 and row.size == 65536


@pytest.mark.parametrize("precision", ["fp64", "fp32", "fp16", "bf16"])
def test_gemm_paths_compute_the_product(precision):
    import cupy

    from gpudock.bench import gemm

    n = 256
    a, b, c = gemm.gpu_operands(n, precision)
    gemm.gpu_matmul(precision, a, b, c)()
    if precision == "bf16":  # bf16 bits in and out
        a, b, c = (gemm.bf16_to_float(x) for x in (a, b, c))
    want = cupy.asnumpy(a).astype(np.float64) @ cupy.asnumpy(b).astype(np.float64)
    got = cupy.asnumpy(c).astype(np.float64)
    assert (
        np.max(np.abs(got - want)) / np.max(np.abs(want))
        < {"fp64": 1e-12, "fp32": 1e-5, "fp16": 1e-2, "bf16": 1e-2}[precision]
    )


def test_copy_methods_copy():
    import cupy

    from gpudock.bench import memory

    src, dst = memory.device_buffers(64 << 20)
    src[:] = cupy.arange(src.size, dtype=cupy.float32)
    for method in (memory.d2d_memcpy, memory.d2d_kernel):
        dst[:] = 0
        method(src, dst)()
        cupy.cuda.Device().synchronize()
        assert bool((dst == src).all())


def test_quick_run_measures_every_gpu_and_the_cpu():
    from gpudock.bench.devices import gpu_status
    from gpudock.bench.run import run_benchmarks

    gpus, _ = gpu_status()
    results = run_benchmarks(quick=True, progress=False)
    assert not results.host.get("errors"), results.host.get("errors")
    for gpu in gpus:
        names = {(r.name, r.precision) for r in results.results if r.device == gpu.label}
        assert {
            ("nbody", "fp32"),
            ("nbody", "fp64"),
            ("gemm", "fp32"),
            ("copy_d2d", "bytes"),
            ("h2d_pinned", "bytes"),
        } <= names
    assert all(r.value > 0 and r.median_s > 0 for r in results.results)


def test_live_nvidia_smi_facts_match_the_cuda_devices():
    """nvidia-smi -q -x parses, and every CUDA device finds its facts by PCI bus id."""
    from gpudock.bench.devices import gpu_status
    from gpudock.bench.gpufacts import host_gpu_facts, read_xml

    gpus, _ = gpu_status()
    facts = host_gpu_facts(gpus, *read_xml())
    assert "facts_error" not in facts and not facts.get("facts_missing"), facts
    for gpu in gpus:
        assert facts["pcie"][gpu.label]["gen_max"] and facts["throttle"][gpu.label]["power_limit_w"]


def test_sampler_sees_the_gpu_work():
    import time

    import cupy

    from gpudock.bench.devices import gpu_status
    from gpudock.bench.telemetry import Sampler, summarize

    gpu = gpu_status()[0][0]
    a = cupy.ones((4096, 4096), dtype=cupy.float32)
    sampler = Sampler(interval=0.1).start()
    started = time.time()
    while time.time() < started + 1.5:
        a @ a
        cupy.cuda.Device().synchronize()
    sampler.stop()
    seen = summarize(sampler.samples, sampler.apps, gpu.pci_bus_id, (started, time.time()))
    assert not sampler.errors and seen["samples"] >= 3 and seen["utilization_pct"]["max"] > 0, (seen, sampler.errors)
