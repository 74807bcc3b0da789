"""Matrix multiply throughput: cuBLAS through CuPy on the GPU (fp64, fp32, fp16, bf16), NumPy on the CPU."""

from __future__ import annotations

import numpy as np

GPU_PRECISIONS = ("fp64", "fp32", "fp16", "bf16")
CPU_PRECISIONS = ("fp64", "fp32")
_NUMPY = {"fp64": np.float64, "fp32": np.float32, "fp16": np.float16}

# cuBLAS / CUDA enums (library_types.h, cublas_api.h) for the bf16 path, which CuPy has no dtype for.
_CUDA_R_16BF, _CUBLAS_COMPUTE_32F, _CUBLAS_GEMM_DEFAULT = 14, 68, -1


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


def gpu_matmul(precision: str, a, b, c):
    """One C = A @ B; returns a callable that repeats it (what gets timed)."""
    import cupy

    if precision != "bf16":
        return lambda: cupy.matmul(a, b, out=c)
    from cupy.cuda import cublas, device

    n = a.shape[0]
    alpha, beta = np.ones(1, np.float32), np.zeros(1, np.float32)
    handle = device.get_cublas_handle()

    def run():
        # column-major cuBLAS on row-major data: C^T = B^T A^T, i.e. pass B first
        cublas.gemmEx(
            handle,
            cublas.CUBLAS_OP_N,
            cublas.CUBLAS_OP_N,
            n,
            n,
            n,
            alpha.ctypes.data,
            b.data.ptr,
            _CUDA_R_16BF,
            n,
            a.data.ptr,
            _CUDA_R_16BF,
            n,
            beta.ctypes.data,
            c.data.ptr,
            _CUDA_R_16BF,
            n,
            _CUBLAS_COMPUTE_32F,
            _CUBLAS_GEMM_DEFAULT,
        )

    return run


def bf16_to_float(x):
    """bfloat16 bits (uint16) -> float32, on the array's own device (CuPy or NumPy)."""
    return (x.astype("uint32") << 16).view("float32")


def cpu_operands(n: int, precision: str):
    rng = np.random.default_rng(0)
    dtype = _NUMPY[precision]
    return rng.random((n, n)).astype(dtype), rng.random((n, n)).astype(dtype), np.empty((n, n), dtype=dtype)
