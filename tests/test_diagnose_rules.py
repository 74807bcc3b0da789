"""The rule table and the doctor's promises: no silent all-clear, toolkit judged without a container,
evidence from the probe it belongs to, fixes that do no harm, bounded regexes, order-free verdicts."""

import json
import re
import time

import pytest

from gpudock.cli import main
from gpudock.diagnose import LAYERS, RULES, codes, diagnose
from gpudock.diagnose.registry import SEVERITIES, Hit, RuleRecord
from gpudock.findings import has_errors
from gpudock.snapshot import Snapshot
from gpudock.tutorial import SECTION_LAYERS
from tests.helpers import CASES, DATA

CASE_FILES = [c for c in sorted(CASES.glob("*.json")) if c.name != "expectations-real.json"]
DOCKER_UP = {"rc": 0, "stdout": "Server:\n Server Version: 27.3.1\n Runtimes: io.containerd.runc.v2 runc\n"}
OFFLINE_HELLO = {
    "rc": 125,
    "stdout": "",
    "stderr": "Unable to find image 'hello-world:latest' locally\ndocker: Error response from daemon: Get "
    '"https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host\n',
}
SMI_OK = {"rc": 0, "stdout": "| NVIDIA-SMI 580.159.04   Driver Version: 580.159.04   CUDA Version: 13.0 |\n"}


def found(doc):
    return {f.code: f for f in diagnose(Snapshot(doc))}


def fix_text(doc, code):
    return "\n".join(found(doc)[code].fix)


# --- the table --------------------------------------------------------------------------------------------
def test_every_record_is_well_formed_and_every_contract_code_has_one():
    for record in RULES:
        assert isinstance(record, RuleRecord)
        assert record.layer in LAYERS and record.severity in SEVERITIES, record
        assert callable(record.rule) and (callable(record.fix) or isinstance(record.fix, list | tuple))
    contract = set((DATA / "finding-codes.txt").read_text().split())
    assert contract <= set(codes())
    assert len({r.code for r in RULES}) < len(RULES), "several rules share a code (nvml-unknown-error, ...)"


def test_the_tutorial_sections_cover_every_layer():
    covered = {layer for layers in SECTION_LAYERS.values() for layer in layers}
    assert covered == set(LAYERS)


def test_a_crashing_rule_is_an_error_and_the_other_findings_stand():
    def broken(snap, host):
        raise ValueError("boom")

    RULES.append(RuleRecord("x-test", "ok", "docker", 1, broken, [], "t"))
    try:
        findings = diagnose(Snapshot({"commands": {"docker_hello": {"rc": 0, "stdout": "Hello from Docker!\n"}}}))
    finally:
        RULES.pop()
    crash = next(f for f in findings if f.code == "doctor-rule-error")
    assert crash.severity == "error" and "ValueError" in crash.evidence
    assert "docker-ok" in [f.code for f in findings]
    assert has_errors(findings)


# --- no silent all-clear -----------------------------------------------------------------------------------
def test_an_unexplained_gpu_container_failure_is_an_error_and_exit_1(tmp_path):
    doc = {
        "commands": {
            "docker_info": DOCKER_UP,
            "docker_gpu": {"rc": 125, "stderr": "docker: Error response from daemon: something new went wrong.\n"},
        }
    }
    finding = found(doc)["gpu-container-failed"]
    assert finding.severity == "error" and "something new went wrong" in finding.evidence
    assert "nvidia-container-cli -k -d /dev/tty info" in "\n".join(finding.fix)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    assert main(["doctor", "--snapshot", str(path), "--json"]) == 1


@pytest.mark.parametrize(
    "result",
    [
        {"rc": None, "stderr": "\n[gpudock: no answer within 60 s; killed]", "timed_out": True},
        {"rc": 1, "stderr": "sudo: a password is required\n"},
    ],
    ids=["timeout", "sudo-prompt"],
)
def test_a_hung_or_password_blocked_probe_is_a_warning(result):
    finding = found({"commands": {"docker_gpu_sudo": result}})["gpu-container-failed"]
    assert finding.severity == "warning"


def test_an_explained_failure_gets_no_catch_all():
    doc = {
        "commands": {
            "docker_gpu": {"rc": 125, "stderr": 'could not select device driver "" with capabilities: [[gpu]]'}
        }
    }
    assert "nvidia-toolkit-missing" in found(doc) and "gpu-container-failed" not in found(doc)


def test_every_case_with_a_failing_gpu_container_exits_1():
    for case in CASE_FILES:
        doc = json.loads(case.read_text())
        findings = diagnose(Snapshot(doc))
        snap = Snapshot(doc)
        failing = [
            n
            for n in ("docker_gpu", "docker_gpu_runtime", "docker_gpu_sudo", "docker_nbody", "nvidia_docker_run")
            if snap.command(n) and snap.command(n).rc not in (0, None)
        ]
        if failing:
            assert any(f.severity in ("error", "warning") for f in findings), case.stem


# --- the toolkit without a container ----------------------------------------------------------------------
def test_driver_docker_no_toolkit_no_image_offline_gives_toolkit_missing_and_says_offline():
    doc = {
        "platform": {"release": "6.8.0-45-generic"},
        "commands": {
            "nvidia_smi": SMI_OK,
            "docker_info": DOCKER_UP,
            "docker_hello": OFFLINE_HELLO,
            "nvidia_ctk_version": {"rc": 127, "stderr": "nvidia-ctk: command not found"},
            "nvidia_container_cli_version": {"rc": 127, "stderr": "nvidia-container-cli: command not found"},
            "nvidia_container_cli_info": {"rc": 127, "stderr": "nvidia-container-cli: command not found"},
        },
        "files": {"/etc/docker/daemon.json": None},
    }
    result = found(doc)
    assert result["nvidia-toolkit-missing"].severity == "error"
    assert "gpudock plan toolkit" in "\n".join(result["nvidia-toolkit-missing"].fix)
    assert "offline" in result["docker-hello-failed"].title
    assert "gpu-container-failed" not in result


@pytest.mark.parametrize(
    "proof",
    [
        {"commands": {"nvidia_ctk_version": {"rc": 0, "stdout": "NVIDIA Container Toolkit CLI version 1.18.1\n"}}},
        {"commands": {"nvidia_container_cli_info": {"rc": 0, "stdout": "NVRM version:   580.159.04\n"}}},
        {"commands": {"docker_info_runtimes": {"rc": 0, "stdout": '{"nvidia":{"path":"nvidia-container-runtime"}}'}}},
        {"files": {"/etc/docker/daemon.json": '{"runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}}'}},
        {"commands": {"ls_cdi": {"rc": 0, "stdout": "/etc/cdi:\n-rw-r--r-- 1 root root 9000 Nov 1 nvidia.yaml\n"}}},
    ],
    ids=["nvidia-ctk", "container-cli-info", "runtimes-json", "daemon-json", "cdi-spec"],
)
def test_any_proof_of_the_toolkit_prevents_toolkit_missing(proof):
    doc = {
        "commands": {
            "docker_info": DOCKER_UP,
            "nvidia_ctk_version": {"rc": 127, "stderr": "nvidia-ctk: command not found"},
            **proof.get("commands", {}),
        },
        "files": proof.get("files", {}),
    }
    assert "nvidia-toolkit-missing" not in found(doc)


def test_a_pasted_runtimes_line_is_read_both_ways():
    toolkit = {"rc": 0, "stdout": "NVIDIA Container Toolkit CLI version 1.17.8\n"}
    lacks = {
        "commands": {
            "docker_info": {"rc": None, "stdout": " Runtimes: io.containerd.runc.v2 runc\n"},
            "nvidia_ctk_version": toolkit,
        }
    }
    has = {
        "commands": {"docker_info": {"rc": None, "stdout": " Runtimes: nvidia runc\n"}, "nvidia_ctk_version": toolkit}
    }
    assert "nvidia-runtime-not-configured" in found(lacks)
    assert "nvidia-runtime-not-configured" not in found(has)


def test_cdi_devices_in_docker_info_need_no_nvidia_runtime():
    info = (
        " Server Version: 29.1.2\n Runtimes: io.containerd.runc.v2 runc\n"
        " Discovered Devices:\n  cdi: nvidia.com/gpu=0\n"
    )
    doc = {
        "commands": {"docker_info": {"rc": 0, "stdout": info}, "nvidia_ctk_version": {"rc": 0, "stdout": "v 1.18.1"}}
    }
    assert "nvidia-runtime-not-configured" not in found(doc)


# --- evidence from the probe it belongs to ----------------------------------------------------------------
def test_nvidia_smi_inside_a_container_is_not_the_host_driver():
    inside = "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system."
    doc = {"platform": {"release": "6.8.0-45-generic"}, "commands": {"docker_gpu": {"rc": 0, "stdout": inside}}}
    assert "nvidia-driver-missing" not in found(doc) and "gpu-container-failed" in found(doc)
    on_host = {"platform": {"release": "6.8.0-45-generic"}, "commands": {"nvidia_smi": {"rc": 9, "stdout": inside}}}
    assert "nvidia-driver-missing" in found(on_host)


def test_the_hook_failing_to_load_nvml_is_the_host_driver():
    hook = "nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared"
    doc = {"platform": {"release": "6.8.0-45-generic"}, "commands": {"docker_gpu": {"rc": 125, "stderr": hook}}}
    assert "nvidia-driver-missing" in found(doc)


# --- WSL --------------------------------------------------------------------------------------------------
WSL = {"release": "5.15.167.4-microsoft-standard-WSL2", "machine": "x86_64"}


def test_a_windows_build_without_gpu_pv_is_named():
    doc = {
        "platform": WSL,
        "commands": {"windows_version": {"rc": 0, "stdout": "Microsoft Windows [Version 10.0.19043.1288]"}},
    }
    finding = found(doc)["wsl-gpu-not-exposed"]
    assert "19043" in finding.evidence and "19044" in "\n".join(finding.fix)
    newer = {
        "platform": WSL,
        "paths": {"/dev/dxg": True},
        "commands": {"windows_version": {"rc": 0, "stdout": "[Version 10.0.22631.4460]"}},
    }
    assert "wsl-gpu-not-exposed" not in found(newer)


def test_linux_nvidia_files_inside_wsl_are_named():
    doc = {"platform": WSL, "paths": {"/dev/dxg": True, "/usr/bin/nvidia-smi": True}}
    assert "/usr/bin/nvidia-smi" in found(doc)["wsl-linux-driver-installed"].evidence


def test_docker_desktop_beside_docker_ce_in_wsl_says_keep_one_engine():
    doc = json.loads((CASES / "wsl2-desktop-and-docker-ce.json").read_text())
    text = fix_text(doc, "docker-desktop-conflict")
    assert "docker context use" not in text  # no desktop-linux context inside a WSL distro
    assert "WSL integration" in text
    remove = re.search(r"sudo apt-get remove ([^`]+)`", text)
    assert remove and "docker-ce" in remove.group(1).split()  # only the packages dpkg lists as installed


# --- fixes that do no harm --------------------------------------------------------------------------------
def test_legacy_fix_removes_never_purges_and_reconfigures_after():
    doc = json.loads((CASES / "legacy-nvidia-docker2.json").read_text())
    steps = found(doc)["legacy-nvidia-docker"].fix
    text = "\n".join(steps)
    assert "purge" not in text.replace("never purge", "").replace("purge deletes", "")
    remove = next(i for i, s in enumerate(steps) if s.startswith("sudo apt-get remove nvidia-docker2"))
    configure = next(i for i, s in enumerate(steps) if s.startswith("sudo nvidia-ctk runtime configure"))
    assert remove < configure and "libnvidia-container*" in text


def test_cuda_key_fix_removes_the_old_list_before_cuda_keyring_and_never_plans_a_driver_on_wsl():
    apt = {
        "rc": 100,
        "stdout": "W: GPG error: https://developer.download.nvidia.com/compute/cuda/repos/wsl-ubuntu/x86_64  "
        "InRelease: The following signatures couldn't be verified because the public key is not available: "
        "NO_PUBKEY A4B469963BF863CC",
    }
    steps = found({"platform": WSL, "commands": {"apt_update": apt}})["apt-key-missing"].fix
    old_list = next(i for i, s in enumerate(steps) if "old CUDA list" in s)
    keyring = next(i for i, s in enumerate(steps) if s.startswith("sudo dpkg -i cuda-keyring"))
    assert old_list < keyring
    assert any("repos/wsl-ubuntu/x86_64/cuda-keyring_1.1-1_all.deb" in s for s in steps)
    assert not any("gpudock plan driver" in s for s in steps)


def test_driver_unreachable_fix_covers_secure_boot_and_every_dkms_module():
    doc = {
        "platform": {"release": "6.8.0-45-generic"},
        "commands": {
            "nvidia_smi": {
                "rc": 9,
                "stdout": "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
            }
        },
    }
    text = fix_text(doc, "nvidia-driver-unreachable")
    assert "mokutil --import" in text and "dkms autoinstall" in text


def test_restart_advice_when_systemd_is_unknown_tries_systemctl_then_the_script_and_never_pkill():
    doc = {
        "platform": {"release": "6.8.0-45-generic"},
        "commands": {"docker_gpu": {"rc": None, "stderr": "unknown or invalid runtime name: nvidia"}},
    }
    assert "sudo systemctl restart docker || sudo service docker restart" in fix_text(doc, "nvidia-runtime-unknown")
    for case in CASE_FILES:
        for finding in diagnose(Snapshot(json.loads(case.read_text()))):
            assert "pkill" not in " ".join(finding.fix), (case.stem, finding.code)


# --- hostile input and order ------------------------------------------------------------------------------
def test_patterns_stay_fast_on_hostile_output():
    fragments = [
        "could not select device driver " * 2000,
        "unsatisfied condition: cuda>=" + "9" * 100_000,
        "|   0  " + "A" * 200_000,
        "file creation failed: " + "/" * 200_000,
        "NVIDIA-SMI 1" + " " * 200_000,
        "Runtimes:" + " nvidia" * 50_000,
    ]
    doc = {
        "commands": {
            name: {"rc": 1, "stdout": "\n".join(fragments), "stderr": "x" * 500_000}
            for name in ("docker_gpu", "docker_info", "nvidia_smi", "apt_update", "docker_hello")
        }
    }
    start = time.monotonic()
    diagnose(Snapshot(doc))
    assert time.monotonic() - start < 10


def test_the_verdict_does_not_depend_on_key_order():
    for case in CASE_FILES:
        doc = json.loads(case.read_text())["snapshot"]
        flipped = {k: (dict(reversed(list(v.items()))) if isinstance(v, dict) else v) for k, v in reversed(doc.items())}
        assert [f.as_dict() for f in diagnose(Snapshot(doc))] == [f.as_dict() for f in diagnose(Snapshot(flipped))], (
            case.stem
        )


def test_hit_severity_may_only_name_a_known_severity():
    record = RuleRecord("x", "error", "docker", 1, lambda s, h: None, [], "t")
    assert record.finding(Snapshot({}), None, Hit("e", severity="bogus")).severity == "error"


def test_a_container_without_device_access_is_not_the_host_driver_unreachable():
    inside = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    doc = {
        "platform": {"release": "6.8.0-45-generic"},
        "commands": {"nvidia_smi": SMI_OK, "docker_gpu": {"rc": 9, "stdout": inside}},
    }
    assert "nvidia-driver-unreachable" not in found(doc) and "gpu-container-failed" in found(doc)
    doc["commands"].pop("nvidia_smi")
    assert "nvidia-driver-unreachable" in found(doc)


def test_an_unpullable_gpu_image_is_a_warning_that_says_the_gpu_was_not_tested():
    doc = {"commands": {"docker_gpu": OFFLINE_HELLO}}
    finding = found(doc)["gpu-container-failed"]
    assert finding.severity == "warning" and "not tested" in finding.title
