import pytest

from gpudock.facts.host import host_info, parse_os_release, wsl_kind
from gpudock.snapshot import Snapshot


def test_os_release_quotes_and_cut_off_lines():
    fields = parse_os_release('NAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\n# c\nPRETTY_NAME="Ubuntu 24.')
    assert fields["VERSION_ID"] == "24.04"
    assert fields["VERSION_CODENAME"] == "noble"
    assert fields["PRETTY_NAME"].startswith("Ubuntu 24.")


@pytest.mark.parametrize(
    "snapshot, kind",
    [
        ({"platform": {"release": "5.15.167.4-microsoft-standard-WSL2"}}, "wsl2"),
        ({"platform": {"release": "4.4.0-19041-Microsoft"}}, "wsl1"),
        (
            {
                "files": {
                    "/proc/version": "Linux version 4.4.0-22621-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0)"
                }
            },
            "wsl1",
        ),
        ({"env": {"WSL_DISTRO_NAME": "Ubuntu"}}, "wsl2"),
        ({"platform": {"release": "6.8.0-45-generic"}}, "native"),
        ({}, "unknown"),
    ],
)
def test_wsl_kind(snapshot, kind):
    assert wsl_kind(Snapshot(snapshot)) == kind


def test_host_facts_from_the_real_h200_snapshot(data_dir):
    host = host_info(Snapshot.load(data_dir / "real" / "h200-device-snapshot.json"))
    assert (host.distro_id, host.distro_version, host.codename) == ("ubuntu", "24.04", "noble")
    assert host.kind == "native" and host.arch == "x86_64"
    assert host.systemd is False  # systemctl: command not found
    assert host.gpus == [{"name": "NVIDIA H200", "driver_version": "580.159.04", "memory_total": "143771 MiB"}]
    assert not host.docker_desktop


def test_systemd_is_detected_from_no_systemd_text(data_dir):
    text = (data_dir / "real" / "systemctl-no-systemd.txt").read_text()
    snap = Snapshot({"commands": {"systemctl_docker": {"rc": 1, "stdout": "", "stderr": text}}})
    assert host_info(snap).systemd is False
    assert host_info(Snapshot({"commands": {"systemctl_docker": {"rc": 3, "stdout": "inactive\n"}}})).systemd is True


def test_docker_desktop_engine_is_recognised():
    snap = Snapshot({"commands": {"docker_info": {"rc": 0, "stdout": " Operating System: Docker Desktop\n"}}})
    assert host_info(snap).docker_desktop
