"""All-pairs N-body with softened gravity, counted like NVIDIA's nbody sample (20 flops per
interaction in fp32, 30 in fp64), so GFLOP/s compare directly with `nbody -benchmark`.

Every one of the N² interactions is evaluated (no pair symmetry, no skipped bodies; a body's
interaction with itself contributes zero, as in the sample). The GPU kernel is checked against
a float64 NumPy reference on fresh random bodies before it is timed; the CPU has a compiled
(numba) version in ``cpu.py`` and a NumPy version here, kept as the correctness yardstick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SOFTENING2 = 0.01
FLOPS_PER_INTERACTION = {"fp32": 20, "fp64": 30}  # nbody.cpp: computePerfStats
PAD = 1024  # bodies() pads N to a multiple of this (the default kernels' block and tile divide it)


@dataclass(frozen=True)
class KernelConfig:
    """How the GPU kernel is shaped; see _KERNEL's comment for why the defaults are what they are."""

    bodies_per_thread: int  # register blocking: one shared-memory load feeds this many interactions
    threads: int  # threads per block
    tile: int  # bodies staged in shared memory per __syncthreads() pair
    unroll: int  # inner loop unroll (over tile entries)
    rsqrt: str = "hw"  # fp32: "hw" (MUFU, flush-to-zero) | "libm" (rsqrtf); fp64: "newton" | "libm" (rsqrt)
    slices: int = 1  # threads per body: each sums 1/slices of every tile, partial sums added at the end
    splits: int = 1  # blocks per body (grid y): each sums 1/splits of the sources; a second kernel adds them
    staging: str = "block"  # "block": one shared tile per block, __syncthreads; "warp": a tile per warp
    min_blocks: int = 1  # __launch_bounds__ minimum blocks per SM: caps registers to keep that occupancy

    @property
    def groups(self) -> int:
        return self.threads // self.slices

    @property
    def bodies_per_block(self) -> int:
        return self.bodies_per_thread * self.groups

    def fits(self, n: int) -> bool:
        return n % self.bodies_per_block == 0 and n % self.tile == 0


# Chosen on the H200 with benchmarks/nbody_sweep.py (the table is in docs/benchmarks.md).
DEFAULT = {
    "fp32": KernelConfig(2, 256, 1024, 64, "hw", slices=4, splits=16, staging="block", min_blocks=8),
    "fp64": KernelConfig(2, 256, 1024, 8, "newton", slices=4, splits=8, staging="block", min_blocks=4),
}

# Instructions per interaction of the default kernels (SASS of the inner loop, sm_90, cuobjdump): what
# the issue limit in ceilings.py is computed from.
#   fp32: 3 FADD + 3 FFMA (distance) + 1 MUFU.RSQ + 3 FMUL + 3 FFMA (accumulate) = 13, + 1/2 LDS.128
#   fp64: 3 DADD + 3 DFMA + 5 DMUL + 1 DFMA (d^-3 with its Newton correction) + 3 DFMA = 15 FP64-pipe
#         instructions, + F2F, MUFU.RSQ, F2F for the single-precision seed
INSTRUCTIONS_PER_INTERACTION = {"fp32": 13, "fp64": 15}

_KERNEL = r"""
// All-pairs accelerations a_i = sum_j m_j (p_j - p_i) / (|p_j - p_i|^2 + eps^2)^(3/2), every (i, j):
// no pair symmetry, no skipped body. Why it is shaped like this (H200, benchmarks/nbody_sweep.py,
// the sweep and its figures are in docs/benchmarks.md):
// * The floor is 12 FP32 instructions + 1 MUFU per interaction and no memory traffic to speak of, so
//   the kernel is bound by instruction issue (4 warp-instructions per clock per SM); everything else
//   in the inner loop is overhead to amortise, and every stall costs issue slots.
// * BPT = 2 bodies per thread (register blocking): one broadcast LDS.128 (a float4/double4 read of
//   the same address by the whole warp) feeds 2 interactions, 13.7 instructions each. 4 bodies save
//   another 0.25 but need 48-55 registers; the occupancy they cost was worth more (-5 to -8 %).
// * __launch_bounds__(256, MIN_BLOCKS = 8) holds fp32 at 32 registers: 64 warps per SM, no spills.
// * SLICES = 4 threads per body-group: each sums a quarter of every 1024-body tile, the four partial
//   sums meet in shared memory at the end (fixed order). Long tiles halve the barriers; the slices
//   keep the tile long without making a block's share of bodies large.
// * Source splits (grid y, SPLITS blocks per body, a second tiny kernel adds their partial sums in a
//   fixed order): one wave of long blocks finished unevenly (Nsight Compute: 59 % achieved occupancy
//   against 100 % possible); 16 splits make ~30 short waves and the SMs stay full to the end.
// * UNROLL = 64 of the 256 entries each slice reads per tile: loop counter and branch vanish; a full
//   unroll (256) was 7 % slower.
// * fp32 reciprocal square root: rsqrt.approx.ftz, exactly one MUFU.RSQ (d2 >= eps^2 is never
//   denormal, so flush-to-zero changes nothing). Measured, not assumed: moving a share of the rsqrt
//   to the FMA pipe (bit trick + Newton, RSQRT "softK") was slower, so MUFU is not the limit; per-warp
//   staging without block barriers (STAGING "warp") was no faster either.
// * fp64: d2^(-3/2) from a single-precision seed y = rsqrtf((float)d2) (rel. error ~2^-23), corrected
//   once for the cube: y^3 (1 + 1.5 (1 - d2 y^2)) has relative error ~7.5 e^2 < 1e-13, below the
//   rounding of the sum (measured max error against float64: 1e-14). That is 6 FP64 instructions
//   where the library's rsqrt() (MUFU.RSQ64H seed, polynomial step, a branch for special values) and
//   the cube take 8 plus integer moves. Valid while d2 fits a float: a unit cube, eps^2 = 0.01.
__device__ __forceinline__ float rsqrt_hw(float x) {
    float y;
    asm("rsqrt.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

__device__ __forceinline__ float inv_cube(float d2, float m) {
#if RSQRT_LIBM
    float inv = rsqrtf(d2);
#else
    float inv = rsqrt_hw(d2);
#endif
    return (m * inv) * (inv * inv);
}

// Reciprocal square root on the FMA pipe (bit-trick seed, two Newton steps: rel. error < 5e-6) for one
// interaction in BPT x SOFT_EVERY: an experiment kept for the sweep (it tests whether the MUFU pipe is
// the limit; on the H200 it is not, and this is slower). Off in the defaults.
__device__ __forceinline__ float inv_cube_soft(float d2, float m) {
    float y = __int_as_float(0x5f375a86 - (__float_as_int(d2) >> 1));
    float h = 0.5f * d2;
    y = y * fmaf(-h, y * y, 1.5f);
    y = y * fmaf(-h, y * y, 1.5f);
    return (m * y) * (y * y);
}

__device__ __forceinline__ double inv_cube(double d2, double m) {
#if RSQRT_LIBM
    double inv = rsqrt(d2);
    return (m * inv) * (inv * inv);
#else
    double y = (double)rsqrt_hw((float)d2);
    double y2 = y * y;
    double u = fma(-1.5, d2 * y2, 2.5);  // 1 + 1.5 e, e = 1 - d2 y^2
    return ((m * y) * y2) * u;
#endif
}

// one source q against this thread's BPT bodies
#define INTERACT(q)                                                                         \
    _Pragma("unroll") for (int b = 0; b < BPT; ++b) {                                        \
        T dx = q.x - px[b], dy = q.y - py[b], dz = q.z - pz[b];                             \
        T d2 = fma(dx, dx, fma(dy, dy, fma(dz, dz, soft2)));                                \
        T s = (SOFT_EVERY && b == 0 && k % (SOFT_EVERY ? SOFT_EVERY : 1) == 0)               \
            ? INV_CUBE_SOFT(d2, q.w) : inv_cube(d2, q.w);                                   \
        ax[b] = fma(dx, s, ax[b]); ay[b] = fma(dy, s, ay[b]); az[b] = fma(dz, s, az[b]);    \
    }

extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS)
nbody_accel(const VEC4* __restrict__ pos, VEC4* __restrict__ acc, int n, T soft2)
{
    // THREADS = GROUPS x SLICES: thread (g, s) holds BPT bodies of group g and sums the sources of
    // slice s of every tile; slices are whole warps (GROUPS % 32 == 0), so a warp reads one address.
#if !WARP_STAGING
    __shared__ VEC4 tile[TILE];
#endif
    const int g = threadIdx.x % GROUPS, slice = threadIdx.x / GROUPS;
    const int base = blockIdx.x * (GROUPS * BPT) + g;  // body b of a group is GROUPS apart: coalesced
    T px[BPT], py[BPT], pz[BPT], ax[BPT], ay[BPT], az[BPT];
#pragma unroll
    for (int b = 0; b < BPT; ++b) {
        VEC4 p = pos[base + b * GROUPS];
        px[b] = p.x; py[b] = p.y; pz[b] = p.z;
        ax[b] = 0; ay[b] = 0; az[b] = 0;
    }
    // blockIdx.y picks this block's share of the sources (tiles [first, last)): more, shorter blocks, so
    // that the SMs stay full to the end instead of finishing one long wave unevenly
    const int tiles = n / TILE;
    const int first = (int)(((long long)blockIdx.y * tiles) / gridDim.y);
    const int last = (int)(((long long)(blockIdx.y + 1) * tiles) / gridDim.y);
    acc += (size_t)blockIdx.y * n;  // partial sums of split y (the whole sum when gridDim.y == 1)
#if WARP_STAGING
    // Each warp stages its own TILE sources in shared memory (one 16-byte load per lane per 32 sources,
    // prefetched into registers one chunk ahead): warps synchronise only with themselves (__syncwarp),
    // never wait at a block-wide barrier for the slowest warp of the block.
    __shared__ VEC4 wtile[THREADS / 32][TILE];
    VEC4* mine = wtile[threadIdx.x / 32];
    const int lane = threadIdx.x % 32;
    VEC4 next[TILE / 32];
    if (first < last) {
#pragma unroll
        for (int t = 0; t < TILE / 32; ++t) next[t] = pos[first * TILE + t * 32 + lane];
    }
    for (int start = first * TILE; start < last * TILE; start += TILE) {
        __syncwarp();
#pragma unroll
        for (int t = 0; t < TILE / 32; ++t) mine[t * 32 + lane] = next[t];
        __syncwarp();
        if (start + TILE < last * TILE) {
#pragma unroll
            for (int t = 0; t < TILE / 32; ++t) next[t] = pos[start + TILE + t * 32 + lane];
        }
#pragma unroll UNROLL
        for (int k = 0; k < TILE; ++k) {
            VEC4 q = mine[k];
            INTERACT(q);
        }
    }
#else
    for (int start = first * TILE; start < last * TILE; start += TILE) {
#pragma unroll
        for (int t = 0; t < TILE / THREADS; ++t)
            tile[t * THREADS + threadIdx.x] = pos[start + t * THREADS + threadIdx.x];
        __syncthreads();
        const VEC4* src = tile + slice * (TILE / SLICES);
#pragma unroll UNROLL
        for (int k = 0; k < TILE / SLICES; ++k) {
            VEC4 q = src[k];  // the same address in every thread of the warp: a broadcast
            INTERACT(q);
        }
        __syncthreads();
    }
#endif
#if SLICES > 1
    // partial sums of slices 1.. to shared memory; slice 0 adds them in a fixed order (deterministic)
    __shared__ T part[SLICES - 1][3][BPT][GROUPS];
    if (slice > 0) {
#pragma unroll
        for (int b = 0; b < BPT; ++b) {
            part[slice - 1][0][b][g] = ax[b]; part[slice - 1][1][b][g] = ay[b]; part[slice - 1][2][b][g] = az[b];
        }
    }
    __syncthreads();
    if (slice > 0) return;
#pragma unroll
    for (int o = 0; o < SLICES - 1; ++o) {
#pragma unroll
        for (int b = 0; b < BPT; ++b) {
            ax[b] += part[o][0][b][g]; ay[b] += part[o][1][b][g]; az[b] += part[o][2][b][g];
        }
    }
#endif
#pragma unroll
    for (int b = 0; b < BPT; ++b)
        acc[base + b * GROUPS] = MAKE4(ax[b], ay[b], az[b], (T)0);
}
"""
_SUM_SPLITS = r"""
extern "C" __global__ void sum_splits(const T* __restrict__ part, T* __restrict__ out, long long count, int splits)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += stride) {
        T s = part[i];
        for (int y = 1; y < splits; ++y) s += part[y * count + i];  // fixed order: deterministic
        out[i] = s;
    }
}
"""
_kernels: dict = {}


def kernel_source(precision: str, config: KernelConfig) -> str:
    """The CUDA C++ of one configuration (what NVRTC compiles; also what the sweep disassembles)."""
    block_tile = config.staging == "block" and config.tile % config.threads
    if block_tile or config.threads % config.slices or config.tile % config.slices:
        raise ValueError(f"tile {config.tile}, threads {config.threads}, slices {config.slices} do not divide")
    if config.staging == "warp" and (config.slices != 1 or config.tile % 32):
        raise ValueError("warp staging takes one slice and a tile of whole warps")
    if config.slices > 1 and config.groups % 32:
        raise ValueError("with several slices, threads / slices must be a multiple of 32 (whole warps per slice)")
    t = "float" if precision == "fp32" else "double"
    header = (
        f"typedef {t} T;\ntypedef {t}4 VEC4;\n#define MAKE4 make_{t}4\n#define BPT {config.bodies_per_thread}\n"
        f"#define THREADS {config.threads}\n#define TILE {config.tile}\n#define SLICES {config.slices}\n"
        f"#define MIN_BLOCKS {config.min_blocks}\n"
        f"#define GROUPS {config.groups}\n#define WARP_STAGING {1 if config.staging == 'warp' else 0}\n"
        f"#define RSQRT_LIBM {1 if config.rsqrt == 'libm' else 0}\n"
        f"#define SOFT_EVERY {int(config.rsqrt[4:]) if config.rsqrt.startswith('soft') else 0}\n"
        f"#define INV_CUBE_SOFT {'inv_cube_soft' if precision == 'fp32' else 'inv_cube'}\n"
    )
    # #pragma unroll takes a literal, not a macro
    return header + _KERNEL.replace("#pragma unroll UNROLL", f"#pragma unroll {config.unroll}")


def _kernel(precision: str, config: KernelConfig):
    import cupy

    key = (precision, config, cupy.cuda.Device().id)
    if key not in _kernels:
        _kernels[key] = cupy.RawKernel(kernel_source(precision, config), "nbody_accel")
    return _kernels[key]


def _sum_kernel(precision: str):
    import cupy

    key = ("sum", precision, cupy.cuda.Device().id)
    if key not in _kernels:
        t = "float" if precision == "fp32" else "double"
        _kernels[key] = cupy.RawKernel(f"typedef {t} T;\n" + _SUM_SPLITS, "sum_splits")
    return _kernels[key]


def splits_for(n: int, config: KernelConfig) -> int:
    """Source splits actually used at n: at most one per tile."""
    return max(1, min(config.splits, n // config.tile))


def bodies(n: int, precision: str, seed: int | None = None) -> np.ndarray:
    """(n, 4) positions in a unit cube and positive masses in w; n rounded up to PAD with zero-mass bodies."""
    rng = np.random.default_rng(seed)
    padded = -(-n // PAD) * PAD
    out = np.zeros((padded, 4), dtype=np.float32 if precision == "fp32" else np.float64)
    out[:n, :3] = rng.random((n, 3))
    out[:n, 3] = rng.random(n) / n + 1e-3 / n
    return out


def accel_reference(pos: np.ndarray) -> np.ndarray:
    """float64 NumPy accelerations, the yardstick for every implementation."""
    return accel_numpy(pos.astype(np.float64))


def accel_numpy(pos: np.ndarray, block: int = 256) -> np.ndarray:
    out = np.zeros((pos.shape[0], 3), dtype=pos.dtype)
    x, y, z, mass = (np.ascontiguousarray(pos[:, k]) for k in range(4))
    soft2 = pos.dtype.type(SOFTENING2)
    for start in range(0, pos.shape[0], block):
        stop = start + block
        dx, dy, dz = (
            x[None, :] - x[start:stop, None],
            y[None, :] - y[start:stop, None],
            z[None, :] - z[start:stop, None],
        )
        inv = 1 / np.sqrt(dx * dx + dy * dy + dz * dz + soft2)
        s = mass[None, :] * inv * inv * inv
        out[start:stop, 0], out[start:stop, 1], out[start:stop, 2] = (dx * s).sum(1), (dy * s).sum(1), (dz * s).sum(1)
    return out


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    """max |got - want| / max |want| over all components; NaN anywhere gives inf (never passes)."""
    got = np.asarray(got, dtype=np.float64)[:, :3]
    if not np.all(np.isfinite(got)):
        return float("inf")
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


def accel_gpu(pos_device, precision: str, out=None, config: KernelConfig | None = None):
    import cupy

    config = config or DEFAULT[precision]
    n = pos_device.shape[0]
    if not config.fits(n):
        raise ValueError(f"n must be a multiple of {config.bodies_per_block} and of {config.tile}")
    out = out if out is not None else cupy.empty_like(pos_device)
    scalar = np.float32(SOFTENING2) if precision == "fp32" else np.float64(SOFTENING2)
    splits = splits_for(n, config)
    target = out if splits == 1 else cupy.empty((splits,) + pos_device.shape, dtype=pos_device.dtype)
    grid, block = (n // config.bodies_per_block, splits), (config.threads,)
    _kernel(precision, config)(grid, block, (pos_device, target, np.int32(n), scalar))
    if splits > 1:
        count = out.size
        _sum_kernel(precision)((min(-(-count // 256), 4096),), (256,), (target, out, np.int64(count), np.int32(splits)))
    return out


def gflops(n: int, precision: str, seconds: float) -> float:
    return n * n * FLOPS_PER_INTERACTION[precision] / seconds / 1e9
