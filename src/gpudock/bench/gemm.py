"""Matrix multiply throughput: cuBLAS (cublasGemmEx through CuPy's bindings) on the GPU (fp64, fp32, fp16,
bf16), NumPy on the CPU."""

from __future__ import annotations

import numpy as np

GPU_PRECISIONS = ("fp64", "fp32", "fp16", "bf16")
CPU_PRECISIONS = ("fp64", "fp32")
_NUMPY = {"fp64": np.float64, "fp32": np.float32, "fp16": np.float16}

# cuBLAS / CUDA enums (library_types.h, cublas_api.h): data types, compute types, the default algorithm.
_CUDA_R = {"fp64": 1, "fp32": 0, "fp16": 2, "bf16": 14}
_COMPUTE = {"fp64": 70, "fp32": 68, "fp16": 68, "bf16": 68}  # CUBLAS_COMPUTE_64F / _32F (fp32 accumulate)
_CUBLAS_GEMM_DEFAULT, _CUBLAS_DEFAULT_MATH = -1, 0
# PyTorch gives its cuBLAS handle a 32 MiB workspace on Hopper (CUBLAS_WORKSPACE_CONFIG :4096:8) and default
# math mode; cuBLAS's heuristics choose kernels by the workspace they may use, so gpudock does the same.
WORKSPACE = 32 << 20
_handles: dict = {}


def cublas_handle(workspace: int | None = None):
    """gpudock's own cuBLAS handle for the current device (default math mode, ``workspace`` bytes of
    workspace where CuPy can set one); created once per device and setting."""
    import cupy
    from cupy.cuda import cublas

    workspace = WORKSPACE if workspace is None else workspace
    key = (cupy.cuda.Device().id, workspace)
    if key not in _handles:
        handle = cublas.create()
        cublas.setMathMode(handle, _CUBLAS_DEFAULT_MATH)
        buffer = cupy.empty(workspace, dtype=cupy.uint8) if workspace else None
        if buffer is not None and hasattr(cublas, "setWorkspace"):
            cublas.setWorkspace(handle, buffer.data.ptr, workspace)
        _handles[key] = (handle, buffer)
    return _handles[key][0]


def flops(n: int) -> float:
    return 2.0 * n**3


def supports(precision: str, compute_capability: str) -> bool:
    major = int(compute_capability.split(".")[0])
    return precision != "bf16" or major >= 8  # bf16 tensor cores from Ampere on


def gpu_operands(n: int, precision: str):
    """(A, B, C) on the current GPU, uniform [0, 1) data; bf16 operands and product are uint16 arrays
    holding bfloat16 bits (as torch.matmul gives: bf16 in, bf16 out, fp32 accumulate)."""
    import cupy

    rng = cupy.random.default_rng(0)
    if precision == "bf16":
        a32 = rng.random((n, n), dtype=cupy.float32)
        b32 = rng.random((n, n), dtype=cupy.float32)
        to_bf16 = lambda x: (x.view(cupy.uint32) >> 16).astype(cupy.uint16)  # noqa: E731  truncation is fine for timing
        return to_bf16(a32), to_bf16(b32), cupy.empty((n, n), dtype=cupy.uint16)
    dtype = _NUMPY[precision]
    a = rng.random((n, n), dtype=cupy.float32 if dtype == np.float16 else dtype).astype(dtype)
    b = rng.random((n, n), dtype=cupy.float32 if dtype == np.float16 else dtype).astype(dtype)
    return a, b, cupy.empty((n, n), dtype=dtype)


def gpu_matmul(precision: str, a, b, c, handle=None):
    """One C = A @ B through cublasGemmEx (the call torch.matmul makes), on gpudock's handle unless
    ``handle`` is given; returns a callable that repeats it (what gets timed)."""
    from cupy.cuda import cublas

    n = a.shape[0]
    scalar = np.float64 if precision == "fp64" else np.float32
    alpha, beta = np.ones(1, scalar), np.zeros(1, scalar)
    handle = handle or cublas_handle()
    kind, compute = _CUDA_R[precision], _COMPUTE[precision]

    def run():
        # column-major cuBLAS on row-major data: C^T = B^T A^T, i.e. pass B first
        cublas.gemmEx(
            handle, cublas.CUBLAS_OP_N, cublas.CUBLAS_OP_N, n, n, n,
            alpha.ctypes.data, b.data.ptr, kind, n, a.data.ptr, kind, n,
            beta.ctypes.data, c.data.ptr, kind, n, compute, _CUBLAS_GEMM_DEFAULT,
        )  # fmt: skip

    return run


def bf16_to_float(x):
    """bfloat16 bits (uint16) -> float32, on the array's own device (CuPy or NumPy)."""
    return (x.astype("uint32") << 16).view("float32")


def cpu_operands(n: int, precision: str):
    rng = np.random.default_rng(0)
    dtype = _NUMPY[precision]
    return rng.random((n, n)).astype(dtype), rng.random((n, n)).astype(dtype), np.empty((n, n), dtype=dtype)
