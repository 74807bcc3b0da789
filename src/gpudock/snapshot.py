"""Snapshot: a host's state as the probes saw it (the JSON contract in docs/contracts.md).

Every key is optional; a missing key means "not probed", never "absent". The
accessors below keep that distinction (``None`` = not probed) so the rules in
``diagnose`` never mistake a report that left something out for a broken host.

A snapshot is untrusted input (users send them, helpers replay them, the fleet collects them), so
loading one is where it is made safe, once, for everything downstream:

- shape: checked once per load against the JSON schema (``snapshot_schema``: ``SNAPSHOT_SCHEMA`` and its
  validator); a document with no known section (``null``, ``[]``, ``{}``, a bench results file) is not a
  snapshot;
- size: only a regular file of at most ``MAX_FILE_BYTES`` is read (never a FIFO or ``/dev/zero``);
  text is capped and values with a fixed syntax validated (``snapshot_values``); a value that fails is
  left out of the view the rest of gpudock reads and listed in ``Snapshot.invalid_fields``;
- order: sections are kept sorted by key, so a verdict never depends on the order of keys in a file
  and a save → load round trip reads the same.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .exceptions import CannotWrite, SnapshotError
from .files import parse_json, read_json_text, write_text_atomic
from .snapshot_schema import SECTIONS, SNAPSHOT_SCHEMA, validate
from .snapshot_values import MAX_LINE, MAX_TEXT, cap_text, check_fields, clean

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


class Snapshot:
    """Read access to a validated snapshot; ``data`` is the contract JSON as gpudock reads it.

    ``invalid_fields`` lists (field, reason) for each value left out because it failed validation.
    """

    def __init__(self, data: Mapping | None = None, *, _valid: bool = False):
        """``data`` is checked against the schema, unless ``_valid`` says ``loads`` just did (once per load)."""
        data = data if data is not None else {}
        cleaned = clean(data if _valid else validate(data))
        # what is saved is what was seen (capped, surrogates replaced): a replay finds the same invalid fields
        self._document = json.loads(json.dumps(cleaned))
        self.data, self.invalid_fields = check_fields(cleaned)
        self.source: Path | None = None

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
        return json.dumps(self._document, indent=2, ensure_ascii=False, sort_keys=True)

    def save(self, path: str | Path) -> Path:
        """Write the snapshot atomically; never over the file it was loaded from (that would drop fields)."""
        target = Path(path)
        if self.source is not None and _same_file(self.source, target):
            raise CannotWrite(target, "it is the --snapshot being read; give another file name")
        return write_text_atomic(target, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Snapshot:
        path = Path(path)
        text = read_json_text(path, SnapshotError)
        snap = cls.loads(text, source=str(path))
        snap.source = path
        return snap

    @classmethod
    def loads(cls, text: str, source: str = "<string>") -> Snapshot:
        data = parse_json(text, source, SnapshotError)
        try:
            return cls(validate(data, document=True), _valid=True)
        except SnapshotError as err:
            raise SnapshotError(err.problem, source) from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


__all__ = [
    "MAX_LINE",
    "MAX_TEXT",
    "NOT_FOUND",
    "SECTIONS",
    "SNAPSHOT_SCHEMA",
    "CommandResult",
    "Snapshot",
    "cap_text",
    "validate",
]
