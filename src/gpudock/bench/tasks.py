"""A benchmark task (one or more result rows) and the row it makes from a Timing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .results import Result
from .timing import Timing


@dataclass
class Task:
    label: str
    run: Callable[[], list[Result]]
    kind: str = ""  # nbody, gemm, copy, transfer, cpu: what --only selects
    gpu: object = None  # the Gpu it runs on (None: the CPU); telemetry is sampled while such tasks run


def make_row(name, where, device, precision, size, metric, value, timing: Timing, note="") -> Result:
    """A result row from a Timing: the median, spread and uncertainty of its samples, and its wall-clock
    window (for the telemetry of the same seconds)."""
    uncertainty = timing.uncertainty
    return Result(
        name,
        where,
        device,
        precision,
        int(size),
        metric,
        float(value),
        len(timing.times),
        timing.median,
        timing.spread,
        note,
        median_uncertainty=uncertainty if uncertainty != float("inf") else None,
        noisy=timing.noisy,
        window=timing.window,
    )
