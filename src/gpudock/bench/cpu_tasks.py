"""The CPU benchmarks: the compiled baseline (numba nbody strict and fastmath, copy), GEMM through NumPy's
BLAS, and NumPy's nbody and copy as the references they are. Each row's note names the code, the thread
count and, for floating point, the share of the CPU's FMA peak; its telemetry holds the load average."""

from __future__ import annotations

import os
from functools import partial

import numpy as np

from . import cpu, gemm, nbody
from .checks import check_nbody_cpu
from .devices import cpu_label
from .sizes import MiB, Sizes
from .tasks import Task, make_row
from .timing import time_cpu

CPU_TARGET = 0.02  # the median's uncertainty asked of CPU rows


def _peak_note(value: float, precision: str, peak: cpu.CpuPeak) -> str:
    ceiling = peak.gflops(precision)
    if not ceiling:
        return "% of FMA peak unknown (clock unknown)"
    return f"{100 * value / ceiling:.1f} % of the {precision.upper()} FMA peak {ceiling:,.0f} GFLOP/s"


def _load(rows):
    """The rows with the load average after them: other work on the CPU shows up here ("cpu-busy")."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    for row in rows:
        row.telemetry = {"loadavg": load, "cpus": os.cpu_count()}
    return rows


def _time(fn, sizes: Sizes, repeats: int | None = None):
    return time_cpu(fn, repeats or sizes.repeats, 1, 0.05, sizes.max_repeats, CPU_TARGET)


def nbody_compiled(sizes: Sizes, where: str, peak: cpu.CpuPeak, precision: str, fastmath: bool) -> list:
    dev, n = cpu_label(), sizes.nbody_cpu
    error = check_nbody_cpu(precision, fastmath)
    pos = nbody.bodies(n, precision)
    soa, out = cpu.nbody_soa(pos), np.empty((pos.shape[0], 3), dtype=pos.dtype)
    timing = _time(lambda: cpu.accel_numba(pos, fastmath, soa, out), sizes)
    value = nbody.gflops(n, precision, timing.median)
    mode = "fastmath" if fastmath else "strict IEEE (no fastmath)"
    note = (
        f"numba parallel, {mode}, {cpu.threads()} threads; {_peak_note(value, precision, peak)}; "
        f"max rel. error vs float64 {error:.1e}"
    )
    name = "nbody_fastmath" if fastmath else "nbody"
    return _load([make_row(name, where, dev, precision, n, "GFLOP/s", value, timing, note)])


def nbody_numpy(sizes: Sizes, where: str, precision: str) -> list:
    dev, n = cpu_label(), sizes.nbody_cpu
    pos = nbody.bodies(n, precision)
    timing = time_cpu(lambda: nbody.accel_numpy(pos), repeats=min(sizes.repeats, 3))
    note = "NumPy, blocked arrays: the correctness reference, not a baseline (memory-bound by design)"
    value = nbody.gflops(n, precision, timing.median)
    return _load([make_row("nbody_numpy", where, dev, precision, n, "GFLOP/s", value, timing, note)])


def gemm_cpu(sizes: Sizes, where: str, peak: cpu.CpuPeak, precision: str) -> list:
    a, b, c = gemm.cpu_operands(sizes.gemm_cpu, precision)
    timing = _time(lambda: np.matmul(a, b, out=c), sizes)
    value = gemm.flops(sizes.gemm_cpu) / timing.median / 1e9
    note = f"NumPy matmul on {cpu.blas()}; {_peak_note(value, precision, peak)}"
    return _load([make_row("gemm", where, cpu_label(), precision, sizes.gemm_cpu, "GFLOP/s", value, timing, note)])


def copy_cpu(sizes: Sizes, where: str) -> list:
    src = np.ones(sizes.copy_cpu // 8, dtype=np.float64)
    dst = np.empty_like(src)
    rows = []
    for name, fn, note in (
        ("copy", lambda: cpu.copy_numba(src, dst), f"numba parallel, {cpu.threads()} threads"),
        ("copy_numpy", lambda: np.copyto(dst, src), "NumPy copyto, one thread"),
    ):
        timing = _time(fn, sizes)
        value = 2 * sizes.copy_cpu / timing.median / 1e9
        note = f"bytes read + written; {note}"
        rows.append(make_row(name, where, cpu_label(), "bytes", sizes.copy_cpu, "GB/s", value, timing, note))
    return _load(rows)


def cpu_tasks(sizes: Sizes, where: str = "host", peak: cpu.CpuPeak | None = None) -> list[Task]:
    """nbody (strict, fastmath, NumPy) per precision, GEMM per precision, copy."""
    peak = peak or cpu.cpu_peak()
    n, tasks = sizes.nbody_cpu, []
    for p in ("fp32", "fp64"):
        for fast in (False, True):
            label = f"cpu: nbody {p} N={n} numba{' fastmath' if fast else ''}"
            tasks.append(Task(label, partial(nbody_compiled, sizes, where, peak, p, fast), "cpu"))
        tasks.append(Task(f"cpu: nbody {p} N={n} NumPy", partial(nbody_numpy, sizes, where, p), "cpu"))
    for p in gemm.CPU_PRECISIONS:
        tasks.append(Task(f"cpu: gemm {p} {sizes.gemm_cpu}³", partial(gemm_cpu, sizes, where, peak, p), "cpu"))
    return tasks + [Task(f"cpu: copy {sizes.copy_cpu // MiB} MiB", partial(copy_cpu, sizes, where), "cpu")]
