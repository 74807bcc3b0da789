"""An experiment for issue 25's nbody target (45 TFLOP/s fp32 at N=262,144): the same all-pairs sum with
d² expanded, so that an interaction costs 12 issue slots instead of 13 (+ shared-memory loads).

    a_i = sum_j m_j (q_j - p_i) / r³ = sum_j s_j q_j - p_i sum_j s_j,   s_j = m_j / r³
    r² = |p_i|² + eps² + |q_j|² - 2 q_j·p_i

Per source the tile holds (-2x, -2y, -2z, |q|²) and m; per interaction: 1 FADD + 3 FFMA (r²), 1 MUFU.RSQ,
3 FMUL (s), 3 FFMA + 1 FADD (the four sums) = 12, against 3 FADD + 3 FFMA + 1 + 3 + 3 = 13 for the default
kernel. The price is accuracy: r² comes from a difference of terms up to |p|² + |q|², so positions are
first centred on their mean (a prep kernel, O(N)), and the error is checked like every kernel's. Not used by
`gpudock bench`: benchmarks/nbody_tune.py measures it beside the default.
"""

from __future__ import annotations

import numpy as np

from gpudock.bench import nbody
from gpudock.bench.nbody import SOFTENING2

SOURCE = r"""
__device__ __forceinline__ float rsqrt_hw(float x) {
    float y;
    asm("rsqrt.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

extern "C" __global__ void prep(const float4* __restrict__ pos, const float* __restrict__ centre,
                                float4* __restrict__ aq, float* __restrict__ mass, float4* __restrict__ cpos, int n)
{
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x) {
        float4 p = pos[j];
        float x = p.x - centre[0], y = p.y - centre[1], z = p.z - centre[2];
        aq[j] = make_float4(-2.f * x, -2.f * y, -2.f * z, fmaf(x, x, fmaf(y, y, z * z)));
        mass[j] = p.w;
        cpos[j] = make_float4(x, y, z, 0.f);
    }
}

extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS)
nbody_expand(const float4* __restrict__ cpos, const float4* __restrict__ aq, const float* __restrict__ mass,
             float4* __restrict__ acc, int n, float soft2)
{
    __shared__ float4 tq[TILE];
    __shared__ float tm[TILE];
    const int g = threadIdx.x % GROUPS, slice = threadIdx.x / GROUPS;
    const int base = blockIdx.x * (GROUPS * BPT) + g;
    float px[BPT], py[BPT], pz[BPT], pp[BPT], sx[BPT], sy[BPT], sz[BPT], ss[BPT];
#pragma unroll
    for (int b = 0; b < BPT; ++b) {
        float4 p = cpos[base + b * GROUPS];
        px[b] = p.x; py[b] = p.y; pz[b] = p.z;
        pp[b] = fmaf(p.x, p.x, fmaf(p.y, p.y, fmaf(p.z, p.z, soft2)));
        sx[b] = 0; sy[b] = 0; sz[b] = 0; ss[b] = 0;
    }
    const int tiles = n / TILE;
    const int first = (int)(((long long)blockIdx.y * tiles) / gridDim.y);
    const int last = (int)(((long long)(blockIdx.y + 1) * tiles) / gridDim.y);
    acc += (size_t)blockIdx.y * n;
    for (int start = first * TILE; start < last * TILE; start += TILE) {
#pragma unroll
        for (int t = 0; t < TILE / THREADS; ++t) {
            tq[t * THREADS + threadIdx.x] = aq[start + t * THREADS + threadIdx.x];
            tm[t * THREADS + threadIdx.x] = mass[start + t * THREADS + threadIdx.x];
        }
        __syncthreads();
        const float4* src = tq + slice * (TILE / SLICES);
        const float* msrc = tm + slice * (TILE / SLICES);
#pragma unroll UNROLL
        for (int k = 0; k < TILE / SLICES; ++k) {
            float4 a = src[k];
            float m = msrc[k];
#pragma unroll
            for (int b = 0; b < BPT; ++b) {
                float d2 = fmaf(a.x, px[b], fmaf(a.y, py[b], fmaf(a.z, pz[b], a.w + pp[b])));
                float inv = rsqrt_hw(d2);
                float s = (m * inv) * (inv * inv);
                sx[b] = fmaf(a.x, s, sx[b]); sy[b] = fmaf(a.y, s, sy[b]); sz[b] = fmaf(a.z, s, sz[b]);
                ss[b] += s;
            }
        }
        __syncthreads();
    }
#if SLICES > 1
    __shared__ float part[SLICES - 1][4][BPT][GROUPS];
    if (slice > 0) {
#pragma unroll
        for (int b = 0; b < BPT; ++b) {
            part[slice - 1][0][b][g] = sx[b]; part[slice - 1][1][b][g] = sy[b];
            part[slice - 1][2][b][g] = sz[b]; part[slice - 1][3][b][g] = ss[b];
        }
    }
    __syncthreads();
    if (slice > 0) return;
#pragma unroll
    for (int o = 0; o < SLICES - 1; ++o) {
#pragma unroll
        for (int b = 0; b < BPT; ++b) {
            sx[b] += part[o][0][b][g]; sy[b] += part[o][1][b][g]; sz[b] += part[o][2][b][g]; ss[b] += part[o][3][b][g];
        }
    }
#endif
    // sum s q = -0.5 sum s (-2q); a = sum s q - p sum s (linear, so each split's part is transformed alone)
#pragma unroll
    for (int b = 0; b < BPT; ++b)
        acc[base + b * GROUPS] = make_float4(fmaf(-0.5f, sx[b], -px[b] * ss[b]), fmaf(-0.5f, sy[b], -py[b] * ss[b]),
                                             fmaf(-0.5f, sz[b], -pz[b] * ss[b]), 0.f);
}
"""

_cache: dict = {}


def _module(bpt: int, threads: int, tile: int, unroll: int, slices: int, min_blocks: int):
    import cupy

    key = (bpt, threads, tile, unroll, slices, min_blocks)
    if key not in _cache:
        header = (
            f"#define BPT {bpt}\n#define THREADS {threads}\n#define TILE {tile}\n#define SLICES {slices}\n"
            f"#define GROUPS {threads // slices}\n#define MIN_BLOCKS {min_blocks}\n"
        )
        source = header + SOURCE.replace("#pragma unroll UNROLL", f"#pragma unroll {unroll}")
        module = cupy.RawModule(code=source)
        _cache[key] = (module.get_function("prep"), module.get_function("nbody_expand"))
    return _cache[key]


def accel(pos, out=None, bpt=2, threads=256, tile=1024, unroll=64, slices=4, splits=16, min_blocks=8):
    """Accelerations of fp32 bodies (n, 4) on the GPU, expanded form; n a multiple of tile and of the block's bodies."""
    import cupy

    prep, main = _module(bpt, threads, tile, unroll, slices, min_blocks)
    summed = nbody._sum_kernel("fp32")  # the default kernel's split adder (fixed order)
    n = pos.shape[0]
    per_block = bpt * threads // slices
    if n % tile or n % per_block:
        raise ValueError(f"n must be a multiple of {tile} and {per_block}")
    centre = pos[:, :3].mean(axis=0)
    aq, cpos = cupy.empty_like(pos), cupy.empty_like(pos)
    mass = cupy.empty(n, dtype=cupy.float32)
    prep((264,), (256,), (pos, centre, aq, mass, cpos, np.int32(n)))
    out = out if out is not None else cupy.empty_like(pos)
    splits = max(1, min(splits, n // tile))
    target = out if splits == 1 else cupy.empty((splits, n, 4), dtype=cupy.float32)
    main((n // per_block, splits), (threads,), (cpos, aq, mass, target, np.int32(n), np.float32(SOFTENING2)))
    if splits > 1:
        count = out.size
        summed((min(-(-count // 256), 4096),), (256,), (target, out, np.int64(count), np.int32(splits)))
    return out
