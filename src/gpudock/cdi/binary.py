"""Two binary formats the spec generator reads, in pure Python and bounded: an ELF library's SONAME and
glibc's ``/etc/ld.so.cache``.

SONAME: the name the dynamic loader looks a library up by (``libcuda.so.580.95.05`` says ``libcuda.so.1``),
read from the ELF dynamic section through the program headers, as the loader itself finds it. Only 64-bit
little-endian objects (x86-64, aarch64) are read; anything else is None, never an exception.

ld.so.cache: the "new" format (``glibc-ld.so.cache1.1``, glibc's ``elf/cache.c``): a header, then 24-byte
entries (flags, key, value, osversion, hwcap) whose key and value are offsets of NUL-terminated strings
counted from the start of that header. Older caches put the ``ld.so-1.7.0`` table first; the new table
follows it and is the one read.
"""

from __future__ import annotations

import os
import stat
import struct

MAX_CACHE_BYTES = 8 * 1024 * 1024  # a desktop's cache is ~100 kB
MAX_DYNAMIC = 2048  # dynamic-section entries read
EM_X86_64, EM_AARCH64 = 62, 183
MACHINES = {"x86_64": EM_X86_64, "aarch64": EM_AARCH64, "arm64": EM_AARCH64}
_NEW_MAGIC = b"glibc-ld.so.cache1.1"


def _read_at(handle, offset: int, size: int) -> bytes:
    handle.seek(offset)
    return handle.read(size)


def elf_info(path: str) -> tuple[int, str | None] | None:
    """(e_machine, SONAME or None) of a 64-bit little-endian ELF file; None for anything else."""
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            return _elf(handle)
    except (OSError, struct.error, ValueError):
        return None


def _elf(handle) -> tuple[int, str | None] | None:
    header = _read_at(handle, 0, 64)
    if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
        return None
    machine = struct.unpack_from("<H", header, 18)[0]
    phoff = struct.unpack_from("<Q", header, 32)[0]
    phentsize, phnum = struct.unpack_from("<HH", header, 54)
    if phentsize < 56 or phnum > 256:
        return machine, None
    table = _read_at(handle, phoff, phentsize * phnum)
    loads, dynamic = [], None
    for number in range(len(table) // phentsize):
        p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from("<IIQQQQ", table, number * phentsize)
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 2:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return machine, None
    raw = _read_at(handle, dynamic[0], min(dynamic[1], MAX_DYNAMIC * 16))
    strtab = soname = None
    for number in range(len(raw) // 16):
        tag, value = struct.unpack_from("<qQ", raw, number * 16)
        if tag == 0:
            break
        if tag == 5:
            strtab = value
        elif tag == 14:
            soname = value
    if strtab is None or soname is None:
        return machine, None
    for vaddr, offset, size in loads:  # DT_STRTAB is an address: map it to the file through its PT_LOAD
        if vaddr <= strtab < vaddr + size:
            name = _read_at(handle, strtab - vaddr + offset + soname, 256).split(b"\0", 1)[0]
            return machine, name.decode("ascii", errors="replace") or None
    return machine, None


def ld_cache(path: str) -> list[tuple[str, str]]:
    """(library name, path) pairs of an ld.so.cache file, in the cache's order; [] when absent or unreadable."""
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return []
            data = handle.read(MAX_CACHE_BYTES + 1)
    except OSError:
        return []
    if len(data) > MAX_CACHE_BYTES:
        return []
    start = data.find(_NEW_MAGIC)
    if start < 0:
        return []
    try:
        count = struct.unpack_from("<I", data, start + 20)[0]
    except struct.error:
        return []
    entries_at = start + 48
    if count > (len(data) - entries_at) // 24:
        return []
    found = []
    for number in range(count):
        _flags, key, value = struct.unpack_from("<iII", data, entries_at + number * 24)
        name, where = _string(data, start + key), _string(data, start + value)
        if name and where:
            found.append((name, where))
    return found


def _string(data: bytes, offset: int) -> str | None:
    if not 0 <= offset < len(data):
        return None
    end = data.find(b"\0", offset, offset + 4096)
    if end < 0:
        return None
    return data[offset:end].decode("utf-8", errors="replace")
