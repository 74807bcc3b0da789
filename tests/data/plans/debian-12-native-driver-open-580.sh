#!/usr/bin/env bash
# gpudock plan driver for Debian GNU/Linux 12 (bookworm) (native, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail

# Do not mix NVIDIA's packages with Ubuntu's nvidia-driver-XXX packages on one machine.
# Open modules (--open) are NVIDIA's default since R560 and required on Grace Hopper/Blackwell; Maxwell, Pascal and Volta need cuda-drivers (proprietary).
# 1. install curl to download the keyring package
if ! sh -c 'command -v curl' >/dev/null 2>&1; then
  sudo apt-get install -y ca-certificates curl
fi

# 2. install add-apt-repository (software-properties-common)
if ! sh -c 'command -v add-apt-repository' >/dev/null 2>&1; then
  sudo apt-get install -y software-properties-common
fi

# 3. enable Debian's contrib component (NVIDIA's packages depend on it)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
if ! grep -rqsE '^[^#]*\bcontrib\b' /etc/apt/sources.list /etc/apt/sources.list.d >/dev/null 2>&1; then
  sudo add-apt-repository -y contrib
fi

# 4. download NVIDIA's cuda-keyring package (https)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
if ! dpkg-query -W '-f=${Status}' cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  curl -fsSL -o /tmp/gpudock-cuda-keyring_1.1-1_all.deb https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/cuda-keyring_1.1-1_all.deb
fi

# 5. install the keyring and the repository list (signed-by)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
if ! dpkg-query -W '-f=${Status}' cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  sudo dpkg -i /tmp/gpudock-cuda-keyring_1.1-1_all.deb
fi

# 6. refresh the package lists
if ! dpkg-query -W '-f=${Status}' nvidia-open-580 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get update
fi

# 7. install the headers of the running kernel (DKMS builds the module against them)
if ! dpkg-query -W '-f=${Status}' linux-headers-6.1.0-26-amd64 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get install -y linux-headers-6.1.0-26-amd64
fi

# 8. install the driver: nvidia-open-580 (open kernel modules, Turing or newer)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
if ! dpkg-query -W '-f=${Status}' nvidia-open-580 2>/dev/null | grep -qE 'install ok installed'; then
  sudo apt-get install -y nvidia-open-580
fi

# 9. reboot so the new kernel module loads
#    do this yourself: sudo reboot

nvidia-smi >/dev/null 2>&1 && echo 'verified: nvidia-smi'
