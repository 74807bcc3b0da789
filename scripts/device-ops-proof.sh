#!/usr/bin/env bash
# Issue 24's operations surface on a real GPU host, after scripts/device-cdi-proof.sh has made it a CDI host
# (Docker 26, /etc/cdi/nvidia.yaml, GPU containers working) in the same device call:
#   gpudock doctor --check (the Slurm/NPD line, timed) -> gpudock plan all (starts no container: docker events)
#   -> gpudock bench --quick -> doctor --check --prometheus (findings, verdict and the bench figures as metrics)
#   -> scripts/slurm-healthcheck with a recording scontrol: healthy (nothing done), the CDI spec moved away
#      (the node drained with gpudock's reason), the spec back (still drained: Docker 26 stopped reading its spec
#      folder, docs/benchmarks/cdi-refresh-h100), the doctor's fix followed (dockerd restarted), resumed.
# Run after the CDI proof, with the same OUT and GPUDOCK_SRC:
#   OUT=/tmp/out GPUDOCK_SRC=.dev/src bash scripts/device-ops-proof.sh
# Everything lands in $OUT/ops (and $OUT/ops.tar.gz): transcript.txt, the .prom files, scontrol.log, summary.json.
set -u
OUT=${OUT:?set OUT to the output folder of the CDI proof}
SRC=$(cd "${GPUDOCK_SRC:?set GPUDOCK_SRC to the src folder of gpudock}" && pwd)
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
O=$OUT/ops
mkdir -p "$O/bin"
exec > >(tee "$O/transcript.txt") 2>&1
export PYTHONPATH=$SRC:/tmp/gpudock-site PYTHONUNBUFFERED=1 NO_COLOR=1 COLUMNS=120 XDG_STATE_HOME=$O/state
cat > "$O/bin/gpudock" <<EOF
#!/bin/sh
exec python3 -m gpudock "\$@"
EOF
cat > "$O/bin/scontrol" <<EOF
#!/bin/sh
# records what the health check asks of Slurm; "show node" answers with the reason gpudock last set
echo "scontrol \$*" >> "$O/scontrol.log"
if [ "\$1 \$2 \$3" = "-o show node" ]; then cat "$O/reason" 2>/dev/null; exit 0; fi
case "\$*" in *State=DRAIN*) printf 'NodeName=%s State=DRAIN Reason=gpudock\n' "\$NODENAME" > "$O/reason";; *State=RESUME*) rm -f "$O/reason";; esac
EOF
chmod 755 "$O/bin/gpudock" "$O/bin/scontrol"
export PATH=$O/bin:$PATH NODENAME=gpu01
started=$SECONDS
step() { echo; echo "=== [$((SECONDS - started)) s] $*"; }
timed() { # COMMAND...: run it, then say its exit status and wall time (bash's EPOCHREALTIME, microseconds)
  local t0=${EPOCHREALTIME/./} rc; "$@"; rc=$?
  local us=$((${EPOCHREALTIME/./} - t0)); echo "[exit $rc, $((us / 1000000)).$(printf '%06d' $((us % 1000000))) s]"; return $rc
}

step "gpudock --version; doctor --check on the CDI host (expect exit 0, one line)"
gpudock --version
timed gpudock doctor --check > "$O/check-healthy.txt"; echo "check exit: $?"; cat "$O/check-healthy.txt"

step "gpudock plan all starts no container (docker events over the plan's run)"
sleep 1  # the doctor's own containers (hello, the CDI GPU check) end before the window opens
since=$(date +%s.%N)
timed gpudock plan all --format json > "$O/plan-all.json"
until=$(date +%s.%N)
docker events --since "$since" --until "$until" --filter type=container --format '{{.Action}} {{.Actor.Attributes.image}}' > "$O/plan-events.txt"
echo "container events during the plan: $(wc -l < "$O/plan-events.txt")"; cat "$O/plan-events.txt"

step "gpudock bench --quick --no-cpu (its figures become the last bench the metrics export)"
timed gpudock bench --quick --no-cpu --out "$O/bench.json" > /dev/null

step "doctor --check --prometheus: findings, verdict and bench figures as node_exporter textfile metrics"
timed gpudock doctor --check --prometheus "$O/gpudock-healthy.prom"
grep -E '^gpudock_(verdict|doctor|bench)' "$O/gpudock-healthy.prom" | head -40

step "Slurm health check, healthy node (expect exit 0, no scontrol update)"
GPUDOCK_PROM=$O/gpudock-slurm.prom timed sh "$SCRIPTS/slurm-healthcheck"; echo "healthcheck exit: $?"

step "the CDI spec moved away: the health check drains the node with gpudock's reason"
mv /etc/cdi/nvidia.yaml "$O/nvidia.yaml.away"
timed gpudock doctor --check > "$O/check-broken.txt"; echo "check exit: $?"; cat "$O/check-broken.txt"
gpudock doctor --json > "$O/doctor-broken.json"
python3 -c 'import json,sys; [print(f["severity"], f["code"]) for f in json.load(open(sys.argv[1]))["findings"]]' "$O/doctor-broken.json"
gpudock doctor --check --prometheus "$O/gpudock-broken.prom" > /dev/null
GPUDOCK_PROM=$O/gpudock-slurm.prom timed sh "$SCRIPTS/slurm-healthcheck"; echo "healthcheck exit: $?"

step "the spec back: the health check still drains (dockerd stopped reading its spec folder)"
mv "$O/nvidia.yaml.away" /etc/cdi/nvidia.yaml
sleep 3
timed gpudock doctor --check > "$O/check-restored.txt"; echo "check exit: $?"; cat "$O/check-restored.txt"
gpudock doctor --json > "$O/doctor-restored.json"
python3 -c 'import json,sys; [print(f["severity"], f["code"]) for f in json.load(open(sys.argv[1]))["findings"]]' "$O/doctor-restored.json"
docker run --rm --network none --device nvidia.com/gpu=all gpudock-test/glibc:cdi nvidia-smi -L; echo "[CDI container exit $?]"
GPUDOCK_PROM=$O/gpudock-slurm.prom timed sh "$SCRIPTS/slurm-healthcheck"; echo "healthcheck exit: $?"

step "the doctor on the restored host, and its fix followed (Docker 26 reads no spec again until it restarts)"
gpudock doctor; echo "[doctor exit $?]"
# the fix's line for a dockerd gpudock started (this host has no systemd): stop it through its pidfile, start it
start-stop-daemon --stop --oknodo --retry TERM/20/KILL/5 --pidfile /run/gpudock-dockerd.pid --exec /usr/bin/dockerd
setsid dockerd --config-file /etc/docker/daemon.json --pidfile /run/gpudock-dockerd.pid >> /var/log/gpudock-dockerd.log 2>&1 < /dev/null &
for _ in $(seq 60); do docker info > /dev/null 2>&1 && break; sleep 0.5; done
docker run --rm --network none --device nvidia.com/gpu=all gpudock-test/glibc:cdi nvidia-smi -L; echo "[CDI container exit $?]"
GPUDOCK_PROM=$O/gpudock-slurm.prom timed sh "$SCRIPTS/slurm-healthcheck"; echo "healthcheck exit: $?"
step "after the restart: the health check resumes the node (gpudock drained it)"
timed gpudock doctor --check > "$O/check-after-restart.txt"; echo "check exit: $?"; cat "$O/check-after-restart.txt"
GPUDOCK_PROM=$O/gpudock-slurm.prom timed sh "$SCRIPTS/slurm-healthcheck"; echo "healthcheck exit: $?"
echo "--- scontrol calls:"; cat "$O/scontrol.log"

step "summary"
python3 - "$O" <<'EOF'
import json, pathlib, sys
o = pathlib.Path(sys.argv[1])
read = lambda name: (o / name).read_text() if (o / name).exists() else ""
summary = {
    "check_healthy": read("check-healthy.txt").strip(),
    "check_broken": read("check-broken.txt").strip(),
    "check_restored": read("check-restored.txt").strip(),
    "check_after_restart": read("check-after-restart.txt").strip(),
    "plan_container_events": len(read("plan-events.txt").splitlines()),
    "scontrol": read("scontrol.log").splitlines(),
    "prometheus_healthy_lines": len([l for l in read("gpudock-healthy.prom").splitlines() if l and not l.startswith("#")]),
}
(o / "summary.json").write_text(json.dumps(summary, indent=2))
print(json.dumps(summary, indent=2))
EOF
echo "ops proof took $((SECONDS - started)) s"
tar -C "$O" --exclude bin -czf "$OUT/ops.tar.gz" .
