#!/usr/bin/env bash
# gpudock plan toolkit for Debian GNU/Linux 11 (bullseye) (native, x86_64)
# Generated: review it, then run it. Steps whose check passes are skipped.
# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell
set -euo pipefail
GPUDOCK_WORK="$(mktemp -d)"  # private folder for downloads and files to install
trap 'rm -rf -- "$GPUDOCK_WORK"' EXIT

# End of life: Debian 11 (bullseye) left long-term support in August 2026: no security updates from Debian.
# Docker registers --gpus only if nvidia-container-runtime-hook was on PATH when dockerd started: hence the restart.
# CDI: with toolkit 1.18 or newer and systemd, nvidia-cdi-refresh writes /var/run/cdi/nvidia.yaml at install, on driver changes and at boot; gpudock writes no spec of its own (two specs would clash). Check with `nvidia-ctk cdi list`.
# CDI needs Docker Engine 25 or newer (on by default from 28.2); `docker version` shows it.
# The final check runs with sudo: this login session is not in the docker group yet (the group takes effect at the next login). To use docker without sudo, log out and log in again; restart `gpudock lab` (and Jupyter) afterwards.
# 1. remove every legacy nvidia-docker / nvidia-container-runtime / libnvidia-container*.list  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if no legacy list is left
if find /etc/apt/sources.list.d -maxdepth 1 -type f '(' -name 'nvidia-docker*.list' -o -name 'nvidia-container-runtime*.list' -o -name 'libnvidia-container*.list' ')' -print 2>/dev/null | grep -qE .; then
  sudo find /etc/apt/sources.list.d -maxdepth 1 -type f '(' -name 'nvidia-docker*.list' -o -name 'nvidia-container-runtime*.list' -o -name 'libnvidia-container*.list' ')' -print -delete
fi

# 2. install the prerequisites  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if curl and gpg are on PATH
if ! sh -c 'for c in "$@"; do command -v -- "$c" || exit 1; done' sh curl gpg >/dev/null 2>&1; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl gnupg2
fi

# 3. download NVIDIA's repository key (https) into a private folder and check its fingerprint  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg holds NVIDIA's repository key
if ! gpg --batch --no-default-keyring --with-colons --show-keys /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg 2>/dev/null | grep -qE '^fpr:+C95B321B61E88C1809C4F759DDCAE044F796ECB0:'; then
  curl -fsSL --proto =https -o "$GPUDOCK_WORK"/nvidia-container-toolkit.gpgkey https://nvidia.github.io/libnvidia-container/gpgkey
  gpg --batch --no-default-keyring --with-colons --show-keys "$GPUDOCK_WORK"/nvidia-container-toolkit.gpgkey 2>/dev/null | grep -qE '^fpr:+C95B321B61E88C1809C4F759DDCAE044F796ECB0:' || { echo 'gpudock: step 3 did not verify: expected the download is NVIDIA'"'"'s repository key' >&2; exit 1; }
fi

# 4. dearmor it into a keyring file (still in the private folder)  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg holds NVIDIA's repository key
if ! gpg --batch --no-default-keyring --with-colons --show-keys /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg 2>/dev/null | grep -qE '^fpr:+C95B321B61E88C1809C4F759DDCAE044F796ECB0:'; then
  gpg --batch --yes --dearmor -o "$GPUDOCK_WORK"/nvidia-container-toolkit-keyring.gpg "$GPUDOCK_WORK"/nvidia-container-toolkit.gpgkey
fi

# 5. install the verified keyring where apt looks  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg holds NVIDIA's repository key
if ! gpg --batch --no-default-keyring --with-colons --show-keys /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg 2>/dev/null | grep -qE '^fpr:+C95B321B61E88C1809C4F759DDCAE044F796ECB0:'; then
  sudo install -m 0644 -T "$GPUDOCK_WORK"/nvidia-container-toolkit-keyring.gpg /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg.gpudock-new && sudo mv -f -T /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg.gpudock-new /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
fi

# 6. add the toolkit repository, signed-by that keyring  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if /etc/apt/sources.list.d/nvidia-container-toolkit.list already holds this content
printf '%s\n' 'deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /' > "$GPUDOCK_WORK"/file-etc_apt_sources.list.d_nvidia-container-toolkit.list
if ! cmp -s -- "$GPUDOCK_WORK"/file-etc_apt_sources.list.d_nvidia-container-toolkit.list /etc/apt/sources.list.d/nvidia-container-toolkit.list >/dev/null 2>&1; then
  sudo install -m 0644 -T "$GPUDOCK_WORK"/file-etc_apt_sources.list.d_nvidia-container-toolkit.list /etc/apt/sources.list.d/nvidia-container-toolkit.list.gpudock-new && sudo mv -f -T /etc/apt/sources.list.d/nvidia-container-toolkit.list.gpudock-new /etc/apt/sources.list.d/nvidia-container-toolkit.list
fi

# 7. refresh the package lists
#    skipped if nvidia-container-toolkit is installed
if ! dpkg-query -W '-f=${Status}' -- nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get update
fi

# 8. install nvidia-container-toolkit  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if nvidia-container-toolkit is installed
if ! dpkg-query -W '-f=${Status}' -- nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed'; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y nvidia-container-toolkit
  dpkg-query -W '-f=${Status}' -- nvidia-container-toolkit 2>/dev/null | grep -qE 'install ok installed' || { echo 'gpudock: step 8 did not verify: expected nvidia-container-toolkit is installed' >&2; exit 1; }
fi

# 9. register the nvidia runtime with Docker and turn on CDI (features.cdi)  (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)
#    skipped if daemon.json turns CDI on
if ! grep -qsE -- '"cdi": *true' /etc/docker/daemon.json >/dev/null 2>&1; then
  sudo nvidia-ctk runtime configure --runtime=docker --cdi.enabled
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d.get("runtimes") if isinstance(d, dict) else None; sys.exit(0 if isinstance(r, dict) and isinstance(r.get(sys.argv[2]), dict) else 1)' /etc/docker/daemon.json nvidia >/dev/null 2>&1 || { echo 'gpudock: step 9 did not verify: expected daemon.json names the nvidia runtime' >&2; exit 1; }
fi

# 10. restart the Docker daemon (systemd)  (https://docs.docker.com/engine/daemon/start/)
#    skipped if Docker already reads CDI specs
if ! sudo docker info --format '{{json .CDISpecDirs}}' 2>/dev/null | grep -qE cdi; then
  sudo systemctl restart docker
  for _ in $(seq 30); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done
  sudo docker info >/dev/null 2>&1 || { echo 'gpudock: step 10 did not verify: expected the Docker daemon answers' >&2; exit 1; }
fi

sudo docker run --rm --gpus all ubuntu:24.04 nvidia-smi >/dev/null 2>&1 && echo 'verified: docker run --rm --gpus all ubuntu:24.04 nvidia-smi'
