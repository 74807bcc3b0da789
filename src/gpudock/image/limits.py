"""How much of an image gpudock reads, and the errors for an image it refuses.

Every reader counts against one Budget: bytes read (after decompression, so a gzip bomb stops too),
tar members, path depth and length, JSON documents held in memory. The defaults fit the largest CUDA
images in common use (PyTorch's devel images hold about 20 GB in about 100,000 files) with room to spare.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import UsageError

GIB = 1 << 30


class ImageUnreadable(UsageError):
    """An image gpudock cannot read or will not read (exit 2); the message says which and what to do."""

    def __init__(self, where: str, problem: str):
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}")


class ImageTooLarge(ImageUnreadable):
    pass


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 64 * GIB  # bytes read, decompressed, over the whole image
    max_members: int = 2_000_000  # tar members over all layers
    max_layers: int = 512
    max_depth: int = 128  # path components
    max_path: int = 4096  # bytes of one path
    max_header: int = 1 << 20  # one pax or GNU long-name header
    max_json: int = 8 << 20  # one manifest, index or config document
    max_json_total: int = 64 << 20  # all JSON documents held at once
    max_small_file: int = 64 << 10  # version files read into memory
    max_libc: int = 32 << 20  # libc.so.6 is read whole for its version string


def parse_size(text: str) -> int:
    """'64G', '500M', '1024' -> bytes (for --max-size)."""
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": GIB, "T": 1 << 40}
    raw = text.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = raw.rstrip("KMGT"), raw[len(raw.rstrip("KMGT")) :]
    if not number.replace(".", "", 1).isdigit() or unit not in units or float(number) <= 0:
        raise UsageError(f"--max-size takes a size such as 64G or 500M, not {text!r}")
    return int(float(number) * units[unit])


class Budget:
    """What is left of the Limits while one image is read; raises ImageTooLarge when a limit is passed."""

    def __init__(self, where: str, limits: Limits | None = None):
        self.where, self.limits = where, limits or Limits()
        self.bytes = 0
        self.archive_bytes = 0
        self.members = 0
        self.json_bytes = 0

    def spend_bytes(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.limits.max_bytes:
            raise ImageTooLarge(
                self.where,
                f"refused after reading {self.limits.max_bytes / GIB:g} GiB of layers (--max-size raises the limit)",
            )

    def spend_archive(self, n: int) -> None:
        """Bytes of the archive itself (a `docker save` stream, a tarball): skipped junk costs time too."""
        self.archive_bytes += n
        if self.archive_bytes > self.limits.max_bytes:
            raise ImageTooLarge(
                self.where,
                f"refused after {self.limits.max_bytes / GIB:g} GiB of archive (--max-size raises the limit)",
            )

    def spend_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise ImageTooLarge(self.where, f"refused: more than {self.limits.max_members:,} files in its layers")

    def spend_json(self, n: int) -> None:
        self.json_bytes += n
        if self.json_bytes > self.limits.max_json_total:
            raise ImageTooLarge(self.where, "refused: its metadata documents hold more than 64 MiB")
