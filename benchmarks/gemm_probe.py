"""Why gpudock's fp16/bf16 GEMM and torch.matmul differ on the lent H100 (issue 25): which cuBLAS each
loads, which kernels each launches (CUPTI, through torch.profiler, sees every kernel of the process), and
how variants of gpudock's call compare with torch.matmul in alternating rounds on the same operands.

    PYTHONPATH=src python3 benchmarks/gemm_probe.py [--n 8192] [--rounds 10]
"""

from __future__ import annotations

import argparse
import statistics

import cupy
import torch
from cupy.cuda import cublas

from gpudock.bench import gemm
from gpudock.bench.interleave import interleave
from gpudock.bench.timing import gpu_timer
from gpudock.bench.torchref import matmul, torch_timer


def libraries() -> list[str]:
    with open("/proc/self/maps") as maps:
        return sorted({line.split()[-1] for line in maps if "libcublas" in line})


def kernels(fn) -> list[str]:
    from torch.profiler import ProfilerActivity, profile

    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
    return sorted({e.name for e in prof.events() if e.device_type.name == "CUDA" and "Memcpy" not in e.name})


def compare(name: str, fn, theirs, flops: float, rounds: int) -> None:
    print(f"   {name}: kernels {kernels(fn)}", flush=True)
    ours = gpu_timer(fn)
    paired = interleave(lambda: flops / ours() / 1e9, lambda: flops / theirs() / 1e9, rounds)
    mine, other = statistics.median(paired.a) / 1e3, statistics.median(paired.b) / 1e3
    print(f"   {name}: {mine:,.1f} vs torch {other:,.1f} TFLOP/s, ratio {paired.ratio:.3f} "
          f"±{100 * paired.uncertainty:.1f} %", flush=True)  # fmt: skip


def probe(precision: str, n: int, rounds: int) -> None:
    a, b, c = gemm.gpu_operands(n, precision)
    variants = {
        "gemmEx, gpudock handle 32 MiB": gemm.gpu_matmul(precision, a, b, c),
        "gemmEx, gpudock handle no workspace set": gemm.gpu_matmul(precision, a, b, c, gemm.cublas_handle(0)),
        "gemmEx, CuPy's handle": gemm.gpu_matmul(precision, a, b, c, cupy.cuda.device.get_cublas_handle()),
    }
    if precision == "fp16":
        variants["cupy.matmul"] = lambda: cupy.matmul(a, b, out=c)
    theirs_fn = matmul(torch, a, b, c, precision)
    print(f"== {precision}: torch.matmul kernels: {kernels(theirs_fn)}", flush=True)
    theirs = torch_timer(torch, theirs_fn)
    for name, fn in variants.items():
        compare(name, fn, theirs, gemm.flops(n), rounds)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    for precision in ("fp16", "bf16"):
        probe(precision, args.n, args.rounds)
    print("cuBLAS libraries in this process:", libraries())
    print("cuBLAS version (gpudock's handle):", cublas.getVersion(gemm.cublas_handle()), "torch", torch.__version__)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
