"""Command line: parse, call the library, print. No logic of its own.

One module per family of subcommands (pipx's layout): each ``add_NAME`` builds its parser right above
``NAME_command``, its handler. Handlers return an ``ExitCode``; errors are exceptions from
``gpudock.exceptions`` that carry their own message and exit code. Building the parser imports only
the standard library, so ``gpudock --help`` and ``--version`` load nothing else.
"""

from __future__ import annotations

import argparse

from ..exitcodes import ExitCode
from .bench import add_bench
from .completion import add_completion
from .doctor import add_doctor, add_hello
from .fleet import add_fleet
from .image import add_cdi, add_check_image
from .parser import Parser, examples, parser_of, say
from .plan import add_install, add_plan
from .tutorial import add_lab, add_run, add_slides

COMMANDS = (
    add_doctor,
    add_check_image,
    add_plan,
    add_install,
    add_cdi,
    add_hello,
    add_bench,
    add_run,
    add_slides,
    add_lab,
    add_fleet,
    add_completion,
)
EPILOG = examples(
    "gpudock doctor                 # start here: what is broken, and the fix",
    "gpudock plan all               # the install steps for this host",
    "gpudock run                    # the tutorial, headless",
    "gpudock <command> --help       # each command's options and examples",
) + (
    "\nExit codes: 0 ok, 1 a problem on the host or in a run, 2 bad usage,\n"
    "3 a tool or daemon gpudock needs is missing, 130 interrupted, 143 terminated.\n"
    "More: README.md and docs/ in the checkout.\n"
)


class _Version(argparse.Action):
    """--version: the version with the commit of a checkout, Python and the platform (printed as is)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from .._version import __version__
        from .version import version_text

        print(version_text(__version__))
        parser.exit()


def build_parser() -> Parser:
    parser = Parser(prog="gpudock", description="Get an NVIDIA GPU working inside Docker, and prove it.", epilog=EPILOG)
    parser.add_argument("--version", action=_Version, help="the version, its git commit, Python and the platform")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", parser_class=Parser)
    for add in COMMANDS:
        add(sub)
    parser.set_defaults(root_parser=parser)  # `gpudock completion` describes the whole parser
    return parser


def _terminated(signum, frame):
    """SIGTERM (a CI cancel, `timeout`, `kill`) ends gpudock as Ctrl-C does: summaries written, locks released."""
    from ..exceptions import Terminated

    raise Terminated()


def main(argv=None) -> int:
    import signal

    args = build_parser().parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:  # `gpudock` or `gpudock fleet` alone: that command's help, as docker and gh do
        parser_of(args).print_help()
        return ExitCode.OK
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _call(func, args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _call(func, args) -> int:
    from ..exceptions import CannotWrite, GpudockError, Terminated

    try:
        return func(args)
    except GpudockError as err:
        say(f"gpudock: {err}")
        return err.exit_code
    except OSError as err:  # a folder or file we were told to write cannot be written
        err = CannotWrite(err.filename, err.strerror or str(err))
        say(f"gpudock: {err}")
        return err.exit_code
    except Terminated:
        say("gpudock: terminated")
        return ExitCode.TERMINATED
    except KeyboardInterrupt:
        say("gpudock: interrupted")
        return ExitCode.INTERRUPTED


__all__ = ["build_parser", "main"]
