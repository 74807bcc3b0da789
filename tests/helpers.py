"""What the tests share: the repository's folders and the recorded cases."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CASES = DATA / "cases"
SNAPSHOTS = DATA / "snapshots"
REAL = DATA / "real"


def load_case(name: str) -> dict:
    """A recorded case file (``tests/data/cases/NAME``): description, source, expect, snapshot."""
    return json.loads((CASES / name).read_text(encoding="utf-8"))
