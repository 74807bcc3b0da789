"""Japanese text in a PDF deck: a CJK font before rendering, and no missing glyph in what was rendered.

Chromium draws text it has no font for with glyph 0 (``.notdef``, the "tofu" box) and still exits 0, so a
deck rendered where no CJK font is installed (a stock WSL Ubuntu has DejaVu only) shows a box for every
Japanese character. Two checks:

- ``require_cjk_font``: fontconfig knows a font for Japanese (``fc-list :lang=ja``), else exit 3 naming Debian's
  and Ubuntu's package ``fonts-noto-cjk`` (https://packages.debian.org/bookworm/fonts-noto-cjk).
- ``missing_glyphs``: the text-showing operators of the PDF's content streams draw glyph 0 nowhere. Chromium
  (Skia) writes text as 2-byte glyph ids in hex strings (``<0012003A> Tj``); a ``0000`` among them is a box.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib

from .exceptions import MissingTool

CJK_PACKAGE = "fonts-noto-cjk"
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_TEXT_OBJECT = re.compile(rb"\bBT\b(.*?)\bET\b", re.S)
_HEX = re.compile(rb"(?<!<)<([0-9A-Fa-f\s]*)>(?!>)")
MAX_STREAM = 64 * 1024 * 1024  # a decompressed content stream larger than this is not a deck page


def cjk_fonts() -> list[str]:
    """Font families fontconfig offers for Japanese ([] where fc-list is missing or knows none)."""
    if not shutil.which("fc-list"):
        return []
    try:
        proc = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted({line.split(",")[0].strip() for line in proc.stdout.splitlines() if line.strip()})


def require_cjk_font() -> str:
    """The first Japanese font fontconfig has; exit 3 naming the package when there is none."""
    fonts = cjk_fonts()
    if not fonts:
        raise MissingTool(
            "no Japanese (CJK) font: the PDF would show a box for every Japanese character",
            f"sudo apt-get install {CJK_PACKAGE} (Debian, Ubuntu, WSL), then run this again",
        )
    return fonts[0]


def _inflate(data: bytes) -> bytes:
    try:
        unpack = zlib.decompressobj()
        out = unpack.decompress(data, MAX_STREAM)
    except zlib.error:
        return b""  # an image or font stream in another filter: not text
    return out


def missing_glyphs(pdf: bytes) -> int:
    """How many glyphs the PDF draws as glyph 0 (.notdef, a box) in its text objects."""
    missing = 0
    for match in _STREAM.finditer(pdf):
        content = _inflate(match.group(1))
        if b"BT" not in content:
            continue
        for text in _TEXT_OBJECT.finditer(content):
            for hexstr in _HEX.findall(text.group(1)):
                digits = re.sub(rb"\s", b"", hexstr)
                if len(digits) % 4 == 0:
                    missing += sum(digits[i : i + 4] == b"0000" for i in range(0, len(digits), 4))
    return missing


def check_pdf(pdf: bytes, font: str = "") -> None:
    """Exit 3 when the PDF shows missing glyphs (a font without the deck's characters was used)."""
    count = missing_glyphs(pdf)
    if count:
        used = f" ({font} was found, but Chromium did not use it)" if font else ""
        raise MissingTool(
            f"the PDF shows {count} missing glyph(s) as boxes{used}",
            f"sudo apt-get install {CJK_PACKAGE}, then run this again",
        )
