"""``gpudock --version``: the version, and the commit when gpudock runs from a git checkout.

Two checkouts at different commits must not look the same in a bug report. The commit is read from
the checkout's ``.git`` files (HEAD, the ref it names, packed-refs; a worktree's ``gitdir``/``commondir``
file): no ``git`` process, which may be missing or refuse a checkout owned by another user.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path


def checkout_root() -> Path | None:
    """The git checkout this gpudock was imported from (an editable install), or None."""
    from ..paths import source_checkout

    root = source_checkout()
    return root if root is not None and (root / ".git").exists() else None


def _git_dir(root: Path) -> Path | None:
    dot = root / ".git"
    if dot.is_dir():
        return dot
    try:
        text = dot.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    path = Path(text[len("gitdir:") :].strip())
    return path if path.is_absolute() else (root / path).resolve()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def head(root: Path) -> tuple[str, str | None] | None:
    """(commit, branch or None when detached) of the checkout at ``root``, or None when unreadable."""
    git = _git_dir(root)
    if git is None:
        return None
    text = _read(git / "HEAD")
    if not text:
        return None
    if not text.startswith("ref:"):
        return text, None
    ref = text[len("ref:") :].strip()
    common_rel = _read(git / "commondir")
    common = (git / common_rel).resolve() if common_rel else git
    for base in (git, common):
        commit = _read(base / ref)
        if commit:
            return commit, ref.removeprefix("refs/heads/")
    for line in (_read(common / "packed-refs") or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == ref:
            return parts[0], ref.removeprefix("refs/heads/")
    return None


def version_text(version: str) -> str:
    """What ``--version`` prints: gpudock's version (and commit), then Python and the platform."""
    first = f"gpudock {version}"
    root = checkout_root()
    found = head(root) if root else None
    if found:
        commit, branch = found
        on = f" on {branch}" if branch else " (detached)"
        first += f" (git {commit[:12]}{on}, {root})"
    python = f"Python {platform.python_version()} ({sys.executable})"
    return f"{first}\n{python} on {platform.system()} {platform.machine()}"
