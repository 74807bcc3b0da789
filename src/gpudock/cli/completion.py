"""``gpudock completion SHELL``: a shell completion script generated from this very parser (shtab).

shtab rather than argcomplete: shtab writes a static script once, so a TAB costs the shell nothing,
while argcomplete starts Python and imports the program on every TAB (gpudock's start-up is a few
hundred milliseconds). The script follows the parser, so a new option or choice completes as soon as
the script is generated again.
"""

from __future__ import annotations

from ..exitcodes import ExitCode
from .parser import command

SHELLS = ("bash", "zsh", "tcsh", "fish")
_FILES = {"FILE", "INVENTORY", "PATH", "A.json", "B.json", "NOTEBOOK"}
_FOLDERS = {"DIR", "RUN_DIR"}


def add_completion(sub) -> None:
    completion = command(
        sub,
        "completion",
        help="print a shell completion script for gpudock (bash, zsh, tcsh, fish)",
        description="Print a completion script generated from gpudock's own parser (shtab). Load it from your "
        "shell's start-up file, or install it where your shell looks for completions.",
        example=(
            "gpudock completion bash > ~/.local/share/bash-completion/completions/gpudock",
            'eval "$(gpudock completion bash)"          # this shell only',
            'gpudock completion zsh > "${fpath[1]}/_gpudock"',
            "gpudock completion fish > ~/.config/fish/completions/gpudock.fish",
        ),
    )
    completion.add_argument("shell", choices=SHELLS, metavar="SHELL", help=", ".join(SHELLS))
    completion.set_defaults(func=completion_command)


def script(parser, shell: str) -> str:
    """The completion script of ``parser`` (gpudock's whole parser) for ``shell``."""
    try:
        import shtab
    except ImportError:  # an environment made before shtab was a dependency
        from ..exceptions import MissingTool

        raise MissingTool(
            "shtab (which writes the completion scripts) is not installed", "rerun `scripts/bootstrap`"
        ) from None

    for action in _actions(parser):
        if action.metavar in _FILES:
            action.complete = shtab.FILE
        elif action.metavar in _FOLDERS:
            action.complete = shtab.DIRECTORY
    return shtab.complete(parser, shell)


def _actions(parser):
    for action in parser._actions:
        yield action
        for sub in (action.choices or {}).values() if isinstance(action.choices, dict) else ():
            yield from _actions(sub)


def completion_command(args) -> ExitCode:
    print(script(args.root_parser, args.shell), end="")
    return ExitCode.OK
