"""What a container needs of the loaded NVIDIA driver, found in a host tree (no NVML, no toolkit).

Native Linux (after NVIDIA's own discovery in nvidia-container-toolkit ``pkg/nvcdi`` and libnvidia-container
``src/nvc_info.c``, reimplemented here):

- the driver version from ``/proc/driver/nvidia/version`` (the loaded kernel module, not what lies on disk);
- each GPU from ``/proc/driver/nvidia/gpus/<PCI bus id>/information`` ("Device Minor", "GPU UUID"), in PCI
  bus order, which is nvidia-smi's index order; its node ``/dev/nvidia<minor>``;
- the control nodes ``/dev/nvidiactl``, ``/dev/nvidia-uvm``, ``/dev/nvidia-uvm-tools``, ``/dev/nvidia-modeset``;
- the compute and utility libraries (libnvidia-container's ``compute_libs`` and ``utility_libs``) whose
  real file ends in ``.so.<that version>``, found through ``/etc/ld.so.cache`` and the usual library
  folders, each with its SONAME read from the ELF file;
- the utility and compute programs (``nvidia-smi``, …) and the persistenced / fabric-manager sockets.

WSL 2: ``/dev/dxg`` and the Windows driver's files in ``/usr/lib/wsl/lib`` (and its driver store in
``/usr/lib/wsl/drivers``), which is what the toolkit's WSL mode gives a container.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field

from .binary import MACHINES, elf_info, ld_cache
from .tree import TreeView

PROC_VERSION = "/proc/driver/nvidia/version"
PROC_GPUS = "/proc/driver/nvidia/gpus"
CONTROL_NODES = ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset")
# libnvidia-container src/nvc_info.c: utility_libs + compute_libs (the capabilities "utility,compute")
UTILITY_LIBS = ("libnvidia-ml.so", "libnvidia-cfg.so", "libnvidia-nscq.so")
COMPUTE_LIBS = (
    "libcuda.so",
    "libcudadebugger.so",
    "libnvidia-opencl.so",
    "libnvidia-gpucomp.so",
    "libnvidia-ptxjitcompiler.so",
    "libnvidia-fatbinaryloader.so",
    "libnvidia-allocator.so",
    "libnvidia-compiler.so",
    "libnvidia-pkcs11.so",
    "libnvidia-pkcs11-openssl3.so",
    "libnvidia-nvvm.so",
    "libnvidia-tileiras.so",
)
LIBRARIES = UTILITY_LIBS + COMPUTE_LIBS
# utility_bins + compute_bins (nv-fabricmanager is a host daemon; containers talk to it through its socket)
PROGRAMS = (
    "nvidia-smi",
    "nvidia-debugdump",
    "nvidia-persistenced",
    "nvidia-cuda-mps-control",
    "nvidia-cuda-mps-server",
)
# where images look for programs (every image's PATH has them); the driver's own folder is searched last
PATH_DIRS = ("/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin", "/usr/local/sbin")
PROGRAM_DIRS = (*PATH_DIRS, "/usr/local/nvidia/bin")
SOCKETS = ("/run/nvidia-persistenced/socket", "/run/nvidia-fabricmanager/socket")
WSL_LIB = "/usr/lib/wsl/lib"
WSL_DRIVERS = "/usr/lib/wsl/drivers"
# libnvidia-container's dxcore_libs and the toolkit's requiredDriverStoreFiles (pkg/nvcdi/driver-wsl.go)
WSL_FILES = (
    "libdxcore.so",
    "libcuda.so",
    "libcuda.so.1",
    "libcuda.so.1.1",
    "libcuda_loader.so",
    "libnvidia-ml.so.1",
    "libnvidia-ml_loader.so",
    "libnvidia-ptxjitcompiler.so.1",
    "libnvdxgdmal.so.1",
)
_TRIPLETS = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu", "arm64": "aarch64-linux-gnu"}
_VERSION = re.compile(r"Kernel Module\b.{0,60}?\s(\d{2,4}\.\d{1,3}(?:\.\d{1,3})?)\s")


class DriverNotFound(RuntimeError):
    """No loaded NVIDIA driver in this tree; the message says what is missing and what to do."""


@dataclass(frozen=True)
class Gpu:
    index: int
    node: str  # /dev/nvidia<minor>
    uuid: str | None
    bus: str | None


@dataclass(frozen=True)
class Library:
    path: str  # the real, versioned file (a host path)
    soname: str  # what the loader looks it up by


@dataclass
class Driver:
    version: str | None  # None on WSL (the Windows driver)
    wsl: bool
    gpus: list[Gpu]
    control_nodes: list[str]
    libraries: list[Library]
    programs: list[str]
    sockets: list[str]
    lib_dir: str  # the host's system library folder, which the container's loader searches by default
    arch: str
    warnings: list[str] = field(default_factory=list)


def driver_version(text: str | None) -> str | None:
    """'580.95.05' from the text of /proc/driver/nvidia/version (proprietary or open kernel module)."""
    if not text:
        return None
    match = _VERSION.search(text[:4096])
    return match.group(1) if match else None


def machine() -> str:
    return os.uname().machine


def default_lib_dirs(arch: str) -> tuple[str, ...]:
    """The folders glibc searches without an ld.so.cache entry (its built-in system search path)."""
    triplet = _TRIPLETS.get(arch, "")
    return (f"/lib/{triplet}", f"/usr/lib/{triplet}", "/lib64", "/usr/lib64", "/lib", "/usr/lib")


def system_lib_dir(tree: TreeView, arch: str) -> str:
    """The host's own library folder, which glibc also searches by default (Debian's multiarch folder,
    or /usr/lib64 on Fedora-like hosts): where the container finds the libraries without a hook."""
    triplet = _TRIPLETS.get(arch)
    candidates = ([f"/usr/lib/{triplet}"] if triplet else []) + ["/usr/lib64", "/usr/lib"]
    return next((c for c in candidates if tree.is_dir(c)), candidates[0])


def gpus(tree: TreeView, warnings: list[str]) -> list[Gpu]:
    """The GPUs in PCI bus order (nvidia-smi's index), each with its device node."""
    found = []
    for bus in tree.listdir(PROC_GPUS)[:64]:
        text = tree.read(f"{PROC_GPUS}/{bus}/information") or ""
        minor = re.search(r"^Device Minor:\s*(\d{1,3})\s*$", text, re.M)
        uuid = re.search(r"^GPU UUID:\s*(GPU-[0-9a-fA-F-]{8,64})\s*$", text, re.M)
        if not minor:
            warnings.append(f"{PROC_GPUS}/{bus}/information names no device minor; GPU {bus} left out")
            continue
        found.append((bus, int(minor.group(1)), uuid.group(1) if uuid else None))
    if not found:  # no /proc/driver/nvidia/gpus (a trimmed tree): the nodes themselves, in minor order
        minors = sorted(int(n[6:]) for n in tree.listdir("/dev") if re.fullmatch(r"nvidia\d{1,3}", n))
        found = [(None, minor, None) for minor in minors]
    result = []
    for bus, minor, uuid in found:
        node = f"/dev/nvidia{minor}"
        if tree.node(node) is None:
            warnings.append(f"{node} (GPU {bus or minor}) is not a device node here; left out (run nvidia-modprobe?)")
            continue
        result.append(Gpu(len(result), node, uuid, bus))
    return result


def _library_dirs(tree: TreeView, arch: str, cache: list[tuple[str, str]]) -> list[str]:
    triplet = _TRIPLETS.get(arch, "")
    folders = [posixpath.dirname(path) for _name, path in cache]
    folders += [f"/usr/lib/{triplet}", f"/lib/{triplet}", "/usr/lib64", "/lib64", "/usr/lib", "/lib"]
    folders = [f for f in dict.fromkeys(folders) if f and "32" not in f.rsplit("/", 1)[-1] and "i386" not in f]
    return [f for f in folders if tree.is_dir(f)]


def libraries(tree: TreeView, version: str, arch: str, warnings: list[str]) -> list[Library]:
    """The loaded driver's compute and utility libraries: files named ``<lib>.so.<version>``, by SONAME."""
    cache = [(n, p) for n, p in ld_cache(tree.full("/etc/ld.so.cache") or "/nonexistent") if n.startswith(LIBRARIES)]
    want = MACHINES.get(arch)
    chosen: dict[str, Library] = {}
    candidates = [p for _n, p in cache]
    for folder in _library_dirs(tree, arch, cache):
        candidates += [f"{folder}/{n}" for n in tree.listdir(folder) if n.startswith(LIBRARIES) and ".so." in n]
    for candidate in candidates:
        real = tree.real(candidate)
        if real is None or not real.endswith(f".so.{version}"):
            continue
        base = posixpath.basename(real)
        if not base.startswith(LIBRARIES) or any(real == lib.path for lib in chosen.values()):
            continue
        info = elf_info(tree.full(real) or "")
        if info is None or (want is not None and info[0] != want):
            continue  # not a 64-bit library of this machine (a 32-bit copy, a stray file)
        soname = info[1] or base.split(f".so.{version}")[0] + ".so.1"
        chosen.setdefault(soname, Library(real, soname))
    result = sorted(chosen.values(), key=lambda lib: lib.soname)
    names = {lib.soname.split(".so")[0] for lib in result}
    for core in ("libcuda", "libnvidia-ml"):
        if core not in names:
            warnings.append(f"no {core}.so.{version} found (the driver's user-space part of this version)")
    return result


def programs(tree: TreeView) -> list[str]:
    """The driver's own programs (ELF files): a wrapper script in /usr/bin that execs the real one elsewhere
    (``exec /usr/local/nvidia/bin/nvidia-smi``) would find nothing to exec in a container, so it is passed over."""
    found = []
    for name in PROGRAMS:
        for folder in PROGRAM_DIRS:
            real = tree.real(f"{folder}/{name}")
            if real and tree.kind(real) == "file" and elf_info(tree.full(real) or "") is not None:
                found.append(real)
                break
    return found


def discover(tree: TreeView, arch: str | None = None) -> Driver:
    """The loaded driver of this tree; DriverNotFound when there is none to describe."""
    arch = arch or machine()
    warnings: list[str] = []
    if tree.node("/dev/dxg") is not None and tree.is_dir(WSL_LIB):
        return _discover_wsl(tree, arch, warnings)
    text = tree.read(PROC_VERSION)
    version = driver_version(text)
    if version is None:
        raise DriverNotFound(
            f"no NVIDIA kernel module is loaded ({PROC_VERSION} is "
            + ("absent" if text is None else "not a driver's version text")
            + "): install and load the driver first (`gpudock plan driver`, then reboot)"
        )
    found = gpus(tree, warnings)
    if not found:
        raise DriverNotFound(
            f"driver {version} is loaded but no GPU device node (/dev/nvidia0 …) exists: "
            "run nvidia-smi once (it creates them) or check `dmesg`"
        )
    control = [n for n in CONTROL_NODES if tree.node(n) is not None]
    for needed in ("/dev/nvidiactl", "/dev/nvidia-uvm"):
        if needed not in control:
            warnings.append(
                f"{needed} does not exist: CUDA needs it (run `nvidia-modprobe -u -c=0`, or nvidia-smi once)"
            )
    libs = libraries(tree, version, arch, warnings)
    sockets = [s for s in SOCKETS if tree.kind(s) == "socket"]
    lib_dir = system_lib_dir(tree, arch)
    return Driver(version, False, found, control, libs, programs(tree), sockets, lib_dir, arch, warnings)


def _discover_wsl(tree: TreeView, arch: str, warnings: list[str]) -> Driver:
    files = [f"{WSL_LIB}/{name}" for name in WSL_FILES if tree.kind(f"{WSL_LIB}/{name}") == "file"]
    if not any(posixpath.basename(f).startswith("libcuda.so") for f in files):
        raise DriverNotFound(
            f"WSL 2 with /dev/dxg but no {WSL_LIB}/libcuda.so*: "
            "update the NVIDIA driver on Windows, then `wsl --shutdown`"
        )
    libs = [Library(f, posixpath.basename(f)) for f in files]
    smi = [f"{WSL_LIB}/nvidia-smi"] if tree.kind(f"{WSL_LIB}/nvidia-smi") == "file" else []
    gpu = Gpu(0, "/dev/dxg", None, None)
    return Driver(None, True, [gpu], [], libs, smi, [], system_lib_dir(tree, arch), arch, warnings)


class TreeHost(TreeView):
    """A live (or ``--root``) tree as the checks' view: every question has an answer here."""

    def __init__(self, root: str = "/", arch: str | None = None):
        super().__init__(root)
        self.arch = arch or machine()
        self._notes: list[str] = []

    def known_node(self, path: str) -> bool:
        return True

    def driver_version(self) -> str | None:
        return driver_version(self.read(PROC_VERSION))

    def wsl(self) -> bool:
        return self.node("/dev/dxg") is not None and self.is_dir(WSL_LIB)

    def gpu_nodes(self) -> list[str] | None:
        if self.wsl():
            return ["/dev/dxg"]
        return [gpu.node for gpu in gpus(self, self._notes)]

    def driver_sonames(self) -> list[str] | None:
        version = self.driver_version()
        if self.wsl() or version is None:
            return None
        return [lib.soname for lib in libraries(self, version, self.arch, self._notes)]
