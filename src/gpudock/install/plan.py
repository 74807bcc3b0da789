"""Step and Plan: what an install would do, shown before anything runs.

A step is an argv list (never a shell string built from input), a check that
tells when it is already satisfied, and a verification. Plans render as a table,
a copy-paste shell script and JSON; ``apply`` runs them (see apply.py).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field

from ..errors import GpudockError


class PlanRefused(GpudockError):
    """This host must not get this install (WSL driver, Docker Desktop, unsupported distro)."""

    exit_code = 1


@dataclass(frozen=True)
class Check:
    """Satisfied when ``argv`` exits 0 and, if given, its stdout matches ``stdout_regex``."""

    argv: tuple[str, ...]
    stdout_regex: str | None = None
    root: bool = False  # needs root to look (docker info before the user is in the docker group)

    def shell(self) -> str:
        cmd = ("sudo " if self.root else "") + shlex.join(self.argv)
        if self.stdout_regex:
            return f"{cmd} 2>/dev/null | grep -qE {shlex.quote(self.stdout_regex)}"
        return cmd if self.argv[0] == "test" else f"{cmd} >/dev/null 2>&1"


@dataclass(frozen=True)
class Step:
    title: str
    argv: tuple[str, ...]
    root: bool = True
    check: Check | None = None  # already satisfied? then skipped
    verify: Check | None = None  # after running: did it work?
    verify_wait_s: float = 0  # retry the verification this long (a daemon starting)
    stdin: str | None = None  # content fed to argv (e.g. `tee FILE`): file contents, never shell
    background: bool = False  # start and leave running (dockerd without systemd)
    fallback: Step | None = None  # tried when this step fails
    manual: bool = False  # the user does this (reboot, Windows): shown, never run
    docs: str = ""

    def command_line(self, sudo: bool = True) -> str:
        prefix = "sudo " if (self.root and sudo) else ""
        line = prefix + shlex.join(self.argv)
        if self.stdin is not None:
            line += " > /dev/null <<'GPUDOCK_EOF'\n" + self.stdin.rstrip("\n") + "\nGPUDOCK_EOF"
        if self.background:
            return f"{prefix}sh -c {shlex.quote(shlex.join(self.argv) + ' > /var/log/gpudock-' + self.argv[0].split('/')[-1] + '.log 2>&1 &')}"
        return line


def dpkg_installed(package: str) -> Check:
    return Check(("dpkg-query", "-W", "-f=${Status}", package), r"install ok installed")


def file_exists(path: str) -> Check:
    return Check(("test", "-s", path))


def file_contains(path: str, regex: str) -> Check:
    return Check(("grep", "-qsE", regex, path))


@dataclass
class Plan:
    name: str
    host: str
    steps: list[Step]
    verify: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # --- renderings ------------------------------------------------------------------
    def to_sh(self) -> str:
        lines = [
            "#!/usr/bin/env bash",
            f"# gpudock plan {self.name} for {self.host}",
            "# Generated: review it, then run it. Steps whose check passes are skipped.",
            "# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell",
            "set -euo pipefail",
            "",
        ]
        lines += ["# " + " ".join(note.split()) for note in self.notes]
        for number, step in enumerate(self.steps, 1):
            title = " ".join(step.title.split())  # a newline in a host value must not leave the comment
            lines.append(f"# {number}. {title}" + (f"  ({step.docs})" if step.docs else ""))
            if step.manual:
                lines.append(f"#    do this yourself: {step.command_line()}")
                lines.append("")
                continue
            body = step.command_line()
            if step.fallback:
                body = f"{body} || {step.fallback.command_line()}"
            if step.check:
                lines.append(f"if ! {step.check.shell()}; then")
                lines += ["  " + ln if i == 0 else ln for i, ln in enumerate(body.split("\n"))]
                lines.append("fi")
            else:
                lines.append(body)
            if step.verify and step.verify_wait_s:
                lines.append(
                    f"for _ in $(seq {int(step.verify_wait_s)}); do {step.verify.shell()} && break; sleep 1; done"
                )
            lines.append("")
        for check in self.verify:
            lines.append(f"{check.shell()} && echo 'verified: {shlex.join(check.argv)}'")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        return json.dumps(
            {
                "plan": self.name,
                "host": self.host,
                "notes": self.notes,
                "steps": [_step_dict(s) for s in self.steps],
                "verify": [list(c.argv) for c in self.verify],
            },
            indent=2,
            ensure_ascii=False,
        )

    def table(self):
        from rich.table import Table

        table = Table(title=f"gpudock plan {self.name} — {self.host}", show_lines=True, expand=True)
        table.add_column("#", width=3)
        table.add_column("step", ratio=2, overflow="fold")
        table.add_column("command", ratio=4, overflow="fold")
        table.add_column("skipped when", ratio=2, overflow="fold")
        for number, step in enumerate(self.steps, 1):
            table.add_row(
                str(number),
                step.title + (" (you do this)" if step.manual else ""),
                step.command_line(),
                step.check.shell() if step.check else "—",
            )
        return table


def _step_dict(step: Step) -> dict:
    data = asdict(step)
    data["command"] = step.command_line()
    return data
