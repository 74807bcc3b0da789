"""A Plan as an Ansible playbook: the same steps, checks and verifications, run by Ansible on many hosts.

Each Step becomes a task running its argv (``ansible.builtin.command`` with ``argv``: no shell, no
string built from input); its check runs first and the step's task has ``when`` it did not pass;
``become`` only for root steps. Every string that comes from a plan or a host is tagged ``!unsafe``,
so Ansible never evaluates a ``{{ }}`` inside it. The play starts by re-checking, on the host itself,
the refusals the planner made from the snapshot: no Linux driver on WSL, no engine over Docker Desktop.
"""

from __future__ import annotations

import re

import yaml

from .plan import Check, Plan, RootFile, Step, Work, same_content

DEFAULT_WAIT_S = 1
WORK = "gpudock_work"  # the registered private work folder (ansible.builtin.tempfile), the plan's mktemp -d
_WORK_NAME = re.compile(r"[A-Za-z0-9._/-]+")


class Unsafe(str):
    """Text Ansible must take literally (the ``!unsafe`` tag: never templated)."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_unsafe(dumper: yaml.SafeDumper, value: Unsafe):
    style = "|" if "\n" in value else '"'
    return dumper.represent_scalar("!unsafe", str(value), style=style)


_Dumper.add_representer(Unsafe, _represent_unsafe)


def dump_playbook(plays: list[dict]) -> str:
    return "---\n" + yaml.dump(plays, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)


def _arg(arg: str):
    """A word as Ansible must see it: literal (!unsafe), or, for a work-folder path, under the play's temp folder."""
    if isinstance(arg, Work):
        if not _WORK_NAME.fullmatch(arg.name):
            raise ValueError(f"work path {arg.name!r} has characters a playbook path does not take")
        return f"{{{{ {WORK}.path }}}}/{arg.name}"
    return Unsafe(arg)


def _argv(argv) -> list:
    return [_arg(a) for a in argv]


def _name(text: str) -> Unsafe:
    return Unsafe(" ".join(text.split()))


def _check_task(check: Check, var: str, title: str) -> dict:
    task = {
        "name": _name(f"check: {title}"),
        "ansible.builtin.command": {"argv": _argv(check.argv)},
        "register": var,
        "changed_when": False,
        "failed_when": False,
        "check_mode": False,
    }
    if check.root:
        task["become"] = True
    return task


def _satisfied(check: Check, var: str, regex_var: str) -> str:
    """A Jinja test over a registered result; the regex itself is a task variable tagged !unsafe.

    As in apply: exit 0 and a stdout line matching the regex (``^``/``$`` per line, like grep -E);
    ``negate`` turns it round.
    """
    if check.stdout_regex:
        test = f"({var}.rc == 0 and {var}.stdout is search({regex_var}, multiline=True))"
    else:
        test = f"({var}.rc == 0)"
    return f"(not {test})" if check.negate else test


def background_argv(step: Step) -> list[str]:
    """A daemon started detached (start-stop-daemon), its output to the Daemon's log, its pid in its pidfile.

    The program writes its own pidfile (its argv says so); start-stop-daemon starts nothing when the
    pid in that file still runs.
    """
    daemon = step.background
    program = ["--exec", step.argv[0]] if step.argv[0].startswith("/") else ["--startas", "/usr/bin/env"]
    args = list(step.argv[1:]) if step.argv[0].startswith("/") else list(step.argv)
    return [
        "start-stop-daemon",
        "--start",
        "--background",
        "--pidfile",
        daemon.pidfile,
        "--output",
        daemon.log,
        *program,
        "--",
        *args,
    ]


def _write_task(step: Step, file: RootFile) -> dict:
    """A file written as root: Ansible's copy writes it atomically and changes nothing when it already matches."""
    if file.content is not None:
        args = {"content": Unsafe(file.content), "dest": Unsafe(file.path), "mode": file.mode}
    else:
        args = {"src": _arg(file.source), "remote_src": True, "dest": Unsafe(file.path), "mode": file.mode}
    return {"name": _name(step.title), "ansible.builtin.copy": args, "become": True}


def _command_task(step: Step) -> dict:
    if step.writes is not None:
        return _write_task(step, step.writes)
    argv = background_argv(step) if step.background else list(step.argv)
    args: dict = {"argv": _argv(argv)}
    task = {"name": _name(step.title), "ansible.builtin.command": args}
    if step.root:
        task["become"] = True
    return task


def _verify_task(check: Check, var: str, title: str, wait_s: float) -> dict:
    regex_var = f"{var}_regex"
    task = {
        "name": _name(f"verify: {title}"),
        "ansible.builtin.command": {"argv": _argv(check.argv)},
        "register": var,
        "changed_when": False,
        "failed_when": f"not {_satisfied(check, var, regex_var)}",
        "until": _satisfied(check, var, regex_var),
        "retries": max(int(wait_s), 0),
        "delay": DEFAULT_WAIT_S,
    }
    if check.stdout_regex:
        task["vars"] = {regex_var: Unsafe(check.stdout_regex)}
    if check.root:
        task["become"] = True
    return task


def step_tasks(step: Step, number: int) -> list[dict]:
    """The tasks for one step: its check, the step (with its fallback as a rescue), its verification."""
    if step.manual:
        return [
            {
                "name": _name(f"{step.title} (you do this)"),
                "ansible.builtin.debug": {"msg": Unsafe(f"do this yourself: {step.command_line()}")},
            }
        ]
    tasks: list[dict] = []
    when = None
    check_vars: dict = {}
    if step.check and not (step.writes is not None and step.check == same_content(step.writes)):
        # (a file write needs no check: copy itself changes nothing when the file already holds the content)
        var = f"gpudock_check_{number}"
        tasks.append(_check_task(step.check, var, step.title))
        if step.check.stdout_regex:
            check_vars[f"{var}_regex"] = Unsafe(step.check.stdout_regex)
        when = f"not {_satisfied(step.check, var, var + '_regex')}"
    doing = [_command_task(step)]
    if step.verify:
        doing.append(_verify_task(step.verify, f"gpudock_verify_{number}", step.title, step.verify_wait_s))
    if step.fallback:
        fallback = step.fallback
        rescue = [_command_task(fallback)]
        if fallback.verify:
            rescue.append(
                _verify_task(
                    fallback.verify, f"gpudock_verify_{number}_fallback", fallback.title, fallback.verify_wait_s
                )
            )
        # as in apply(): the step failing, or its verification failing, runs the fallback
        doing = [{"name": _name(step.title), "block": doing, "rescue": rescue}]
    elif len(doing) > 1:
        doing = [{"name": _name(step.title), "block": doing}]
    body = doing[0]
    if when:
        body["when"] = when
        if check_vars:
            body["vars"] = check_vars
    tasks.append(body)
    return tasks


def refusal_tasks(refuse_wsl: bool, refuse_docker_desktop: bool) -> list[dict]:
    """Re-check on the host, before any change, what the planner refused from the snapshot."""
    tasks: list[dict] = []
    if refuse_wsl:
        tasks += [
            {
                "name": "look for WSL (its kernel, /dev/dxg)",
                "ansible.builtin.command": {"argv": ["grep", "-qis", "microsoft", "/proc/version"]},
                "register": "gpudock_wsl_kernel",
                "changed_when": False,
                "failed_when": False,
                "check_mode": False,
            },
            {"name": "look for /dev/dxg", "ansible.builtin.stat": {"path": "/dev/dxg"}, "register": "gpudock_dxg"},
            {
                "name": "refuse a Linux NVIDIA driver on WSL",
                "ansible.builtin.fail": {
                    "msg": "WSL: the Windows NVIDIA driver provides the GPU; never install a Linux driver here "
                    "(https://docs.nvidia.com/cuda/wsl-user-guide/)"
                },
                "when": "gpudock_wsl_kernel.rc == 0 or gpudock_dxg.stat.exists",
            },
        ]
    if refuse_docker_desktop:
        tasks += [
            {
                "name": "look for Docker Desktop's WSL integration",
                "ansible.builtin.stat": {"path": "/mnt/wsl/docker-desktop/cli-tools"},
                "register": "gpudock_desktop",
            },
            {
                "name": "refuse to install an engine over Docker Desktop",
                "ansible.builtin.fail": {
                    "msg": "Docker Desktop's WSL integration serves this distro: do not install Docker Engine over "
                    "it (https://docs.docker.com/desktop/features/wsl/)"
                },
                "when": "gpudock_desktop.stat.exists",
            },
        ]
    return tasks


def plan_play(plan: Plan, hosts: str = "all", refuse_wsl: bool | None = None) -> dict:
    """One play that applies ``plan`` on ``hosts`` (a host pattern)."""
    if refuse_wsl is None:
        refuse_wsl = plan.name in ("driver", "all") and any(_is_driver_step(s) for s in plan.steps)
    refuse_desktop = plan.name in ("docker", "toolkit", "all") and bool(plan.steps)
    tasks = []
    for number, step in enumerate(plan.steps, 1):
        tasks += step_tasks(step, number)
    for number, check in enumerate(plan.verify, 1):
        tasks.append(_verify_task(check, f"gpudock_final_{number}", " ".join(check.argv), 0))
    if plan.uses_work():
        # the plan's private work folder (downloads, files to install), removed whatever happens
        tasks = [
            {
                "name": "private work folder",
                "ansible.builtin.tempfile": {"state": "directory", "prefix": "gpudock-"},
                "register": WORK,
                "check_mode": False,
            },
            {
                "name": "the plan's steps",
                "block": tasks,
                "always": [
                    {
                        "name": "remove the work folder",
                        "ansible.builtin.file": {"path": f"{{{{ {WORK}.path }}}}", "state": "absent"},
                    }
                ],
            },
        ]
    tasks = refusal_tasks(refuse_wsl, refuse_desktop) + tasks
    play: dict = {
        "name": _name(f"gpudock plan {plan.name} ({plan.host})"),
        "hosts": Unsafe(hosts),
        "gather_facts": False,
        "environment": {"DEBIAN_FRONTEND": "noninteractive"},
        "tasks": tasks,
    }
    return play


def _is_driver_step(step: Step) -> bool:
    return bool(re.search(r"nvidia-driver|cuda-drivers|nvidia-open|cuda-keyring", " ".join(step.argv)))


def to_playbook(plan: Plan, hosts: str = "all") -> str:
    """``gpudock plan STEP --format ansible``: the plan as a playbook (YAML text)."""
    notes = "".join(f"# note: {' '.join(n.split())}\n" for n in plan.notes)
    return (
        f"# gpudock plan {' '.join(plan.name.split())}: review it, then ansible-playbook -i INVENTORY FILE\n"
        + notes
        + dump_playbook([plan_play(plan, hosts)])
    )
