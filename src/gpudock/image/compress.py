"""Decompressing fat-binary payloads, pure Python: LZ4 blocks always, Zstandard frames where a decoder exists.

Only a bounded prefix is ever produced (``limit``): gpudock reads the first lines of a PTX text (its
``.version`` and ``.target``), never whole kernels, so a payload that claims gigabytes costs nothing.
LZ4's block format: https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md
"""

from __future__ import annotations


class CorruptPayload(ValueError):
    """A compressed payload that does not decode."""


def _length(data: bytes, pos: int, length: int, more: int) -> tuple[int, int]:
    """A length that continues in following bytes (each 255 says another follows) when it starts at ``more``."""
    if length == more:
        while pos < len(data):
            length += data[pos]
            pos += 1
            if data[pos - 1] != 255:
                break
    return length, pos


def lz4_block(data: bytes, limit: int) -> bytes:
    """Decode an LZ4 block until ``limit`` bytes are out or the input ends (a cut input stops early)."""
    out = bytearray()
    pos, end = 0, len(data)
    while pos < end and len(out) < limit:
        token = data[pos]
        pos += 1
        literals, pos = _length(data, pos, token >> 4, 15)
        out += data[pos : pos + literals]
        pos += literals
        if pos + 2 > end:
            break  # the last sequence has literals only
        back = data[pos] | data[pos + 1] << 8
        pos += 2
        length, pos = _length(data, pos, (token & 15) + 4, 19)
        if back == 0 or back > len(out):
            raise CorruptPayload(f"LZ4 match reaches {back} bytes back, before the start of the output")
        start = len(out) - back
        for i in range(min(length, limit + back)):  # byte by byte: a match may overlap what it writes
            out.append(out[start + i])
    return bytes(out[:limit])


def zstd_frame(data: bytes, limit: int) -> bytes | None:
    """The first ``limit`` bytes of a Zstandard frame, or None where no decoder is installed here."""
    try:
        from compression import zstd  # Python 3.14

        decoder = zstd.ZstdDecompressor()
        return decoder.decompress(data, max_length=limit)
    except ImportError:
        pass
    try:
        import zstandard
    except ImportError:
        return None
    try:
        reader = zstandard.ZstdDecompressor().decompressobj()
        return reader.decompress(data)[:limit]
    except zstandard.ZstdError as err:
        raise CorruptPayload(f"Zstandard: {err}") from None


def prefix(data: bytes, compression: str, limit: int) -> bytes | None:
    """The first ``limit`` bytes of a payload stored with ``compression`` ('', 'lz4', 'zstd')."""
    if compression == "lz4":
        return lz4_block(data, limit)
    if compression == "zstd":
        return zstd_frame(data, limit)
    return data[:limit]
