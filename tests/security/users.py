"""Real local users for tests that need two of them (the CI machine runs the tests as root).

``two_users()`` creates a victim and an attacker with fresh names (``useradd``), each with a home under
a world-traversable scratch folder, and removes them afterwards (``userdel``). Commands run as a user
through ``setpriv`` with a clean environment.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class User:
    name: str
    uid: int
    gid: int
    home: Path

    def run(self, argv: list[str], env: dict | None = None, **kwargs) -> subprocess.Popen:
        """``argv`` as this user: its own uid, gid and no supplementary groups, HOME its home."""
        clean = {"HOME": str(self.home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **(env or {})}
        command = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "/usr/bin/env", "-i"]
        command += [f"{key}={value}" for key, value in clean.items()]
        return subprocess.Popen(command + argv, **kwargs)


@contextlib.contextmanager
def two_users() -> Iterator[tuple[User, User, Path]]:
    """(victim, attacker, scratch folder 0755): both users exist only inside the ``with``."""
    base = Path(tempfile.mkdtemp(prefix="gpudock-users-", dir="/tmp"))
    base.chmod(0o755)
    suffix = secrets.token_hex(3)
    users = []
    try:
        for role in ("victim", "attacker"):
            name = f"gd{role[:3]}{suffix}"
            home = base / role
            subprocess.run(
                ["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin", "-U", name],
                check=True,
                capture_output=True,
            )
            entry = pwd.getpwnam(name)
            home.mkdir(mode=0o700)
            os.chown(home, entry.pw_uid, entry.pw_gid)
            users.append(User(name, entry.pw_uid, entry.pw_gid, home))
        yield users[0], users[1], base
    finally:
        for user in users:
            subprocess.run(["userdel", user.name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
