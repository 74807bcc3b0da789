#!/usr/bin/env bash
# gpudock plan driver for Ubuntu 24.04.3 LTS (native, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail

# Do not mix NVIDIA's packages with Ubuntu's nvidia-driver-XXX packages on one machine.
# Open modules (--open) are NVIDIA's default since R560 and required on Grace Hopper/Blackwell; Maxwell, Pascal and Volta need cuda-drivers (proprietary).
# 1. install curl to download the keyring package
if ! sh -c 'command -v curl' >/dev/null 2>&1; then
  sudo apt-get install -y ca-certificates curl
fi

# 2. download NVIDIA's cuda-keyring package (https)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
if ! dpkg-query -W '-f=${Status}' cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  curl -fsSL -o /tmp/gpudock-cuda-keyring_1.1-1_all.deb https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/x86_64/cuda-keyring_1.1-1_all.deb
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

nvidia-smi >/dev/null 2>&1 && echo 'verified: nvidia-smi'
