"""How long a command that reads a snapshot takes to start, against `gpudock --help` (target: within 2x).

    python3 benchmarks/startup.py [RUNS] [SNAPSHOT]

Runs the real CLI in a fresh interpreter RUNS times each (default 15), interleaved so that a busy machine
slows both alike: `gpudock --help` (the parser and nothing else) and `gpudock doctor --snapshot SNAPSHOT
--json` (default tests/data/snapshots/wsl2-healthy.json: load, schema, host facts, every rule, JSON).
Prints the medians, their ratio and the modules `import gpudock.cli` loads. Not a test (timings depend on
the machine); exits 1 when the ratio misses the target. Uses the interpreter that runs it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 2.0


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gpudock", *argv], capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"gpudock {' '.join(argv)} failed: {proc.stderr.strip()}")
    return elapsed


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    snapshot = sys.argv[2] if len(sys.argv) > 2 else str(ROOT / "tests/data/snapshots/wsl2-healthy.json")
    commands = {"--help": ["--help"], "doctor --snapshot": ["doctor", "--snapshot", snapshot, "--json"]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(_time(argv))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"gpudock {name:<18} median {median * 1000:6.0f} ms  (min {min(times[name]) * 1000:.0f}, {runs} runs)")
    ratio = medians["doctor --snapshot"] / medians["--help"]
    print(f"doctor --snapshot / --help: {ratio:.2f}x ({'meets' if ratio <= TARGET_RATIO else 'misses'} the 2x target)")
    code = "import sys, gpudock.cli; print(sum(m.startswith('gpudock') for m in sys.modules), len(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout.split()
    print(f"import gpudock.cli loads {loaded[0]} gpudock modules, {loaded[1]} in all")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
