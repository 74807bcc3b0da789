"""Benchmark results: the `gpudock bench --json` contract, load/save/validate, compare."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..exceptions import ResultsFileError
from ..files import write_text_atomic

RESULT_KEYS = ("name", "where", "device", "precision", "size", "metric", "value", "repeats", "median_s", "spread")


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

    @property
    def key(self) -> tuple:
        """What makes two rows the same measurement; ``where`` is left out so host and container compare."""
        return (self.name, self.device, self.precision, self.size)


@dataclass
class Results:
    host: dict
    results: list[Result] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"host": self.host, "results": [asdict(r) for r in self.results]}

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
        results = []
        for index, row in enumerate(doc["results"]):
            if not isinstance(row, dict) or any(k not in row for k in RESULT_KEYS):
                missing = [k for k in RESULT_KEYS if not isinstance(row, dict) or k not in row]
                raise ResultsFileError(source, f"results[{index}] lacks {', '.join(missing)}")
            if not isinstance(row["value"], (int, float)) or isinstance(row["value"], bool):
                raise ResultsFileError(source, f"results[{index}].value must be a number, got {row['value']!r}")
            results.append(Result(**{k: row[k] for k in RESULT_KEYS}, note=str(row.get("note", ""))))
        return cls(doc.get("host", {}), results)

    @classmethod
    def load(cls, path: str | Path) -> Results:
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ResultsFileError(path, "no such file") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ResultsFileError(path, f"not a JSON results file ({type(err).__name__})") from None
        except OSError as err:
            raise ResultsFileError(path, f"cannot read ({err.strerror})") from None
        return cls.from_dict(doc, str(path))


@dataclass
class Comparison:
    key: tuple
    metric: str
    a: float
    b: float
    spread: float

    @property
    def ratio(self) -> float:
        return self.b / self.a if self.a else float("inf")

    @property
    def within_noise(self) -> bool:
        return abs(self.ratio - 1) <= max(self.spread, 0.01)


def compare(a: Results, b: Results) -> list[Comparison]:
    """Points measured in both files (same name, place, device, precision, size), B relative to A."""
    index = {r.key: r for r in a.results}
    rows = []
    for r in b.results:
        if r.key in index and index[r.key].metric == r.metric:
            rows.append(Comparison(r.key, r.metric, index[r.key].value, r.value, max(r.spread, index[r.key].spread)))
    return rows
