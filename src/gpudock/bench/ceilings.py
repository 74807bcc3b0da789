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
# Dense fp16/bf16 tensor-core FMAs per SM per clock, from NVIDIA's datasheets: A100 312 TFLOP/s = 108 SMs x
# 1024 x 2 x 1.41 GHz; H100/H200 SXM 989 TFLOP/s = 132 SMs x 2048 x 2 x 1.83 GHz. Other chips: no ceiling.
_TENSOR16 = {"8.0": 1024, "9.0": 2048}
_ATTR_CLOCK, _ATTR_MEM_CLOCK, _ATTR_BUS = 13, 36, 37  # cudaDevAttrClockRate, MemoryClockRate, GlobalMemoryBusWidth


def _attr(attribute: int, device: int) -> int:
    import cupy

    try:
        return int(cupy.cuda.runtime.deviceGetAttribute(attribute, device))
    except Exception:
        return 0


NBODY_FP32_INSTRUCTIONS = 13  # 3 FADD + 3 FFMA + 1 MUFU.RSQ + 3 FMUL + 3 FFMA per interaction (nbody.py)
SCHEDULERS_PER_SM = 4  # warp schedulers per SM, each issuing one warp instruction per clock (Volta and later)


def nbody_issue_limit(sm_count: int, clock_khz: float, compute_capability: str) -> float | None:
    """The fp32 nbody issue limit in GFLOP/s at NVIDIA's 20 flops per interaction: 4 schedulers per SM
    issue 4 x 32 thread-instructions per clock, and an interaction takes 13 of them, nor can the FP32
    lanes do more than lanes / 12 interactions per clock. For the H200: 132 SMs at 1.98 GHz, 51.5 TFLOP/s."""
    lanes = _LANES.get(compute_capability)
    if not lanes or int(compute_capability.split(".")[0]) < 7:
        return None
    per_clock = min(SCHEDULERS_PER_SM * 32 / NBODY_FP32_INSTRUCTIONS, lanes[0] / 12)
    return sm_count * clock_khz * 1e3 * per_clock * 20 / 1e9


def gpu_ceilings(device: int, compute_capability: str, sm_count: int) -> dict[str, float]:
    """Ceilings of a live GPU from its CUDA device attributes; see ceilings_from."""
    clock_khz, mem_khz, bus_bits = (_attr(a, device) for a in (_ATTR_CLOCK, _ATTR_MEM_CLOCK, _ATTR_BUS))
    return ceilings_from(compute_capability, sm_count, clock_khz, mem_khz, bus_bits)


def ceilings_from(
    compute_capability: str, sm_count: int, clock_khz: float, mem_khz: float = 0, bus_bits: int = 0
) -> dict[str, float]:
    """{"fp32", "fp64", "fp64_gemm", "fp16", "bf16", "nbody_issue_fp32": GFLOP/s, "memory": GB/s}; keys
    missing where unknown. ``clock_khz`` is the device's maximum SM clock (cudaDevAttrClockRate)."""
    out: dict[str, float] = {}
    lanes = _LANES.get(compute_capability)
    if clock_khz and lanes:
        fp32, fp64 = (sm_count * lane * 2 * clock_khz * 1e3 / 1e9 for lane in lanes)
        out.update(fp32=fp32, fp64=fp64, fp64_gemm=fp64 * _FP64_TENSOR.get(compute_capability, 1))
        if compute_capability in _TENSOR16:
            out["fp16"] = out["bf16"] = sm_count * _TENSOR16[compute_capability] * 2 * clock_khz * 1e3 / 1e9
        issue = nbody_issue_limit(sm_count, clock_khz, compute_capability)
        if issue:
            out["nbody_issue_fp32"] = issue
    if mem_khz and bus_bits:
        out["memory"] = 2 * mem_khz * 1e3 * bus_bits / 8 / 1e9  # double data rate
    return out


CEILING_NAMES = {
    "fp32": "FP32 FMA peak",
    "fp64": "FP64 FMA peak",
    "fp64_gemm": "FP64 tensor-core peak",
    "fp16": "FP16 dense tensor-core peak",
    "bf16": "BF16 dense tensor-core peak",
    "memory": "memory bus peak",
    "nbody_issue_fp32": "nbody issue limit (13 instructions per interaction)",
}


def ceiling_key(result, ceilings: dict[str, float]) -> str | None:
    """Which ceiling a result row is judged against (the FMA peak for nbody), if this device has it."""
    if result.name.startswith("nbody"):
        key = result.precision
    elif result.name == "gemm":
        key = result.precision
        if key == "fp64" and ceilings.get("fp64_gemm", 0) > ceilings.get("fp64", 0):
            key = "fp64_gemm"  # FP64 tensor cores (A100, H100/H200): twice the FMA rate
    elif result.name.startswith("copy_d2d"):
        key = "memory"
    else:
        return None
    return key if ceilings.get(key) else None


def ceiling_for(result, ceilings: dict[str, float]) -> float | None:
    """The ceiling a result row is judged against, in the row's own unit."""
    key = ceiling_key(result, ceilings)
    return ceilings[key] if key else None


def ceilings_for(result, ceilings: dict[str, float]) -> list[tuple[str, float]]:
    """Every named ceiling a row is judged against: for gpudock's fp32 nbody on a GPU both the issue
    limit and the FMA peak; otherwise the one of ceiling_for."""
    out = []
    if result.name == "nbody" and result.precision == "fp32" and ceilings.get("nbody_issue_fp32"):
        out.append((CEILING_NAMES["nbody_issue_fp32"], ceilings["nbody_issue_fp32"]))
    key = ceiling_key(result, ceilings)
    if key:
        out.append((CEILING_NAMES.get(key, key), ceilings[key]))
    return out
