"""The prober's CDI part: the ``docker_cdi_gpu`` container (local images only) and the spec evidence
(every spec file, the host paths they name, ``stat`` of their device nodes). ``probe.collect`` calls these and
makes its ``Probe`` records of the argv they return (this module does not import the prober)."""

from __future__ import annotations

import glob
import os

from ..images import CUDA_IMAGE, HELLO_IMAGE
from .snapview import named_paths, read_specs, spec_globs


def cdi_gpu_argv(image: str | None) -> tuple[str, ...] | None:
    """``docker_cdi_gpu``: a container asking for ``nvidia.com/gpu=all`` (CDI), with an image already here.

    The CUDA image runs nvidia-smi (the spec mounts it); gpudock's FROM-scratch hello image lists /dev with
    its busybox (no glibc for nvidia-smi there); hello-world shows only that the device resolved.
    """
    if image is None:
        return None
    command = {CUDA_IMAGE: ("nvidia-smi",), HELLO_IMAGE: ("/bin/busybox", "ls", "/dev")}.get(image, ())
    return ("docker", "run", "--rm", "--network", "none", "--device", "nvidia.com/gpu=all", image, *command)


def cdi_evidence() -> tuple[dict, dict, tuple[str, ...]]:
    """(spec files, paths, the stat argv): every CDI spec, the host paths it names, its device nodes' numbers."""
    specs = read_specs(sorted(f for pattern in spec_globs() for f in glob.glob(pattern))[:64])
    host_paths, nodes = named_paths(specs)
    paths = {folder: os.path.isdir(folder) for folder in ("/etc/cdi", "/var/run/cdi")}
    paths.update({path: os.path.exists(path) for path in host_paths})
    nodes = list(dict.fromkeys(nodes + sorted(glob.glob("/dev/nvidia*"))[:64] + ["/dev/dxg"]))
    return specs, paths, ("stat", "-L", "-c", "%n|%F|%t|%T", "--", *nodes)
