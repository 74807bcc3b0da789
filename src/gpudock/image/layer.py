"""One image layer, read as a stream: which files hold CUDA code, which libraries and version files it has.

A layer is a tar archive (OCI image spec, layer.md): its paths are normalised, a path that climbs out of
the root (``..``) or nests too deep refuses the image, and the whiteouts (``.wh.NAME`` deletes NAME from
the layers below, ``.wh..wh..opq`` hides everything below in that folder) are recorded for overlay.py.
Only facts are kept: nothing is unpacked, no archive path ever reaches the file system.
https://github.com/opencontainers/image-spec/blob/main/layer.md
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from . import tarstream
from .limits import Budget, ImageUnreadable
from .scan import ElfScanner, FileKernels

CHUNK = 1 << 20
DRIVER_LIB = re.compile(r"^lib(cuda|nvidia-ml|nvidia-ptxjitcompiler)\.so(\.\d+)*$")
CUDART = re.compile(r"^libcudart\.so(?:\.(\d+(?:\.\d+)*))?$")
LIBC = re.compile(r"^(?:libc\.so\.6|libc-(\d+\.\d+)\.so)$")
MUSL = re.compile(r"^ld-musl-\w+\.so\.1$")
TEXT_FILES = re.compile(r"^(usr/local/cuda[^/]*/version\.(json|txt)|(.*/)?torch/version\.py)$")
WHEEL = re.compile(r"(?:^|/)nvidia_cuda_runtime(?:_cu\d+)?-(\d+(?:\.\d+)+)\.dist-info(?:/|$)")
GLIBC_TEXT = re.compile(rb"GNU C Library [^\n]{0,160}? version (\d+\.\d+)")


@dataclass(frozen=True)
class Item:
    """A file gpudock looks for by name: a driver library, the CUDA runtime, the C library, a version file."""

    kind: str  # "driver-lib", "cudart", "libc", "musl", "text", "wheel"
    detail: str = ""  # a version, or the text of a small file
    link: str = ""  # a symbolic link's target


@dataclass
class LayerFacts:
    nondirs: set[str] = field(default_factory=set)  # every path that is not a folder
    whiteouts: set[str] = field(default_factory=set)
    opaque: set[str] = field(default_factory=set)
    kernels: dict[str, FileKernels] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    files: int = 0


def normalise(name: str, budget: Budget, where: str) -> str:
    """A member name as a path from the image's root ('./usr/lib/x' -> 'usr/lib/x'); refuses escapes."""
    limits = budget.limits
    if len(name.encode("utf-8", "surrogateescape")) > limits.max_path:
        raise ImageUnreadable(where, f"refused: a path longer than {limits.max_path} bytes")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ImageUnreadable(where, f"refused: the path {name[:120]!r} climbs out of the image's root")
    if len(parts) > limits.max_depth:
        raise ImageUnreadable(where, f"refused: a path nested deeper than {limits.max_depth} folders")
    return "/".join(parts)


def scan_layer(source: tarstream.Reader, budget: Budget, where: str) -> LayerFacts:
    """The facts of one layer whose (possibly compressed) tar bytes ``source`` gives."""
    facts = LayerFacts()
    data = tarstream.decompressing(source, budget, where)
    for member, content in tarstream.members(data, budget, where):
        path = normalise(member.name, budget, where)
        if not path:
            continue
        folder, base = posixpath.split(path)
        if base.startswith(".wh."):
            if base == ".wh..wh..opq":
                facts.opaque.add(folder)
            else:
                facts.whiteouts.add(posixpath.join(folder, base[4:]))
            continue
        wheel = WHEEL.search(path + "/")
        if wheel and path.endswith(".dist-info"):
            facts.items[path] = Item("wheel", wheel[1])
        if member.type == "dir":
            continue
        facts.nondirs.add(path)
        if member.type == "hardlink":
            _hardlink(facts, path, normalise(member.linkname, budget, where))
        elif member.type == "symlink":
            item = _named(base, "")
            if item:
                facts.items[path] = Item(item.kind, item.detail, member.linkname[: budget.limits.max_path])
        elif member.type == "file":
            facts.files += 1
            _file(facts, path, base, member.size, content, budget)
    return facts


def _hardlink(facts: LayerFacts, path: str, target: str) -> None:
    if target in facts.kernels:
        facts.kernels[path] = facts.kernels[target]
    if target in facts.items:
        facts.items[path] = facts.items[target]


def _named(base: str, text: str) -> Item | None:
    if DRIVER_LIB.match(base):
        return Item("driver-lib")
    cudart = CUDART.match(base)
    if cudart:
        return Item("cudart", cudart[1] or "")
    libc = LIBC.match(base)
    if libc:
        return Item("libc", libc[1] or text)
    if MUSL.match(base):
        return Item("musl")
    return None


def _file(facts: LayerFacts, path: str, base: str, size: int, content: tarstream.Reader, budget: Budget) -> None:
    limits = budget.limits
    if TEXT_FILES.match(path) and size <= limits.max_small_file:
        facts.items[path] = Item("text", content.read(size).decode("utf-8", "replace"))
        return
    if LIBC.match(base) and size <= limits.max_libc:
        found = GLIBC_TEXT.search(content.read(size))
        facts.items[path] = Item("libc", found[1].decode() if found else "")
        return
    item = _named(base, "")
    if item:
        facts.items[path] = item
    if size < 64:
        return
    scanner = ElfScanner()
    while True:
        chunk = content.read(CHUNK)
        if not chunk:
            break
        scanner.feed(chunk)
        if scanner.not_elf:
            break  # the rest is skipped by the tar reader
    found = scanner.finish()
    if found:
        facts.kernels[path] = found
