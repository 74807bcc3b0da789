"""The GPU benchmarks of one device (CuPy): nbody (beside NVIDIA's, interleaved, when given), GEMM (beside
torch.matmul, interleaved, when PyTorch is there), device copies and host<->device transfers."""

from __future__ import annotations

import time

from . import gemm, memory, nbody
from .checks import check_nbody_gpu
from .devices import Gpu
from .interleave import interleave
from .results import Result
from .sizes import MiB, Sizes
from .tasks import Task, make_row
from .timing import Timing, gpu_timer, needs_more, time_gpu

GPU_TARGET = 0.01  # the median's uncertainty asked of GPU rows: 1 %, so a 2 % difference can be told


def _on_device(gpu: Gpu, fn):
    def wrapped():
        import cupy

        with cupy.cuda.Device(gpu.index):
            try:
                return fn()
            finally:
                cupy.get_default_memory_pool().free_all_blocks()

    return wrapped


def _timing(seconds: list[float], started: float) -> Timing:
    return Timing(seconds, GPU_TARGET, (started, time.time()))


def nbody_rows(gpu: Gpu, sizes: Sizes, where: str, precision: str, nvidia_nbody: str | None) -> list[Result]:
    """gpudock's nbody; with NVIDIA's binary, the two alternate (reference_runs rounds), then gpudock's
    samples are topped up until its median is certain enough."""
    import cupy

    from .reference import aggregate, nvidia_once

    error = check_nbody_gpu(precision)
    n = sizes.nbody_gpu
    pos = cupy.asarray(nbody.bodies(n, precision))
    out = cupy.empty_like(pos)
    started = time.time()
    take = gpu_timer(lambda: nbody.accel_gpu(pos, precision, out))
    rows, paired = [], None
    if nvidia_nbody:
        once, theirs = nvidia_once(nvidia_nbody, n, precision, device=gpu.index), []

        def reference_rate() -> float:
            theirs.append(once())
            return theirs[-1].value

        paired = interleave(lambda: nbody.gflops(n, precision, take()), reference_rate, sizes.reference_runs)
        ref = aggregate(theirs)
        ref.window = (started, time.time())
        rows.append(ref)
    seconds = [nbody.gflops(n, precision, 1.0) / rate for rate in (paired.a if paired else [])]
    seconds += [take() for _ in range(max(0, sizes.repeats - len(seconds)))]
    while needs_more(seconds, GPU_TARGET, sizes.max_repeats):
        seconds.append(take())
    timing = _timing(seconds, started)
    note = (
        f"CuPy RawKernel, all N² interactions, {nbody.FLOPS_PER_INTERACTION[precision]} flops per interaction as "
        f"NVIDIA's nbody sample; max rel. error vs float64 {error:.1e}"
    )
    value = nbody.gflops(n, precision, timing.median)
    row = make_row("nbody", where, gpu.label, precision, n, "GFLOP/s", value, timing, note)
    if paired:
        row.vs_reference = paired.to_dict("NVIDIA's nbody -benchmark (same N, same flop count)")
    return [row] + rows


def gemm_rows(gpu: Gpu, sizes: Sizes, where: str, precision: str, torch) -> list[Result]:
    """cuBLAS through CuPy; with PyTorch, torch.matmul on the same operands in alternating rounds, after a
    check that both compute the same product."""
    n = sizes.gemm_gpu
    a, b, c = gemm.gpu_operands(n, precision)
    flops, started = gemm.flops(n), time.time()
    ours_fn = gemm.gpu_matmul(precision, a, b, c)
    ours = gpu_timer(ours_fn)
    note = f"cublasGemmEx (cuBLAS {_cublas_version()}) via CuPy, {gemm.WORKSPACE >> 20} MiB workspace, " + (
        "fp32 accumulate" if precision in ("fp16", "bf16") else f"{precision} accumulate"
    )
    if torch is None:
        seconds = [ours() for _ in range(sizes.repeats)]
        while needs_more(seconds, GPU_TARGET, sizes.max_repeats):
            seconds.append(ours())
        timing = _timing(seconds, started)
        return [make_row("gemm", where, gpu.label, precision, n, "GFLOP/s", flops / timing.median / 1e9, timing, note)]
    from .torchref import matmul, torch_timer

    with torch.cuda.device(gpu.index):
        theirs_fn = matmul(torch, a, b, c, precision)
        difference = _same_product(ours_fn, theirs_fn, c, precision)
        theirs = torch_timer(torch, theirs_fn)
        rounds = max(sizes.gemm_rounds, sizes.repeats)
        paired = interleave(
            lambda: flops / ours() / 1e9, lambda: flops / theirs() / 1e9, rounds, sizes.max_repeats, GPU_TARGET
        )
    rows = []
    torch_note = _torch_note(torch) + f"; max rel. difference from gpudock's product {difference:.1e}"
    for side, side_where, text in ((paired.a, where, note), (paired.b, "reference", torch_note)):
        timing = _timing([flops / 1e9 / rate for rate in side], started)
        value = flops / timing.median / 1e9
        rows.append(make_row("gemm", side_where, gpu.label, precision, n, "GFLOP/s", value, timing, text))
    rows[0].vs_reference = paired.to_dict(f"torch.matmul (PyTorch {torch.__version__}), same operands")
    return rows


def _same_product(ours, theirs, c, precision: str) -> float:
    """max |C_ours - C_torch| / max |C_ours| on the benchmark's own operands (both write into ``c``)."""
    import cupy

    ours()
    mine = c.copy()
    theirs()
    cupy.cuda.Device().synchronize()
    if precision == "bf16":
        mine, c = gemm.bf16_to_float(mine), gemm.bf16_to_float(c)
    mine, other = mine.astype(cupy.float64), c.astype(cupy.float64)
    return float(cupy.abs(mine - other).max() / max(float(cupy.abs(mine).max()), 1e-300))


def _cublas_version() -> str:
    from cupy.cuda import cublas

    try:
        return str(cublas.getVersion(gemm.cublas_handle()))
    except Exception:  # an old CuPy without getVersion: the version is only a note
        return "?"


def _torch_note(torch) -> str:
    return (
        f"PyTorch {torch.__version__} torch.matmul on gpudock's operands (shared through DLPack), timed with "
        "torch.cuda.Event, alternating rounds with gpudock's GEMM"
    )


def copy_rows(gpu: Gpu, sizes: Sizes, where: str) -> list[Result]:
    src, dst = memory.device_buffers(sizes.copy_gpu)
    rows = []
    for name, fn in (("copy_d2d", memory.d2d_memcpy(src, dst)), ("copy_d2d_kernel", memory.d2d_kernel(src, dst))):
        timing = time_gpu(fn, sizes.repeats, 0.3, 0.1, sizes.max_repeats, GPU_TARGET)
        value = 2 * sizes.copy_gpu / timing.median / 1e9
        note = "bytes read + written"
        rows.append(make_row(name, where, gpu.label, "bytes", sizes.copy_gpu, "GB/s", value, timing, note))
    return rows


def transfer_rows(gpu: Gpu, sizes: Sizes, where: str) -> list[Result]:
    import cupy

    rows = []
    dev_buf = cupy.empty(sizes.transfer, dtype=cupy.uint8)
    for pinned in (False, True):
        host, _keep = memory.host_buffer(sizes.transfer, pinned)
        kind = "pinned" if pinned else "pageable"
        for name, fn in ((f"h2d_{kind}", memory.h2d(host, dev_buf)), (f"d2h_{kind}", memory.d2h(dev_buf, host))):
            timing = time_gpu(fn, sizes.repeats, 0.1, 0.1, sizes.max_repeats, GPU_TARGET)
            value = sizes.transfer / timing.median / 1e9
            rows.append(make_row(name, where, gpu.label, "bytes", sizes.transfer, "GB/s", value, timing, "bytes moved"))
    return rows


def gpu_tasks(gpu: Gpu, sizes: Sizes, where: str = "host", nvidia_nbody: str | None = None, torch=None) -> list[Task]:
    """Every GPU task of one device, in order: nbody fp32, fp64 (each with NVIDIA's right beside it), GEMM
    per supported precision (each with torch.matmul beside it), device copy, host<->device transfers."""
    dev = gpu.label
    tasks = [
        Task(
            f"{dev}: nbody {p} N={sizes.nbody_gpu}" + (" + NVIDIA's" if nvidia_nbody else ""),
            _on_device(gpu, lambda p=p: nbody_rows(gpu, sizes, where, p, nvidia_nbody)),
            "nbody",
            gpu,
        )
        for p in ("fp32", "fp64")
    ]
    tasks += [
        Task(
            f"{dev}: gemm {p} {sizes.gemm_gpu}³" + (" + torch.matmul" if torch is not None else ""),
            _on_device(gpu, lambda p=p: gemm_rows(gpu, sizes, where, p, torch)),
            "gemm",
            gpu,
        )
        for p in gemm.GPU_PRECISIONS
        if gemm.supports(p, gpu.compute_capability)
    ]
    label = f"{dev}: device copy {sizes.copy_gpu // MiB} MiB"
    tasks.append(Task(label, _on_device(gpu, lambda: copy_rows(gpu, sizes, where)), "copy", gpu))
    label = f"{dev}: host<->device {sizes.transfer // MiB} MiB"
    tasks.append(Task(label, _on_device(gpu, lambda: transfer_rows(gpu, sizes, where)), "transfer", gpu))
    return tasks
