"""Run the benchmark suite: every GPU separately (CuPy), the CPU (numba, NumPy's BLAS; NumPy as the
correctness reference), NVIDIA's nbody beside gpudock's when given, with progress and results JSON."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..exceptions import BenchmarkError, GpudockError
from . import cpu, gemm, memory, nbody
from .devices import Gpu, cpu_label, gpu_status
from .results import Result, Results
from .timing import Timing, time_cpu, time_gpu

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Sizes:
    """Problem sizes. Full sizes fill a data-centre GPU (an H200's nbody reaches its plateau at
    N >= 262144, GEMM at 8192); quick sizes keep a whole run well under 30 s there."""

    nbody_gpu: int
    gemm_gpu: int
    copy_gpu: int
    transfer: int
    nbody_cpu: int  # compiled (numba) and NumPy nbody run at the same N, so their ratio is like for like
    gemm_cpu: int
    copy_cpu: int
    repeats: int
    reference_runs: int = 3  # runs of NVIDIA's nbody -benchmark per point (each its own 10 timed steps)


FULL = Sizes(
    nbody_gpu=262144,
    gemm_gpu=8192,
    copy_gpu=2 * GiB,
    transfer=1 * GiB,
    nbody_cpu=8192,
    gemm_cpu=2048,
    copy_cpu=512 * MiB,
    repeats=7,
)
QUICK = Sizes(
    nbody_gpu=131072,
    gemm_gpu=4096,
    copy_gpu=512 * MiB,
    transfer=256 * MiB,
    nbody_cpu=2048,
    gemm_cpu=1024,
    copy_cpu=128 * MiB,
    repeats=3,
    reference_runs=1,
)


@dataclass
class Task:
    label: str
    run: Callable[[], list[Result]]


def _where(mountinfo: str = "/proc/self/mountinfo", dockerenv: str = "/.dockerenv") -> str:
    """ "container" inside a Docker container, else "host"; GPUDOCK_WHERE overrides.

    /.dockerenv alone misleads (machine images built with Docker keep it), so the root must
    also be an overlay mount, as Docker's storage drivers make it.
    """
    import os

    if os.environ.get("GPUDOCK_WHERE") in ("host", "container"):
        return os.environ["GPUDOCK_WHERE"]
    try:
        with open(mountinfo) as handle:
            root_fs = next((line.split(" - ")[1].split()[0] for line in handle if line.split()[4] == "/"), "")
    except (OSError, IndexError):
        root_fs = ""
    return "container" if os.path.exists(dockerenv) and root_fs in ("overlay", "aufs", "fuse-overlayfs") else "host"


def _row(name, where, device, precision, size, metric, value, timing: Timing, note="") -> Result:
    return Result(
        name,
        where,
        device,
        precision,
        int(size),
        metric,
        float(value),
        len(timing.times),
        timing.median,
        timing.spread,
        note,
    )


TOLERANCE = {"fp32": 1e-4, "fp64": 1e-10}  # max |a - ref| / max |ref| against float64 NumPy


def _checked(what: str, precision: str, error: float, tolerance: float | None) -> float:
    limit = tolerance if tolerance is not None else TOLERANCE[precision]
    if not error < limit:
        raise BenchmarkError(
            f"{what} {precision} differs from the float64 reference by {error:.2e} (limit {limit:.0e})"
        )
    return error


def check_nbody_gpu(precision: str, n: int = 3000, tolerance: float | None = None) -> float:
    """Relative max error of the GPU kernel against the float64 reference, on fresh random bodies;
    the output is poisoned with NaN first, so an element the kernel did not write fails the check."""
    import cupy

    pos = nbody.bodies(n, precision)
    out = cupy.full(pos.shape, cupy.nan, dtype=pos.dtype)
    got = cupy.asnumpy(nbody.accel_gpu(cupy.asarray(pos), precision, out))
    return _checked("nbody kernel", precision, nbody.relative_error(got, nbody.accel_reference(pos)), tolerance)


def check_nbody_cpu(precision: str, fastmath: bool, n: int = 1000, tolerance: float | None = None) -> float:
    """The same check for the compiled CPU baseline."""
    pos = nbody.bodies(n, precision)
    out = np.full((pos.shape[0], 3), np.nan, dtype=pos.dtype)
    got = cpu.accel_numba(pos, fastmath, out=out)
    what = f"numba nbody ({'fastmath' if fastmath else 'strict'})"
    return _checked(what, precision, nbody.relative_error(got, nbody.accel_reference(pos)), tolerance)


def gpu_tasks(gpu: Gpu, sizes: Sizes, where: str = "host", nvidia_nbody: str | None = None) -> list[Task]:
    import cupy

    def on_device(fn):
        def wrapped():
            with cupy.cuda.Device(gpu.index):
                try:
                    return fn()
                finally:
                    cupy.get_default_memory_pool().free_all_blocks()

        return wrapped

    dev, r = gpu.label, sizes.repeats

    def nbody_task(precision):
        def run():
            error = check_nbody_gpu(precision)
            pos = cupy.asarray(nbody.bodies(sizes.nbody_gpu, precision))
            out = cupy.empty_like(pos)
            timing = time_gpu(lambda: nbody.accel_gpu(pos, precision, out), repeats=r)
            return [
                _row(
                    "nbody",
                    where,
                    dev,
                    precision,
                    sizes.nbody_gpu,
                    "GFLOP/s",
                    nbody.gflops(sizes.nbody_gpu, precision, timing.median),
                    timing,
                    f"CuPy RawKernel, all N² interactions, {nbody.FLOPS_PER_INTERACTION[precision]} flops per "
                    f"interaction as NVIDIA's nbody sample; max rel. error vs float64 {error:.1e}",
                )
            ]

        return Task(f"{dev}: nbody {precision} N={sizes.nbody_gpu}", on_device(run))

    def reference_task(precision):
        def run():
            from .reference import run_nvidia_nbody

            return [
                run_nvidia_nbody(nvidia_nbody, sizes.nbody_gpu, precision, device=gpu.index, runs=sizes.reference_runs)
            ]

        return Task(f"{dev}: NVIDIA nbody -benchmark {precision} N={sizes.nbody_gpu}", run)

    def gemm_task(precision):
        def run():
            a, b, c = gemm.gpu_operands(sizes.gemm_gpu, precision)
            timing = time_gpu(gemm.gpu_matmul(precision, a, b, c), repeats=r)
            return [
                _row(
                    "gemm",
                    where,
                    dev,
                    precision,
                    sizes.gemm_gpu,
                    "GFLOP/s",
                    gemm.flops(sizes.gemm_gpu) / timing.median / 1e9,
                    timing,
                    "cuBLAS via CuPy" + (" (bf16 inputs, fp32 accumulate)" if precision == "bf16" else ""),
                )
            ]

        return Task(f"{dev}: gemm {precision} {sizes.gemm_gpu}³", on_device(run))

    def copy_task():
        def run():
            src, dst = memory.device_buffers(sizes.copy_gpu)
            rows = []
            for name, fn in (
                ("copy_d2d", memory.d2d_memcpy(src, dst)),
                ("copy_d2d_kernel", memory.d2d_kernel(src, dst)),
            ):
                timing = time_gpu(fn, repeats=r)
                rows.append(
                    _row(
                        name,
                        where,
                        dev,
                        "bytes",
                        sizes.copy_gpu,
                        "GB/s",
                        2 * sizes.copy_gpu / timing.median / 1e9,
                        timing,
                        "bytes read + written",
                    )
                )
            return rows

        return Task(f"{dev}: device copy {sizes.copy_gpu // MiB} MiB", on_device(run))

    def transfer_task():
        def run():
            rows = []
            dev_buf = cupy.empty(sizes.transfer, dtype=cupy.uint8)
            for pinned in (False, True):
                host, _keep = memory.host_buffer(sizes.transfer, pinned)
                kind = "pinned" if pinned else "pageable"
                for name, fn in (
                    (f"h2d_{kind}", memory.h2d(host, dev_buf)),
                    (f"d2h_{kind}", memory.d2h(dev_buf, host)),
                ):
                    timing = time_gpu(fn, repeats=r, warmup_s=0.1)
                    rows.append(
                        _row(
                            name,
                            where,
                            dev,
                            "bytes",
                            sizes.transfer,
                            "GB/s",
                            sizes.transfer / timing.median / 1e9,
                            timing,
                        )
                    )
            return rows

        return Task(f"{dev}: host<->device {sizes.transfer // MiB} MiB", on_device(run))

    tasks = []
    for precision in ("fp32", "fp64"):  # NVIDIA's right after gpudock's: the same minute, the same clocks
        tasks += [nbody_task(precision)] + ([reference_task(precision)] if nvidia_nbody else [])
    tasks += [gemm_task(p) for p in gemm.GPU_PRECISIONS if gemm.supports(p, gpu.compute_capability)]
    return tasks + [copy_task(), transfer_task()]


def _peak_note(value: float, precision: str, peak: cpu.CpuPeak) -> str:
    ceiling = peak.gflops(precision)
    if not ceiling:
        return "% of FMA peak unknown (clock unknown)"
    return f"{100 * value / ceiling:.1f} % of the {precision.upper()} FMA peak {ceiling:,.0f} GFLOP/s"


def cpu_tasks(sizes: Sizes, where: str = "host", peak: cpu.CpuPeak | None = None) -> list[Task]:
    """The compiled baseline (numba: nbody strict and fastmath, copy), GEMM through NumPy's BLAS, and
    NumPy's nbody and copy as the references they are. Each row's note names the code, the thread
    count and, for floating point, the share of the CPU's FMA peak."""
    dev, r = cpu_label(), sizes.repeats
    peak = peak or cpu.cpu_peak()
    n = sizes.nbody_cpu

    def nbody_compiled(precision, fastmath):
        def run():
            error = check_nbody_cpu(precision, fastmath)
            pos = nbody.bodies(n, precision)
            soa, out = cpu.nbody_soa(pos), np.empty((pos.shape[0], 3), dtype=pos.dtype)
            timing = time_cpu(lambda: cpu.accel_numba(pos, fastmath, soa, out), repeats=r, min_sample_s=0.05)
            value = nbody.gflops(n, precision, timing.median)
            mode = "fastmath" if fastmath else "strict IEEE (no fastmath)"
            note = (
                f"numba parallel, {mode}, {cpu.threads()} threads; {_peak_note(value, precision, peak)}; "
                f"max rel. error vs float64 {error:.1e}"
            )
            name = "nbody_fastmath" if fastmath else "nbody"
            return [_row(name, where, dev, precision, n, "GFLOP/s", value, timing, note)]

        return Task(f"cpu: nbody {precision} N={n} numba{' fastmath' if fastmath else ''}", run)

    def nbody_numpy(precision):
        def run():
            pos = nbody.bodies(n, precision)
            timing = time_cpu(lambda: nbody.accel_numpy(pos), repeats=min(r, 3))
            note = "NumPy, blocked arrays: the correctness reference, not a baseline (memory-bound by design)"
            return [
                _row(
                    "nbody_numpy",
                    where,
                    dev,
                    precision,
                    n,
                    "GFLOP/s",
                    nbody.gflops(n, precision, timing.median),
                    timing,
                    note,
                )
            ]

        return Task(f"cpu: nbody {precision} N={n} NumPy", run)

    def gemm_task(precision):
        def run():
            a, b, c = gemm.cpu_operands(sizes.gemm_cpu, precision)
            timing = time_cpu(lambda: np.matmul(a, b, out=c), repeats=r, min_sample_s=0.05)
            value = gemm.flops(sizes.gemm_cpu) / timing.median / 1e9
            note = f"NumPy matmul on {cpu.blas()}; {_peak_note(value, precision, peak)}"
            return [_row("gemm", where, dev, precision, sizes.gemm_cpu, "GFLOP/s", value, timing, note)]

        return Task(f"cpu: gemm {precision} {sizes.gemm_cpu}³", run)

    def copy_task():
        def run():
            src = np.ones(sizes.copy_cpu // 8, dtype=np.float64)
            dst = np.empty_like(src)
            rows = []
            for name, fn, note in (
                ("copy", lambda: cpu.copy_numba(src, dst), f"numba parallel, {cpu.threads()} threads"),
                ("copy_numpy", lambda: np.copyto(dst, src), "NumPy copyto, one thread"),
            ):
                timing = time_cpu(fn, repeats=r, min_sample_s=0.05)
                value = 2 * sizes.copy_cpu / timing.median / 1e9
                rows.append(
                    _row(
                        name,
                        where,
                        dev,
                        "bytes",
                        sizes.copy_cpu,
                        "GB/s",
                        value,
                        timing,
                        f"bytes read + written; {note}",
                    )
                )
            return rows

        return Task(f"cpu: copy {sizes.copy_cpu // MiB} MiB", run)

    tasks = []
    for precision in ("fp32", "fp64"):
        tasks += [nbody_compiled(precision, False), nbody_compiled(precision, True), nbody_numpy(precision)]
    return tasks + [gemm_task(p) for p in gemm.CPU_PRECISIONS] + [copy_task()]


def host_facts(gpus: list[Gpu], why_no_gpu: str, peak: cpu.CpuPeak | None = None) -> dict:
    facts = {
        "hostname": platform.node(),
        "cpu": cpu_label(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "gpus": [g.__dict__ | {"label": g.label} for g in gpus],
    }
    if why_no_gpu:
        facts["no_gpu"] = why_no_gpu
    ceilings = {}
    if gpus:
        from .ceilings import gpu_ceilings

        ceilings = {g.label: gpu_ceilings(g.index, g.compute_capability, g.sm_count) for g in gpus}
    if peak is not None:
        facts["cpu_peak"] = peak.to_dict()
        facts["cpu_threads"] = peak.threads
        facts["blas"] = cpu.blas()
        if peak.clock_ghz:
            fp32, fp64 = peak.gflops("fp32"), peak.gflops("fp64")
            ceilings[facts["cpu"]] = {"fp32": fp32, "fp64": fp64}
        try:
            import numba

            facts["numba"] = numba.__version__
        except ImportError:
            pass
    if ceilings:
        facts["ceilings"] = ceilings
    try:
        import cupy

        facts["cupy"] = cupy.__version__
        facts["cuda_driver"] = cupy.cuda.runtime.driverGetVersion() if gpus else None
    except Exception:
        pass
    return facts


def run_benchmarks(
    quick: bool = False,
    cpu: bool = True,
    gpu: bool = True,
    progress: bool = True,
    say: Callable[[str], None] = print,
    nvidia_nbody: str | None = None,
) -> Results:
    """Measure every GPU separately and the CPU; a host without a GPU says why and measures the CPU.

    ``nvidia_nbody``: path of NVIDIA's nbody sample (or a binary that prints its result lines), run at
    the same N right after gpudock's nbody; its rows are ``"where": "reference"``.
    """
    from . import cpu as cpu_module

    sizes = QUICK if quick else FULL
    gpus, why = gpu_status() if gpu else ([], "GPU benchmarks not asked for")
    if gpu and not gpus:
        say(f"no GPU: {why}. Measuring the CPU only.")
    if nvidia_nbody and not gpus:
        say("NVIDIA's nbody not run: no GPU")
    where = _where()  # one look at the mount table per run, not one per result row
    peak = cpu_module.cpu_peak() if cpu else None
    tasks = [t for g in gpus for t in gpu_tasks(g, sizes, where, nvidia_nbody)]
    tasks += cpu_tasks(sizes, where, peak) if cpu else []
    results = Results(host_facts(gpus, why, peak))
    if progress:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            transient=False,
        ) as bar:
            job = bar.add_task("benchmarks", total=len(tasks))
            for task in tasks:
                bar.update(job, description=task.label)
                _run_task(task, results, say)
                bar.advance(job)
            bar.update(job, description="benchmarks done")
    else:
        for task in tasks:
            _run_task(task, results, say)
    return results


def _run_task(task: Task, results: Results, say) -> None:
    """One benchmark failing (an unsupported precision, out of memory) is reported, and the rest still run."""
    try:
        results.results += task.run()
    except GpudockError:
        raise  # a wrong result (the nbody check) must stop the run: its numbers would be meaningless
    except Exception as err:  # CuPy/CUDA errors come in many types
        message = f"{task.label}: failed: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
        say(message)
        results.host.setdefault("errors", []).append(message)
