#!/usr/bin/env bash
# gpudock plan driver for Ubuntu 24.04.3 LTS (native, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail
GPUDOCK_WORK="$(mktemp -d)"  # private folder for downloads and files to install
trap 'rm -rf -- "$GPUDOCK_WORK"' EXIT

# Driver: open kernel modules (NVIDIA's default since R560).
# Do not mix NVIDIA's packages with Ubuntu's nvidia-driver-XXX packages on one machine.
# 1. install curl and gpg to download and check the keyring package
#    skipped if curl and gpg are on PATH
if ! sh -c 'for c in "$@"; do command -v -- "$c" || exit 1; done' sh curl gpg >/dev/null 2>&1; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y ca-certificates curl gpg
fi

# 2. download NVIDIA's cuda-keyring package (https) into a private folder  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
#    skipped if cuda-keyring is installed
if ! dpkg-query -W '-f=${Status}' -- cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  curl -fsSL --proto =https -o "$GPUDOCK_WORK"/cuda-keyring_1.1-1_all.deb https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/x86_64/cuda-keyring_1.1-1_all.deb
fi

# 3. unpack it without installing anything (dpkg-deb -x)
#    skipped if cuda-keyring is installed
if ! dpkg-query -W '-f=${Status}' -- cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  dpkg-deb -x "$GPUDOCK_WORK"/cuda-keyring_1.1-1_all.deb "$GPUDOCK_WORK"/cuda-keyring
fi

# 4. check that the key inside is NVIDIA's CUDA repository key  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
#    skipped if cuda-keyring is installed
if ! dpkg-query -W '-f=${Status}' -- cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  gpg --batch --no-default-keyring --with-colons --show-keys "$GPUDOCK_WORK"/cuda-keyring/usr/share/keyrings/cuda-archive-keyring.gpg
  gpg --batch --no-default-keyring --with-colons --show-keys "$GPUDOCK_WORK"/cuda-keyring/usr/share/keyrings/cuda-archive-keyring.gpg 2>/dev/null | grep -qE '^fpr:+EB693B3035CD5710E231E123A4B469963BF863CC:' || { echo 'gpudock: step 4 did not verify: expected the key is NVIDIA'"'"'s CUDA key' >&2; exit 1; }
fi

# 5. install the keyring and the repository list (signed-by)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
#    skipped if cuda-keyring is installed
if ! dpkg-query -W '-f=${Status}' -- cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  sudo dpkg -i "$GPUDOCK_WORK"/cuda-keyring_1.1-1_all.deb
  dpkg-query -W '-f=${Status}' -- cuda-keyring 2>/dev/null | grep -qE 'install ok installed' || { echo 'gpudock: step 5 did not verify: expected cuda-keyring is installed' >&2; exit 1; }
fi

# 6. refresh the package lists
#    skipped if nvidia-open is installed
if ! dpkg-query -W '-f=${Status}' -- nvidia-open 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get update
fi

# 7. install the headers of the running kernel (DKMS builds the module against them)
#    skipped if linux-headers-6.8.0-45-generic is installed
if ! dpkg-query -W '-f=${Status}' -- linux-headers-6.8.0-45-generic 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y linux-headers-6.8.0-45-generic
fi

# 8. pin the driver to the 580 branch first (NVIDIA's pinning package, its own transaction)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/version-locking.html)
#    skipped if nvidia-driver-pinning-580 is installed
if ! dpkg-query -W '-f=${Status}' -- nvidia-driver-pinning-580 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y nvidia-driver-pinning-580
  dpkg-query -W '-f=${Status}' -- nvidia-driver-pinning-580 2>/dev/null | grep -qE 'install ok installed' || { echo 'gpudock: step 8 did not verify: expected nvidia-driver-pinning-580 is installed' >&2; exit 1; }
fi

# 9. install the driver: nvidia-open (open kernel modules)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
#    skipped if nvidia-open is installed
if ! dpkg-query -W '-f=${Status}' -- nvidia-open 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y nvidia-open
  dpkg-query -W '-f=${Status}' -- nvidia-open 2>/dev/null | grep -qE 'install ok installed' || { echo 'gpudock: step 9 did not verify: expected nvidia-open is installed' >&2; exit 1; }
fi

# 10. reboot so the new kernel module loads
#    skipped if nvidia-smi answers
#    do this yourself: sudo reboot

nvidia-smi >/dev/null 2>&1 && echo 'verified: nvidia-smi'
