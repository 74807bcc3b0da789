"""A second process that hammers the GPU (fp16 tensor-core matrix products in a loop) for SECONDS: the
forced slow condition of issue 25, which `gpudock bench`'s "why low" verdict must name (shared-gpu).

    python3 benchmarks/hammer.py SECONDS [DEVICE]
"""

from __future__ import annotations

import sys
import time

import cupy

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
with cupy.cuda.Device(int(sys.argv[2]) if len(sys.argv) > 2 else 0):
    a = cupy.random.default_rng(1).random((8192, 8192), dtype=cupy.float32).astype(cupy.float16)
    c = cupy.empty_like(a)
    deadline, calls = time.time() + seconds, 0
    print(f"hammer: fp16 8192³ products for {seconds:.0f} s", flush=True)
    while time.time() < deadline:
        for _ in range(10):
            cupy.matmul(a, a, out=c)
        cupy.cuda.Device().synchronize()
        calls += 10
    print(f"hammer: {calls} products", flush=True)
