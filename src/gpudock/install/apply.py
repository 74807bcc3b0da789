"""Apply a Plan: show each command, run it (sudo when not root), log it, stop at the first failure.

Idempotent by construction: a step whose check passes is skipped, so a rerun after a
failure or a kill picks up where it stopped, and a rerun after success changes nothing.
Downloads and files to install live in a private work folder (``mkdtemp``, mode 0700) removed at the
end; a file written as root is shown in full before the prompt and installed atomically.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ..exceptions import ApplyFailed
from ..textsafety import printable
from .plan import Check, Plan, Step, Work, file_preview
from .render import command_echo, progress_line


@dataclass
class ApplyResult:
    status: str  # ok | nothing-to-do | manual | aborted
    log: Path
    steps: list[tuple[str, str]] = field(default_factory=list)  # (title, ran|satisfied|manual|declined)


def has_terminal() -> bool:
    """Whether this process has a controlling terminal, where sudo could ask for a password.

    A notebook's kernel has none (Jupyter starts kernels in a session of their own).
    """
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


def _argv(step_argv, root: bool, work: Path | None = None) -> list[str]:
    argv = [str(work / a.name) if isinstance(a, Work) and work is not None else str(a) for a in step_argv]
    if root and os.geteuid() != 0:
        # without a terminal, sudo must not wait for a password nobody can type: -n fails at once instead
        return ["sudo", *argv] if has_terminal() else ["sudo", "-n", *argv]
    return argv


def _sudo_without_terminal(plan: Plan) -> str | None:
    """Why root steps cannot run here (no terminal for sudo's password), or None when they can."""
    if os.geteuid() == 0 or not any(step.root for step in plan.steps) or has_terminal():
        return None
    if check_passes(Check(("true",), root=True), timeout=20):
        return None  # sudo works without a password here
    return (
        "sudo needs a password, and there is no terminal here to type it in (a notebook's kernel has none); "
        f"nothing was run. Run the same steps in a terminal: `gpudock install {plan.name} --apply`. "
        "(`sudo -v` in a terminal first does not help with sudo's default per-terminal tickets; "
        "passwordless sudo for this user does.)"
    )


def check_passes(check: Check, timeout: float = 60, work: Path | None = None) -> bool:
    """Run the check; its regex matches line by line (``^``/``$`` per line), as ``grep -E`` in the script does."""
    try:
        proc = subprocess.run(
            _argv(check.argv, check.root, work),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            errors="replace",
        )
    except (OSError, subprocess.TimeoutExpired):
        return False  # a check that cannot run never skips a step
    passed = proc.returncode == 0 and (
        not check.stdout_regex or re.search(check.stdout_regex, proc.stdout, re.M) is not None
    )
    return passed != check.negate


def _wait_for(check: Check, seconds: float, work: Path | None = None) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if check_passes(check, work=work):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(1)


class _Log:
    """Every command, its output and exit status, appended to one text file that is never truncated."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "a", encoding="utf-8")

    def write(self, text: str) -> None:
        self.handle.write(text)
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def _run_streaming(argv: list[str], stdin: str | None, log: _Log, console: Console) -> int:
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    except OSError as err:
        log.write(f"cannot start: {err}\n")
        console.print(f"    cannot start {argv[0]}: {err.strerror}", style="red")
        return 127
    if stdin is not None:
        proc.stdin.write(stdin)
        proc.stdin.close()
    for line in proc.stdout:
        log.write(line)
        console.print("    " + printable(line.rstrip("\n")), style="dim", markup=False, highlight=False)
    return proc.wait()


def _start_background(argv: list[str], log: _Log, log_dir: Path) -> int:
    """Start a daemon detached; its argv makes it write its own pidfile, through which it is stopped later."""
    name = Path(argv[1] if argv[0] == "sudo" else argv[0]).name
    out = log_dir / f"{name}.log"
    handle = open(out, "a")
    try:
        subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    except OSError as err:
        log.write(f"cannot start: {err}\n")
        return 127
    finally:
        handle.close()
    log.write(f"started in the background; its output goes to {out}\n")
    return 0


def _stage(step: Step, work: Path) -> None:
    """Write the content of a file to be installed as root into the private work folder (never a shared name)."""
    file = step.writes
    if file is None or file.content is None:
        return
    target = work / file.staged().name
    target.unlink(missing_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(file.content)


def _run_step(step: Step, log: _Log, log_dir: Path, console: Console, work: Path) -> int:
    _stage(step, work)
    rc = 0
    for command in step.commands():
        argv = _argv(command, step.root, work)
        console.print(command_echo(argv), crop=False)
        log.write(f"$ {shlex.join(argv)}\n")
        if step.background is not None:
            rc = _start_background(argv, log, log_dir)
        else:
            rc = _run_streaming(argv, None, log, console)
        if rc != 0:
            break
    if rc == 0 and step.verify and not _wait_for(step.verify, step.verify_wait_s, work):
        log.write(f"verification failed: {step.verify.describe('expected')} ({shlex.join(step.verify.argv)})\n")
        console.print(f"  not verified: {printable(step.verify.describe('expected'))}", style="red", markup=False)
        rc = 1
    log.write(f"[exit {rc}]\n")
    return rc


def root_prompt(step: Step) -> str:
    """What the person is asked before a root step: every command, and the full content of every file written."""
    lines = ["  run as root:"]
    lines += [f"    {shell}" for shell in (shlex.join(str(a) for a in argv) for argv in step.commands())]
    if step.writes is not None:
        lines.append("    " + file_preview(step.writes).replace("\n", "\n    "))
    if step.fallback is not None:
        lines.append(f"    (if that fails: {shlex.join(str(a) for a in step.fallback.argv)})")
    return printable("\n".join(lines)) + "\n  ?"


def apply(
    plan: Plan,
    log_dir: str | Path,
    yes: bool = False,
    console: Console | None = None,
    confirm: Callable[[str], bool] | None = None,
) -> ApplyResult:
    """Run ``plan``; raise ApplyFailed naming the step and the log at the first failure.

    ``yes=False`` asks ``confirm`` before each root step (default: a prompt on the terminal).
    """
    console = console or Console()
    log_dir = Path(log_dir)
    log = _Log(log_dir / f"install-{plan.name}.log")
    # the question as Text, never markup: file contents such as "deb [signed-by=…]" must show as they are
    confirm = confirm or (lambda question: console.input(Text(f"{question} [y/N] ")).strip().lower() in ("y", "yes"))
    result = ApplyResult("ok", log.path)
    refused = _sudo_without_terminal(plan)
    if refused:
        log.write(f"refused: {refused}\n")
        log.close()
        raise ApplyFailed(refused)
    log.write(f"# gpudock install {plan.name} on {plan.host}, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
    for note in plan.notes:
        console.print(f"note: {note}", style="yellow", markup=False, highlight=False)
    work = Path(tempfile.mkdtemp(prefix="gpudock-work-"))  # 0700, a fresh name: nobody else can plant files
    run = _Run(log, log_dir, console, work, ask=None if yes else confirm)
    try:
        for number, step in enumerate(plan.steps, 1):
            state = _apply_step(step, number, len(plan.steps), run)
            result.steps.append((step.title, state))
            if state == "manual":
                result.status = "manual"
            if state == "declined":
                result.status = "aborted"
                console.print("Stopped before this step; nothing after it ran. Rerun to continue.", style="yellow")
                return result
        if all(state == "satisfied" for _title, state in result.steps):
            result.status = "nothing-to-do"
        if result.status != "manual":
            _verify(plan, run)
    finally:
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    summary = {
        "ok": "done",
        "nothing-to-do": "nothing to do: every step was already satisfied",
        "manual": "done, except the steps marked for you to do",
    }[result.status]
    console.print(summary, style="bold green")
    return result


@dataclass
class _Run:
    """What every step of one apply shares: its log, the console, the private work folder, who says yes."""

    log: _Log
    log_dir: Path
    console: Console
    work: Path
    ask: Callable[[str], bool] | None  # None: --yes, root steps run without a question


def _apply_step(step: Step, number: int, total: int, run: _Run) -> str:
    """One step: 'satisfied' (its check passes), 'manual', 'declined' or 'ran'; ApplyFailed when it fails."""
    run.console.print(progress_line(number, total, step.title), crop=False)
    _stage(step, run.work)
    if step.check and check_passes(step.check, work=run.work):
        run.console.print(f"  {printable(step.check.describe('already satisfied:'))}", style="green", markup=False)
        run.log.write(f"[{number}/{total}] {step.title}: already satisfied\n")
        return "satisfied"
    if step.manual:
        run.console.print(command_echo(step.command_line(), "  do this yourself: "), crop=False)
        run.log.write(f"[{number}/{total}] {step.title}: left to the user ({step.command_line()})\n")
        return "manual"
    if step.root and run.ask is not None and not run.ask(root_prompt(step)):
        run.log.write(f"[{number}/{total}] {step.title}: declined by the user\n")
        return "declined"
    run.log.write(f"[{number}/{total}] {step.title}\n")
    if step.writes is not None and step.writes.content is not None:
        run.log.write(file_preview(step.writes) + "\n")
    rc = _run_step(step, run.log, run.log_dir, run.console, run.work)
    if rc != 0 and step.fallback:
        run.console.print(
            f"  failed (exit {rc}); trying: {printable(step.fallback.title)}", style="yellow", markup=False
        )
        run.log.write(f"fallback: {step.fallback.title}\n")
        rc = _run_step(step.fallback, run.log, run.log_dir, run.console, run.work)
    if rc != 0:
        raise ApplyFailed(
            f'step {number}/{total} "{printable(step.title)}" failed (exit {rc}); its output is in {run.log.path}; '
            "fix the cause and rerun: finished steps are skipped"
        )
    return "ran"


def _verify(plan: Plan, run: _Run) -> None:
    """The plan's own checks after its steps; ApplyFailed at the first that still fails."""
    for check in plan.verify:
        ok = check_passes(check, timeout=120, work=run.work)
        run.log.write(f"verify {shlex.join(check.argv)}: {'ok' if ok else 'FAILED'}\n")
        run.console.print(
            f"verify: {printable(shlex.join(check.argv))} → {'ok' if ok else 'failed'}",
            style="green" if ok else "red",
            markup=False,
        )
        if not ok:
            raise ApplyFailed(
                f"the steps ran but `{printable(shlex.join(check.argv))}` still fails; see {run.log.path} "
                "and run `gpudock doctor`"
            )
