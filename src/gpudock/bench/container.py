"""Benchmarks in a container: NVIDIA's nbody sample through the Docker SDK with a GPU device request.

Parsing follows the sample's printf formats (cuda-samples nbody.cpp). Nothing is pulled unless
``pull=True``; then the pull is announced first and its failure (offline, no registry) is one clear line.
"""

from __future__ import annotations

import math
import re

from ..exceptions import BenchmarkError, ContainerFailed, ImageMissing
from ..images import NBODY_IMAGE
from .results import Result

_BODIES = re.compile(r"^(\d+) bodies, total time for (\d+) iterations: ([\d.]+) ms$", re.M)
_GFLOPS = re.compile(r"^= ([\d.]+) (single|double)-precision GFLOP/s at (\d+) flops per interaction$", re.M)
_DEVICE = re.compile(r'^GPU Device (\d+): "(.*)" with compute capability (\d+)\.(\d+)$', re.M)


def parse_nbody(output: str, where: str = "reference", program: str = "nbody") -> Result:
    """One result from `nbody -benchmark` output; BenchmarkError naming what is missing otherwise.

    The row is NVIDIA's measurement, so it is a ``"where": "reference"`` row named like gpudock's own
    (``nbody``) so that the two pair up; its note names the program.
    """
    bodies, gflops = _BODIES.search(output), _GFLOPS.search(output)
    if not bodies or not gflops:
        tail = output.strip().splitlines()[-1:] or ["no output"]
        raise BenchmarkError(f"nbody printed no benchmark result (last line: {tail[0][:160]})")
    device = _DEVICE.search(output)
    try:
        iterations, ms, value = int(bodies.group(2)), float(bodies.group(3)), float(gflops.group(1))
    except ValueError:  # "..." matches [\d.]+; a number with more digits than Python converts
        raise BenchmarkError(f"nbody printed numbers gpudock cannot read ({bodies.group(0)[:80]!r})") from None
    if iterations <= 0 or not (math.isfinite(ms) and ms > 0 and math.isfinite(value) and value > 0):
        raise BenchmarkError(f"nbody printed no usable measurement ({iterations} iterations, {ms} ms, {value} GFLOP/s)")
    return Result(
        name="nbody",
        where=where,
        device=f"cuda:{device.group(1)} {device.group(2)}" if device else "cuda:0",
        precision="fp32" if gflops.group(2) == "single" else "fp64",
        size=int(bodies.group(1)),
        metric="GFLOP/s",
        value=value,
        repeats=iterations,
        median_s=ms / 1000 / iterations,
        spread=0.0,
        note=f"NVIDIA's nbody -benchmark ({program}), {gflops.group(3)} flops per interaction",
    )


def nbody_sample(
    numbodies: int | None = None, fp64: bool = False, pull: bool = False, image: str = NBODY_IMAGE, say=print
) -> Result:
    """Run NVIDIA's nbody sample with `--gpus all` semantics and parse its numbers."""
    import docker.errors

    from .. import dockerops

    client = dockerops.client()
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        if not pull:
            raise ImageMissing(image, f"pull it (`docker pull {image}`) or rerun with pulling allowed") from None
        say(f"pulling {image} from its registry (network needed) …")
        try:
            client.images.pull(image)
        except docker.errors.APIError as err:
            raise ContainerFailed(image, f"cannot pull: {(err.explanation or str(err))[:200]}") from None
    command = ["nbody", "-benchmark"] + ([f"-numbodies={numbodies}"] if numbodies else []) + (["-fp64"] if fp64 else [])
    output = dockerops.run(image, command, gpus=True, cli=client)
    return parse_nbody(output, program=f"{image}, in a container")
