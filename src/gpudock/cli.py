"""Command line: parse, call the library, print. No logic of its own."""

from __future__ import annotations

import argparse
import sys

from .errors import GpudockError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), not usage + error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _doctor(args) -> int:
    from .doctor import check
    from .report import doctor_json, print_findings

    report = check(args.snapshot, deep=args.deep)
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gpudock", description="Get an NVIDIA GPU working inside Docker, and prove it.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    doctor = sub.add_parser("doctor", help="say what state the host is in, what is broken and the fix")
    doctor.add_argument("--snapshot", metavar="FILE", help="diagnose a saved snapshot instead of this host")
    doctor.add_argument("--json", action="store_true", help="print {findings, host} as JSON")
    doctor.add_argument("--save-snapshot", metavar="FILE", help="also write the snapshot (to send instead of a screenshot)")
    doctor.add_argument("--deep", action="store_true", help="also run slow probes (apt-get update, nbody, sudo docker)")
    doctor.set_defaults(func=_doctor)

    hello = sub.add_parser("hello", help="run gpudock's local hello image (FROM scratch, no registry needed)")
    hello.add_argument("--build", action="store_true", help="build it first from Debian's busybox-static")
    hello.set_defaults(func=_hello)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except GpudockError as err:
        print(f"gpudock: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("gpudock: interrupted", file=sys.stderr)
        return 130
