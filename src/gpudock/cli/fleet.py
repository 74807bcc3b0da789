"""``gpudock fleet doctor | install | bench``: the same over many hosts, through Ansible (docs/fleet.md)."""

from __future__ import annotations

import argparse

from ..exitcodes import ExitCode
from .parser import Parser, command, need_a_terminal, say
from .plan import add_step_options, plan_options


def add_fleet(sub) -> None:
    fleet = command(
        sub,
        "fleet",
        help="the doctor, install plans and benchmark over many hosts (Ansible)",
        description="Run the doctor, the install plans or the benchmark on every host of an Ansible "
        "inventory (needs the fleet extra: `scripts/bootstrap fleet`).",
        example=(
            "gpudock fleet doctor -i hosts.ini",
            "gpudock fleet install docker -i hosts.ini --limit gpu01 --apply",
            "gpudock fleet bench -i hosts.ini",
        ),
    )
    fleet_sub = fleet.add_subparsers(dest="fleet_command", metavar="{doctor,install,bench}", parser_class=Parser)
    add_fleet_doctor(fleet_sub)
    add_fleet_install(fleet_sub)
    add_fleet_bench(fleet_sub)


def forks(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return int(text)


def _fleet_options(parser) -> None:
    parser.add_argument("-i", "--inventory", required=True, metavar="INVENTORY", help="an Ansible inventory")
    parser.add_argument("--limit", metavar="PATTERN", help="only the hosts matching this Ansible host pattern")
    parser.add_argument("--forks", type=forks, default=5, metavar="N", help="hosts worked on at once (default 5)")
    parser.add_argument("--out", metavar="DIR", help="run folder (default: a new runs/<UTC time>-fleet-…/)")
    parser.add_argument(
        "--trust-new-hosts",
        action="store_true",
        help="accept and record the SSH key of a host never seen before (a changed key is still refused)",
    )
    parser.add_argument(
        "--known-hosts", metavar="FILE", help="the known_hosts file ssh checks and records in (default: ssh's own)"
    )


def add_fleet_doctor(sub) -> None:
    doctor = command(
        sub,
        "doctor",
        help="probe every host, diagnose each here, one row per host",
        description="Probe every host through Ansible and diagnose each answer here with the same rules as "
        "`gpudock doctor`. Exit 1 when a host has an error or cannot be reached.",
        example=(
            "gpudock fleet doctor -i hosts.ini",
            "gpudock fleet doctor -i hosts.ini --limit 'gpu*' --json",
            "gpudock fleet doctor -i hosts.ini --prometheus /var/lib/prometheus/fleet.prom",
        ),
    )
    _fleet_options(doctor)
    doctor.add_argument("--json", action="store_true", help="print the fleet document (every host's findings)")
    doctor.add_argument("--deep", action="store_true", help="also the slow probes on every host")
    doctor.add_argument(
        "--prometheus",
        metavar="FILE",
        help="also write every host's findings and verdict as node_exporter textfile metrics (atomically)",
    )
    doctor.add_argument("-v", "--verbose", action="store_true", help="also list each host's findings")
    doctor.set_defaults(func=fleet_doctor_command)


def _inventory_and_run_dir(args, suffix: str):
    """The inventory, read once, then a new run folder: a bad inventory is exit 2 and leaves nothing behind."""
    from ..fleet.engine import read_inventory
    from ..fleet.hostkeys import HostKeys, known_hosts_file
    from ..rundir import new_run_dir

    known = known_hosts_file(args.known_hosts) if args.known_hosts else None
    args.host_keys = HostKeys(trust_new=args.trust_new_hosts, known_hosts=known)
    inventory = read_inventory(args.inventory, args.limit, warn=ansible_says)
    return inventory, new_run_dir(args.out, suffix=suffix).resolve()  # absolute: Ansible resolves from elsewhere


def ansible_says(line: str) -> None:
    """Ansible's warnings: shown on stderr, apart from the data on stdout."""
    from ..textsafety import printable

    say(f"ansible: {printable(line)}")


def fleet_doctor_command(args) -> ExitCode:
    from ..files import check_writable
    from ..fleet.doctor import fleet_doctor
    from ..fleet.table import print_fleet

    if args.prometheus:
        check_writable(args.prometheus)
    inventory, run_dir = _inventory_and_run_dir(args, "-fleet-doctor")
    report = fleet_doctor(
        inventory, run_dir, forks=args.forks, deep=args.deep, host_keys=args.host_keys, warn=ansible_says
    )
    if args.prometheus:
        from ..metrics import fleet_metrics, write_textfile

        write_textfile(args.prometheus, fleet_metrics(report))
    if args.json:
        print(report.to_json())
    else:
        print_fleet(report, verbose=args.verbose)
    return ExitCode.OK if report.ok else ExitCode.PROBLEM


def add_fleet_install(sub) -> None:
    install = command(
        sub,
        "install",
        help="probe, plan per host, and apply the plans as Ansible playbooks",
        example=(
            "gpudock fleet install docker -i hosts.ini            # the playbooks, not run",
            "gpudock fleet install toolkit -i hosts.ini --apply --yes",
        ),
    )
    add_step_options(install)
    _fleet_options(install)
    install.add_argument("--apply", action="store_true", help="really run the playbooks (otherwise only show them)")
    install.add_argument("--yes", action="store_true", help="do not ask before running on the hosts")
    install.set_defaults(func=fleet_install_command)


def fleet_install_command(args) -> ExitCode:
    from ..fleet.install import fleet_install, print_install

    if args.apply and not args.yes:
        need_a_terminal()
    inventory, run_dir = _inventory_and_run_dir(args, f"-fleet-install-{args.step}")
    result = fleet_install(
        inventory,
        run_dir,
        args.step,
        plan_options=plan_options(args),
        forks=args.forks,
        apply=args.apply,
        confirm=None if args.yes else confirm,
        say=print,
        host_keys=args.host_keys,
        warn=ansible_says,
    )
    print_install(result)
    return ExitCode.OK if result.ok else ExitCode.PROBLEM


def confirm(question: str) -> bool:
    need_a_terminal()
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:  # the terminal closed mid-question: no answer is no
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def add_fleet_bench(sub) -> None:
    bench = command(
        sub,
        "bench",
        help="run `gpudock bench` on every host and compare them side by side",
        example=(
            "gpudock fleet bench -i hosts.ini                 # --quick on every host",
            "gpudock fleet bench -i hosts.ini --full --json",
        ),
    )
    _fleet_options(bench)
    bench.add_argument("--full", action="store_true", help="full sizes (default: --quick on every host)")
    bench.add_argument("--json", action="store_true", help="print every host's results as one JSON document")
    bench.set_defaults(func=fleet_bench_command)


def fleet_bench_command(args) -> ExitCode:
    from ..fleet.bench import fleet_bench, print_fleet_bench

    inventory, run_dir = _inventory_and_run_dir(args, "-fleet-bench")
    result = fleet_bench(
        inventory,
        run_dir,
        forks=args.forks,
        quick=not args.full,
        say=say,
        host_keys=args.host_keys,
        warn=ansible_says,
    )
    if args.json:
        print(result.to_json())
    else:
        print_fleet_bench(result)
    return ExitCode.OK if result.ok else ExitCode.PROBLEM
