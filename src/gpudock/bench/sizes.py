"""Problem sizes and repeat counts of a benchmark run (full and --quick)."""

from __future__ import annotations

from dataclasses import dataclass

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Sizes:
    """Problem sizes. Full sizes fill a data-centre GPU (an H100's or H200's nbody reaches its plateau at
    N >= 262144, GEMM at 8192); quick sizes keep a whole run well under 30 s there.

    ``repeats`` samples are always taken; a row whose spread is still above ``target_spread`` gets more,
    up to ``max_repeats`` (timing.py), and is flagged noisy if it stays above."""

    nbody_gpu: int
    gemm_gpu: int
    copy_gpu: int
    transfer: int
    nbody_cpu: int  # compiled (numba) and NumPy nbody run at the same N, so their ratio is like for like
    gemm_cpu: int
    copy_cpu: int
    repeats: int
    reference_runs: int = 3  # runs of NVIDIA's nbody -benchmark per point, interleaved with gpudock's
    max_repeats: int = 21
    gemm_rounds: int = 8  # A/B rounds of gpudock's GEMM against torch.matmul (each side once a round)


FULL = Sizes(
    nbody_gpu=262144,
    gemm_gpu=8192,
    copy_gpu=2 * GiB,
    transfer=1 * GiB,
    nbody_cpu=8192,
    gemm_cpu=2048,
    copy_cpu=512 * MiB,
    repeats=7,
)
QUICK = Sizes(
    nbody_gpu=131072,
    gemm_gpu=4096,
    copy_gpu=512 * MiB,
    transfer=256 * MiB,
    nbody_cpu=2048,
    gemm_cpu=1024,
    copy_cpu=128 * MiB,
    repeats=3,
    reference_runs=1,
    max_repeats=7,
    gemm_rounds=3,
)
