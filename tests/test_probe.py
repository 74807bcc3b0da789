import os
import time

import pytest

from gpudock import probe
from gpudock.diagnose import diagnose
from gpudock.snapshot import Snapshot
from tests.helpers import ensure_user


def test_missing_command_is_rc_127():
    result = probe.run_command(["gpudock-no-such-command"])
    assert result["rc"] == 127 and "command not found" in result["stderr"]


def test_hung_command_is_recorded_as_timed_out_and_its_children_die():
    started = time.monotonic()
    result = probe.run_command(["sh", "-c", "sleep 30 & sleep 30"], timeout=0.5)
    assert time.monotonic() - started < 10
    assert result["timed_out"] is True and result["rc"] is None
    assert "no answer within 0.5 s" in result["stderr"]


def test_non_utf8_output_is_replaced_not_raised():
    result = probe.run_command(["printf", "caf\\351 \\377\\n"])
    assert result["rc"] == 0 and "\ufffd" in result["stdout"] and result["stdout"].startswith("caf")


def test_messages_are_in_english_for_the_rules():
    assert probe.run_command(["sh", "-c", "echo $LC_ALL"])["stdout"].strip() == "C"


def test_collect_gives_a_valid_snapshot_with_every_section():
    snap = probe.collect(names=["id", "nvidia_smi"])
    Snapshot(snap.data)  # validates
    assert set(snap.data) == {"platform", "env", "files", "paths", "commands"}
    assert set(snap.data["commands"]) == {"id", "nvidia_smi"}
    assert snap.data["commands"]["id"]["argv"] == ["id"]
    assert "/etc/os-release" in snap.data["files"]


def test_every_design_probe_is_known():
    design = {
        "docker_version",
        "docker_info",
        "docker_hello",
        "docker_gpu",
        "nvidia_smi",
        "nvidia_smi_query",
        "nvidia_ctk_version",
        "nvidia_container_cli_info",
        "dpkg_nvidia",
        "systemctl_docker",
        "docker_nbody",
        "docker_gpu_runtime",
        "docker_gpu_sudo",
        "apt_update",
        "docker_ps",
        "id",
        "ls_docker_sock",
        "nvidia_docker_run",
        "nvidia_container_cli_debug",
    }
    assert design <= {p.name for p in probe.probes()}
    assert all(p.timeout > 0 for p in probe.probes())


def test_deep_probes_only_when_asked():
    quick = {p.name for p in probe.probes() if not p.deep}
    assert "apt_update" not in quick and "docker_nbody" not in quick and "docker_info" in quick


def test_offline_image_choice():
    assert probe.choose_images(set()) == ("hello-world", None)
    assert "docker_gpu" not in {p.name for p in probe.probes("hello-world", None)}
    assert probe.choose_images({"gpudock/hello:latest"}) == ("gpudock/hello:latest", "gpudock/hello:latest")
    assert probe.choose_images({"hello-world", "ubuntu:24.04", "gpudock/hello:latest"}) == (
        "hello-world",
        "ubuntu:24.04",
    )
    assert probe.choose_images({"hello-world"}) == ("hello-world", "hello-world")


def test_a_pull_is_announced_before_it_happens(tmp_path):
    said = []
    # an unreachable daemon lists no local images: hello-world would be pulled, so it is announced
    probe.collect(names=["docker_hello"], env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}, say=said.append)
    assert said == ["probing: hello-world is not on this host; `docker run` will pull it from its registry (network)"]


# --- live, against the real Docker Engine --------------------------------------------------
@pytest.fixture(scope="module")
def hello_image():
    from gpudock import dockerops

    return dockerops.build_hello_image()


def _codes(snap):
    return [f.code for f in diagnose(snap)]


@pytest.mark.requires_docker
def test_live_daemon_up_runs_the_local_hello_image(hello_image):
    snap = probe.collect(names=["docker_version", "docker_info", "docker_hello"])
    assert "gpudock/hello" in " ".join(snap.data["commands"]["docker_hello"]["argv"]) or "hello-world" in " ".join(
        snap.data["commands"]["docker_hello"]["argv"]
    )
    codes = _codes(snap)
    assert "docker-ok" in codes
    assert not {"docker-daemon-unreachable", "docker-hello-failed", "docker-permission-denied"} & set(codes)


@pytest.mark.requires_docker
def test_live_daemon_unreachable(tmp_path):
    snap = probe.collect(names=["docker_info", "docker_hello"], env={"DOCKER_HOST": f"unix://{tmp_path}/no.sock"})
    codes = _codes(snap)
    assert "docker-daemon-unreachable" in codes and "docker-ok" not in codes
    finding = next(f for f in diagnose(snap) if f.code == "docker-daemon-unreachable")
    assert "unset DOCKER_HOST" in " ".join(finding.fix)


@pytest.mark.requires_docker
@pytest.mark.requires_root
def test_live_user_outside_docker_group_is_denied(tmp_path):
    name = "gpudock-test"
    ensure_user(name)
    os.chmod(tmp_path, 0o777)
    snap = probe.collect(names=["docker_info", "id"], user=name, env={"HOME": str(tmp_path)})
    codes = _codes(snap)
    assert "docker-permission-denied" in codes, snap.data["commands"]["docker_info"]
    assert "docker-daemon-unreachable" not in codes
    finding = next(f for f in diagnose(snap) if f.code == "docker-permission-denied")
    assert finding.fix[0] == f"sudo usermod -aG docker {name}"


@pytest.mark.requires_docker
def test_live_gpus_all_without_toolkit(hello_image):
    snap = probe.collect(names=["docker_gpu", "nvidia_ctk_version"])
    assert "--gpus" in snap.data["commands"]["docker_gpu"]["argv"]
    assert "could not select device driver" in snap.data["commands"]["docker_gpu"]["stderr"]
    assert "nvidia-toolkit-missing" in _codes(snap) and "gpu-ok" not in _codes(snap)


@pytest.mark.requires_docker
def test_live_doctor_cli_on_this_gpu_less_host(hello_image):
    import json
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "doctor", "--json"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stderr
    codes = [f["code"] for f in json.loads(proc.stdout)["findings"]]
    assert "docker-ok" in codes and "nvidia-driver-missing" in codes


def test_the_runtime_probe_asks_for_the_gpus_the_way_the_legacy_runtime_needs():
    """`--runtime=nvidia` on an image that sets no NVIDIA_VISIBLE_DEVICES acts as runc: a healthy host would fail."""
    runtime = next(p for p in probe.probes(gpu_image="ubuntu:24.04") if p.name == "docker_gpu_runtime")
    assert "--runtime=nvidia" in runtime.argv and "NVIDIA_VISIBLE_DEVICES=all" in runtime.argv
