#!/usr/bin/env bash
# Reproduces docs/benchmarks.md on the lent H200 (tool library `device`), from the repo root:
#   NVIDIA's reference: cp /path/to/nbody-reference .nbodyref/ (docs/reference/nbody-reference.md)  (an excluded
#     folder: echo /.nbodyref/ >> .git/info/exclude; a test tool, never committed or shipped)
#   device run, carry [".nbodyref"] (and ".dockercarry" for the container part):
#     bash benchmarks/h200.sh   NVIDIA_NBODY=PATH overrides the binary, SWEEP=1 adds the kernel sweep,
#                               ONLY_CONTAINER=1 runs the container part alone
# Host: the full suite with NVIDIA's nbody at the same N (host-full-1.json), the GPU part again
# (host-full-2.json, for `bench compare`), `gpudock bench --quick` timed. Container (with .dockercarry):
# the GPU benchmarks inside Docker, bracketed by host runs, GPU given by device nodes + driver libraries.
set -uo pipefail
repo=$(pwd)
out=${OUT:-/tmp/gpudock-out}
ref=${NVIDIA_NBODY:-.nbodyref/nbody-reference}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$repo/src" CUPY_CACHE_DIR=/tmp/cupy-cache
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit --format=csv
python3 -c 'import cupy, numba; print("cupy", cupy.__version__, "runtime", cupy.cuda.runtime.runtimeGetVersion(), "numba", numba.__version__)'
if [ "${ONLY_CONTAINER:-0}" != 1 ]; then
nvidia-smi dmon -s pc -d 1 > "$out/dmon.txt" 2>&1 &
dmon=$!
python3 -m gpudock bench --nvidia-nbody "$ref" --json --out "$out/host-full-1.json" > /dev/null
python3 -m gpudock bench --no-cpu --nvidia-nbody "$ref" --json --out "$out/host-full-2.json" > /dev/null
start=$(date +%s%N)
python3 -m gpudock bench --quick --json --out "$out/quick.json" > /dev/null
echo "gpudock bench --quick: $(( ($(date +%s%N) - start) / 1000000 )) ms wall" | tee "$out/quick-wall.txt"
kill "$dmon"
python3 -m gpudock bench compare "$out/host-full-1.json" "$out/host-full-2.json" | tee "$out/compare.txt"
python3 -c "
import sys; from gpudock.bench.results import Results; from gpudock.bench.tables import print_results
print_results(Results.load(sys.argv[1]))" "$out/host-full-1.json"
if [ "${SWEEP:-0}" = 1 ]; then
  python3 benchmarks/nbody_sweep.py --nvidia-nbody "$ref" --out "$out"
fi
fi  # ONLY_CONTAINER=1 skips the host part

if [ -d .dockercarry ]; then
  # shellcheck disable=SC1091
  source .dockercarry/docker-on-device.sh
  base=$(mktemp -d)
  (cd "$base" && mkdir -p usr tmp etc root proc sys dev && chmod 1777 tmp && ln -s usr/bin bin && ln -s usr/lib lib && ln -s usr/lib64 lib64 && tar -c .) \
    | docker import - gpudock/base >/dev/null
  py=$(command -v python3)
  python3 -m gpudock bench --no-cpu --json --out "$out/host-gpu.json" > /dev/null
  # shellcheck disable=SC2086  # GPU_DOCKER_ARGS is a list of flags
  # the container gets the host's own library path too, so both load the same libraries
  docker run --rm --network none $GPU_DOCKER_ARGS -e LD_LIBRARY_PATH="/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" -v /usr:/usr:ro -v /opt:/opt:ro -v "$repo":/gpudock:ro -v "$out":/out \
    -e PYTHONPATH=/gpudock/src -e CUPY_CACHE_DIR=/tmp/cupy-cache -e HOME=/tmp -e PYTHONUNBUFFERED=1 gpudock/base \
    "$py" -m gpudock bench --no-cpu --json --out /out/container.json > /dev/null 2> /tmp/container.err || tail -20 /tmp/container.err
  # NVIDIA's sample binary in the container too (its rows are "reference"; the note says where it ran)
  # shellcheck disable=SC2086
  docker run --rm --network none $GPU_DOCKER_ARGS -e LD_LIBRARY_PATH=/usr/local/nvidia/lib64 -v /usr:/usr:ro -v "$repo":/gpudock:ro \
    gpudock/base "/gpudock/$ref" -benchmark -numbodies=262144 | tee "$out/nvidia-nbody-container.txt"
  python3 -m gpudock bench --no-cpu --json --out "$out/host-gpu-after.json" > /dev/null
  python3 benchmarks/host_vs_container.py "$out/host-gpu.json" "$out/container.json" "$out/host-gpu-after.json" |
    tee "$out/host-vs-container.txt"
  stop_docker
fi
