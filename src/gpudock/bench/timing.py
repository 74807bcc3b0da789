"""Timing done properly: warm-up, device-side CUDA events on GPUs, median and spread of repeats."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class Timing:
    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def spread(self) -> float:
        return (max(self.times) - min(self.times)) / self.median if self.median > 0 else 0.0


def time_cpu(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> Timing:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return Timing(times)


def time_gpu(fn: Callable[[], object], repeats: int = 5, warmup: int = 1, inner: int = 1) -> Timing:
    """Seconds per call of ``fn`` measured with CUDA events on the current stream.

    ``inner`` calls are enqueued between one pair of events, so launch gaps of
    sub-millisecond kernels do not count as GPU time.
    """
    import cupy

    for _ in range(warmup):
        fn()
    cupy.cuda.get_current_stream().synchronize()
    times = []
    for _ in range(repeats):
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        for _ in range(inner):
            fn()
        stop.record()
        stop.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, stop) / 1000.0 / inner)
    return Timing(times)
