"""The tutorial's commands: ``gpudock run`` (notebooks headless), ``slides`` and ``lab``."""

from __future__ import annotations

import argparse

from ..exitcodes import ExitCode
from .parser import Parser, command, say


def add_run(sub) -> None:
    run = command(
        sub,
        "run",
        help="execute the tutorial notebooks headless (papermill) into runs/<UTC time>/",
        description="Execute the tutorial notebooks with papermill into a new run folder, with summary.json. "
        "Notebook 01 builds gpudock's small hello image when it is missing (no registry needed).",
        example=(
            "gpudock run                          # every notebook, this host",
            "gpudock run 01 03                    # two of them",
            "gpudock run --snapshot s.json        # replay someone else's host",
            "gpudock run 06 -p quick true         # set a notebook parameter",
        ),
    )
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
    run.set_defaults(func=run_command)


def run_command(args) -> ExitCode:
    from ..runner import run_notebooks

    folder, runs = run_notebooks(args.notebooks, dict(args.parameters or []), args.out, args.snapshot, say=say)
    failed = [r for r in runs if r.status == "failed"]
    print(f"{len(runs) - len(failed)}/{len(runs)} notebooks ok; executed notebooks and summary.json in {folder}")
    for run in failed:
        say(f"gpudock: {run.notebook} failed at {run.error} (see {folder / (run.notebook + '.ipynb')})")
    return ExitCode.PROBLEM if failed else ExitCode.OK


def add_slides(sub) -> None:
    slides = command(
        sub,
        "slides",
        help="turn a run's executed notebooks into a Marp deck and an offline reveal.js deck",
        example=(
            "gpudock slides                       # the latest complete run",
            "gpudock slides runs/20261206T101500Z --format reveal",
            "gpudock slides --format pdf --out deck/   # needs marp-cli (npm) and chromium",
        ),
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
    slides.set_defaults(func=slides_command)


def slides_command(args) -> ExitCode:
    from ..slides import export

    for path in export(args.run_dir, args.format, args.out, force=args.force, say=say, full=args.full):
        print(path)
    return ExitCode.OK


class PassThroughParser(Parser):
    """A subcommand whose unknown options go to the program it starts (`gpudock lab` → JupyterLab)."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extra = super().parse_known_args(args, namespace)
        namespace.passthrough = [*getattr(namespace, "passthrough", []), *extra]
        return namespace, []


def port(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a TCP port from 1 to 65535, not {text!r}")
    return int(text)


def add_lab(sub) -> None:
    lab = command(
        sub,
        "lab",
        help="open the tutorial in JupyterLab (127.0.0.1, with a token; other options go to JupyterLab)",
        usage="gpudock lab [--port N] [--no-browser] [JupyterLab options ...]",
        description="Start JupyterLab on this checkout's notebooks (127.0.0.1 only, with a token). Its "
        "settings, kernel and workspaces are this checkout's own, so two checkouts never share a kernel.",
        example=(
            "gpudock lab                          # opens a browser",
            "gpudock lab --no-browser --port 8890",
            "JUPYTER_TOKEN=secret gpudock lab     # a token of your own",
        ),
    )
    lab.__class__ = PassThroughParser  # add_parser() has no per-subcommand parser class
    lab.add_argument("--port", type=port, metavar="N", help="listen on this port (default: the first free from 8888)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser; open the printed URL yourself")
    lab.set_defaults(func=lab_command, passthrough=[])


def lab_command(args) -> ExitCode:
    from ..lab import start

    return ExitCode(start(port=args.port, open_browser=not args.no_browser, extra=args.passthrough))
