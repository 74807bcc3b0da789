"""What CUDA code one file holds, read as a stream: the file's bytes go in once, in order, in any chunks.

Nothing is held but a small window: the ELF header, the section table, the bytes just before it (where
linkers put the section names), and each fat-binary header as it passes. Containers are found by their
magic at 8-byte-aligned offsets (nvcc emits them as arrays of 64-bit words), their entries are walked
header by header, and at the end only containers inside a ``.nv_fatbin`` or ``__nv_relfatbin`` section
are kept, so a stray magic elsewhere in the file counts for nothing. Work and memory are bounded per file.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from itertools import count

from . import compress, elf, fatbin

RUNTIME_SECTION = ".nv_fatbin"
RELOCATABLE_SECTION = "__nv_relfatbin"
NAMES_WINDOW = 256 * 1024  # bytes kept before the section table, where the section names usually are
MAX_TABLE = 4 * 1024 * 1024
PTX_HEAD = 64 * 1024  # stored bytes of a PTX payload read to find its .version and .target lines
PTX_TEXT = 4096
MAX_CONTAINERS = 100_000
MAX_ENTRIES = 400_000
_VERSION = re.compile(rb"^\s*\.version\s+(\d+)\.(\d+)", re.M)
_TARGET = re.compile(rb"^\s*\.target\s+(sm_\d+[af]?)", re.M)


@dataclass(frozen=True)
class Kernel:
    """One fat-binary entry found in a file, with the section it came from."""

    entry: fatbin.Entry
    section: str  # ".nv_fatbin", "__nv_relfatbin", or "" where the file has no section names
    ptx_target: str = ""  # the PTX text's own .target line (sm_90a), where it could be read
    ptx_version: str = ""  # the PTX text's own .version line

    def as_dict(self) -> dict:
        return {**self.entry.as_dict(), "section": self.section, "ptx_target": self.ptx_target}


@dataclass
class FileKernels:
    """The CUDA code of one ELF file."""

    elf_type: str  # "shared", "executable", "object", "other"
    machine: str
    kernels: list[Kernel] = field(default_factory=list)

    @property
    def runtime(self) -> list[Kernel]:
        """The entries the CUDA driver loads at run time: those in .nv_fatbin (cuobjdump reads only these
        where the file has them); relocatable ones are for a later device link."""
        loaded = [k for k in self.kernels if k.section in (RUNTIME_SECTION, "")]
        return loaded or [k for k in self.kernels if k.section == RELOCATABLE_SECTION and self.elf_type == "object"]

    def as_dict(self) -> dict:
        return {"elf_type": self.elf_type, "machine": self.machine, "kernels": [k.as_dict() for k in self.kernels]}


@dataclass
class _Container:
    end: int
    entries: list = field(default_factory=list)
    complete: bool = False


class ElfScanner:
    """``feed(chunk)`` the bytes of one file in order, then ``finish()``: its FileKernels, or None for a
    file that is not a little-endian ELF or holds no fat binary."""

    def __init__(self):
        self._buf = bytearray()
        self._base = 0  # file offset of _buf[0]
        self._seen = 0  # bytes fed so far
        self._wants: list[tuple[int, int, int, object]] = []  # (offset, order, length, handler)
        self._order = count()
        self._head: elf.Header | None = None
        self._not_elf = False
        self._searched = 0  # the magic search is done up to here
        self._containers: dict[int, _Container] = {}
        self._entries = 0
        self._table: bytes | None = None
        self._names: tuple[int, bytes] | None = None  # (offset, bytes) of the window before the table
        self._ptx: dict[int, tuple[str, str]] = {}

    @property
    def not_elf(self) -> bool:
        return self._not_elf

    # --- feeding -----------------------------------------------------------------------------------
    def feed(self, chunk: bytes) -> None:
        self._seen += len(chunk)
        if self._not_elf:
            return
        self._buf += chunk
        if self._head is None and not self._start():
            return
        self._search()
        self._serve()
        self._trim()

    def _start(self, final: bool = False) -> bool:
        if len(self._buf) < 64 and not final:
            return False
        try:
            self._head = elf.header(bytes(self._buf[:64]))
        except elf.ElfError:
            self._not_elf, self._buf = True, bytearray()
            return False
        head = self._head
        if 0 < head.table_size <= MAX_TABLE and head.shoff > 0:
            self._want(head.shoff, head.table_size, self._on_table)
            start = max(0, head.shoff - NAMES_WINDOW)
            self._want(start, head.shoff - start, self._on_names)
        return True

    def _want(self, offset: int, length: int, handler) -> None:
        if offset >= self._base and length >= 0:
            heapq.heappush(self._wants, (offset, next(self._order), length, handler))

    def _search(self) -> None:
        data = self._buf
        start = max(self._searched - self._base - 7, 0)
        while True:
            at = data.find(fatbin.MAGIC, start)
            if at < 0:
                break
            offset = self._base + at
            if offset % 8 == 0 and offset not in self._containers and len(self._containers) < MAX_CONTAINERS:
                self._want(offset, fatbin.HEADER.size, self._on_container)
            start = at + 1
        self._searched = self._base + len(data)

    def _serve(self) -> None:
        end = self._base + len(self._buf)
        while self._wants and self._wants[0][0] + self._wants[0][2] <= end:
            offset, _order, length, handler = heapq.heappop(self._wants)
            if offset >= self._base:
                handler(offset, bytes(self._buf[offset - self._base : offset - self._base + length]))

    def _trim(self) -> None:
        keep = self._base + max(len(self._buf) - 7, 0)
        if self._wants:
            keep = min(keep, self._wants[0][0])
        if keep > self._base:
            del self._buf[: keep - self._base]
            self._base = keep

    # --- what is found -----------------------------------------------------------------------------
    def _on_container(self, offset: int, data: bytes) -> None:
        try:
            size = fatbin.parse_header(data)
        except fatbin.FatbinError:
            return
        container = _Container(end=offset + fatbin.HEADER.size + size)
        self._containers[offset] = container
        self._want(offset + fatbin.HEADER.size, fatbin.ENTRY.size, lambda at, b: self._on_entry(container, at, b))

    def _on_entry(self, container: _Container, offset: int, data: bytes) -> None:
        if self._entries >= MAX_ENTRIES:
            return
        try:
            entry, following = fatbin.parse_entry(data, offset, container.end - offset)
        except fatbin.FatbinError:
            return
        self._entries += 1
        container.entries.append(entry)
        if entry.kind == "ptx" and entry.stored_size:
            length = min(entry.stored_size, PTX_HEAD)
            self._want(entry.payload_offset, length, lambda at, b, e=entry: self._on_ptx(e, b))
        if following < container.end:
            self._want(following, fatbin.ENTRY.size, lambda at, b: self._on_entry(container, at, b))
        container.complete = following == container.end

    def _on_ptx(self, entry: fatbin.Entry, data: bytes) -> None:
        try:
            text = compress.prefix(data, entry.compression, PTX_TEXT)
        except compress.CorruptPayload:
            return
        if text:
            version, target = _VERSION.search(text), _TARGET.search(text)
            self._ptx[entry.offset] = (
                f"{int(version[1])}.{int(version[2])}" if version else "",
                target[1].decode() if target else "",
            )

    def _on_table(self, _offset: int, data: bytes) -> None:
        self._table = data

    def _on_names(self, offset: int, data: bytes) -> None:
        self._names = (offset, data)

    # --- the result --------------------------------------------------------------------------------
    def finish(self) -> FileKernels | None:
        if self._head is None and not self._not_elf and self._buf:
            self._start(final=True)
        if self._head is None:
            return None
        kept = self._kept_containers()
        if not kept:
            return None
        found = FileKernels(self._head.kind, elf.MACHINES.get(self._head.machine, str(self._head.machine)))
        for section, container in kept:
            for entry in container.entries:
                version, target = self._ptx.get(entry.offset, ("", ""))
                found.kernels.append(Kernel(entry, section, target, version))
        return found

    def _sections(self) -> list[elf.Section]:
        if self._table is None or self._head is None:
            return []
        try:
            found = elf.sections(self._head, self._table)
        except elf.ElfError:
            return []
        if self._names and 0 <= self._head.shstrndx < len(found):
            names = found[self._head.shstrndx]
            start, window = self._names
            if start <= names.offset and names.offset + names.size <= start + len(window):
                at = names.offset - start
                return elf.name_sections(found, window[at : at + names.size])
        return found

    def _kept_containers(self) -> list[tuple[str, _Container]]:
        """Complete containers inside a fat-binary section, outermost only."""
        sections = [s for s in self._sections() if s.type != elf.SHT_NOBITS and s.size]
        named = any(s.name for s in sections)
        kept: list[tuple[str, _Container]] = []
        last_end = -1
        for offset in sorted(self._containers):
            container = self._containers[offset]
            if not container.complete or offset < last_end:
                continue
            home = next((s for s in sections if s.offset <= offset and container.end <= s.offset + s.size), None)
            if sections and home is None:
                continue
            if named and home.name not in (RUNTIME_SECTION, RELOCATABLE_SECTION):
                continue
            if sections and not named and not any(o == home.offset for o in self._containers):
                continue  # unnamed sections: only one that starts with a container holds fat binaries
            kept.append((home.name if home else "", container))
            last_end = container.end
        return kept


def scan_bytes(data: bytes, chunk: int = 1 << 20) -> FileKernels | None:
    """The CUDA code of a whole file held in memory (tests, small files)."""
    scanner = ElfScanner()
    for at in range(0, len(data), chunk):
        scanner.feed(data[at : at + chunk])
    return scanner.finish()
