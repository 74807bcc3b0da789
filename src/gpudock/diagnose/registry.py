"""The rule table: one record per rule, after jupytext's format registry (``JUPYTEXT_FORMATS``).

A record says which finding code a rule reports, its default severity, the layer it belongs to (what
to fix first: platform, then driver, apt, Docker, the toolkit, containers), its place inside that layer,
the function that looks at the snapshot, and the function that writes the fix. Several records may
share one code (the two NVML "Unknown Error"s). ``diagnose`` runs the table; the tutorial asks it
which codes a layer holds, so nothing keeps a parallel list of codes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..facts.host import HostInfo
from ..findings import Finding
from ..snapshot import Snapshot

LAYERS = ("platform", "driver", "apt", "docker", "toolkit", "container")
SEVERITIES = ("error", "warning", "info", "ok")


@dataclass(frozen=True)
class Hit:
    """What a rule saw: the evidence line, facts the fix needs, and optionally a weaker severity or
    a more specific title than the record's."""

    evidence: str
    data: Mapping = field(default_factory=dict)
    severity: str | None = None
    title: str | None = None


RuleFn = Callable[[Snapshot, HostInfo], "Hit | None"]
FollowUpFn = Callable[[Snapshot, HostInfo, Sequence[Finding]], "Hit | None"]
FixFn = Callable[[Snapshot, HostInfo, Hit], list]


@dataclass(frozen=True)
class RuleRecord:
    """One row of the rule table.

    ``rule(snap, host)`` returns a Hit or None. ``fix`` is a list of steps or
    ``fix(snap, host, hit) -> list``. A record with ``follow_up`` runs after all the others and is
    given their findings (``rule(snap, host, findings)``): the catch-all for unexplained failures.
    """

    code: str
    severity: str
    layer: str
    order: int
    rule: RuleFn | FollowUpFn
    fix: FixFn | Sequence[str]
    title: str
    docs: tuple[str, ...] = ()
    follow_up: bool = False

    @property
    def name(self) -> str:
        return getattr(self.rule, "__name__", self.code)

    @property
    def rank(self) -> tuple[int, int]:
        return LAYERS.index(self.layer), self.order

    def finding(self, snap: Snapshot, host: HostInfo, hit: Hit) -> Finding:
        steps = self.fix(snap, host, hit) if callable(self.fix) else list(self.fix)
        severity = hit.severity if hit.severity in SEVERITIES else self.severity
        return Finding(self.code, severity, hit.title or self.title, hit.evidence, list(steps), list(self.docs))


RULES: list[RuleRecord] = []


def register(
    code: str,
    *,
    severity: str,
    layer: str,
    order: int,
    title: str,
    fix: FixFn | Sequence[str] = (),
    docs: Sequence[str] = (),
    follow_up: bool = False,
):
    """Decorator: add the decorated function to the table as the rule of a new record.

    ``@register("docker-ok", severity="ok", layer="docker", order=90, title="Docker works")``: every field but
    the code by name, so a rule's header reads as what it is (``fix`` and ``docs`` default to none).
    """
    if layer not in LAYERS or severity not in SEVERITIES:
        raise ValueError(f"{code}: bad layer {layer!r} or severity {severity!r}")

    def add(func):
        RULES.append(RuleRecord(code, severity, layer, order, func, fix, title, tuple(docs), follow_up))
        return func

    return add


def codes(layers: Sequence[str] | None = None) -> list[str]:
    """Finding codes in table order (what to fix first), limited to ``layers`` when given."""
    seen: list[str] = []
    for record in sorted(RULES, key=lambda r: r.rank):
        if (layers is None or record.layer in layers) and record.code not in seen:
            seen.append(record.code)
    return seen


def layer_of(code: str) -> str | None:
    """The layer of a finding code (the first record's, where several rules share it)."""
    return next((r.layer for r in sorted(RULES, key=lambda r: r.rank) if r.code == code), None)
