"""A folder held by its descriptor: what gpudock writes lands inside it, whatever is renamed or linked meanwhile.

A run folder may sit in a folder other people can write (a team's ``runs/``, a shared ``--out``).
Anyone who can write that parent can rename gpudock's folder away and put a folder or a symlink of
their own in its place. Writing by path would then follow them: results into their folder, or a file
written through their symlink over one of yours. ``Pinned`` opens the folder once (``O_DIRECTORY``,
``O_NOFOLLOW``) and does every later write relative to that descriptor (``openat``, ``mkdirat``,
``renameat``), each sub-folder opened without following a symlink. So the record goes to the folder
gpudock made, even if it now has another name, and never through a link planted inside it.

Writes are atomic as in ``files.write_bytes_atomic``: a fresh ``O_EXCL`` temporary file, renamed over
the target.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from pathlib import Path, PurePosixPath

from .exceptions import CannotWrite

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class Pinned:
    """``Pinned(path)``: the folder at ``path`` now; later writes go to that folder, wherever it moves."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.fd = os.open(self.path, _DIR_FLAGS)
        except OSError as err:
            raise CannotWrite(self.path, _why(err)) from None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Pinned:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # a Pinned dropped without close() (an exception on the way) leaks no descriptor
        try:
            self.close()
        except Exception:
            pass

    # --- folders ------------------------------------------------------------------------------------------

    def _parts(self, rel: str | Path) -> list[str]:
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or any(p in ("..", ".") for p in parts):
            raise ValueError(f"not a plain relative path: {rel!r}")
        return list(parts)

    def _open_dir(self, parts: list[str], create: bool) -> int:
        """A descriptor of the sub-folder ``parts`` (made where missing with ``create``); never through a link."""
        fd = os.dup(self.fd)
        try:
            for name in parts:
                if create:
                    try:
                        os.mkdir(name, 0o755, dir_fd=fd)
                    except FileExistsError:
                        pass
                try:
                    sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as err:
                    raise CannotWrite(self.path / Path(*parts), _why(err)) from None
                os.close(fd)
                fd = sub
            return fd
        except BaseException:
            os.close(fd)
            raise

    def mkdir(self, rel: str | Path) -> Path:
        os.close(self._open_dir(self._parts(rel), create=True))
        return self.path / rel

    def folder(self, rel: str | Path) -> Pinned:
        """The sub-folder ``rel`` (made where missing), itself pinned: a link there is refused, never followed."""
        sub = Pinned.__new__(Pinned)
        sub.path, sub.fd = self.path / rel, self._open_dir(self._parts(rel), create=True)
        return sub

    def is_empty(self) -> bool:
        return not os.listdir(self.fd)

    # --- files --------------------------------------------------------------------------------------------

    def write_bytes(self, rel: str | Path, data: bytes, mode: int = 0o644) -> Path:
        """``data`` into ``rel`` (folders made as needed); returns the path as it was named."""
        *folders, name = self._parts(rel)
        try:
            self._write(folders, name, data, mode)
        except CannotWrite:
            raise
        except OSError as err:  # a full disk, a read-only folder: one line naming the file
            raise CannotWrite(self.path / rel, err.strerror or str(err)) from None
        return self.path / rel

    def _write(self, folders: list[str], name: str, data: bytes, mode: int) -> None:
        dfd = self._open_dir(folders, create=True)
        tmp = f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode & 0o777, dir_fd=dfd)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                existing = _lstat(name, dfd)
                if existing is not None and stat.S_ISDIR(existing.st_mode):
                    raise CannotWrite(self.path / Path(*folders, name), "is a folder")
                os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
            except BaseException:
                try:
                    os.unlink(tmp, dir_fd=dfd)
                except FileNotFoundError:
                    pass
                raise
        finally:
            os.close(dfd)

    def write_text(self, rel: str | Path, text: str, mode: int = 0o644) -> Path:
        return self.write_bytes(rel, text.encode("utf-8", errors="replace"), mode)

    def remove_tree(self, rel: str | Path) -> None:
        """Remove ``rel`` (a file, a link itself, or a folder and all in it); never follows a link."""
        *folders, name = self._parts(rel)
        try:
            dfd = self._open_dir(folders, create=False)
        except CannotWrite:
            return
        try:
            info = _lstat(name, dfd)
            if info is None:
                return
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(name, dir_fd=dfd)  # the fd-based rmtree: it never follows a link (3.11+)
            else:
                os.unlink(name, dir_fd=dfd)
        finally:
            os.close(dfd)

    def copy_file(self, source: Path, rel: str | Path, limit: int = 256 * 1024 * 1024) -> Path:
        """A regular file of ours (a private folder) copied in, for the record."""
        from .files import read_bytes_bounded

        return self.write_bytes(rel, read_bytes_bounded(source, limit=limit))


def _lstat(name: str, dir_fd: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _why(err: OSError) -> str:
    import errno

    if err.errno in (errno.ELOOP, errno.ENOTDIR):
        return "is a symlink or a file, not a folder (gpudock writes only into real folders)"
    return err.strerror or str(err)
