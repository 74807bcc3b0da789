"""`doctor --check` for schedulers (one line, exit 0/1/2, bounded time) and `--prometheus` for node_exporter,
read back with the Prometheus client's own text parser; the Slurm wrapper script with a stand-in scontrol."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gpudock.bench.results import Result, Results
from gpudock.cli import main
from gpudock.fleet.doctor import FleetReport
from tests.helpers import CASES, ROOT

HEALTHY = CASES / "wsl2-healthy-nbody.json"
BROKEN = CASES / "debian12-daemon-down.json"
REPLAY = ROOT / "src" / "gpudock" / "data" / "fleet-replay" / "fleet.json"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def gpudock(capsys, monkeypatch):
    """Run the CLI in this process (as `python -m gpudock` would), with colour forced: --check prints none."""
    monkeypatch.setenv("FORCE_COLOR", "1")

    def run(*args: str, **env: str) -> Ran:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code
        out = capsys.readouterr()
        return Ran(int(code), out.out, out.err)

    return run


def metrics(text: str) -> dict[str, list]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def test_check_healthy_is_one_plain_line_exit_0(gpudock):
    proc = gpudock("doctor", "--check", "--snapshot", str(HEALTHY))
    assert proc.returncode == 0 and proc.stderr == ""
    (line,) = proc.stdout.splitlines()
    assert line.startswith("gpudock ok: no errors") and "\x1b" not in line and len(line) <= 80


def test_check_with_an_error_names_it_exit_1(gpudock):
    proc = gpudock("doctor", "--check", "--snapshot", str(BROKEN))
    findings = json.loads(gpudock("doctor", "--json", "--snapshot", str(BROKEN)).stdout)["findings"]
    first = next(f for f in findings if f["severity"] == "error")
    errors = sum(f["severity"] == "error" for f in findings)
    assert proc.returncode == 1
    (line,) = proc.stdout.splitlines()
    assert line.startswith(f"gpudock error: {first['code']}") and len(line) <= 80 and "\x1b" not in line
    assert (f"(+{errors - 1} more)" in line) == (errors > 1)


@pytest.mark.parametrize(
    "args",
    [
        ["--check", "--json"],
        ["--timeout", "5"],
        ["--check", "--timeout", "0"],
        ["--check", "--timeout", "soon"],
        ["--check", "--deep"],
    ],
)
def test_check_usage_errors_are_exit_2(gpudock, args):
    proc = gpudock("doctor", *args, "--snapshot", str(HEALTHY))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""


def test_check_is_bounded_even_when_docker_hangs(gpudock, tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "docker").write_text("#!/bin/sh\nexec sleep 60\n")  # every docker call hangs
    (folder / "docker").chmod(0o755)
    started = time.monotonic()
    proc = gpudock("doctor", "--check", "--timeout", "1", PATH=f"{folder}:{os.environ['PATH']}")
    elapsed = time.monotonic() - started
    assert proc.returncode in (0, 1) and len(proc.stdout.splitlines()) == 1
    assert elapsed < 1 + 4, elapsed  # the budget plus diagnosis, never a probe's own 60 s


def test_prometheus_textfile_parses_and_matches_the_doctor(gpudock, tmp_path):
    out = tmp_path / "textfile" / "gpudock.prom"
    proc = gpudock("doctor", "--snapshot", str(BROKEN), "--prometheus", str(out), GPUDOCK_STATE_DIR=str(tmp_path))
    assert proc.returncode == 1
    found = metrics(out.read_text())
    findings = json.loads(gpudock("doctor", "--json", "--snapshot", str(BROKEN)).stdout)["findings"]
    assert [s.value for s in found["gpudock_doctor_ok"]] == [0]
    verdict = {s.labels["verdict"]: s.value for s in found["gpudock_doctor_verdict"]}
    assert verdict == {"error": 1, "warning": 0, "ok": 0}
    assert sorted((s.labels["code"], s.labels["severity"]) for s in found["gpudock_doctor_finding"]) == sorted(
        (f["code"], f["severity"]) for f in findings
    )
    counts = {s.labels["severity"]: s.value for s in found["gpudock_doctor_findings"]}
    assert counts["error"] == sum(f["severity"] == "error" for f in findings)
    assert abs(found["gpudock_doctor_last_run_timestamp_seconds"][0].value - time.time()) < 120
    assert "gpudock_bench_gflop_per_second" not in found  # no bench has run with this state folder
    assert [p.name for p in out.parent.iterdir()] == ["gpudock.prom"]  # no temporary file left behind
    assert oct(out.stat().st_mode & 0o777) == "0o644"


def test_prometheus_exports_the_last_bench_with_hostile_labels(gpudock, tmp_path, monkeypatch):
    from gpudock.metrics import remember_bench

    device = 'cpu "Xeon" \\ weird\nname (2 threads)'
    results = Results({"hostname": "h"}, [Result("gemm", "host", device, "fp32", 1024, "GFLOP/s", 123.5, 3, 0.1, 0.01)])
    env = {"GPUDOCK_STATE_DIR": str(tmp_path)}
    monkeypatch.setenv("GPUDOCK_STATE_DIR", str(tmp_path))
    assert remember_bench(results) == tmp_path / "bench-latest.json"
    out = tmp_path / "gpudock.prom"
    first = gpudock("doctor", "--snapshot", str(HEALTHY), "--prometheus", str(out), **env)
    inode = out.stat().st_ino
    assert first.returncode == 0
    (sample,) = metrics(out.read_text())["gpudock_bench_gflop_per_second"]
    assert sample.value == 123.5 and sample.labels["device"] == device and sample.labels["size"] == "1024"
    second = gpudock("doctor", "--snapshot", str(BROKEN), "--prometheus", str(out), **env)
    assert second.returncode == 1 and out.stat().st_ino != inode  # replaced by a rename, never rewritten in place
    assert [s.value for s in metrics(out.read_text())["gpudock_doctor_ok"]] == [0]


def test_fleet_metrics_label_every_host():
    from gpudock.metrics import fleet_metrics

    report = FleetReport.load(REPLAY)
    found = metrics(fleet_metrics(report))
    reachable = {s.labels["host"]: s.value for s in found["gpudock_fleet_host_reachable"]}
    assert reachable == {row.host: float(row.reachable) for row in report.rows}
    per_host = {s.labels["host"] for s in found["gpudock_doctor_ok"]}
    assert per_host == {row.host for row in report.rows if row.reachable and not row.error}
    totals = {s.labels["verdict"]: s.value for s in found["gpudock_fleet_hosts"]}
    assert sum(totals.values()) == len(report.rows)


def test_prometheus_into_a_folder_is_one_line_exit_2(gpudock, tmp_path):
    proc = gpudock("doctor", "--snapshot", str(HEALTHY), "--prometheus", str(tmp_path))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


# --- the Slurm HealthCheckProgram wrapper ------------------------------------------------------------------

SCRIPT = ROOT / "scripts" / "slurm-healthcheck"


def _slurm(tmp_path, status: int, line: str, node_reason: str = "") -> tuple[int, list[str]]:
    """Run the wrapper with a stand-in gpudock (exit ``status``, printing ``line``) and a recording scontrol."""
    bin_ = tmp_path / "bin"
    bin_.mkdir(exist_ok=True)
    calls = tmp_path / "scontrol.calls"
    (bin_ / "gpudock").write_text(f"#!/bin/sh\necho '{line}'\nexit {status}\n")
    (bin_ / "scontrol").write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n'
        f'[ "$1 $2" = "-o show" ] && echo "NodeName=gpu01 State=IDLE+DRAIN {node_reason}"\nexit 0\n'
    )
    for tool in ("gpudock", "scontrol"):
        (bin_ / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}", "NODENAME": "gpu01"}
    proc = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)
    return proc.returncode, calls.read_text().splitlines() if calls.exists() else []


def test_slurm_wrapper_drains_on_an_error(tmp_path):
    status, calls = _slurm(tmp_path, 1, "gpudock error: docker-daemon-down: Docker is not running")
    assert status == 1
    assert calls == [
        "update NodeName=gpu01 State=DRAIN Reason=gpudock error: docker-daemon-down: Docker is not running"
    ]


def test_slurm_wrapper_resumes_only_its_own_drain(tmp_path):
    status, calls = _slurm(tmp_path, 0, "gpudock ok: no errors", "Reason=gpudock error: x [root@t]")
    assert status == 0 and calls[-1] == "update NodeName=gpu01 State=RESUME"
    other = tmp_path / "other"
    other.mkdir()
    status, calls = _slurm(other, 0, "gpudock ok: no errors", "Reason=disk replaced [admin@t]")
    assert status == 0 and not [c for c in calls if c.startswith("update")]


def test_slurm_wrapper_leaves_the_node_when_the_check_cannot_run(tmp_path):
    status, calls = _slurm(tmp_path, 2, "gpudock: error: unrecognized arguments")
    assert status == 2 and calls == []


# --- docs/fleet.md's set-up stays true to the code ---------------------------------------------------------


def _blocks(language: str) -> list[str]:
    import re

    text = (ROOT / "docs" / "fleet.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_the_documented_npd_plugin_runs_the_check_within_its_timeout():
    (config,) = [json.loads(block) for block in _blocks("json")]
    (rule,) = config["rules"]
    assert rule["args"][:2] == ["doctor", "--check"] and rule["path"].endswith("gpudock")
    budget = float(rule["args"][rule["args"].index("--timeout") + 1])
    assert budget < float(rule["timeout"].rstrip("s")) and config["pluginConfig"]["max_output_length"] >= 80


def test_the_documented_alerts_use_metrics_the_doctor_writes(gpudock, tmp_path):
    import yaml

    out = tmp_path / "g.prom"
    gpudock("doctor", "--snapshot", str(HEALTHY), "--prometheus", str(out))
    written = set(metrics(out.read_text()))
    (rules,) = [yaml.safe_load(block) for block in _blocks("yaml")]
    for rule in rules["groups"][0]["rules"]:
        names = {word for word in rule["expr"].replace("(", " ").split() if word.startswith("gpudock_")}
        assert names and names <= written, (rule["alert"], names - written)
