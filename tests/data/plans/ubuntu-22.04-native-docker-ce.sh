#!/usr/bin/env bash
# gpudock plan docker for Ubuntu 22.04.5 LTS (native, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail

# docker-ce replaces the distribution's docker.io (removed first, as Docker's docs say).
# 1. remove docker.io, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
if ! sh -c '! dpkg-query -W -f='"'"'${Status}'"'"' docker.io 2>/dev/null | grep -q '"'"'install ok installed'"'"'' >/dev/null 2>&1; then
  sudo apt-get remove -y docker.io
fi

# 2. remove docker-doc, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
if ! sh -c '! dpkg-query -W -f='"'"'${Status}'"'"' docker-doc 2>/dev/null | grep -q '"'"'install ok installed'"'"'' >/dev/null 2>&1; then
  sudo apt-get remove -y docker-doc
fi

# 3. remove docker-compose, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
if ! sh -c '! dpkg-query -W -f='"'"'${Status}'"'"' docker-compose 2>/dev/null | grep -q '"'"'install ok installed'"'"'' >/dev/null 2>&1; then
  sudo apt-get remove -y docker-compose
fi

# 4. remove docker-compose-v2, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
if ! sh -c '! dpkg-query -W -f='"'"'${Status}'"'"' docker-compose-v2 2>/dev/null | grep -q '"'"'install ok installed'"'"'' >/dev/null 2>&1; then
  sudo apt-get remove -y docker-compose-v2
fi

# 5. remove podman-docker, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
if ! sh -c '! dpkg-query -W -f='"'"'${Status}'"'"' podman-docker 2>/dev/null | grep -q '"'"'install ok installed'"'"'' >/dev/null 2>&1; then
  sudo apt-get remove -y podman-docker
fi

# 6. remove containerd, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
if ! sh -c '! dpkg-query -W -f='"'"'${Status}'"'"' containerd 2>/dev/null | grep -q '"'"'install ok installed'"'"'' >/dev/null 2>&1; then
  sudo apt-get remove -y containerd
fi

# 7. remove runc, which conflicts with docker-ce  (https://docs.docker.com/engine/install/ubuntu/)
if ! sh -c '! dpkg-query -W -f='"'"'${Status}'"'"' runc 2>/dev/null | grep -q '"'"'install ok installed'"'"'' >/dev/null 2>&1; then
  sudo apt-get remove -y runc
fi

# 8. refresh the package lists
if ! dpkg-query -W '-f=${Status}' docker-ce 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get update
fi

# 9. install ca-certificates and curl
if ! dpkg-query -W '-f=${Status}' curl 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get install -y ca-certificates curl
fi

# 10. create /etc/apt/keyrings
if ! test -d /etc/apt/keyrings; then
  sudo install -m 0755 -d /etc/apt/keyrings
fi

# 11. download Docker's signing key (https)  (https://docs.docker.com/engine/install/ubuntu/)
if ! test -s /etc/apt/keyrings/docker.asc; then
  sudo curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc
fi

# 12. make the key readable by apt
if ! sh -c 'test -r /etc/apt/keyrings/docker.asc && [ "$(stat -c %a /etc/apt/keyrings/docker.asc)" = 644 ]' >/dev/null 2>&1; then
  sudo chmod a+r /etc/apt/keyrings/docker.asc
fi

# 13. add Docker's repository, signed-by its key  (https://docs.docker.com/engine/install/ubuntu/)
if ! grep -qs 'Signed-By: /etc/apt/keyrings/docker.asc' /etc/apt/sources.list.d/docker.sources >/dev/null 2>&1; then
  sudo tee /etc/apt/sources.list.d/docker.sources > /dev/null <<'GPUDOCK_EOF'
Types: deb
URIs: https://download.docker.com/linux/ubuntu
Suites: jammy
Components: stable
Architectures: amd64
Signed-By: /etc/apt/keyrings/docker.asc
GPUDOCK_EOF
fi

# 14. refresh the package lists
if ! dpkg-query -W '-f=${Status}' docker-ce 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get update
fi

# 15. install docker-ce and its plugins  (https://docs.docker.com/engine/install/ubuntu/)
if ! dpkg-query -W '-f=${Status}' docker-ce 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get install -y docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin
fi

# 16. let alice use Docker without sudo (docker group; log in again afterwards)  (https://docs.docker.com/engine/install/linux-postinstall/)
if ! id -nG alice 2>/dev/null | grep -qE '(^|\s)docker(\s|$)'; then
  sudo usermod -aG docker alice
fi

# 17. start the Docker daemon (systemd)  (https://docs.docker.com/engine/install/linux-postinstall/)
if ! sudo docker info >/dev/null 2>&1; then
  sudo systemctl enable --now docker
fi
for _ in $(seq 30); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done

sudo docker info >/dev/null 2>&1 && echo 'verified: docker info'
