"""Container images the tutorial uses, in one place so probes, docs and tests agree."""

# Docker's own first test (deck section 1.1); needs a registry the first time.
OFFICIAL_HELLO_IMAGE = "hello-world"
# gpudock's offline stand-in: FROM scratch + Debian's busybox-static (dockerops.build_hello_image).
HELLO_IMAGE = "gpudock/hello:latest"
# NVIDIA's sample workload runs nvidia-smi in a plain ubuntu image: the toolkit injects it.
# https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/sample-workload.html
CUDA_IMAGE = "ubuntu:24.04"
# The benchmark of Docker's and NVIDIA's GPU docs (deck's last step).
NBODY_IMAGE = "nvcr.io/nvidia/k8s/cuda-sample:nbody"
# The probe that keeps `docker image ls` in a snapshot: which of these images a plan's check may run unpulled.
IMAGES_PROBE = "docker_images"
