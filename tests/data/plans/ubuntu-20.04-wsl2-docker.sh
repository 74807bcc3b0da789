#!/usr/bin/env bash
# gpudock plan docker for Ubuntu 20.04.6 LTS (WSL 2, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail

# End of life: Ubuntu 20.04 left standard support in May 2025: no standard security updates (ESM only, with Ubuntu Pro).
# docker.io conflicts with Docker's docker-ce packages: use one source only.
# This WSL distro runs without systemd (an older or imported distro, or `[boot] systemd=false`): the daemon does not start by itself; run `sudo service docker start` after each `wsl --shutdown`, or turn systemd on in /etc/wsl.conf (`[boot]` / `systemd=true`).
# 1. refresh the package lists
#    skipped if docker.io is installed
if ! dpkg-query -W '-f=${Status}' -- docker.io 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get update
fi

# 2. install Docker Engine from the distribution (docker.io)  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if docker.io is installed
if ! dpkg-query -W '-f=${Status}' -- docker.io 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io
  dpkg-query -W '-f=${Status}' -- docker.io 2>/dev/null | grep -qE 'install ok installed' || { echo 'gpudock: step 2 did not verify: expected docker.io is installed' >&2; exit 1; }
fi

# 3. let alice use Docker without sudo (docker group; log in again afterwards)  (https://docs.docker.com/engine/install/linux-postinstall/)
#    skipped if alice is in the docker group
if ! id -nG -- alice 2>/dev/null | grep -qE '(^|\s)docker(\s|$)'; then
  sudo usermod -aG docker -- alice
fi

# 4. start the Docker daemon without systemd (SysV init script)  (https://docs.docker.com/engine/daemon/start/)
#    skipped if the Docker daemon answers
if ! sudo docker info >/dev/null 2>&1; then
  sudo service docker start || sudo sh -c '"$@" >>/var/log/gpudock-dockerd.log 2>&1 &' sh dockerd --pidfile /run/gpudock-dockerd.pid
  for _ in $(seq 15); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done
  sudo docker info >/dev/null 2>&1 || { echo 'gpudock: step 4 did not verify: expected the Docker daemon answers' >&2; exit 1; }
fi

sudo docker info >/dev/null 2>&1 && echo 'verified: docker info'
