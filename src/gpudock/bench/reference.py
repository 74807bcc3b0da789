"""NVIDIA's own nbody beside gpudock's: run `nbody -benchmark` from a path, or show the recorded anchor.

Rows measured by NVIDIA's program go into the results with ``"where": "reference"`` and a note naming
the program (docs/contracts.md, "gpudock bench --json"). Where no such program could run, the anchor
recorded on an H200 is shown instead, always labelled with its date and machine, and never written as a measured row.
"""

from __future__ import annotations

import os
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import BenchmarkError, UsageError
from .container import parse_nbody
from .results import Result, Results

REFERENCE = "reference"


@dataclass(frozen=True)
class Anchor:
    """NVIDIA's sample measured once, elsewhere: a figure to show beside a run, labelled as such."""

    gpu: str
    date: str
    machine: str
    program: str
    values: dict  # (precision, bodies) -> GFLOP/s

    def value(self, precision: str, bodies: int) -> float | None:
        return self.values.get((precision, int(bodies)))

    @property
    def label(self) -> str:
        return f"anchor recorded {self.date} on {self.machine}, not measured in this run"


# docs/reference/nbody-h200-anchor.md: NVIDIA cuda-samples `nbody -benchmark` (host figures).
H200_ANCHOR = Anchor(
    gpu="NVIDIA H200",
    date="2026-11-28",
    machine="an H200 SXM machine (driver 580.159.04, CUDA 13.0)",
    program="NVIDIA cuda-samples nbody -benchmark, built for sm_90",
    values={
        ("fp32", 65536): 28175.0,
        ("fp32", 135168): 30107.0,
        ("fp32", 262144): 30465.0,
        ("fp32", 1048576): 31510.0,
        ("fp64", 65536): 18157.0,
        ("fp64", 135168): 19259.0,
        ("fp64", 262144): 19745.0,
    },
)
ANCHORS = (H200_ANCHOR,)


def anchor_for(device: str) -> Anchor | None:
    """The recorded anchor for a device label such as 'cuda:0 NVIDIA H200', if one exists."""
    name = device.split(" ", 1)[1] if device.startswith("cuda:") and " " in device else device
    return next((a for a in ANCHORS if a.gpu == name), None)


def nbody_command(path: str | Path, bodies: int, precision: str, device: int = 0) -> list[str]:
    """argv for `nbody -benchmark` (the full sample or the headless reference binary take the same flags)."""
    argv = [str(path), "-benchmark", f"-numbodies={int(bodies)}"] + ([f"-device={int(device)}"] if device else [])
    return argv + (["-fp64"] if precision == "fp64" else [])


def nvidia_once(path: str | Path, bodies: int, precision: str, device: int = 0, timeout: float = 300, run=None):
    """A function that runs NVIDIA's `nbody -benchmark` once at ``bodies`` and returns its row (the sample's
    own measurement: one priming step, then 10 steps between two CUDA events, 20 or 30 flops per
    interaction). ``run`` replaces subprocess.run in tests; a wrong path is refused before anything runs."""
    path = Path(path)
    if run is None:
        if not path.is_file():
            raise UsageError(f"{path}: no such file (give the path of NVIDIA's nbody sample binary)")
        if not os.access(path, os.X_OK):
            raise UsageError(f"{path}: not executable")
        run = subprocess.run
    argv = nbody_command(path, bodies, precision, device)

    def once() -> Result:
        try:
            proc = run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchmarkError(f"{path.name} did not finish within {timeout:.0f} s") from None
        except OSError as err:
            raise BenchmarkError(f"{path}: cannot run ({err.strerror})") from None
        if proc.returncode != 0:
            last = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
            raise BenchmarkError(f"{path.name} exited with {proc.returncode}: {last[0][:160]}")
        row = parse_nbody(proc.stdout, where=REFERENCE, program=path.name)
        if row.precision != precision or row.size != bodies:
            ran = f"{row.precision} at N={row.size}"
            raise BenchmarkError(f"{path.name} ran {ran}, asked for {precision} at N={bodies}")
        return row

    return once


def aggregate(parsed: list[Result]) -> Result:
    """One reference row from several runs: median GFLOP/s, spread across the runs."""
    values = [r.value for r in parsed]
    median = statistics.median(values)
    first = parsed[0]
    first.value = median
    first.median_s = statistics.median(r.median_s for r in parsed)
    first.spread = (max(values) - min(values)) / median if median else 0.0
    first.repeats = len(parsed)
    first.note += f"; median of {len(parsed)} runs of 10 steps each"
    return first


def run_nvidia_nbody(
    path: str | Path, bodies: int, precision: str, device: int = 0, runs: int = 3, timeout: float = 300, run=None
) -> Result:
    """NVIDIA's `nbody -benchmark` ``runs`` times at ``bodies``: median GFLOP/s, spread across the runs."""
    once = nvidia_once(path, bodies, precision, device, timeout, run)
    return aggregate([once() for _ in range(max(1, runs))])


@dataclass
class Pair:
    """gpudock's nbody against NVIDIA's at one precision and N."""

    precision: str
    size: int
    device: str
    gpudock: float
    nvidia: float
    source: str  # "measured in this run" or the anchor's label
    measured: bool

    @property
    def ratio(self) -> float:
        return self.gpudock / self.nvidia if self.nvidia else float("inf")


def pairs(results: Results, use_anchor: bool = True) -> list[Pair]:
    """For every gpudock nbody row, NVIDIA's figure at the same N: a reference row of the same run,
    else (``use_anchor``) the recorded anchor, labelled."""
    refs = {(r.device, r.precision, r.size): r for r in results.results if r.where == REFERENCE and r.name == "nbody"}
    out, seen = [], set()
    ours = [r for where in ("host", "container") for r in results.results if r.where == where]  # host first
    for r in ours:
        if r.name != "nbody" or not r.device.startswith("cuda:") or r.key in seen:
            continue
        seen.add(r.key)
        ref = refs.get((r.device, r.precision, r.size))
        if ref is not None:
            out.append(Pair(r.precision, r.size, r.device, r.value, ref.value, "measured in this run", True))
            continue
        anchor = anchor_for(r.device) if use_anchor else None
        value = anchor.value(r.precision, r.size) if anchor else None
        if value:
            out.append(Pair(r.precision, r.size, r.device, r.value, value, anchor.label, False))
    return out
