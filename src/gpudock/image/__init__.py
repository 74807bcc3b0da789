"""`gpudock check-image`: will this image run on this host's GPUs? Read without running it.

``check_image(IMAGE)`` reads a local image (through the Docker SDK, as `docker save` streams it), a saved
tarball or an OCI layout folder, with bounds on what it reads (limits.py); finds the CUDA code in every
ELF file (a pure-Python fat-binary reader, scan.py), the CUDA runtime, baked-in driver libraries and the
C library; and compares them with this host's GPUs and driver (or a saved snapshot's, or GPUs named by
compute capability): compare.py gives each GPU a verdict and the finding codes image-arch-unsupported,
image-needs-newer-driver, image-ptx-jit and image-bundles-driver-libs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .compare import Check, compare
from .contents import ImageFacts, image_facts
from .limits import Budget, ImageTooLarge, ImageUnreadable, Limits

HOST_PROBES = ("nvidia_smi", "nvidia_smi_compute_cap")


def read(image: str, limits: Limits | None = None) -> ImageFacts:
    """What the image holds (no GPU needed): its CUDA code, runtime, driver libraries and C library."""
    from .archive import read_image

    return image_facts(read_image(image, Budget(image, limits or Limits())))


def host_snapshot():
    """This host's GPUs and driver, probed now: just the two nvidia-smi probes check-image reads."""
    from .. import probe
    from ..snapshot import Snapshot

    table = {p.name: p for p in probe.probes(gpu_image=None)}
    commands = {
        name: {**probe.run_command(table[name].argv, table[name].timeout), "argv": list(table[name].argv)}
        for name in HOST_PROBES
    }
    return Snapshot({"commands": commands})


def check_image(
    image: str,
    snapshot: str | Path | None = None,
    gpus: Sequence[str] = (),
    limits: Limits | None = None,
    facts: ImageFacts | None = None,
) -> Check:
    """Read ``image`` and compare it with a host: ``snapshot`` (a file or Snapshot), else this host now.

    ``gpus`` names GPUs by compute capability ('12.0', 'sm_120') to compare with instead of the host's.
    """
    from ..facts.gpus import driver_cuda, given_gpu, host_gpus
    from ..snapshot import Snapshot

    named = [given_gpu(g) for g in gpus]  # a bad --gpu is refused before anything is read
    facts = facts or read(image, limits)
    snap = snapshot if isinstance(snapshot, Snapshot) else Snapshot.load(snapshot) if snapshot else host_snapshot()
    host = host_gpus(snap)
    return compare(facts, named or host, driver_cuda(snap), host[0].driver if host else "")


__all__ = ["Check", "ImageFacts", "ImageTooLarge", "ImageUnreadable", "Limits", "check_image", "read"]
