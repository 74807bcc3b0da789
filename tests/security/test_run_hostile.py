"""`gpudock run`, `install`, `lab` and `bench` on bad input and signals: one line, a named exit code, no
traceback, locks released, results kept. Review holes L5, L6, L7, L8, L9, L12, M7.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gpudock import cli, rundir
from gpudock.exitcodes import ExitCode
from tests.helpers import SNAPSHOTS
from tests.security.standin import ROOT

SNAPSHOT = SNAPSHOTS / "debian12-ci-no-gpu.json"
# `gpudock run` whose notebook "executes" for a minute: no kernel to start, only gpudock's own handling
SLOW_RUN = """
import sys, time
from gpudock import runner
from gpudock.cli import main
runner.execute = lambda *args, **kwargs: time.sleep(60)
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_is_handled_like_ctrl_c_and_the_lock_is_released(tmp_path):
    """L8: SIGTERM (a CI cancel, `timeout`) exited 143 and left the run lock: every rerun was refused."""
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = [sys.executable, "-c", SLOW_RUN, "run", "01", "--snapshot", str(SNAPSHOT), "--out", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while not (out / rundir.LOCK).exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the notebook is under way
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.TERMINATED, err
    assert "Traceback" not in err and "gpudock: terminated" in err
    assert not (out / rundir.LOCK).exists()
    assert '"interrupted"' in (out / "summary.json").read_text()


def test_a_lock_whose_process_is_gone_is_taken_over(tmp_path):
    """L8: a lock left by a killed run, or an empty one from a full disk, refused every rerun."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    for stale in (f"{dead.pid}@{os.uname().nodename}\n", ""):
        folder = tmp_path / f"out{len(stale)}"
        folder.mkdir()
        (folder / rundir.LOCK).write_text(stale)
        assert rundir.new_run_dir(folder, lock=True) == folder
        assert (folder / rundir.LOCK).read_text().startswith(f"{os.getpid()}@")
    live = tmp_path / "live"
    live.mkdir()
    (live / rundir.LOCK).write_text(f"{os.getpid()}@{os.uname().nodename}\n")
    with pytest.raises(Exception, match="another gpudock run"):
        rundir.new_run_dir(live, lock=True)


def _main(capsys, *argv) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "01", "-p", "driver_branch", "\udcff\udcfe"], "not UTF-8"),  # L6: `-p driver_branch $'\xff\xfe'`
        (["run", "01", "-p", "snapshot", "/nonexistent/snap.json"], "no such file"),  # L7: checked up front
        (["run", "01", "-p", "snapshot", str(SNAPSHOT), "--snapshot", str(SNAPSHOT)], "give the snapshot once"),
        (["run", "01", str(ROOT / "notebooks" / "01-docker-check.md")], "two notebooks named 01-docker-check"),  # L9
        (["lab", "--port", "0"], "from 1 to 65535"),  # L12
        (["lab", "--port", "-1"], "from 1 to 65535"),
        (["lab", "--port", "70000"], "from 1 to 65535"),
        (["fleet", "install", "docker", "-i", "/nonexistent", "--apply"], "--yes"),  # M7, before anything
    ],
)
def test_bad_usage_is_one_line_and_exit_2_before_anything_runs(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)  # nothing may be written here
    with pytest.raises(SystemExit) if argv[0] == "lab" else _no_exit() as raised:
        code, err = _main(capsys, *argv)
    if argv[0] == "lab":
        code, err = raised.value.code, capsys.readouterr().err
    assert code == ExitCode.USAGE and message in err and "Traceback" not in err, err
    assert not list(Path(tmp_path).iterdir())


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_lab_never_passes_on_an_option_that_exposes_it(capsys):
    from gpudock.exceptions import UsageError
    from gpudock.lab import refuse_exposure

    for option in ("--ip=0.0.0.0", "--ServerApp.ip=0.0.0.0", "--IdentityProvider.token=", "--ServerApp.token=x"):
        with pytest.raises(UsageError, match="refused"):
            refuse_exposure([option])
    refuse_exposure(["--ServerApp.open_browser=False"])


def test_install_apply_without_a_terminal_asks_for_yes_before_anything(tmp_path, monkeypatch):
    """M7: `install docker --apply < /dev/null` died with an EOFError traceback at the first question."""
    from gpudock.exceptions import NeedsYes
    from gpudock.install.apply import apply
    from gpudock.install.plan import Plan, Step

    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    plan = Plan("docker", "test", [Step("a root step", ("true",), root=True)])
    with pytest.raises(NeedsYes, match="--yes"):
        apply(plan, tmp_path / "log")
    assert not (tmp_path / "log").exists()  # refused before the log or anything else


def test_bench_results_are_printed_before_they_are_saved(capsys, tmp_path, monkeypatch):
    """L5: a disk that filled during the benchmark lost the results: `save` failed before the JSON was printed."""
    import errno

    from gpudock.bench import results as results_module
    from gpudock.bench import run as bench_run
    from gpudock.bench.results import Results

    canned = Results.load(ROOT / "docs" / "benchmarks" / "h200-host.json")
    monkeypatch.setattr(bench_run, "run_benchmarks", lambda **kwargs: canned)

    def full_disk(self, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(results_module.Results, "save", full_disk)
    code = cli.main(["bench", "--json", "--out", str(tmp_path / "r.json")])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE and "No space left" in err
    assert Results.from_dict(__import__("json").loads(out)).results == canned.results


@pytest.mark.requires_ansible
def test_sigterm_during_a_fleet_run_stops_ansible_too(tmp_path):
    """ansible-playbook runs in a session of its own (pexpect): a signal to gpudock never reached it, and
    ansible-runner's own SIGINT/SIGTERM handlers only cancelled Ansible while gpudock carried on."""
    from tests.security.standin import standin_inventory

    pidfile = tmp_path / "module.pid"
    inventory = standin_inventory(tmp_path / "inv", {"slow": {}})
    (tmp_path / "inv" / "python-slow").write_text(f"#!/bin/sh\necho $$ > '{pidfile}'\nexec sleep 120\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONWARNINGS": "ignore"}
    argv = [sys.executable, "-m", "gpudock", "fleet", "doctor", "-i", str(inventory), "--out", str(tmp_path / "run")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not (pidfile.exists() and pidfile.read_text().strip()) and proc.poll() is None:
        assert time.monotonic() < deadline, "the stand-in module never started"
        time.sleep(0.05)
    module = int(pidfile.read_text())
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.TERMINATED and "Traceback" not in err, err[-2000:]
    assert time.monotonic() - started < 10
    deadline = time.monotonic() + 5  # SIGKILL to its process group: gone at once, reaped soon after
    while (left := [p for p in Path("/proc").glob("[0-9]*") if str(inventory) in _cmdline(p)]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert not left, "ansible-playbook was left running: " + " | ".join(_cmdline(p) for p in left)
    status = Path(f"/proc/{module}/status")
    alive = status.exists() and "zombie" not in status.read_text().lower()
    if alive:
        os.kill(module, signal.SIGKILL)
    assert not alive, "the task's module was left running (its worker did not end its process group)"


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
