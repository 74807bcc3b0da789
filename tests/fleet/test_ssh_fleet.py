"""fleet doctor and fleet bench against real SSH hosts (containers on 127.0.0.1 ports, strict host keys)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from gpudock.snapshot import Snapshot

pytestmark = [pytest.mark.requires_docker, pytest.mark.requires_ansible]


def path_without_ansible() -> str:
    """PATH without the folders that hold Ansible: `.venv/bin/gpudock` run without activating the venv."""
    folders = [f for f in os.environ["PATH"].split(os.pathsep) if f and not shutil.which("ansible-playbook", path=f)]
    return os.pathsep.join(folders)


def gpudock(*args: str, columns: int | None = None, timeout: float = 600, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    env["PATH"] = path_without_ansible()  # gpudock finds Ansible beside its own Python
    if columns:
        env["COLUMNS"] = str(columns)
    return subprocess.run(
        [sys.executable, "-m", "gpudock", *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd
    )


@pytest.fixture(scope="module")
def doctor_run(lab, tmp_path_factory):
    out = tmp_path_factory.mktemp("fleet-doctor") / "run"
    prom = out.parent / "textfile" / "fleet.prom"
    proc = gpudock(
        "fleet", "doctor", "-i", str(lab.inventory()), "--json", "--out", str(out), "--prometheus", str(prom)
    )
    return proc, out


def test_two_reachable_one_down_exit_1(doctor_run):
    proc, out = doctor_run
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    hosts = {h["host"]: h for h in doc["hosts"]}
    assert list(hosts) == ["h200", "nodocker", "down"]
    assert doc["summary"]["hosts"] == 3 and doc["summary"]["unreachable"] == 1
    down = hosts["down"]
    assert down["reachable"] is False and "Connection refused" in down["error"] and down["snapshot"] is None


def test_the_h200_host_is_diagnosed_from_its_recorded_nvidia_smi(doctor_run):
    doc = json.loads(doctor_run[0].stdout)
    h200 = doc["hosts"][0]
    assert h200["reachable"] and h200["error"] is None
    assert "H200" in h200["host_facts"]["gpus"][0]["name"]
    codes = [f["code"] for f in h200["findings"]]
    assert "nvidia-driver-ok" in codes and "docker-ok" in codes, codes
    assert h200["findings"][0]["code"] == "nvidia-toolkit-missing"  # this machine's engine has no toolkit
    assert h200["columns"]["driver"] == "580.159.04" and h200["columns"]["toolkit"] == "none"


def test_a_login_shell_without_sbin_still_finds_nvidia_smi(doctor_run):
    _proc, out = doctor_run
    snap = Snapshot.load(out / "snapshots" / "h200.json")
    smi = snap.command("nvidia_smi")
    assert smi.rc == 0 and "NVIDIA H200" in smi.stdout  # /usr/local/sbin is not on the user's PATH


def test_the_host_without_docker_says_so(doctor_run):
    nodocker = json.loads(doctor_run[0].stdout)["hosts"][1]
    codes = [f["code"] for f in nodocker["findings"]]
    assert "docker-cli-missing" in codes and nodocker["columns"]["docker"] == "no CLI"


def test_snapshots_are_saved_and_replay_with_gpudock_doctor(doctor_run):
    proc, out = doctor_run
    doc = json.loads(proc.stdout)
    for host in doc["hosts"][:2]:
        replay = gpudock("doctor", "--json", "--snapshot", str(out / host["snapshot"]))
        assert replay.returncode == 1
        assert json.loads(replay.stdout)["findings"] == host["findings"]
    assert json.loads((out / "fleet.json").read_text()) == doc


def test_prometheus_textfile_has_every_host(doctor_run):
    from prometheus_client.parser import text_string_to_metric_families

    _proc, out = doctor_run
    text = (out.parent / "textfile" / "fleet.prom").read_text()
    found = {family.name: family.samples for family in text_string_to_metric_families(text)}
    reachable = {s.labels["host"]: s.value for s in found["gpudock_fleet_host_reachable"]}
    assert reachable == {"h200": 1, "nodocker": 1, "down": 0}
    codes = {(s.labels["host"], s.labels["code"]) for s in found["gpudock_doctor_finding"]}
    assert ("h200", "nvidia-toolkit-missing") in codes and ("nodocker", "docker-cli-missing") in codes
    assert {s.labels["host"]: s.value for s in found["gpudock_doctor_ok"]} == {"h200": 0, "nodocker": 0}


def test_the_table_at_80_columns(lab, tmp_path):
    proc = gpudock("fleet", "doctor", "-i", str(lab.inventory()), "--out", str(tmp_path / "run"), columns=80)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [
        ["h200", "problem"],
        ["nodocker", "problem"],
        ["down", "unreachable"],
    ]
    assert all(len(line) <= 80 for line in lines[:3])
    assert "\x1b[" not in proc.stdout


def test_limit_picks_hosts(lab, tmp_path):
    proc = gpudock(
        "fleet", "doctor", "-i", str(lab.inventory()), "--limit", "nodocker", "--json", "--out", str(tmp_path / "r")
    )
    assert [h["host"] for h in json.loads(proc.stdout)["hosts"]] == ["nodocker"]


def test_fleet_bench_on_two_hosts_cpu_only_and_says_so(lab, tmp_path):
    # the default run folder (runs/… relative to where gpudock runs): Ansible must get absolute paths
    proc = gpudock("fleet", "bench", "-i", str(lab.inventory()), "--limit", "h200,nodocker", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (run,) = (tmp_path / "runs").glob("*-fleet-bench")
    (tmp_path / "b").symlink_to(run)
    doc = json.loads(proc.stdout)
    assert [h["host"] for h in doc["hosts"]] == ["h200", "nodocker"]
    for host in doc["hosts"]:
        assert host["error"] is None and host["how"] == "virtual environment from local wheels"
        assert "CuPy" in host["cpu_only"]
        names = {r["name"] for r in host["results"]["results"]}
        # numba is not shipped to a target (its wheels are not pure Python): NumPy's nbody stands in there
        assert "gemm" in names and names & {"nbody", "nbody_numpy"}, names
    assert (tmp_path / "b" / "fleet-bench.png").stat().st_size > 1000
    table = gpudock(
        "bench",
        "compare",
        str(tmp_path / "b" / "results" / "h200.json"),
        str(tmp_path / "b" / "results" / "nodocker.json"),
    )
    assert table.returncode == 0  # the saved results are ordinary bench results files
