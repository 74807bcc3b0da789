"""PyTorch's torch.matmul as a reference for gpudock's GEMM: the same shape on the very same operands (shared
through DLPack, so the same data distribution down to the bit), each side timed with its own library's CUDA
events. PyTorch is not a dependency: without it there is no reference row, and the run says why."""

from __future__ import annotations

from collections.abc import Callable

from .timing import calibrated


def torch_status() -> tuple[object | None, str]:
    """(the torch module, "") or (None, why not); never raises."""
    try:
        import torch
    except ImportError:
        return None, "PyTorch is not installed: no torch.matmul reference"
    except Exception as err:  # a broken install
        return None, f"PyTorch does not import: {type(err).__name__}: {str(err)[:120]}"
    try:
        if not torch.cuda.is_available():
            return None, "PyTorch sees no CUDA device: no torch.matmul reference"
    except Exception as err:
        return None, f"PyTorch's CUDA check failed: {type(err).__name__}"
    return torch, ""


def shared(torch, array, precision: str):
    """A torch tensor over a CuPy array's memory; bf16 operands are CuPy uint16 arrays of bfloat16 bits."""
    if precision == "bf16":  # the same 16 bits seen as int16 (every DLPack reader knows it), then as bfloat16
        return torch.from_dlpack(array.view("int16")).view(torch.bfloat16)
    return torch.from_dlpack(array)


def matmul(torch, a, b, c, precision: str) -> Callable[[], object]:
    """One C = A @ B through torch.matmul, into C (no allocation per call); TF32 stays off for fp32 (PyTorch's
    default, and CuPy's), so both sides do the same arithmetic."""
    torch.backends.cuda.matmul.allow_tf32 = False
    ta, tb, tc = (shared(torch, x, precision) for x in (a, b, c))
    return lambda: torch.matmul(ta, tb, out=tc)


def torch_timer(torch, fn: Callable[[], object], warmup_s: float = 0.3, min_sample_s: float = 0.1) -> Callable:
    """Like timing.gpu_timer, with torch.cuda.Event on PyTorch's current stream."""

    def run(calls: int) -> float:
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        stop.record()
        stop.synchronize()
        return start.elapsed_time(stop) / 1000.0

    return calibrated(run, warmup_s, min_sample_s)  # the same calibration and warm-up as gpudock's side
