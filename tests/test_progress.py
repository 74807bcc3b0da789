"""Progress on every wait over 2 s: a ticking line in a terminal (on stderr, removed at the end), a display
that ends as one line in a notebook, nothing in a pipe or for a short wait."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import textwrap

import nbformat

WAIT = textwrap.dedent("""
    import time
    from gpudock.progress import waiting
    with waiting("probing this host", lambda: "3 of 5 answered", after_s={after}):
        time.sleep({seconds})
    print("done")
""")


def _read_all(master: int) -> bytes:
    """Everything the terminal side of a pty shows until the program closes it."""
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            return shown
        if not chunk:
            return shown
        shown += chunk


def run_on_terminal(seconds: float, after: float = 2.0, **env: str) -> tuple[str, str]:
    """Run a wait with stderr on a pseudo-terminal; (what the terminal showed, stdout)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", WAIT.format(seconds=seconds, after=after)],
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "80", **env},
    )
    os.close(slave)
    shown = _read_all(master)
    out = proc.communicate(timeout=30)[0]
    os.close(master)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", "replace")), out


def test_a_terminal_sees_what_is_awaited_after_2_s_and_the_seconds_tick():
    shown, out = run_on_terminal(2.7)
    assert "probing this host (3 of 5 answered) · 2 s" in shown and "· 1 s" not in shown
    assert out == "done\n"  # stdout carries no progress


def test_a_short_wait_shows_nothing():
    shown, out = run_on_terminal(0.5)
    assert "probing" not in shown and out == "done\n"


def test_off_when_asked():
    shown, _out = run_on_terminal(0.8, after=0.2, GPUDOCK_PROGRESS="0")
    assert "probing" not in shown


def test_a_pipe_gets_no_redraws():
    script = WAIT.format(seconds=0.8, after=0.2)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.stdout == "done\n" and proc.stderr == ""


def test_a_notebook_shows_a_display_that_ends_as_one_line():
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(WAIT.format(seconds=1.6, after=0.3)))
    env_before = os.environ.pop("GPUDOCK_PROGRESS", None)
    try:
        NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    finally:
        if env_before is not None:
            os.environ["GPUDOCK_PROGRESS"] = env_before
    outputs = nb.cells[0].outputs
    shown = [o["data"]["text/plain"] for o in outputs if o.get("output_type") == "display_data"]
    assert shown == ["probing this host: done after 2 s"], outputs
    assert any(o.get("text") == "done\n" for o in outputs)


def test_the_runner_turns_kernel_progress_off_and_restores_the_setting(tmp_path, monkeypatch):
    from gpudock.runner import execute

    monkeypatch.setenv("GPUDOCK_PROGRESS", "1")
    source = tmp_path / "nb.md"
    source.write_text("```python\nimport os\nprint(os.environ.get('GPUDOCK_PROGRESS'))\n```\n")
    result = execute(source, tmp_path / "nb.ipynb", {})
    assert result.status == "ok", result.error
    printed = nbformat.read(tmp_path / "nb.ipynb", as_version=4).cells[0].outputs[0]["text"]
    assert printed == "0\n"
    assert os.environ.get("GPUDOCK_PROGRESS") == "1"


def test_the_live_probe_says_which_commands_it_waits_for(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    # listing the images takes 2.6 s (the live probe asks that first); every other docker call answers at once
    (folder / "docker").write_text('#!/bin/sh\n[ "$1" = image ] && exec sleep 2.6\nexit 1\n')
    (folder / "docker").chmod(0o755)
    script = "from gpudock.doctor import check; check(say=lambda line: None, pull=False)"
    master, slave = pty.openpty()
    env = {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}", "TERM": "xterm", "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    shown = _read_all(master)
    proc.communicate(timeout=30)
    os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", "replace"))
    assert "probing this host (waiting for: docker image ls" in text, text[-500:]
