"""Finding: one thing the doctor concluded, with the line that proves it and the fix."""

from __future__ import annotations

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
