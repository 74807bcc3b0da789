#!/usr/bin/env bash
# gpudock plan docker for Debian GNU/Linux 11 (bullseye) (native, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail

# End of life: Debian 11 (bullseye) left long-term support in August 2026: no security updates from Debian.
# docker.io conflicts with Docker's docker-ce packages: use one source only.
# Debian GNU/Linux 11 (bullseye) ships docker.io 20.10: past Docker's end of life and without CDI (Docker Engine 25 or newer). For CDI, or a supported engine, use --source docker-ce.
# 1. refresh the package lists
#    skipped if docker.io is installed
if ! dpkg-query -W '-f=${Status}' -- docker.io 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get update
fi

# 2. install Docker Engine from the distribution (docker.io)  (https://docs.docker.com/engine/install/debian/)
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

# 4. start the Docker daemon (systemd)  (https://docs.docker.com/engine/daemon/start/)
#    skipped if the Docker daemon answers
if ! sudo docker info >/dev/null 2>&1; then
  sudo systemctl enable --now docker
  for _ in $(seq 30); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done
  sudo docker info >/dev/null 2>&1 || { echo 'gpudock: step 4 did not verify: expected the Docker daemon answers' >&2; exit 1; }
fi

sudo docker info >/dev/null 2>&1 && echo 'verified: docker info'
