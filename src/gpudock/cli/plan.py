"""``gpudock plan`` and ``gpudock install``: the install steps for this host, shown or applied."""

from __future__ import annotations

from ..exitcodes import ExitCode
from .parser import command, need_a_terminal, say

# gpudock.install.STEPS, written here so that building the parser imports no planner (`--help` stays fast);
# tests/test_cli_conventions.py checks the two agree
STEPS = ("driver", "docker", "toolkit", "cdi", "all")
STEP_HELP = "driver, docker, toolkit, cdi (a CDI spec), or all of them in the deck's order"


def add_step_options(parser) -> None:
    """The options of a plan (also `fleet install`'s): the step, Docker's source, driver and toolkit pins."""
    parser.add_argument("step", choices=STEPS, metavar="STEP", help=f"{STEP_HELP} ({', '.join(STEPS)})")
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


def plan_options(args) -> dict:
    return {
        "source": args.source,
        "branch": args.branch,
        "modules": args.modules,
        "toolkit_version": args.toolkit_version,
        "cdi": args.cdi,
    }


def _make_plan(args):
    from ..install import plan_for

    return plan_for(args.step, args.snapshot, say=say, **plan_options(args))


def add_plan(sub) -> None:
    plan = command(
        sub,
        "plan",
        help="show the install steps for this host: table, shell script, JSON or Ansible playbook",
        description="Plan an install step for this host (or a saved snapshot) and show it; nothing is run. "
        "Planning never starts a container: what it could not see is said in the plan's notes.",
        example=(
            "gpudock plan all                     # every step, in order, as a table",
            "gpudock plan toolkit --format sh     # a shell script to review and run",
            "gpudock plan docker --source docker-ce --cdi",
            "gpudock plan driver --snapshot s.json --format json",
            "gpudock plan docker --format ansible > docker.yml",
        ),
    )
    add_step_options(plan)
    plan.add_argument("--snapshot", metavar="FILE", help="plan for a saved snapshot instead of this host")
    plan.add_argument(
        "--format",
        choices=("table", "sh", "json", "ansible"),
        default="table",
        help="table (default), sh (a script with checks), json (docs/contracts.md) or ansible (a playbook)",
    )
    plan.set_defaults(func=plan_command)


def plan_command(args) -> ExitCode:
    plan = _make_plan(args)
    if args.format == "sh":
        print(plan.to_sh(), end="")
    elif args.format == "json":
        print(plan.to_json())
    elif args.format == "ansible":
        from ..install.ansible import to_playbook

        print(to_playbook(plan), end="")
    else:
        from ..install.render import print_plan

        print_plan(plan, verbose=args.verbose)
    return ExitCode.OK


def add_install(sub) -> None:
    from ..paths import log_home_text

    install = command(
        sub,
        "install",
        help="apply an install plan (only with --apply)",
        description="Show an install step's plan, and run it with --apply: every command is shown, root "
        "steps are asked for (unless --yes), finished steps are skipped on a rerun. "
        f"The log goes to a new folder under {log_home_text()}.",
        example=(
            "gpudock install docker               # show what would run",
            "gpudock install docker --apply       # run it, asking before each root step",
            "gpudock install toolkit --apply --yes",
            "gpudock install all --apply --source docker-ce --cdi",
        ),
    )
    add_step_options(install)
    install.add_argument("--snapshot", metavar="FILE", help="show the plan for a saved snapshot (not with --apply)")
    install.add_argument("--apply", action="store_true", help="really run the steps (otherwise only show them)")
    install.add_argument("--yes", action="store_true", help="do not ask before each root step")
    install.add_argument("--log-dir", metavar="DIR", help="where the log goes (default: a new folder, see above)")
    install.set_defaults(func=install_command)


def install_command(args) -> ExitCode:
    from ..exceptions import UsageError
    from ..install import apply
    from ..install.render import print_plan
    from ..layout import terminal_console
    from ..paths import new_log_dir

    if args.apply and args.snapshot:
        # the safety refusals (WSL driver, Docker Desktop) must come from this host, not from a file
        raise UsageError("--apply plans from this host only; drop --snapshot (use `gpudock plan --snapshot F` to look)")
    if args.apply and not args.yes:
        need_a_terminal()  # before probing and planning: the questions could not be answered
    plan = _make_plan(args)
    console = terminal_console()
    if not args.apply:
        print_plan(plan, console, verbose=args.verbose)
        console.print(
            "\nNothing was run. Add --apply to run these steps (--yes to skip the questions).", style="yellow"
        )
        return ExitCode.OK
    log_dir = new_log_dir(args.log_dir, f"install-{args.step}")
    console.print(f"log: {log_dir}", markup=False, highlight=False, soft_wrap=True)  # said once, before anything runs
    result = apply(plan, log_dir, yes=args.yes, console=console)
    return ExitCode.PROBLEM if result.status == "aborted" else ExitCode.OK
