"""The snapshot's own validator gives jsonschema's answer (the error best_match picks) without importing it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from gpudock.exceptions import SnapshotError
from gpudock.snapshot_schema import SECTIONS, SNAPSHOT_SCHEMA, first_error, validate

_REFERENCE = Draft202012Validator(SNAPSHOT_SCHEMA)
_NAMES = st.sampled_from([*SECTIONS, "rc", "stdout", "stderr", "timed_out", "docker_info", "x", "snapshot"])
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.sampled_from([-(2**31), -(2**31) - 1, 2**32, 2**32 + 1, 2**32 + 0.5, 1.0, -0.0])  # rc's edges
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_NAMES | st.text(max_size=3), inner, max_size=4),
    max_leaves=12,
)
_COMMAND = st.fixed_dictionaries(
    {},
    optional={"rc": _SCALARS, "stdout": _SCALARS, "stderr": _SCALARS, "timed_out": _SCALARS},
)
_COMMANDS = st.dictionaries(st.text(max_size=3), _COMMAND, min_size=1, max_size=3)  # errors inside a probe
_DOCUMENTS = st.dictionaries(
    st.sampled_from(SECTIONS) | st.text(max_size=3),
    _VALUES | st.dictionaries(st.text(max_size=3), _COMMAND | _SCALARS, max_size=3),
    max_size=5,
) | st.fixed_dictionaries({"commands": _COMMANDS}, optional={"env": st.just({"USER": "u"})})


def _reference(data):
    error = best_match(_REFERENCE.iter_errors(data))
    return None if error is None else (tuple(error.path), error.validator, error.instance)


def _ours(data):
    error = first_error(data)
    return None if error is None else (error[0], error[1], error[3])


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return a[:2] == b[:2] and repr(a[2]) == repr(b[2])  # repr: NaN is not equal to itself


@given(_DOCUMENTS)
def test_the_validator_picks_the_error_jsonschema_picks(data):
    assert _same(_ours(data), _reference(data)), (_ours(data), _reference(data))


@pytest.mark.parametrize(
    "data, where",
    [
        ({"platform": 1, "env": 2}, "platform"),  # siblings: the greater path, as best_match
        ({"commands": {"a": {"rc": True}}}, "commands.a.rc"),  # true is no integer
        ({"commands": {"a": {"rc": 4294967296.5}}}, "commands.a.rc must be an integer"),  # type before range
        ({"commands": {"a": {"rc": 2**33}}}, "commands.a.rc is out of range"),
        ({"files": {"/etc/x": 1}, "commands": []}, "commands must be an object"),  # shallowest first
    ],
)
def test_messages_name_the_field(data, where):
    with pytest.raises(SnapshotError, match="^snapshot: " + where.replace(".", r"\.")):
        validate(data)


def test_valid_documents_pass_and_1_0_is_an_integer():
    assert validate({"commands": {"a": {"rc": 1.0, "stdout": None}}, "extra": [1]})["extra"] == [1]


def test_reading_a_snapshot_never_imports_jsonschema(tmp_path):
    snapshot = tmp_path / "s.json"
    snapshot.write_text('{"platform": {"machine": "x86_64"}}')
    code = (
        "import sys; from gpudock.cli import main; main(['doctor', '--snapshot', sys.argv[1], '--json']);"
        "print('jsonschema' in sys.modules, file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(snapshot)], capture_output=True, text=True, timeout=120)
    assert proc.stderr.strip().splitlines()[-1] == "False", proc.stderr
