"""A host's file tree as the CDI code reads it: the live ``/`` or a fake tree under ``--root``.

Every path is a host path (``/dev/nvidia0``) and is read under the root: ``TreeView("/tmp/t")`` reads
``/tmp/t/dev/nvidia0``. Symbolic links are followed inside the root (an absolute target is taken from the
root, never from the real ``/``), at most ``MAX_HOPS`` of them. Files are read only when regular and small
(``MAX_SMALL`` bytes for /proc texts, ``MAX_SPEC_BYTES`` for specs), without blocking.
"""

from __future__ import annotations

import glob
import os
import posixpath
import stat

from .spec import MAX_SPEC_BYTES, SPEC_DIRS, SUFFIXES

MAX_HOPS = 40
MAX_SMALL = 64 * 1024
MAX_LISTING = 20_000  # entries looked at in one folder (a library folder has a few thousand)
MAX_SPEC_FILES = 64


class TreeView:
    """Read access to a host tree; the same questions ``SnapshotView`` answers from a snapshot."""

    def __init__(self, root: str = "/"):
        self.root = os.path.abspath(root or "/")

    # --- paths -------------------------------------------------------------------------------------
    def real(self, path: str) -> str | None:
        """``path`` with every link resolved inside the root (a host path), or None if it does not exist."""
        parts = [p for p in path.split("/") if p]
        done = "/"
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == ".":
                continue
            if part == "..":
                done = posixpath.dirname(done.rstrip("/")) or "/"
                continue
            candidate = posixpath.join(done, part)
            full = self._full(candidate)
            try:
                info = os.lstat(full)
            except OSError:
                return None
            if stat.S_ISLNK(info.st_mode):
                hops += 1
                if hops > MAX_HOPS:
                    return None
                target = os.readlink(full)
                parts = [p for p in target.split("/") if p] + parts
                if target.startswith("/"):
                    done = "/"
                continue
            done = candidate
        return done

    def _full(self, host_path: str) -> str:
        return self.root.rstrip("/") + host_path if self.root != "/" else host_path

    def full(self, path: str) -> str | None:
        """The real file behind a host path, as this process opens it (root prefix included)."""
        real = self.real(path)
        return None if real is None else self._full(real)

    def exists(self, path: str) -> bool:
        return self.real(path) is not None

    def node(self, path: str) -> tuple[str, int, int] | None:
        """('c' or 'b', major, minor) of a device node; None when absent or not a device."""
        full = self.full(path)
        if full is None:
            return None
        try:
            info = os.stat(full)
        except OSError:
            return None
        if stat.S_ISCHR(info.st_mode):
            return "c", os.major(info.st_rdev), os.minor(info.st_rdev)
        if stat.S_ISBLK(info.st_mode):
            return "b", os.major(info.st_rdev), os.minor(info.st_rdev)
        return None

    def is_file(self, path: str) -> bool:
        full = self.full(path)
        return bool(full) and os.path.isfile(full)

    def is_dir(self, path: str) -> bool:
        full = self.full(path)
        return bool(full) and os.path.isdir(full)

    def kind(self, path: str) -> str | None:
        """'file', 'dir', 'socket', 'device' or 'other' for what is at ``path``; None when nothing is."""
        full = self.full(path)
        if full is None:
            return None
        try:
            mode = os.stat(full).st_mode
        except OSError:
            return None
        if stat.S_ISREG(mode):
            return "file"
        if stat.S_ISDIR(mode):
            return "dir"
        if stat.S_ISSOCK(mode):
            return "socket"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            return "device"
        return "other"

    def listdir(self, path: str) -> list[str]:
        """Names in a folder, sorted, at most MAX_LISTING of them; [] when it is not a folder."""
        full = self.full(path)
        if full is None:
            return []
        names = []
        try:
            with os.scandir(full) as entries:
                for entry in entries:
                    names.append(entry.name)
                    if len(names) >= MAX_LISTING:
                        break
        except OSError:
            return []
        return sorted(names)

    def glob(self, pattern: str) -> list[str]:
        """Host paths matching a shell pattern (the pattern's folders are taken literally)."""
        folder, _, name = pattern.rpartition("/")
        import fnmatch

        return [posixpath.join(folder or "/", n) for n in self.listdir(folder or "/") if fnmatch.fnmatchcase(n, name)]

    def read(self, path: str, limit: int = MAX_SMALL) -> str | None:
        """Text of a small file (regular, or anything under /proc and /sys); None when absent or unreadable."""
        full = self.full(path)
        if full is None:
            return None
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode) and not path.startswith(("/proc/", "/sys/")):
                return None
            data = os.read(fd, limit + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        if len(data) > limit:
            return None
        return data.decode("utf-8", errors="replace")

    def spec_files(self) -> dict[str, str | None]:
        """Every ``*.yaml`` / ``*.json`` in the CDI folders: host path -> text (None: unreadable or too large)."""
        found: dict[str, str | None] = {}
        for folder in SPEC_DIRS:
            for name in self.listdir(folder):
                path = f"{folder}/{name}"
                if name.endswith(SUFFIXES) and self.kind(path) == "file" and len(found) < MAX_SPEC_FILES:
                    found[path] = self.read(path, MAX_SPEC_BYTES)
        return found


def host_glob(pattern: str) -> list[str]:
    """Real paths on this machine matching ``pattern`` (for the prober, which reads the live host)."""
    return sorted(glob.glob(pattern))[:MAX_SPEC_FILES]
