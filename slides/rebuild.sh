#!/usr/bin/env bash
# Rebuilds the committed deck from the reference replay run: the healthy native snapshot (the real H200
# with the toolkit installed) and the benchmark figures measured on the real H200 (docs/benchmarks.md).
#   bash slides/rebuild.sh [OUT [RUN]]   (OUT defaults to slides/; run from anywhere in the checkout)
# RUN: a reference run already executed (the tests pass theirs); without it the run is executed here.
# Two builds of one run are byte-identical, and the committed deck is what a fresh run gives (tests/test_slides.py).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-slides}
from=${2:-}
python=${PYTHON:-python3}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"  # this checkout's gpudock
if [ -z "$from" ]; then
  run=$(mktemp -d)
  trap 'rm -rf "$run"' EXIT
  "$python" -m gpudock run --snapshot tests/data/snapshots/native-h200-healthy.json \
    -p results docs/benchmarks/h200-host.json --out "$run/run" >/dev/null 2>"$run/log" || { cat "$run/log" >&2; exit 1; }
  from=$run/run
fi
"$python" -m gpudock slides "$from" --format both --out "$out" --force
