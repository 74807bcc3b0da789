"""Correctness before timing: every nbody kernel (GPU and compiled CPU) against the float64 NumPy reference."""

from __future__ import annotations

import numpy as np

from ..exceptions import BenchmarkError
from . import cpu, nbody

TOLERANCE = {"fp32": 1e-4, "fp64": 1e-10}  # max |a - ref| / max |ref| against float64 NumPy


def _checked(what: str, precision: str, error: float, tolerance: float | None) -> float:
    limit = tolerance if tolerance is not None else TOLERANCE[precision]
    if not error < limit:
        raise BenchmarkError(
            f"{what} {precision} differs from the float64 reference by {error:.2e} (limit {limit:.0e})"
        )
    return error


def check_nbody_gpu(precision: str, n: int = 3000, tolerance: float | None = None, config=None) -> float:
    """Relative max error of the GPU kernel against the float64 reference, on fresh random bodies;
    the output is poisoned with NaN first, so an element the kernel did not write fails the check."""
    import cupy

    pos = nbody.bodies(n, precision)
    out = cupy.full(pos.shape, cupy.nan, dtype=pos.dtype)
    got = cupy.asnumpy(nbody.accel_gpu(cupy.asarray(pos), precision, out, config))
    return _checked("nbody kernel", precision, nbody.relative_error(got, nbody.accel_reference(pos)), tolerance)


def check_nbody_cpu(precision: str, fastmath: bool, n: int = 1000, tolerance: float | None = None) -> float:
    """The same check for the compiled CPU baseline."""
    pos = nbody.bodies(n, precision)
    out = np.full((pos.shape[0], 3), np.nan, dtype=pos.dtype)
    got = cpu.accel_numba(pos, fastmath, out=out)
    what = f"numba nbody ({'fastmath' if fastmath else 'strict'})"
    return _checked(what, precision, nbody.relative_error(got, nbody.accel_reference(pos)), tolerance)
