"""The Marp deck as a PDF: marp-cli with Debian's chromium, in a private folder, reading no local file.

marp-cli reads local files while it renders only with ``--allow-local-files`` ("not secure", its own
help says): gpudock never passes it. The figures travel inside the deck's text as data: URIs instead,
so nothing a run holds (a tampered snapshot's text included) can make the renderer read a file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import slideplan
from .exceptions import MissingTool


def find_marp() -> Path:
    for candidate in (
        Path("node_modules/.bin/marp"),
        Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "marp",
    ):
        if candidate.is_file() and shutil.which("node"):
            return candidate
        if candidate.is_file() and not shutil.which("node"):
            raise MissingTool("node not found (marp-cli runs on Node.js)", "apt-get install nodejs")
    found = shutil.which("marp")
    if found:
        return Path(found)
    raise MissingTool("marp-cli not found", "run `npm ci` in the gpudock checkout (package.json lists it)")


def find_chromium() -> Path:
    for name in (os.environ.get("CHROME_PATH", ""), "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) if name else None
        if found:
            return Path(found)
    raise MissingTool("no Chromium for the PDF", "apt-get install chromium (or set CHROME_PATH)")


def inline_figures(deck_text: str, slides: list[slideplan.Slide], files: str = "deck_files") -> str:
    """The Marp deck with each figure as a data: URI, for rendering without any access to local files."""
    import base64

    for block in (b for s in slides for b in s.blocks if b.kind == "image"):
        uri = f"data:{block.mime};base64,{base64.b64encode(block.data).decode('ascii')}"
        deck_text = deck_text.replace(f"]({files}/{block.image_name})", f"]({uri})")
    return deck_text


def marp_pdf(deck_text: str) -> bytes:
    """The PDF of a Marp deck's text, rendered by marp-cli with Debian's chromium in a private folder.

    Without ``--allow-local-files``: the deck is rendered from text whose figures are data: URIs, so
    nothing in a run (a tampered snapshot's text included) can make the renderer read a local file."""
    marp, chromium = find_marp(), find_chromium()
    with tempfile.TemporaryDirectory(prefix="gpudock-pdf-") as private:
        (Path(private) / "deck.md").write_text(deck_text, encoding="utf-8")
        proc = subprocess.run(
            [str(marp.resolve()), "--no-stdin", "--pdf", "deck.md", "-o", "deck.pdf"],
            cwd=private,
            env={**os.environ, "CHROME_PATH": str(chromium)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        target = Path(private) / "deck.pdf"
        if proc.returncode != 0 or not target.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise MissingTool(f"marp-cli could not render the PDF ({last})", "check that chromium starts headless here")
        return target.read_bytes()
