"""Plan: the NVIDIA Container Toolkit, wired into Docker.

Official steps (install guide, "With apt: Ubuntu, Debian"):
https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html
— NVIDIA's key dearmored into /usr/share/keyrings, one `stable/deb` list with signed-by,
`nvidia-container-toolkit`, `nvidia-ctk runtime configure --runtime=docker`, daemon restart.
CDI: https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/cdi-support.html
"""

from __future__ import annotations

import re
from dataclasses import replace

from .. import fixes
from ..exceptions import PlanRefused
from ..facts.engine import session_groups
from ..facts.evidence import engine_version, version_tuple
from ..facts.host import WSL2, HostInfo
from ..images import CUDA_IMAGE
from ..snapshot import Snapshot
from . import distro
from .docker import daemon_steps
from .plan import (
    Check,
    Plan,
    RootFile,
    Step,
    Work,
    apt_get,
    command_exists,
    dpkg_installed,
    file_contains,
    file_exists,
    key_fingerprint,
    runtime_registered,
    writes,
)

DOCS = fixes.DOCS["docker_desktop_gpu"]
DOCS_INSTALL = fixes.DOCS["toolkit_install"]
DOCS_CDI = fixes.DOCS["toolkit_cdi"]
CDI_SPEC = "/etc/cdi/nvidia.yaml"  # survives reboots; /var/run/cdi is cleared at boot
CDI_MIN_ENGINE = (25,)  # Docker Engine: CDI opt-in from 25, on by default from 28.2
KEY_URL = "https://nvidia.github.io/libnvidia-container/gpgkey"
# The key behind KEY_URL, "NVIDIA CORPORATION (Open Source Projects) <cudatools@nvidia.com>" (apt reports it as
# NO_PUBKEY DDCAE044F796ECB0 when missing), as NVIDIA's repository serves it and its maintainers quote it:
# https://github.com/NVIDIA/nvidia-container-toolkit/issues/650, https://github.com/NVIDIA/libnvidia-container/issues/280
TOOLKIT_KEY_FINGERPRINT = "C95B321B61E88C1809C4F759DDCAE044F796ECB0"
KEYRING = fixes.TOOLKIT_KEYRING
LIST = "/etc/apt/sources.list.d/nvidia-container-toolkit.list"
LIST_LINE = f"deb [signed-by={KEYRING}] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /"
PACKAGES = (
    "nvidia-container-toolkit",
    "nvidia-container-toolkit-base",
    "libnvidia-container-tools",
    "libnvidia-container1",
)
# Every list of the old repositories: nvidia-docker, nvidia-container-runtime and libnvidia-container
# (the 2020 WSL instructions' libnvidia-container-experimental.list included); today's is nvidia-container-toolkit.list.
LEGACY_LIST_PATTERNS = fixes.LEGACY_LIST_PATTERNS
_FIND_LEGACY = (
    "find", "/etc/apt/sources.list.d", "-maxdepth", "1", "-type", "f",
    "(", "-name", LEGACY_LIST_PATTERNS[0], "-o", "-name", LEGACY_LIST_PATTERNS[1],
    "-o", "-name", LEGACY_LIST_PATTERNS[2], ")", "-print",
)  # fmt: skip
RUNTIME_REGISTERED = runtime_registered(
    "/etc/docker/daemon.json", "nvidia", what="daemon.json names the nvidia runtime"
)
# with --cdi, configured means daemon.json also turns CDI on (nvidia-ctk writes "features": {"cdi": true})
CDI_CONFIGURED = file_contains("/etc/docker/daemon.json", r'"cdi": *true', what="daemon.json turns CDI on")
CDI_ENABLED = Check(
    ("docker", "info", "--format", "{{json .CDISpecDirs}}"),
    r"cdi",
    root=True,
    what="Docker already reads CDI specs",
)
GPU_CONTAINER = Check(
    ("docker", "run", "--rm", "--gpus", "all", CUDA_IMAGE, "nvidia-smi"), what="a container sees the GPU"
)


def gpu_check(snap: Snapshot, host: HostInfo) -> tuple[Check, list[str]]:
    """The plan's final check, and a note where it must use sudo (the docker-group trap).

    A login session keeps the groups it started with: right after `usermod -aG docker` (the Docker plan's
    step), plain `docker` still gets "permission denied" until the user logs in again. So the check runs as
    the user only where `id` shows this session in the docker group (or as root); else with sudo, and the
    plan says how to get the group (Docker's post-install page).
    """
    groups = session_groups(snap)
    if host.is_root or groups is None or "docker" in groups:
        return GPU_CONTAINER, []
    distro_name = host.wsl_distro if host.wsl_distro and re.fullmatch(r"[\w.-]{1,64}", host.wsl_distro) else "<distro>"
    again = (
        f"close the distro's windows and run `wsl --terminate {distro_name}` in Windows, then open it again"
        if host.kind == WSL2
        else "log out and log in again"
    )
    note = (
        "The final check runs with sudo: this login session is not in the docker group yet (the group takes "
        f"effect at the next login). To use docker without sudo, {again}; restart `gpudock lab` (and Jupyter) "
        "afterwards."
    )
    return replace(GPU_CONTAINER, root=True), [note]


def cdi_refusal(snap: Snapshot) -> str | None:
    """Why CDI cannot work with the engine this snapshot shows (None when it can, or nothing is known)."""
    version = version_tuple(engine_version(snap))
    if version is None or version >= CDI_MIN_ENGINE:
        return None
    shown = ".".join(str(p) for p in version)
    return (
        f"--cdi needs Docker Engine 25 or newer (CDI is opt-in from 25, on by default from 28.2); this host runs "
        f"{shown}. Replace it with Docker's own engine first: `sudo apt-get remove docker.io` (images and "
        f"containers stay in /var/lib/docker), then `gpudock install docker --source docker-ce --apply`; then plan "
        f"the toolkit with --cdi again; see {fixes.DOCS['dockerd_cdi']}"
    )


def plan_toolkit(
    snap: Snapshot, host: HostInfo, version: str | None = None, cdi: bool = False, driver_pending: bool = False
) -> Plan:
    """The toolkit plan; ``driver_pending``: a driver is installed earlier in the same plan (CDI waits for it).

    Legacy lists removed, NVIDIA's repository added with its key checked, the toolkit installed and registered
    with Docker, Docker restarted, and for ``cdi`` the CDI spec.
    """
    distro.require_debian_family(host, "the NVIDIA Container Toolkit", DOCS_INSTALL)
    if host.docker_desktop:
        raise PlanRefused(
            "Docker Desktop's engine serves this distro and brings its own GPU support: skip the toolkit "
            f"here (installing it in the distro does not reach Docker Desktop's engine); see {DOCS}"
        )
    if cdi and cdi_refusal(snap):
        raise PlanRefused(cdi_refusal(snap))
    cdi_steps, notes_cdi = _cdi_steps(snap, host, driver_pending) if cdi else ([], [])
    steps = [
        # an old list for the same repository breaks apt: "Conflicting values set for option Signed-By"
        Step(
            "remove every legacy nvidia-docker / nvidia-container-runtime / libnvidia-container*.list",
            (*_FIND_LEGACY, "-delete"),
            check=Check(_FIND_LEGACY, r".", negate=True, what="no legacy list is left"),
            docs=DOCS_INSTALL,
        ),
        *_repository_steps(),
        *_install_steps(version, cdi),
        *_restart_steps(host, cdi),
        *cdi_steps,
    ]
    eol = distro.end_of_life(host)
    notes_eol = [eol] if eol else []
    notes = [
        "Docker registers --gpus only if nvidia-container-runtime-hook "
        "was on PATH when dockerd started: hence the restart."
    ]
    if host.kind == WSL2:
        notes.append("WSL 2: the toolkit finds the Windows driver through /usr/lib/wsl/lib; install no Linux driver.")
    check, notes_group = gpu_check(snap, host)
    return Plan(
        "toolkit", distro.describe(host), steps, verify=[check], notes=notes_eol + notes + notes_cdi + notes_group
    )


def _repository_steps() -> list[Step]:
    """NVIDIA's repository: its key downloaded and checked in a private folder, then installed, then the list."""
    download, dearmored = Work("nvidia-container-toolkit.gpgkey"), Work("nvidia-container-toolkit-keyring.gpg")
    key_ok = key_fingerprint(KEYRING, TOOLKIT_KEY_FINGERPRINT, what=f"{KEYRING} holds NVIDIA's repository key")
    return [
        Step(
            "install the prerequisites",
            apt_get("install", "-y", "--no-install-recommends", "ca-certificates", "curl", "gnupg2"),
            check=command_exists("curl", "gpg"),
            docs=DOCS_INSTALL,
        ),
        Step(
            "download NVIDIA's repository key (https) into a private folder and check its fingerprint",
            ("curl", "-fsSL", "--proto", "=https", "-o", download, KEY_URL),
            root=False,
            check=key_ok,
            verify=key_fingerprint(download, TOOLKIT_KEY_FINGERPRINT, what="the download is NVIDIA's repository key"),
            docs=DOCS_INSTALL,
        ),
        Step(
            "dearmor it into a keyring file (still in the private folder)",
            ("gpg", "--batch", "--yes", "--dearmor", "-o", dearmored, download),
            root=False,
            check=key_ok,
            docs=DOCS_INSTALL,
        ),
        writes(
            "install the verified keyring where apt looks",
            RootFile(KEYRING, source=dearmored, mode="0644"),
            check=key_ok,
            docs=DOCS_INSTALL,
        ),
        writes(
            "add the toolkit repository, signed-by that keyring",
            RootFile(LIST, content=LIST_LINE + "\n"),
            docs=DOCS_INSTALL,
        ),
    ]


def _install_steps(version: str | None, cdi: bool) -> list[Step]:
    """The toolkit's packages (pinned to ``version`` where given), then the nvidia runtime in daemon.json."""
    installed = dpkg_installed("nvidia-container-toolkit")
    pins = tuple(f"{p}={version}" for p in PACKAGES) if version else ("nvidia-container-toolkit",)
    return [
        Step("refresh the package lists", apt_get("update"), check=installed),
        Step(
            "install nvidia-container-toolkit" + (f" {version}" if version else ""),
            apt_get("install", "-y", *pins),
            check=installed,
            verify=installed,
            docs=DOCS_INSTALL,
        ),
        Step(
            "register the nvidia runtime with Docker" + (" and turn on CDI (features.cdi)" if cdi else ""),
            ("nvidia-ctk", "runtime", "configure", "--runtime=docker", *(("--cdi.enabled",) if cdi else ())),
            check=CDI_CONFIGURED if cdi else RUNTIME_REGISTERED,
            verify=RUNTIME_REGISTERED,
            docs=DOCS_INSTALL,
        ),
    ]


def _restart_steps(host: HostInfo, cdi: bool) -> list[Step]:
    """Docker restarted so that it finds the runtime hook; skipped once it lists the runtime (and CDI)."""
    restart = daemon_steps(host, "restart")
    runtime_known = Check(
        ("docker", "info", "--format", "{{json .Runtimes}}"),
        r'"nvidia"',
        root=True,
        what="Docker already lists the nvidia runtime",
    )
    if cdi:  # a host set up before --cdi still needs features.cdi written and the daemon restarted once
        runtime_known = CDI_ENABLED
    # every stop (and systemd's restart) is skipped once Docker lists the runtime; the start keeps its own check
    stops = max(1, len(restart) - 1)
    return [_with_check(step, runtime_known) if i < stops else step for i, step in enumerate(restart)]


def _cdi_steps(snap: Snapshot, host: HostInfo, driver_pending: bool) -> tuple[list[Step], list[str]]:
    """The CDI spec: refreshed by systemd's nvidia-cdi-refresh, generated after the reboot, or generated now."""
    generate = ("nvidia-ctk", "cdi", "generate", f"--output={CDI_SPEC}")
    steps: list[Step] = []
    notes: list[str] = []
    if host.systemd:
        notes.append(
            "CDI: with toolkit 1.18 or newer and systemd, nvidia-cdi-refresh writes /var/run/cdi/nvidia.yaml at "
            "install, on driver changes and at boot; gpudock writes no spec of its own (two specs would clash). "
            "Check with `nvidia-ctk cdi list`."
        )
    elif driver_pending:
        steps.append(
            Step(
                "after the reboot (the spec needs the loaded driver): generate the CDI spec",
                generate,
                manual=True,
                check=file_exists(CDI_SPEC),
                docs=DOCS_CDI,
            )
        )
    else:
        steps.append(
            Step(
                f"generate a CDI spec in {CDI_SPEC} (kept across reboots; no systemd here to refresh it)",
                generate,
                check=Check(
                    ("systemctl", "is-enabled", "--quiet", "nvidia-cdi-refresh.path"),
                    what="nvidia-cdi-refresh keeps the spec",
                ),
                verify=file_exists(CDI_SPEC),
                docs=DOCS_CDI,
            )
        )
        notes.append(
            f"CDI: regenerate {CDI_SPEC} after every driver update (`sudo {' '.join(generate)}`); "
            "use it with `docker run --device nvidia.com/gpu=all …`."
        )
    if version_tuple(engine_version(snap)) is None:
        notes.append("CDI needs Docker Engine 25 or newer (on by default from 28.2); `docker version` shows it.")
    return steps, notes


def _with_check(step: Step, check: Check) -> Step:
    return replace(step, check=check)
