"""The doctor and a plan in a real terminal: tmux, 80×24, read back with ``capture-pane -J``.

``-J`` joins lines the terminal soft-wrapped, which is what a person gets when they select a command
that ran past the edge and paste it: so every fix command must come back whole on one line, and every
line that is not a command or a URL must fit 80 columns. CI installs tmux (.ci/run); elsewhere the test
is skipped without it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from gpudock.doctor import check
from gpudock.facts.host import host_info
from gpudock.install import make_plan
from gpudock.install.plan import file_preview
from gpudock.layout import split_step
from gpudock.snapshot import Snapshot
from tests.helpers import CASES, ROOT, SNAPSHOTS


@pytest.fixture
def tmux():
    if not shutil.which("tmux"):
        if os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("GPUDOCK_REQUIRE_DOCKER") == "1":
            pytest.fail("CI must run the terminal check, but tmux is missing: .ci/run did not install it")
        pytest.skip("no tmux (apt-get install tmux)")
    socket = f"gpudock-test-{uuid.uuid4().hex[:8]}"
    yield socket
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


def run_in_tmux(socket: str, *args: str) -> list[str]:
    """Run ``gpudock ARGS`` in an 80×24 tmux window; return the whole pane, history included, lines joined."""
    env_path = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    command = " ".join([sys.executable, "-m", "gpudock", *args])
    shell = f"cd {ROOT} && PYTHONPATH={env_path} sh -c '{command}; echo __gpudock_done__; sleep 60'"
    subprocess.run(
        [
            "tmux",
            "-L",
            socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            "-e",
            "TERM=xterm-256color",
        ]
        + ["-e", "LANG=C.UTF-8", shell],
        check=True,
    )
    deadline = time.monotonic() + 60
    while True:
        pane = subprocess.run(
            ["tmux", "-L", socket, "capture-pane", "-p", "-J", "-S", "-", "-E", "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if "__gpudock_done__" in pane or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "__gpudock_done__" in pane, pane
    size = subprocess.run(
        ["tmux", "-L", socket, "display-message", "-p", "#{window_width}x#{window_height}"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert size == "80x24", size
    return pane.split("__gpudock_done__")[0].rstrip().splitlines()


def wide_lines_are_commands_or_urls(lines: list[str], pieces: list[str]) -> None:
    for line in lines:
        if len(line.rstrip()) > 80:
            assert any(p in line for p in pieces) or re.search(r"https?://\S{20,}", line), line


def test_doctor_in_an_80x24_terminal(tmux):
    case = CASES / "debian12-docker-up-no-gpu.json"
    lines = run_in_tmux(tmux, "doctor", "--snapshot", str(case))
    report = check(str(case))
    commands = [text for f in report.findings for step in f.fix for kind, text in split_step(step) if kind == "command"]
    urls = [url for f in report.findings for url in f.docs]
    assert len(commands) >= 6
    for piece in commands + urls:
        assert any(piece in line for line in lines), f"{piece!r} is not whole on one line:\n" + "\n".join(lines)
    wide_lines_are_commands_or_urls(lines, commands + urls)
    # top to bottom: each finding's title line comes before the next one's, in the doctor's order
    positions = [next(i for i, line in enumerate(lines) if f"[{f.code}]" in line) for f in report.findings]
    assert positions == sorted(positions)
    assert lines[-1].startswith("2 errors")


def test_plan_in_an_80x24_terminal(tmux):
    snap = Snapshot.load(SNAPSHOTS / "debian12-ci-no-gpu.json")
    plan = make_plan("all", snap, host_info(snap))
    lines = run_in_tmux(tmux, "plan", "all", "--snapshot", str(SNAPSHOTS / "debian12-ci-no-gpu.json"))
    shown = [file_preview(s.writes) if s.writes else s.command_line() for s in plan.steps]
    shown += [s.fallback.command_line() for s in plan.steps if s.fallback]
    pieces = [line.strip() for text in shown for line in text.split("\n")]
    for piece in pieces:
        assert any(line.strip() == piece for line in lines), f"{piece!r} is not whole on one line"
    wide_lines_are_commands_or_urls(lines, pieces)
    assert not any("dpkg-query" in line for line in lines)  # the skip check is a phrase, not raw shell
