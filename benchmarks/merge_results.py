"""Merge gpudock bench files into one (e.g. host and container runs, for figure (c) and the slides).

    PYTHONPATH=src python3 benchmarks/merge_results.py OUT.json FIRST.json [MORE.json ...]

The first file's host facts lead. Ceilings the recorded run did not yet compute (fp16/bf16 tensor
peaks, added later) are filled in from the same formula, the recorded SM count and the clock implied
by the recorded FP32 peak; nothing measured is changed.
"""

import sys

from gpudock.bench.ceilings import _LANES, ceilings_from
from gpudock.bench.results import Results

out, first, *rest = sys.argv[1:]
merged = Results.merged(Results.load(first), *(Results.load(p) for p in rest))
for gpu in merged.host.get("gpus", []):
    recorded = merged.host.get("ceilings", {}).get(gpu["label"])
    lanes = _LANES.get(gpu["compute_capability"])
    if recorded and lanes and recorded.get("fp32"):
        clock_khz = recorded["fp32"] * 1e9 / (gpu["sm_count"] * lanes[0] * 2) / 1e3
        for key, value in ceilings_from(gpu["compute_capability"], gpu["sm_count"], clock_khz).items():
            recorded.setdefault(key, value)
merged.save(out)
print(f"{out}: {len(merged.results)} rows from {1 + len(rest)} files")
