"""Memory bandwidth: device-to-device copy (bytes read + written), host<->device pageable and pinned.

The device copy is measured two ways, cudaMemcpyAsync and a vectorised copy kernel; the faster
is the copy ceiling of this run, against which the others are judged.
"""

from __future__ import annotations

import numpy as np

_COPY_KERNEL = r"""
extern "C" __global__ void copy16(const int4* __restrict__ src, int4* __restrict__ dst, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = src[i];
}
"""
_kernels: dict = {}


def device_buffers(nbytes: int):
    import cupy

    src = cupy.ones(nbytes // 4, dtype=cupy.float32)
    return src, cupy.empty_like(src)


def d2d_memcpy(src, dst):
    return lambda: dst.data.copy_from_device_async(src.data, src.nbytes)


def d2d_kernel(src, dst):
    import cupy

    dev = cupy.cuda.Device()
    if dev.id not in _kernels:
        _kernels[dev.id] = cupy.RawKernel(_COPY_KERNEL, "copy16")
    kernel = _kernels[dev.id]
    n16 = src.nbytes // 16
    blocks = dev.attributes["MultiProcessorCount"] * 8
    return lambda: kernel((blocks,), (512,), (src, dst, np.uint64(n16)))


def host_buffer(nbytes: int, pinned: bool):
    import cupy

    if pinned:
        memory = cupy.cuda.alloc_pinned_memory(nbytes)
        array = np.frombuffer(memory, dtype=np.uint8, count=nbytes)
        array[:] = 1
        return array, memory  # keep the pinned allocation alive with the view
    return np.ones(nbytes, dtype=np.uint8), None


def h2d(host, dev):
    stream = __import__("cupy").cuda.get_current_stream()
    return lambda: dev.data.copy_from_host_async(host.ctypes.data, host.nbytes, stream)


def d2h(dev, host):
    stream = __import__("cupy").cuda.get_current_stream()
    return lambda: dev.data.copy_to_host_async(host.ctypes.data, host.nbytes, stream)


def cpu_copy(nbytes: int):
    src = np.ones(nbytes // 8, dtype=np.float64)
    dst = np.empty_like(src)
    return lambda: np.copyto(dst, src)
