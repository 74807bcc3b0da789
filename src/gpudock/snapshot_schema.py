"""The snapshot's shape: its JSON Schema (the contract, as data) and the one validator that checks it.

``SNAPSHOT_SCHEMA`` is the published JSON Schema (docs/contracts.md). ``validate`` checks a document against it
with a small walker of the few keywords the schema uses (``type``, ``properties``, ``additionalProperties``,
``minimum``, ``maximum``), so reading a snapshot never imports ``jsonschema``, whose format checker compiles
grammars at import time (over a second of start-up for `gpudock doctor --snapshot F`). The walker reports the
error ``jsonschema.exceptions.best_match`` would pick (the shallowest; among siblings the last in key order;
a type error before a range error), and tests/test_snapshot_schema.py holds the two to the same answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .exceptions import SnapshotError

SECTIONS = ("platform", "env", "files", "paths", "commands")

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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# JSON Schema's types as Python values; 1.0 is an integer (draft 2020-12), true is not
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: _is_number(v) and (isinstance(v, int) or v.is_integer()),
}
_KEYWORDS = {"$schema", "title", "type", "properties", "additionalProperties", "minimum", "maximum"}


def _types(schema: dict) -> list[str]:
    kind = schema.get("type", [])
    return kind if isinstance(kind, list) else [kind]


def _matches_type(schema: dict, value: Any) -> bool:
    return "type" not in schema or any(_TYPES[name](value) for name in _types(schema))


def _errors(schema: dict, value: Any, path: tuple) -> Iterator[tuple[tuple, str, dict, Any]]:
    """(path, keyword, schema, value) for each failed keyword, in the schema's keyword order."""
    for keyword, rule in schema.items():
        if keyword == "type" and not _matches_type(schema, value):
            yield path, keyword, schema, value
        elif keyword == "minimum" and _is_number(value) and value < rule:
            yield path, keyword, schema, value
        elif keyword == "maximum" and _is_number(value) and value > rule:
            yield path, keyword, schema, value
        elif keyword == "properties" and isinstance(value, dict):
            for name, sub in rule.items():
                if name in value:
                    yield from _errors(sub, value[name], (*path, name))
        elif keyword == "additionalProperties" and isinstance(value, dict):
            known = schema.get("properties", {})
            for name, item in value.items():
                if name not in known:
                    yield from _errors(rule, item, (*path, name))


def _check_keywords(schema: dict) -> None:
    """The walker knows only these keywords: a schema that grows another one must teach it first."""
    unknown = set(schema) - _KEYWORDS
    if unknown:
        raise AssertionError(f"snapshot_schema: the validator does not implement {sorted(unknown)}")
    for key in ("properties",):
        for sub in schema.get(key, {}).values():
            _check_keywords(sub)
    if isinstance(schema.get("additionalProperties"), dict):
        _check_keywords(schema["additionalProperties"])


_check_keywords(SNAPSHOT_SCHEMA)


def first_error(data: Any, schema: dict = SNAPSHOT_SCHEMA) -> tuple[tuple, str, dict, Any] | None:
    """The error jsonschema's ``best_match`` reports: shallowest path, then the greatest path among siblings,
    then a type error over one whose value has the right type; the first of equals."""
    best, best_key = None, None
    for error in _errors(schema, data, ()):
        path, _keyword, sub, value = error
        key = (-len(path), path, not _matches_type(sub, value))
        if best_key is None or key > best_key:
            best, best_key = error, key
    return best


def shown(value: Any) -> str:
    """A value from a snapshot, as an error message quotes it: JSON, escaped, at most 60 characters."""
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
        raise SnapshotError(f"the top level must be a JSON object, got {shown(data)}")
    if document and not any(section in data for section in SECTIONS):
        hint = " (this is a bench results file)" if "results" in data else ""
        raise SnapshotError(
            f"not a snapshot{hint}: it has none of {', '.join(SECTIONS)}; "
            "give the file `gpudock doctor --save-snapshot` wrote"
        )
    error = first_error(data)
    if error is not None:
        from .textsafety import printable

        path, keyword, schema, value = error
        where = ".".join(str(part) for part in path) or "the top level"
        if keyword == "type":
            expected = f"must be {_expected(schema['type'])}"
        elif keyword in ("minimum", "maximum"):
            expected = "is out of range"
        else:
            expected = "does not follow the contract"
        raise SnapshotError(f"{printable(where)[:120]} {expected}, got {shown(value)}")
    return data


def _expected(types: Any) -> str:
    names = {"object": "an object", "string": "a string", "null": "null", "boolean": "true or false"}
    names["integer"] = "an integer"
    types = types if isinstance(types, list) else [types]
    return " or ".join(names.get(str(t), str(t)) for t in types)
