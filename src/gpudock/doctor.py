"""The doctor as one call, for every face: a snapshot (live or from a file) -> a Report.

The CLI, the notebooks (``gpudock.tutorial``) and the fleet hold this Report; none of them runs the
prober, the host facts (``gpudock.facts``), the generations table or the rules themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .diagnose import codes, diagnose
from .facts import HostInfo, host_info
from .findings import Finding, has_errors
from .generations import Generation, generations
from .snapshot import Snapshot

_WORST_FIRST = ("error", "warning")


@dataclass
class Report:
    """What the doctor concluded about one host: its findings, its host facts, which generations of
    "NVIDIA Docker" it has (deck 1.3) and the snapshot they came from."""

    findings: list[Finding]
    host: HostInfo
    snapshot: Snapshot
    generations: list[Generation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)

    @property
    def verdict(self) -> str:
        """'error', 'warning' or 'ok': the worst severity among the findings."""
        return verdict_of(self.findings)

    def about(self, layers: Iterable[str] | None = None) -> list[Finding]:
        """The findings of some layers of the rule table (all for None); a crashed rule shows in every layer."""
        if layers is None:
            return list(self.findings)
        wanted = set(codes(tuple(layers)))
        return [f for f in self.findings if f.code in wanted or f.code == "doctor-rule-error"]

    def __rich__(self):  # shows as the doctor's list in Jupyter and rich consoles
        from .views import doctor_view

        return doctor_view(self.findings, self.host)


def verdict_of(findings: Iterable[Finding]) -> str:
    severities = {f.severity for f in findings}
    return next((s for s in _WORST_FIRST if s in severities), "ok")


def probe_command(name: str) -> tuple[str, ...] | None:
    """The probe table's command for a probe a snapshot recorded without its argv (older or composed files).

    Only for probes that run no image: which image a container probe ran is not knowable afterwards.
    """
    from . import probe

    found = next((p for p in probe.probes() if p.name == name), None)
    return found.argv if found and found.image is None else None


def load_or_probe(snapshot: str | Path | Snapshot | None = None, deep: bool = False, say=print, **probing) -> Snapshot:
    """The snapshot to work from: given, read from a file, or probed live (``say`` hears of image pulls).

    ``probing``: ``probe.collect``'s ``containers``, ``pull`` and ``budget_s``; the live probe shows
    progress while it waits (``gpudock.progress``)."""
    if isinstance(snapshot, Snapshot):
        return snapshot
    if snapshot:
        return Snapshot.load(snapshot)
    from . import probe  # only a live look needs the prober (a replay starts faster without it)
    from .probe_run import running_commands
    from .progress import waiting

    with waiting("probing this host", running_commands, quiet=probing.get("budget_s") is not None):
        return probe.collect(deep=deep, say=say, **probing)


def check(
    snapshot: str | Path | Snapshot | None = None,
    deep: bool = False,
    say=print,
    image: str | None = None,
    **probing,
) -> Report:
    """Diagnose a snapshot (a file, a loaded Snapshot) or, for None, this host probed now.

    ``image`` adds `gpudock check-image`'s findings for that image against the same snapshot's GPUs.
    ``probing``: how to probe live (``budget_s``: at most these seconds; ``pull=False``: no image pull).
    """
    snap = load_or_probe(snapshot, deep=deep, say=say, **probing)
    host = host_info(snap)
    findings = diagnose(snap, host)
    if image:
        from .exceptions import MissingTool
        from .image import ImageUnreadable, check_image

        try:
            image_findings = check_image(image, snap).findings
        except MissingTool as err:  # the doctor never exits 3: an image it cannot read is unreadable input
            raise ImageUnreadable(image, f"cannot read it: {err}") from None
        rank = {severity: place for place, severity in enumerate(_WORST_FIRST)}
        findings = sorted(findings + image_findings, key=lambda f: rank.get(f.severity, 9))
    return Report(findings, host, snap, generations(snap))
