"""Golden plans for every distro × native/WSL, the scripts' syntax, and security properties of every plan."""

import json
import re
import shutil
import subprocess
import sys

import pytest

from gpudock.exceptions import UsageError
from gpudock.facts.host import host_info
from gpudock.install import PlanRefused, make_plan
from tests.install.golden import VARIANTS, cases, render
from tests.install.hosts import KINDS, OS_RELEASE, host_snapshot

CASES = list(cases())


@pytest.mark.parametrize("distro, kind, variant, path", CASES, ids=[p.stem for *_, p in CASES])
def test_golden_plan(distro, kind, variant, path):
    assert path.read_text() == render(distro, kind, variant), (
        f"plan changed: review it, then `python -m tests.install.golden` to update {path.name}"
    )


def all_plans(**extra_host):
    for distro in OS_RELEASE:
        for kind in KINDS:
            snap = host_snapshot(distro, kind, **extra_host)
            for variant, options in VARIANTS.items():
                try:
                    yield (
                        f"{distro}-{kind}-{variant}",
                        make_plan(variant.split("-")[0], snap, host_info(snap), **options),
                    )
                except PlanRefused:
                    continue


PLANS = list(all_plans())


@pytest.mark.parametrize("name, plan", PLANS, ids=[n for n, _ in PLANS])
def test_script_is_valid_bash_and_passes_shellcheck(tmp_path, name, plan):
    script = tmp_path / f"{name}.sh"
    script.write_text(plan.to_sh())
    subprocess.run(["bash", "-n", str(script)], check=True)
    if shutil.which("shellcheck") is None:
        pytest.skip("Debian's shellcheck is not installed")
    proc = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("name, plan", PLANS, ids=[n for n, _ in PLANS])
def test_security_properties(name, plan):
    text = plan.to_sh() + plan.to_json()
    assert "apt-key" not in text
    assert not re.search(r"curl[^\n|]*\|\s*(sudo\s+)?(ba)?sh", text), "no curl | sh"
    for step in plan.steps:
        assert isinstance(step.argv, tuple) and all(isinstance(a, str) for a in step.argv)
        for arg in step.argv:
            if arg.startswith("http"):
                assert arg.startswith("https://"), f"{step.title}: keys and packages only over https"
        content = (step.writes.content if step.writes else None) or ""
        for line in content.splitlines():
            if line.startswith("deb "):
                assert "signed-by=" in line, line
        if "URIs:" in content:
            assert "Signed-By:" in content
            assert "https://" in content
        for argv in step.commands():  # downloads go to the private work folder, never a fixed /tmp name
            assert not any(str(a).startswith("/tmp") for a in argv), argv
            if argv and argv[0] in ("curl", "wget"):
                assert step.verify is not None or argv[0] == "curl" and step.check is not None
        if step.root:  # sudo resets the environment: apt-get gets DEBIAN_FRONTEND through env
            assert "apt-get" not in step.argv or step.argv[:2] == ("env", "DEBIAN_FRONTEND=noninteractive")
        for check in (step.check, step.verify):
            if check and check.argv[:2] == ("sh", "-c"):
                assert "$1" in check.argv[2] or "$@" in check.argv[2], "sh -c scripts are constants with arguments"
    script = plan.to_sh()
    assert "<<" not in script and " tee " not in script, "no heredocs, no tee: files as root are installed"
    assert "pkill" not in script and "pgrep" not in script, "daemons are stopped through pidfiles"


def test_invalid_host_values_are_unknown_never_text_in_a_command():
    evil = "x;rm -rf ~"
    snap = host_snapshot(
        "ubuntu-24.04",
        "native",
        user=evil,
        files={"/etc/os-release": 'ID=ubuntu\nVERSION_ID="24.04"\nVERSION_CODENAME="noble$(touch /tmp/pwned)"\n'},
    )
    assert {field for field, _ in snap.invalid_fields} == {"commands.id", "files./etc/os-release VERSION_CODENAME"}
    with pytest.raises(PlanRefused, match="no valid VERSION_CODENAME"):
        make_plan("docker", snap, host_info(snap), source="docker-ce")
    for name in ("docker", "toolkit", "driver"):
        plan = make_plan(name, snap, host_info(snap))
        text = plan.to_sh() + plan.to_json()
        assert evil not in text and "pwned" not in text
        assert not any(step.argv[:1] == ("usermod",) for step in plan.steps), "an invalid user gets no step"


def test_wsl_never_gets_a_linux_driver():
    for distro in OS_RELEASE:
        snap = host_snapshot(distro, "wsl2")
        with pytest.raises(PlanRefused, match="Windows driver"):
            make_plan("driver", snap, host_info(snap))
        everything = make_plan("all", snap, host_info(snap)).to_json()
        assert not re.search(r"cuda-drivers|nvidia-open|nvidia-driver-|linux-headers", everything)


def test_plan_follows_the_host():
    native = make_plan(
        "docker", host_snapshot("ubuntu-24.04", "native"), host_info(host_snapshot("ubuntu-24.04", "native"))
    )
    wsl = make_plan("docker", host_snapshot("ubuntu-24.04", "wsl2"), host_info(host_snapshot("ubuntu-24.04", "wsl2")))
    assert any(s.argv[:2] == ("systemctl", "enable") for s in native.steps)
    assert not any("systemctl" in s.argv for s in wsl.steps)
    assert any(
        s.argv == ("service", "docker", "start") and s.fallback.argv[0] == "dockerd" and s.fallback.background
        for s in wsl.steps
    )
    assert any(s.argv == ("usermod", "-aG", "docker", "--", "alice") for s in native.steps)
    ce = make_plan(
        "docker",
        host_snapshot("debian-12", "native"),
        host_info(host_snapshot("debian-12", "native")),
        source="docker-ce",
    )
    sources = next(s.writes.content for s in ce.steps if s.writes and s.writes.content)
    assert "Suites: bookworm" in sources and "URIs: https://download.docker.com/linux/debian" in sources
    driver = make_plan(
        "driver", host_snapshot("ubuntu-22.04", "native"), host_info(host_snapshot("ubuntu-22.04", "native"))
    )
    assert any("repos/ubuntu2204/x86_64/cuda-keyring_1.1-1_all.deb" in " ".join(s.argv) for s in driver.steps)
    assert driver.steps[-2].argv[2:] == ("apt-get", "install", "-y", "nvidia-open")  # NVIDIA's default since R560


def test_arm64_and_unsupported_hosts_are_refused_clearly():
    arm_ubuntu = host_snapshot("ubuntu-24.04", "native", arch="aarch64")
    plan = make_plan("driver", arm_ubuntu, host_info(arm_ubuntu))
    assert any("repos/ubuntu2404/sbsa/" in " ".join(s.argv) for s in plan.steps)
    arm_debian = host_snapshot("debian-12", "native", arch="aarch64")
    with pytest.raises(PlanRefused, match="no aarch64 packages"):
        make_plan("driver", arm_debian, host_info(arm_debian))
    fedora = host_snapshot("debian-12", "native", files={"/etc/os-release": 'ID=fedora\nVERSION_ID="41"\n'})
    with pytest.raises(PlanRefused, match="apt-based installs only.*https://"):
        make_plan("docker", fedora, host_info(fedora))
    with pytest.raises(UsageError, match="three digits"):
        make_plan(
            "driver", host_snapshot("debian-12", "native"), host_info(host_snapshot("debian-12", "native")), branch="5x"
        )


def test_docker_desktop_is_advised_not_installed_over():
    snap = host_snapshot(
        "ubuntu-24.04", "wsl2", commands={"docker_info": {"rc": 0, "stdout": " Operating System: Docker Desktop\n"}}
    )
    with pytest.raises(PlanRefused, match="Docker Desktop"):
        make_plan("docker", snap, host_info(snap))
    with pytest.raises(PlanRefused, match="Docker Desktop"):
        make_plan("toolkit", snap, host_info(snap))


def test_legacy_lists_are_removed_before_the_new_one(tmp_path):
    """Every old list (the deck-era libnvidia-container-experimental.list too) goes; today's list stays."""
    snap = host_snapshot("ubuntu-22.04", "native")
    plan = make_plan("toolkit", snap, host_info(snap))
    first = plan.steps[0]
    old = ["nvidia-docker.list", "nvidia-container-runtime.list", "libnvidia-container.list",
           "libnvidia-container-experimental.list"]  # fmt: skip
    for name in [*old, "nvidia-container-toolkit.list", "docker.list"]:
        (tmp_path / name).write_text("deb https://example.invalid /\n")
    argv = [str(tmp_path) if a == "/etc/apt/sources.list.d" else a for a in first.argv]
    subprocess.run(argv, check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docker.list", "nvidia-container-toolkit.list"]
    index = next(i for i, s in enumerate(plan.steps) if s.writes and s.writes.path.endswith("toolkit.list"))
    assert index > 0


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "gpudock", *args], capture_output=True, text=True, timeout=60)


def test_cli_plan_driver_on_wsl_refuses_with_exit_1(tmp_path):
    path = tmp_path / "wsl.json"
    path.write_text(json.dumps(host_snapshot("ubuntu-24.04", "wsl2").data))
    proc = run_cli("plan", "driver", "--snapshot", str(path))
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1 and "must not get a Linux NVIDIA driver" in proc.stderr


def test_cli_plan_json_and_sh(tmp_path):
    path = tmp_path / "host.json"
    path.write_text(json.dumps(host_snapshot("debian-12", "native").data))
    doc = json.loads(run_cli("plan", "toolkit", "--snapshot", str(path), "--format", "json").stdout)
    assert doc["plan"] == "toolkit" and doc["steps"][0]["argv"]
    sh = run_cli("plan", "all", "--snapshot", str(path), "--format", "sh").stdout
    assert sh.startswith("#!/usr/bin/env bash") and "cuda-drivers" in sh and "nvidia-ctk runtime configure" in sh


def test_all_on_wsl_with_docker_desktop_installs_nothing():
    snap = host_snapshot(
        "ubuntu-24.04", "wsl2", commands={"docker_info": {"rc": 0, "stdout": " Operating System: Docker Desktop\n"}}
    )
    plan = make_plan("all", snap, host_info(snap))
    assert plan.steps == [] and any("Docker Desktop" in n for n in plan.notes)
