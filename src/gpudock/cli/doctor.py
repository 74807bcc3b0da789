"""``gpudock doctor`` (with ``--check`` for schedulers and ``--prometheus`` for node_exporter) and ``hello``."""

from __future__ import annotations

import argparse

from ..exitcodes import ExitCode
from .parser import command, say

CHECK_TIMEOUT_S = 40  # under Slurm's 60 s kill of a HealthCheckProgram, with room for start-up


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"seconds between 1 and 3600, not {text!r}")
    return value


def add_doctor(sub) -> None:
    doctor = command(
        sub,
        "doctor",
        help="say what state the host is in, what is broken and the fix",
        description="Probe this host (or read a saved snapshot), diagnose it and print each finding with its "
        "fix. Exit 0: no error; 1: an error finding; 2: bad usage or an unreadable snapshot.",
        example=(
            "gpudock doctor                     # this host, fixes in order",
            "gpudock doctor --json              # the findings for a program",
            "gpudock doctor --save-snapshot s.json   # send this instead of a screenshot",
            "gpudock doctor --snapshot s.json   # diagnose someone else's host",
            "gpudock doctor --check             # one line, exit 0/1 (Slurm, NPD)",
            "gpudock doctor --check --prometheus /var/lib/node_exporter/gpudock.prom",
        ),
    )
    doctor.add_argument("--snapshot", metavar="FILE", help="diagnose a saved snapshot instead of this host")
    shape = doctor.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print {findings, host, generations} as JSON")
    shape.add_argument(
        "--check",
        action="store_true",
        help="print one plain line and exit 0 (no error) or 1, within --timeout: for Slurm's "
        "HealthCheckProgram and node-problem-detector (never pulls an image)",
    )
    doctor.add_argument(
        "--timeout",
        type=seconds,
        metavar="S",
        help=f"with --check: probe for at most S seconds (default {CHECK_TIMEOUT_S})",
    )
    doctor.add_argument(
        "--prometheus",
        metavar="FILE",
        help="also write the findings, the verdict and the last `gpudock bench` figures as node_exporter "
        "textfile metrics (FILE.prom, replaced atomically)",
    )
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
    doctor.set_defaults(func=doctor_command)


def doctor_command(args) -> ExitCode:
    from ..doctor import check
    from ..files import check_writable

    if args.timeout is not None and not args.check:
        raise _usage("--timeout goes with --check (the plain doctor waits for every probe)")
    if args.check and args.deep:
        raise _usage("--check runs the quick probes only; drop --deep")
    for path in (args.prometheus, args.save_snapshot):
        if path:  # before probing: a wrong path costs one line, not a probe
            check_writable(path)
    if args.check:
        quiet = lambda line: None  # noqa: E731  (one line only: nothing else is said)
        budget = args.timeout or CHECK_TIMEOUT_S
        report = check(args.snapshot, say=quiet, image=args.image, budget_s=budget, pull=False)
    else:
        report = check(args.snapshot, deep=args.deep, say=say, image=args.image)
    if args.save_snapshot:
        report.snapshot.save(args.save_snapshot)
    if args.prometheus:
        from ..metrics import doctor_metrics, latest_bench, write_textfile

        write_textfile(args.prometheus, doctor_metrics(report, latest_bench()))
    if args.check:
        from ..healthcheck import check_line

        print(check_line(report))
    elif args.json:
        from ..findings import doctor_json

        print(doctor_json(report.findings, report.host, report.generations))
    else:  # --verbose also shows which generations of "NVIDIA Docker" the host has (deck 1.3)
        from ..views import print_findings

        shown = report.generations if args.verbose else None
        print_findings(report.findings, report.host, verbose=args.verbose, generations=shown)
    return ExitCode.OK if report.ok else ExitCode.PROBLEM


def _usage(message: str):
    from ..exceptions import UsageError

    return UsageError(message)


def add_hello(sub) -> None:
    hello = command(
        sub,
        "hello",
        help="run gpudock's local hello image (FROM scratch, no registry needed)",
        description="Run gpudock's hello image through the Docker SDK: proof that this user can start a "
        "container. Exit 3 when no Docker daemon answers.",
        example=(
            "gpudock hello           # run it (build it first with --build)",
            "gpudock hello --build   # build it from busybox-static, then run it",
        ),
    )
    hello.add_argument("--build", action="store_true", help="build it first from the distribution's busybox-static")
    hello.set_defaults(func=hello_command)


def hello_command(args) -> ExitCode:
    from ..dockerops import hello

    print(hello(build=args.build, say=print), end="")
    return ExitCode.OK
