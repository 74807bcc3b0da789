"""Every rule on snapshots built from real captures and real public reports (tests/data/cases)."""

import json

import pytest

from gpudock.diagnose import codes, diagnose
from gpudock.snapshot import Snapshot
from tests.helpers import CASES, DATA, load_case

CASE_FILES = [c for c in sorted(CASES.glob("*.json")) if c.name != "expectations-real.json"]
FINDING_CODES = DATA / "finding-codes.txt"


def _codes(doc) -> list[str]:
    return [f.code for f in diagnose(Snapshot(doc))]


@pytest.mark.parametrize("case", CASE_FILES, ids=[c.stem for c in CASE_FILES])
def test_case(case):
    doc = json.loads(case.read_text())
    assert doc["source"], "every case names where its text comes from"
    codes = _codes(doc)
    for code in doc["expect"]:
        assert code in codes, f"{case.stem}: expected {code}, got {codes}"
    for code in doc.get("absent", []):
        assert code not in codes, f"{case.stem}: {code} must not be reported, got {codes}"


def test_real_h200_snapshot(data_dir):
    expectations = json.loads((data_dir / "cases" / "expectations-real.json").read_text())
    for name, expected in expectations.items():
        codes = _codes(json.loads((data_dir / "real" / name).read_text()))
        assert set(expected["expect"]) <= set(codes), codes
        assert not set(expected["absent"]) & set(codes), codes


def test_every_finding_carries_evidence_and_every_problem_a_fix():
    for case in CASE_FILES:
        for finding in diagnose(Snapshot(json.loads(case.read_text()))):
            assert finding.evidence, (case.stem, finding.code)
            if finding.severity in ("error", "warning"):
                assert finding.fix, (case.stem, finding.code)


def test_every_code_of_the_contract_has_a_rule_and_a_case():
    contract = FINDING_CODES.read_text().split()
    seen = set()
    for case in CASE_FILES:
        seen.update(json.loads(case.read_text())["expect"])
    seen.update(load_case("expectations-real.json")["h200-device-snapshot.json"]["expect"])
    missing_rule = [c for c in contract if c not in codes()]
    missing_case = [c for c in contract if c not in seen]
    assert not missing_rule, missing_rule
    assert not missing_case, missing_case


def test_errors_come_before_warnings_and_lower_layers_first():
    doc = load_case("debian12-docker-up-no-gpu.json")
    findings = diagnose(Snapshot(doc))
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=["error", "warning", "info", "ok"].index)
    codes = [f.code for f in findings]
    assert codes.index("nvidia-driver-missing") < codes.index("nvidia-toolkit-missing")


def test_gpu_ok_needs_a_container_that_saw_the_gpu():
    host_only = {
        "commands": {
            "nvidia_smi": {
                "rc": 0,
                "stdout": "| NVIDIA-SMI 580.1  Driver Version: 580.1  CUDA "
                "Version: 13.0 |\n|   0  NVIDIA H200   On  |\n",
            }
        }
    }
    assert "gpu-ok" not in _codes(host_only)
    failed = {"commands": {"docker_gpu": {"rc": 125, "stdout": "|   0  NVIDIA H200   On  |", "stderr": "error"}}}
    assert "gpu-ok" not in _codes(failed)


def test_fix_is_fitted_to_the_host():
    down = {
        "commands": {
            "docker_info": {
                "rc": 1,
                "stderr": "Cannot connect to the Docker daemon at "
                "unix:///var/run/docker.sock. Is the docker daemon running?",
            }
        }
    }
    wsl_no_systemd = {
        **down,
        "platform": {"release": "5.15.167.4-microsoft-standard-WSL2"},
        "commands": {
            **down["commands"],
            "systemctl_docker": {
                "rc": 1,
                "stderr": "System has not been booted with systemd as init system (PID 1). Can't operate.",
            },
        },
    }
    systemd_host = {**down, "commands": {**down["commands"], "systemctl_docker": {"rc": 3, "stdout": "inactive\n"}}}

    def fix(doc):
        return " ".join(next(f for f in diagnose(Snapshot(doc)) if f.code == "docker-daemon-unreachable").fix)

    assert (
        "sudo service docker start" in fix(wsl_no_systemd)
        and "systemctl" not in fix(wsl_no_systemd).split("wsl.conf")[0]
    )
    assert "sudo systemctl enable --now docker" in fix(systemd_host) and "service docker" not in fix(systemd_host)


def test_docker_host_pointing_elsewhere_is_named():
    doc = load_case("debian12-daemon-down.json")
    finding = next(f for f in diagnose(Snapshot(doc)) if f.code == "docker-daemon-unreachable")
    assert "unix:///tmp/nonexistent.sock" in " ".join(finding.fix)


def test_permission_fix_names_the_user():
    doc = load_case("debian12-permission-denied.json")
    finding = next(f for f in diagnose(Snapshot(doc)) if f.code == "docker-permission-denied")
    assert finding.fix[0] == "sudo usermod -aG docker alice"


def test_wsl_driver_purge_names_the_installed_packages():
    doc = load_case("wsl2-lib-file-exists-linux-driver.json")
    finding = next(f for f in diagnose(Snapshot(doc)) if f.code == "wsl-linux-driver-installed")
    assert "libnvidia-compute-470" in finding.fix[0].split() and "460" not in finding.fix[0]  # rc = removed


def test_nvml_unknown_fix_tells_fresh_from_reloaded():
    reloaded = {"commands": {"docker_exec": {"rc": None, "stdout": "Failed to initialize NVML: Unknown Error"}}}
    fresh = {
        "commands": {"docker_gpu": {"rc": 255, "stdout": "Failed to initialize NVML: Unknown Error"}},
        "files": {"/etc/nvidia-container-runtime/config.toml": "[nvidia-container-cli]\nno-cgroups = true\n"},
    }

    def fix(doc):
        return " ".join(next(f for f in diagnose(Snapshot(doc)) if f.code == "nvml-unknown-error").fix)

    assert "daemon-reload" in fix(reloaded)
    assert "no-cgroups=false" in fix(fresh) and "fresh container" in fix(fresh)
