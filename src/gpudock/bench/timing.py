"""Timing done properly: warm-up, device-side CUDA events on GPUs, median and spread of repeats."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Timing:
    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def spread(self) -> float:
        return (max(self.times) - min(self.times)) / self.median if self.median > 0 else 0.0


def time_cpu(fn: Callable[[], object], repeats: int = 5, warmup: int = 1, min_sample_s: float = 0.0) -> Timing:
    """Seconds per call of ``fn`` on the host clock; each sample repeats ``fn`` until it lasts
    ``min_sample_s`` (calibrated on one call after the warm-up), so millisecond kernels are timed over many calls."""
    for _ in range(warmup):
        fn()  # the first call also compiles (numba) and faults pages in
    inner = 1
    if min_sample_s:
        start = time.perf_counter()
        fn()
        one = time.perf_counter() - start
        inner = max(1, int(min_sample_s / one) + 1) if one > 0 else 1
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return Timing(times)


def time_gpu(fn: Callable[[], object], repeats: int = 5, warmup_s: float = 0.3, min_sample_s: float = 0.03) -> Timing:
    """Seconds per call of ``fn``, measured with CUDA events on the current stream.

    The GPU is first kept busy for ``warmup_s`` so clocks and caches settle (a count of
    warm-up calls is too short for millisecond kernels); then each sample enqueues enough
    calls between one pair of events to last ``min_sample_s``, so launch gaps and event
    resolution do not count.
    """
    import math

    import cupy

    def run(calls: int) -> float:
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        for _ in range(calls):
            fn()
        stop.record()
        stop.synchronize()
        return cupy.cuda.get_elapsed_time(start, stop) / 1000.0

    one = run(1)  # also compiles and allocates
    inner = max(1, math.ceil(min_sample_s / max(one, 1e-7)))
    deadline = time.perf_counter() + warmup_s
    while time.perf_counter() < deadline:
        run(inner)
    return Timing([run(inner) / inner for _ in range(repeats)])
