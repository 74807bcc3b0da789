#!/usr/bin/env bash
# gpudock plan all for Debian GNU/Linux 11 (bullseye) (native, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail
GPUDOCK_WORK="$(mktemp -d)"  # private folder for downloads and files to install
trap 'rm -rf -- "$GPUDOCK_WORK"' EXIT

# End of life: Debian 11 (bullseye) left long-term support in August 2026: no security updates from Debian.
# Driver: open kernel modules (NVIDIA's default since R560).
# Do not mix NVIDIA's packages with Debian's own nvidia-driver packages (non-free) on one machine.
# No NVIDIA GPU model is known here (no lspci line with a chip code), so this plan installs nvidia-open, NVIDIA's default since R560, for Turing and newer GPUs (GeForce GTX 16xx / RTX 20xx and later, Quadro RTX, T4, A100, H100 and newer). A Maxwell, Pascal or Volta GPU (GeForce GTX 9xx/10xx, Quadro M/P/GV, Tesla M/P/V100) needs the proprietary modules instead: plan again with --proprietary (cuda-drivers pinned to 580, the last branch for those GPUs). `lspci -d 10de:` names the chip (GM…, GP…, GV…: proprietary).
# docker.io conflicts with Docker's docker-ce packages: use one source only.
# Debian GNU/Linux 11 (bullseye) ships docker.io 20.10: past Docker's end of life and without CDI (Docker Engine 25 or newer). For CDI, or a supported engine, use --source docker-ce.
# Docker registers --gpus only if nvidia-container-runtime-hook was on PATH when dockerd started: hence the restart.
# The final check runs with sudo: this login session is not in the docker group yet (the group takes effect at the next login). To use docker without sudo, log out and log in again; restart `gpudock lab` (and Jupyter) afterwards.
# 1. install curl and gpg to download and check the keyring package
#    skipped if curl and gpg are on PATH
if ! sh -c 'for c in "$@"; do command -v -- "$c" || exit 1; done' sh curl gpg >/dev/null 2>&1; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y ca-certificates curl gpg
fi

# 2. enable Debian's contrib component (NVIDIA's packages depend on it)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
#    skipped if contrib is enabled
printf '%s\n' 'Types: deb' 'URIs: https://deb.debian.org/debian' 'Suites: bullseye bullseye-updates' 'Components: contrib' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' > "$GPUDOCK_WORK"/file-etc_apt_sources.list.d_gpudock-debian-contrib.sources
if ! grep -rqsE '^[^#]*\bcontrib\b' /etc/apt/sources.list /etc/apt/sources.list.d >/dev/null 2>&1; then
  sudo install -m 0644 -T "$GPUDOCK_WORK"/file-etc_apt_sources.list.d_gpudock-debian-contrib.sources /etc/apt/sources.list.d/gpudock-debian-contrib.sources.gpudock-new && sudo mv -f -T /etc/apt/sources.list.d/gpudock-debian-contrib.sources.gpudock-new /etc/apt/sources.list.d/gpudock-debian-contrib.sources
fi

# 3. download NVIDIA's cuda-keyring package (https) into a private folder  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
#    skipped if cuda-keyring is installed
if ! dpkg-query -W '-f=${Status}' -- cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  curl -fsSL --proto =https -o "$GPUDOCK_WORK"/cuda-keyring_1.1-1_all.deb https://developer.download.nvidia.com/compute/cuda/repos/debian11/x86_64/cuda-keyring_1.1-1_all.deb
fi

# 4. unpack it without installing anything (dpkg-deb -x)
#    skipped if cuda-keyring is installed
if ! dpkg-query -W '-f=${Status}' -- cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  dpkg-deb -x "$GPUDOCK_WORK"/cuda-keyring_1.1-1_all.deb "$GPUDOCK_WORK"/cuda-keyring
fi

# 5. check that the key inside is NVIDIA's CUDA repository key  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
#    skipped if cuda-keyring is installed
if ! dpkg-query -W '-f=${Status}' -- cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  gpg --batch --no-default-keyring --with-colons --show-keys "$GPUDOCK_WORK"/cuda-keyring/usr/share/keyrings/cuda-archive-keyring.gpg
  gpg --batch --no-default-keyring --with-colons --show-keys "$GPUDOCK_WORK"/cuda-keyring/usr/share/keyrings/cuda-archive-keyring.gpg 2>/dev/null | grep -qE '^fpr:+EB693B3035CD5710E231E123A4B469963BF863CC:' || { echo 'gpudock: step 5 did not verify: expected the key is NVIDIA'"'"'s CUDA key' >&2; exit 1; }
fi

# 6. install the keyring and the repository list (signed-by)  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/index.html)
#    skipped if cuda-keyring is installed
if ! dpkg-query -W '-f=${Status}' -- cuda-keyring 2>/dev/null | grep -qE 'install ok installed'; then
  sudo dpkg -i "$GPUDOCK_WORK"/cuda-keyring_1.1-1_all.deb
  dpkg-query -W '-f=${Status}' -- cuda-keyring 2>/dev/null | grep -qE 'install ok installed' || { echo 'gpudock: step 6 did not verify: expected cuda-keyring is installed' >&2; exit 1; }
fi

# 7. refresh the package lists
#    skipped if nvidia-open is installed
if ! dpkg-query -W '-f=${Status}' -- nvidia-open 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get update
fi

# 8. install the headers of the running kernel (DKMS builds the module against them)
#    skipped if linux-headers-6.1.0-26-amd64 is installed
if ! dpkg-query -W '-f=${Status}' -- linux-headers-6.1.0-26-amd64 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y linux-headers-6.1.0-26-amd64
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

# 11. refresh the package lists
#    skipped if docker.io is installed
if ! dpkg-query -W '-f=${Status}' -- docker.io 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get update
fi

# 12. install Docker Engine from the distribution (docker.io)  (https://docs.docker.com/engine/install/debian/)
#    skipped if docker.io is installed
if ! dpkg-query -W '-f=${Status}' -- docker.io 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io
  dpkg-query -W '-f=${Status}' -- docker.io 2>/dev/null | grep -qE 'install ok installed' || { echo 'gpudock: step 12 did not verify: expected docker.io is installed' >&2; exit 1; }
fi

# 13. let alice use Docker without sudo (docker group; log in again afterwards)  (https://docs.docker.com/engine/install/linux-postinstall/)
#    skipped if alice is in the docker group
if ! id -nG -- alice 2>/dev/null | grep -qE '(^|\s)docker(\s|$)'; then
  sudo usermod -aG docker -- alice
fi

# 14. start the Docker daemon (systemd)  (https://docs.docker.com/engine/daemon/start/)
#    skipped if the Docker daemon answers
if ! sudo docker info >/dev/null 2>&1; then
  sudo systemctl enable --now docker
  for _ in $(seq 30); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done
  sudo docker info >/dev/null 2>&1 || { echo 'gpudock: step 14 did not verify: expected the Docker daemon answers' >&2; exit 1; }
fi

# 15. remove every legacy nvidia-docker / nvidia-container-runtime / libnvidia-container*.list  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if no legacy list is left
if find /etc/apt/sources.list.d -maxdepth 1 -type f '(' -name 'nvidia-docker*.list' -o -name 'nvidia-container-runtime*.list' -o -name 'libnvidia-container*.list' ')' -print 2>/dev/null | grep -qE .; then
  sudo find /etc/apt/sources.list.d -maxdepth 1 -type f '(' -name 'nvidia-docker*.list' -o -name 'nvidia-container-runtime*.list' -o -name 'libnvidia-container*.list' ')' -print -delete
fi

# 16. install the prerequisites  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if curl and gpg are on PATH
if ! sh -c 'for c in "$@"; do command -v -- "$c" || exit 1; done' sh curl gpg >/dev/null 2>&1; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl gnupg2
fi

# 17. download NVIDIA's repository key (https) into a private folder and check its fingerprint  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg holds NVIDIA's repository key
if ! gpg --batch --no-default-keyring --with-colons --show-keys /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg 2>/dev/null | grep -qE '^fpr:+C95B321B61E88C1809C4F759DDCAE044F796ECB0:'; then
  curl -fsSL --proto =https -o "$GPUDOCK_WORK"/nvidia-container-toolkit.gpgkey https://nvidia.github.io/libnvidia-container/gpgkey
  gpg --batch --no-default-keyring --with-colons --show-keys "$GPUDOCK_WORK"/nvidia-container-toolkit.gpgkey 2>/dev/null | grep -qE '^fpr:+C95B321B61E88C1809C4F759DDCAE044F796ECB0:' || { echo 'gpudock: step 17 did not verify: expected the download is NVIDIA'"'"'s repository key' >&2; exit 1; }
fi

# 18. dearmor it into a keyring file (still in the private folder)  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg holds NVIDIA's repository key
if ! gpg --batch --no-default-keyring --with-colons --show-keys /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg 2>/dev/null | grep -qE '^fpr:+C95B321B61E88C1809C4F759DDCAE044F796ECB0:'; then
  gpg --batch --yes --dearmor -o "$GPUDOCK_WORK"/nvidia-container-toolkit-keyring.gpg "$GPUDOCK_WORK"/nvidia-container-toolkit.gpgkey
fi

# 19. install the verified keyring where apt looks  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg holds NVIDIA's repository key
if ! gpg --batch --no-default-keyring --with-colons --show-keys /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg 2>/dev/null | grep -qE '^fpr:+C95B321B61E88C1809C4F759DDCAE044F796ECB0:'; then
  sudo install -m 0644 -T "$GPUDOCK_WORK"/nvidia-container-toolkit-keyring.gpg /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg.gpudock-new && sudo mv -f -T /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg.gpudock-new /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
fi

# 20. add the toolkit repository, signed-by that keyring  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if /etc/apt/sources.list.d/nvidia-container-toolkit.list already holds this content
printf '%s\n' 'deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /' > "$GPUDOCK_WORK"/file-etc_apt_sources.list.d_nvidia-container-toolkit.list
if ! cmp -s -- "$GPUDOCK_WORK"/file-etc_apt_sources.list.d_nvidia-container-toolkit.list /etc/apt/sources.list.d/nvidia-container-toolkit.list >/dev/null 2>&1; then
  sudo install -m 0644 -T "$GPUDOCK_WORK"/file-etc_apt_sources.list.d_nvidia-container-toolkit.list /etc/apt/sources.list.d/nvidia-container-toolkit.list.gpudock-new && sudo mv -f -T /etc/apt/sources.list.d/nvidia-container-toolkit.list.gpudock-new /etc/apt/sources.list.d/nvidia-container-toolkit.list
fi

# 21. refresh the package lists
#    skipped if nvidia-container-toolkit is installed
if ! dpkg-query -W '-f=${Status}' -- nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get update
fi

# 22. install nvidia-container-toolkit  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if nvidia-container-toolkit is installed
if ! dpkg-query -W '-f=${Status}' -- nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y nvidia-container-toolkit
  dpkg-query -W '-f=${Status}' -- nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed' || { echo 'gpudock: step 22 did not verify: expected nvidia-container-toolkit is installed' >&2; exit 1; }
fi

# 23. register the nvidia runtime with Docker  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if daemon.json names the nvidia runtime
if ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d.get("runtimes") if isinstance(d, dict) else None; sys.exit(0 if isinstance(r, dict) and isinstance(r.get(sys.argv[2]), dict) else 1)' /etc/docker/daemon.json nvidia >/dev/null 2>&1; then
  sudo nvidia-ctk runtime configure --runtime=docker
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d.get("runtimes") if isinstance(d, dict) else None; sys.exit(0 if isinstance(r, dict) and isinstance(r.get(sys.argv[2]), dict) else 1)' /etc/docker/daemon.json nvidia >/dev/null 2>&1 || { echo 'gpudock: step 23 did not verify: expected daemon.json names the nvidia runtime' >&2; exit 1; }
fi

# 24. restart the Docker daemon (systemd)  (https://docs.docker.com/engine/daemon/start/)
#    skipped if Docker already lists the nvidia runtime
if ! sudo docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -qE '"nvidia"'; then
  sudo systemctl restart docker
  for _ in $(seq 30); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done
  sudo docker info >/dev/null 2>&1 || { echo 'gpudock: step 24 did not verify: expected the Docker daemon answers' >&2; exit 1; }
fi

sudo docker run --rm --gpus all ubuntu:24.04 nvidia-smi >/dev/null 2>&1 && echo 'verified: docker run --rm --gpus all ubuntu:24.04 nvidia-smi'
