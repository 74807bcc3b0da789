"""Fix text and links fit the distribution (Debian is not Ubuntu; Docker Desktop only on WSL), alternatives
show as alternatives, and the dockerd log is named the same everywhere."""

from __future__ import annotations

import pytest

from gpudock import fixes
from gpudock.doctor import check
from gpudock.findings import Finding
from gpudock.snapshot import Snapshot
from gpudock.views import findings_text

OS_RELEASE = {
    "debian": 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
    "ubuntu": 'ID=ubuntu\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nPRETTY_NAME="Ubuntu 24.04 LTS"\n',
}
WSL_KERNEL, LINUX_KERNEL = "5.15.167.4-microsoft-standard-WSL2", "6.1.0-28-amd64"


def snapshot(distro: str, kernel: str = LINUX_KERNEL, **commands) -> Snapshot:
    return Snapshot(
        {
            "platform": {"system": "Linux", "release": kernel, "machine": "x86_64"},
            "files": {"/etc/os-release": OS_RELEASE[distro], "/proc/version": f"Linux version {kernel}"},
            "paths": {"/run/systemd/system": False},
            "commands": commands,
        }
    )


NO_CLI = {"docker_version": {"rc": 127, "stdout": "", "stderr": "docker: command not found"}}


def _finding(report, code: str) -> Finding:
    return next(f for f in report.findings if f.code == code)


@pytest.mark.parametrize("distro", ["debian", "ubuntu"])
def test_docker_cli_missing_links_this_distributions_page_and_no_desktop(distro):
    finding = _finding(check(snapshot(distro, **NO_CLI)), "docker-cli-missing")
    assert finding.docs == [f"https://docs.docker.com/engine/install/{distro}/"]
    command = finding.fix[0].split("#")[0]
    assert command.startswith("gpudock plan docker ") and "--source docker-ce" not in command  # the default: distro


def test_on_wsl_docker_desktop_is_one_way_and_an_engine_the_other():
    finding = _finding(check(snapshot("ubuntu", WSL_KERNEL, **NO_CLI)), "docker-cli-missing")
    assert fixes.DOCS["docker_desktop_wsl"] in finding.docs
    assert finding.fix[0].startswith("with Docker Desktop") and finding.fix[1].startswith(fixes.ALTERNATIVE)
    text = findings_text([finding])
    assert "1. with Docker Desktop" in text and "\n    or without Docker Desktop:" in text and "2." not in text


def test_driver_plan_names_the_distributions_own_driver_packages():
    from gpudock.install import plan_for

    debian = plan_for("driver", snapshot("debian")).notes
    ubuntu = plan_for("driver", snapshot("ubuntu")).notes
    assert not [n for n in debian if "Ubuntu" in n] and any("Debian's own nvidia-driver" in n for n in debian)
    assert any("Ubuntu's nvidia-driver-XXX" in n for n in ubuntu)


def test_restart_alternatives_are_not_numbered_as_steps():
    host = check(snapshot("debian")).host  # no systemd here: the init script, or gpudock's own dockerd
    steps = fixes.docker_service(host, "restart")
    assert steps[0] == "sudo service docker restart" and all(s.startswith(fixes.ALTERNATIVE) for s in steps[1:])
    finding = Finding("x", "error", "dockerd needs a restart", "", [*steps, "docker info"], [])
    lines = findings_text([finding], width=200).splitlines()
    numbered = [line.strip()[:3] for line in lines if line.strip()[:2] in ("1.", "2.", "3.", "4.")]
    assert numbered == ["1. ", "2. "]  # the restart, then `docker info`; the two others are "or" lines
    assert sum(line.strip().startswith("or ") for line in lines) == 2


def test_one_dockerd_log_path_in_the_doctor_the_plan_and_apply():
    from gpudock.install.docker import DOCKERD_DAEMON

    host = check(snapshot("debian")).host
    assert fixes.GPUDOCK_DOCKERD_LOG in fixes.daemon_log_step(host)
    assert DOCKERD_DAEMON.log == fixes.GPUDOCK_DOCKERD_LOG
    assert fixes.GPUDOCK_DOCKERD_LOG in " ".join(fixes.docker_service(host, "restart"))
