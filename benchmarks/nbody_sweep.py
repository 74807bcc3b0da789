"""Tune the nbody kernel on a real GPU: every configuration checked against float64, then timed.

    PYTHONPATH=src python3 benchmarks/nbody_sweep.py [--n 262144] [--nvidia-nbody PATH] [--out DIR]

For each KernelConfig below: the max relative error against the float64 NumPy reference on fresh
random bodies (N=6144, fp32 limit 1e-4, fp64 limit 1e-10), then GFLOP/s at N (CUDA events, 0.3 s
warm-up, median of 5). With --nvidia-nbody, NVIDIA's `nbody -benchmark` runs at the same N right after
the gpudock rows of each precision, so the ratio is of the same minute. The defaults in
gpudock.bench.nbody.DEFAULT were chosen from this table (docs/benchmarks.md has the H200's).
"""

from __future__ import annotations

import argparse
import json
import time
from functools import partial
from pathlib import Path

import cupy

from gpudock.bench import nbody
from gpudock.bench.nbody import KernelConfig
from gpudock.bench.timing import time_gpu

K = KernelConfig  # (bodies per thread, threads, tile, unroll, rsqrt, slices, splits, staging, min_blocks)
CONFIGS = {
    "fp32": [
        K(1, 256, 256, 32, "libm"),  # the previous kernel: one body per thread, rsqrtf
        K(2, 256, 1024, 32, "hw", 4, 8, "block", 8),
        K(2, 256, 1024, 32, "hw", 4, 16, "block", 8),
        K(2, 256, 1024, 64, "hw", 4, 8, "block", 8),
        K(2, 256, 1024, 256, "hw", 4, 8, "block", 8),
        K(2, 256, 2048, 32, "hw", 4, 8, "block", 8),
        K(2, 256, 2048, 32, "hw", 8, 8, "block", 8),
        K(2, 128, 512, 32, "hw", 4, 8, "block", 16),
        K(4, 256, 1024, 16, "hw", 4, 8, "block", 5),
        K(4, 256, 1024, 32, "hw", 4, 8, "block", 5),
        K(2, 256, 1024, 32, "hw", 4, 8, "block", 8),
    ],
    "fp64": [
        K(1, 256, 256, 16, "libm"),  # the previous kernel
        K(2, 256, 512, 8, "newton", 2, 16),
        K(2, 256, 1024, 8, "newton", 4, 16),
        K(2, 256, 1024, 8, "newton", 4, 8, "block", 4),
    ],
}
LIMIT = {"fp32": 1e-4, "fp64": 1e-10}


def check(precision: str, config: KernelConfig, n: int = 6000) -> float:
    pos = nbody.bodies(n, precision)  # fresh random bodies each time, padded with zero-mass ones
    out = cupy.full((pos.shape[0], 4), cupy.nan, dtype=pos.dtype)  # poisoned: every element must be written
    got = cupy.asnumpy(nbody.accel_gpu(cupy.asarray(pos), precision, out, config))
    return nbody.relative_error(got, nbody.accel_reference(pos))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=262144)
    parser.add_argument("--nvidia-nbody", help="NVIDIA's nbody (or the headless reference binary)")
    parser.add_argument("--out")
    parser.add_argument("--precisions", default="fp32,fp64")
    args = parser.parse_args()
    rows = []
    for precision in args.precisions.split(","):
        pos = cupy.asarray(nbody.bodies(args.n, precision, seed=1))
        out = cupy.empty_like(pos)
        for config in CONFIGS[precision]:
            if not config.fits(args.n):
                continue
            started = time.perf_counter()
            error = check(precision, config)
            compile_s = time.perf_counter() - started
            ok = error < LIMIT[precision]
            timing = time_gpu(partial(nbody.accel_gpu, pos, precision, out, config), repeats=5)
            value = nbody.gflops(args.n, precision, timing.median)
            rows.append(
                {
                    "precision": precision,
                    "config": config.__dict__,
                    "error": error,
                    "ok": ok,
                    "gflops": value,
                    "spread": timing.spread,
                    "check_s": compile_s,
                }
            )
            print(
                f"{precision} bpt={config.bodies_per_thread} threads={config.threads:3} tile={config.tile:4} "
                f"slices={config.slices} splits={config.splits:2} {config.staging:5} mb={config.min_blocks:2} "
                f"unroll={config.unroll:2} "
                f"rsqrt={config.rsqrt:6} "
                f"err={error:.1e} "
                f"{'ok ' if ok else 'BAD'} "
                f"{value:9.1f} GFLOP/s ±{50 * timing.spread:.2f}%",
                flush=True,
            )
        if args.nvidia_nbody:
            from gpudock.bench.reference import run_nvidia_nbody

            ref = run_nvidia_nbody(args.nvidia_nbody, args.n, precision, runs=3)
            best = max((r for r in rows if r["precision"] == precision and r["ok"]), key=lambda r: r["gflops"])
            rows.append({"precision": precision, "nvidia": ref.value, "spread": ref.spread, "note": ref.note})
            print(
                f"{precision} NVIDIA {ref.value:9.1f} GFLOP/s ±{50 * ref.spread:.2f}% ({ref.note}); "
                f"best gpudock / NVIDIA = {best['gflops'] / ref.value:.3f}",
                flush=True,
            )
        del pos, out
        cupy.get_default_memory_pool().free_all_blocks()
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "nbody-sweep.json").write_text(json.dumps({"n": args.n, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
