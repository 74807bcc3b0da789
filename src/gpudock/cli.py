"""Command line: parse, call the library, print. No logic of its own."""

from __future__ import annotations

import argparse
import sys

from .errors import GpudockError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), not usage + error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _doctor(args) -> int:
    from .doctor import check
    from .report import doctor_json, print_findings

    report = check(args.snapshot, deep=args.deep, say=lambda line: print(line, file=sys.stderr))
    if args.save_snapshot:
        report.snapshot.save(args.save_snapshot)
    if args.json:
        print(doctor_json(report.findings, report.host))
    else:
        print_findings(report.findings, report.host)
    return 0 if report.ok else 1


def _hello(args) -> int:
    from . import dockerops
    from .images import HELLO_IMAGE

    if args.build:
        image_id = dockerops.build_hello_image()
        print(f"{HELLO_IMAGE} {image_id[:19]}")
    print(dockerops.run(HELLO_IMAGE, network_mode="none"), end="")
    return 0


def _plan_options(parser) -> None:
    parser.add_argument("--snapshot", metavar="FILE", help="plan for a saved snapshot instead of this host")
    parser.add_argument(
        "--source",
        choices=("distro", "docker-ce"),
        default="distro",
        help="Docker from the distribution (docker.io, default) or Docker's apt repository",
    )
    parser.add_argument("--branch", metavar="NNN", help="pin the driver branch, e.g. 580 (cuda-drivers-580)")
    parser.add_argument(
        "--open",
        dest="open_modules",
        action="store_true",
        help="driver with NVIDIA's open kernel modules (nvidia-open)",
    )
    parser.add_argument("--toolkit-version", metavar="V", help="pin the toolkit packages, e.g. 1.17.8-1")
    parser.add_argument("--cdi", action="store_true", help="also generate a CDI spec (Podman, Docker with CDI)")


def _make_plan(args):
    from .doctor import load_or_probe
    from .hostinfo import host_info
    from .install import make_plan

    snap = load_or_probe(args.snapshot, say=lambda line: print(line, file=sys.stderr))
    return make_plan(
        args.step,
        snap,
        host_info(snap),
        source=args.source,
        branch=args.branch,
        open_modules=args.open_modules,
        toolkit_version=args.toolkit_version,
        cdi=args.cdi,
    )


def _plan(args) -> int:
    plan = _make_plan(args)
    if args.format == "sh":
        print(plan.to_sh(), end="")
    elif args.format == "json":
        print(plan.to_json())
    else:
        from rich.console import Console

        console = Console()
        console.print(plan.table())
        for note in plan.notes:
            console.print(f"note: {note}", style="yellow", markup=False)
    return 0


def _install(args) -> int:
    from rich.console import Console

    from .install import apply
    from .rundir import new_run_dir

    plan = _make_plan(args)
    console = Console()
    if not args.apply:
        console.print(plan.table())
        console.print("Nothing was run. Add --apply to run these steps (--yes to skip the questions).", style="yellow")
        return 0
    result = apply(plan, new_run_dir(args.log_dir, suffix=f"-install-{args.step}"), yes=args.yes, console=console)
    console.print(f"log: {result.log}", markup=False)
    return 0 if result.status != "aborted" else 1


def _bench(args) -> int:
    from .bench.results import Results, compare

    if args.compare:
        if args.compare[0] != "compare" or len(args.compare) != 3:
            raise UsageError(
                "use `gpudock bench [--quick] [--json] [--out F]` or `gpudock bench compare A.json B.json`"
            )
        from .bench.report import print_comparison

        a, b = Results.load(args.compare[1]), Results.load(args.compare[2])
        rows = compare(a, b)
        if not rows:
            raise UsageError(
                f"{args.compare[1]} and {args.compare[2]} share no measured point (same name, device, precision, size)"
            )
        print_comparison(rows, args.compare[1], args.compare[2])
        return 0
    from .bench.report import print_results
    from .bench.run import run_benchmarks

    results = run_benchmarks(
        quick=args.quick,
        cpu=not args.no_cpu,
        gpu=not args.no_gpu,
        progress=not args.json,
        say=lambda line: print(line, file=sys.stderr),
    )
    if args.out:
        results.save(args.out)
    if args.json:
        print(results.to_json())
    else:
        print_results(results)
    return 0


def _run(args) -> int:
    from .notebooks import run_notebooks

    folder, runs = run_notebooks(
        args.notebooks,
        dict(args.parameters or []),
        args.out,
        args.snapshot,
        say=lambda line: print(line, file=sys.stderr),
    )
    failed = [r for r in runs if r.status == "failed"]
    print(f"{len(runs) - len(failed)}/{len(runs)} notebooks ok; executed notebooks and summary.json in {folder}")
    for run in failed:
        print(
            f"gpudock: {run.notebook} failed at {run.error} (see {folder / (run.notebook + '.ipynb')})", file=sys.stderr
        )
    return 1 if failed else 0


def _slides(args) -> int:
    from .slides import export

    for path in export(args.run_dir, args.format, args.out):
        print(path)
    return 0


class _PassThroughParser(_Parser):
    """A subcommand whose unknown options go to the program it starts (`gpudock lab` → JupyterLab)."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extra = super().parse_known_args(args, namespace)
        namespace.passthrough = [*getattr(namespace, "passthrough", []), *extra]
        return namespace, []


def _lab_parser(sub) -> None:
    lab = sub.add_parser(
        "lab",
        help="open the tutorial in JupyterLab (127.0.0.1, with a token; other options go to JupyterLab)",
        usage="gpudock lab [--port N] [--no-browser] [JupyterLab options ...]",
    )
    lab.__class__ = _PassThroughParser  # add_parser() has no per-subcommand parser class
    lab.add_argument("--port", type=int, metavar="N", help="listen on this port (default: the first free from 8888)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser; open the printed URL yourself")
    lab.set_defaults(func=_lab, passthrough=[])


def _lab(args) -> int:
    from .lab import start

    return start(port=args.port, open_browser=not args.no_browser, extra=args.passthrough)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gpudock", description="Get an NVIDIA GPU working inside Docker, and prove it.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    doctor = sub.add_parser("doctor", help="say what state the host is in, what is broken and the fix")
    doctor.add_argument("--snapshot", metavar="FILE", help="diagnose a saved snapshot instead of this host")
    doctor.add_argument("--json", action="store_true", help="print {findings, host} as JSON")
    doctor.add_argument(
        "--save-snapshot", metavar="FILE", help="also write the snapshot (to send instead of a screenshot)"
    )
    doctor.add_argument("--deep", action="store_true", help="also run slow probes (apt-get update, nbody, sudo docker)")
    doctor.set_defaults(func=_doctor)

    hello = sub.add_parser("hello", help="run gpudock's local hello image (FROM scratch, no registry needed)")
    hello.add_argument("--build", action="store_true", help="build it first from Debian's busybox-static")
    hello.set_defaults(func=_hello)
    bench = sub.add_parser("bench", help="GPU (CuPy), CPU (NumPy) benchmarks; or `bench compare A.json B.json`")
    bench.add_argument("compare", nargs="*", metavar="compare A B", help="compare two results files")
    bench.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats (under 30 s on an H200)")
    bench.add_argument("--json", action="store_true", help="print the results JSON (no progress bar)")
    bench.add_argument("--out", metavar="FILE", help="also write the results JSON here")
    bench.add_argument("--no-cpu", action="store_true", help="skip the NumPy CPU baseline")
    bench.add_argument("--no-gpu", action="store_true", help="skip the GPUs")
    bench.set_defaults(func=_bench)

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

    slides = sub.add_parser("slides", help="turn a run's executed notebooks into a Marp deck and reveal.js HTML")
    slides.add_argument(
        "run_dir", nargs="?", metavar="RUN_DIR", help="a folder `gpudock run` wrote (default: the latest under runs/)"
    )
    slides.add_argument("--format", choices=("marp", "reveal", "both"), default="both")
    slides.add_argument("--out", metavar="DIR", help="where the decks go (default: RUN_DIR/slides)")
    slides.set_defaults(func=_slides)

    from .install import STEPS

    plan = sub.add_parser("plan", help="show the install steps for this host: table, shell script or JSON")
    plan.add_argument("step", choices=STEPS)
    plan.add_argument("--format", choices=("table", "sh", "json"), default="table")
    _plan_options(plan)
    plan.set_defaults(func=_plan)

    install = sub.add_parser("install", help="apply an install plan (only with --apply)")
    install.add_argument("step", choices=STEPS)
    install.add_argument("--apply", action="store_true", help="really run the steps (otherwise only show them)")
    install.add_argument("--yes", action="store_true", help="do not ask before each root step")
    install.add_argument(
        "--log-dir", metavar="DIR", help="where the log goes (default: a new runs/<UTC time>-install-STEP/)"
    )
    _plan_options(install)
    install.set_defaults(func=_install)
    _lab_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except GpudockError as err:
        print(f"gpudock: {err}", file=sys.stderr)
        return err.exit_code
    except OSError as err:  # a folder or file we were told to write cannot be written
        where = f"{err.filename}: " if err.filename else ""
        print(f"gpudock: cannot write {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gpudock: interrupted", file=sys.stderr)
        return 130
