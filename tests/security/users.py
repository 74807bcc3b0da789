"""A second real local user for tests of what another user can do (the CI machine runs the tests as root).

``other_user()`` creates a user with a fresh name (``useradd``) and a home under a world-traversable
scratch folder, and removes it afterwards (``userdel``). Commands run as that user through ``setpriv``
with a clean environment. The test's own user (root) is the other party: it can read the checkout
wherever CI cloned it, which a fresh user may not.
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
def other_user() -> Iterator[tuple[User, Path]]:
    """(a fresh unprivileged user, a scratch folder 0755): the user exists only inside the ``with``."""
    base = Path(tempfile.mkdtemp(prefix="gpudock-users-", dir="/tmp"))
    base.chmod(0o755)
    name = f"gdother{secrets.token_hex(3)}"
    home = base / "other"
    created = False
    try:
        subprocess.run(
            ["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin", "-U", name],
            check=True,
            capture_output=True,
        )
        created = True
        entry = pwd.getpwnam(name)
        home.mkdir(mode=0o700)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        yield User(name, entry.pw_uid, entry.pw_gid, home), base
    finally:
        if created:
            subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
