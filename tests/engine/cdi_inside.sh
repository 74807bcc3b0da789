#!/bin/bash
# Inside a privileged Debian 13 container (tests/test_cdi_engine.py): Debian 13's Docker 26 with CDI on resolves a
# spec that gpudock generated for a fake NVIDIA driver (device nodes made with mknod here, ELF libraries with real
# SONAMEs, /proc/driver/nvidia on a tmpfs). Every answer goes to /out for the test to compare with the spec.
#   /opt/docker26/bin  Docker 26's binaries (scripts/docker26-binaries)   /gpudock  this checkout (read-only)
#   /opt/busybox       a static busybox for the container image           /out      results
set -u
export PATH=/opt/docker26/bin:$PATH PYTHONPATH=/gpudock/src
gpudock() { [ "$1" = cdi ] && shift; python3 -m gpudock.cdi "$@"; }  # the standard library alone: no pip here
# a container that may run containers: /sys writable and its own cgroup hierarchies mounted afresh, read-write
# (it has CAP_SYS_ADMIN and a private cgroup namespace, see the test; --privileged would do this)
mount -o remount,rw /sys 2> /dev/null
mount -o remount,rw /sys/fs/cgroup 2> /dev/null
awk '$0 ~ / - cgroup2? / {n = split($0, f, " "); print $5, f[n-2], f[n]}' /proc/self/mountinfo |
  while read -r point type options; do
    umount "$point" && mount -t "$type" -o "${options#r[ow],}" "$type" "$point"
  done
mkdir -p /var/lib/docker /etc/docker /proc/driver
mount -t tmpfs tmpfs /var/lib/docker
mount -t tmpfs tmpfs /proc/driver  # a kernel module's /proc/driver/nvidia, without the module
python3 /gpudock/tests/cdi_fixtures.py / 2 && ldconfig
cat > /etc/docker/daemon.json <<'EOF'
{"features": {"cdi": true}, "storage-driver": "vfs", "bridge": "none", "iptables": false, "ip6tables": false, "userland-proxy": false}
EOF
dockerd --pidfile /run/gpudock-dockerd.pid > /out/dockerd.log 2>&1 &
for _ in $(seq 80); do docker info > /dev/null 2>&1 && break; sleep 0.25; done
docker version --format '{{.Server.Version}}' > /out/engine-version.txt
mkdir -p /tmp/img/bin && cp /opt/busybox /tmp/img/bin/busybox && ln -s busybox /tmp/img/bin/sh
tar -C /tmp/img -c . | docker import - cdi-test:busybox > /dev/null

gpudock cdi generate --output /etc/cdi/nvidia.json 2> /out/generate.err
cp /etc/cdi/nvidia.json /out/spec.json
gpudock cdi check --json > /out/check-good.json; echo $? > /out/check-good.rc

# what a container sees: every /dev/nvidia* with its numbers, each mounted file's checksum, the environment
# shellcheck disable=SC2016  # expanded inside the container
look='for n in /dev/nvidia*; do [ -e "$n" ] && stat -c "node %n %t %T" "$n"; done
for f in "$@"; do [ -e "$f" ] && echo "file $f $(md5sum < "$f" | cut -d" " -f1)"; done; echo "env $NVIDIA_VISIBLE_DEVICES"'
files=$(python3 -c 'import json; print(" ".join(m["containerPath"] for m in json.load(open("/out/spec.json"))["containerEdits"]["mounts"]))')
for device in all 0 GPU-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9; do
  # shellcheck disable=SC2086  # the file list is words
  docker run --rm --network none --device "nvidia.com/gpu=$device" cdi-test:busybox sh -c "$look" sh $files > "/out/inside-$device.txt" 2>&1
done
# shellcheck disable=SC2086
docker run --rm --network none cdi-test:busybox sh -c "$look" sh $files > /out/inside-none.txt 2>&1
python3 - > /out/host-files.txt <<'EOF'
import hashlib, json
for mount in json.load(open("/out/spec.json"))["containerEdits"]["mounts"]:  # container path: the host file's bytes
    print("file", mount["containerPath"], hashlib.md5(open(mount["hostPath"], "rb").read()).hexdigest())
EOF
docker run --rm --network none --device nvidia.com/gpu=7 cdi-test:busybox true > /out/unresolvable.txt 2>&1
echo $? > /out/unresolvable.rc
# a library gone from disk (a driver update would do this): the check names it, and the engine refuses too
rm /usr/lib/x86_64-linux-gnu/libnvidia-nvvm.so.580.95.05
gpudock cdi check > /out/check-stale.txt; echo $? > /out/check-stale.rc
docker run --rm --network none --device nvidia.com/gpu=all cdi-test:busybox true > /out/stale-run.txt 2>&1
echo $? > /out/stale-run.rc
kill "$(cat /run/gpudock-dockerd.pid)"
