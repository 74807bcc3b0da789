#!/usr/bin/env bash
# gpudock plan all for Debian GNU/Linux 11 (bullseye) (WSL 2, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail

# driver: skipped on WSL; the Windows NVIDIA driver provides the GPU
# docker.io conflicts with Docker's docker-ce packages: use one source only.
# WSL without systemd: the daemon does not start at boot; run `sudo service docker start` (or enable systemd in /etc/wsl.conf) after each `wsl --shutdown`.
# Docker registers --gpus only if nvidia-container-runtime-hook was on PATH when dockerd started: hence the restart.
# WSL 2: the toolkit finds the Windows driver through /usr/lib/wsl/lib; install no Linux driver.
# 1. refresh the package lists
if ! dpkg-query -W '-f=${Status}' docker.io 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get update
fi

# 2. install Docker Engine from the distribution (docker.io)  (https://docs.docker.com/engine/install/debian/)
if ! dpkg-query -W '-f=${Status}' docker.io 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get install -y docker.io
fi

# 3. let alice use Docker without sudo (docker group; log in again afterwards)  (https://docs.docker.com/engine/install/linux-postinstall/)
if ! id -nG alice 2>/dev/null | grep -qE '(^|\s)docker(\s|$)'; then
  sudo usermod -aG docker alice
fi

# 4. start the Docker daemon without systemd (SysV init script)  (https://docs.docker.com/engine/daemon/start/)
if ! sudo docker info >/dev/null 2>&1; then
  sudo service docker start || sudo sh -c 'dockerd > /var/log/gpudock-dockerd.log 2>&1 &'
fi
for _ in $(seq 15); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done

# 5. install the prerequisites  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! sh -c 'command -v curl && command -v gpg' >/dev/null 2>&1; then
  sudo apt-get install -y --no-install-recommends ca-certificates curl gnupg2
fi

# 6. download NVIDIA's repository key (https)  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! test -s /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg; then
  curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey -o /tmp/gpudock-nvidia-container-toolkit.gpgkey
fi

# 7. dearmor it into a keyring file  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! test -s /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg; then
  sudo gpg --batch --yes --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg /tmp/gpudock-nvidia-container-toolkit.gpgkey
fi

# 8. add the toolkit repository, signed-by that keyring  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! grep -qsE signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg /etc/apt/sources.list.d/nvidia-container-toolkit.list >/dev/null 2>&1; then
  sudo tee /etc/apt/sources.list.d/nvidia-container-toolkit.list > /dev/null <<'GPUDOCK_EOF'
deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /
GPUDOCK_EOF
fi

# 9. refresh the package lists
if ! dpkg-query -W '-f=${Status}' nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get update
fi

# 10. install nvidia-container-toolkit  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! dpkg-query -W '-f=${Status}' nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get install -y nvidia-container-toolkit
fi

# 11. register the nvidia runtime with Docker  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! grep -qsE '"nvidia"' /etc/docker/daemon.json >/dev/null 2>&1; then
  sudo nvidia-ctk runtime configure --runtime=docker
fi

# 12. stop the running dockerd (no systemd)
if ! sudo docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -qE '"nvidia"'; then
  sudo pkill -TERM -x dockerd || sudo true
fi
for _ in $(seq 20); do sh -c '! pgrep -x dockerd' >/dev/null 2>&1 && break; sleep 1; done

# 13. start the Docker daemon without systemd (SysV init script)  (https://docs.docker.com/engine/daemon/start/)
if ! sudo docker info >/dev/null 2>&1; then
  sudo service docker start || sudo sh -c 'dockerd > /var/log/gpudock-dockerd.log 2>&1 &'
fi
for _ in $(seq 15); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done

docker run --rm --gpus all ubuntu:24.04 nvidia-smi >/dev/null 2>&1 && echo 'verified: docker run --rm --gpus all ubuntu:24.04 nvidia-smi'
