"""A fake NVIDIA host tree for the CDI tests: /proc/driver/nvidia, device nodes (mknod), ELF libraries with
real SONAMEs, nvidia-smi, an ld.so.cache made by the real ldconfig.

Runs with the standard library only, so it also builds the fake driver inside the CI engine container
(``python3 tests/cdi_fixtures.py ROOT``). Device nodes need root (``mknod``).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

VERSION = "580.95.05"
OTHER_VERSION = "570.86.10"
LIB_DIR = "usr/lib/x86_64-linux-gnu"
UUIDS = ("GPU-5f1c2a3b-4d5e-6f70-8192-a3b4c5d6e7f8", "GPU-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")
UVM_MAJOR = 508
# library file stem -> SONAME (as NVIDIA's driver 580 ships them)
LIBS = {
    "libcuda.so": "libcuda.so.1",
    "libnvidia-ml.so": "libnvidia-ml.so.1",
    "libnvidia-ptxjitcompiler.so": "libnvidia-ptxjitcompiler.so.1",
    "libnvidia-nvvm.so": "libnvidia-nvvm.so.4",
    "libnvidia-gpucomp.so": None,  # its SONAME is the versioned name itself
}


def elf_library(soname: str | None, payload: bytes = b"", elf_class: int = 2, machine: int = 62) -> bytes:
    """A minimal 64-bit little-endian ELF shared object whose dynamic section names ``soname``.

    One PT_LOAD maps the whole file at address 0 and PT_DYNAMIC points at DT_STRTAB/DT_SONAME, which is how
    the dynamic loader, ldconfig and gpudock find a SONAME.
    """
    strtab = b"\0" + (soname.encode() + b"\0" if soname else b"")
    dyn_off = 64 + 2 * 56
    dynamic = []
    if soname:
        dynamic.append((14, 1))
    str_off = dyn_off + 16 * (len(dynamic) + 3)
    dynamic += [(5, str_off), (10, len(strtab)), (0, 0)]
    total = str_off + len(strtab) + len(payload)
    ident = b"\x7fELF" + bytes([elf_class, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 3, machine, 1, 0, 64, 0, 0, 64, 56, 2, 64, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 4, 0, 0, 0, total, total, 0x1000)
    dyn = struct.pack("<IIQQQQQQ", 2, 4, dyn_off, dyn_off, dyn_off, 16 * len(dynamic), 16 * len(dynamic), 8)
    body = b"".join(struct.pack("<qQ", tag, value) for tag, value in dynamic)
    return header + load + dyn + body + strtab + payload


def _write(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(mode)


def _link(path: Path, target: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    path.symlink_to(target)


def _node(path: Path, major: int, minor: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mknod(path, 0o666 | 0o020000, os.makedev(major, minor))


def proc_version(version: str = VERSION) -> str:
    return (
        f"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  {version}  Release Build  "
        "(dvs-builder@U22-I3-AE18-23-3)  Thu Sep 25 08:42:18 UTC 2025\n"
        "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14+deb12u1) \n"
    )


def make_native(root: Path, gpus: int = 2, version: str = VERSION, ldcache: bool = True) -> Path:
    """A native host with ``gpus`` GPUs of driver ``version`` (and an older driver's library lying beside it)."""
    root = Path(root)
    proc = root / "proc/driver/nvidia"
    _write(proc / "version", proc_version(version))
    for index in range(gpus):
        info = (
            "Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t 145\n"
            f"GPU UUID: \t {UUIDS[index % len(UUIDS)]}\nVideo BIOS: \t 96.00.99.00.01\nBus Type: \t PCIe\n"
            f"DMA Size: \t 52 bits\nDMA Mask: \t 0xfffffffffffff\nBus Location: \t 0000:0{index + 1}:00.0\n"
            f"Device Minor: \t {index}\nGPU Firmware: \t {version}\nGPU Excluded:\t No\n"
        )
        _write(proc / f"gpus/0000:0{index + 1}:00.0/information", info)
        _node(root / f"dev/nvidia{index}", 195, index)
    _node(root / "dev/nvidiactl", 195, 255)
    _node(root / "dev/nvidia-uvm", UVM_MAJOR, 0)
    _node(root / "dev/nvidia-uvm-tools", UVM_MAJOR, 1)
    for stem, soname in LIBS.items():
        real = root / LIB_DIR / f"{stem}.{version}"
        _write(real, elf_library(soname or f"{stem}.{version}", f"fixture {stem} {version}\n".encode()))
        if soname:
            _link(root / LIB_DIR / soname, real.name)
    _link(root / LIB_DIR / "libcuda.so", "libcuda.so.1")
    # what must not be chosen: another driver's libcuda, a graphics library, a 32-bit copy
    _write(root / LIB_DIR / f"libcuda.so.{OTHER_VERSION}", elf_library("libcuda.so.1", b"old driver\n"))
    _write(root / LIB_DIR / f"libnvidia-glcore.so.{version}", elf_library(f"libnvidia-glcore.so.{version}"))
    _write(root / f"usr/lib/i386-linux-gnu/libcuda.so.{version}", elf_library("libcuda.so.1", elf_class=1))
    # the programs are ELF files; a wrapper script in /usr/bin (as some images have) execs the real one
    _write(root / "usr/local/nvidia/bin/nvidia-smi", elf_library(None, f"nvidia-smi {version}\n".encode()), 0o755)
    _write(root / "usr/bin/nvidia-smi", '#!/bin/sh\nexec /usr/local/nvidia/bin/nvidia-smi "$@"\n', 0o755)
    _write(root / "usr/bin/nvidia-debugdump", elf_library(None, b"nvidia-debugdump\n"), 0o755)
    _write(root / "etc/ld.so.conf", f"/{LIB_DIR}\n")
    if ldcache:
        build_ldcache(root)
    return root


def build_ldcache(root: Path) -> bool:
    """etc/ld.so.cache made by the real ldconfig (``-r`` chroots: root only); False when it cannot run."""
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    if os.geteuid() != 0 or not Path(ldconfig).exists():
        return False
    proc = subprocess.run([ldconfig, "-r", str(root), "-X"], capture_output=True, text=True)
    return proc.returncode == 0 and (Path(root) / "etc/ld.so.cache").exists()


def make_wsl(root: Path) -> Path:
    """A WSL 2 distro: /dev/dxg and the Windows driver's files in /usr/lib/wsl/lib and its driver store."""
    root = Path(root)
    _node(root / "dev/dxg", 10, 63)
    wsl = root / "usr/lib/wsl/lib"
    for name in ("libcuda.so", "libcuda.so.1", "libcuda.so.1.1", "libcuda_loader.so", "libnvidia-ml.so.1"):
        _write(wsl / name, elf_library(None, name.encode()))
    _write(wsl / "libdxcore.so", elf_library(None, b"dxcore"))
    _write(wsl / "libnvidia-ptxjitcompiler.so.1", elf_library(None))
    _write(wsl / "nvidia-smi", elf_library(None, b"nvidia-smi\n"), 0o755)
    _write(root / "usr/lib/wsl/drivers/nv_dispi.inf_amd64_0123456789abcdef/libcuda.so.1.1", elf_library(None))
    (root / LIB_DIR).mkdir(parents=True, exist_ok=True)
    return root


if __name__ == "__main__":  # python3 tests/cdi_fixtures.py ROOT [GPUS]: the fake driver, e.g. inside a container
    make_native(Path(sys.argv[1]), gpus=int(sys.argv[2]) if len(sys.argv) > 2 else 2, ldcache=False)
