"""Notebook 07's helpers: the fleet live (with an inventory) or replayed from a committed run (without one).

The replay needs nothing of Ansible: a fleet run is a folder (fleet.json, snapshots/, results/), and
each snapshot is diagnosed again here by the same rules, so the output is the same on every machine.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from rich.console import Console

REPLAY = Path(__file__).resolve().parents[1] / "data" / "fleet-replay"
WIDTH = 80


def _console(file=None) -> Console:
    """Plain text at 80 columns: what a terminal shows, and the same in every notebook run."""
    return Console(file=file or sys.stdout, width=WIDTH, force_terminal=False, force_jupyter=False, color_system=None)


def doctor(inventory: str = "", limit: str | None = None):
    """The fleet report: live through Ansible with an inventory, else the committed run replayed."""
    from .doctor import FleetReport, fleet_doctor

    if not inventory:
        report = FleetReport.load(REPLAY / "fleet.json")
        report.run_dir = Path("fleet-replay")  # shown as a name, not this machine's path
        return report
    from ..rundir import new_run_dir
    from .engine import read_inventory

    hosts_read = read_inventory(inventory, limit)  # before the run folder: a bad inventory leaves nothing behind
    return fleet_doctor(hosts_read, new_run_dir(suffix="-fleet-doctor"))


def show(report) -> None:
    from .table import print_fleet

    print_fleet(report, _console())


def table_text(report) -> str:
    from .table import print_fleet

    out = io.StringIO()
    print_fleet(report, _console(out))
    return out.getvalue()


def snapshot_of(report, host: str) -> Path:
    """Where a host's saved snapshot is (replayable with `gpudock doctor --snapshot`)."""
    row = next(r for r in report.rows if r.host == host)
    base = REPLAY if str(report.run_dir) == "fleet-replay" else Path(report.run_dir)
    return base / row.snapshot_file


def playbook_head(report, host: str, step: str = "docker", lines: int = 30) -> str:
    """The first lines of the playbook `gpudock plan STEP --format ansible` renders for that host."""
    from ..install import plan_for
    from ..install.ansible import to_playbook

    text = to_playbook(plan_for(step, snapshot_of(report, host)))
    return "\n".join(text.splitlines()[:lines])


def bench(inventory: str = "", limit: str | None = None):
    """Every host's benchmark side by side: live with an inventory, else the committed results."""
    from .bench import FleetBench, HostBench, fleet_bench

    if inventory:
        from ..rundir import new_run_dir
        from .engine import read_inventory

        hosts_read = read_inventory(inventory, limit)
        return fleet_bench(hosts_read, new_run_dir(suffix="-fleet-bench"))
    from ..bench.results import Results

    hosts = [
        HostBench(path.stem, Results.load(path), how="virtual environment from local wheels")
        for path in sorted((REPLAY / "results").glob("*.json"))
    ]
    return FleetBench(hosts, Path("fleet-replay"))


def show_bench(result) -> None:
    from .bench import print_fleet_bench

    print_fleet_bench(result, _console())
