import json
import os
import subprocess
import sys

import pytest

from gpudock.cli import main
from gpudock.exitcodes import ExitCode
from tests.helpers import CASES, ROOT


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "gpudock", *args], capture_output=True, text=True, timeout=120)


def test_doctor_snapshot_json_follows_the_contract():
    case = CASES / "wsl2-lib-file-exists-linux-driver.json"
    proc = run_cli("doctor", "--snapshot", str(case), "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"findings", "host", "generations"}  # generations: an additive key
    assert [g["key"] for g in doc["generations"]] == ["v1", "v2", "toolkit", "cdi"]
    assert all(set(g) == {"key", "name", "present", "evidence"} for g in doc["generations"])
    codes = [f["code"] for f in doc["findings"]]
    assert set(json.loads(case.read_text())["expect"]) <= set(codes)
    for finding in doc["findings"]:
        assert set(finding) == {"code", "severity", "title", "evidence", "fix", "docs"}
        assert finding["severity"] in ("error", "warning", "info", "ok")
    assert doc["host"]["kind"] == "wsl2"


def test_exit_0_without_errors(capsys):
    assert main(["doctor", "--snapshot", str(CASES / "wsl2-healthy-nbody.json")]) == 0
    out = capsys.readouterr().out
    assert "gpu-ok" in out and "No errors." in out


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json at all", "not valid JSON"),
        ('{"commands": {"docker_info": {"rc": "zero"}}}', "commands.docker_info.rc must be an integer or null"),
        ("[1, 2, 3]", "must be a JSON object"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
    ],
)
def test_broken_snapshot_exits_2_with_one_line(tmp_path, content, message):
    path = tmp_path / "snap.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    proc = run_cli("doctor", "--snapshot", str(path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr


def test_missing_snapshot_file_and_folder(tmp_path, capsys):
    assert main(["doctor", "--snapshot", str(tmp_path / "none.json")]) == 2
    assert main(["doctor", "--snapshot", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no such file" in err[0] and "is a folder" in err[1]


def test_bad_usage_is_one_line_exit_2():
    proc = run_cli("doctor", "--no-such-flag")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "unrecognized arguments" in proc.stderr


def test_save_snapshot_writes_the_snapshot_it_diagnosed(tmp_path):
    out = tmp_path / "sub" / "saved.json"
    assert (
        main(["doctor", "--snapshot", str(CASES / "debian12-daemon-down.json"), "--save-snapshot", str(out), "--json"])
        == 1
    )
    saved = json.loads(out.read_text())
    assert saved["commands"]["docker_info"]["stdout"].startswith("Client:")


def test_table_prints_evidence_verbatim_and_the_engine_version():
    from rich.console import Console

    from gpudock.doctor import check
    from gpudock.views import print_findings

    report = check(str(CASES / "debian12-docker-up-no-gpu.json"))
    console = Console(width=300, record=True, file=open("/dev/null", "w"))
    print_findings(report.findings, report.host, console)
    out = console.export_text()
    assert "capabilities: [[gpu]]" in out  # not eaten as rich markup
    ok = next(f for f in report.findings if f.code == "docker-ok")
    assert ok.title.endswith("(engine 20.10.24+dfsg1)")


def test_unwritable_save_path_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(
        ["doctor", "--snapshot", str(CASES / "debian12-daemon-down.json"), "--save-snapshot", str(blocker / "s.json")]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("gpudock: cannot write")


def test_a_missing_docker_daemon_is_exit_3_with_one_line():
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "hello"], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == ExitCode.MISSING == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpudock: docker: no daemon answers"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_tool_errors_carry_exit_3_and_host_problems_exit_1():
    from gpudock import exceptions

    assert exceptions.MissingTool("reveal.js not found", "run `npm ci`").exit_code == 3
    assert exceptions.DockerUnavailable("no daemon answers").exit_code == 3
    assert exceptions.PlanRefused("WSL 2").exit_code == exceptions.ApplyFailed("x").exit_code == 1
    assert exceptions.SnapshotError("no such file", "a.json").exit_code == 2
    assert str(exceptions.SnapshotError("no such file", "a.json")) == "snapshot: a.json: no such file"


def test_bench_compare_is_a_subcommand(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "compare", str(tmp_path / "a.json")])
    assert exit_.value.code == 2 and "B.json" in capsys.readouterr().err
    assert main(["bench", "compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 2
    assert capsys.readouterr().err.strip() == f"gpudock: {tmp_path / 'a.json'}: no such file"


def test_no_handler_returns_a_bare_number():
    import ast
    import inspect

    from gpudock import cli

    for node in ast.walk(ast.parse(inspect.getsource(cli))):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant):
            pytest.fail(f"cli.py line {node.lineno} returns a bare {node.value.value!r}; use ExitCode")


def test_version_is_written_once():
    from importlib.metadata import version

    import gpudock

    assert version("gpudock") == gpudock.__version__
    assert "version =" not in (ROOT / "pyproject.toml").read_text().split("[tool.setuptools.dynamic]")[0]
