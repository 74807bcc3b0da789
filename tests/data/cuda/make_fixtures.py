"""Make the CUDA fixture libraries of tests/data/cuda/ offline: NVRTC and nvFatbin from PyPI, gcc to link.

Each fixture is a small shared library whose `.nv_fatbin` section holds one fat binary, the way nvcc
lays it out (the names are from CUDA's `fatbinary_section.h`), with the symbol `gpudock_fixture_fatbin`
at its start so a loader can hand the same bytes to `cuModuleLoadData`. The kernel is
`add_one(int *x, int n)`. Nothing here needs a GPU or nvcc.

    python3 -m venv /tmp/fx && /tmp/fx/bin/pip install nvidia-cuda-nvrtc-cu12==12.9.86 \
        nvidia-nvfatbin-cu12==12.9.82 nvidia-cuda-nvrtc==13.5.37
    /tmp/fx/bin/python tests/data/cuda/make_fixtures.py tests/data/cuda

`--big-ptx FILE` also writes a large PTX text (many unrolled kernels) for measuring the driver's JIT rate.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
NVRTC = {12: SITE / "nvidia/cuda_nvrtc/lib/libnvrtc.so.12", 13: SITE / "nvidia/cu13/lib/libnvrtc.so.13"}
NVFATBIN = SITE / "nvidia/nvfatbin/lib/libnvfatbin.so.12"
KERNEL = (
    'extern "C" __global__ void add_one(int *x, int n)\n'
    "{ int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) x[i] += 1; }\n"
)

# name: (nvFatbin options, [(kind, arch, nvrtc major)], extra containers, relocatable copy)
FIXTURES = {
    "sass_sm80": ("-64 -compress=false", [("cubin", "sm_80", 12)]),
    "sass_sm90": ("-64 -compress-all", [("cubin", "sm_90", 12)]),  # LZ4-compressed entries
    "sass_sm90a": ("-64 -compress=false", [("cubin", "sm_90a", 12)]),
    "ptx_compute80": ("-64 -compress-all -compress-mode=size", [("ptx", "compute_80", 12)]),  # ZSTD
    "sass_sm100_ptx100": ("-64 -compress-all", [("cubin", "sm_100", 12), ("ptx", "compute_100", 12)]),
    "ptx_too_new": ("-64 -compress=false", [("ptx", "compute_80", 13)]),  # PTX ISA of CUDA 13.5
    "sass_sm80_ptx80": ("-64 -compress-all", [("cubin", "sm_80", 12), ("ptx", "compute_80", 12)]),
    "families": (
        "-64 -compress=false",
        [("cubin", "sm_100a", 12), ("cubin", "sm_100f", 12), ("ptx", "compute_90a", 12), ("cubin", "sm_120", 12)],
    ),
}
# a second container in .nv_fatbin and a relocatable one in __nv_relfatbin (cuobjdump reads only .nv_fatbin
# of a shared library; gpudock lists both and judges by .nv_fatbin)
MULTI = {
    "nv_fatbin": [
        ("-64 -compress=false", [("cubin", "sm_75", 12)]),
        ("-64 -compress-all", [("ptx", "compute_75", 12)]),
    ],
    "relfatbin": [("-64 -compress-all", [("cubin", "sm_86", 12)])],
}


def _check(lib, result, what: str) -> None:
    if result != 0:
        raise SystemExit(f"{what} failed with status {result}")


def compile_kernel(source: str, arch: str, ptx: bool, major: int) -> bytes:
    nvrtc = ctypes.CDLL(str(NVRTC[major]))
    prog = ctypes.c_void_p()
    _check(nvrtc, nvrtc.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"k.cu", 0, None, None), "create")
    options = (ctypes.c_char_p * 1)(f"--gpu-architecture={arch}".encode())
    if nvrtc.nvrtcCompileProgram(prog, 1, options) != 0:
        size = ctypes.c_size_t()
        nvrtc.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        nvrtc.nvrtcGetProgramLog(prog, log)
        raise SystemExit(log.value.decode())
    size = ctypes.c_size_t()
    getsize, get = (nvrtc.nvrtcGetPTXSize, nvrtc.nvrtcGetPTX) if ptx else (nvrtc.nvrtcGetCUBINSize, nvrtc.nvrtcGetCUBIN)
    _check(nvrtc, getsize(prog, ctypes.byref(size)), "size")
    out = ctypes.create_string_buffer(size.value)
    _check(nvrtc, get(prog, out), "get")
    return out.raw[: size.value]


def make_fatbin(options: str, entries) -> bytes:
    lib = ctypes.CDLL(str(NVFATBIN))
    handle = ctypes.c_void_p()
    opts = [o.encode() for o in options.split()]
    _check(lib, lib.nvFatbinCreate(ctypes.byref(handle), (ctypes.c_char_p * len(opts))(*opts), len(opts)), "create")
    for kind, arch, major in entries:
        code = compile_kernel(KERNEL, arch, kind == "ptx", major)
        number = arch.split("_", 1)[1]
        if kind == "ptx":
            code = code.rstrip(b"\0")
            _check(lib, lib.nvFatbinAddPTX(handle, code, len(code), number.encode(), b"k", None), "add PTX")
        else:
            _check(lib, lib.nvFatbinAddCubin(handle, code, len(code), number.encode(), b"k"), "add cubin")
    size = ctypes.c_size_t()
    _check(lib, lib.nvFatbinSize(handle, ctypes.byref(size)), "size")
    out = ctypes.create_string_buffer(size.value)
    _check(lib, lib.nvFatbinGet(handle, out), "get")
    lib.nvFatbinDestroy(ctypes.byref(handle))
    return out.raw


def link(out: Path, sections: dict[str, list[bytes]], work: Path) -> None:
    """A shared library holding each section's fat binaries back to back, 8-aligned, as nvcc's are."""
    lines = []
    for section, blobs in sections.items():
        lines += [f'    .section {section}, "a"', "    .balign 8"]
        if section == ".nv_fatbin":
            lines += ["    .globl gpudock_fixture_fatbin", "gpudock_fixture_fatbin:"]
        for number, blob in enumerate(blobs):
            path = work / f"{out.stem}-{section.strip('.')}-{number}.fatbin"
            path.write_bytes(blob)
            lines += ["    .balign 8", f'    .incbin "{path}"']
    lines.append('    .section .note.GNU-stack, "", @progbits')
    source = work / f"{out.stem}.S"
    source.write_text("\n".join(lines) + "\n")
    subprocess.run(["gcc", "-shared", "-nostdlib", "-Wl,--build-id=none", "-o", str(out), str(source)], check=True)


def big_ptx(kernels: int = 16, unroll: int = 48) -> bytes:
    """Many kernels with long unrolled bodies: a PTX text of a few MB, to time the driver's JIT per KiB."""
    body = []
    for k in range(kernels):
        body.append(
            f'extern "C" __global__ void big{k}(float *x, int n) {{ int i = blockIdx.x * blockDim.x + threadIdx.x;'
            f" if (i >= n) return; float a = x[i], b = a * {k + 1}.5f;"
            f"\n#pragma unroll\n for (int j = 0; j < {unroll}; ++j) {{ a = fmaf(a, b, {k}.25f + j);"
            f" b = sinf(a) + b * 0.5f; }} x[i] = a + b; }}\n"
        )
    return compile_kernel("".join(body), "compute_80", True, 12).rstrip(b"\0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--big-ptx", type=Path, help="also write a large PTX text here")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, (options, entries) in FIXTURES.items():
            link(args.out / f"lib{name}.so", {".nv_fatbin": [make_fatbin(options, entries)]}, work)
            manifest[f"lib{name}.so"] = {"options": options, "entries": entries}
        sections = {
            ".nv_fatbin": [make_fatbin(o, e) for o, e in MULTI["nv_fatbin"]],
            "__nv_relfatbin": [make_fatbin(o, e) for o, e in MULTI["relfatbin"]],
        }
        link(args.out / "libmulti.so", sections, work)
        manifest["libmulti.so"] = MULTI
    (args.out / "fixtures.json").write_text(json.dumps(manifest, indent=1) + "\n")
    if args.big_ptx:
        args.big_ptx.write_bytes(big_ptx())


if __name__ == "__main__":
    main()
