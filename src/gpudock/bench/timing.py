"""Timing done properly: warm-up, device-side CUDA events on GPUs, median and spread of repeats, and more
repeats while the median is still uncertain.

The median's uncertainty is the half-width of the notch of a box plot, 1.57 x IQR / sqrt(n) (McGill, Tukey
and Larsen, "Variations of Box Plots", The American Statistician 32(1), 1978): roughly a 95 % interval for
the median. Unlike (max - min) / median, it shrinks as samples are added, so "repeat until it is small
enough" terminates; a row that reaches ``max_repeats`` still above the target is flagged noisy.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

NOTCH = 1.57  # McGill et al. (1978): median +- 1.57 IQR / sqrt(n)


def median_uncertainty(times: list[float]) -> float:
    """Relative half-width of the median's notch; inf with fewer than 3 samples (nothing to judge by)."""
    if len(times) < 3:
        return float("inf")
    q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
    middle = statistics.median(times)
    return NOTCH * (q3 - q1) / (middle * len(times) ** 0.5) if middle > 0 else float("inf")


def needs_more(times: list[float], target: float, max_repeats: int) -> bool:
    """Take another sample? While the median is uncertain by more than ``target`` and the cap allows."""
    return len(times) < max_repeats and median_uncertainty(times) > target


@dataclass
class Timing:
    times: list[float]
    target: float = 0.0  # the median uncertainty asked for (0: none asked)
    window: tuple[float, float] = (0.0, 0.0)  # wall-clock (time.time()) start and end, warm-up included
    extra: dict = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def spread(self) -> float:
        return (max(self.times) - min(self.times)) / self.median if self.median > 0 else 0.0

    @property
    def uncertainty(self) -> float:
        return median_uncertainty(self.times)

    @property
    def noisy(self) -> bool:
        """Still uncertain beyond the target after every repeat allowed."""
        return bool(self.target) and self.uncertainty > self.target


def sample_until(take: Callable[[], float], repeats: int, max_repeats: int | None, target: float) -> list[float]:
    """``repeats`` samples, then more while needs_more() says so."""
    times = [take() for _ in range(repeats)]
    while target and max_repeats and needs_more(times, target, max_repeats):
        times.append(take())
    return times


def time_cpu(
    fn: Callable[[], object],
    repeats: int = 5,
    warmup: int = 1,
    min_sample_s: float = 0.0,
    max_repeats: int | None = None,
    target: float = 0.0,
) -> Timing:
    """Seconds per call of ``fn`` on the host clock; each sample repeats ``fn`` until it lasts
    ``min_sample_s`` (calibrated on one call after the warm-up), so millisecond kernels are timed over many calls."""
    started = time.time()
    for _ in range(warmup):
        fn()  # the first call also compiles (numba) and faults pages in
    inner = 1
    if min_sample_s:
        start = time.perf_counter()
        fn()
        one = time.perf_counter() - start
        inner = max(1, int(min_sample_s / one) + 1) if one > 0 else 1

    def take() -> float:
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        return (time.perf_counter() - start) / inner

    times = sample_until(take, repeats, max_repeats, target)
    return Timing(times, target, (started, time.time()))


def gpu_timer(fn: Callable[[], object], warmup_s: float = 0.3, min_sample_s: float = 0.1) -> Callable[[], float]:
    """A function that takes one sample of ``fn`` (seconds per call, CUDA events on the current stream),
    after compiling, calibrating and keeping the GPU busy for ``warmup_s`` so clocks and caches settle (a
    count of warm-up calls is too short for millisecond kernels). Each sample enqueues enough calls between
    one pair of events to last ``min_sample_s``, so launch gaps and event resolution do not count."""
    import cupy

    def run(calls: int) -> float:
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        for _ in range(calls):
            fn()
        stop.record()
        stop.synchronize()
        return cupy.cuda.get_elapsed_time(start, stop) / 1000.0

    return calibrated(run, warmup_s, min_sample_s)


def calibrated(run: Callable[[int], float], warmup_s: float, min_sample_s: float) -> Callable[[], float]:
    """Calls per sample from warm calls, never from the first (which compiles, allocates, picks a cuBLAS
    kernel, and can take ten times longer: calibrating on it made samples short and their rate low, seen on
    the H100 as gpudock's GEMM 6-8 % under torch.matmul's on the same kernel); then the warm-up."""
    import math

    run(1)  # compiles and allocates
    batch = 1
    while (elapsed := run(batch)) < min_sample_s / 10 and batch < 1 << 20:
        batch *= 4
    inner = max(1, math.ceil(min_sample_s * batch / max(elapsed, 1e-9)))
    deadline = time.perf_counter() + warmup_s
    while time.perf_counter() < deadline:
        run(inner)
    return lambda: run(inner) / inner


def time_gpu(
    fn: Callable[[], object],
    repeats: int = 5,
    warmup_s: float = 0.3,
    min_sample_s: float = 0.1,
    max_repeats: int | None = None,
    target: float = 0.0,
) -> Timing:
    """Seconds per call of ``fn``, measured with CUDA events (see gpu_timer), repeated as sample_until says."""
    started = time.time()
    take = gpu_timer(fn, warmup_s, min_sample_s)
    times = sample_until(take, repeats, max_repeats, target)
    return Timing(times, target, (started, time.time()))
