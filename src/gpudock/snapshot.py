"""Snapshot: a host's state as the probes saw it (the JSON contract in docs/contracts.md).

Every key is optional; a missing key means "not probed", never "absent". The
accessors below keep that distinction (``None`` = not probed) so the rules in
``diagnose`` never mistake a report that left something out for a broken host.

A snapshot is untrusted input (users send them, helpers replay them, the fleet collects them), so
loading one is where it is made safe, once, for everything downstream:

- shape: a JSON schema (``SNAPSHOT_SCHEMA``, the ``jsonschema`` library); a document with no known
  section (``null``, ``[]``, ``{}``, a bench results file) is not a snapshot;
- size: only a regular file of at most ``MAX_FILE_BYTES`` is read (never a FIFO or ``/dev/zero``);
  each probe stream and file text keeps at most ``MAX_TEXT`` characters, head and tail, marked as
  cut, so every rule runs in bounded time;
- text: lone surrogates become U+FFFD (every output encoding works);
- values with a fixed syntax (architecture, kernel release, distro id/codename/version, user and
  group names, package names, apt URLs) are validated; a value that fails is left out of the view
  the rest of gpudock reads (so it is "unknown" for planning, never text in a command) and listed in
  ``Snapshot.invalid_fields``; ``validation_findings`` turns that list into a warning finding;
- order: sections are kept sorted by key, so a verdict never depends on the order of keys in a file
  and a save → load round trip reads the same.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .exceptions import CannotWrite, SnapshotError
from .files import parse_json, read_json_text, write_text_atomic

NOT_FOUND = 127  # the shell's exit status for "command not found"
# characters kept per probe stream or file text (head and tail). Real outputs stay far below it (the
# largest recorded is nvidia-container-cli's debug log, ~12k); it bounds every rule's work: 2 MB of
# worst-case text is diagnosed in well under 2 s even by a quadratic regex (benchmarks/hostile_inputs.py)
MAX_TEXT = 16 * 1024
MAX_LINE = 4096  # characters kept per line (head and tail): docker info's JSON is one ~2.5k line
CUT_MARK = "\n[... gpudock: {n} characters cut from the middle ...]\n"
SECTIONS = ("platform", "env", "files", "paths", "commands")
# bash, zsh, dash and Ubuntu's command-not-found helper, as pasted in reports
_NOT_FOUND_TEXT = re.compile(r"command not found|: not found\s*$|Command '[^']+' not found", re.M | re.I)

_STR_MAP = {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
SNAPSHOT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "gpudock snapshot (docs/contracts.md)",
    "type": "object",
    "properties": {
        "platform": _STR_MAP,
        "env": _STR_MAP,
        "files": _STR_MAP,
        "paths": {"type": "object", "additionalProperties": {"type": ["boolean", "null"]}},
        "commands": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "rc": {"type": ["integer", "null"], "minimum": -(2**31), "maximum": 2**32},
                    "stdout": {"type": ["string", "null"]},
                    "stderr": {"type": ["string", "null"]},
                    "timed_out": {"type": ["boolean", "null"]},
                },
            },
        },
    },
}

# a document read from a file must hold at least one known section (``{}`` or a results file is no snapshot)
SNAPSHOT_DOCUMENT_SCHEMA = {**SNAPSHOT_SCHEMA, "anyOf": [{"required": [section]} for section in SECTIONS]}

# --- fixed vocabularies and syntaxes -------------------------------------------------------------------
_ARCH = re.compile(r"[A-Za-z0-9_]{1,32}")  # uname -m: x86_64, aarch64, armv7l, ppc64le
_KERNEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}")  # uname -r
_OS_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")  # os-release(5): ID, VERSION_CODENAME
_OS_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,63}")  # VERSION_ID
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?")  # useradd's NAME_REGEX, case-tolerant
_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]{0,127}(:[a-z0-9-]{1,32})?")  # Debian Policy 5.6.1 (+ :arch)
# scheme://rest with URL characters only: no quotes, $, backticks, ; or \ (what turns a pasted fix into commands)
_URL = re.compile(r"[a-z][a-z0-9+.-]{0,20}://[A-Za-z0-9._~:/?#@!&*+,=%\[\]-]{0,2000}")
# what a rule that copies "a URL up to the next space" into a fix would copy, and what it must not hold
_URL_CHUNK = re.compile(r"\b[a-z][a-z0-9+.-]{0,20}://\S{0,2000}")
_SHELL_SYNTAX = re.compile(r"[`$;|\\'&<>]")
# free text, but shown in headers and plan comments: no controls, bidi, markup brackets or shell syntax
_PRETTY = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\[\]`$\\;]{0,200}")
OS_RELEASE_FIELDS = {
    "ID": _OS_ID,
    "VERSION_CODENAME": _OS_ID,
    "UBUNTU_CODENAME": _OS_ID,
    "VERSION_ID": _OS_VERSION,
    "PRETTY_NAME": _PRETTY,
}
_ID_ENTRY = re.compile(r"(\d+)\(([^)]*)\)")
_DPKG_LINE = re.compile(r"^([uihrp][ncHUFWit][ R]?)\s+(\S+)")  # dpkg -l: status letters, then the name
DPKG_PROBES = ("dpkg_nvidia", "dpkg_docker")


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


# --- shape --------------------------------------------------------------------------------------------


@cache
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(SNAPSHOT_SCHEMA)


def _shown(value: Any) -> str:
    from .textsafety import printable

    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return printable(text if len(text) <= 60 else text[:57] + "...")


def validate(data: Any, document: bool = False) -> dict:
    """Check ``data`` against the snapshot schema; return the snapshot dict itself (unwrapped).

    Unknown keys and probe names pass; known keys of the wrong type do not. A document holding the
    snapshot under ``snapshot`` (a test case) is unwrapped. A ``document`` (read from a file) must
    hold at least one known section.
    """
    if isinstance(data, dict) and isinstance(data.get("snapshot"), dict):
        data = data["snapshot"]
    if not isinstance(data, dict):
        raise SnapshotError(f"the top level must be a JSON object, got {_shown(data)}")
    if document and not any(section in data for section in SECTIONS):
        hint = " (this is a bench results file)" if "results" in data else ""
        raise SnapshotError(
            f"not a snapshot{hint}: it has none of {', '.join(SECTIONS)}; "
            "give the file `gpudock doctor --save-snapshot` wrote"
        )
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is not None:
        where = ".".join(str(part) for part in error.absolute_path) or "the top level"
        from .textsafety import printable

        if error.validator == "type":
            expected = f"must be {_expected(error.validator_value)}"
        elif error.validator in ("minimum", "maximum"):
            expected = "is out of range"
        else:
            expected = "does not follow the contract"
        raise SnapshotError(f"{printable(where)[:120]} {expected}, got {_shown(error.instance)}")
    return data


def _expected(types: Any) -> str:
    names = {"object": "an object", "string": "a string", "null": "null", "boolean": "true or false"}
    names["integer"] = "an integer"
    types = types if isinstance(types, list) else [types]
    return " or ".join(names.get(str(t), str(t)) for t in types)


# --- text: surrogates and size ------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


_LONG_LINE = re.compile("[^\n]{" + str(MAX_LINE + 1) + ",}")


def _cut_line(match: re.Match) -> str:
    line, half = match.group(), MAX_LINE // 2
    return line[:half] + f" [... gpudock: {len(line) - 2 * half} characters cut ...] " + line[-half:]


def cap_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` with lone surrogates replaced, at most ``limit`` characters (head and tail) and
    ``MAX_LINE`` per line, each cut marked: a rule's regex sees bounded lines in a bounded text."""
    text = _SURROGATE.sub("\ufffd", text)
    if len(text) > limit:
        half = limit // 2
        text = text[:half] + CUT_MARK.format(n=len(text) - 2 * half) + text[-half:]
    return _LONG_LINE.sub(_cut_line, text) if len(text) > MAX_LINE else text


def _clean(value: Any, depth: int = 0) -> Any:
    """Every string in ``value`` capped and surrogate-free; keys too (they are shown as well)."""
    if isinstance(value, str):
        return cap_text(value)
    if isinstance(value, dict):
        return {cap_text(str(k), 4096): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value[:1000]]
    return value


# --- values with a syntax: validated, or left out ------------------------------------------------------


def _os_release_value(value: str) -> str | None:
    """The value as facts.host.parse_os_release reads it; None when its quoting is broken."""
    try:
        parts = shlex.split(value)
    except ValueError:
        return None
    return parts[0] if parts else ""


def _check_os_release(text: str, invalid: list) -> str:
    kept = []
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        key = key.strip()
        pattern = OS_RELEASE_FIELDS.get(key)
        if key == "ID_LIKE" and sep:
            parsed = _os_release_value(value)
            ok = parsed is not None and all(_OS_ID.fullmatch(word) for word in parsed.split())
        elif pattern is not None and sep:
            parsed = _os_release_value(value)
            ok = parsed is not None and (parsed == "" or pattern.fullmatch(parsed) is not None)
        else:
            ok = True
        if ok:
            kept.append(line)
        else:
            invalid.append((f"files./etc/os-release {key}", f"not a valid {key} value: {_shown(value)}"))
    return "\n".join(kept) + ("\n" if text.endswith("\n") else "")


def _check_id_output(entry: dict, invalid: list) -> bool:
    """True when every user and group name in `id`'s output is a valid name."""
    for text in (entry.get("stdout") or "", entry.get("stderr") or ""):
        for _number, name in _ID_ENTRY.findall(text[:4096]):
            if not _USER.fullmatch(name):
                invalid.append(("commands.id", f"not a valid user or group name: {_shown(name)}"))
                return False
    return True


def _check_dpkg(name: str, text: str, invalid: list) -> str:
    kept = []
    for line in text.splitlines():
        match = _DPKG_LINE.match(line)
        if match:
            package = match.group(2)
            if not _PACKAGE.fullmatch(package):
                invalid.append((f"commands.{name}", f"not a valid package name: {_shown(package)}"))
                continue
        kept.append(line)
    return "\n".join(kept) + ("\n" if text.endswith("\n") else "")


def _bad_url(line: str, strict: bool) -> str | None:
    """The first URL in ``line`` glued to shell syntax (``strict``: anything but plain URL syntax).

    Punctuation and quotes after a URL are prose or JSON (`Get "https://x/v2/": dial tcp`, `…sock; check`),
    but quotes, `$`, backticks, `;`, `|`, `&` or `\\` inside what runs up to the next space are not.
    """
    for chunk in _URL_CHUNK.findall(line):
        chunk = chunk.rstrip(".,:;)]}\"'")
        bare = chunk.replace("$(ARCH)", "ARCH")  # apt's own substitution in list files
        if _SHELL_SYNTAX.search(bare) or (strict and not _URL.fullmatch(bare)):
            return chunk
    return None


def _check_urls(where: str, text: str, invalid: list, drop: bool) -> str:
    kept = []
    for line in text.splitlines():
        bad = _bad_url(line, strict=drop) if "://" in line else None
        if bad is None:
            kept.append(line)
            continue
        invalid.append((where, f"not a valid URL: {_shown(bad)}"))
        if not drop:
            kept.append("[gpudock: a line with an invalid URL was left out]")
    return "\n".join(kept) + ("\n" if text.endswith("\n") else "")


def check_fields(data: dict) -> tuple[dict, list[tuple[str, str]]]:
    """The view gpudock reads (invalid values left out) and the list of (field, reason) left out."""
    invalid: list[tuple[str, str]] = []
    view = {}
    for key, value in data.items():
        view[key] = dict(sorted(value.items())) if key in SECTIONS and isinstance(value, dict) else value
    platform = view.get("platform")
    if isinstance(platform, dict):
        for key, pattern in (("machine", _ARCH), ("release", _KERNEL)):
            value = platform.get(key)
            if isinstance(value, str) and value and not pattern.fullmatch(value):
                invalid.append((f"platform.{key}", f"not a valid {key}: {_shown(value)}"))
                platform.pop(key)
    env = view.get("env")
    if isinstance(env, dict):
        for key in ("USER", "SUDO_USER", "LOGNAME"):
            value = env.get(key)
            if isinstance(value, str) and value and not _USER.fullmatch(value):
                invalid.append((f"env.{key}", f"not a valid user name: {_shown(value)}"))
                env.pop(key)
    files = view.get("files")
    if isinstance(files, dict):
        if isinstance(files.get("/etc/os-release"), str):
            files["/etc/os-release"] = _check_os_release(files["/etc/os-release"], invalid)
        for path, text in list(files.items()):
            if isinstance(text, str) and path.startswith("/etc/apt/"):
                files[path] = _check_urls(f"files.{path}", text, invalid, drop=True)
    commands = view.get("commands")
    if isinstance(commands, dict):
        if isinstance(commands.get("id"), dict) and not _check_id_output(commands["id"], invalid):
            commands.pop("id")
        for name, entry in list(commands.items()):
            if not isinstance(entry, dict):
                continue
            entry = dict(entry)
            for stream in ("stdout", "stderr"):
                if isinstance(entry.get(stream), str):
                    if name in DPKG_PROBES:
                        entry[stream] = _check_dpkg(name, entry[stream], invalid)
                    if "://" in entry[stream]:  # rules quote URLs (apt sources, sockets) in their fixes
                        entry[stream] = _check_urls(f"commands.{name}", entry[stream], invalid, drop=False)
            commands[name] = entry
    return view, invalid


def validation_findings(snap: Snapshot) -> list:
    """One warning finding naming the values that failed validation (treated as unknown), or none.

    The doctor adds these to its findings (code ``snapshot-invalid-field``).
    """
    from .findings import Finding
    from .textsafety import printable

    if not snap.invalid_fields:
        return []
    shown = snap.invalid_fields[:10]
    more = len(snap.invalid_fields) - len(shown)
    evidence = "\n".join(printable(f"{field}: {reason}") for field, reason in shown)
    if more:
        evidence += f"\n(and {more} more)"
    return [
        Finding(
            code="snapshot-invalid-field",
            severity="warning",
            title="Some snapshot values are not valid for their field and were treated as unknown",
            evidence=evidence,
            fix=["Probe the host again with `gpudock doctor --save-snapshot FILE` and send that file unedited."],
            docs=[],
        )
    ]


class Snapshot:
    """Read access to a validated snapshot; ``data`` is the contract JSON as gpudock reads it.

    ``invalid_fields`` lists (field, reason) for each value left out because it failed validation.
    """

    def __init__(self, data: Mapping | None = None):
        cleaned = _clean(validate(data if data is not None else {}))
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
            validate(data, document=True)
            return cls(data)  # the constructor validates the rest
        except SnapshotError as err:
            raise SnapshotError(err.problem, source) from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()
