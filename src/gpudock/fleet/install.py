"""``gpudock fleet install STEP``: probe every host live, plan per host, apply the plans as playbooks.

Hosts whose plans are identical share one playbook (one Ansible run with ``--limit``). A plan the
planner refuses (a Linux driver on WSL, an engine over Docker Desktop) is that host's row, never run;
the playbooks re-check those refusals on the host before any change. Idempotent: a rerun skips every
step whose check passes, so a second run reports nothing changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ..doctor import Report
from ..exceptions import PlanRefused
from ..files import write_text_atomic
from ..install import plan_for
from ..install.ansible import dump_playbook, plan_play
from ..install.plan import Plan
from ..install.render import plan_view
from ..textsafety import printable
from . import engine
from .doctor import fleet_doctor

CHANGED, UNCHANGED, PLANNED, REFUSED, FAILED, UNREACHABLE = (
    "changed",
    "unchanged",
    "planned",
    "refused",
    "failed",
    "unreachable",
)


@dataclass
class InstallRow:
    host: str
    status: str
    reason: str | None = None
    changed: list[str] = field(default_factory=list)  # the tasks that changed something
    group: int | None = None  # index into InstallResult.groups

    def as_dict(self) -> dict:
        return {
            "host": self.host,
            "status": self.status,
            "reason": self.reason,
            "changed": self.changed,
            "group": self.group,
        }


@dataclass
class PlanGroup:
    plan: Plan
    hosts: list[str]
    playbook: Path


@dataclass
class InstallResult:
    step: str
    rows: list[InstallRow]
    groups: list[PlanGroup]
    applied: bool
    run_dir: Path
    declined: bool = False  # --apply was asked for, and the question was answered no (or nobody could answer)

    @property
    def ok(self) -> bool:
        return not self.declined and all(row.status in (CHANGED, UNCHANGED, PLANNED) for row in self.rows)

    @property
    def nothing_changed(self) -> bool:
        return self.applied and all(row.status == UNCHANGED for row in self.rows)

    def to_json(self) -> str:
        return json.dumps(
            {
                "step": self.step,
                "applied": self.applied,
                "hosts": [row.as_dict() for row in self.rows],
                "groups": [{"hosts": g.hosts, "playbook": str(g.playbook)} for g in self.groups],
            },
            indent=2,
            ensure_ascii=False,
        )


def group_plans(plans: dict[str, Plan]) -> list[tuple[Plan, list[str]]]:
    """Hosts with the same playbook, in inventory order: each group runs as one Ansible run."""
    groups: dict[str, tuple[Plan, list[str]]] = {}
    for host, plan in plans.items():
        key = dump_playbook([plan_play(plan)])
        groups.setdefault(key, (plan, []))[1].append(host)
    return list(groups.values())


def _row_from_outcome(host: str, outcome: engine.HostOutcome | None, group: int) -> InstallRow:
    if outcome is None:
        return InstallRow(host, FAILED, "Ansible reported nothing for this host", group=group)
    if outcome.unreachable:
        return InstallRow(host, UNREACHABLE, outcome.reason, group=group)
    if outcome.failed:
        return InstallRow(host, FAILED, f"{outcome.failed.task}: {outcome.reason}", group=group)
    changed = [t.task for t in outcome.changed]
    return InstallRow(host, CHANGED if changed else UNCHANGED, None, changed, group)


def fleet_install(
    inventory: engine.Inventory,
    run_dir: Path,
    step: str,
    *,
    plan_options: dict | None = None,
    forks: int = 5,
    apply: bool = False,
    confirm: Callable[[str], bool] | None = None,
    say: Callable[[str], None] = print,
) -> InstallResult:
    """Probe, plan per host, group, and (with ``apply``) run each group's playbook; ``confirm`` asks first."""
    report = fleet_doctor(inventory, run_dir, forks=forks)
    rows: dict[str, InstallRow] = {}
    plans: dict[str, Plan] = {}
    for row in report.rows:
        if not row.reachable:
            rows[row.host] = InstallRow(row.host, UNREACHABLE, row.error)
        elif row.snapshot is None:
            rows[row.host] = InstallRow(row.host, FAILED, row.error)
        else:
            try:
                seen = Report(row.findings, row.facts, row.snapshot)  # the fleet doctor's own, not probed again
                plans[row.host] = plan_for(step, seen, **(plan_options or {}))
            except PlanRefused as err:
                rows[row.host] = InstallRow(row.host, REFUSED, str(err))
    groups = []
    for number, (plan, hosts) in enumerate(group_plans(plans), 1):
        playbook = write_text_atomic(run_dir / "playbooks" / f"{step}-{number}.yml", dump_playbook([plan_play(plan)]))
        groups.append(PlanGroup(plan, hosts, playbook))
        for host in hosts:
            rows[host] = InstallRow(host, PLANNED, None, group=number - 1)
    do_apply, declined = apply and bool(groups), False
    if do_apply and confirm is not None:
        count = sum(len(g.hosts) for g in groups)
        do_apply = confirm(f"run {len(groups)} playbook(s) as root on {count} host(s)?")
        declined = not do_apply
    if do_apply:
        for index, group in enumerate(groups):
            say(f"== playbook {group.playbook.name} on {', '.join(group.hosts)}")
            outcomes = engine.run_playbook(
                [plan_play(group.plan)],
                inventory,
                run_dir / "ansible",
                limit=",".join(group.hosts),
                forks=forks,
                name=f"install-{step}-{index + 1}",
                on_task=lambda host, task: say(f"  {host}: {task.task}: {task.status}"),
            )
            for host in group.hosts:
                rows[host] = _row_from_outcome(host, outcomes.get(host), index)
    ordered = [rows[row.host] for row in report.rows]
    result = InstallResult(step, ordered, groups, do_apply, run_dir, declined)
    write_text_atomic(run_dir / "install.json", result.to_json() + "\n")
    return result


def print_install(result: InstallResult, console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    if not result.applied:
        for number, group in enumerate(result.groups, 1):
            hosts = printable(", ".join(group.hosts))
            console.print(Text(f"plan {number} for {hosts}: {printable(str(group.playbook))}"), soft_wrap=True)
            console.print(plan_view(group.plan), crop=False)
    width = min(max((len(r.host) for r in result.rows), default=4), 24)
    for row in result.rows:
        detail = row.reason or (f"{len(row.changed)} task(s) changed" if row.status == CHANGED else "")
        if row.status == UNCHANGED:
            detail = "nothing changed"
        line = f"{printable(row.host)[:width]:<{width}}  {row.status:<11}  {' '.join(printable(detail).split())}"
        console.print(Text(line), soft_wrap=True)
    if result.nothing_changed:
        console.print("nothing changed on any host")
    elif result.declined:
        console.print("Nothing was run: the question was not answered yes. Rerun with --yes to apply without asking.")
    elif not result.applied and result.groups:
        console.print("Nothing was run. Add --apply to run these playbooks (--yes to skip the question).")
