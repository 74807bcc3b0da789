"""The compiled CPU baseline: numba kernels agree with NumPy's float64 reference; the FMA peak is derived
from /proc/cpuinfo the way the row notes say; NumPy's BLAS is named."""

import numpy as np
import pytest

from gpudock.bench import cpu, nbody
from gpudock.bench.run import TOLERANCE, check_nbody_cpu

INTEL = """processor\t: {p}
vendor_id\t: GenuineIntel
cpu family\t: 6
model name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz
cpu MHz\t\t: 2000.000
physical id\t: 0
siblings\t: 4
core id\t\t: {core}
cpu cores\t: 2
flags\t\t: fpu sse2 avx fma avx2 avx512f avx512dq
"""
ZEN4 = """processor\t: {p}
vendor_id\t: AuthenticAMD
cpu family\t: 25
model name\t: AMD EPYC 9654 96-Core Processor
cpu MHz\t\t: 2400.000
physical id\t: 0
core id\t\t: {core}
flags\t\t: fpu sse2 avx fma avx2 avx512f
"""
ALL = set(range(4096))  # every logical CPU of the fake cpuinfo
HASWELL_NO_CLOCK = """processor\t: {p}
vendor_id\t: GenuineIntel
model name\t: Intel Core Processor (Haswell)
core id\t\t: {core}
flags\t\t: fpu sse2 avx fma avx2
"""


def cpuinfo(template: str, cores: int, threads_per_core: int = 1) -> str:
    blocks = [
        template.format(p=c * threads_per_core + t, core=c) for c in range(cores) for t in range(threads_per_core)
    ]
    return "\n".join(blocks)


@pytest.mark.parametrize("precision", ["fp32", "fp64"])
@pytest.mark.parametrize("fastmath", [False, True])
def test_numba_nbody_matches_the_float64_reference(precision, fastmath):
    for n in (100, 700):  # fresh random bodies each time, padded with zero-mass ones
        pos = nbody.bodies(n, precision)
        out = np.full((pos.shape[0], 3), np.nan, dtype=pos.dtype)  # poisoned: every element must be written
        got = cpu.accel_numba(pos, fastmath, out=out)
        assert got.dtype == pos.dtype
        assert nbody.relative_error(got, nbody.accel_reference(pos)) < TOLERANCE[precision]
        # NumPy in the same precision agrees too: the compiled code computes the same function
        assert nbody.relative_error(got, nbody.accel_numpy(pos).astype(np.float64)) < TOLERANCE[precision]
    assert check_nbody_cpu(precision, fastmath) < TOLERANCE[precision]


def test_numba_nbody_two_body_hand_calculation():
    pos = np.zeros((cpu.LANES, 4))
    pos[0] = (0, 0, 0, 1.0)
    pos[1] = (1, 0, 0, 2.0)
    acc = cpu.accel_numba(pos, fastmath=False)
    expected = 2.0 / (1 + nbody.SOFTENING2) ** 1.5
    assert acc[0, 0] == pytest.approx(expected) and acc[1, 0] == pytest.approx(-expected / 2)


def test_numba_copy_copies():
    src = np.arange(10_001, dtype=np.float64)
    dst = np.zeros_like(src)
    cpu.copy_numba(src, dst)
    assert np.array_equal(src, dst)


def test_relative_error_rejects_nan():
    want = np.ones((4, 3))
    got = np.ones((4, 3))
    got[2, 1] = np.nan
    assert nbody.relative_error(got, want) == float("inf")


def test_peak_avx512_intel_counts_physical_cores_and_the_nominal_clock():
    peak = cpu.cpu_peak(cpuinfo(INTEL, cores=2, threads_per_core=2), cpus=ALL, max_freq_khz="", threads_used=4)
    assert (peak.cores, peak.simd, peak.bits, peak.clock_ghz) == (2, "AVX-512", 512, 2.0)
    assert peak.gflops("fp32") == pytest.approx(2 * 2.0 * 16 * 2 * 2)  # cores x GHz x lanes x 2 pipes x 2
    assert peak.gflops("fp64") == pytest.approx(peak.gflops("fp32") / 2)
    text = peak.derivation
    assert "2 cores" in text and "2.00 GHz (nominal" in text and "16 fp32 / 8 fp64 lanes" in text
    assert "4 hardware threads on 2 cores" in text


def test_peak_zen4_uses_256_bit_halves_and_cpufreq_maximum_wins():
    peak = cpu.cpu_peak(cpuinfo(ZEN4, cores=4), cpus=ALL, max_freq_khz="3700000\n", threads_used=4)
    assert peak.bits == 256 and peak.clock_ghz == pytest.approx(3.7) and peak.clock_source == "cpufreq maximum"
    assert peak.gflops("fp32") == pytest.approx(4 * 3.7 * 8 * 2 * 2)
    assert "Zen 4" in peak.derivation


def test_peak_without_a_clock_is_honest():
    peak = cpu.cpu_peak(cpuinfo(HASWELL_NO_CLOCK, cores=8), cpus=ALL, max_freq_khz="", threads_used=8)
    assert peak.simd == "AVX2+FMA" and peak.bits == 256
    assert peak.clock_ghz is None and peak.gflops("fp32") is None
    assert "clock unknown" in peak.derivation
    assert cpu.percent_of_peak(100.0, peak.gflops("fp32")) is None


def test_peak_of_a_vm_says_where_the_clock_came_from():
    vm = INTEL.replace("Gold 6338 CPU @ 2.00GHz", "Processor")
    peak = cpu.cpu_peak(cpuinfo(vm, cores=16), cpus=ALL, max_freq_khz="", threads_used=16)
    assert peak.clock_ghz == pytest.approx(2.0) and "cpu MHz" in peak.clock_source and "TSC" in peak.clock_source
    assert cpu.percent_of_peak(2150.4 / 4, peak.gflops("fp32")) == pytest.approx(100 * 537.6 / (16 * 2 * 16 * 4))


def test_peak_honours_the_cpus_this_process_may_use():
    peak = cpu.cpu_peak(cpuinfo(INTEL, cores=2, threads_per_core=2), cpus={0, 1}, max_freq_khz="", threads_used=2)
    assert peak.cores == 1  # logical CPUs 0 and 1 are the two threads of core 0


def test_live_peak_and_blas_are_described():
    peak = cpu.cpu_peak()
    assert peak.cores >= 1 and peak.threads >= 1 and peak.derivation
    assert set(peak.to_dict()) >= {
        "fp32",
        "fp64",
        "cores",
        "threads",
        "simd",
        "clock_ghz",
        "clock_source",
        "derivation",
    }
    name = cpu.blas()
    assert "threads" in name or "no BLAS" in name or "unknown BLAS" in name


def test_kernel_shapes_are_validated_and_explained():
    from gpudock.bench.nbody import DEFAULT, PAD, KernelConfig, kernel_source

    for precision, config in DEFAULT.items():
        assert config.fits(262144) and config.fits(PAD)  # the H200 size and the padding unit
        source = kernel_source(precision, config)
        assert "Why it is shaped like this" in source and f"#define BPT {config.bodies_per_thread}" in source
    with pytest.raises(ValueError, match="whole warps"):
        kernel_source("fp32", KernelConfig(2, 48, 96, 8, slices=2))
    with pytest.raises(ValueError, match="do not divide"):
        kernel_source("fp32", KernelConfig(1, 256, 100, 8))
    with pytest.raises(ValueError, match="warp staging"):
        kernel_source("fp32", KernelConfig(1, 256, 256, 8, slices=2, staging="warp"))


def test_blas_names_numpys_own_library_among_several():
    scipy = {
        "user_api": "blas",
        "internal_api": "openblas",
        "prefix": "libscipy_openblas",
        "filepath": "/site/scipy.libs/libscipy_openblas-1.so",
        "version": "0.3.34",
        "num_threads": 16,
        "threading_layer": "pthreads",
        "architecture": "SkylakeX",
    }
    numpy_own = dict(scipy, filepath="/site/numpy.libs/libscipy_openblas64_-2.so", version="0.3.31.188.0")
    openmp = {"user_api": "openmp", "internal_api": "openmp", "filepath": "/x/libgomp.so", "num_threads": 16}
    text = cpu.blas([openmp, scipy, numpy_own], numpy_dir="/site/numpy")
    assert text == "OpenBLAS 0.3.31.188.0 (libscipy_openblas, pthreads, 16 threads, kernel SkylakeX)"
    assert "the first BLAS loaded" in cpu.blas([scipy], numpy_dir="/elsewhere/numpy")
    assert cpu.blas([openmp], numpy_dir="/site/numpy") == "no BLAS library found by threadpoolctl"
