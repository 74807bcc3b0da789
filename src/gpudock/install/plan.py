"""Step and Plan: what an install would do, shown before anything runs.

The Step API (small on purpose; the fleet, terminal and advice work build on it):

- ``Check(argv, stdout_regex=None, root=False, what="", negate=False)``: satisfied when ``argv`` exits 0
  (non-zero with ``negate``) and, if given, its stdout matches ``stdout_regex``. ``what`` is a short
  phrase for people ("docker.io is installed"); ``check.describe()`` gives "skipped if docker.io is
  installed". Helpers: ``dpkg_installed``, ``file_exists``, ``file_contains``, ``command_exists``,
  ``key_fingerprint``, ``same_content``.
- ``Step(title, argv=(), root=True, check=None, verify=None, verify_wait_s=0, writes=None,
  background=None, fallback=None, manual=False, docs="")``:

  * ``argv`` is one command as a tuple of words, never a shell string built from input. A step runs
    it (``sudo`` in front when ``root`` and not root already); ``check`` passing skips the step;
    ``verify`` must pass afterwards (retried ``verify_wait_s`` seconds) or the step failed;
    ``fallback`` runs when the step fails; ``manual`` steps are shown, never run.
  * ``writes=RootFile(path, content=... | source=..., mode="0644")``: a file written as root is a
    first-class thing. Its content is shown in every plan rendering and in the root prompt; apply
    (and the shell script) write it to a private temp folder first, then install it beside its
    target and rename it into place (``RootFile.commands``), so an interrupted step leaves the old
    file or the new one, and reruns. ``argv`` is then derived; no heredocs, no ``tee``.
  * ``background=Daemon(pidfile, log)``: start ``argv`` and leave it running, its pid in gpudock's
    own pidfile so that it is later stopped through that file (``stop_daemon``), never by name.
- ``Work(name)``: a path in the plan's private work folder (``mktemp -d``: downloads, files to
  install). A str, rendered as ``"$GPUDOCK_WORK"/name`` in scripts and resolved by apply.
- ``apt_get(*args)``: ``env DEBIAN_FRONTEND=noninteractive apt-get ARGS`` (sudo's env_reset drops the
  variable otherwise).

Plans render as a copy-paste shell script and JSON here (for people: ``install/render.py``); ``apply`` runs
them (see apply.py). Every word from a host (package names, users, codenames) reaches the script through
``shlex.quote``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

WORK_VAR = "GPUDOCK_WORK"


class Work(str):
    """A path inside the plan's private work folder, e.g. ``Work("docker.asc")``."""

    def __new__(cls, name: str):
        if not name or name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"a work path is relative and stays inside the work folder: {name!r}")
        obj = super().__new__(cls, f"${WORK_VAR}/{name}")
        obj.name = name
        return obj

    def shell(self) -> str:
        return f'"${WORK_VAR}"/{shlex.quote(self.name)}'


def _word(arg: str) -> str:
    return arg.shell() if isinstance(arg, Work) else shlex.quote(arg)


def shell_join(argv) -> str:
    """Like ``shlex.join`` but work-folder paths expand (``"$GPUDOCK_WORK"/name``)."""
    return " ".join(_word(a) for a in argv)


def apt_get(*args: str) -> tuple[str, ...]:
    return ("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", *args)


@dataclass(frozen=True)
class Check:
    """Satisfied when ``argv`` exits 0 and its stdout matches ``stdout_regex`` (or, with ``negate``, when not).

    The regex is matched line by line (``^`` and ``$`` per line), as ``grep -E`` does in the script.
    """

    argv: tuple[str, ...]
    stdout_regex: str | None = None
    root: bool = False  # needs root to look (docker info before the user is in the docker group)
    what: str = ""  # for people: "docker.io is installed"
    negate: bool = False

    def describe(self, prefix: str = "skipped if") -> str:
        return f"{prefix} {self.what}" if self.what else f"{prefix} `{self.shell()}` succeeds"

    def shell(self, unsatisfied: bool = False) -> str:
        """A shell condition true when the check is satisfied (or, with ``unsatisfied``, when it is not)."""
        cmd = ("sudo " if self.root else "") + shell_join(self.argv)
        if self.stdout_regex:
            cmd = f"{cmd} 2>/dev/null | grep -qE {shlex.quote(self.stdout_regex)}"
        elif self.argv[0] != "test":
            cmd = f"{cmd} >/dev/null 2>&1"
        return f"! {cmd}" if self.negate != unsatisfied else cmd

    def as_dict(self) -> dict:
        return {
            "argv": list(self.argv),
            "stdout_regex": self.stdout_regex,
            "root": self.root,
            "negate": self.negate,
            "what": self.what,
        }


@dataclass(frozen=True)
class RootFile:
    """A file written as root: ``content`` (text, shown) or ``source`` (a verified Work file), installed atomically."""

    path: str
    content: str | None = None
    source: Work | None = None
    mode: str = "0644"

    def staged(self) -> Work:
        """Where the file waits before it is installed: the source, or its content written to the work folder."""
        return self.source if self.source is not None else Work("file-" + self.path.strip("/").replace("/", "_"))

    def commands(self) -> list[tuple[str, ...]]:
        """Install beside the target, then rename over it: readers never see half a file."""
        new = self.path + ".gpudock-new"
        return [("install", "-m", self.mode, "-T", self.staged(), new), ("mv", "-f", "-T", new, self.path)]


@dataclass(frozen=True)
class Daemon:
    """A program started in the background by gpudock; it writes its own pid to ``pidfile`` (its argv says so)."""

    pidfile: str
    log: str


def stop_daemon(daemon: Daemon, program: str) -> tuple[str, ...]:
    """Stop what gpudock started, through its pidfile (and only if that pid still runs ``program``)."""
    return (
        "start-stop-daemon",
        "--stop",
        "--oknodo",
        "--retry",
        "TERM/20/KILL/5",
        "--pidfile",
        daemon.pidfile,
        "--exec",
        program,
    )


@dataclass(frozen=True)
class Step:
    title: str
    argv: tuple[str, ...] = ()
    root: bool = True
    check: Check | None = None  # already satisfied? then skipped
    verify: Check | None = None  # after running: did it work?
    verify_wait_s: float = 0  # retry the verification this long (a daemon starting)
    writes: RootFile | None = None  # a file written as root; argv is derived from it
    background: Daemon | None = None  # start and leave running, pid in gpudock's pidfile
    fallback: Step | None = None  # tried when this step fails
    manual: bool = False  # the user does this (reboot, Windows): shown, never run
    docs: str = ""

    def commands(self) -> list[tuple[str, ...]]:
        """The argv lists this step runs, in order (a file write is two: install beside, rename over)."""
        if self.writes is not None:
            return self.writes.commands()
        return [self.argv]

    def command_line(self, sudo: bool = True) -> str:
        prefix = "sudo " if (self.root and sudo) else ""
        if self.background is not None:
            # a constant script; the program and its arguments are positional words
            script = f'"$@" >>{self.background.log} 2>&1 &'
            return f"{prefix}sh -c {shlex.quote(script)} sh {shell_join(self.argv)}"
        return " && ".join(prefix + shell_join(argv) for argv in self.commands())

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "argv": list(self.argv),
            "commands": [list(argv) for argv in self.commands()],
            "command": self.command_line(),
            "root": self.root,
            "manual": self.manual,
            "check": self.check.as_dict() if self.check else None,
            "skipped_if": self.check.describe() if self.check else None,
            "verify": self.verify.as_dict() if self.verify else None,
            "verify_wait_s": self.verify_wait_s,
            "writes": (
                {
                    "path": self.writes.path,
                    "mode": self.writes.mode,
                    "content": self.writes.content,
                    "source": self.writes.source,
                }
                if self.writes
                else None
            ),
            "background": (
                {"pidfile": self.background.pidfile, "log": self.background.log} if self.background else None
            ),
            "fallback": self.fallback.as_dict() if self.fallback else None,
            "docs": self.docs,
        }


def dpkg_installed(package: str) -> Check:
    return Check(
        ("dpkg-query", "-W", "-f=${Status}", "--", package), r"install ok installed", what=f"{package} is installed"
    )


def file_exists(path: str) -> Check:
    return Check(("test", "-s", path), what=f"{path} exists")


def file_contains(path: str, regex: str, what: str = "") -> Check:
    return Check(("grep", "-qsE", "--", regex, path), what=what or f"{path} already says so")


# a constant program; the file and the runtime's name are argv words. JSON read as JSON, not grepped: a
# "default-runtime": "nvidia" or a log tag "nvidia" does not register the runtime (runtimes.nvidia does)
_RUNTIME_IN_DAEMON_JSON = (
    'import json,sys; d=json.load(open(sys.argv[1])); r=d.get("runtimes") if isinstance(d, dict) else None; '
    "sys.exit(0 if isinstance(r, dict) and isinstance(r.get(sys.argv[2]), dict) else 1)"
)


def runtime_registered(path: str, runtime: str, what: str = "") -> Check:
    """Docker's daemon.json at ``path`` registers ``runtime`` under ``runtimes`` (parsed, not grepped)."""
    return Check(("python3", "-c", _RUNTIME_IN_DAEMON_JSON, path, runtime), what=what or f"{path} registers {runtime}")


def command_exists(*names: str) -> Check:
    # a constant script; the names are positional words, never part of the script
    script = 'for c in "$@"; do command -v -- "$c" || exit 1; done'
    return Check(
        ("sh", "-c", script, "sh", *names),
        what=" and ".join(names) + (" are" if len(names) > 1 else " is") + " on PATH",
    )


def key_fingerprint(path: str, fingerprint: str, what: str = "") -> Check:
    """The OpenPGP key file at ``path`` holds the key ``fingerprint`` (gpg --show-keys imports nothing)."""
    return Check(
        ("gpg", "--batch", "--no-default-keyring", "--with-colons", "--show-keys", path),
        rf"^fpr:+{fingerprint}:",
        what=what or f"{path} holds the key {fingerprint}",
    )


def same_content(file: RootFile) -> Check:
    """The target already holds exactly the staged content."""
    return Check(("cmp", "-s", "--", file.staged(), file.path), what=f"{file.path} already holds this content")


def writes(title: str, file: RootFile, docs: str = "", check: Check | None = None) -> Step:
    """A step that writes ``file`` as root; skipped when the target already holds that content."""
    return Step(title, root=True, writes=file, check=check or same_content(file), docs=docs)


@dataclass
class Plan:
    name: str
    host: str
    steps: list[Step]
    verify: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def uses_work(self) -> bool:
        def argvs(step: Step):
            yield from step.commands()
            for check in (step.check, step.verify):
                if check:
                    yield check.argv
            if step.fallback:
                yield from argvs(step.fallback)

        return any(isinstance(a, Work) for s in self.steps for argv in argvs(s) for a in argv)

    # --- renderings ------------------------------------------------------------------
    def to_sh(self) -> str:
        lines = [
            "#!/usr/bin/env bash",
            f"# gpudock plan {_comment(self.name)} for {_comment(self.host)}",
            "# Generated: review it, then run it. Steps whose check passes are skipped.",
            "# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not shell",
            "set -euo pipefail",
        ]
        if self.uses_work():
            lines += [
                f'{WORK_VAR}="$(mktemp -d)"  # private folder for downloads and files to install',
                f"trap 'rm -rf -- \"${WORK_VAR}\"' EXIT",
            ]
        lines.append("")
        lines += ["# " + _comment(note) for note in self.notes]
        for number, step in enumerate(self.steps, 1):
            lines.append(f"# {number}. {_comment(step.title)}" + (f"  ({_comment(step.docs)})" if step.docs else ""))
            if step.check:
                lines.append(f"#    {_comment(step.check.describe())}")
            if step.manual:
                lines.append(f"#    do this yourself: {_comment(step.command_line())}")
                lines.append("")
                continue
            if step.writes is not None and step.writes.content is not None:
                # the content as quoted words, one per line: never a heredoc, never shell syntax
                words = " ".join(shlex.quote(line) for line in step.writes.content.splitlines())
                lines.append(f"printf '%s\\n' {words} > {step.writes.staged().shell()}")
            body = _step_lines(step, number)
            if step.check:
                lines.append(f"if {step.check.shell(unsatisfied=True)}; then")
                lines += ["  " + line for line in body]
                lines.append("fi")
            else:
                lines += body
            lines.append("")
        for check in self.verify:
            lines.append(f"{check.shell()} && echo {shlex.quote('verified: ' + shlex.join(check.argv))}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        return json.dumps(
            {
                "plan": self.name,
                "host": self.host,
                "notes": self.notes,
                "steps": [s.as_dict() for s in self.steps],
                "verify": [list(c.argv) for c in self.verify],
            },
            indent=2,
            ensure_ascii=True,
        )


def file_preview(file: RootFile) -> str:
    """What a root prompt and a plan table show for a file written as root."""
    if file.content is None:
        return f"{file.path} ← {file.source} (downloaded and verified)"
    return f"writes {file.path} (mode {file.mode}):\n" + "\n".join("  | " + line for line in file.content.splitlines())


def _comment(text: str) -> str:
    """Text safe inside a `#` comment: one line, no control characters."""
    from ..textsafety import printable

    return " ".join(printable(str(text)).split())


def _step_lines(step: Step, number: int) -> list[str]:
    lines = []
    run = step.command_line()
    if step.fallback:
        run = f"{run} || {step.fallback.command_line()}"
    lines.append(run)
    if step.verify:
        failed = shlex.quote(f"gpudock: step {number} did not verify: {step.verify.describe('expected')}")
        if step.verify_wait_s:
            lines.append(f"for _ in $(seq {int(step.verify_wait_s)}); do {step.verify.shell()} && break; sleep 1; done")
        lines.append(f"{step.verify.shell()} || {{ echo {failed} >&2; exit 1; }}")
    return lines
