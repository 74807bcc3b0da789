"""A bounded, streaming tar reader: members one after another, their data read in chunks, nothing written.

Python's tarfile reads a pax or GNU long-name header whole into memory whatever size it claims; this
reader caps each header (Limits.max_header), checks every header's checksum, and counts every byte and
member against the Budget. Formats: ustar, GNU (long names, base-256 sizes) and pax (path, linkpath,
size). https://www.gnu.org/software/tar/manual/html_node/Standard.html ; POSIX pax: IEEE 1003.1 "pax".
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .limits import Budget, ImageUnreadable

BLOCK = 512
CHUNK = 1 << 20
TYPES = {b"0": "file", b"\0": "file", b"7": "file", b"1": "hardlink", b"2": "symlink", b"5": "dir"}


class Reader:
    """``read(n)`` over a file object or an iterator of chunks, with bytes pushed back for a peek."""

    def __init__(self, read: Callable[[int], bytes], spend: Callable[[int], None] | None = None):
        self._read, self._spend = read, spend
        self._pending = b""

    @classmethod
    def of_chunks(cls, chunks: Iterable[bytes], spend: Callable[[int], None] | None = None) -> Reader:
        it = iter(chunks)
        left = bytearray()

        def read(n: int) -> bytes:
            while len(left) < n:
                chunk = next(it, None)
                if chunk is None:
                    break
                left.extend(chunk)
            out = bytes(left[:n])
            del left[:n]
            return out

        return cls(read, spend)

    def read(self, n: int) -> bytes:
        if self._pending:
            out, self._pending = self._pending[:n], self._pending[n:]
            if len(out) == n:
                return out
            return out + self.read(n - len(out))
        data = self._read(n)
        if self._spend is not None:
            self._spend(len(data))
        return data

    def unread(self, data: bytes) -> None:
        self._pending = data + self._pending

    def exactly(self, n: int, what: str) -> bytes:
        out = bytearray()
        while len(out) < n:
            part = self.read(min(n - len(out), CHUNK))
            if not part:
                raise ImageUnreadable(what, "the archive ends in the middle of a member")
            out += part
        return bytes(out)


def decompressing(source: Reader, budget: Budget, where: str) -> Reader:
    """A Reader of ``source`` decompressed: gzip and plain tar here, Zstandard where a decoder is installed."""
    head = source.read(4)
    source.unread(head)
    if head[:2] == b"\x1f\x8b":
        return _gzip(source, budget)
    if head == b"\x28\xb5\x2f\xfd":
        try:
            import zstandard
        except ImportError:
            raise ImageUnreadable(
                where, "a zstd-compressed layer; install the `zstandard` package, or `docker save` the image"
            ) from None
        stream = zstandard.ZstdDecompressor().stream_reader(_FileLike(source), read_across_frames=True)
        return Reader(stream.read, budget.spend_bytes)
    return Reader(source.read, budget.spend_bytes)


class _FileLike:
    def __init__(self, reader: Reader):
        self.read = reader.read


def _gzip(source: Reader, budget: Budget) -> Reader:
    state = {"z": zlib.decompressobj(47), "rest": b""}

    def read(n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            z = state["z"]
            data = z.unconsumed_tail or state["rest"] or source.read(CHUNK)
            state["rest"] = b""
            if not data:
                break
            try:
                out += z.decompress(data, n - len(out))
            except zlib.error as err:
                raise ImageUnreadable("layer", f"gzip data is corrupt ({err})") from None
            if z.eof:  # concatenated gzip members
                state["rest"] = z.unused_data
                state["z"] = zlib.decompressobj(47)
        return bytes(out)

    return Reader(read, budget.spend_bytes)


@dataclass
class Member:
    name: str  # as stored: not yet normalised
    type: str  # "file", "dir", "symlink", "hardlink", "other"
    size: int
    linkname: str = ""


def _number(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256
        value = int.from_bytes(field, "big") & ~(0x80 << (8 * (len(field) - 1)))
        return value
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _checksum_ok(block: bytes) -> bool:
    stored = block[148:156]
    try:
        expected = _number(stored)
    except ValueError:
        return False
    return sum(block[:148]) + 32 * 8 + sum(block[156:]) == expected


def looks_like_tar(head: bytes) -> bool:
    """A first block that is a tar header (checksum right)."""
    return len(head) >= BLOCK and _checksum_ok(head[:BLOCK])


def members(source: Reader, budget: Budget, where: str) -> Iterator[tuple[Member, Reader]]:
    """Each member and a Reader of exactly its data; data not read is skipped before the next member."""
    long_name = long_link = None
    pax: dict[str, str] = {}
    while True:
        block = source.read(BLOCK)
        if len(block) < BLOCK or block == bytes(BLOCK):
            return  # end of archive (two zero blocks, or a cut archive: what was read stands)
        if not _checksum_ok(block):
            raise ImageUnreadable(where, "not a tar archive, or a corrupt one (a header's checksum is wrong)")
        kind = block[156:157]
        try:
            size = _number(block[124:136])
        except ValueError:
            raise ImageUnreadable(where, "a tar header with a size that is not a number") from None
        padded = (size + BLOCK - 1) // BLOCK * BLOCK
        if kind in (b"L", b"K", b"x", b"g"):
            if size > budget.limits.max_header:
                raise ImageUnreadable(where, f"refused: a tar header of {size:,} bytes (at most 1 MiB)")
            data = source.exactly(padded, where)[:size]
            if kind == b"L":
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif kind == b"K":
                long_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif kind == b"x":
                pax = _pax(data, where)
            continue
        budget.spend_member()
        name = _name(block, long_name, pax)
        linkname = long_link or pax.get("linkpath") or block[157:257].split(b"\0", 1)[0].decode("utf-8", "replace")
        if "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError:
                raise ImageUnreadable(where, "a pax size that is not a number") from None
            padded = (size + BLOCK - 1) // BLOCK * BLOCK
        member = Member(name, TYPES.get(kind, "other"), size if kind not in (b"1", b"2", b"5") else 0, linkname)
        if kind in (b"1", b"2", b"5"):
            padded = 0
        long_name = long_link = None
        pax = {}
        data = _Bounded(source, member.size)
        yield member, Reader(data.read)
        data.skip()
        rest = padded - member.size
        if rest > 0:
            source.exactly(rest, where)


def _name(block: bytes, long_name: str | None, pax: dict[str, str]) -> str:
    if long_name is not None:
        return long_name
    if "path" in pax:
        return pax["path"]
    name = block[0:100].split(b"\0", 1)[0]
    if block[257:262] == b"ustar":
        prefix = block[345:500].split(b"\0", 1)[0]
        if prefix:
            name = prefix + b"/" + name
    return name.decode("utf-8", "surrogateescape")


def _pax(data: bytes, where: str) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ImageUnreadable(where, "a malformed pax header") from None
        if length <= 0:
            raise ImageUnreadable(where, "a malformed pax header")
        record = data[space + 1 : pos + length].rstrip(b"\n")
        key, _, value = record.partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


class _Bounded:
    """Exactly ``size`` bytes of a member's data."""

    def __init__(self, source: Reader, size: int):
        self.source, self.left = source, size

    def read(self, n: int) -> bytes:
        if self.left <= 0:
            return b""
        data = self.source.read(min(n, self.left))
        if not data:
            raise ImageUnreadable("archive", "it ends in the middle of a member")
        self.left -= len(data)
        return data

    def skip(self) -> None:
        while self.left > 0:
            self.read(CHUNK)
