#!/usr/bin/env bash
# gpudock plan all for Ubuntu 22.04.5 LTS (native, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail

# Do not mix NVIDIA's packages with Ubuntu's nvidia-driver-XXX packages on one machine.
# Open modules (--open) are NVIDIA's default since R560 and required on Grace Hopper/Blackwell; Maxwell, Pascal and Volta need cuda-drivers (proprietary).
# docker.io conflicts with Docker's docker-ce packages: use one source only.
# Docker registers --gpus only if nvidia-container-runtime-hook was on PATH when dockerd started: hence the restart.
# 1. install curl to download the keyring package
if ! sh -c 'command -v curl' >/dev/null 2>&1; then
  sudo apt-get install -y ca-certificates curl
fi

# 2. download NVIDIA's cuda-keyring package (https)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
if ! dpkg-query -W '-f=${Status}' cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  curl -fsSL -o /tmp/gpudock-cuda-keyring_1.1-1_all.deb https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64/cuda-keyring_1.1-1_all.deb
fi

# 3. install the keyring and the repository list (signed-by)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
if ! dpkg-query -W '-f=${Status}' cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  sudo dpkg -i /tmp/gpudock-cuda-keyring_1.1-1_all.deb
fi

# 4. refresh the package lists
if ! dpkg-query -W '-f=${Status}' cuda-drivers 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get update
fi

# 5. install the headers of the running kernel (DKMS builds the module against them)
if ! dpkg-query -W '-f=${Status}' linux-headers-6.8.0-45-generic 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get install -y linux-headers-6.8.0-45-generic
fi

# 6. install the driver: cuda-drivers (as in the deck)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
if ! dpkg-query -W '-f=${Status}' cuda-drivers 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get install -y cuda-drivers
fi

# 7. reboot so the new kernel module loads
#    do this yourself: sudo reboot

# 8. refresh the package lists
if ! dpkg-query -W '-f=${Status}' docker.io 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get update
fi

# 9. install Docker Engine from the distribution (docker.io)  (https://docs.docker.com/engine/install/ubuntu/)
if ! dpkg-query -W '-f=${Status}' docker.io 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get install -y docker.io
fi

# 10. let alice use Docker without sudo (docker group; log in again afterwards)  (https://docs.docker.com/engine/install/linux-postinstall/)
if ! id -nG alice 2>/dev/null | grep -qE '(^|\s)docker(\s|$)'; then
  sudo usermod -aG docker alice
fi

# 11. start the Docker daemon (systemd)  (https://docs.docker.com/engine/install/linux-postinstall/)
if ! sudo docker info >/dev/null 2>&1; then
  sudo systemctl enable --now docker
fi
for _ in $(seq 30); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done

# 12. install the prerequisites  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! sh -c 'command -v curl && command -v gpg' >/dev/null 2>&1; then
  sudo apt-get install -y --no-install-recommends ca-certificates curl gnupg2
fi

# 13. download NVIDIA's repository key (https)  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! test -s /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg; then
  curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey -o /tmp/gpudock-nvidia-container-toolkit.gpgkey
fi

# 14. dearmor it into a keyring file  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! test -s /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg; then
  sudo gpg --batch --yes --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg /tmp/gpudock-nvidia-container-toolkit.gpgkey
fi

# 15. add the toolkit repository, signed-by that keyring  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! grep -qsE signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg /etc/apt/sources.list.d/nvidia-container-toolkit.list >/dev/null 2>&1; then
  sudo tee /etc/apt/sources.list.d/nvidia-container-toolkit.list > /dev/null <<'GPUDOCK_EOF'
deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /
GPUDOCK_EOF
fi

# 16. refresh the package lists
if ! dpkg-query -W '-f=${Status}' nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get update
fi

# 17. install nvidia-container-toolkit  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! dpkg-query -W '-f=${Status}' nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get install -y nvidia-container-toolkit
fi

# 18. register the nvidia runtime with Docker  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
if ! grep -qsE '"nvidia"' /etc/docker/daemon.json >/dev/null 2>&1; then
  sudo nvidia-ctk runtime configure --runtime=docker
fi

# 19. restart the Docker daemon (systemd)  (https://docs.docker.com/engine/install/linux-postinstall/)
if ! sudo docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -qE '"nvidia"'; then
  sudo systemctl restart docker
fi
for _ in $(seq 30); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done

docker run --rm --gpus all ubuntu:24.04 nvidia-smi >/dev/null 2>&1 && echo 'verified: docker run --rm --gpus all ubuntu:24.04 nvidia-smi'
