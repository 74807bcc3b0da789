#!/usr/bin/env bash
# gpudock plan toolkit for Debian GNU/Linux 12 (bookworm) (WSL 2, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail

# Docker registers --gpus only if nvidia-container-runtime-hook was on PATH when dockerd started: hence the restart.
# WSL 2: the toolkit finds the Windows driver through /usr/lib/wsl/lib; install no Linux driver.
# 1. install the prerequisites  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! sh -c 'command -v curl && command -v gpg' >/dev/null 2>&1; then
  sudo apt-get install -y --no-install-recommends ca-certificates curl gnupg2
fi

# 2. download NVIDIA's repository key (https)  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! test -s /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg; then
  curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey -o /tmp/gpudock-nvidia-container-toolkit.gpgkey
fi

# 3. dearmor it into a keyring file  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! test -s /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg; then
  sudo gpg --batch --yes --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg /tmp/gpudock-nvidia-container-toolkit.gpgkey
fi

# 4. add the toolkit repository, signed-by that keyring  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! grep -qsE signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg /etc/apt/sources.list.d/nvidia-container-toolkit.list >/dev/null 2>&1; then
  sudo tee /etc/apt/sources.list.d/nvidia-container-toolkit.list > /dev/null <<'GPUDOCK_EOF'
deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /
GPUDOCK_EOF
fi

# 5. refresh the package lists
if ! dpkg-query -W '-f=${Status}' nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get update
fi

# 6. install nvidia-container-toolkit  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! dpkg-query -W '-f=${Status}' nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get install -y nvidia-container-toolkit
fi

# 7. register the nvidia runtime with Docker  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! grep -qsE '"nvidia"' /etc/docker/daemon.json >/dev/null 2>&1; then
  sudo nvidia-ctk runtime configure --runtime=docker
fi

# 8. stop the running dockerd (no systemd)
if ! sudo docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -qE '"nvidia"'; then
  sudo pkill -TERM -x dockerd || sudo true
fi
for _ in $(seq 20); do sh -c '! pgrep -x dockerd' >/dev/null 2>&1 && break; sleep 1; done

# 9. start the Docker daemon without systemd (SysV init script)  (https://docs.docker.com/engine/daemon/start/)
if ! sudo docker info >/dev/null 2>&1; then
  sudo service docker start || sudo sh -c 'dockerd > /var/log/gpudock-dockerd.log 2>&1 &'
fi
for _ in $(seq 15); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done

docker run --rm --gpus all ubuntu:24.04 nvidia-smi >/dev/null 2>&1 && echo 'verified: docker run --rm --gpus all ubuntu:24.04 nvidia-smi'
