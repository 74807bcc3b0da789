"""The planners follow NVIDIA's and Docker's current guidance (docs/reference/advice-review-2026.md)."""

import json
import subprocess
import sys

import pytest

from gpudock.facts.host import host_info
from gpudock.install import PlanRefused, make_plan
from tests.helpers import DATA
from tests.install.hosts import host_snapshot

LSPCI = {
    "pascal": "01:00.0 VGA compatible controller: NVIDIA Corporation GP104 [GeForce GTX 1080] (rev a1)\n",
    "volta": "00:1e.0 3D controller: NVIDIA Corporation GV100GL [Tesla V100 SXM2 16GB] (rev a1)\n",
    "ampere": "01:00.0 VGA compatible controller: NVIDIA Corporation GA102 [GeForce RTX 3090] (rev a1)\n",
    "hopper": "00:05.0 3D controller: NVIDIA Corporation GH100 [H100 SXM5 80GB] (rev a1)\n",
}


def plan(step, distro="ubuntu-24.04", kind="native", gpu=None, commands=None, **options):
    extra = {"commands": {**({"lspci": {"rc": 0, "stdout": LSPCI[gpu]}} if gpu else {}), **(commands or {})}}
    snap = host_snapshot(distro, kind, **extra)
    return make_plan(step, snap, host_info(snap), **options)


def installs(p):
    return [s.argv[-1] for s in p.steps if s.argv[2:5] == ("apt-get", "install", "-y")]


@pytest.mark.parametrize("gpu", ["pascal", "volta"])
def test_maxwell_pascal_volta_get_proprietary_modules_pinned_to_580(gpu):
    """NVIDIA: the pinning package first, then the unversioned cuda-drivers (cuda-drivers-580 "will be removed",
    and on its own it pulls 590 components); each its own apt transaction, the pin required."""
    p = plan("driver", gpu=gpu)
    assert installs(p)[-2:] == ["nvidia-driver-pinning-580", "cuda-drivers"], installs(p)
    assert not any(a.startswith("cuda-drivers-") or a.startswith("nvidia-open") for s in p.steps for a in s.argv)
    pin = next(s for s in p.steps if "nvidia-driver-pinning-580" in s.argv)
    assert pin.fallback is None and pin.verify is not None  # no `|| true`: without the pin apt takes 590
    for step in p.steps:  # never both in one transaction
        assert not ("cuda-drivers" in step.argv and any(a.startswith("nvidia-driver-pinning") for a in step.argv))
    with pytest.raises(PlanRefused, match="open kernel modules do not support"):
        plan("driver", gpu=gpu, modules="open")
    with pytest.raises(PlanRefused, match="last driver branch"):
        plan("driver", gpu=gpu, branch="590")


@pytest.mark.parametrize("gpu", ["ampere", "hopper"])
def test_turing_and_newer_get_nvidia_open(gpu):
    p = plan("driver", gpu=gpu)
    assert installs(p)[-1] == "nvidia-open"
    assert not any("No NVIDIA GPU model is known" in n for n in p.notes)


def test_unknown_gpu_installs_nvidia_open_and_says_which_to_pick_and_why():
    p = plan("driver")
    assert installs(p)[-1] == "nvidia-open"
    note = next(n for n in p.notes if "No NVIDIA GPU model is known" in n)
    assert "--proprietary" in note and "580" in note and "Pascal" in note


def test_branch_pinning_uses_the_pinning_package_and_the_unversioned_meta_package():
    p = plan("driver", gpu="hopper", branch="590")
    pin = next(i for i, s in enumerate(p.steps) if "nvidia-driver-pinning-590" in s.argv)
    driver = next(i for i, s in enumerate(p.steps) if s.argv[-1] == "nvidia-open")
    assert pin < driver and not any("nvidia-open-590" in s.argv for s in p.steps)
    with pytest.raises(PlanRefused, match="no proprietary kernel modules"):
        plan("driver", modules="proprietary", branch="620")


def test_new_releases_are_planned_and_old_ones_warned():
    for distro, repo in (("ubuntu-26.04", "ubuntu2604"), ("debian-13", "debian13")):
        p = plan("driver", distro=distro)
        assert any(f"repos/{repo}/x86_64/cuda-keyring" in " ".join(s.argv) for s in p.steps)
        assert not any("--show-keys" in s.argv for s in p.steps)  # a new key: not pinned to 3bf863cc
    old = " ".join(plan("driver", distro="ubuntu-20.04").notes)
    assert "End of life" in old and "ESM only" in old  # O6: Ubuntu Pro's ESM continues; not "no security updates"
    assert not any("End of life" in n for n in plan("driver", distro="ubuntu-24.04").notes)


def test_headers_step_is_skipped_for_a_kernel_that_is_not_the_distributions():
    snap = host_snapshot("debian-12", "native", platform={"release": "6.8.12-4-pve"})
    p = make_plan("driver", snap, host_info(snap))
    assert not any(any(a.startswith("linux-headers-") for a in s.argv) for s in p.steps)
    assert any("not Debian GNU/Linux 12 (bookworm)'s own" in n for n in p.notes)
    assert any("linux-headers-6.8.0-45-generic" in s.argv for s in plan("driver").steps)


DOCKER_20 = {"docker_info": {"rc": 0, "stdout": " Server Version: 20.10.24+dfsg1\n", "stderr": ""}}


def test_cdi_is_refused_on_docker_before_25_with_the_way_to_docker_ce(tmp_path):
    with pytest.raises(PlanRefused, match="--source docker-ce"):
        plan("toolkit", commands=DOCKER_20, cdi=True)
    with pytest.raises(PlanRefused, match="docker.io is 20.10"):
        plan("all", distro="debian-12", cdi=True)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(host_snapshot("ubuntu-24.04", "native", commands=DOCKER_20).data))
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "plan", "toolkit", "--cdi", "--snapshot", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "Docker Engine 25" in proc.stderr and "Traceback" not in proc.stderr


def test_cdi_spec_goes_to_etc_cdi_without_systemd_and_is_left_to_nvidia_cdi_refresh_with_it():
    wsl = plan("toolkit", kind="wsl2", cdi=True)
    generate = next(s for s in wsl.steps if s.argv[:3] == ("nvidia-ctk", "cdi", "generate"))
    assert generate.argv[-1] == "--output=/etc/cdi/nvidia.yaml" and not generate.manual
    native = plan("toolkit", cdi=True)
    assert not any(s.argv[:3] == ("nvidia-ctk", "cdi", "generate") for s in native.steps)
    assert any("nvidia-cdi-refresh" in n for n in native.notes)
    configure = next(s for s in native.steps if s.argv[:3] == ("nvidia-ctk", "runtime", "configure"))
    assert "--cdi.enabled" in configure.argv
    assert not any("/var/run/cdi" in " ".join(s.argv) for s in wsl.steps + native.steps)


def test_cdi_in_plan_all_waits_for_the_driver_to_load():
    snap = host_snapshot("ubuntu-24.04", "native", paths={"/run/systemd/system": None})
    snap.data["commands"].pop("systemctl_docker")
    p = make_plan("all", snap, host_info(snap), cdi=True, source="docker-ce")
    generate = next(s for s in p.steps if s.argv[:3] == ("nvidia-ctk", "cdi", "generate"))
    reboot = next(i for i, s in enumerate(p.steps) if s.argv == ("reboot",))
    assert generate.manual and p.steps.index(generate) > reboot


def test_unknown_systemd_restarts_through_systemctl_then_the_init_script():
    snap = host_snapshot("ubuntu-24.04", "native", paths={"/run/systemd/system": None})
    snap.data["commands"].pop("systemctl_docker")
    p = make_plan("toolkit", snap, host_info(snap))
    restart = next(s for s in p.steps if s.argv == ("systemctl", "restart", "docker"))
    assert restart.fallback.argv == ("service", "docker", "restart")


def test_no_golden_plan_stops_a_daemon_by_name():
    for path in (DATA / "plans").glob("*.sh"):
        text = path.read_text()
        assert "pkill" not in text and "killall" not in text, path.name


def test_distro_docker_on_debian_says_it_is_old_and_without_cdi():
    notes = " ".join(plan("docker", distro="debian-12").notes)
    assert "docker.io 20.10" in notes and "--source docker-ce" in notes
    assert "20.10" not in " ".join(plan("docker", distro="ubuntu-24.04").notes)


def test_cli_proprietary_flag_reaches_the_planner(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(host_snapshot("ubuntu-24.04", "native").data))
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "plan", "driver", "--proprietary", "--format", "sh", "--snapshot", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "apt-get install -y nvidia-driver-pinning-580\n" in proc.stdout, proc.stderr
    assert "apt-get install -y cuda-drivers\n" in proc.stdout
    both = subprocess.run(
        [sys.executable, "-m", "gpudock", "plan", "driver", "--open", "--proprietary", "--snapshot", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert both.returncode == 2


def test_debian_contrib_is_a_deb822_source_not_add_apt_repository():
    """Debian 13 ships no software-properties-common: contrib comes from a source file gpudock writes."""
    from gpudock.install.driver import CONTRIB_SOURCES

    for distro, codename in (("debian-12", "bookworm"), ("debian-13", "trixie")):
        snap = host_snapshot(distro, "native")
        plan = make_plan("driver", snap, host_info(snap))
        argv = [" ".join(map(str, cmd)) for step in plan.steps for cmd in step.commands()]
        assert not any("software-properties-common" in a or "add-apt-repository" in a for a in argv), argv
        contrib = next(s for s in plan.steps if s.writes is not None and s.writes.path == CONTRIB_SOURCES)
        assert f"Suites: {codename} {codename}-updates" in contrib.writes.content
        assert "URIs: https://deb.debian.org/debian" in contrib.writes.content


def test_cdi_on_a_configured_host_still_writes_features_cdi_and_restarts():
    """--cdi added later: daemon.json naming the nvidia runtime is not enough to skip `runtime configure`."""
    snap = host_snapshot("ubuntu-24.04", "native")
    plan = make_plan("toolkit", snap, host_info(snap), cdi=True)
    configure = next(s for s in plan.steps if s.argv[:3] == ("nvidia-ctk", "runtime", "configure"))
    assert "--cdi.enabled" in configure.argv
    assert "cdi" in (configure.check.stdout_regex or " ".join(configure.check.argv))
    restart_checks = [s.check for s in plan.steps if s.check and "Runtimes" in " ".join(s.check.argv)]
    assert not restart_checks, "with --cdi the restart must not be skipped just because nvidia is registered"
