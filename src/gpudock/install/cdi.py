"""Plan: GPU containers through CDI, with no NVIDIA Container Toolkit and no NVIDIA repository.

1. The spec from the loaded driver (``gpudock cdi generate``) into ``/etc/cdi/nvidia.yaml``, shown in full and
   written atomically (``/etc/cdi`` survives reboots; ``/var/run/cdi`` is cleared at boot). Where the
   toolkit's ``nvidia-cdi-refresh`` keeps ``/var/run/cdi/nvidia.yaml``, gpudock writes none (two specs would
   clash) and leaves that one alone.
2. Docker 25 to 28.1: ``"features": {"cdi": true}`` merged into ``/etc/docker/daemon.json`` (a backup first;
   other keys and comments kept; invalid JSON refused untouched), then dockerd restarted the way gpudock
   restarts it (``install.docker.daemon_steps``). From 28.2 CDI is on by default. Podman reads the spec as is.
3. Verified with ``docker run --device nvidia.com/gpu=all`` on an image already here (never pulled).

Docker older than 25 is refused with the reason, and with the flags nvidia-docker 1.0 put on the command line
for the same devices and files: what CDI automates. Sources: https://docs.docker.com/reference/cli/dockerd/#configure-cdi-devices,
https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/cdi-support.html.
"""

from __future__ import annotations

import shlex

from .. import fixes
from ..cdi.spec import InvalidSpec, load
from ..exceptions import PlanRefused
from ..facts.cdi import cdi_feature, engine, podman, spec_unseen
from ..facts.engine import local_images
from ..facts.evidence import find
from ..facts.host import HostInfo
from ..images import CUDA_IMAGE, HELLO_IMAGE, IMAGES_PROBE
from ..snapshot import Snapshot
from . import distro
from .daemonjson import DaemonJsonError, with_cdi
from .docker import daemon_steps
from .plan import Check, Plan, RootFile, Step, Work, file_contains, writes

SPEC = "/etc/cdi/nvidia.yaml"
TOOLKIT_SPEC = "/var/run/cdi/nvidia.yaml"
DAEMON_JSON = "/etc/docker/daemon.json"
BACKUP = "/etc/docker/daemon.json.before-gpudock-cdi"
DOCS = fixes.DOCS["dockerd_cdi"]
DOCS_CDI = fixes.DOCS["toolkit_cdi"]
CDI_ON = r'"cdi"[[:space:]]*:[[:space:]]*true'
_CDI_OFF_TEXT = r"could not select device driver \"cdi\" with capabilities: \[\]"


def _verify_image(snap: Snapshot) -> tuple[str, bool]:
    """The image to prove the GPU with, and whether it is known to be here (then never pulled).

    First the image a container probe of this host already ran; else one of the probe's image listing (a
    plan's probe runs no container, so that listing is what it knows); else the CUDA image, pulled if missing."""
    commands = snap.data.get("commands") or {}
    argvs = [(commands.get(name) or {}).get("argv") or [] for name in ("docker_cdi_gpu", "docker_gpu", "docker_hello")]
    ran = [image for argv in argvs for image in (CUDA_IMAGE, HELLO_IMAGE) if image in argv]
    here = local_images(commands.get(IMAGES_PROBE)) or set()
    found = next(iter(ran), None) or next((i for i in (CUDA_IMAGE, HELLO_IMAGE) if i in here), None)
    return found or CUDA_IMAGE, found is not None


def verification(snap: Snapshot, host: HostInfo, engine_name: str = "docker") -> Check:
    image, here = _verify_image(snap)
    # nvidia-smi in the CUDA image; busybox ls in the hello image: the node of this kind of host (dxg on WSL 2)
    command = (
        ("nvidia-smi", "-L")
        if image == CUDA_IMAGE
        else ("/bin/busybox", "ls", "/dev/dxg" if host.is_wsl else "/dev/nvidiactl")
    )
    pull = ("--pull", "never") if here else ()  # not known to be here: `docker run` pulls it, as it says
    argv = (engine_name, "run", "--rm", *pull, "--network", "none", "--device", "nvidia.com/gpu=all")
    return Check((*argv, image, *command), root=True, what="a container gets the GPU through CDI")


def nvidia_docker1_flags(spec_text: str | None) -> str:
    """The `docker run` flags nvidia-docker 1.0 used for these devices and files: what a CDI spec automates."""
    if not spec_text:
        return "--device /dev/nvidia0 --device /dev/nvidiactl --device /dev/nvidia-uvm -v <each driver library>:ro"
    try:
        spec = load(spec_text, SPEC)
    except InvalidSpec:
        return ""
    flags: list[str] = []
    ordered = [spec.devices.get("all", spec.common), spec.common, *spec.devices.values()]  # the GPUs first
    for edits in ordered:
        flags += [f"--device {shlex.quote(node.host_path)}" for node in edits.nodes]
    for _owner, edits in spec.edits():
        flags += [f"-v {shlex.quote(f'{m.host_path}:{m.container_path}:ro')}" for m in edits.mounts]
    return " ".join(dict.fromkeys(flags))


def _refuse_old(version: tuple[int, ...], spec_text: str | None) -> PlanRefused:
    shown = ".".join(map(str, version))
    return PlanRefused(
        f"CDI needs Docker Engine 25 or newer (opt-in from 25 with features.cdi, on by default from 28.2); this host "
        f"runs {shown}. Docker's own engine: `gpudock plan docker --source docker-ce`, then `gpudock install cdi` "
        f"again. What CDI automates, by hand as nvidia-docker 1.0 did: docker run "
        f"{nvidia_docker1_flags(spec_text)} IMAGE; see {DOCS}"
    )


def _spec_steps(spec_text: str | None) -> list[Step]:
    folder = Step(
        "create /etc/cdi (where engines read static specs)",
        ("mkdir", "-p", "-m", "0755", "/etc/cdi"),
        check=Check(("test", "-d", "/etc/cdi"), what="/etc/cdi exists"),
        docs=DOCS,
    )
    return [folder, *_spec_write(spec_text)]


def _spec_write(spec_text: str | None) -> list[Step]:
    if spec_text is not None:
        return [
            writes(
                f"write the CDI spec {SPEC} (from the loaded driver; kept across reboots)",
                RootFile(SPEC, content=spec_text),
                docs=DOCS_CDI,
            )
        ]
    generated = Work("nvidia.yaml")
    return [
        Step(
            "generate the CDI spec from the loaded driver (into the private work folder)",
            ("gpudock", "cdi", "generate", "--output", generated),
            root=False,
            docs=DOCS_CDI,
        ),
        writes(f"install it as {SPEC} (kept across reboots)", RootFile(SPEC, source=generated), docs=DOCS_CDI),
    ]


def _daemon_steps(snap: Snapshot, host: HostInfo) -> list[Step]:
    text = snap.file(DAEMON_JSON)
    if text and "[... gpudock:" in text:
        raise PlanRefused(f'{DAEMON_JSON} is larger than gpudock reads whole; add "features": {{"cdi": true}} by hand')
    try:
        merged = with_cdi(text or None)
    except DaemonJsonError as err:
        raise PlanRefused(
            f"{DAEMON_JSON} {err}: fix it first (dockerd cannot read it either); gpudock changed nothing"
        ) from None
    steps: list[Step] = []
    cdi_on = file_contains(DAEMON_JSON, CDI_ON, what="daemon.json already turns CDI on")
    if merged is not None:
        if text:
            steps.append(
                Step(
                    f"back up {DAEMON_JSON} to {BACKUP} (the first backup is kept)",
                    ("cp", "-p", "--", DAEMON_JSON, BACKUP),
                    check=Check(("test", "-e", BACKUP), what=f"{BACKUP} exists (the first backup is kept)"),
                    docs=DOCS,
                )
            )
        steps.append(
            writes(
                f'turn CDI on: "features": {{"cdi": true}} in {DAEMON_JSON} (other keys kept)',
                RootFile(DAEMON_JSON, content=merged),
                check=cdi_on,
                docs=DOCS,
            )
        )
    off_now = find(snap, _CDI_OFF_TEXT, ["docker_cdi_gpu"])
    # the running dockerd must read it: a new daemon.json, CDI still off, or a spec it stopped reading
    if merged is not None or (cdi_feature(snap) and off_now) or spec_unseen(snap, host):
        steps += daemon_steps(host, "restart")
    return steps


def plan_cdi(snap: Snapshot, host: HostInfo, spec_text: str | None = None) -> Plan:
    """The CDI plan; ``spec_text``: the spec generated from this host now (None: generated when applied)."""
    if host.docker_desktop:
        raise PlanRefused(
            "Docker Desktop's engine serves this distro and brings its own GPU support; a spec here does not reach it "
            f"(see {fixes.DOCS['docker_desktop_gpu']})"
        )
    version = engine(snap)
    uses_podman = podman(snap)
    if version is None and not uses_podman:
        raise PlanRefused(
            "no Docker Engine answers here: `gpudock install docker --apply` first (CDI needs Engine 25 or newer)"
        )
    if version is not None and version < (25,) and not uses_podman:
        raise _refuse_old(version, spec_text)
    notes = [
        "No NVIDIA Container Toolkit and no NVIDIA repository: the spec is written from the loaded driver "
        "(/proc/driver/nvidia, /dev/nvidia*, its libraries). Write it again after every driver update "
        "(`sudo gpudock install cdi --apply`); `gpudock cdi check` says when it is stale."
    ]
    toolkit_spec = snap.file(TOOLKIT_SPEC) or ""
    if "nvidia-cdi-hook" in toolkit_spec and host.systemd:
        steps: list[Step] = []
        notes.append(
            f"The toolkit's nvidia-cdi-refresh keeps {TOOLKIT_SPEC}: gpudock writes no spec of its own (two specs "
            "of one kind would clash) and leaves it alone; `gpudock cdi check` checks it."
        )
    else:
        steps = _spec_steps(spec_text)
        if spec_text is None:
            notes.append(
                "Planned from a snapshot: the spec is generated on the host when the plan runs, by `gpudock cdi "
                "generate` (gpudock must be installed there)."
            )
    if uses_podman:
        notes.append("Podman reads /etc/cdi by itself: `podman run --device nvidia.com/gpu=all …`; nothing to restart.")
        return Plan("cdi", distro.describe(host), steps, verify=[verification(snap, host, "podman")], notes=notes)
    if version >= (28, 2) and cdi_feature(snap) is not False:
        notes.append(
            "Docker 28.2 or newer reads CDI specs by default (and resolves --gpus through them): no daemon.json change."
        )
    else:
        steps += _daemon_steps(snap, host)
    notes.append("Use it with `docker run --device nvidia.com/gpu=all …` (or nvidia.com/gpu=0, a GPU's UUID).")
    return Plan("cdi", distro.describe(host), steps, verify=[verification(snap, host)], notes=notes)
