"""On a real GPU (the lent H200): kernels give right answers, every precision runs. Skipped without a GPU."""

import numpy as np
import pytest

pytestmark = pytest.mark.requires_gpu


@pytest.mark.parametrize("precision, limit", [("fp32", 1e-4), ("fp64", 1e-10)])
def test_nbody_kernel_matches_the_float64_reference(precision, limit):
    from gpudock.bench.run import check_nbody_gpu

    for n in (256, 1000, 4096):  # fresh random bodies each time; 1000 exercises the zero-mass padding
        assert check_nbody_gpu(precision, n, tolerance=limit) < limit


@pytest.mark.parametrize("precision", ["fp64", "fp32", "fp16", "bf16"])
def test_gemm_paths_compute_the_product(precision):
    import cupy

    from gpudock.bench import gemm

    n = 256
    a, b, c = gemm.gpu_operands(n, precision)
    gemm.gpu_matmul(precision, a, b, c)()
    if precision == "bf16":
        to32 = lambda x: (x.astype(cupy.uint32) << 16).view(cupy.float32)  # noqa: E731
        want = cupy.asnumpy(to32(a)).astype(np.float64) @ cupy.asnumpy(to32(b)).astype(np.float64)
    else:
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
