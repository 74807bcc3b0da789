"""What a snapshot's text and values may be: bounded text, and values with a fixed syntax validated.

- text: lone surrogates become U+FFFD; each probe stream and file text keeps at most ``MAX_TEXT`` characters
  and ``MAX_LINE`` per line, head and tail, marked as cut, so every rule runs in bounded time;
- values with a fixed syntax (architecture, kernel release, distro id/codename/version, user and group names,
  package names, apt URLs) are validated; a value that fails is left out of the view the rest of gpudock
  reads (so it is "unknown" for planning, never text in a command) and listed as (field, reason);
  ``invalid_evidence`` says which, for the doctor's ``snapshot-invalid-field`` warning.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from .snapshot_schema import SECTIONS, shown

# characters kept per probe stream or file text (head and tail). Real outputs stay far below it (the
# largest recorded is nvidia-container-cli's debug log, ~12k); it bounds every rule's work: 2 MB of
# worst-case text is diagnosed in well under 2 s even by a quadratic regex (benchmarks/hostile_inputs.py)
MAX_TEXT = 16 * 1024
MAX_LINE = 4096  # characters kept per line (head and tail): docker info's JSON is one ~2.5k line
CUT_MARK = "\n[... gpudock: {n} characters cut from the middle ...]\n"
MAX_SHOWN_FIELDS = 10  # invalid fields named in the warning's evidence; the rest are counted

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


# CDI specs (files under the CDI folders) are kept whole up to this size, or not at all: a spec cut in the
# middle would be read as another spec. Nothing matches them line by line; they are parsed, bounded (gpudock.cdi).
MAX_SPEC_TEXT = 256 * 1024
SPEC_TOO_LARGE = "[gpudock: spec not kept: larger than 256 KiB]"
_SPEC_PATH = re.compile(r"/(etc|var/run|run)/cdi/[^/]{1,255}\.(yaml|json)")


def _spec_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return _SURROGATE.sub("\ufffd", value) if len(value) <= MAX_SPEC_TEXT else SPEC_TOO_LARGE


def clean(value: Any, depth: int = 0) -> Any:
    """Every string in ``value`` capped and surrogate-free; keys too (they are shown as well)."""
    if isinstance(value, str):
        return cap_text(value)
    if isinstance(value, dict):
        spec = depth == 1  # the sections' entries: a spec is a file of `files`
        return {
            cap_text(str(k), 4096): _spec_text(v) if spec and _SPEC_PATH.fullmatch(str(k)) else clean(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [clean(v, depth + 1) for v in value[:1000]]
    return value


# --- values with a syntax: validated, or left out ------------------------------------------------------


def _os_release_value(value: str) -> str | None:
    """The value as hostinfo.parse_os_release reads it; None when its quoting is broken."""
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
            invalid.append((f"files./etc/os-release {key}", f"not a valid {key} value: {shown(value)}"))
    return "\n".join(kept) + ("\n" if text.endswith("\n") else "")


def _check_id_output(entry: dict, invalid: list) -> bool:
    """True when every user and group name in `id`'s output is a valid name."""
    for text in (entry.get("stdout") or "", entry.get("stderr") or ""):
        for _number, name in _ID_ENTRY.findall(text[:4096]):
            if not _USER.fullmatch(name):
                invalid.append(("commands.id", f"not a valid user or group name: {shown(name)}"))
                return False
    return True


def _check_dpkg(name: str, text: str, invalid: list) -> str:
    kept = []
    for line in text.splitlines():
        match = _DPKG_LINE.match(line)
        if match:
            package = match.group(2)
            if not _PACKAGE.fullmatch(package):
                invalid.append((f"commands.{name}", f"not a valid package name: {shown(package)}"))
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
        invalid.append((where, f"not a valid URL: {shown(bad)}"))
        if not drop:
            kept.append("[gpudock: a line with an invalid URL was left out]")
    return "\n".join(kept) + ("\n" if text.endswith("\n") else "")


# (section, key, syntax, what it is): a value of another syntax is left out and named
_FIXED_SYNTAX = (
    ("platform", "machine", _ARCH, "machine"),
    ("platform", "release", _KERNEL, "release"),
    *(("env", key, _USER, "user name") for key in ("USER", "SUDO_USER", "LOGNAME")),
)


def check_fields(data: dict) -> tuple[dict, list[tuple[str, str]]]:
    """The view gpudock reads (invalid values left out) and the list of (field, reason) left out."""
    invalid: list[tuple[str, str]] = []
    view = {}
    for key, value in data.items():
        view[key] = dict(sorted(value.items())) if key in SECTIONS and isinstance(value, dict) else value
    for section, key, pattern, what in _FIXED_SYNTAX:
        values = view.get(section)
        value = values.get(key) if isinstance(values, dict) else None
        if isinstance(value, str) and value and not pattern.fullmatch(value):
            invalid.append((f"{section}.{key}", f"not a valid {what}: {shown(value)}"))
            values.pop(key)
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


def invalid_evidence(invalid_fields: list[tuple[str, str]]) -> str:
    """The evidence line(s) of the ``snapshot-invalid-field`` warning: the first fields left out and why."""
    from .textsafety import printable

    listed = invalid_fields[:MAX_SHOWN_FIELDS]
    evidence = "\n".join(printable(f"{field}: {reason}") for field, reason in listed)
    more = len(invalid_fields) - len(listed)
    return evidence + (f"\n(and {more} more)" if more else "")
