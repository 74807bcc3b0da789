"""The GPUs and the driver a snapshot shows, as `gpudock check-image` compares an image with them.

``nvidia_smi_compute_cap`` gives each GPU's index, name, compute capability and driver version; the host's
``nvidia_smi`` header gives the newest CUDA the driver supports. An older snapshot without the first
falls back to ``nvidia_smi_query``'s names, with the compute capability unknown.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from ..snapshot import Snapshot

_CUDA = re.compile(r"CUDA Version:\s{0,5}(\d{1,3})\.(\d{1,3})")
_CC = re.compile(r"^(\d{1,2})\.(\d{1,2})$")


@dataclass(frozen=True)
class HostGpu:
    index: str
    name: str
    cc: tuple[int, int] | None  # compute capability; None where the driver did not say
    driver: str = ""

    def as_dict(self) -> dict:
        data = asdict(self)
        data["cc"] = f"{self.cc[0]}.{self.cc[1]}" if self.cc else None
        return data


def host_gpus(snap: Snapshot) -> list[HostGpu]:
    """``nvidia_smi_compute_cap`` rows ("0, NVIDIA H100 80GB HBM3, 9.0, 580.159.04"), else the names alone."""
    gpus = []
    probe = snap.command("nvidia_smi_compute_cap")
    if probe and probe.rc in (0, None):
        for line in probe.stdout.splitlines():
            fields = [f.strip() for f in line.split(",")]
            if len(fields) == 4 and fields[0].isdigit():
                cc = _CC.match(fields[2])
                gpus.append(
                    HostGpu(fields[0], fields[1][:80], (int(cc[1]), int(cc[2])) if cc else None, fields[3][:20])
                )
    if gpus:
        return gpus
    query = snap.command("nvidia_smi_query")
    if query and query.rc in (0, None):
        for number, line in enumerate(query.stdout.splitlines()):
            fields = [f.strip() for f in line.split(",")]
            if len(fields) >= 2 and fields[0] and "NVIDIA-SMI" not in line:
                gpus.append(HostGpu(str(number), fields[0][:80], None, fields[1][:20]))
    return gpus


def driver_cuda(snap: Snapshot) -> tuple[int, int] | None:
    """The newest CUDA the driver supports, from the host's nvidia-smi header ("CUDA Version: 13.0")."""
    probe = snap.command("nvidia_smi")
    found = _CUDA.search(probe.stdout) if probe else None
    return (int(found[1]), int(found[2])) if found else None


def given_gpu(text: str) -> HostGpu:
    """A GPU named on the command line: '12.0', 'sm_120' or '120'."""
    raw = text.strip().lower().removeprefix("sm_").removeprefix("compute_")
    cc = _CC.match(raw)
    if cc:
        return HostGpu("given", f"compute capability {int(cc[1])}.{int(cc[2])}", (int(cc[1]), int(cc[2])))
    if raw.isdigit() and 2 <= len(raw) <= 3:
        major, minor = divmod(int(raw), 10)
        return HostGpu("given", f"compute capability {major}.{minor}", (major, minor))
    from ..exceptions import UsageError

    raise UsageError(f"--gpu takes a compute capability such as 12.0 or sm_120, not {text!r}")
