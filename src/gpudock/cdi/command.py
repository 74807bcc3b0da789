"""``gpudock cdi generate`` and ``gpudock cdi check``: parse, call the library, print (the CLI's pattern)."""

from __future__ import annotations

import json
import os
import sys

from ..exceptions import CannotWrite, HostProblem, UsageError
from ..exitcodes import ExitCode


class NoDriver(HostProblem):
    """cdi generate on a host without a loaded NVIDIA driver (exit 1: the host has a problem)."""


def _examples(*lines: str) -> str:
    """An Examples section for a help text (kept line for line by the CLI's help formatter)."""
    return "Examples:\n" + "".join(f"  {line}\n" for line in lines)


def add_parser(sub, parser_class, top: bool = False) -> None:
    """``gpudock cdi generate|check`` (or, with ``top``, ``generate`` and ``check`` directly under ``sub``)."""
    if top:
        cdi_sub = sub
    else:
        cdi = sub.add_parser(
            "cdi",
            help="write and check CDI specs: GPU containers with no toolkit (Docker 25+, Podman)",
            description="Write a CDI spec for the loaded NVIDIA driver, or check the specs a host has.",
            epilog=_examples("sudo gpudock cdi generate --output /etc/cdi/nvidia.yaml", "gpudock cdi check"),
        )
        cdi_sub = cdi.add_subparsers(dest="cdi_command", metavar="{generate,check}", parser_class=parser_class)
    generate = cdi_sub.add_parser(
        "generate",
        help="a CDI spec (nvidia.com/gpu) for the loaded driver, from /proc and /dev",
        epilog=_examples(
            "gpudock cdi generate                               # print it",
            "sudo gpudock cdi generate --output /etc/cdi/nvidia.yaml",
        ),
    )
    generate.add_argument(
        "--root", metavar="DIR", default="/", help="read the host tree under DIR (a fake tree for tests)"
    )
    generate.add_argument(
        "--output", metavar="FILE", help="write the spec here, atomically (.json: JSON, else YAML); default: print it"
    )
    generate.set_defaults(func=_generate)
    check = cdi_sub.add_parser(
        "check",
        help="check CDI specs against this host: paths, nodes, driver version, duplicates",
        epilog=_examples(
            "gpudock cdi check                  # every spec in /etc/cdi and /var/run/cdi",
            "gpudock cdi check my.yaml --json",
        ),
    )
    check.add_argument(
        "specs", nargs="*", metavar="SPEC", help="spec files (default: every spec in /etc/cdi and /var/run/cdi)"
    )
    check.add_argument("--root", metavar="DIR", default="/", help="check the host tree under DIR")
    check.add_argument("--json", action="store_true", help="print {specs, devices, problems} as JSON")
    check.set_defaults(func=_check)


def _generate(args) -> ExitCode:
    from ..files import write_text_atomic
    from .discover import DriverNotFound
    from .generate import generate

    if not os.path.isdir(args.root):
        raise UsageError(f"--root {args.root}: not a folder")
    try:
        text, driver = generate(args.root, args.output or "nvidia.yaml")
    except DriverNotFound as err:
        raise NoDriver(str(err)) from None
    for warning in driver.warnings:
        print(f"gpudock: note: {warning}", file=sys.stderr)
    if not args.output:
        print(text, end="")
        return ExitCode.OK
    try:
        write_text_atomic(args.output, text, mode=0o644)
    except OSError as err:
        raise CannotWrite(args.output, err.strerror or str(err)) from None
    devices = len(driver.gpus)
    print(
        f"wrote {args.output}: {devices} GPU{'s' if devices != 1 else ''}, {len(driver.libraries)} libraries",
        file=sys.stderr,
    )
    return ExitCode.OK


class _Given:
    """A tree view whose spec files are the ones named on the command line."""

    def __init__(self, tree, paths):
        self.tree, self.paths = tree, paths

    def spec_files(self):
        from .spec import MAX_SPEC_BYTES

        found = {}
        for path in self.paths:
            if not os.path.isfile(path):
                raise UsageError(f"{path}: no such spec file")
            try:
                with open(path, "rb") as handle:
                    data = handle.read(MAX_SPEC_BYTES + 1)
            except OSError as err:
                raise UsageError(f"{path}: cannot read ({err.strerror})") from None
            found[os.path.abspath(path)] = None if len(data) > MAX_SPEC_BYTES else data.decode("utf-8", "replace")
        return found

    def __getattr__(self, name):
        return getattr(self.tree, name)


def _check(args) -> ExitCode:
    from .check import check
    from .discover import TreeHost

    if not os.path.isdir(args.root):
        raise UsageError(f"--root {args.root}: not a folder")
    view = TreeHost(args.root)
    result = check(_Given(view, args.specs) if args.specs else view)
    if args.json:
        print(json.dumps(summary(result), indent=2))
    else:
        for problem in result.problems:
            print(("✗ " if problem.severity == "error" else "! ") + problem.line())
        print(verdict_line(result))
    return ExitCode.OK if result.ok else ExitCode.PROBLEM


def summary(result) -> dict:
    return {
        "ok": result.ok,
        "specs": [spec.path for spec in result.specs],
        "devices": {name: result.winner[name] for name in result.devices()},
        "problems": [
            {
                "code": p.code,
                "severity": p.severity,
                "spec": p.spec,
                "subject": p.subject,
                "message": p.message,
                "fix": p.fix,
            }
            for p in result.problems
        ],
    }


def verdict_line(result) -> str:
    errors = sum(p.severity == "error" for p in result.problems)
    if not result.specs:
        return f"{errors} problem{'s' if errors != 1 else ''}: no usable nvidia.com/gpu spec"
    winners = sorted(set(result.winner.values()))
    devices = ", ".join(result.devices()[:8]) + (" …" if len(result.winner) > 8 else "")
    state = "ok" if result.ok else f"{errors} problem{'s' if errors != 1 else ''}"
    return f"{state}: nvidia.com/gpu devices {devices} (from {', '.join(winners)})"


def main(argv=None) -> int:
    """``python3 -m gpudock.cdi generate|check …``: the same two commands with the standard library alone
    (a driver-only host with no pip, or a minimal container), without the rest of gpudock's CLI."""
    import argparse

    from ..exceptions import GpudockError

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")

    parser = Parser(prog="python3 -m gpudock.cdi")
    add_parser(parser.add_subparsers(dest="command", required=True, parser_class=Parser), Parser, top=True)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except GpudockError as err:
        print(f"gpudock: {err}", file=sys.stderr)
        return err.exit_code
