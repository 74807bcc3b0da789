#!/usr/bin/env bash
# Rebuilds slides/ from the reference replay run: the healthy native snapshot (the real H200 with the
# toolkit installed) and the benchmark figures measured on the real H200 (docs/benchmarks.md).
#   bash slides/rebuild.sh        (from the repository root; needs `npm install` for reveal.js)
set -euo pipefail
cd "$(dirname "$0")/.."
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
gpudock run --snapshot tests/data/snapshots/native-h200-healthy.json -p results docs/benchmarks/h200-host.json \
  --out "$run/run" 2>/dev/null
rm -rf slides/deck_files slides/reveal.js
gpudock slides "$run/run" --out slides --force
