"""Benchmark results: the `gpudock bench --json` contract, load/save/validate, compare."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..exceptions import ResultsFileError
from ..files import parse_json, read_json_text, write_text_atomic

RESULT_KEYS = ("name", "where", "device", "precision", "size", "metric", "value", "repeats", "median_s", "spread")
_TEXT = {"type": "string", "maxLength": 4096}
_NUMBER = {"type": "number", "minimum": -1e300, "maximum": 1e300}
_MAYBE_NUMBER = {"type": ["number", "null"], "minimum": -1e300, "maximum": 1e300}
# additive row fields (attestation, telemetry, "why low"); older files lack them, readers may ignore them
_ADDITIVE = {
    "ceiling": _MAYBE_NUMBER,
    "ceiling_source": _TEXT,
    "fraction_of_ceiling": _MAYBE_NUMBER,
    "best_published": _MAYBE_NUMBER,
    "best_published_source": _TEXT,
    "expected_fraction": _MAYBE_NUMBER,
    "median_uncertainty": _MAYBE_NUMBER,
    "noisy": {"type": "boolean"},
    "telemetry": {"type": ["object", "null"]},
    "why_low": {"type": "array", "maxItems": 64, "items": {"type": "object"}},
    "vs_reference": {"type": ["object", "null"]},
}
ADDITIVE_KEYS = ("note", *_ADDITIVE)  # row keys beyond RESULT_KEYS that gpudock writes (docs/contracts.md)
# the `gpudock bench --json` contract (docs/contracts.md); extra keys are allowed (additive fields)
RESULTS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "gpudock bench results (docs/contracts.md)",
    "type": "object",
    "required": ["results"],
    "properties": {
        "host": {"type": "object"},
        "results": {
            "type": "array",
            "maxItems": 100_000,
            "items": {
                "type": "object",
                "required": list(RESULT_KEYS),
                "properties": {
                    "name": _TEXT,
                    "where": _TEXT,
                    "device": _TEXT,
                    "precision": _TEXT,
                    "size": {"type": "integer", "minimum": 0, "maximum": 2**63},
                    "metric": _TEXT,
                    "value": _NUMBER,
                    "repeats": {"type": "integer", "minimum": 0, "maximum": 2**31},
                    "median_s": _NUMBER,
                    "spread": _NUMBER,
                    "note": _TEXT,
                    **_ADDITIVE,
                },
            },
        },
    },
}


def _schema_problem(doc) -> str | None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    from ..textsafety import printable

    error = best_match(Draft202012Validator(RESULTS_SCHEMA).iter_errors(doc))
    if error is None:
        return None
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    shown = json.dumps(error.instance, ensure_ascii=True)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    if error.validator == "required" and error.absolute_path:
        return printable(f"{where} lacks {error.message.split(' is a required')[0]}")
    words = {"number": "a number", "integer": "an integer", "string": "text", "object": "an object", "array": "a list"}
    if error.validator == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        expected = " or ".join(words.get(k, str(k)) for k in kinds)
        return printable(f"{where or 'the top level'} must be {expected}, got {shown}"[:200])
    return printable(f"{where or 'the top level'}: out of range or too long: {shown}"[:200])


@dataclass
class Result:
    """One measured point. ``spread`` is (max - min) / median of the repeats' times: 0.02 = ±1 %."""

    name: str
    where: str
    device: str
    precision: str
    size: int
    metric: str
    value: float
    repeats: int
    median_s: float
    spread: float
    note: str = ""
    # additive fields (docs/contracts.md): attestation against the device's ceiling and the best published
    # figure, the median's uncertainty, what the GPU did meanwhile, and why a figure is low
    ceiling: float | None = None
    ceiling_source: str = ""
    fraction_of_ceiling: float | None = None
    best_published: float | None = None
    best_published_source: str = ""
    expected_fraction: float | None = None
    median_uncertainty: float | None = None
    noisy: bool = False
    telemetry: dict | None = None
    why_low: list = field(default_factory=list)
    vs_reference: dict | None = None
    window: tuple = field(default=(0.0, 0.0), repr=False, compare=False)  # wall-clock span; not written

    def to_dict(self) -> dict:
        row = asdict(self)
        row.pop("window")
        return row

    @property
    def key(self) -> tuple:
        """What makes two rows the same measurement; ``where`` is left out so host and container compare."""
        return (self.name, self.device, self.precision, self.size)


def _finite(value) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _additive(row: dict) -> dict:
    """The additive fields a file carries, each kept only when it has the right type (older files and other
    writers may lack them or carry something else: such a field reads as absent, never as an error)."""
    out = {k: _finite(row.get(k)) for k in _NUMBER_FIELDS if k in row}
    out.update({k: str(row[k]) for k in ("ceiling_source", "best_published_source") if isinstance(row.get(k), str)})
    if isinstance(row.get("noisy"), bool):
        out["noisy"] = row["noisy"]
    for key in ("telemetry", "vs_reference"):
        if isinstance(row.get(key), dict):
            out[key] = row[key]
    verdicts = row.get("why_low")
    if isinstance(verdicts, list):
        out["why_low"] = [
            {k: str(v) for k, v in item.items() if isinstance(v, str)} for item in verdicts if isinstance(item, dict)
        ]
    return out


_NUMBER_FIELDS = ("ceiling", "fraction_of_ceiling", "best_published", "expected_fraction", "median_uncertainty")


@dataclass
class Results:
    host: dict
    results: list[Result] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"host": self.host, "results": [r.to_dict() for r in self.results]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def save(self, path: str | Path) -> Path:
        return write_text_atomic(path, self.to_json() + "\n")

    @classmethod
    def from_dict(cls, doc, source: str = "results") -> Results:
        if (
            not isinstance(doc, dict)
            or not isinstance(doc.get("results"), list)
            or not isinstance(doc.get("host", {}), dict)
        ):
            raise ResultsFileError(source, 'not a gpudock bench file (needs {"host": {...}, "results": [...]})')
        problem = _schema_problem(doc)
        if problem and any(
            not isinstance(row, dict) or any(k not in row for k in RESULT_KEYS) for row in doc["results"]
        ):
            problem = None  # the row-by-row message below names the missing keys
        if problem:
            raise ResultsFileError(source, problem)
        results = []
        for index, row in enumerate(doc["results"]):
            if not isinstance(row, dict) or any(k not in row for k in RESULT_KEYS):
                missing = [k for k in RESULT_KEYS if not isinstance(row, dict) or k not in row]
                raise ResultsFileError(source, f"results[{index}] lacks {', '.join(missing)}")
            if not isinstance(row["value"], (int, float)) or isinstance(row["value"], bool):
                raise ResultsFileError(source, f"results[{index}].value must be a number, got {row['value']!r}")
            results.append(Result(**{k: row[k] for k in RESULT_KEYS}, note=str(row.get("note", "")), **_additive(row)))
        return cls(doc.get("host", {}), results)

    @classmethod
    def merged(cls, first: Results, *others: Results) -> Results:
        """One file from several runs (host, container, reference rows side by side): the first run's
        host facts, every run's rows; each other run's facts are kept under host["merged"]."""
        host = dict(first.host)
        if others:
            host["merged"] = [o.host for o in others]
        return cls(host, [r for run in (first, *others) for r in run.results])

    @classmethod
    def load(cls, path: str | Path) -> Results:
        path = Path(path)
        text = read_json_text(path, ResultsFileError)
        try:
            doc = parse_json(text, str(path), ResultsFileError)
        except ResultsFileError as err:
            raise ResultsFileError(path, f"not a JSON results file: {err.problem}") from None
        return cls.from_dict(doc, str(path))


@dataclass
class Comparison:
    """One point measured in both files. Every metric here is a rate (GFLOP/s, GB/s): higher is faster.

    ``spread`` is the larger of the two rows' spreads, kept for older callers; the verdict uses the
    measured spread of both sides: each median sits in a band of ± half its own spread, and a
    difference counts only where the bands do not overlap, i.e. beyond (spread_a + spread_b) / 2.
    """

    key: tuple
    metric: str
    a: float
    b: float
    spread: float
    spread_a: float = 0.0
    spread_b: float = 0.0
    where_a: str = ""
    where_b: str = ""

    @property
    def ratio(self) -> float:
        return self.b / self.a if self.a else float("inf")

    @property
    def noise(self) -> float:
        """Relative difference the two measurements' own spreads can explain."""
        if self.spread_a or self.spread_b:
            return (self.spread_a + self.spread_b) / 2
        return self.spread / 2

    @property
    def within_noise(self) -> bool:
        return abs(self.ratio - 1) <= self.noise

    @property
    def faster(self) -> str:
        """'A', 'B', or '' when the difference is within the measured spread."""
        if self.within_noise:
            return ""
        return "B" if self.ratio > 1 else "A"

    @property
    def verdict(self) -> str:
        if self.within_noise:
            return f"within spread (±{100 * self.noise:.1f} %)"
        pct = 100 * (self.ratio - 1) if self.ratio > 1 else 100 * (1 / self.ratio - 1)
        return f"{self.faster} faster by {pct:.1f} % (beyond ±{100 * self.noise:.1f} %)"


def _pairable(where_a: str, where_b: str) -> bool:
    """NVIDIA's rows pair only with NVIDIA's; gpudock's host and container rows pair with each other."""
    return (where_a == "reference") == (where_b == "reference")


def compare(a: Results, b: Results) -> list[Comparison]:
    """Points measured in both files (same name, device, precision, size), B relative to A.

    Rows of the same ``where`` pair first (a merged file may hold host, container and reference rows);
    otherwise a host row pairs with a container row, which is what comparing a host run with a container
    run means. ``"where": "reference"`` rows pair only with reference rows.
    """
    index: dict[tuple, list[Result]] = {}
    for r in a.results:
        index.setdefault(r.key, []).append(r)
    rows = []
    for r in b.results:
        candidates = [x for x in index.get(r.key, []) if x.metric == r.metric and _pairable(x.where, r.where)]
        if not candidates:
            continue
        same = [x for x in candidates if x.where == r.where]
        x = (same or candidates)[0]
        if not same and any(y.key == r.key and y.where == x.where for y in b.results if y is not r):
            continue  # B has its own row of x's kind for this key: that one pairs with x
        rows.append(
            Comparison(r.key, r.metric, x.value, r.value, max(r.spread, x.spread), x.spread, r.spread, x.where, r.where)
        )
    return rows
