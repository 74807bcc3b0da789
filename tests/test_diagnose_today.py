"""Issue 21's rules on the evidence forms the public reports do not all show (each fails when its rule breaks)."""

import pytest

from gpudock.diagnose import diagnose
from gpudock.snapshot import Snapshot

WSL2 = {"system": "Linux", "release": "5.15.167.4-microsoft-standard-WSL2", "machine": "x86_64"}
NATIVE = {"system": "Linux", "release": "6.8.0-45-generic", "machine": "x86_64"}
SMI_TABLE = (
    "| NVIDIA-SMI 550.107.02             Driver Version: 550.107.02     CUDA Version: 12.4     |\n"
    "|   0  NVIDIA GeForce RTX 3090        Off |   00000000:01:00.0 Off |                  N/A |\n"
)


def run(doc):
    return diagnose(Snapshot(doc))


def codes(doc):
    return [f.code for f in run(doc)]


def finding(doc, code):
    return next(f for f in run(doc) if f.code == code)


def cmd(stdout="", stderr="", rc=0, **extra):
    return {"rc": rc, "stdout": stdout, "stderr": stderr, **extra}


# --- nvidia-smi-failed: a failing host nvidia-smi is never an all-clear -----------------------------------


@pytest.mark.parametrize(
    "smi, kind",
    [
        (cmd("No devices were found\n", rc=6), "finds no gpu"),
        (cmd("", "", rc=139), "crashes"),
        (cmd("", "Unable to determine the device handle for GPU0000:01:00.0: Unknown Error\n", rc=15), "cannot reach"),
        (cmd("", "[gpudock: no answer within 15 s; killed]", rc=None, timed_out=True), "hangs"),
        (cmd("", "Some new words nobody has seen\n", rc=9), "fails"),
    ],
)
def test_a_failing_host_nvidia_smi_is_an_error(smi, kind):
    found = run({"platform": NATIVE, "commands": {"nvidia_smi": smi}})
    smi_failed = [f for f in found if f.code == "nvidia-smi-failed"]
    assert smi_failed and smi_failed[0].severity == "error" and kind in smi_failed[0].title.lower() + " fails"
    assert "nvidia-driver-ok" not in [f.code for f in found]


def test_a_crash_after_the_header_is_no_driver_proof():
    doc = {"commands": {"nvidia_smi": cmd(SMI_TABLE, "Segmentation fault (core dumped)\n", rc=None)}}
    assert "nvidia-driver-ok" not in codes(doc) and "nvidia-smi-failed" in codes(doc)


def test_known_failures_keep_their_own_code_and_a_healthy_smi_says_nothing():
    unreachable = {
        "platform": NATIVE,
        "commands": {
            "nvidia_smi": cmd("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", rc=9)
        },
    }
    assert "nvidia-driver-unreachable" in codes(unreachable) and "nvidia-smi-failed" not in codes(unreachable)
    missing = {"platform": NATIVE, "commands": {"nvidia_smi": cmd("", "nvidia-smi: command not found", rc=127)}}
    assert "nvidia-driver-missing" in codes(missing) and "nvidia-smi-failed" not in codes(missing)
    healthy = {"platform": NATIVE, "commands": {"nvidia_smi": cmd(SMI_TABLE)}}
    assert "nvidia-smi-failed" not in codes(healthy) and "nvidia-driver-ok" in codes(healthy)


def test_the_wsl_fix_points_at_windows_not_at_a_linux_driver():
    doc = {"platform": WSL2, "paths": {"/dev/dxg": True}, "commands": {"nvidia_smi": cmd("", "", rc=139)}}
    steps = " ".join(
        f for found in run(doc) for f in found.fix if found.code in ("nvidia-smi-failed", "wsl-gpu-not-exposed")
    )
    assert "Windows" in steps and "gpudock plan driver" not in steps


# --- the misses ---------------------------------------------------------------------------------

HOOK_NO_NVML = (
    "nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: "
    "cannot open shared object file: no such file or directory: unknown."
)


def test_nvidia_smi_exit_0_with_its_output_not_shown_is_no_missing_driver():
    doc = {"platform": NATIVE, "commands": {"nvidia_smi": cmd(""), "docker_gpu": cmd("", HOOK_NO_NVML, rc=125)}}
    assert "nvidia-driver-missing" not in codes(doc)
    without = {"platform": NATIVE, "commands": {"docker_gpu": cmd("", HOOK_NO_NVML, rc=125)}}
    assert "nvidia-driver-missing" in codes(without)  # the same hook error alone still means it


def test_toolkit_output_with_an_unknown_exit_status_is_judged_by_its_text():
    doc = {
        "commands": {
            "docker_info": cmd(" Server Version: 27.3.1\n Runtimes: io.containerd.runc.v2 runc\n"),
            "docker_hello": cmd("Hello from Docker!\n"),
            "nvidia_ctk_version": cmd("NVIDIA Container Toolkit CLI version 1.17.8\ncommit: abc\n", rc=None),
            "nvidia_container_cli_version": cmd("", "nvidia-container-cli: command not found", rc=127),
        }
    }
    assert "nvidia-toolkit-missing" not in codes(doc)
    assert "nvidia-runtime-not-configured" in codes(doc)


# --- driver-upgrade-pending -----------------------------------------------------------------------------

MODULE = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.90.07  Release Build  (dvs-builder@U16)\n"
LIBS = (
    "lrwxrwxrwx 1 root root 26 Dec  6 06:17 /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1 -> libnvidia-ml.so.{v}\n"
    "-rw-r--r-- 1 root root 1 Dec  6 06:17 /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.{v}\n"
)


def test_libraries_newer_than_the_module_warn_before_anything_fails():
    doc = {
        "platform": NATIVE,
        "files": {"/proc/driver/nvidia/version": MODULE},
        "commands": {"ls_driver_libs": cmd(LIBS.format(v="550.107.02")), "nvidia_smi": cmd(SMI_TABLE)},
    }
    found = finding(doc, "driver-upgrade-pending")
    assert found.severity == "warning" and "550.107.02" in found.title and "550.90.07" in found.title
    assert found.fix[0].startswith("sudo reboot")
    assert "nvml-version-mismatch" not in codes(doc)


def test_same_release_wsl_and_removed_packages_are_no_pending_upgrade():
    same = {
        "files": {"/proc/driver/nvidia/version": MODULE},
        "commands": {"ls_driver_libs": cmd(LIBS.format(v="550.90.07"))},
    }
    assert "driver-upgrade-pending" not in codes(same)
    wsl = {**same, "platform": WSL2, "commands": {"ls_driver_libs": cmd(LIBS.format(v="560.1.1"))}}
    assert "driver-upgrade-pending" not in codes(wsl)
    removed = {
        "files": {"/proc/driver/nvidia/version": MODULE},
        "commands": {
            "dpkg_nvidia": cmd("rc  libnvidia-compute-535:amd64  535.183.01-0ubuntu1  amd64  NVIDIA libcompute\n")
        },
    }
    assert "driver-upgrade-pending" not in codes(removed)


# --- toolkit-vulnerable ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version, named, not_named",
    [
        ("1.16.1", "CVE-2024-0132", None),
        ("1.17.3", "CVE-2025-23359", "CVE-2024-0132"),
        ("1.17.7", "CVE-2025-23266", "CVE-2025-23359"),
    ],
)
def test_a_toolkit_below_a_fix_names_the_cves_it_lacks(version, named, not_named):
    doc = {"commands": {"nvidia_ctk_version": cmd(f"NVIDIA Container Toolkit CLI version {version}\n")}}
    found = finding(doc, "toolkit-vulnerable")
    assert found.severity == "warning" and named in found.title and (not_named is None or not_named not in found.title)
    assert any("nvidia.custhelp.com" in link for link in found.docs)


def test_a_current_toolkit_is_not_vulnerable_and_the_oldest_component_counts():
    current = {"commands": {"nvidia_ctk_version": cmd("NVIDIA Container Toolkit CLI version 1.18.1\n")}}
    assert "toolkit-vulnerable" not in codes(current)
    mixed = {
        "commands": {
            "nvidia_ctk_version": cmd("NVIDIA Container Toolkit CLI version 1.18.1\n"),
            "dpkg_nvidia": cmd("ii  libnvidia-container1:amd64  1.17.5-1  amd64  NVIDIA container runtime library\n"),
        }
    }
    assert "1.17.5" in finding(mixed, "toolkit-vulnerable").title


# --- wsl-toolkit-too-old --------------------------------------------------------------------------------

WSL_SMI = "| NVIDIA-SMI 555.42.03              Driver Version: 555.85         CUDA Version: 12.5     |\n"


def test_wsl_r555_driver_with_an_old_toolkit_is_an_error_before_any_container_runs():
    doc = {
        "platform": WSL2,
        "paths": {"/dev/dxg": True, "/usr/lib/wsl/lib/libcuda.so.1": True},
        "commands": {
            "nvidia_smi": cmd(WSL_SMI),
            "nvidia_ctk_version": cmd("NVIDIA Container Toolkit CLI version 1.14.3\n"),
        },
    }
    found = finding(doc, "wsl-toolkit-too-old")
    assert found.severity == "error" and "1.14.3" in found.title and "555.85" in found.title
    fixed = {
        **doc,
        "commands": {**doc["commands"], "nvidia_ctk_version": cmd("NVIDIA Container Toolkit CLI version 1.14.4\n")},
    }
    assert "wsl-toolkit-too-old" not in codes(fixed)


def test_named_symbol_not_found_on_native_linux_is_not_a_wsl_toolkit_problem():
    doc = {"platform": NATIVE, "commands": {"docker_gpu": cmd("CUDA_ERROR_NOT_FOUND: named symbol not found", rc=1)}}
    assert "wsl-toolkit-too-old" not in codes(doc) and "gpu-container-failed" in codes(doc)


def test_docker_desktop_is_told_to_update_docker_desktop():
    doc = {
        "platform": WSL2,
        "commands": {
            "docker_info": cmd(" Server Version: 26.1.1\n Operating System: Docker Desktop\n"),
            "docker_gpu": cmd("", "failed call to cuInit: CUDA_ERROR_NOT_FOUND: named symbol not found", rc=1),
        },
    }
    assert "Docker Desktop 4.31.0" in " ".join(finding(doc, "wsl-toolkit-too-old").fix)


# --- nvml-unknown-error-risk ----------------------------------------------------------------------------

INFO_SYSTEMD = " Server Version: 28.0.1\n Cgroup Driver: systemd\n Cgroup Version: 2\n"
INFO_SYSTEMD += " Runtimes: io.containerd.runc.v2 nvidia runc\n"
INFO_29_CDI = INFO_SYSTEMD.replace("28.0.1", "29.7.2") + " Discovered Devices:\n  cdi: nvidia.com/gpu=all\n"


def test_an_engine_older_than_28_2_with_cdi_devices_listed_still_runs_gpus_through_the_hook():
    doc = {"platform": NATIVE, "paths": {}, "commands": {"docker_info": cmd(INFO_29_CDI.replace("29.7.2", "28.1.1"))}}
    assert "nvml-unknown-error-risk" in codes(doc)


def test_systemd_cgroups_with_the_legacy_hook_and_no_dev_char_links_are_a_risk():
    doc = {"platform": NATIVE, "paths": {"/dev/char/195:255": False}, "commands": {"docker_info": cmd(INFO_SYSTEMD)}}
    found = finding(doc, "nvml-unknown-error-risk")
    assert found.severity == "warning" and "create-dev-char-symlinks" in " ".join(found.fix)
    assert "/dev/char/195:255" in found.evidence


@pytest.mark.parametrize(
    "change",
    [
        {"paths": {"/dev/char/195:255": True}},
        {"paths": {"/lib/udev/rules.d/71-nvidia-dev-char.rules": True}},
        {"commands": {"docker_info": cmd(INFO_SYSTEMD.replace("systemd", "cgroupfs"))}},
        {"commands": {"docker_info": cmd(INFO_SYSTEMD.replace(" nvidia", ""))}},
        {"platform": WSL2},
        # Docker 28.2+ lists the NVIDIA CDI devices it found and resolves --gpus through them (docker/cli#6078):
        # the devices are in the OCI spec, where runc keeps them across a reload (a 2026 report's docker info)
        {"commands": {"docker_info": cmd(INFO_29_CDI)}},
    ],
)
def test_no_risk_where_links_exist_cgroupfs_runs_no_toolkit_or_wsl(change):
    doc = {"platform": NATIVE, "paths": {}, "commands": {"docker_info": cmd(INFO_SYSTEMD)}}
    doc.update(change)
    assert "nvml-unknown-error-risk" not in codes(doc)


# --- docker-snap, docker-rootless -----------------------------------------------------------------------


def test_docker_from_the_snap_is_an_error_and_a_warning_where_its_gpu_containers_work():
    broken = {"commands": {"which_docker": cmd("/snap/bin/docker\n/snap/bin/docker\n"), "nvidia_ctk_version": cmd("x")}}
    found = finding(broken, "docker-snap")
    assert found.severity == "error" and "nvidia.runtime-hook" in " ".join(found.fix)
    works = {
        "commands": {
            "docker_info": cmd(" Docker Root Dir: /var/snap/docker/common/var-lib-docker\n"),
            "docker_gpu": cmd(SMI_TABLE),
        }
    }
    assert finding(works, "docker-snap").severity == "warning"
    assert "docker-snap" not in codes({"commands": {"which_docker": cmd("/usr/bin/docker\n/usr/bin/docker\n")}})


@pytest.mark.parametrize(
    "doc",
    [
        {
            "commands": {
                "docker_info": cmd(
                    " Server Version: 28.1.1\n Security Options:\n  seccomp\n   Profile: builtin\n"
                    "  rootless\n  cgroupns\n"
                )
            }
        },
        {
            "commands": {
                "docker_info": cmd(
                    '{"ServerVersion":"28.1.1","SecurityOptions":["name=seccomp,profile=builtin","name=rootless"]}'
                )
            }
        },
        {"env": {"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}},
        {
            "commands": {
                "docker_context_ls": cmd(
                    "NAME        DESCRIPTION   DOCKER ENDPOINT\ndefault     Current       unix:///var/run/docker.sock\n"
                    "rootless *  Rootless mode unix:///run/user/1000/docker.sock\n"
                )
            }
        },
    ],
)
def test_rootless_docker_is_read_from_info_socket_and_context(doc):
    found = finding(doc, "docker-rootless")
    assert found.severity == "warning" and "no-cgroups" in " ".join(found.fix)


def test_a_rootful_docker_is_not_rootless():
    doc = {
        "commands": {
            "docker_info": cmd(
                " Server Version: 28.1.1\n Security Options:\n  seccomp\n   Profile: builtin\n  cgroupns\n"
            )
        }
    }
    assert "docker-rootless" not in codes(doc)


# --- docker-group-pending -------------------------------------------------------------------------------

ID_NO_DOCKER = "uid=1000(alice) gid=1000(alice) groups=1000(alice),27(sudo)\n"


def test_a_membership_this_session_lacks_is_pending_with_the_wsl_step():
    doc = {
        "platform": WSL2,
        "env": {"WSL_DISTRO_NAME": "Ubuntu-24.04"},
        "commands": {"id": cmd(ID_NO_DOCKER), "getent_group_docker": cmd("docker:x:998:bob,alice\n")},
    }
    found = finding(doc, "docker-group-pending")
    assert found.severity == "warning" and "wsl --terminate Ubuntu-24.04" in " ".join(found.fix)
    assert "gpudock lab" in " ".join(found.fix)


@pytest.mark.parametrize(
    "ident, members",
    [
        ("uid=1000(alice) gid=1000(alice) groups=1000(alice),998(docker)\n", "docker:x:998:alice\n"),
        (ID_NO_DOCKER, "docker:x:998:bob\n"),
        ("uid=0(root) gid=0(root) groups=0(root)\n", "docker:x:998:root\n"),
    ],
)
def test_no_pending_group_when_the_session_has_it_the_user_is_not_listed_or_is_root(ident, members):
    doc = {"commands": {"id": cmd(ident), "getent_group_docker": cmd(members)}}
    assert "docker-group-pending" not in codes(doc)


def test_names_that_are_not_user_names_never_reach_the_fix():
    doc = {"commands": {"id": cmd(ID_NO_DOCKER), "getent_group_docker": cmd("docker:x:998:$(reboot),alice\n")}}
    found = finding(doc, "docker-group-pending")
    assert "reboot" not in found.evidence + " ".join(found.fix)


# --- apt-sha1-rejected ----------------------------------------------------------------------------------

DEBIAN13 = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n'
SQV = (
    "W: OpenPGP signature verification failed: https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64"
    "  InRelease: Sub-process /usr/bin/sqv returned an error code (1), error message is: Signing key on "
    "EB693B3035CD5710E231E123A4B469963BF863CC is not bound: because: SHA1 is not considered secure since "
    "2026-02-01T00:00:00Z\nE: The repository 'https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64"
    "  InRelease' is not signed.\n"
)


def test_sha1_rejection_names_the_repository_built_for_the_release_not_the_2022_recipe():
    doc = {"platform": NATIVE, "files": {"/etc/os-release": DEBIAN13}, "commands": {"apt_update": cmd("", SQV, rc=100)}}
    found = finding(doc, "apt-sha1-rejected")
    steps = " ".join(found.fix)
    assert "repos/debian13/x86_64/cuda-keyring" in steps and "cannot fix" in steps
    assert "apt-key-missing" not in codes(doc)


def test_a_plain_missing_key_is_still_apt_key_missing():
    doc = {
        "commands": {
            "apt_update": cmd(
                "",
                "W: GPG error: https://nvidia.github.io/libnvidia-container/stable/deb/amd64  InRelease: "
                "NO_PUBKEY DDCAE044F796ECB0\n",
                rc=100,
            )
        }
    }
    assert "apt-key-missing" in codes(doc) and "apt-sha1-rejected" not in codes(doc)


# --- across every recorded case: no failing host is all-clear ----------------------------------------------


def _failing(doc) -> list[str]:
    from gpudock.facts.evidence import CONTAINER_PROBES, container_saw_gpu
    from gpudock.facts.stack import smi_failure

    snap = Snapshot(doc)
    failing = (
        [] if container_saw_gpu(snap) else [n for n in CONTAINER_PROBES if snap.command(n) and snap.command(n).failed]
    )
    return failing + (["nvidia_smi"] if smi_failure(snap) else [])


def test_no_recorded_case_with_a_failing_gpu_container_or_nvidia_smi_is_all_clear():
    import json

    from tests.helpers import CASES

    checked = 0
    for path in sorted(CASES.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if "snapshot" not in doc or not _failing(doc["snapshot"]):
            continue
        checked += 1
        assert any(f.severity == "error" for f in run(doc["snapshot"])), (path.name, _failing(doc["snapshot"]))
    assert checked >= 40
