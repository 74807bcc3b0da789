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


# --- the reshaped Step: files written as root, private work folder, pidfiles, verified keys -------------


def test_file_written_as_root_is_shown_installed_atomically_and_skipped_when_equal(tmp_path):
    from gpudock.install.plan import RootFile, writes

    target = tmp_path / "etc" / "repo.sources"
    target.parent.mkdir()
    step = writes("add the repository", RootFile(str(target), content="Types: deb\nURIs: https://x.example/\n"))
    asked = []
    first = apply(
        Plan("w", "test", [step]), tmp_path / "log1", console=quiet(), confirm=lambda q: asked.append(q) or True
    )
    assert first.status == "ok" and target.read_text() == "Types: deb\nURIs: https://x.example/\n"
    assert "| URIs: https://x.example/" in asked[0] and str(target) in asked[0], "the prompt shows the content"
    assert not list(target.parent.glob("*.gpudock-new")), "installed beside the target, then renamed"
    second = apply(Plan("w", "test", [step]), tmp_path / "log2", yes=True, console=quiet())
    assert second.status == "nothing-to-do"
    target.write_text("Types: deb\nURIs: https://x.example/\nTrusted: yes\n")  # changed by someone: rewritten
    apply(Plan("w", "test", [step]), tmp_path / "log3", yes=True, console=quiet())
    assert "Trusted" not in target.read_text()


def test_downloads_go_to_a_private_work_folder_removed_afterwards(tmp_path):
    from gpudock.install.plan import Work

    seen = tmp_path / "seen"
    plan = Plan(
        "work",
        "test",
        [
            Step(
                "fetch", ("sh", "-c", 'echo data > "$1"; dirname "$1" > "$2"', "sh", Work("f"), str(seen)), root=False
            ),
            Step("use", ("test", "-s", Work("f")), root=False),
        ],
    )
    apply(plan, tmp_path / "log", yes=True, console=quiet())
    folder = Path(seen.read_text().strip())
    assert folder.name.startswith("gpudock-work-") and not folder.exists()
    script = plan.to_sh()
    assert 'GPUDOCK_WORK="$(mktemp -d)"' in script and '"$GPUDOCK_WORK"/f' in script


def test_negated_check_and_its_shell_form(tmp_path):
    absent = Check(("test", "-e", str(tmp_path / "nothing")), negate=True, what="nothing is there")
    plan = Plan("neg", "test", [Step("skipped", ("false",), root=False, check=absent)])
    assert apply(plan, tmp_path / "log", yes=True, console=quiet()).status == "nothing-to-do"
    assert f"if test -e {tmp_path}/nothing; then" in plan.to_sh()
    assert absent.describe() == "skipped if nothing is there"


@pytest.mark.skipif(
    not Path("/sbin/start-stop-daemon").exists() and not Path("/usr/sbin/start-stop-daemon").exists(),
    reason="start-stop-daemon (dpkg) is missing",
)
def test_daemon_is_stopped_through_its_pidfile_never_by_name(tmp_path):
    from gpudock.install.plan import Daemon, stop_daemon

    daemon = Daemon(pidfile=str(tmp_path / "d.pid"), log=str(tmp_path / "d.log"))
    bystander = subprocess.Popen(["sleep", "60"])  # same program name, not ours
    try:
        start = Step(
            "start",
            ("sh", "-c", 'echo $$ > "$1"; echo daemon up; exec sleep 60', "sh", daemon.pidfile),
            root=False,
            background=daemon,
            verify=Check(("test", "-s", daemon.pidfile)),
            verify_wait_s=5,
        )
        stop = Step("stop", stop_daemon(daemon, "/usr/bin/sleep"), root=False)
        apply(Plan("d", "test", [start, stop]), tmp_path / "log", yes=True, console=quiet())
        ours = int(Path(daemon.pidfile).read_text())
        assert Path(daemon.log).read_text() == "daemon up\n"  # the plan's one log path, not the run folder
        assert not Path(f"/proc/{ours}").exists() or "zombie" in Path(f"/proc/{ours}/status").read_text().lower()
        assert bystander.poll() is None, "a process of the same name that gpudock did not start keeps running"
    finally:
        bystander.kill()


def _make_key(home: Path) -> tuple[Path, str]:
    home.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "test <t@example.invalid>", "ed25519", "sign", "1d"],
        env=env,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(["gpg", "--with-colons", "--list-keys"], env=env, check=True, capture_output=True, text=True)
    fpr = next(line.split(":")[9] for line in out.stdout.splitlines() if line.startswith("fpr:"))
    key = home.parent / "key.asc"
    key.write_bytes(subprocess.run(["gpg", "--armor", "--export"], env=env, check=True, capture_output=True).stdout)
    return key, fpr


@pytest.mark.skipif(not Path("/usr/bin/gpg").exists(), reason="gpg is missing")
def test_key_fingerprint_check_accepts_the_right_key_only(tmp_path):
    from gpudock.install.docker import DOCKER_KEY_FINGERPRINT
    from gpudock.install.plan import key_fingerprint

    key, fpr = _make_key(tmp_path / "gnupg")
    from gpudock.install.apply import check_passes

    assert check_passes(key_fingerprint(str(key), fpr))
    assert not check_passes(key_fingerprint(str(key), DOCKER_KEY_FINGERPRINT))
    # a "download" whose key is not the expected one stops the apply before anything uses it
    installed = tmp_path / "installed"
    plan = Plan(
        "key",
        "test",
        [
            Step(
                "download",
                ("cp", str(key), str(tmp_path / "dl")),
                root=False,
                verify=key_fingerprint(str(tmp_path / "dl"), DOCKER_KEY_FINGERPRINT),
            ),
            Step("install", ("touch", str(installed)), root=False),
        ],
    )
    with pytest.raises(ApplyFailed, match="step 1/2"):
        apply(plan, tmp_path / "log", yes=True, console=quiet())
    assert not installed.exists()
