"""What the GPU itself can do at most: FMA peaks from SM count x lanes x clock, memory from bus width x clock.

Vendor ceilings, derived from CUDA device attributes, so a plot can show measured against possible.
Unknown architectures give no ceiling rather than a guess.
"""

from __future__ import annotations

# FP32 and FP64 FMA lanes per SM, per compute capability (CUDA C++ Programming Guide, "Arithmetic
# Instructions" throughput table). FP64 GEMM on 8.0/9.0 runs on tensor cores at twice the FMA rate.
_LANES = {
    "6.0": (64, 32),
    "6.1": (128, 4),
    "7.0": (64, 32),
    "7.5": (64, 2),
    "8.0": (64, 32),
    "8.6": (128, 2),
    "8.7": (128, 2),
    "8.9": (128, 2),
    "9.0": (128, 64),
    "10.0": (128, 64),
    "12.0": (128, 2),
}
_FP64_TENSOR = {"8.0": 2, "9.0": 2, "10.0": 2}
_ATTR_CLOCK, _ATTR_MEM_CLOCK, _ATTR_BUS = 13, 36, 37  # cudaDevAttrClockRate, MemoryClockRate, GlobalMemoryBusWidth


def _attr(attribute: int, device: int) -> int:
    import cupy

    try:
        return int(cupy.cuda.runtime.deviceGetAttribute(attribute, device))
    except Exception:
        return 0


def gpu_ceilings(device: int, compute_capability: str, sm_count: int) -> dict[str, float]:
    """{"fp32": GFLOP/s, "fp64": GFLOP/s, "fp64_gemm": GFLOP/s, "memory": GB/s}; keys missing where unknown."""
    out: dict[str, float] = {}
    clock_khz = _attr(_ATTR_CLOCK, device)
    lanes = _LANES.get(compute_capability)
    if clock_khz and lanes:
        fp32, fp64 = (sm_count * lane * 2 * clock_khz * 1e3 / 1e9 for lane in lanes)
        out.update(fp32=fp32, fp64=fp64, fp64_gemm=fp64 * _FP64_TENSOR.get(compute_capability, 1))
    mem_khz, bus_bits = _attr(_ATTR_MEM_CLOCK, device), _attr(_ATTR_BUS, device)
    if mem_khz and bus_bits:
        out["memory"] = 2 * mem_khz * 1e3 * bus_bits / 8 / 1e9  # double data rate
    return out


def ceiling_for(result, ceilings: dict[str, float]) -> float | None:
    """The ceiling a result row is judged against, in the row's own unit."""
    if result.name == "nbody":
        return ceilings.get(result.precision)
    if result.name == "gemm":
        return (
            ceilings.get("fp64_gemm" if result.precision == "fp64" else result.precision)
            if result.precision in ("fp64", "fp32")
            else None
        )
    if result.name.startswith("copy_d2d"):
        return ceilings.get("memory")
    return None
