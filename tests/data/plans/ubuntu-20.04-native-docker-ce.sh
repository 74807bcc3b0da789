#!/usr/bin/env bash
# gpudock plan docker for Ubuntu 20.04.6 LTS (native, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail
GPUDOCK_WORK="$(mktemp -d)"  # private folder for downloads and files to install
trap 'rm -rf -- "$GPUDOCK_WORK"' EXIT

# End of life: Ubuntu 20.04 left standard support in May 2025: no standard security updates (ESM only, with Ubuntu Pro).
# docker-ce replaces the distribution's docker.io (removed first, as Docker's docs say).
# 1. remove docker.io, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if docker.io is not installed
if dpkg-query -W '-f=${Status}' -- docker.io 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y docker.io
fi

# 2. remove docker-doc, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if docker-doc is not installed
if dpkg-query -W '-f=${Status}' -- docker-doc 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y docker-doc
fi

# 3. remove docker-compose, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if docker-compose is not installed
if dpkg-query -W '-f=${Status}' -- docker-compose 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y docker-compose
fi

# 4. remove docker-compose-v2, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if docker-compose-v2 is not installed
if dpkg-query -W '-f=${Status}' -- docker-compose-v2 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y docker-compose-v2
fi

# 5. remove podman-docker, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if podman-docker is not installed
if dpkg-query -W '-f=${Status}' -- podman-docker 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y podman-docker
fi

# 6. remove containerd, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if containerd is not installed
if dpkg-query -W '-f=${Status}' -- containerd 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y containerd
fi

# 7. remove runc, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if runc is not installed
if dpkg-query -W '-f=${Status}' -- runc 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y runc
fi

# 8. refresh the package lists
#    skipped if docker-ce is installed
if ! dpkg-query -W '-f=${Status}' -- docker-ce 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get update
fi

# 9. install ca-certificates, curl and gpg
#    skipped if curl and gpg are on PATH
if ! sh -c 'for c in "$@"; do command -v -- "$c" || exit 1; done' sh curl gpg >/dev/null 2>&1; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y ca-certificates curl gpg
fi

# 10. create /etc/apt/keyrings
#    skipped if /etc/apt/keyrings exists
if ! test -d /etc/apt/keyrings; then
  sudo install -m 0755 -d /etc/apt/keyrings
fi

# 11. download Docker's signing key (https) into a private folder and check its fingerprint  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if /etc/apt/keyrings/docker.asc holds Docker's release key
if ! gpg --batch --no-default-keyring --with-colons --show-keys /etc/apt/keyrings/docker.asc 2>/dev/null | grep -qE '^fpr:+9DC858229FC7DD38854AE2D88D81803C0EBFCD88:'; then
  curl -fsSL --proto =https -o "$GPUDOCK_WORK"/docker.asc https://download.docker.com/linux/ubuntu/gpg
  gpg --batch --no-default-keyring --with-colons --show-keys "$GPUDOCK_WORK"/docker.asc 2>/dev/null | grep -qE '^fpr:+9DC858229FC7DD38854AE2D88D81803C0EBFCD88:' || { echo 'gpudock: step 11 did not verify: expected the download is Docker'"'"'s release key' >&2; exit 1; }
fi

# 12. install the verified key where apt looks (readable by apt)  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if /etc/apt/keyrings/docker.asc holds Docker's release key
if ! gpg --batch --no-default-keyring --with-colons --show-keys /etc/apt/keyrings/docker.asc 2>/dev/null | grep -qE '^fpr:+9DC858229FC7DD38854AE2D88D81803C0EBFCD88:'; then
  sudo install -m 0644 -T "$GPUDOCK_WORK"/docker.asc /etc/apt/keyrings/docker.asc.gpudock-new && sudo mv -f -T /etc/apt/keyrings/docker.asc.gpudock-new /etc/apt/keyrings/docker.asc
fi

# 13. add Docker's repository, signed-by its key  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if /etc/apt/sources.list.d/docker.sources already holds this content
printf '%s\n' 'Types: deb' 'URIs: https://download.docker.com/linux/ubuntu' 'Suites: focal' 'Components: stable' 'Architectures: amd64' 'Signed-By: /etc/apt/keyrings/docker.asc' > "$GPUDOCK_WORK"/file-etc_apt_sources.list.d_docker.sources
if ! cmp -s -- "$GPUDOCK_WORK"/file-etc_apt_sources.list.d_docker.sources /etc/apt/sources.list.d/docker.sources >/dev/null 2>&1; then
  sudo install -m 0644 -T "$GPUDOCK_WORK"/file-etc_apt_sources.list.d_docker.sources /etc/apt/sources.list.d/docker.sources.gpudock-new && sudo mv -f -T /etc/apt/sources.list.d/docker.sources.gpudock-new /etc/apt/sources.list.d/docker.sources
fi

# 14. refresh the package lists
#    skipped if docker-ce is installed
if ! dpkg-query -W '-f=${Status}' -- docker-ce 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get update
fi

# 15. install docker-ce and its plugins  (https://docs.docker.com/engine/install/ubuntu/)
#    skipped if docker-ce is installed
if ! dpkg-query -W '-f=${Status}' -- docker-ce 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin
  dpkg-query -W '-f=${Status}' -- docker-ce 2>/dev/null | grep -qE 'install ok installed' || { echo 'gpudock: step 15 did not verify: expected docker-ce is installed' >&2; exit 1; }
fi

# 16. let alice use Docker without sudo (docker group; log in again afterwards)  (https://docs.docker.com/engine/install/linux-postinstall/)
#    skipped if alice is in the docker group
if ! id -nG -- alice 2>/dev/null | grep -qE '(^|\s)docker(\s|$)'; then
  sudo usermod -aG docker -- alice
fi

# 17. start the Docker daemon (systemd)  (https://docs.docker.com/engine/daemon/start/)
#    skipped if the Docker daemon answers
if ! sudo docker info >/dev/null 2>&1; then
  sudo systemctl enable --now docker
  for _ in $(seq 30); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done
  sudo docker info >/dev/null 2>&1 || { echo 'gpudock: step 17 did not verify: expected the Docker daemon answers' >&2; exit 1; }
fi

sudo docker info >/dev/null 2>&1 && echo 'verified: docker info'
