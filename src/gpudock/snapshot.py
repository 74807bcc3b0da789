"""Snapshot: a host's state as the probes saw it (the JSON contract in docs/contracts.md).

Every key is optional; a missing key means "not probed", never "absent". The
accessors below keep that distinction (``None`` = not probed) so the rules in
``diagnose`` never mistake a report that left something out for a broken host.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .exceptions import SnapshotError
from .files import write_text_atomic

NOT_FOUND = 127  # the shell's exit status for "command not found"
# bash, zsh, dash and Ubuntu's command-not-found helper, as pasted in reports
_NOT_FOUND_TEXT = re.compile(r"command not found|: not found\s*$|Command '[^']+' not found", re.M | re.I)


@dataclass(frozen=True)
class CommandResult:
    """One probe's outcome. ``rc`` is None where unknown (a user's report)."""

    name: str
    rc: int | None
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def text(self) -> str:
        return "\n".join(part for part in (self.stdout, self.stderr) if part)

    @property
    def not_found(self) -> bool:
        """The command itself is missing (rc 127 or the shell's words for it)."""
        if self.rc == NOT_FOUND:
            return True
        return self.rc is None and bool(_NOT_FOUND_TEXT.search(self.text))

    @property
    def ok(self) -> bool:
        """Known to have succeeded; ``rc`` None counts as not known."""
        return self.rc == 0 and not self.timed_out

    @property
    def failed(self) -> bool:
        """Known to have failed: a non-zero rc, a time-out, or no rc but error text."""
        if self.timed_out:
            return True
        if self.rc is None:
            return bool(self.stderr.strip())
        return self.rc != 0

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.text.splitlines() if line.strip()]


def _type_error(where: str, expected: str, value: Any) -> SnapshotError:
    shown = json.dumps(value)[:60] if _jsonable(value) else repr(value)[:60]
    return SnapshotError(f"{where} must be {expected}, got {shown}")


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False


def _check_str_map(section: str, value: Any, allowed: tuple[type, ...], expected: str) -> None:
    if not isinstance(value, dict):
        raise _type_error(section, "an object", value)
    for key, item in value.items():
        if item is None:
            continue
        is_bool = isinstance(item, bool)
        if (bool in allowed) != is_bool or not isinstance(item, allowed):
            raise _type_error(f"{section}[{key!r}]", expected, item)


def _check_command(name: str, entry: Any) -> None:
    where = f"commands.{name}"
    if not isinstance(entry, dict):
        raise _type_error(where, "an object with rc, stdout, stderr", entry)
    rc = entry.get("rc")
    if rc is not None and (isinstance(rc, bool) or not isinstance(rc, int)):
        raise _type_error(f"{where}.rc", "an integer or null", rc)
    for stream in ("stdout", "stderr"):
        value = entry.get(stream)
        if value is not None and not isinstance(value, str):
            raise _type_error(f"{where}.{stream}", "a string or null", value)
    timed_out = entry.get("timed_out")
    if timed_out is not None and not isinstance(timed_out, bool):
        raise _type_error(f"{where}.timed_out", "true or false", timed_out)


def validate(data: Any) -> dict:
    """Check ``data`` against the contract; return the snapshot dict itself.

    Unknown keys and probe names pass; known keys of the wrong type do not.
    A document holding the snapshot under ``snapshot`` (a test case) is unwrapped.
    """
    if isinstance(data, dict) and isinstance(data.get("snapshot"), dict):
        data = data["snapshot"]
    if not isinstance(data, dict):
        raise _type_error("the top level", "a JSON object", data)
    if "platform" in data:
        _check_str_map("platform", data["platform"], (str,), "a string")
    if "env" in data:
        _check_str_map("env", data["env"], (str,), "a string")
    if "files" in data:
        _check_str_map("files", data["files"], (str,), "a string or null")
    if "paths" in data:
        _check_str_map("paths", data["paths"], (bool,), "true, false or null")
    if "commands" in data:
        commands = data["commands"]
        if not isinstance(commands, dict):
            raise _type_error("commands", "an object", commands)
        for name, entry in commands.items():
            _check_command(name, entry)
    return data


class Snapshot:
    """Read access to a validated snapshot dict; ``data`` is the contract JSON."""

    def __init__(self, data: Mapping | None = None):
        self.data: dict = dict(validate(data if data is not None else {}))

    # --- accessors: None means "not probed" -------------------------------------
    @property
    def platform(self) -> dict:
        return self.data.get("platform") or {}

    @property
    def env(self) -> dict:
        return self.data.get("env") or {}

    def file(self, path: str) -> str | None:
        """File text; '' for a file known absent; None when not probed."""
        files = self.data.get("files") or {}
        if path not in files:
            return None
        return files[path] if files[path] is not None else ""

    def file_known_absent(self, path: str) -> bool:
        files = self.data.get("files") or {}
        return path in files and files[path] is None

    def files_matching(self, prefix: str) -> dict[str, str]:
        files = self.data.get("files") or {}
        return {p: t for p, t in files.items() if p.startswith(prefix) and t is not None}

    def path(self, path: str) -> bool | None:
        return (self.data.get("paths") or {}).get(path)

    def command(self, name: str) -> CommandResult | None:
        entry = (self.data.get("commands") or {}).get(name)
        if entry is None:
            return None
        return CommandResult(
            name=name,
            rc=entry.get("rc"),
            stdout=entry.get("stdout") or "",
            stderr=entry.get("stderr") or "",
            timed_out=bool(entry.get("timed_out")),
        )

    def commands(self) -> list[CommandResult]:
        return [c for c in (self.command(n) for n in (self.data.get("commands") or {})) if c]

    # --- I/O ---------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(self.data, indent=2, ensure_ascii=False, sort_keys=True)

    def save(self, path: str | Path) -> Path:
        return write_text_atomic(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Snapshot:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SnapshotError("no such file", path) from None
        except IsADirectoryError:
            raise SnapshotError("is a folder, not a JSON file", path) from None
        except UnicodeDecodeError:
            raise SnapshotError(
                "is not UTF-8 text; give the JSON file gpudock doctor --save-snapshot wrote", path
            ) from None
        except OSError as err:
            raise SnapshotError(f"cannot read ({err.strerror})", path) from None
        return cls.loads(text, source=str(path))

    @classmethod
    def loads(cls, text: str, source: str = "<string>") -> Snapshot:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise SnapshotError(
                f"is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})", source
            ) from None
        except RecursionError:
            raise SnapshotError("nested too deeply to be a snapshot", source) from None
        return cls(data)  # the constructor validates
