"""Finding: one thing the doctor concluded, with the line that proves it and the fix."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass
class Finding:
    code: str
    severity: str
    title: str
    evidence: str = ""
    fix: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def doctor_json(findings: list[Finding], host, generations: list | None = None) -> str:
    """The contract's ``{"findings", "host"}`` (``host``: HostInfo), plus ``generations`` where given (additive).

    Here, beside Finding, so that ``gpudock doctor --json`` needs no terminal rendering (rich) at all."""
    data = {"findings": [f.as_dict() for f in findings], "host": host.as_dict()}
    if generations is not None:
        data["generations"] = [asdict(g) for g in generations]
    return json.dumps(data, indent=2, ensure_ascii=False)
