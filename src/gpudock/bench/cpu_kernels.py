"""numba kernels of the CPU baseline (imported lazily by cpu.py; compiled on first use, cached on disk).

One body, two compilations: ``_block`` is inlined into each caller at numba's IR level, so the
caller's fastmath flag governs its arithmetic. Each prange iteration owns LANES target bodies and
sweeps all N sources; the k loop over the block vectorises without reassociating a sum.
"""

import numba
import numpy as np

from .lanes import LANES


@numba.njit(inline="always")
def _block(x, y, z, m, soft2, one, out, i0):  # pragma: no cover - compiled
    n = x.shape[0]
    xi, yi, zi = x[i0 : i0 + LANES], y[i0 : i0 + LANES], z[i0 : i0 + LANES]
    ax = np.zeros(LANES, dtype=x.dtype)
    ay = np.zeros(LANES, dtype=x.dtype)
    az = np.zeros(LANES, dtype=x.dtype)
    for j in range(n):
        qx, qy, qz, qm = x[j], y[j], z[j], m[j]
        for k in range(LANES):
            dx = qx - xi[k]
            dy = qy - yi[k]
            dz = qz - zi[k]
            d2 = dx * dx + dy * dy + dz * dz + soft2
            inv = one / np.sqrt(d2)
            s = qm * inv * inv * inv
            ax[k] += dx * s
            ay[k] += dy * s
            az[k] += dz * s
    for k in range(LANES):
        out[i0 + k, 0] = ax[k]
        out[i0 + k, 1] = ay[k]
        out[i0 + k, 2] = az[k]


@numba.njit(parallel=True, cache=True, nogil=True)
def accel_strict(x, y, z, m, soft2, one, out):  # pragma: no cover - compiled
    for block in numba.prange(x.shape[0] // LANES):
        _block(x, y, z, m, soft2, one, out, block * LANES)


@numba.njit(parallel=True, fastmath=True, cache=True, nogil=True)
def accel_fastmath(x, y, z, m, soft2, one, out):  # pragma: no cover - compiled
    for block in numba.prange(x.shape[0] // LANES):
        _block(x, y, z, m, soft2, one, out, block * LANES)


@numba.njit(parallel=True, cache=True, nogil=True)
def copy(src, dst):  # pragma: no cover - compiled
    for i in numba.prange(src.shape[0]):
        dst[i] = src[i]
