#!/usr/bin/env bash
# Rebuilds the committed deck from the reference replay run: the healthy native snapshot (the real H200
# with the toolkit installed) and the benchmark figures measured on the real H200 (docs/benchmarks.md).
#   bash slides/rebuild.sh [OUT]     (OUT defaults to slides/; run from anywhere in the checkout)
# Two rebuilds in the same environment are byte-identical (tests/test_slides.py checks it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-slides}
python=${PYTHON:-python3}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"  # this checkout's gpudock
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
"$python" -m gpudock run --snapshot tests/data/snapshots/native-h200-healthy.json \
  -p results docs/benchmarks/h200-host.json --out "$run/run" >/dev/null 2>"$run/log" || { cat "$run/log" >&2; exit 1; }
"$python" -m gpudock slides "$run/run" --format both --out "$out" --force
