"""NVIDIA fat binaries: the container header and its entries, parsed from bytes (pure, no I/O).

A fat binary is what nvcc puts in a host ELF's ``.nv_fatbin`` section (and, for relocatable device code,
``__nv_relfatbin``; the section names are in CUDA's ``fatbinary_section.h``): a 16-byte header (magic
0xBA55ED50, version 1, header size 16, size of what follows) and entries back to back. Each entry has a
header (kind: 1 PTX, 2 ELF cubin, 8 LTO-IR; its own size; the padded payload size; the compressed size;
the version, which for PTX is the PTX ISA version; the SM number; flags) followed by its payload. The
layout was learned from public readers (n-eiling/cuda-fatbin-decompression, jiegec/fatbinary) and checked
against NVIDIA's ``cuobjdump --list-elf --list-ptx`` on fixtures made with NVRTC and nvFatbin
(tests/data/cuda). Flags seen there: 0x2000 LZ4-compressed, 0x8000 Zstandard-compressed, 0x100000 the
arch-specific ``a`` target (sm_90a), 0x200000 the family ``f`` target (sm_100f).
"""

from __future__ import annotations

import struct
from dataclasses import asdict, dataclass

MAGIC = b"\x50\xed\x55\xba\x01\x00\x10\x00"  # 0xBA55ED50, version 1, header size 16 (little-endian)
HEADER = struct.Struct("<IHHQ")
ENTRY = struct.Struct("<HHIQIIHHIIIQQQ")  # 64 bytes
KINDS = {1: "ptx", 2: "sass", 8: "lto-ir"}
FLAG_LZ4, FLAG_ZSTD = 0x2000, 0x8000
FLAG_ARCH_SPECIFIC, FLAG_FAMILY = 0x100000, 0x200000
MAX_ENTRY_HEADER = 4096


class FatbinError(ValueError):
    """Bytes that are not a well-formed fat binary at this place."""


@dataclass(frozen=True)
class Entry:
    """One entry of a fat binary: what code it holds and for which architecture."""

    kind: str  # "ptx", "sass", "lto-ir" or "kind-N"
    sm: int  # 90 for sm_90 / compute_90
    suffix: str  # "", "a" or "f"
    version: tuple[int, int]  # PTX ISA version for PTX, the cubin ABI version for SASS
    compression: str  # "", "lz4" or "zstd"
    stored_size: int  # payload bytes in the file (compressed where compressed)
    size: int  # payload bytes once decompressed
    offset: int  # of the entry header, from the start of the file
    header_size: int

    @property
    def arch(self) -> str:
        """The name cuobjdump and nvcc use: sm_90, sm_90a for SASS; compute_90 for PTX."""
        prefix = "compute" if self.kind == "ptx" else "sm"
        return f"{prefix}_{self.sm}{self.suffix}"

    @property
    def cc(self) -> tuple[int, int]:
        """The compute capability it was built for: sm_120 -> (12, 0)."""
        return divmod(self.sm, 10)

    @property
    def payload_offset(self) -> int:
        return self.offset + self.header_size

    def as_dict(self) -> dict:
        data = asdict(self)
        data["arch"] = self.arch
        data["version"] = f"{self.version[0]}.{self.version[1]}"
        return data


def parse_header(data: bytes) -> int:
    """The size of what follows a container header (16 bytes) that starts ``data``."""
    if len(data) < HEADER.size or data[:8] != MAGIC:
        raise FatbinError("no fat binary header here")
    _magic, _version, _header_size, size = HEADER.unpack_from(data)
    if size < ENTRY.size:
        raise FatbinError(f"a fat binary of {size} bytes cannot hold an entry")
    return size


def parse_entry(data: bytes, offset: int, room: int) -> tuple[Entry, int]:
    """The entry whose 64-byte header starts ``data`` (found at ``offset`` in the file) and the offset of
    the next one. ``room`` is how many bytes are left in the container from ``offset``."""
    if len(data) < ENTRY.size:
        raise FatbinError("entry header cut short")
    (kind, _unknown, header_size, padded, stored, _options, minor, major, sm, _name_at, _name_len, flags, _zero,
     size) = ENTRY.unpack_from(data)  # fmt: skip
    if not ENTRY.size <= header_size <= MAX_ENTRY_HEADER or header_size + padded > room:
        raise FatbinError(f"entry at {offset}: sizes {header_size}+{padded} do not fit its container")
    if not 10 <= sm <= 999:
        raise FatbinError(f"entry at {offset}: SM number {sm} is not one")
    compression = "zstd" if flags & FLAG_ZSTD else "lz4" if flags & FLAG_LZ4 else ""
    suffix = "a" if flags & FLAG_ARCH_SPECIFIC else "f" if flags & FLAG_FAMILY else ""
    entry = Entry(
        kind=KINDS.get(kind, f"kind-{kind}"),
        sm=sm,
        suffix=suffix,
        version=(major, minor),
        compression=compression,
        stored_size=(stored or padded) if compression else padded,
        size=size if compression and size else padded,
        offset=offset,
        header_size=header_size,
    )
    return entry, offset + header_size + padded


def parse(data: bytes, base: int = 0) -> list[Entry]:
    """Every entry of the containers that follow one another from the start of ``data`` (a whole
    ``.nv_fatbin`` section, say); ``base`` is where ``data`` starts in its file."""
    entries: list[Entry] = []
    at = 0
    while at + HEADER.size <= len(data) and data[at : at + 8] == MAGIC:
        end = at + HEADER.size + parse_header(data[at:])
        if end > len(data):
            raise FatbinError(f"container at {base + at} runs past the data")
        pos = at + HEADER.size
        while pos < end:
            entry, pos = parse_entry(data[pos : pos + ENTRY.size], base + pos, end - pos)
            pos -= base
            entries.append(entry)
        at = (end + 7) // 8 * 8  # the next container starts 8-aligned
    return entries
