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


def ensure_user(name: str) -> None:
    """A no-login system account for tests that probe as another user (root only)."""
    import pwd
    import subprocess

    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
