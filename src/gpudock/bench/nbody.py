"""All-pairs N-body with softened gravity, counted like NVIDIA's nbody sample (20 flops per
interaction in fp32, 30 in fp64), so GFLOP/s compare directly with `nbody -benchmark`.

GPU: a CuPy RawKernel that tiles the bodies through shared memory (one body per thread,
BLOCK bodies per tile, the inner loop unrolled), the layout of the sample's kernel.
CPU: the same arithmetic in NumPy, blocked to bound memory. Both are checked against a
float64 NumPy reference on small N.
"""

from __future__ import annotations

import numpy as np

BLOCK = 256
SOFTENING2 = 0.01
FLOPS_PER_INTERACTION = {"fp32": 20, "fp64": 30}  # nbody.cpp: computePerfStats

_KERNEL = r"""
extern "C" __global__ void __launch_bounds__(BLOCK)
nbody_accel(const VEC4* __restrict__ pos, VEC4* __restrict__ acc, int n, T soft2)
{
    __shared__ VEC4 tile[BLOCK];
    int i = blockIdx.x * BLOCK + threadIdx.x;
    VEC4 p = pos[i];
    T ax = 0, ay = 0, az = 0;
    for (int start = 0; start < n; start += BLOCK) {
        tile[threadIdx.x] = pos[start + threadIdx.x];
        __syncthreads();
        #pragma unroll 32
        for (int k = 0; k < BLOCK; ++k) {
            VEC4 q = tile[k];
            T dx = q.x - p.x, dy = q.y - p.y, dz = q.z - p.z;
            T d2 = fma(dx, dx, fma(dy, dy, fma(dz, dz, soft2)));
            T inv = RSQRT(d2);
            T s = q.w * inv * inv * inv;
            ax = fma(dx, s, ax); ay = fma(dy, s, ay); az = fma(dz, s, az);
        }
        __syncthreads();
    }
    acc[i] = MAKE4(ax, ay, az, (T)0);
}
"""
_kernels: dict = {}


def _kernel(precision: str):
    import cupy

    key = (precision, cupy.cuda.Device().id)
    if key not in _kernels:
        t, rsqrt = ("float", "rsqrtf") if precision == "fp32" else ("double", "rsqrt")
        header = (
            f"typedef {t} T;\ntypedef {t}4 VEC4;\n#define RSQRT {rsqrt}\n"
            f"#define MAKE4 make_{t}4\n#define BLOCK {BLOCK}\n"
        )
        _kernels[key] = cupy.RawKernel(header + _KERNEL, "nbody_accel")
    return _kernels[key]


def bodies(n: int, precision: str, seed: int | None = None) -> np.ndarray:
    """(n, 4) positions in a unit cube and positive masses in w; n rounded up to BLOCK with zero-mass bodies."""
    rng = np.random.default_rng(seed)
    padded = -(-n // BLOCK) * BLOCK
    out = np.zeros((padded, 4), dtype=np.float32 if precision == "fp32" else np.float64)
    out[:n, :3] = rng.random((n, 3))
    out[:n, 3] = rng.random(n) / n + 1e-3 / n
    return out


def accel_reference(pos: np.ndarray) -> np.ndarray:
    """float64 NumPy accelerations, the yardstick for both implementations."""
    return accel_numpy(pos.astype(np.float64))


def accel_numpy(pos: np.ndarray, block: int = 256) -> np.ndarray:
    out = np.zeros((pos.shape[0], 3), dtype=pos.dtype)
    x, y, z, mass = (np.ascontiguousarray(pos[:, k]) for k in range(4))
    soft2 = pos.dtype.type(SOFTENING2)
    for start in range(0, pos.shape[0], block):
        stop = start + block
        dx, dy, dz = (
            x[None, :] - x[start:stop, None],
            y[None, :] - y[start:stop, None],
            z[None, :] - z[start:stop, None],
        )
        inv = 1 / np.sqrt(dx * dx + dy * dy + dz * dz + soft2)
        s = mass[None, :] * inv * inv * inv
        out[start:stop, 0], out[start:stop, 1], out[start:stop, 2] = (dx * s).sum(1), (dy * s).sum(1), (dz * s).sum(1)
    return out


def accel_gpu(pos_device, precision: str, out=None):
    import cupy

    n = pos_device.shape[0]
    if n % BLOCK:
        raise ValueError(f"n must be a multiple of {BLOCK}")
    out = out if out is not None else cupy.empty_like(pos_device)
    scalar = np.float32(SOFTENING2) if precision == "fp32" else np.float64(SOFTENING2)
    _kernel(precision)((n // BLOCK,), (BLOCK,), (pos_device, out, np.int32(n), scalar))
    return out


def gflops(n: int, precision: str, seconds: float) -> float:
    return n * n * FLOPS_PER_INTERACTION[precision] / seconds / 1e9
