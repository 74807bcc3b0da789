"""The prober's CDI part: the ``docker_cdi_gpu`` container (local images only) and the spec evidence
(every spec file, the host paths they name, ``stat`` of their device nodes). ``probe.collect`` calls these."""

from __future__ import annotations

import glob
import os

from ..images import CUDA_IMAGE, HELLO_IMAGE
from ..probe import Probe
from .snapview import NODE_PROBE, named_paths, read_specs, spec_globs


def cdi_gpu_probe(image: str | None) -> Probe | None:
    """``docker_cdi_gpu``: a container asking for ``nvidia.com/gpu=all`` (CDI), with an image already here.

    The CUDA image runs nvidia-smi (the spec mounts it); gpudock's FROM-scratch hello image lists /dev with
    its busybox (no glibc for nvidia-smi there); hello-world shows only that the device resolved.
    """
    if image is None:
        return None
    command = {CUDA_IMAGE: ("nvidia-smi",), HELLO_IMAGE: ("/bin/busybox", "ls", "/dev")}.get(image, ())
    argv = ("docker", "run", "--rm", "--network", "none", "--device", "nvidia.com/gpu=all", image, *command)
    return Probe("docker_cdi_gpu", argv, timeout=60, image=image)


def cdi_evidence() -> tuple[dict, dict, Probe]:
    """(spec files, paths, the stat probe): every CDI spec, the host paths it names, its device nodes' numbers."""
    specs = read_specs(sorted(f for pattern in spec_globs() for f in glob.glob(pattern))[:64])
    host_paths, nodes = named_paths(specs)
    paths = {folder: os.path.isdir(folder) for folder in ("/etc/cdi", "/var/run/cdi")}
    paths.update({path: os.path.exists(path) for path in host_paths})
    nodes = list(dict.fromkeys(nodes + sorted(glob.glob("/dev/nvidia*"))[:64] + ["/dev/dxg"]))
    return specs, paths, Probe(NODE_PROBE, ("stat", "-L", "-c", "%n|%F|%t|%T", "--", *nodes), timeout=10)
