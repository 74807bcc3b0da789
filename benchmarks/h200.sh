#!/usr/bin/env bash
# Reproduces docs/benchmarks.md on the lent H200 (tool library `device`), from the repo root:
#   carry: [".dockercarry"]   (bash ../shared/device/prepare-docker-carry.sh .dockercarry, once)
#   command: bash benchmarks/h200.sh
# Host: validate_gpu.py (full run twice, --quick timing, hand-timed GEMM). Container: the same GPU
# benchmarks inside Docker, the GPU given by device nodes + driver libraries ($GPU_DOCKER_ARGS).
set -uo pipefail
repo=$(pwd)
out=${OUT:-/tmp/gpudock-out}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$repo/src" CUPY_CACHE_DIR=/tmp/cupy-cache
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.total --format=csv
python3 -c 'import cupy; print("cupy", cupy.__version__, "runtime", cupy.cuda.runtime.runtimeGetVersion())'
python3 benchmarks/validate_gpu.py --out "$out" 2>&1

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
  python3 -m gpudock bench --no-cpu --json --out /tmp/host-gpu-after.json > /dev/null
  python3 benchmarks/host_vs_container.py "$out/host-gpu.json" "$out/container.json" /tmp/host-gpu-after.json | tee "$out/compare.txt"
  stop_docker
fi
