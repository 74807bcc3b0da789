"""Start-up: commands that read a snapshot against `gpudock --help` (target: within 2x), and the tutorial.

    python3 benchmarks/startup.py [--runs N] [--tutorial] [--json FILE]

Whole processes, as a person starts them (`python -m gpudock …` with this interpreter): one warm-up run
each, then N rounds in which every command runs once, in turn (A B C A B C …), so load that comes and
goes on a shared machine falls on all of them alike. Prints the median of each and its ratio to
`gpudock --help`. ``--tutorial`` also times `gpudock run --snapshot` over every notebook (README's
"about 20 s"), once after a warm-up. A benchmark, not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "data" / "snapshots" / "debian12-ci-no-gpu.json"
COMMANDS = {
    "--help": ["--help"],
    "--version": ["--version"],
    "doctor --snapshot": ["doctor", "--snapshot", str(SNAPSHOT)],
    "doctor --check --snapshot": ["doctor", "--check", "--snapshot", str(SNAPSHOT)],
    "plan all --snapshot": ["plan", "all", "--snapshot", str(SNAPSHOT)],
}
TARGET = 2.0  # times `gpudock --help`


def once(args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gpudock", *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"gpudock {' '.join(args)} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def startup(runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for args in COMMANDS.values():
        once(args)  # warm-up: the file cache, the .pyc files
    for _ in range(runs):
        for name, args in COMMANDS.items():
            times[name].append(once(args))
    return {name: statistics.median(values) for name, values in times.items()}


def tutorial() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        args = ["run", "--snapshot", str(SNAPSHOT)]
        once([*args, "--out", f"{tmp}/warm"])
        return once([*args, "--out", f"{tmp}/timed"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tutorial", action="store_true", help="also time `gpudock run --snapshot` (all notebooks)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    medians = startup(args.runs)
    base = medians["--help"]
    load = os.getloadavg()[0]
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load {load:.1f}; median of {args.runs} rounds")
    for name, seconds in medians.items():
        print(f"  gpudock {name:<27} {seconds:6.3f} s  {seconds / base:4.2f}x --help")
    worst = max(v for k, v in medians.items() if "snapshot" in k) / base
    print(f"snapshot commands within {worst:.2f}x of --help: {'meets' if worst <= TARGET else 'misses'} the 2x target")
    doc = {"cpus": os.cpu_count(), "load": load, "runs": args.runs, "median_s": medians, "worst_ratio": worst}
    if args.tutorial:
        doc["tutorial_s"] = tutorial()
        print(f"  gpudock run --snapshot (every notebook)   {doc['tutorial_s']:6.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
