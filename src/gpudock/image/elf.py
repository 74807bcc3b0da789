"""The little of ELF that gpudock reads: the file header and the section table (pure, from bytes).

https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html (header) and ch4.sheader.html (sections).
Only little-endian files are read: x86-64 and arm64 Linux, the platforms CUDA containers run on.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = b"\x7fELF"
ET_REL, ET_EXEC, ET_DYN = 1, 2, 3
SHT_NOBITS = 8
MAX_SECTIONS = 65535
MACHINES = {3: "x86", 62: "x86_64", 183: "arm64", 190: "cuda"}


class ElfError(ValueError):
    """Not a readable little-endian ELF file."""


@dataclass(frozen=True)
class Header:
    bits: int  # 32 or 64
    type: int  # ET_REL, ET_EXEC, ET_DYN
    machine: int
    shoff: int  # where the section table starts
    shentsize: int
    shnum: int
    shstrndx: int

    @property
    def table_size(self) -> int:
        return self.shentsize * self.shnum

    @property
    def kind(self) -> str:
        return {ET_REL: "object", ET_EXEC: "executable", ET_DYN: "shared"}.get(self.type, "other")


@dataclass(frozen=True)
class Section:
    name_at: int  # offset of its name in the section-name table
    type: int
    offset: int
    size: int
    name: str = ""


def header(data: bytes) -> Header:
    """The ELF header at the start of ``data`` (at least 64 bytes)."""
    if len(data) < 52 or data[:4] != MAGIC:
        raise ElfError("not an ELF file")
    if data[5] != 1:
        raise ElfError("a big-endian ELF file")
    if data[4] == 2:
        if len(data) < 64:
            raise ElfError("ELF header cut short")
        etype, machine = struct.unpack_from("<HH", data, 16)
        shoff = struct.unpack_from("<Q", data, 40)[0]
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 58)
        bits = 64
    elif data[4] == 1:
        etype, machine = struct.unpack_from("<HH", data, 16)
        shoff = struct.unpack_from("<I", data, 32)[0]
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 46)
        bits = 32
    else:
        raise ElfError("unknown ELF class")
    return Header(bits, etype, machine, shoff, shentsize, shnum, shstrndx)


def sections(head: Header, table: bytes) -> list[Section]:
    """The section headers in ``table`` (the bytes at ``head.shoff``), names not yet filled in."""
    found = []
    fmt = "<IIQQQQ" if head.bits == 64 else "<IIIIII"  # name, type, flags, addr, offset, size
    if head.shentsize < struct.calcsize(fmt):
        raise ElfError("section headers too small")
    for i in range(min(head.shnum, MAX_SECTIONS)):
        at = i * head.shentsize
        if at + head.shentsize > len(table):
            break
        name_at, stype, _flags, _addr, offset, size = struct.unpack_from(fmt, table, at)
        found.append(Section(name_at, stype, offset, size))
    return found


def name_sections(found: list[Section], names: bytes) -> list[Section]:
    """Fill in each section's name from the section-name table's bytes."""
    named = []
    for section in found:
        end = names.find(b"\0", section.name_at)
        text = names[section.name_at : end].decode("ascii", "replace") if 0 <= section.name_at < len(names) else ""
        named.append(Section(section.name_at, section.type, section.offset, section.size, text if end >= 0 else ""))
    return named
