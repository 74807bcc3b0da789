"""Decompressing fat-binary payloads, pure Python: LZ4 blocks always, Zstandard frames where a decoder exists.

Only a bounded prefix is ever produced (``limit``): gpudock reads the first lines of a PTX text (its
``.version`` and ``.target``), never whole kernels, so a payload that claims gigabytes costs nothing.
LZ4's block format: https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md
"""

from __future__ import annotations


class CorruptPayload(ValueError):
    """A compressed payload that does not decode."""


def lz4_block(data: bytes, limit: int) -> bytes:
    """Decode an LZ4 block until ``limit`` bytes are out or the input ends (a cut input stops early)."""
    out = bytearray()
    pos, end = 0, len(data)
    while pos < end and len(out) < limit:
        token = data[pos]
        pos += 1
        literals = token >> 4
        if literals == 15:
            while pos < end:
                literals += data[pos]
                pos += 1
                if data[pos - 1] != 255:
                    break
        out += data[pos : pos + literals]
        pos += literals
        if pos + 2 > end:
            break  # the last sequence has literals only
        back = data[pos] | data[pos + 1] << 8
        pos += 2
        length = (token & 15) + 4
        if length == 19:
            while pos < end:
                length += data[pos]
                pos += 1
                if data[pos - 1] != 255:
                    break
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
