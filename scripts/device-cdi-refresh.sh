#!/usr/bin/env bash
# When does Docker see a CDI spec that changed under it? Run after scripts/device-cdi-proof.sh in the same
# device call (a CDI host: Docker 26, /etc/cdi/nvidia.yaml, GPU containers working). Each case changes the spec
# the way a person or a tool does, then asks Docker at once, after 3 s, and says what gpudock's doctor reads:
#   1 moved out and back (a copy from another file system)   2 touched
#   3 replaced by a rename in /etc/cdi (as a tool writes atomically)   4 removed, then written back in place
#   6 removed while a container asks for the GPU, then moved back (what broke in device-ops-proof.sh)
#   then: gpudock install cdi --apply --yes, and a dockerd restart
#   OUT=/tmp/out GPUDOCK_SRC=src bash scripts/device-cdi-refresh.sh
set -u
OUT=${OUT:?set OUT to the output folder of the CDI proof}
SRC=$(cd "${GPUDOCK_SRC:?set GPUDOCK_SRC to the src folder of gpudock}" && pwd)
R=$OUT/refresh
mkdir -p "$R"
exec > >(tee "$R/transcript.txt") 2>&1
export PYTHONPATH=$SRC:/tmp/gpudock-site PYTHONUNBUFFERED=1 NO_COLOR=1 COLUMNS=120
gpudock() { python3 -m gpudock "$@"; }
SPEC=/etc/cdi/nvidia.yaml
cp "$SPEC" "$R/good.yaml"
ask() { # LABEL: does Docker resolve nvidia.com/gpu=all now, and after 3 s? What does the doctor say?
  local now later
  docker run --rm --network none --device nvidia.com/gpu=all gpudock-test/glibc:cdi nvidia-smi -L > "$R/run.txt" 2>&1
  now=$?
  sleep 3
  docker run --rm --network none --device nvidia.com/gpu=all gpudock-test/glibc:cdi nvidia-smi -L > "$R/run-later.txt" 2>&1
  later=$?
  echo "$1: docker run exit $now at once ($(head -c 160 "$R/run.txt" | tr '\n' ' ')), $later after 3 s"
  gpudock doctor --check; echo "  [doctor --check exit $?]"
}
restart_dockerd() {
  kill "$(cat /run/gpudock-dockerd.pid)"; for _ in $(seq 40); do [ -e /run/gpudock-dockerd.pid ] || break; sleep 0.25; done
  setsid dockerd --config-file /etc/docker/daemon.json --pidfile /run/gpudock-dockerd.pid >> /var/log/gpudock-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 60); do docker info > /dev/null 2>&1 && break; sleep 0.5; done
}
echo "== docker $(docker version --format '{{.Server.Version}}'); spec $(stat -c '%s bytes, inode %i' "$SPEC")"
ask "0 untouched"
mv "$SPEC" /dev/shm/nvidia.yaml && sleep 1 && mv /dev/shm/nvidia.yaml "$SPEC"
ask "1 moved out and back (copied across file systems)"
touch "$SPEC"
ask "2 touched"
cp "$R/good.yaml" /etc/cdi/.nvidia.yaml.tmp && mv /etc/cdi/.nvidia.yaml.tmp "$SPEC"
ask "3 replaced by a rename inside /etc/cdi"
rm "$SPEC" && sleep 1 && cp "$R/good.yaml" "$SPEC"
ask "4 removed, then written back in place"
mv "$SPEC" "$R/away.yaml"
docker run --rm --network none --device nvidia.com/gpu=all gpudock-test/glibc:cdi nvidia-smi -L; echo "  [docker run without a spec: exit $?]"
mv "$R/away.yaml" "$SPEC"
ask "6 removed, a container asked for the GPU meanwhile, moved back"
sleep 10
ask "6 (10 s later)"
gpudock cdi check; echo "  [cdi check exit $?]"
gpudock install cdi --apply --yes --log-dir "$R/install"; echo "  [install cdi exit $?]"
ask "7a after gpudock install cdi --apply --yes"
restart_dockerd
ask "7b after a dockerd restart"
grep -i "cdi" /var/log/gpudock-dockerd.log | tail -20 > "$R/dockerd-cdi.log"
echo "== dockerd's CDI lines (last 20)"; cat "$R/dockerd-cdi.log"
