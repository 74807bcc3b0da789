#!/usr/bin/env bash
# Issue 25 on the lent GPU (tool library `device`): everything in one call, JSON + transcripts to $OUT.
#   here, once: mkdir -p .dev-25 && cp -r src benchmarks .dev-25/ &&
#               cp /path/to/nbody-reference .dev-25/   (docs/reference/nbody-reference.md; a test tool, never committed)
#   device run, from the repo root, carry [".dev-25"]:  bash .dev-25/benchmarks/issue25.sh
# Steps (STEPS=facts,probe,full,slow,tune,quick selects): the GPU's facts as nvidia-smi reports them (the
# parser's fixtures), why gpudock's GEMM and torch.matmul differ (gemm_probe.py), the full suite with NVIDIA's
# nbody and torch.matmul interleaved, the forced slow condition (a second process hammering the GPU during
# `bench --only nbody,gemm`), the nbody tuning sweep, --quick timed.
# Files come back as one archive (the device returns at most 8 files): $OUT/issue25.tar.gz + $OUT/log.txt.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/issue25-out}/w
mkdir -p "$out"
steps=${STEPS:-facts,tests,probe,full,slow,tune,quick}
ref=${NVIDIA_NBODY:-$here/nbody-reference}
export PYTHONUNBUFFERED=1 PYTHONPATH="$here/src" CUPY_CACHE_DIR=/tmp/cupy-cache
py=python3
has() { [[ ",$steps," == *",$1,"* ]]; }
say() { echo "== $(date -u +%H:%M:%S) $*"; }
if has facts; then
  say facts
  nvidia-smi | tee "$out/nvidia-smi.txt"
  nvidia-smi -q -x > "$out/nvidia-smi-q-x.xml"
  nvidia-smi -q > "$out/nvidia-smi-q.txt"
  f=pci.bus_id,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu,utilization.gpu
  nvidia-smi --query-gpu=$f,clocks_event_reasons.active,pcie.link.gen.current,pcie.link.width.current \
    --format=csv,noheader,nounits | tee "$out/query-gpu.csv"
  nvidia-smi --query-gpu=$f,clocks_throttle_reasons.active,pcie.link.gen.current,pcie.link.width.current \
    --format=csv,noheader,nounits > "$out/query-gpu-old-names.csv" 2>&1; echo "old names rc=$?"
  $py -c "import cupy; print(cupy.__version__, cupy.cuda.runtime.deviceGetPCIBusId(0))" | tee "$out/cupy.txt"
  bus=$($py -c "import cupy; print(cupy.cuda.runtime.deviceGetPCIBusId(0).lower())")
  { echo "bus $bus"; for f in numa_node local_cpulist current_link_speed current_link_width max_link_speed max_link_width; do
      echo "$f: $(cat "/sys/bus/pci/devices/$bus/$f" 2>&1)"; done; nproc; taskset -p $$ 2>&1; } | tee "$out/sysfs.txt"
  $py - <<'PY' | tee "$out/nvidia-smi-timing.txt"
import subprocess, time
t = []
for _ in range(10):
    s = time.perf_counter(); subprocess.run(["nvidia-smi", "--query-gpu=clocks.sm", "--format=csv,noheader"], capture_output=True); t.append(time.perf_counter() - s)
print("nvidia-smi --query-gpu call: median %.1f ms, max %.1f ms" % (1000 * sorted(t)[5], 1000 * max(t)))
import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))
PY
fi

if has tests && [ -d "$here/tests/bench" ]; then
  say "GPU tests (tests/bench/test_gpu.py)"
  printf '[pytest]\nmarkers =\n    requires_gpu: needs a GPU\n' > "$here/pytest.ini"  # not the checkout's (nbval options)
  (cd "$here" && timeout 180 $py -m pytest -q -p no:cacheprovider tests/bench/test_gpu.py 2>&1 | tail -15) | tee "$out/test-gpu.txt"
fi

if has probe; then
  say "GEMM probe: cuBLAS libraries, kernels, gpudock's call variants against torch.matmul"
  timeout 120 $py "$here/benchmarks/gemm_probe.py" 2>&1 | tee "$out/gemm-probe.txt"
fi

if has full; then
  say "full suite (host), NVIDIA's nbody and torch.matmul interleaved (the table as a user sees it)"
  # shellcheck disable=SC2086  # FULL_ARGS: extra flags, e.g. --no-cpu
  COLUMNS=120 timeout 400 $py -m gpudock bench --nvidia-nbody "$ref" ${FULL_ARGS:-} --out "$out/host-full.json" \
    > "$out/host-full.txt" 2>&1
  tail -60 "$out/host-full.txt"
fi

if has slow; then
  say "forced slow condition: a second process hammers the GPU during bench --only nbody,gemm"
  $py "$here/benchmarks/hammer.py" 60 > "$out/hammer.txt" 2>&1 &
  hammer=$!
  sleep 4
  nvidia-smi --query-compute-apps=gpu_bus_id,pid,process_name,used_memory --format=csv,noheader,nounits | tee "$out/apps-during-hammer.csv"
  COLUMNS=120 timeout 200 $py -m gpudock bench --no-cpu --quick --only "${SLOW_ONLY:-nbody,gemm}" --out "$out/slow-shared.json" \
    > "$out/slow-shared.txt" 2>&1
  kill "$hammer" 2>/dev/null; wait "$hammer" 2>/dev/null
  grep -A3 "shared-gpu" "$out/slow-shared.txt" | head -20
fi

if has tune; then
  say "nbody tuning sweep (fp32, N=262144)"
  timeout 240 $py "$here/benchmarks/nbody_tune.py" --out "$out" | tee "$out/nbody-tune.txt"
fi

if has quick; then
  say "gpudock bench --quick, timed"
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  timeout 200 $py -m gpudock bench --quick ${QUICK_ARGS:-} --json --out "$out/quick.json" > /dev/null
  echo "gpudock bench --quick: $(( ($(date +%s%N) - start) / 1000000 )) ms wall" | tee "$out/quick-wall.txt"
fi
say finished
tar czf "${OUT:-/tmp/issue25-out}/issue25.tar.gz" -C "$out" .
