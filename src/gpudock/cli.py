"""Command line: parse, call the library, print. No logic of its own.

Each subcommand is a pair: ``_add_NAME`` builds its parser right above ``_NAME``, its handler (pipx's
layout). Handlers return an ``ExitCode``; errors are exceptions from ``gpudock.exceptions`` that carry
their own message and exit code.
"""

from __future__ import annotations

import argparse
import sys

from ._version import __version__
from .exceptions import CannotWrite, GpudockError, NoComparablePoints, UsageError
from .exitcodes import ExitCode


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), not usage + error."""

    def error(self, message):
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _say(line: str) -> None:
    print(line, file=sys.stderr)


# --- doctor --------------------------------------------------------------------------------------------


def _add_doctor(sub) -> None:
    doctor = sub.add_parser("doctor", help="say what state the host is in, what is broken and the fix")
    doctor.add_argument("--snapshot", metavar="FILE", help="diagnose a saved snapshot instead of this host")
    doctor.add_argument("--json", action="store_true", help="print {findings, host, generations} as JSON")
    doctor.add_argument(
        "--save-snapshot", metavar="FILE", help="also write the snapshot (to send instead of a screenshot)"
    )
    doctor.add_argument(
        "--deep", action="store_true", help="also run slow probes (apt repositories, nbody, sudo docker)"
    )
    doctor.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show the evidence of what is fine and the NVIDIA Docker generations",
    )
    doctor.add_argument(
        "--image", metavar="IMAGE", help="also check whether this image runs here (as `gpudock check-image`)"
    )
    doctor.set_defaults(func=_doctor)


def _doctor(args) -> ExitCode:
    from .doctor import check
    from .views import doctor_json, print_findings

    report = check(args.snapshot, deep=args.deep, say=_say, image=args.image)
    if args.save_snapshot:
        report.snapshot.save(args.save_snapshot)
    if args.json:
        print(doctor_json(report.findings, report.host, report.generations))
    else:  # --verbose also shows which generations of "NVIDIA Docker" the host has (deck 1.3)
        shown = report.generations if args.verbose else None
        print_findings(report.findings, report.host, verbose=args.verbose, generations=shown)
    return ExitCode.OK if report.ok else ExitCode.PROBLEM


# --- check-image ---------------------------------------------------------------------------------------


def _add_check_image(sub) -> None:
    check = sub.add_parser(
        "check-image", help="will this image run here? its CUDA kernels and needs against this host's GPUs and driver"
    )
    check.add_argument(
        "image", metavar="IMAGE", help="a local image name, a `docker save` tarball or an OCI layout folder"
    )
    check.add_argument("--snapshot", metavar="FILE", help="compare with a saved snapshot's GPUs and driver")
    check.add_argument(
        "--gpu", action="append", default=[], metavar="CC", help="compare with a GPU of this compute capability (12.0)"
    )
    check.add_argument("--json", action="store_true", help="print what was read and each GPU's verdict as JSON")
    check.add_argument("--max-size", metavar="SIZE", default="64G", help="read at most this much of the image (64G)")
    check.add_argument("-v", "--verbose", action="store_true", help="also show the evidence of what is fine")
    check.set_defaults(func=_check_image)


def _check_image(args) -> ExitCode:
    from .image import Limits, check_image
    from .image.limits import parse_size
    from .image.view import check_json, print_check

    limits = Limits(max_bytes=parse_size(args.max_size))
    result = check_image(args.image, args.snapshot, args.gpu, limits)
    if args.json:
        print(check_json(result))
    else:
        print_check(result, verbose=args.verbose)
    return ExitCode.OK if result.ok else ExitCode.PROBLEM


# --- hello ---------------------------------------------------------------------------------------------


def _add_hello(sub) -> None:
    hello = sub.add_parser("hello", help="run gpudock's local hello image (FROM scratch, no registry needed)")
    hello.add_argument("--build", action="store_true", help="build it first from the distribution's busybox-static")
    hello.set_defaults(func=_hello)


def _hello(args) -> ExitCode:
    from .dockerops import hello

    print(hello(build=args.build, say=print), end="")
    return ExitCode.OK


# --- bench, bench compare ------------------------------------------------------------------------------


def _add_bench(sub) -> None:
    bench = sub.add_parser("bench", help="GPU (CuPy) and CPU benchmarks; `bench compare A.json B.json`")
    bench.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats (under 30 s on an H200)")
    bench.add_argument("--json", action="store_true", help="print the results JSON (no progress bar)")
    bench.add_argument("--out", metavar="FILE", help="also write the results JSON here")
    bench.add_argument("--no-cpu", action="store_true", help="skip the CPU baseline")
    bench.add_argument("--no-gpu", action="store_true", help="skip the GPUs")
    bench.add_argument(
        "--nvidia-nbody", metavar="PATH", help="also run NVIDIA's nbody sample binary at the same N (reference rows)"
    )
    bench.add_argument(
        "--only",
        metavar="KINDS",
        type=_bench_kinds,
        help="only these kinds: nbody,gemm,copy,transfer,cpu",
    )
    bench.add_argument("-v", "--verbose", action="store_true", help="also show repeats and each benchmark's note")
    bench.set_defaults(func=_bench)
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="{compare}", parser_class=_Parser)
    _add_bench_compare(bench_sub)


def _bench_kinds(text: str) -> tuple[str, ...]:
    from .bench.run import KINDS

    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"unknown kind {', '.join(unknown) or '(none)'}: use {','.join(KINDS)}")
    return kinds


def _bench(args) -> ExitCode:
    from .bench.run import run_benchmarks
    from .bench.tables import print_results
    from .files import check_writable

    if args.out:  # before the benchmark runs, not after: results are never measured and then lost
        check_writable(args.out)
    results = run_benchmarks(
        quick=args.quick,
        cpu=not args.no_cpu,
        gpu=not args.no_gpu,
        progress=not args.json,
        say=_say,
        nvidia_nbody=args.nvidia_nbody,
        only=args.only,
    )
    if args.out:
        results.save(args.out)
    if args.json:
        print(results.to_json())
    else:
        print_results(results, verbose=args.verbose)
    return ExitCode.OK


def _add_bench_compare(sub) -> None:
    compare = sub.add_parser("compare", help="compare two results files (B against A)")
    compare.add_argument("a", metavar="A.json", help="the results to compare against")
    compare.add_argument("b", metavar="B.json", help="the results to compare")
    compare.set_defaults(func=_bench_compare)


def _bench_compare(args) -> ExitCode:
    from .bench.results import Results, compare
    from .bench.tables import print_comparison

    rows = compare(Results.load(args.a), Results.load(args.b))
    if not rows:
        raise NoComparablePoints(args.a, args.b)
    print_comparison(rows, args.a, args.b)
    return ExitCode.OK


# --- lab -----------------------------------------------------------------------------------------------


class _PassThroughParser(_Parser):
    """A subcommand whose unknown options go to the program it starts (`gpudock lab` → JupyterLab)."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extra = super().parse_known_args(args, namespace)
        namespace.passthrough = [*getattr(namespace, "passthrough", []), *extra]
        return namespace, []


def _add_lab(sub) -> None:
    lab = sub.add_parser(
        "lab",
        help="open the tutorial in JupyterLab (127.0.0.1, with a token; other options go to JupyterLab)",
        usage="gpudock lab [--port N] [--no-browser] [JupyterLab options ...]",
    )
    lab.__class__ = _PassThroughParser  # add_parser() has no per-subcommand parser class
    lab.add_argument("--port", type=int, metavar="N", help="listen on this port (default: the first free from 8888)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser; open the printed URL yourself")
    lab.set_defaults(func=_lab, passthrough=[])


def _lab(args) -> ExitCode:
    from .lab import start

    return ExitCode(start(port=args.port, open_browser=not args.no_browser, extra=args.passthrough))


# --- run -----------------------------------------------------------------------------------------------


def _add_run(sub) -> None:
    run = sub.add_parser("run", help="execute the tutorial notebooks headless (papermill) into runs/<UTC time>/")
    run.add_argument(
        "notebooks", nargs="*", metavar="NOTEBOOK", help="names such as 01-docker-check or 01 (default: all)"
    )
    run.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="set a notebook parameter (checked against the notebooks' parameters cells)",
    )
    run.add_argument(
        "--out", metavar="DIR", help="run folder (default: a new runs/<UTC time>/; never an earlier run's)"
    )
    run.add_argument("--snapshot", metavar="FILE", help="replay a saved snapshot instead of probing this host")
    run.set_defaults(func=_run)


def _run(args) -> ExitCode:
    from .runner import run_notebooks

    folder, runs = run_notebooks(args.notebooks, dict(args.parameters or []), args.out, args.snapshot, say=_say)
    failed = [r for r in runs if r.status == "failed"]
    print(f"{len(runs) - len(failed)}/{len(runs)} notebooks ok; executed notebooks and summary.json in {folder}")
    for run in failed:
        _say(f"gpudock: {run.notebook} failed at {run.error} (see {folder / (run.notebook + '.ipynb')})")
    return ExitCode.PROBLEM if failed else ExitCode.OK


# --- slides --------------------------------------------------------------------------------------------


def _add_slides(sub) -> None:
    slides = sub.add_parser(
        "slides", help="turn a run's executed notebooks into a Marp deck and an offline reveal.js deck"
    )
    slides.add_argument(
        "run_dir",
        nargs="?",
        metavar="RUN_DIR",
        help="a folder `gpudock run` wrote (default: the latest run under runs/ that executed every notebook)",
    )
    slides.add_argument(
        "--format",
        choices=("marp", "reveal", "both", "pdf"),
        default="both",
        help="pdf: the Marp deck rendered by marp-cli with chromium (deck.md and deck.pdf)",
    )
    slides.add_argument("--out", metavar="DIR", help="where the decks go (default: RUN_DIR/slides)")
    slides.add_argument("--force", action="store_true", help="write into an --out folder that already holds files")
    slides.add_argument(
        "--full", action="store_true", help="every notebook slide (default: the talk, at most 20 slides with notes)"
    )
    slides.set_defaults(func=_slides)


def _slides(args) -> ExitCode:
    from .slides import export

    for path in export(args.run_dir, args.format, args.out, force=args.force, say=_say, full=args.full):
        print(path)
    return ExitCode.OK


# --- plan, install -------------------------------------------------------------------------------------


def _add_plan_options(parser) -> None:
    _add_plan_step_options(parser)
    parser.add_argument("--snapshot", metavar="FILE", help="plan for a saved snapshot instead of this host")


def _add_plan_step_options(parser) -> None:
    from .install import STEPS

    parser.add_argument("step", choices=STEPS)
    parser.add_argument(
        "--source",
        choices=("distro", "docker-ce"),
        default="distro",
        help="Docker from the distribution (docker.io, default) or Docker's apt repository",
    )
    parser.add_argument("--branch", metavar="NNN", help="pin the driver branch, e.g. 580 or 590")
    modules = parser.add_mutually_exclusive_group()
    modules.add_argument(
        "--open",
        dest="modules",
        action="store_const",
        const="open",
        help="driver with NVIDIA's open kernel modules (nvidia-open; the default for Turing and newer)",
    )
    modules.add_argument(
        "--proprietary",
        dest="modules",
        action="store_const",
        const="proprietary",
        help="driver with the proprietary kernel modules (cuda-drivers, pinned to 580; Maxwell/Pascal/Volta)",
    )
    parser.add_argument("--toolkit-version", metavar="V", help="pin the toolkit packages, e.g. 1.17.8-1")
    parser.add_argument(
        "--cdi", action="store_true", help="also set Docker up for CDI (needs Docker Engine 25 or newer)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also show each step's raw check, verification and docs"
    )


def _make_plan(args):
    from .install import plan_for

    return plan_for(args.step, args.snapshot, say=_say, **_plan_kwargs(args))


def _plan_kwargs(args) -> dict:
    return {
        "source": args.source,
        "branch": args.branch,
        "modules": args.modules,
        "toolkit_version": args.toolkit_version,
        "cdi": args.cdi,
    }


def _add_plan(sub) -> None:
    plan = sub.add_parser(
        "plan", help="show the install steps for this host: table, shell script, JSON or Ansible playbook"
    )
    _add_plan_options(plan)
    plan.add_argument("--format", choices=("table", "sh", "json", "ansible"), default="table")
    plan.set_defaults(func=_plan)


def _plan(args) -> ExitCode:
    plan = _make_plan(args)
    if args.format == "sh":
        print(plan.to_sh(), end="")
    elif args.format == "json":
        print(plan.to_json())
    elif args.format == "ansible":
        from .install.ansible import to_playbook

        print(to_playbook(plan), end="")
    else:
        from .install.render import print_plan

        print_plan(plan, verbose=args.verbose)
    return ExitCode.OK


def _add_install(sub) -> None:
    install = sub.add_parser("install", help="apply an install plan (only with --apply)")
    _add_plan_options(install)
    install.add_argument("--apply", action="store_true", help="really run the steps (otherwise only show them)")
    install.add_argument("--yes", action="store_true", help="do not ask before each root step")
    install.add_argument(
        "--log-dir", metavar="DIR", help="where the log goes (default: a new runs/<UTC time>-install-STEP/)"
    )
    install.set_defaults(func=_install)


def _install(args) -> ExitCode:
    from .install import apply
    from .install.render import print_plan
    from .layout import terminal_console
    from .rundir import new_run_dir

    if args.apply and args.snapshot:
        # the safety refusals (WSL driver, Docker Desktop) must come from this host, not from a file
        raise UsageError("--apply plans from this host only; drop --snapshot (use `gpudock plan --snapshot F` to look)")
    plan = _make_plan(args)
    console = terminal_console()
    if not args.apply:
        print_plan(plan, console, verbose=args.verbose)
        console.print(
            "\nNothing was run. Add --apply to run these steps (--yes to skip the questions).", style="yellow"
        )
        return ExitCode.OK
    result = apply(plan, new_run_dir(args.log_dir, suffix=f"-install-{args.step}"), yes=args.yes, console=console)
    console.print(f"log: {result.log}", markup=False)
    return ExitCode.PROBLEM if result.status == "aborted" else ExitCode.OK


# --- fleet doctor, fleet install, fleet bench ----------------------------------------------------------


def _add_fleet(sub) -> None:
    fleet = sub.add_parser("fleet", help="the doctor, install plans and benchmark over many hosts (Ansible)")
    fleet_sub = fleet.add_subparsers(dest="fleet_command", required=True, parser_class=_Parser)
    _add_fleet_doctor(fleet_sub)
    _add_fleet_install(fleet_sub)
    _add_fleet_bench(fleet_sub)


def _forks(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return int(text)


def _add_fleet_options(parser) -> None:
    parser.add_argument("-i", "--inventory", required=True, metavar="INVENTORY", help="an Ansible inventory")
    parser.add_argument("--limit", metavar="PATTERN", help="only the hosts matching this Ansible host pattern")
    parser.add_argument("--forks", type=_forks, default=5, metavar="N", help="hosts worked on at once (default 5)")
    parser.add_argument("--out", metavar="DIR", help="run folder (default: a new runs/<UTC time>-fleet-…/)")


def _add_fleet_doctor(sub) -> None:
    doctor = sub.add_parser("doctor", help="probe every host, diagnose each here, one row per host")
    _add_fleet_options(doctor)
    doctor.add_argument("--json", action="store_true", help="print the fleet document (every host's findings)")
    doctor.add_argument("--deep", action="store_true", help="also the slow probes on every host")
    doctor.set_defaults(func=_fleet_doctor)


def _fleet_run_dir(args, suffix: str):
    """The inventory, read once, then a new run folder: a bad inventory is exit 2 and leaves nothing behind."""
    from .fleet.engine import read_inventory
    from .rundir import new_run_dir

    inventory = read_inventory(args.inventory, args.limit)
    return inventory, new_run_dir(args.out, suffix=suffix)


def _fleet_doctor(args) -> ExitCode:
    from .fleet.doctor import fleet_doctor
    from .fleet.table import print_fleet

    inventory, run_dir = _fleet_run_dir(args, "-fleet-doctor")
    report = fleet_doctor(inventory, run_dir, forks=args.forks, deep=args.deep)
    if args.json:
        print(report.to_json())
    else:
        print_fleet(report)
    return ExitCode.OK if report.ok else ExitCode.PROBLEM


def _add_fleet_install(sub) -> None:
    install = sub.add_parser("install", help="probe, plan per host, and apply the plans as Ansible playbooks")
    _add_plan_step_options(install)
    _add_fleet_options(install)
    install.add_argument("--apply", action="store_true", help="really run the playbooks (otherwise only show them)")
    install.add_argument("--yes", action="store_true", help="do not ask before running on the hosts")
    install.set_defaults(func=_fleet_install)


def _fleet_install(args) -> ExitCode:
    from .fleet.install import fleet_install, print_install

    inventory, run_dir = _fleet_run_dir(args, f"-fleet-install-{args.step}")
    result = fleet_install(
        inventory,
        run_dir,
        args.step,
        plan_options=_plan_kwargs(args),
        forks=args.forks,
        apply=args.apply,
        confirm=None if args.yes else _confirm,
        say=print,
    )
    print_install(result)
    return ExitCode.OK if result.ok else ExitCode.PROBLEM


def _confirm(question: str) -> bool:
    answerable = sys.stdin.isatty()
    if not answerable:
        _say("gpudock: not a terminal, so nobody can answer; add --yes to run without asking")
    return answerable and input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _add_fleet_bench(sub) -> None:
    bench = sub.add_parser("bench", help="run `gpudock bench` on every host and compare them side by side")
    _add_fleet_options(bench)
    bench.add_argument("--full", action="store_true", help="full sizes (default: --quick on every host)")
    bench.add_argument("--json", action="store_true", help="print every host's results as one JSON document")
    bench.set_defaults(func=_fleet_bench)


def _fleet_bench(args) -> ExitCode:
    from .fleet.bench import fleet_bench, print_fleet_bench

    inventory, run_dir = _fleet_run_dir(args, "-fleet-bench")
    result = fleet_bench(inventory, run_dir, forks=args.forks, quick=not args.full, say=_say)
    if args.json:
        print(result.to_json())
    else:
        print_fleet_bench(result)
    return ExitCode.OK if result.ok else ExitCode.PROBLEM


# --- cdi generate, cdi check (gpudock.cdi.command) -----------------------------------------------------


def _add_cdi(sub) -> None:
    from .cdi.command import add_parser

    add_parser(sub, _Parser)


# --- the parser and main -------------------------------------------------------------------------------

_COMMANDS = (
    _add_doctor,
    _add_check_image,
    _add_plan,
    _add_install,
    _add_cdi,
    _add_hello,
    _add_bench,
    _add_run,
    _add_slides,
    _add_lab,
    _add_fleet,
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gpudock", description="Get an NVIDIA GPU working inside Docker, and prove it.")
    parser.add_argument("--version", action="version", version=f"gpudock {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GpudockError as err:
        _say(f"gpudock: {err}")
        return err.exit_code
    except OSError as err:  # a folder or file we were told to write cannot be written
        err = CannotWrite(err.filename, err.strerror or str(err))
        _say(f"gpudock: {err}")
        return err.exit_code
    except KeyboardInterrupt:
        _say("gpudock: interrupted")
        return ExitCode.INTERRUPTED
