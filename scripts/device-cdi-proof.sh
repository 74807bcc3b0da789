#!/usr/bin/env bash
# Issue 22's proof on a real GPU host with the NVIDIA driver only (no toolkit, no NVIDIA repository, no network):
#   driver-only host -> gpudock doctor (no GPU path for containers; the fix names `install cdi`)
#   -> gpudock install cdi --apply --yes (spec, features.cdi, dockerd restarted the way gpudock restarts it, verified)
#   -> a second apply changes nothing -> gpudock doctor (GPU containers work through CDI; no toolkit error)
#   -> gpudock bench in a container through CDI and on the host, interleaved, same run
#   -> negative controls: a library removed from the spec, a missing and a wrong device node, no --device at all.
#
# Run from a checkout on the lent device machine (the `device` tool), with Debian 13's Docker 26 carried
# (shared/device/prepare-docker26-carry.sh, in .docker26/) and gpudock's source copied to $GPUDOCK_SRC:
#   OUT=/tmp/out GPUDOCK_SRC=.dev-22/src WHEELS=.dev-22/whl bash scripts/device-cdi-proof.sh
# (the device run copies this file to .dev-22/ too; WHEELS: jsonschema and its needs, which that machine lacks)
# The carried engine is installed as the host's own (/usr/bin/dockerd, /etc/docker/daemon.json, started with
# gpudock's pidfile /run/gpudock-dockerd.pid and the default socket), so gpudock treats it as it treats any
# host's engine: its install steps edit that daemon.json and restart that dockerd. The machine is throwaway.
# Everything lands in $OUT: transcript.txt, summary.json and all.tar.gz (every file the run wrote).
set -u
OUT=${OUT:?set OUT to an empty folder}
SRC=$(cd "${GPUDOCK_SRC:?set GPUDOCK_SRC to the src folder of gpudock}" && pwd)
CARRY=${DOCKER26:-.docker26}
W=$OUT/work
mkdir -p "$W"
exec > >(tee "$OUT/transcript.txt") 2>&1
SITE=/tmp/gpudock-site  # wheels of what the machine lacks (WHEELS: a folder of them, carried), outside /usr
mkdir -p "$SITE"
if [ -n "${WHEELS:-}" ] && ! python3 -c 'import jsonschema' 2> /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$WHEELS"/*.whl
fi
export PYTHONPATH=$SRC:$SITE PYTHONUNBUFFERED=1 NO_COLOR=1 COLUMNS=120
gpudock() { python3 -m gpudock "$@"; }
started=$SECONDS
step() { echo; echo "=== [$((SECONDS - started)) s] $*"; }
run() { echo "\$ $*"; "$@"; local rc=$?; echo "[exit $rc]"; return $rc; }

step "the host: GPU, driver, OS, Python (no toolkit, no Docker before this script)"
run nvidia-smi -L
run cat /proc/driver/nvidia/version
run sh -c 'grep PRETTY_NAME /etc/os-release; uname -r; python3 --version'
run sh -c 'command -v nvidia-ctk nvidia-container-runtime-hook docker dockerd || echo "none of them on PATH"'
run python3 -c 'import rich, yaml, jsonschema, numpy, cupy; print("cupy", cupy.__version__)'
run sh -c 'command -v start-stop-daemon service systemctl; readlink -f "$(command -v python3)"; ldconfig -p | grep -E "libcuda.so.1 |libnvidia-ml.so.1 "; echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; findmnt -T /usr/local/nvidia; findmnt -T /usr/local; python3 -c "import rich, cupy; print(rich.__file__, cupy.__file__)"'

step "Debian 13's Docker 26 installed as this host's engine (binaries in /usr/bin, gpudock's pidfile, default socket)"
# a machine still warm from an earlier run: its dockerd, spec and daemon.json go first (a driver-only host again)
[ -e /run/gpudock-dockerd.pid ] && kill "$(cat /run/gpudock-dockerd.pid)" 2> /dev/null && sleep 3
rm -f /etc/cdi/nvidia.yaml /etc/docker/daemon.json.before-gpudock-cdi /run/gpudock-dockerd.pid
for f in "$CARRY"/bin/*.xz; do xz -dc "$f" > "/usr/bin/$(basename "$f" .xz)"; done
cp "$CARRY/bin/docker-init" /usr/bin/docker-init
chmod 755 /usr/bin/dockerd /usr/bin/docker /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 /usr/bin/runc /usr/bin/docker-init
mkdir -p /usr/local/lib/gpudock-docker26
for so in $(for b in dockerd runc docker containerd; do ldd "/usr/bin/$b" 2>&1; done | awk '/not found/{print $1}' | sort -u); do
  cp "$CARRY/lib/$so" /usr/local/lib/gpudock-docker26/
done
echo /usr/local/lib/gpudock-docker26 > /etc/ld.so.conf.d/gpudock-docker26.conf && ldconfig
if ! command -v start-stop-daemon > /dev/null; then  # gpudock stops its own dockerd with it (dpkg's tool)
  echo "no start-stop-daemon here: a shim for the one call gpudock makes (--stop --pidfile F --exec P)"
  cat > /usr/local/sbin/start-stop-daemon <<'EOF'
#!/bin/bash
pidfile=; exe=
while [ $# -gt 0 ]; do case "$1" in --pidfile) pidfile=$2; shift;; --exec) exe=$2; shift;; --retry) shift;; esac; shift; done
pid=$(cat "$pidfile" 2>/dev/null) || exit 0
[ "$(readlink -f "/proc/$pid/exe")" = "$(readlink -f "$exe")" ] || exit 0
kill -TERM "$pid"; for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.5; done; kill -KILL "$pid"
EOF
  chmod 755 /usr/local/sbin/start-stop-daemon
fi
mkdir -p /var/lib/gpudock-docker /etc/docker
mountpoint -q /var/lib/gpudock-docker || mount -t tmpfs -o size=24g tmpfs /var/lib/gpudock-docker
# the machine has no network: no bridge, no iptables; data on a tmpfs. No features.cdi yet: a driver-only host.
cat > /etc/docker/daemon.json <<'EOF'
{
  "data-root": "/var/lib/gpudock-docker",
  "storage-driver": "overlay2",
  "bridge": "none",
  "iptables": false,
  "ip-forward": false,
  "ip-masq": false,
  "userland-proxy": false
}
EOF
run cat /etc/docker/daemon.json
setsid dockerd --config-file /etc/docker/daemon.json --pidfile /run/gpudock-dockerd.pid >> /var/log/gpudock-dockerd.log 2>&1 < /dev/null &
for _ in $(seq 60); do docker info > /dev/null 2>&1 && break; sleep 0.5; done
run docker version --format 'client {{.Client.Version}}, engine {{.Server.Version}}'

step "local images (no registry here): gpudock/hello (busybox), a glibc image for nvidia-smi, a base for the host's Python"
IMG=$W/img; mkdir -p "$IMG/hello/bin" "$IMG/glibc/bin" "$IMG/glibc/usr/lib/x86_64-linux-gnu" "$IMG/glibc/lib64" "$IMG/base"
cp "$CARRY/bin/busybox" "$IMG/hello/bin/busybox"
tar -C "$IMG/hello" -c . | docker import --change 'CMD ["/bin/busybox","echo","Hello from Docker!"]' - gpudock/hello:latest
cp "$CARRY/bin/busybox" "$IMG/glibc/bin/busybox"; ln -s busybox "$IMG/glibc/bin/sh"; ln -s usr/lib "$IMG/glibc/lib"
smi=$(readlink -f "$(command -v nvidia-smi)")
for lib in $(ldd "$smi" | awk '/=>/{print $3} /ld-linux/{print $1}'); do
  case "$lib" in */ld-linux*) cp -L "$lib" "$IMG/glibc/lib64/";; *) cp -L "$lib" "$IMG/glibc/usr/lib/x86_64-linux-gnu/";; esac
done
tar -C "$IMG/glibc" -c . | docker import - gpudock-test/glibc:cdi
for d in usr opt dev proc sys tmp etc work; do mkdir -p "$IMG/base/$d"; done
for l in bin lib lib64 sbin; do ln -s "usr/$l" "$IMG/base/$l"; done
tar -C "$IMG/base" -c . | docker import - gpudock-test/hostusr:cdi
run docker image ls

step "gpudock doctor on the driver-only host (expect: no GPU path for containers; the fix names install cdi)"
gpudock doctor --save-snapshot "$W/snapshot-before.json"; echo "[exit $?]"
gpudock doctor --snapshot "$W/snapshot-before.json" --json > "$W/doctor-before.json"

step "gpudock plan cdi, then gpudock install cdi --apply --yes"
gpudock plan cdi --format json > "$W/plan-cdi.json"; echo "[plan exit $?]"
run gpudock install cdi --apply --yes --log-dir "$W/install-1"
step "a second apply changes nothing"
run gpudock install cdi --apply --yes --log-dir "$W/install-2"
run cat /etc/docker/daemon.json
cp /etc/cdi/nvidia.yaml "$W/nvidia.yaml"
run gpudock cdi check
gpudock cdi check --json > "$W/cdi-check-good.json"

step "gpudock doctor after the install (expect: GPU containers work through CDI; no error)"
gpudock doctor --save-snapshot "$W/snapshot-after.json"; echo "[exit $?]"
gpudock doctor --snapshot "$W/snapshot-after.json" --json > "$W/doctor-after.json"
run docker run --rm --network none --device nvidia.com/gpu=all gpudock-test/glibc:cdi nvidia-smi -L
run docker run --rm --network none --device nvidia.com/gpu=0 gpudock-test/glibc:cdi /bin/busybox ls /dev

step "gpudock bench: host and container (CDI), interleaved, same sizes"
PY=$(readlink -f "$(command -v python3)")
# The host's Python (a venv under /opt, CUDA under /usr/local) in a container whose /usr is NOT the host's: Docker 26
# applies its binds after the CDI edits, so a bind of /usr (or of /usr/lib/x86_64-linux-gnu) would hide the spec's
# library mounts there (seen here: CuPy then finds no libcuda.so.1). So: the host's system libraries at /hostlib
# (LD_LIBRARY_PATH), the loader, python3.12 and its standard library, /opt, CUDA; libcuda and the other driver
# libraries only from the spec, in /usr/lib/x86_64-linux-gnu, which glibc searches by default.
LOADER=/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
PYMOUNTS=(-v /usr/lib/x86_64-linux-gnu:/hostlib:ro -v "$(readlink -f $LOADER):$LOADER:ro" -v /usr/lib64:/usr/lib64:ro
          -v "$PY:$PY:ro" -v "/usr/lib/python3.12:/usr/lib/python3.12:ro" -v /opt:/opt:ro)
PYPATH=/gpudock:/site
for dir in $(python3 -c 'import os, sys; print(" ".join(p for p in sys.path if p.endswith("-packages") and os.path.isdir(p)))') \
           "$(readlink -f /usr/local/cuda 2> /dev/null)"; do
  case "$dir" in /opt/*) ;; ?*) [ -d "$dir" ] && PYMOUNTS+=(-v "$dir:$dir:ro");; esac
  case "$dir" in *-packages) PYPATH=$PYPATH:$dir;; esac
done
echo "host Python for the container: ${PYMOUNTS[*]}"
docker_bench() {
  docker run --rm --network none --device nvidia.com/gpu=all "${PYMOUNTS[@]}" \
    -v "$SRC":/gpudock:ro -v "$SITE":/site:ro -v "$W":/work -e LD_LIBRARY_PATH=/hostlib -e PYTHONPATH="$PYPATH" \
    -e CUDA_PATH="$(readlink -f /usr/local/cuda)" -e HOME=/tmp -e NO_COLOR=1 gpudock-test/hostusr:cdi "$PY" -m gpudock bench --no-cpu --quick --out "/work/$1"
}
run gpudock bench --no-cpu --quick --out "$W/bench-host-1.json"
run docker_bench bench-container-1.json
if [ $((SECONDS - started)) -lt 150 ]; then
  run docker_bench bench-container-2.json
  run gpudock bench --no-cpu --quick --out "$W/bench-host-2.json"
fi

step "negative control 1: libnvidia-ml removed from the spec (cdi check names it; nvidia-smi in the container fails)"
python3 - "$W/nvidia.yaml" /etc/cdi/nvidia.yaml <<'EOF'
import sys, yaml
data = yaml.safe_load(open(sys.argv[1]))
data["containerEdits"]["mounts"] = [m for m in data["containerEdits"]["mounts"] if "libnvidia-ml.so" not in m["hostPath"]]
open(sys.argv[2], "w").write(yaml.safe_dump(data, sort_keys=False))
EOF
run gpudock cdi check
gpudock cdi check --json > "$W/cdi-check-no-nvml.json"
run docker run --rm --network none --device nvidia.com/gpu=all gpudock-test/glibc:cdi nvidia-smi -L

step "negative control 2: device 0 names a node this host does not have (/dev/nvidia7)"
sed 's#path: /dev/nvidia0$#path: /dev/nvidia7#' "$W/nvidia.yaml" > /etc/cdi/nvidia.yaml
run gpudock cdi check
gpudock cdi check --json > "$W/cdi-check-missing-node.json"
run docker run --rm --network none --device nvidia.com/gpu=0 gpudock-test/glibc:cdi nvidia-smi -L

step "negative control 3: the right path, a wrong device number (c 195:7 for /dev/nvidia0)"
python3 - "$W/nvidia.yaml" /etc/cdi/nvidia.yaml <<'EOF'
import sys, yaml
data = yaml.safe_load(open(sys.argv[1]))
for device in data["devices"]:
    device["containerEdits"]["deviceNodes"] = [
        {**n, "type": "c", "major": 195, "minor": 7} if n["path"] == "/dev/nvidia0" else n
        for n in device["containerEdits"]["deviceNodes"]
    ]
open(sys.argv[2], "w").write(yaml.safe_dump(data, sort_keys=False))
EOF
run gpudock cdi check
gpudock cdi check --json > "$W/cdi-check-wrong-node.json"
run docker run --rm --network none --device nvidia.com/gpu=0 gpudock-test/glibc:cdi nvidia-smi -L

step "negative control 4: no --device at all (the container has no /dev/nvidia*)"
cp "$W/nvidia.yaml" /etc/cdi/nvidia.yaml
run docker run --rm --network none gpudock-test/glibc:cdi /bin/busybox sh -c 'ls /dev; ls /dev/nvidia* 2>&1'
run gpudock cdi check

step "summary"
python3 - "$W" "$OUT/summary.json" <<'EOF'
import json, pathlib, sys
w = pathlib.Path(sys.argv[1])
def load(name):
    try:
        return json.loads((w / name).read_text())
    except (OSError, ValueError):
        return None
def findings(name):
    doc = load(name) or {"findings": []}
    return [{k: f[k] for k in ("code", "severity", "title", "evidence", "fix")} for f in doc["findings"]]
def rows(name):
    doc = load(name)
    return {(r["name"], r["device"], r["precision"], str(r["size"]), r["metric"]): r["value"]
            for r in (doc or {}).get("results", []) if r.get("where") in ("host", "container")}
compare = []
for n in ("1", "2"):
    host, box = rows(f"bench-host-{n}.json"), rows(f"bench-container-{n}.json")
    for key in sorted(set(host) & set(box)):
        compare.append({"pair": n, "name": key[0], "precision": key[2], "size": key[3], "metric": key[4],
                        "host": host[key], "container": box[key], "container_over_host": box[key] / host[key] if host[key] else None})
compute = [c for c in compare if not c["name"].startswith(("h2d", "d2h")) and c["container_over_host"]]
host_a, host_b = rows("bench-host-1.json"), rows("bench-host-2.json")
host_spread = {f"{k[0]} {k[2]} {k[3]}": host_b[k] / host_a[k] for k in sorted(set(host_a) & set(host_b)) if host_a[k]}
summary = {
    "doctor_before": findings("doctor-before.json"),
    "doctor_after": findings("doctor-after.json"),
    "cdi_check": {n: load(f"cdi-check-{n}.json") for n in ("good", "no-nvml", "missing-node", "wrong-node")},
    "bench_compare": compare,
    "max_deviation": max((abs(c["container_over_host"] - 1) for c in compare if c["container_over_host"]), default=None),
    # GPU work (nbody, GEMM, device copies); host<->device transfers through pageable memory vary run to run on the
    # host alone (host_spread: the second host run over the first)
    "max_deviation_gpu_work": max((abs(c["container_over_host"] - 1) for c in compute), default=None),
    "host_spread": host_spread,
}
pathlib.Path(sys.argv[2]).write_text(json.dumps(summary, indent=2))
for c in compare:
    print(f'{c["pair"]} {c["name"]:8} {c["precision"]:5} {c["size"]:>10} host {c["host"]:>12.1f} container {c["container"]:>12.1f} {c["metric"]:9} ratio {c["container_over_host"]:.4f}')
print("max deviation container/host, all rows:", summary["max_deviation"])
print("max deviation container/host, GPU work (nbody, gemm, device copies):", summary["max_deviation_gpu_work"])
EOF
cp /var/log/gpudock-dockerd.log "$W/" 2>/dev/null
echo "done in $((SECONDS - started)) s"
tar -C "$W" --exclude img -czf "$OUT/all.tar.gz" .
rm -rf "$W"
