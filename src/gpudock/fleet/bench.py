"""``gpudock fleet bench``: ``gpudock bench --json`` on every host, the results side by side.

A host that has gpudock uses it. Elsewhere gpudock goes into a virtual environment there, from wheels
built here (gpudock and its pure-Python needs for the benchmark; NumPy and CuPy are the host's own,
seen through ``--system-site-packages``); ``python3-venv`` and NumPy come from the distribution
through the plan machinery where missing. Without CuPy a host measures its CPU only, and says so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..bench.results import Result, Results
from ..exceptions import BenchmarkError, MissingTool, ResultsFileError
from ..files import write_text_atomic
from ..install.ansible import plan_play
from ..install.plan import Check, Plan, Step, apt_get
from ..textsafety import printable
from . import engine

# What `gpudock bench` imports beyond the standard library and NumPy/CuPy: rich and its dependencies.
PURE_PYTHON = ("rich", "markdown-it-py", "mdurl", "pygments")
REMOTE_HOME = "{{ gpudock_home.stdout }}/.cache/gpudock-fleet"  # the login user's home, asked first
BENCH_TASK = "gpudock bench"


@dataclass
class HostBench:
    host: str
    results: Results | None = None
    error: str | None = None
    how: str = ""  # "gpudock on the host" | "virtual environment from local wheels"

    @property
    def cpu_only(self) -> str | None:
        """Why this host measured no GPU, in its own words, or None."""
        if self.results is None:
            return None
        return self.results.host.get("no_gpu") or None


@dataclass
class FleetBench:
    hosts: list[HostBench]
    run_dir: Path
    figure: Path | None = None

    @property
    def ok(self) -> bool:
        return all(h.results is not None for h in self.hosts)

    def to_json(self) -> str:
        return json.dumps(
            {
                "hosts": [
                    {
                        "host": h.host,
                        "error": h.error,
                        "how": h.how,
                        "cpu_only": h.cpu_only,
                        "results": h.results.to_dict() if h.results else None,
                    }
                    for h in self.hosts
                ],
                "figure": str(self.figure) if self.figure else None,
            },
            indent=2,
            ensure_ascii=False,
        )


def build_wheels(folder: Path) -> list[Path]:
    """gpudock's wheel from this checkout and the pure-Python wheels the benchmark needs, at the versions here."""
    folder.mkdir(parents=True, exist_ok=True)
    source = Path(__file__).resolve().parents[3]
    if not (source / "pyproject.toml").exists():
        raise MissingTool("no gpudock source checkout beside this package", "run fleet bench from a git checkout")
    pins = [f"{name}=={metadata.version(name)}" for name in PURE_PYTHON]
    for argv in (
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(folder),
            str(source),
        ],
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder), *pins],
    ):
        proc = subprocess.run(argv, capture_output=True, text=True)
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            detail = next((line.strip() for line in lines if "error:" in line.lower()), lines[-1] if lines else "")
            raise BenchmarkError(f"building wheels failed ({' '.join(argv[3:5])}): {detail}")
    return sorted(folder.glob("*.whl"))


def prerequisites_plan() -> Plan:
    """python3-venv and NumPy from the distribution, only where missing (Debian and Ubuntu)."""
    has_venv = Check(("python3", "-c", "import ensurepip, venv"), what="python3 can make virtual environments")
    has_numpy = Check(("python3", "-c", "import numpy"), what="python3 has NumPy")
    both = Check(("python3", "-c", "import ensurepip, venv, numpy"), what="python3 has venv and NumPy")
    return Plan(
        "bench-prerequisites",
        "fleet",
        [
            Step("refresh the package lists", apt_get("update"), check=both),
            Step("install python3-venv", apt_get("install", "-y", "python3-venv"), check=has_venv, verify=has_venv),
            Step(
                "install NumPy (python3-numpy)",
                apt_get("install", "-y", "python3-numpy"),
                check=has_numpy,
                verify=has_numpy,
            ),
        ],
    )


# Over 60 lines on purpose: a playbook as data, its plays in the order Ansible runs them.
def bench_plays(wheels: list[Path], quick: bool) -> list[dict]:
    venv = f"{REMOTE_HOME}/venv"
    found = "gpudock_found"
    prereq = plan_play(prerequisites_plan(), refuse_wsl=False)
    prereq["name"] = "gpudock fleet bench: prerequisites where gpudock is missing"
    prereq["tasks"] = [
        _find_gpudock(found),
        {"name": "prerequisites", "block": prereq["tasks"], "when": f"{found}.rc != 0"},
    ]
    names = [w.name for w in wheels]
    install = [
        {"name": "wheel folder", "ansible.builtin.file": {"path": f"{REMOTE_HOME}/wheels", "state": "directory"}},
        *[
            {"name": f"copy {name}", "ansible.builtin.copy": {"src": str(w), "dest": f"{REMOTE_HOME}/wheels/{name}"}}
            for w, name in zip(wheels, names, strict=True)
        ],
        {
            "name": "virtual environment (sees the host's NumPy and CuPy)",
            "ansible.builtin.command": {
                "argv": ["python3", "-m", "venv", "--system-site-packages", venv],
                "creates": f"{venv}/bin/python",
            },
        },
        {
            "name": "gpudock and its pure-Python needs, from the local wheels only",
            "ansible.builtin.command": {
                "argv": [
                    f"{venv}/bin/python",
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--no-index",
                    "--no-deps",
                    "--force-reinstall",
                ]
                + [f"{REMOTE_HOME}/wheels/{name}" for name in names]
            },
            "changed_when": False,
        },
    ]
    venv_gpudock = "gpudock_home.stdout + '/.cache/gpudock-fleet/venv/bin/gpudock'"
    program = f"{{{{ 'gpudock' if {found}.rc == 0 else {venv_gpudock} }}}}"
    run = {
        "name": BENCH_TASK,
        "ansible.builtin.command": {"argv": [program, "bench", "--json"] + (["--quick"] if quick else [])},
        "register": "gpudock_bench",
        "changed_when": False,
        "timeout": 3600,
    }
    return [
        prereq,
        {
            "name": "gpudock fleet bench",
            "hosts": "all",
            "gather_facts": False,
            "strategy": "free",
            "tasks": [
                _find_gpudock(found),
                {
                    "name": "the login user's home",
                    "ansible.builtin.command": {"argv": ["python3", "-c", "import os; print(os.path.expanduser('~'))"]},
                    "register": "gpudock_home",
                    "changed_when": False,
                },
                {"name": "install gpudock", "block": install, "when": f"{found}.rc != 0"},
                run,
            ],
        },
    ]


def _find_gpudock(var: str) -> dict:
    return {
        "name": "is gpudock on this host?",
        "ansible.builtin.command": {"argv": ["gpudock", "--version"]},
        "register": var,
        "changed_when": False,
        "failed_when": False,
        "check_mode": False,
    }


def _host_bench(host: str, outcome: engine.HostOutcome | None) -> HostBench:
    if outcome is None:
        return HostBench(host, error="Ansible reported nothing for this host")
    if outcome.unreachable or outcome.failed:
        return HostBench(host, error=outcome.reason)
    result = outcome.result_of(BENCH_TASK)
    if result is None:
        return HostBench(host, error="the benchmark did not run")
    found = outcome.result_of("is gpudock on this host?") or {}
    how = "gpudock on the host" if found.get("rc") == 0 else "virtual environment from local wheels"
    try:
        results = Results.from_dict(json.loads(result.get("stdout") or ""), source=f"{host}'s bench output")
    except (json.JSONDecodeError, ResultsFileError) as err:
        return HostBench(host, error=f"its `gpudock bench --json` printed no results: {err}", how=how)
    return HostBench(host, results, how=how)


def fleet_bench(
    inventory: engine.Inventory,
    run_dir: Path,
    *,
    forks: int = 5,
    quick: bool = True,
    say: Callable[[str], None] = print,
) -> FleetBench:
    """`gpudock bench --json` on every host of ``inventory`` (``engine.read_inventory``), side by side."""
    say("fleet bench: building gpudock's wheel here")
    wheels = build_wheels(run_dir / "wheels")
    outcomes = engine.run_playbook(
        bench_plays(wheels, quick),
        inventory,
        run_dir / "ansible",
        forks=forks,
        name="fleet-bench",
        on_task=lambda host, task: say(f"  {host}: {task.task}: {task.status}") if task.status != "skipped" else None,
    )
    rows = [_host_bench(host, outcomes.get(host)) for host in inventory.hosts]
    for row in rows:
        if row.results:
            from .doctor import file_name

            row.results.save(run_dir / "results" / f"{file_name(row.host)}.json")
    result = FleetBench(rows, run_dir)
    result.figure = plot_side_by_side(result, run_dir / "fleet-bench.png")
    write_text_atomic(run_dir / "fleet-bench.json", result.to_json() + "\n")
    return result


def _point(r: Result) -> tuple:
    """A measurement across hosts: the same benchmark, place, precision and size (the device differs)."""
    return (r.name, r.where, r.precision, r.size, r.metric)


def side_by_side(bench: FleetBench) -> tuple[list[str], list[tuple[tuple, list[Result | None]]]]:
    hosts = [h for h in bench.hosts if h.results]
    points: dict[tuple, list[Result | None]] = {}
    for index, host in enumerate(hosts):
        for r in host.results.results:
            if r.where == "reference":
                continue
            points.setdefault(_point(r), [None] * len(hosts))[index] = r
    return [h.host for h in hosts], list(points.items())


def plot_side_by_side(bench: FleetBench, path: Path) -> Path | None:
    names, points = side_by_side(bench)
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(points), figsize=(3 * len(points) + 1, 3.5), squeeze=False)
    for ax, (point, row) in zip(axes[0], points, strict=True):
        ax.bar(names, [r.value if r else 0 for r in row], color="#76b900")
        ax.set_title(f"{point[0]} {point[2]}\n{point[4]}", fontsize=8)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    fig.suptitle("gpudock fleet bench")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def print_fleet_bench(bench: FleetBench, console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    for host in bench.hosts:
        name, how = printable(host.host), printable(host.how)
        if host.error:
            console.print(Text(f"{name}: failed: {printable(host.error)}", style="red"), soft_wrap=True)
        elif host.cpu_only:
            console.print(
                Text(f"{name}: CPU only ({' '.join(printable(host.cpu_only).split())}); {how}"), soft_wrap=True
            )
        else:
            console.print(Text(f"{name}: {how}"), soft_wrap=True)
    names, points = side_by_side(bench)
    if points:
        table = Table(title="gpudock fleet bench (ratio: against the first host)")
        table.add_column("benchmark")
        table.add_column("metric")
        for name in names:
            table.add_column(Text(printable(name)), justify="right")
        for point, row in points:
            first = row[0].value if row[0] else None
            cells = []
            for r in row:
                if r is None:
                    cells.append(Text("—"))
                    continue
                ratio = f" ×{r.value / first:.2f}" if first and r is not row[0] else ""
                cells.append(Text(f"{r.value:,.1f}{ratio}"))
            table.add_row(Text(printable(f"{point[0]} {point[2]} {point[3]}")), Text(printable(str(point[4]))), *cells)
        console.print(table)
    if bench.figure:
        console.print(Text(f"figure: {bench.figure}"), soft_wrap=True)
