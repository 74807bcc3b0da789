"""The fleet's own logic without SSH: Ansible outcomes to rows, the table at 80 columns, the document."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from rich.console import Console

from gpudock import probe
from gpudock.fleet import remote
from gpudock.fleet.doctor import FleetReport, row_from_outcome, save_snapshots
from gpudock.fleet.engine import HostOutcome, TaskOutcome
from gpudock.fleet.table import print_fleet
from tests.helpers import ROOT, SNAPSHOTS

TASK = "gpudock probes"


def _ok(snapshot: dict) -> HostOutcome:
    return HostOutcome("h", [TaskOutcome(TASK, "ok", {"snapshot": snapshot})], {"failures": 0})


def _snapshot(name: str) -> dict:
    return json.loads((SNAPSHOTS / name).read_text())


def test_unreachable_and_failed_hosts_are_rows_with_ansibles_reason():
    down = HostOutcome(
        "d", [TaskOutcome(TASK, "unreachable", {"msg": "ssh: connect to host 127.0.0.1 port 1: Connection refused"})]
    )
    row = row_from_outcome("d", down, TASK)
    assert (row.verdict, row.reachable) == ("unreachable", False) and "Connection refused" in row.error
    sudo = HostOutcome("s", [TaskOutcome(TASK, "failed", {"msg": "Missing sudo password"})], {"failures": 1})
    row = row_from_outcome("s", sudo, TASK)
    assert (row.verdict, row.reachable, row.error) == ("failed", True, "Missing sudo password")
    assert row_from_outcome("x", None, TASK).verdict == "unreachable"


def test_a_hosts_answer_is_untrusted_input():
    row = row_from_outcome("h", _ok({"commands": "rm -rf /"}), TASK)
    assert row.verdict == "failed" and "not a snapshot" in row.error


def test_reachable_host_is_diagnosed_by_the_local_rules():
    row = row_from_outcome("gpu1", _ok(_snapshot("native-h200-healthy.json")), TASK)
    assert row.verdict == "ok" and row.facts.gpus and "H200" in row.facts.gpus[0]["name"]
    row = row_from_outcome("ci", _ok(_snapshot("debian12-ci-no-gpu.json")), TASK)
    assert row.verdict == "problem" and row.first_error is not None


def _report(tmp_path) -> FleetReport:
    rows = [
        row_from_outcome("gpu1.lab.example", _ok(_snapshot("native-h200-healthy.json")), TASK),
        row_from_outcome("[bold red]ci[/bold red]", _ok(_snapshot("debian12-ci-no-gpu.json")), TASK),
        row_from_outcome(
            "down-with-a-very-long-name-that-goes-on-and-on",
            HostOutcome("d", [TaskOutcome(TASK, "unreachable", {"msg": "Connection refused " * 10})]),
            TASK,
        ),
    ]
    save_snapshots(rows, tmp_path)
    return FleetReport(rows, tmp_path)


def test_80_columns_one_line_per_host_then_details(tmp_path):
    out = io.StringIO()
    print_fleet(_report(tmp_path), Console(file=out, width=80, force_terminal=False, color_system=None))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("gpu1.lab.example") and " ok " in lines[0]
    assert lines[1].startswith("[bold red]ci[/bold red]") and "problem" in lines[1]  # markup printed as text
    assert "unreachable" in lines[2]
    assert all(len(line) <= 80 for line in lines[:3])
    assert "\x1b[" not in out.getvalue()  # plain text when not a terminal
    fix_lines = [line for line in lines if line.startswith("  first fix: ")]
    assert fix_lines, out.getvalue()
    first_error = _report(tmp_path).rows[1].first_error
    assert fix_lines[0] == "  first fix: " + " ".join(first_error.fix[0].split())  # whole, never wrapped


def test_wide_terminal_shows_the_columns(tmp_path):
    out = io.StringIO()
    print_fleet(_report(tmp_path), Console(file=out, width=160, force_terminal=False, color_system=None))
    header = out.getvalue().splitlines()[0]
    for word in ("platform", "driver", "Docker", "toolkit", "GPU in container"):
        assert word in header


def test_fleet_document_shape_and_snapshots_replay(tmp_path):
    report = _report(tmp_path)
    doc = report.as_dict()
    assert [h["host"] for h in doc["hosts"]][0] == "gpu1.lab.example"
    for host in doc["hosts"]:
        assert {"host", "reachable", "error", "findings", "host_facts"} <= set(host)
    assert doc["summary"] == {
        "hosts": 3,
        "ok": 1,
        "problem": 1,
        "unreachable": 1,
        "failed": 0,
        "run_dir": str(tmp_path),
    }
    saved = doc["hosts"][1]["snapshot"]
    assert saved == "snapshots/bold_red_ci_bold_red.json"
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "doctor", "--json", "--snapshot", str(tmp_path / saved)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["findings"] == doc["hosts"][1]["findings"]
    report.save(tmp_path / "fleet.json")
    again = FleetReport.load(tmp_path / "fleet.json")
    assert again.as_dict()["hosts"] == doc["hosts"]


def test_the_probe_table_is_the_local_doctors():
    args = remote.probe_args()
    assert [p["name"] for p in args["probes"]] == [
        p.name for p in probe.probes("@hello@", "@gpu@", False) if not p.deep
    ]
    assert "/usr/lib/wsl/lib" in args["search_dirs"] and args["files"] == list(probe.FILES)


@pytest.mark.requires_ansible
def test_the_module_fills_image_slots_from_local_images_only():
    sys.path.insert(0, str(remote.MODULES))
    try:
        import gpudock_probe
    finally:
        sys.path.remove(str(remote.MODULES))
    probes = [
        {"name": "docker_hello", "argv": ["docker", "run", "--rm", "@hello@"]},
        {"name": "docker_gpu", "argv": ["docker", "run", "--gpus", "all", "@gpu@", "nvidia-smi"]},
        {"name": "id", "argv": ["id"]},
    ]
    ready = gpudock_probe._with_images(probes, remote.IMAGE_CANDIDATES, {"gpudock/hello:latest"})
    assert [p["argv"] for p in ready][:2] == [
        ["docker", "run", "--rm", "gpudock/hello:latest"],
        ["docker", "run", "--gpus", "all", "gpudock/hello:latest", "nvidia-smi"],
    ]
    assert [p["name"] for p in gpudock_probe._with_images(probes, remote.IMAGE_CANDIDATES, set())] == ["id"]


@pytest.mark.parametrize("command", [["doctor"], ["install", "docker"], ["bench"]])
def test_bad_inventory_is_one_line_and_exit_2_and_leaves_no_run_folder(tmp_path, command):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gpudock",
            "fleet",
            *command,
            "-i",
            str(tmp_path / "nope.ini"),
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no such file" in proc.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.requires_ansible
def test_inventory_without_hosts_is_exit_2(tmp_path):
    inventory = tmp_path / "empty.ini"
    inventory.write_text("[lab]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "fleet", "doctor", "-i", str(inventory), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "no hosts" in proc.stderr, proc.stderr
    assert not (tmp_path / "r").exists()


def test_deep_probes_carry_the_private_apt_config():
    args = remote.probe_args(deep=True)
    apt = next(p for p in args["probes"] if p["name"] == "apt_update")
    assert args["apt_placeholder"] in apt["argv"] and "Dir::State::Lists" in args["apt_config"]
    assert args["max_output"] == probe.MAX_OUTPUT


def test_probe_text_reaches_ansible_untemplated():
    """`docker info --format '{{json .Runtimes}}'` must stay literal: Ansible would template it and fail every host."""
    from gpudock.fleet.doctor import probe_plays
    from gpudock.install.ansible import dump_playbook

    playbook = dump_playbook(probe_plays())
    assert '!unsafe "{{json .Runtimes}}"' in playbook
    assert "{{json" not in playbook.replace('!unsafe "{{json', "")
