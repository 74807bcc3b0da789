"""The hostile-input review's reproducers: each one a clear line and the right exit, nothing overwritten."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gpudock.cli import main
from gpudock.diagnose import diagnose
from gpudock.exceptions import CannotWrite, SnapshotError
from gpudock.files import write_text_atomic
from gpudock.snapshot import MAX_TEXT, Snapshot
from gpudock.textsafety import printable
from tests.helpers import ROOT, SNAPSHOTS

NATIVE = SNAPSHOTS / "debian12-ci-no-gpu.json"


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


# --- what a snapshot file may be ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, words",
    [
        ("null", "top level must be a JSON object"),
        ("[]", "top level must be a JSON object"),
        ("{}", "not a snapshot"),
        ('{"host": {}, "results": []}', "bench results file"),
        ('{"commands": {"docker_info": {"rc": ' + "9" * 5000 + "}}}", "not usable JSON"),
        ('{"commands": {"docker_info": {"rc": 99999999999}}}', "out of range"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_non_snapshots_exit_2_with_one_line(tmp_path, capsys, text, words):
    path = tmp_path / "s.json"
    path.write_text(text)
    assert main(["doctor", "--snapshot", str(path)]) == 2
    assert words in one_line_error(capsys)


def test_special_files_are_refused_without_reading(tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert main(["doctor", "--snapshot", str(fifo)]) == 2
    assert "not a regular file" in one_line_error(capsys)
    assert main(["doctor", "--snapshot", "/dev/zero"]) == 2
    assert "not a regular file" in one_line_error(capsys)
    assert time.monotonic() - started < 2


def test_huge_snapshot_file_is_refused(tmp_path, capsys):
    path = tmp_path / "big.json"
    with open(path, "wb") as handle:
        handle.truncate(17 * 1024 * 1024)
    assert main(["doctor", "--snapshot", str(path)]) == 2
    assert "larger than 16 MB" in one_line_error(capsys)


def test_probe_output_is_capped_head_and_tail():
    long = "HEAD\n" + "x" * (3 * MAX_TEXT) + "\nTAIL"
    snap = Snapshot({"commands": {"docker_info": {"rc": 1, "stdout": long, "stderr": ""}}})
    text = snap.command("docker_info").stdout
    assert len(text) < MAX_TEXT + 200 and text.startswith("HEAD") and text.endswith("TAIL") and "cut" in text


def test_lone_surrogates_never_break_json_or_saving(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"platform": {"system": "Linux"}, "commands": {"x": {"rc": 1, "stderr": "\ud800"}}}))
    code = main(["doctor", "--snapshot", str(path), "--json", "--save-snapshot", str(tmp_path / "out.json")])
    assert code in (0, 1)
    json.loads(capsys.readouterr().out)
    assert json.loads((tmp_path / "out.json").read_text())["commands"]["x"]["stderr"] == "\ufffd"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "s.json"], "no temp file left behind"


# --- validated fields ----------------------------------------------------------------------------------


def test_invalid_fields_are_unknown_and_reported():
    snap = Snapshot(
        {
            "platform": {"machine": "x86_64\necho pwned", "release": "6.1.0-26-amd64"},
            "env": {"USER": "a;b"},
            "files": {
                "/etc/os-release": 'ID=debian\nVERSION_CODENAME="bookworm; reboot"\nVERSION_ID="12"\n',
                "/etc/apt/sources.list.d/x.list": "deb https://ok.example/ x main\ndeb https://a.example/$(reboot) x\n",
            },
            "commands": {
                "dpkg_docker": {"rc": 0, "stdout": "ii  docker.io 1 amd64 x\nii  evil;reboot 1 amd64 y\n"},
                "id": {"rc": 0, "stdout": "uid=1000(al`ice`) gid=1000(u) groups=1000(u)\n"},
            },
        }
    )
    fields = {field for field, _reason in snap.invalid_fields}
    assert fields == {
        "platform.machine",
        "env.USER",
        "files./etc/os-release VERSION_CODENAME",
        "files./etc/apt/sources.list.d/x.list",
        "commands.dpkg_docker",
        "commands.id",
    }
    assert "machine" not in snap.platform and snap.platform["release"] == "6.1.0-26-amd64"
    assert "VERSION_CODENAME" not in snap.file("/etc/os-release") and 'VERSION_ID="12"' in snap.file("/etc/os-release")
    assert snap.file("/etc/apt/sources.list.d/x.list") == "deb https://ok.example/ x main\n"
    assert "evil" not in snap.command("dpkg_docker").stdout and "docker.io" in snap.command("dpkg_docker").stdout
    assert snap.command("id") is None and "USER" not in snap.env
    [finding] = [f for f in diagnose(snap) if f.code == "snapshot-invalid-field"]
    assert finding.code == "snapshot-invalid-field" and finding.severity == "warning"
    assert "\n" not in finding.evidence.split("\n")[0] and "platform.machine" in finding.evidence


def test_real_snapshots_have_no_invalid_fields():
    for path in sorted(SNAPSHOTS.glob("*.json")) + [ROOT / "tests/data/real/h200-device-snapshot.json"]:
        assert Snapshot.load(path).invalid_fields == [], path


def test_key_order_does_not_change_the_snapshot():
    doc = json.loads(NATIVE.read_text())
    doc = doc.get("snapshot", doc)
    reordered = {k: dict(reversed(list(v.items()))) if isinstance(v, dict) else v for k, v in reversed(doc.items())}
    assert Snapshot(doc).to_json() == Snapshot(reordered).to_json()


# --- writes ------------------------------------------------------------------------------------------


def test_atomic_write_never_follows_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "host.json.tmp").symlink_to(victim)  # v1's fixed temp name
    write_text_atomic(tmp_path / "host.json", "{}\n")
    assert victim.read_text() == "precious" and (tmp_path / "host.json").read_text() == "{}\n"
    link = tmp_path / "link.json"
    link.symlink_to(victim)  # a link at the target is replaced, not written through
    write_text_atomic(link, "new\n")
    assert victim.read_text() == "precious" and not link.is_symlink() and link.read_text() == "new\n"


def test_save_snapshot_over_its_own_input_is_refused(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(NATIVE.read_text())
    before = path.read_text()
    assert main(["doctor", "--snapshot", str(path), "--save-snapshot", str(path)]) == 2
    assert "--snapshot being read" in one_line_error(capsys)
    assert path.read_text() == before
    with pytest.raises(CannotWrite):
        Snapshot.load(path).save(tmp_path / "." / "s.json")


def test_apply_with_a_snapshot_exits_2_before_planning(capsys):
    assert main(["install", "docker", "--apply", "--snapshot", str(NATIVE)]) == 2
    assert "--apply plans from this host only" in one_line_error(capsys)


def test_bench_out_is_checked_before_the_benchmark(tmp_path, capsys, monkeypatch):
    import gpudock.bench.run as bench_run

    monkeypatch.setattr(bench_run, "run_benchmarks", lambda **kw: pytest.fail("the benchmark ran"))
    (tmp_path / "dir").mkdir()
    assert main(["bench", "--no-gpu", "--out", str(tmp_path / "dir")]) == 2
    one_line_error(capsys)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["bench", "--no-gpu", "--out", str(blocker / "results.json")]) == 2
    one_line_error(capsys)


def test_run_refuses_a_file_that_is_not_a_notebook(capsys):
    assert main(["run", "/etc/passwd"]) == 2
    assert "not a notebook" in one_line_error(capsys)


def test_concurrent_runs_into_one_folder_are_refused(tmp_path):
    from gpudock.exceptions import RunFolderBusy, RunFolderNotEmpty
    from gpudock.rundir import new_run_dir, release_run_dir

    first = new_run_dir(tmp_path / "run", lock=True)
    with pytest.raises(RunFolderBusy):
        new_run_dir(tmp_path / "run", lock=True)
    (first / "01.ipynb").write_text("{}")
    release_run_dir(first)
    with pytest.raises(RunFolderNotEmpty):
        new_run_dir(tmp_path / "run", lock=True)


def test_slides_pick_only_tutorial_runs_and_refuse_a_full_out(tmp_path, capsys):
    from gpudock.slides import pick_run

    runs = tmp_path / "runs"
    (runs / "20260101T000000Z").mkdir(parents=True)
    (runs / "20260101T000000Z" / "summary.json").write_text("[]")
    (runs / "20260102T000000Z-install-docker").mkdir()
    assert pick_run(runs, names=["01"])[0].name == "20260101T000000Z"  # the install log is not a run
    run = runs / "20260101T000000Z"
    (run / "01.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    out = tmp_path / "decks"
    out.mkdir()
    (out / "keep.md").write_text("mine")
    assert main(["slides", str(run), "--out", str(out), "--format", "marp"]) == 2
    assert "--force" in one_line_error(capsys) and (out / "keep.md").read_text() == "mine"


# --- text that reaches a terminal ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("\x1b]52;c;cm0gLXJm\x07", "\\x1b]52;c;cm0gLXJm\\x07"),
        ("a\x9b2Jb", "a\\x9b2Jb"),
        ("\u202eexe.txt", "\\u202eexe.txt"),
        ("x\ud800y", "x\\ud800y"),
        ("line\nnext\ttab", "line\nnext\ttab"),
        ("cr\roverwrite", "cr\\x0doverwrite"),
        ("日本語 é", "日本語 é"),
    ],
)
def test_printable_escapes_what_a_terminal_would_act_on(raw, shown):
    assert printable(raw) == shown
    printable(raw).encode("utf-8")


# --- Ctrl-C ------------------------------------------------------------------------------------------


def test_ctrl_c_ends_the_doctor_within_2_s_and_kills_its_probes(tmp_path):
    pidfile = tmp_path / "probe.pid"
    script = textwrap.dedent(f"""
        import sys
        from gpudock import probe
        from gpudock.cli import main
        probe.IMAGE_LISTING = probe.Probe("docker_images", ("true",))
        probe.probes = lambda *a, **k: [
            probe.Probe("slow", ("sh", "-c", 'echo $$ > {pidfile}; exec sleep 55'), timeout=60),
            probe.Probe("slow2", ("sleep", "55"), timeout=60),
        ]
        sys.exit(main(["doctor"]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pidfile.read_text())
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    assert time.monotonic() - started < 2, "the doctor took too long to stop"
    assert proc.returncode == 130
    time.sleep(0.2)
    alive = Path(f"/proc/{child}").exists() and "zombie" not in Path(f"/proc/{child}/status").read_text().lower()
    assert not alive, "a probe was left running"


def test_a_probe_starting_while_ctrl_c_is_handled_is_killed_too(monkeypatch):
    """The race behind a doctor that said "interrupted" and then waited: a probe's Popen returned just after
    kill_running() had looked, so nothing killed it and the exiting interpreter waited for its thread."""
    from gpudock import probe_run

    real = subprocess.Popen

    def racing(*args, **kwargs):
        proc = real(*args, **kwargs)
        probe_run.kill_running()  # Ctrl-C handled between run_command's stop check and its registration
        return proc

    monkeypatch.setattr(probe_run.subprocess, "Popen", racing)
    started = time.monotonic()
    try:
        result = probe_run.run_command(["sleep", "30"], timeout=20)
    finally:
        probe_run.allow_runs()
    assert time.monotonic() - started < 5 and result["rc"] == -signal.SIGKILL


def test_deep_apt_probe_reads_into_a_private_folder():
    from gpudock.probe import _APT_PRIVATE, APT_CONFIG, probes

    apt = next(p for p in probes() if p.name == "apt_update")
    assert APT_CONFIG in apt.argv and apt.argv[-1] == "update"
    assert "Dir::State::Lists" in _APT_PRIVATE and "#clear APT::Update::Post-Invoke-Success" in _APT_PRIVATE


def test_snapshot_error_names_the_field_in_one_line():
    with pytest.raises(SnapshotError, match=r"commands\.docker_info\.rc must be an integer or null"):
        Snapshot({"commands": {"docker_info": {"rc": "1"}}})


def test_urls_glued_to_shell_syntax_never_reach_a_fix():
    from gpudock.diagnose import diagnose

    line = "E: Conflicting values set for option Signed-By regarding source https://x.example/';reboot;' /: a != b"
    for probe in ("apt_update", "docker_hello", "nvidia_smi"):
        snap = Snapshot({"platform": {"release": "6.1.0-26-amd64"}, "commands": {probe: {"rc": 100, "stderr": line}}})
        assert any("not a valid URL" in reason for _field, reason in snap.invalid_fields)
        for finding in diagnose(snap):
            assert "reboot" not in " ".join(finding.fix)
            # only the validation warning quotes the refused value (as data, escaped when shown), nothing else does
            assert finding.code == "snapshot-invalid-field" or "reboot" not in finding.evidence
    prose = (
        'Get "https://registry-1.docker.io/v2/": dial tcp; failed to connect to the docker API at unix:///x.sock; check'
    )
    assert Snapshot({"commands": {"docker_hello": {"rc": 125, "stderr": prose}}}).invalid_fields == []
