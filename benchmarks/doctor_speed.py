"""How long a live `gpudock doctor` takes on this host (target: under 3 s with the Docker daemon up).

    python3 benchmarks/doctor_speed.py [RUNS]

Runs the real CLI end to end (interpreter start, every probe, diagnosis, JSON) RUNS times and
prints the median and the slowest run.
"""

import statistics
import subprocess
import sys
import time

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
times = []
for _ in range(runs):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gpudock", "doctor", "--json"], capture_output=True, text=True)
    times.append(time.perf_counter() - start)
    if proc.returncode not in (0, 1):
        sys.exit(f"gpudock doctor failed: {proc.stderr.strip()}")
print(
    f"gpudock doctor --json, {runs} runs: median {statistics.median(times):.2f} s, max {max(times):.2f} s "
    f"({'meets' if max(times) < 3 else 'misses'} the 3 s target)"
)
