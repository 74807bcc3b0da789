"""Attestation: each row against its ceiling (NVIDIA's datasheet peak; for fp32 nbody the issue limit of
its kernel; for host<->device copies the PCIe link's maximum) and against the best published figure,
as fractions, plus the fraction below which a figure counts as low ("why low", whylow.py).

Pure functions of a row, the host facts and the derived ceilings (ceilings.py); nothing is measured here.
"""

from __future__ import annotations

from .ceilings import CEILING_NAMES, ceiling_key
from .datasheets import datasheet_for, published_for

# PCIe: transfer rate per lane (GT/s) and line-code efficiency per generation (PCI-SIG base specifications:
# 8b/10b up to Gen2, 128b/130b for Gen3-5; Gen6 FLIT mode counted at 242/256).
PCIE_GTS = {1: 2.5, 2: 5.0, 3: 8.0, 4: 16.0, 5: 32.0, 6: 64.0}
PCIE_EFFICIENCY = {1: 0.8, 2: 0.8, 3: 128 / 130, 4: 128 / 130, 5: 128 / 130, 6: 242 / 256}

# Below these fractions of the ceiling a GPU figure is "low" and whylow.py looks for a cause. Each is ~10
# points under what a healthy H100/H200 gave in docs/benchmarks.md (nbody fp32 0.82 of the issue limit,
# fp64 0.75 of the FP64 peak, GEMM fp64 0.84, fp32 0.76, fp16/bf16 0.67-0.80 of the dense tensor peak,
# device copy 0.89, pinned PCIe copies 0.88 of a Gen5 x16 link).
EXPECTED = {
    ("nbody", "fp32"): 0.70,
    ("nbody", "fp64"): 0.65,
    ("gemm", "fp64"): 0.70,
    ("gemm", "fp32"): 0.65,
    ("gemm", "fp16"): 0.55,
    ("gemm", "bf16"): 0.55,
    ("copy_d2d", "bytes"): 0.75,
    ("copy_d2d_kernel", "bytes"): 0.70,
    ("h2d_pinned", "bytes"): 0.70,
    ("d2h_pinned", "bytes"): 0.70,
    ("h2d_pageable", "bytes"): 0.70,
    ("d2h_pageable", "bytes"): 0.70,
}


def pcie_gbps(gen: float | None, width: float | None) -> float | None:
    """One direction of a PCIe link in GB/s: GT/s x lanes x encoding efficiency / 8."""
    if not gen or not width or int(gen) not in PCIE_GTS:
        return None
    return PCIE_GTS[int(gen)] * width * PCIE_EFFICIENCY[int(gen)] / 8


def _gpu_ceiling(row, derived: dict, host: dict) -> tuple[float | None, str]:
    """(ceiling, its source) of a GPU row."""
    if row.name.startswith(("h2d_", "d2h_")):
        link = host.get("pcie", {}).get(row.device, {})
        gen, width = link.get("gen_max"), link.get("width_max")
        value = pcie_gbps(gen, width)
        if value is None:
            return None, ""
        return value, (
            f"PCIe Gen{int(gen)} x{int(width)} link maximum (nvidia-smi max_link_gen/max_link_width): "
            f"{PCIE_GTS[int(gen)]:g} GT/s x {int(width)} lanes x {PCIE_EFFICIENCY[int(gen)]:.4g} / 8, one direction"
        )
    ours = row.where != "reference"  # the issue limit counts gpudock's kernel's instructions, not NVIDIA's
    if ours and row.name == "nbody" and row.precision == "fp32" and derived.get("nbody_issue_fp32"):
        return derived["nbody_issue_fp32"], (
            "nbody issue limit: SMs x max SM clock x 4 schedulers x 32 lanes / 13 instructions per interaction "
            "x 20 flops (ceilings.py)"
        )
    key = ceiling_key(row, derived) or _datasheet_key(row)
    sheet = datasheet_for(row.device)
    if key and sheet and sheet.peak(key):
        dense = " (dense: the datasheet's 'with sparsity' figure / 2)" if key in ("fp16", "bf16") else ""
        return sheet.peak(key), f"NVIDIA {sheet.model} datasheet, {CEILING_NAMES.get(key, key)}{dense}: {sheet.source}"
    if key and derived.get(key):
        return derived[key], f"derived from CUDA device attributes: {CEILING_NAMES.get(key, key)} (ceilings.py)"
    return None, ""


def _datasheet_key(row) -> str | None:
    if row.name == "gemm":
        return "fp64_gemm" if row.precision == "fp64" else row.precision
    if row.name.startswith("nbody"):
        return row.precision
    return "memory" if row.name.startswith("copy_d2d") else None


def attest(row, host: dict) -> None:
    """Fill the row's attestation fields in place (ceiling, fraction, best published, expected fraction)."""
    derived = host.get("ceilings", {}).get(row.device, {})
    if row.device.startswith("cuda:") and row.where in ("host", "container", "reference"):
        row.ceiling, row.ceiling_source = _gpu_ceiling(row, derived, host)
        # a reference (someone else's program) is measured, never judged: no expected fraction, no "why low"
        row.expected_fraction = EXPECTED.get((row.name, row.precision)) if row.where != "reference" else None
    elif derived and ceiling_key(row, derived):
        key = ceiling_key(row, derived)
        row.ceiling = derived[key]
        row.ceiling_source = (
            f"derived CPU {CEILING_NAMES.get(key, key)}: cores x clock x SIMD lanes x FMA pipes x 2 "
            "(an upper bound where the clock is the hypervisor's; cpu.py)"
        )
    row.fraction_of_ceiling = row.value / row.ceiling if row.ceiling else None
    found = published_for(row.device, row.name, row.precision, row.size) if row.device.startswith("cuda:") else None
    if found is not None:
        row.best_published, row.best_published_source = found.value, found.source
    elif row.device.startswith("cuda:") and row.where != "reference":
        row.best_published, row.best_published_source = None, "no published figure known for this GPU and benchmark"


def fraction_of_published(row) -> float | None:
    return row.value / row.best_published if row.best_published else None
