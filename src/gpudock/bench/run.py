"""Run the benchmark suite: every GPU separately (CuPy), the CPU (NumPy), with progress and results JSON."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..exceptions import BenchmarkError, GpudockError
from . import gemm, memory, nbody
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
    nbody_cpu: int
    gemm_cpu: int
    copy_cpu: int
    repeats: int


FULL = Sizes(
    nbody_gpu=262144,
    gemm_gpu=8192,
    copy_gpu=2 * GiB,
    transfer=1 * GiB,
    nbody_cpu=4096,
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


def check_nbody_gpu(precision: str, n: int = 1024, tolerance: float | None = None) -> float:
    """Relative max error of the GPU kernel against the float64 reference, on fresh random bodies."""
    import cupy

    pos = nbody.bodies(n, precision)
    got = cupy.asnumpy(nbody.accel_gpu(cupy.asarray(pos), precision))[:, :3]
    want = nbody.accel_reference(pos)
    error = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
    limit = tolerance if tolerance is not None else (1e-4 if precision == "fp32" else 1e-10)
    if not error < limit:
        raise BenchmarkError(
            f"nbody {precision} kernel differs from the float64 reference by {error:.2e} (limit {limit:.0e})"
        )
    return error


def gpu_tasks(gpu: Gpu, sizes: Sizes, where: str = "host") -> list[Task]:
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
            check_nbody_gpu(precision)
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
                    f"{nbody.FLOPS_PER_INTERACTION[precision]} flops per interaction, as NVIDIA's nbody sample",
                )
            ]

        return Task(f"{dev}: nbody {precision} N={sizes.nbody_gpu}", on_device(run))

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

    tasks = [nbody_task("fp32"), nbody_task("fp64")]
    tasks += [gemm_task(p) for p in gemm.GPU_PRECISIONS if gemm.supports(p, gpu.compute_capability)]
    return tasks + [copy_task(), transfer_task()]


def cpu_tasks(sizes: Sizes, where: str = "host") -> list[Task]:
    dev, r = cpu_label(), sizes.repeats

    def nbody_task(precision):
        def run():
            pos = nbody.bodies(sizes.nbody_cpu, precision)
            timing = time_cpu(lambda: nbody.accel_numpy(pos), repeats=r)
            return [
                _row(
                    "nbody",
                    where,
                    dev,
                    precision,
                    sizes.nbody_cpu,
                    "GFLOP/s",
                    nbody.gflops(sizes.nbody_cpu, precision, timing.median),
                    timing,
                    "NumPy",
                )
            ]

        return Task(f"cpu: nbody {precision} N={sizes.nbody_cpu}", run)

    def gemm_task(precision):
        def run():
            a, b, c = gemm.cpu_operands(sizes.gemm_cpu, precision)
            timing = time_cpu(lambda: np.matmul(a, b, out=c), repeats=r)
            return [
                _row(
                    "gemm",
                    where,
                    dev,
                    precision,
                    sizes.gemm_cpu,
                    "GFLOP/s",
                    gemm.flops(sizes.gemm_cpu) / timing.median / 1e9,
                    timing,
                    "NumPy (BLAS)",
                )
            ]

        return Task(f"cpu: gemm {precision} {sizes.gemm_cpu}³", run)

    def copy_task():
        def run():
            timing = time_cpu(memory.cpu_copy(sizes.copy_cpu), repeats=r)
            return [
                _row(
                    "copy",
                    where,
                    dev,
                    "bytes",
                    sizes.copy_cpu,
                    "GB/s",
                    2 * sizes.copy_cpu / timing.median / 1e9,
                    timing,
                    "bytes read + written",
                )
            ]

        return Task(f"cpu: copy {sizes.copy_cpu // MiB} MiB", run)

    return [nbody_task("fp32"), nbody_task("fp64")] + [gemm_task(p) for p in gemm.CPU_PRECISIONS] + [copy_task()]


def host_facts(gpus: list[Gpu], why_no_gpu: str) -> dict:
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
    if gpus:
        from .ceilings import gpu_ceilings

        facts["ceilings"] = {g.label: gpu_ceilings(g.index, g.compute_capability, g.sm_count) for g in gpus}
    try:
        import cupy

        facts["cupy"] = cupy.__version__
        facts["cuda_driver"] = cupy.cuda.runtime.driverGetVersion() if gpus else None
    except Exception:
        pass
    return facts


def run_benchmarks(
    quick: bool = False, cpu: bool = True, gpu: bool = True, progress: bool = True, say: Callable[[str], None] = print
) -> Results:
    """Measure every GPU separately and the CPU; a host without a GPU says why and measures the CPU."""
    sizes = QUICK if quick else FULL
    gpus, why = gpu_status() if gpu else ([], "GPU benchmarks not asked for")
    if gpu and not gpus:
        say(f"no GPU: {why}. Measuring the CPU with NumPy only.")
    where = _where()  # one look at the mount table per run, not one per result row
    tasks = [t for g in gpus for t in gpu_tasks(g, sizes, where)] + (cpu_tasks(sizes, where) if cpu else [])
    results = Results(host_facts(gpus, why))
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
