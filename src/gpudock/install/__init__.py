"""Install steps as plans: the NVIDIA driver, Docker, the NVIDIA Container Toolkit."""

from __future__ import annotations

from ..exceptions import ApplyFailed, PlanRefused
from ..facts.host import HostInfo
from ..snapshot import Snapshot
from .apply import ApplyResult, apply
from .cdi import plan_cdi
from .distro import DISTRO_DOCKER_IO
from .docker import plan_docker
from .driver import plan_driver
from .plan import Check, Plan, Step
from .toolkit import plan_toolkit

STEPS = ("driver", "docker", "toolkit", "cdi", "all")


def plan_for(step: str, snapshot=None, *, say=print, **options) -> Plan:
    """The one way every face turns (step, host) into a Plan: the CLI, the notebooks and the fleet.

    ``snapshot``: a doctor Report, a Snapshot, a snapshot file, or None to probe this host now; ``options``
    are make_plan's (Docker's source, driver branch and modules, toolkit version, CDI).
    """
    from ..doctor import Report, load_or_probe
    from ..facts.host import host_info

    live = snapshot is None or (isinstance(snapshot, Report) and snapshot.snapshot.source is None)
    if step == "cdi" and live and "spec_text" not in options:  # this host's spec, shown in the plan
        options["spec_text"] = live_spec()
    if isinstance(snapshot, Report):  # the doctor already read this host: plan from what it saw
        return make_plan(step, snapshot.snapshot, snapshot.host, **options)
    snap = load_or_probe(snapshot, say=say)  # planning needs the host facts, not the rules
    return make_plan(step, snap, host_info(snap), **options)


def live_spec(root: str = "/") -> str:
    """The CDI spec of this host's loaded driver; PlanRefused (with what to do) where none is loaded."""
    from ..cdi.discover import DriverNotFound
    from ..cdi.generate import generate

    try:
        return generate(root, "nvidia.yaml")[0]
    except DriverNotFound as err:
        raise PlanRefused(f"no CDI spec can be written here: {err}") from None


def make_plan(
    name: str,
    snap: Snapshot,
    host: HostInfo,
    *,
    source: str = "distro",
    branch: str | None = None,
    open_modules: bool = False,
    modules: str | None = None,
    toolkit_version: str | None = None,
    cdi: bool = False,
    spec_text: str | None = None,
) -> Plan:
    """The plan for one install step (or ``all`` of them, in the deck's order) on this host.

    ``modules``: the driver's kernel modules, 'open' or 'proprietary'; None chooses from the GPU's chip
    (lspci): proprietary pinned to 580 for Maxwell/Pascal/Volta, else open (``open_modules`` = 'open').
    ``cdi``: also set Docker up for CDI; refused with Docker Engine < 25.
    ``spec_text``: for the ``cdi`` step, the spec generated from this host (None: generated when applied).
    """
    if name == "driver":
        return plan_driver(snap, host, branch=branch, open_modules=open_modules, modules=modules)
    if name == "docker":
        return plan_docker(snap, host, source=source)
    if name == "toolkit":
        return plan_toolkit(snap, host, version=toolkit_version, cdi=cdi)
    if name == "cdi":
        return plan_cdi(snap, host, spec_text=spec_text)
    if name == "all":
        return _plan_all(snap, host, source, branch, open_modules, modules, toolkit_version, cdi)
    raise PlanRefused(f"unknown install step {name!r}: choose one of {', '.join(STEPS)}")


def _plan_all(snap, host, source, branch, open_modules, modules, toolkit_version, cdi) -> Plan:
    """Every step in the deck's order: driver (not on WSL), Docker, the toolkit (not with Docker Desktop)."""
    parts, notes = [], []
    if cdi and source == "distro" and (host.distro_id, host.distro_version) in DISTRO_DOCKER_IO:
        raise PlanRefused(
            f"--cdi needs Docker Engine 25 or newer, and {host.pretty_name or host.distro_id}'s docker.io is "
            f"{DISTRO_DOCKER_IO[(host.distro_id, host.distro_version)]}: add --source docker-ce "
            "(Docker's own engine) to plan CDI; where docker.io already runs, remove it first "
            "(`sudo apt-get remove docker.io`)"
        )
    if host.is_wsl:
        notes.append("driver: skipped on WSL; the Windows NVIDIA driver provides the GPU")
    else:
        parts.append(plan_driver(snap, host, branch=branch, open_modules=open_modules, modules=modules))
    if host.docker_desktop:
        notes.append("docker and toolkit: skipped; Docker Desktop's engine brings both (turn on its WSL integration)")
    else:
        parts += [
            plan_docker(snap, host, source=source),
            plan_toolkit(snap, host, version=toolkit_version, cdi=cdi, driver_pending=not host.is_wsl),
        ]
    if not parts:
        from .distro import describe

        return Plan("all", describe(host), [], notes=notes)
    return Plan(
        "all",
        parts[0].host,
        [s for p in parts for s in p.steps],
        verify=parts[-1].verify,
        notes=list(dict.fromkeys(notes + [n for p in parts for n in p.notes])),  # each note once
    )


__all__ = [
    "plan_for",
    "apply",
    "ApplyFailed",
    "ApplyResult",
    "Check",
    "make_plan",
    "Plan",
    "PlanRefused",
    "Step",
    "STEPS",
]
