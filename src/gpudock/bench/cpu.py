"""The compiled CPU baseline: numba kernels for nbody and copy, the CPU's FMA peak, the BLAS behind NumPy.

The GPU is compared with these, never with the NumPy loops (NumPy's nbody is a correctness reference:
it materialises every interaction as arrays, so it measures memory traffic, not the CPU's arithmetic).

nbody is compiled twice per precision: strict IEEE (``fastmath=False``: 1/sqrt is a real square root and
a division) and ``fastmath=True`` (LLVM may use the approximate reciprocal square root with a Newton
step, and reassociate). Both are checked against the float64 NumPy reference and both are reported.
Inner loops run over a block of ``LANES`` target bodies, so they vectorise across bodies without
reassociating any sum: the strict version is vectorised too.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .lanes import LANES  # the kernels' block (cpu_kernels.py reads the same constant)


def _kernels():
    from . import cpu_kernels  # imports numba (about half a second): only when a CPU benchmark runs

    return cpu_kernels


def nbody_soa(pos: np.ndarray):
    """Structure of arrays (x, y, z, m) from the (n, 4) bodies; n must be a multiple of LANES."""
    if pos.shape[0] % LANES:
        raise ValueError(f"n must be a multiple of {LANES}")
    return tuple(np.ascontiguousarray(pos[:, k]) for k in range(4))


def accel_numba(pos: np.ndarray, fastmath: bool, soa=None, out=None) -> np.ndarray:
    """Accelerations of every body, (n, 3), in pos's precision; compiled with numba, all threads."""
    from .nbody import SOFTENING2

    k = _kernels()
    kernel = k.accel_fastmath if fastmath else k.accel_strict
    x, y, z, m = soa if soa is not None else nbody_soa(pos)
    out = out if out is not None else np.empty((pos.shape[0], 3), dtype=pos.dtype)
    kernel(x, y, z, m, pos.dtype.type(SOFTENING2), pos.dtype.type(1), out)
    return out


def copy_numba(src: np.ndarray, dst: np.ndarray) -> None:
    _kernels().copy(src, dst)


def threads() -> int:
    """Threads numba's parallel loops use (NUMBA_NUM_THREADS, else one per CPU this process may use)."""
    try:
        import numba

        return int(numba.get_num_threads())
    except Exception:  # numba missing or broken: say how many CPUs there are
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def blas(infos: list[dict] | None = None, numpy_dir: str | None = None) -> str:
    """NumPy's BLAS as threadpoolctl sees it, e.g. 'OpenBLAS 0.3.31 (libscipy_openblas64_, pthreads, 16 threads,
    kernel SkylakeX)'. Several BLAS libraries may be loaded (SciPy's, another package's): the one inside
    NumPy's own folder is NumPy's; without one, the first is named and said to be a guess."""
    try:
        import numpy

        if infos is None:
            from threadpoolctl import threadpool_info

            infos = threadpool_info()
        numpy_dir = numpy_dir or str(Path(numpy.__file__).parent)
    except Exception as err:
        return f"unknown BLAS ({type(err).__name__})"
    infos = [i for i in infos if i.get("user_api") == "blas"]
    if not infos:
        return "no BLAS library found by threadpoolctl"
    root = str(Path(numpy_dir).parent)
    own = [i for i in infos if str(i.get("filepath", "")).startswith((numpy_dir, root + "/numpy.libs"))]
    i = (own or infos)[0]
    names = {"openblas": "OpenBLAS", "mkl": "Intel MKL", "blis": "BLIS", "flexiblas": "FlexiBLAS"}
    name = names.get(str(i.get("internal_api")), str(i.get("internal_api") or i.get("prefix")))
    details = [str(i["prefix"])] if i.get("prefix") else []
    details += [d for d in (i.get("threading_layer"), f"{i.get('num_threads')} threads") if d and d != "unknown"]
    if i.get("architecture"):
        details.append(f"kernel {i['architecture']}")
    if not own:
        details.append("not found in NumPy's folder: the first BLAS loaded")
    return f"{name} {i.get('version') or ''}".strip() + f" ({', '.join(details)})"


# --- the CPU's FMA peak ------------------------------------------------------------------------------


@dataclass
class CpuPeak:
    """FMA peak of the cores this process may use: cores x clock x SIMD lanes x 2 FMA pipes x 2 flops."""

    cores: int
    threads: int
    simd: str  # "AVX-512", "AVX2", "SSE2", ...
    bits: int  # vector width the FMA units work on per instruction
    fma_pipes: int
    clock_ghz: float | None
    clock_source: str
    notes: list[str] = field(default_factory=list)

    def gflops(self, precision: str) -> float | None:
        if not self.clock_ghz:
            return None
        lanes = self.bits // (32 if precision == "fp32" else 64)
        return self.cores * self.clock_ghz * lanes * self.fma_pipes * 2

    @property
    def derivation(self) -> str:
        lanes32 = self.bits // 32
        clock = f"{self.clock_ghz:.2f} GHz ({self.clock_source})" if self.clock_ghz else "clock unknown"
        text = (
            f"{self.cores} cores x {clock} x {lanes32} fp32 / {lanes32 // 2} fp64 lanes ({self.simd}, "
            f"{self.bits}-bit) x {self.fma_pipes} FMA pipes x 2 flops"
        )
        return text + ("; " + "; ".join(self.notes) if self.notes else "")

    def to_dict(self) -> dict:
        return {
            "fp32": self.gflops("fp32"),
            "fp64": self.gflops("fp64"),
            "cores": self.cores,
            "threads": self.threads,
            "simd": self.simd,
            "bits": self.bits,
            "fma_pipes": self.fma_pipes,
            "clock_ghz": self.clock_ghz,
            "clock_source": self.clock_source,
            "derivation": self.derivation,
        }


def _cpuinfo_blocks(text: str) -> list[dict[str, str]]:
    blocks = []
    for chunk in text.strip().split("\n\n"):
        entry = {}
        for line in chunk.splitlines():
            if ":" in line:
                key, value = line.split(":", 1)
                entry[key.strip()] = value.strip()
        if entry:
            blocks.append(entry)
    return blocks


# Over 60 lines on purpose: one probe of the CPU (ISA, clock, cores) read top to bottom; issue 25 may split it.
def cpu_peak(
    cpuinfo: str | None = None,
    cpus: set[int] | None = None,
    max_freq_khz: str | None = None,
    threads_used: int | None = None,
) -> CpuPeak:
    """Derive the FMA peak from /proc/cpuinfo (flags, cores, clock) and cpufreq's maximum, if present.

    The clock is taken, in this order, from cpufreq's cpuinfo_max_freq (the highest boost the kernel
    knows), the nominal clock in the model name ('@ 2.40GHz'), or 'cpu MHz' (in a virtual machine
    often the host's TSC rate, not a boost clock: said so in the note). With none, the clock is unknown
    and no percentage of peak is given. Two FMA pipes per core (every Intel core since Haswell and
    AMD since Zen 2 has two; some Xeon Silver/Bronze have one 512-bit unit): an upper bound.
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    if cpus is None and hasattr(os, "sched_getaffinity"):
        cpus = set(os.sched_getaffinity(0))
    blocks = [b for b in _cpuinfo_blocks(cpuinfo) if "processor" in b]
    if cpus is not None:
        blocks = [b for b in blocks if int(b["processor"]) in cpus] or blocks
    logical = len(blocks) or (os.cpu_count() or 1)
    cores_seen = {(b.get("physical id", "0"), b.get("core id", b["processor"])) for b in blocks}
    cores = len(cores_seen) or logical
    first = blocks[0] if blocks else {}
    flags = set(first.get("flags", "").split())
    notes = []
    if "avx512f" in flags:
        simd, bits = "AVX-512", 512
        family = first.get("cpu family", "")
        if first.get("vendor_id") == "AuthenticAMD" and family == "25":
            bits = 256  # Zen 4 runs 512-bit FMAs as two 256-bit halves
            notes.append("Zen 4 (family 25): 512-bit FMAs issue as two 256-bit halves")
    elif "avx2" in flags and "fma" in flags:
        simd, bits = "AVX2+FMA", 256
    elif "avx" in flags:
        simd, bits = "AVX (no FMA)", 256
        notes.append("no FMA instruction: peak counts a multiply and an add per lane per pipe")
    elif flags:
        simd, bits = "SSE2", 128
    else:
        simd, bits = "unknown SIMD (no x86 flags)", 128
        notes.append("flags not found in /proc/cpuinfo: 128-bit vectors assumed")
    clock, source = None, "unknown"
    if max_freq_khz is None:
        try:
            max_freq_khz = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()
        except OSError:
            max_freq_khz = ""
    nominal = re.search(r"@\s*([\d.]+)\s*GHz", first.get("model name", ""))
    if max_freq_khz.strip().isdigit() and int(max_freq_khz) > 0:
        clock, source = int(max_freq_khz) / 1e6, "cpufreq maximum"
    elif nominal:
        clock, source = float(nominal.group(1)), "nominal clock in the model name; boost may be higher"
    elif first.get("cpu MHz"):
        try:
            clock = float(first["cpu MHz"]) / 1000
            source = "/proc/cpuinfo 'cpu MHz': in a VM often the TSC rate, not the sustained clock"
        except ValueError:
            clock = None
    if clock is None:
        notes.append("clock unknown: no percentage of peak")
    if logical != cores:
        notes.append(f"{logical} hardware threads on {cores} cores: peak counts cores")
    return CpuPeak(
        cores=cores,
        threads=threads_used if threads_used is not None else threads(),
        simd=simd,
        bits=bits,
        fma_pipes=2,
        clock_ghz=clock,
        clock_source=source,
        notes=notes,
    )


def percent_of_peak(value_gflops: float, peak_gflops: float | None) -> float | None:
    return 100.0 * value_gflops / peak_gflops if peak_gflops else None
