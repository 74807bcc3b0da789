"""Issue 25's nbody tuning on the lent H100/H200: what was tried towards 45 TFLOP/s fp32 at N=262,144.

    PYTHONPATH=src python3 benchmarks/nbody_tune.py [--n 262144] [--out DIR]

Every variant is checked against the float64 reference first (fresh random bodies, poisoned output, fp32
limit 1e-4), then timed (CUDA events, 0.3 s warm-up, median of 7 samples of >= 0.1 s). The default kernel
is timed first and again last, so drift during the sweep shows. Rows: the default (gpudock.bench.nbody),
register-blocking and occupancy variants of it, and the expanded-d² form of benchmarks/nbody_expand.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

import cupy

sys.path.insert(0, str(Path(__file__).parent))
import nbody_expand  # noqa: E402  (beside this script)

from gpudock.bench import nbody  # noqa: E402
from gpudock.bench.nbody import KernelConfig as K  # noqa: E402
from gpudock.bench.timing import time_gpu  # noqa: E402

VARIANTS = {  # name -> (kind, config): kind "default" uses gpudock's kernel, "expand" nbody_expand.accel
    # round 1 (H100, 2026-12-06, docs/benchmarks/h100/issue25/run1/nbody-tune.txt): default 42,622-42,692;
    # bpt4 39,110-41,403; splits32 42,733; 512 threads x 8 slices 42,838; expanded d² 39,775-42,563
    "default": ("default", nbody.DEFAULT["fp32"]),
    "bpt4 mb4": ("default", K(4, 256, 1024, 32, "hw", 4, 16, "block", 4)),
    "bpt2 splits32": ("default", K(2, 256, 1024, 64, "hw", 4, 32, "block", 8)),
    "bpt2 512t slices8": ("default", K(2, 512, 2048, 64, "hw", 8, 16, "block", 4)),
    "expand bpt2 mb6": ("expand", dict(bpt=2, min_blocks=6)),
    # round 2: around the best of round 1
    "bpt2 512t slices8 splits32": ("default", K(2, 512, 2048, 64, "hw", 8, 32, "block", 4)),
    "bpt2 512t slices8 unroll128": ("default", K(2, 512, 2048, 128, "hw", 8, 16, "block", 4)),
    "bpt2 512t slices8 tile4096": ("default", K(2, 512, 4096, 64, "hw", 8, 16, "block", 4)),
    "bpt2 1024t slices16": ("default", K(2, 1024, 4096, 64, "hw", 16, 16, "block", 2)),
    "bpt2 512t slices4 mb4": ("default", K(2, 512, 2048, 64, "hw", 4, 16, "block", 4)),
    "expand bpt2 512t slices8 mb3": ("expand", dict(bpt=2, threads=512, tile=2048, slices=8, min_blocks=3)),
}


def run(kind: str, config, pos, out):
    if kind == "default":
        return nbody.accel_gpu(pos, "fp32", out, config)
    return nbody_expand.accel(pos, out, **config)


def check(kind: str, config, n: int = 6144) -> float:
    pos = nbody.bodies(n, "fp32")
    out = cupy.full(pos.shape, cupy.nan, dtype=cupy.float32)
    got = cupy.asnumpy(run(kind, config, cupy.asarray(pos), out))
    return nbody.relative_error(got, nbody.accel_reference(pos))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=262144)
    parser.add_argument("--out")
    args = parser.parse_args()
    pos = cupy.asarray(nbody.bodies(args.n, "fp32", seed=1))
    out = cupy.empty_like(pos)
    rows = []
    for name in [*VARIANTS, "default"]:  # the default again last: drift during the sweep
        kind, config = VARIANTS[name]
        try:
            error = check(kind, config)
            timing = time_gpu(partial(run, kind, config, pos, out), repeats=7)
        except Exception as err:  # a variant that does not compile or fit is a finding, not a crash
            print(f"{name:26} failed: {type(err).__name__}: {str(err).splitlines()[0][:150]}", flush=True)
            rows.append({"variant": name, "error": f"{type(err).__name__}: {str(err)[:300]}"})
            continue
        value = nbody.gflops(args.n, "fp32", timing.median)
        ok = error < 1e-4
        shape = getattr(config, "__dict__", config)
        row = {"variant": name, "kind": kind, "config": shape, "max_rel_error": error, "ok": ok, "gflops": value}
        rows.append(row | {"spread": timing.spread, "times": timing.times})
        print(
            f"{name:26} err={error:.1e} {'ok ' if ok else 'BAD'} {value:9.1f} GFLOP/s ±{50 * timing.spread:.2f}%",
            flush=True,
        )
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "nbody-tune.json").write_text(json.dumps({"n": args.n, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
