"""Applying plans for real, with harmless steps in a temporary folder."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from rich.console import Console

from gpudock.install import ApplyFailed, Check, Plan, Step, apply


def touch_step(path: Path, title: str) -> Step:
    return Step(
        title,
        ("touch", str(path)),
        root=False,
        check=Check(("test", "-e", str(path))),
        verify=Check(("test", "-e", str(path))),
    )


def quiet():
    return Console(file=open("/dev/null", "w"))


def test_failing_step_stops_and_keeps_its_output_in_the_log(tmp_path):
    plan = Plan(
        "demo",
        "test",
        [
            touch_step(tmp_path / "a", "first"),
            Step("second fails", ("sh", "-c", "echo boom-output; exit 3"), root=False),
            touch_step(tmp_path / "c", "never reached"),
        ],
    )
    with pytest.raises(ApplyFailed, match=r'step 2/3 "second fails" failed \(exit 3\)'):
        apply(plan, tmp_path / "log", yes=True, console=quiet())
    log = (tmp_path / "log" / "install-demo.log").read_text()
    assert "boom-output" in log and "[exit 3]" in log
    assert not (tmp_path / "c").exists()


def test_rerun_skips_what_is_done_and_reports_nothing_to_do(tmp_path):
    plan = Plan("demo", "test", [touch_step(tmp_path / "a", "one"), touch_step(tmp_path / "b", "two")])
    first = apply(plan, tmp_path / "log1", yes=True, console=quiet())
    second = apply(plan, tmp_path / "log2", yes=True, console=quiet())
    assert first.status == "ok" and [s for _, s in first.steps] == ["ran", "ran"]
    assert second.status == "nothing-to-do" and [s for _, s in second.steps] == ["satisfied", "satisfied"]


def test_apply_killed_midway_completes_when_run_again(tmp_path):
    marker, done = tmp_path / "killed-once", tmp_path / "done"
    script = textwrap.dedent(f"""
        from pathlib import Path
        from rich.console import Console
        from gpudock.install import Check, Plan, Step, apply
        steps = [
            Step("one", ("touch", "{tmp_path}/one"), root=False, check=Check(("test", "-e", "{tmp_path}/one"))),
            # kills the applying process the first time it runs
            Step("two", ("sh", "-c", "test -e {marker} || {{ touch {marker}; kill -9 $PPID; sleep 5; }}"), root=False),
            Step("three", ("touch", "{done}"), root=False, check=Check(("test", "-e", "{done}"))),
        ]
        apply(Plan("killme", "test", steps), Path("{tmp_path}") / "log", yes=True, console=Console())
    """)
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert first.returncode == -9 and not done.exists()
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stdout + second.stderr
    assert done.exists() and "already satisfied" in second.stdout
    log = (tmp_path / "log" / "install-killme.log").read_text()
    assert log.count("# gpudock install killme") == 2  # the first run's lines were kept


def test_without_yes_each_root_step_is_asked_and_no_stops(tmp_path):
    asked = []
    plan = Plan("demo", "test", [Step("as root", ("true",), root=True), touch_step(tmp_path / "after", "after")])
    result = apply(plan, tmp_path / "log", yes=False, console=quiet(), confirm=lambda q: asked.append(q) or False)
    assert result.status == "aborted" and len(asked) == 1 and not (tmp_path / "after").exists()


def test_fallback_runs_when_the_step_fails(tmp_path):
    target = tmp_path / "fallback-ran"
    plan = Plan("demo", "test", [Step("init script", ("false",), root=False, fallback=touch_step(target, "direct"))])
    apply(plan, tmp_path / "log", yes=True, console=quiet())
    assert target.exists()


def test_manual_steps_are_shown_never_run(tmp_path):
    plan = Plan("demo", "test", [Step("reboot", ("sh", "-c", f"touch {tmp_path}/rebooted"), root=False, manual=True)])
    result = apply(plan, tmp_path / "log", yes=True, console=quiet())
    assert result.status == "manual" and not (tmp_path / "rebooted").exists()


def test_plan_verification_failure_is_reported(tmp_path):
    plan = Plan("demo", "test", [touch_step(tmp_path / "a", "one")], verify=[Check(("false",))])
    with pytest.raises(ApplyFailed, match="still fails"):
        apply(plan, tmp_path / "log", yes=True, console=quiet())
