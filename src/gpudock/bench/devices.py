"""Which compute devices this host has: CuPy GPUs if CuPy and a driver work, else the CPU only."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    compute_capability: str
    sm_count: int
    memory_bytes: int
    pci_bus_id: str = ""  # "0000:1b:00.0": how nvidia-smi's facts are matched to this CUDA device

    @property
    def label(self) -> str:
        return f"cuda:{self.index} {self.name}"


def gpu_status() -> tuple[list[Gpu], str]:
    """(GPUs, why none) — never raises: CuPy missing and no driver are ordinary answers."""
    try:
        import cupy
    except ImportError:
        return [], "CuPy is not installed (pip install 'gpudock[cuda12]' or [cuda13]/[cuda11])"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDARuntimeError: no driver, insufficient driver, no device
        return [], f"CuPy sees no GPU: {str(err).splitlines()[0][:160]}"
    gpus = []
    for index in range(count):
        props = cupy.cuda.runtime.getDeviceProperties(index)
        name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
        try:
            bus = cupy.cuda.runtime.deviceGetPCIBusId(index)
        except Exception:  # an old CuPy or a driver that cannot say: facts then stay unmatched
            bus = ""
        capability = f"{props['major']}.{props['minor']}"
        gpus.append(Gpu(index, name, capability, props["multiProcessorCount"], props["totalGlobalMem"], bus.lower()))
    return gpus, "" if gpus else "CuPy found 0 CUDA devices"


def cpu_label() -> str:
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"cpu {name} ({os.cpu_count()} threads)"
