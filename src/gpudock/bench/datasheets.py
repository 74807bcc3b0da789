"""NVIDIA's published peaks per GPU model (the ceiling a row is judged against) and the best published
figures gpudock knows for its benchmarks, each with its source.

Datasheet tensor-core figures for FP16/BF16 are printed "with sparsity"; the dense rate that a GEMM can reach
is half of it, as the datasheets' own footnote says. GFLOP/s and GB/s throughout (1 TB/s = 1000 GB/s).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

H100_URL = "https://www.nvidia.com/en-us/data-center/h100/"
H200_URL = "https://www.nvidia.com/en-us/data-center/h200/"
A100_URL = "https://www.nvidia.com/en-us/data-center/a100/"
NBODY_README = "https://github.com/NVIDIA/cuda-samples/blob/master/Samples/5_Domain_Specific/nbody/README.md"


@dataclass(frozen=True)
class Datasheet:
    model: str  # as NVIDIA's datasheet names it
    pattern: str  # regular expression over the CUDA device name
    fp64: float  # FP64 (FMA) GFLOP/s
    fp64_tensor: float
    fp32: float
    tensor16_dense: float  # FP16/BF16 tensor core, dense (the datasheet's sparse figure / 2)
    memory: float  # GB/s
    source: str

    def peak(self, key: str) -> float | None:
        return {
            "fp64": self.fp64,
            "fp64_gemm": self.fp64_tensor,
            "fp32": self.fp32,
            "fp16": self.tensor16_dense,
            "bf16": self.tensor16_dense,
            "memory": self.memory,
        }.get(key)


# Ordered: the first pattern that matches the device name wins (NVL and PCIe before the bare SXM name).
DATASHEETS = (
    Datasheet("H200 NVL", r"\bH200 NVL\b", 30_000, 60_000, 60_000, 835_500, 4_800, H200_URL),
    Datasheet("H200 SXM", r"\bH200\b", 34_000, 67_000, 67_000, 989_500, 4_800, H200_URL),
    Datasheet("H100 NVL", r"\bH100 NVL\b", 30_000, 60_000, 60_000, 835_500, 3_900, H100_URL),
    Datasheet("H100 PCIe", r"\bH100 PCIe\b", 26_000, 51_000, 51_000, 756_500, 2_000, H100_URL),
    Datasheet("H100 SXM", r"\bH100\b.*\bHBM3\b|\bH100 SXM", 34_000, 67_000, 67_000, 989_500, 3_350, H100_URL),
    Datasheet("A100 80GB PCIe", r"\bA100 80GB PCIe\b", 9_700, 19_500, 19_500, 312_000, 1_935, A100_URL),
    Datasheet("A100 80GB SXM", r"\bA100-SXM4-80GB\b", 9_700, 19_500, 19_500, 312_000, 2_039, A100_URL),
    Datasheet("A100 40GB PCIe", r"\bA100-PCIE-40GB\b", 9_700, 19_500, 19_500, 312_000, 1_555, A100_URL),
    Datasheet("A100 40GB SXM", r"\bA100-SXM4-40GB\b", 9_700, 19_500, 19_500, 312_000, 1_555, A100_URL),
)


def datasheet_for(device: str) -> Datasheet | None:
    """The datasheet of a CUDA device name ('cuda:0 NVIDIA H100 80GB HBM3' -> H100 SXM), if gpudock has it."""
    name = device.split(" ", 1)[1] if device.startswith("cuda:") and " " in device else device
    return next((d for d in DATASHEETS if re.search(d.pattern, name)), None)


@dataclass(frozen=True)
class Published:
    """A figure someone published for a benchmark on a GPU model, in the row's metric."""

    model_pattern: str
    name: str
    precision: str
    value: float
    source: str
    min_size: int = 0  # the figure holds from this problem size on (nbody: plateau)


# NVIDIA publishes no nbody figure for Hopper: its sample's README gives the Tesla K20c; for the H100 and
# H200 the best figure of NVIDIA's own sample known here is the one gpudock measured with it, dated, on the
# machine named (docs/benchmarks.md), labelled so and never passed off as NVIDIA's publication.
_H100_SAMPLE = (
    "NVIDIA's nbody sample (cuda-samples nbody -benchmark{}) on an H100 SXM, N=262,144, the best of three runs "
    "measured for gpudock 2026-12-06 (docs/benchmarks/h100/issue25); NVIDIA publishes no Hopper nbody figure"
)
PUBLISHED = (
    Published(r"\bK20c\b", "nbody", "fp32", 1_800, f"cuda-samples nbody README, 'over 1.8TFLOP/s': {NBODY_README}"),
    Published(
        r"\bH200\b",
        "nbody",
        "fp32",
        30_465,
        "NVIDIA's nbody sample (cuda-samples nbody -benchmark) on an H200 SXM, N=262,144, measured for gpudock "
        "2026-11-28 (docs/benchmarks.md); NVIDIA publishes no Hopper nbody figure",
        262_144,
    ),
    Published(
        r"\bH200\b",
        "nbody",
        "fp64",
        19_745,
        "NVIDIA's nbody sample (cuda-samples nbody -benchmark -fp64) on an H200 SXM, N=262,144, measured for "
        "gpudock 2026-11-28 (docs/benchmarks.md); NVIDIA publishes no Hopper nbody figure",
        262_144,
    ),
    Published(r"\bH100\b.*\bHBM3\b", "nbody", "fp32", 30_738, _H100_SAMPLE.format(""), 262_144),
    Published(r"\bH100\b.*\bHBM3\b", "nbody", "fp64", 20_271, _H100_SAMPLE.format(" -fp64"), 262_144),
)


def published_for(device: str, name: str, precision: str, size: int) -> Published | None:
    model = device.split(" ", 1)[1] if device.startswith("cuda:") and " " in device else device
    for entry in PUBLISHED:
        if entry.name == name and entry.precision == precision and size >= entry.min_size:
            if re.search(entry.model_pattern, model):
                return entry
    return None
