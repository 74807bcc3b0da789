"""Container layer: what a GPU container itself says, and the catch-all for failures no rule explains."""

from __future__ import annotations

import re

from ..facts.cdi import CDI_PROBE, cdi_not_in_use
from ..facts.evidence import (
    CONTAINER_PROBES,
    HOST_SMI_PROBES,
    cite,
    container_saw_gpu,
    find,
    first_error_line,
    probe_names,
    search,
)
from ..facts.host import WSL2
from ..fixes import DOCS, docker_service, windows
from ..images import CUDA_IMAGE
from .docker import OFFLINE
from .registry import Hit, register


def _driver_cuda_version(snap) -> str | None:
    hit = find(snap, r"CUDA Version:\s{0,5}\d{1,3}\.\d{1,3}", HOST_SMI_PROBES + CONTAINER_PROBES)
    return re.search(r"CUDA Version:\s{0,5}(\d{1,3}\.\d{1,3})", hit.text).group(1) if hit else None


def _too_old_fix(snap, host, hit):
    have = hit.data.get("have")
    driver = (
        ["update the NVIDIA driver on Windows, then " + windows("wsl --shutdown")]
        if host.is_wsl
        else ["gpudock plan driver   # a newer driver branch", "sudo reboot"]
    )
    return [
        *driver,
        f"or use an image built for CUDA {have} or older" if have else "or use an image for an older CUDA",
        "do not set NVIDIA_DISABLE_REQUIRE: the program would fail later",
    ]


@register(
    "cuda-driver-too-old",
    severity="error",
    layer="container",
    order=10,
    title="The image needs a newer CUDA than the driver supports",
    fix=_too_old_fix,
    docs=[DOCS["cuda_compat"]],
)
def cuda_driver_too_old(snap, host):
    hit = find(snap, r"unsatisfied condition: cuda\s{0,5}>=\s{0,5}\d{1,3}(\.\d{1,3}){0,2}")
    if not hit:
        return None
    wanted = re.search(r"cuda\s{0,5}>=\s{0,5}(\d{1,3}(\.\d{1,3}){0,2})", hit.text).group(1)
    have = _driver_cuda_version(snap)
    title = f"The image needs CUDA {wanted}, newer than the driver supports" + (f" ({have})" if have else "")
    return Hit(cite(hit), {"have": have}, title=title)


@register(
    "wsl-lib-file-exists",
    severity="error",
    layer="container",
    order=20,
    title="The toolkit cannot mount the WSL driver libraries: the image already has them",
    fix=[
        "use an image that does not ship libnvidia-ml.so.1 / libcuda.so.1 (the official nvidia/cuda images do not)",
        "if you built it: do not copy driver libraries into it (let the toolkit inject them)",
        "remove Linux driver packages from the distro (`dpkg -l "
        "'*nvidia*'`), then `gpudock plan toolkit` for a current toolkit",
    ],
    docs=[DOCS["toolkit_troubleshooting"], DOCS["wsl_cuda"]],
)
def wsl_lib_file_exists(snap, host):
    hit = find(snap, r"file creation failed: \S{1,300}lib(nvidia|cuda)\S{0,100}\.so[.\d]{0,20}: file exists")
    return Hit(cite(hit)) if hit else None


_NVML_UNKNOWN = r"Failed to initialize NVML: Unknown Error"


def _fresh_fix(snap, host, hit):
    steps = ["this is a fresh container: the runtime did not give it the GPU's cgroup device access"]
    config = snap.file("/etc/nvidia-container-runtime/config.toml") or ""
    if re.search(r"^\s{0,10}no-cgroups\s{0,5}=\s{0,5}true", config[:100_000], re.M):
        steps.append(
            "sudo nvidia-ctk config --set nvidia-container-cli.no-cgroups=false "
            "--in-place   # true is only for rootless Docker"
        )
    return steps + [
        "gpudock plan toolkit   # a current toolkit supports cgroup v2",
        *docker_service(host, "restart"),
    ]


@register(
    "nvml-unknown-error",
    severity="error",
    layer="container",
    order=30,
    title="NVML: Unknown Error inside a fresh container (no GPU device access)",
    fix=_fresh_fix,
    docs=[DOCS["toolkit_troubleshooting"]],
)
def nvml_unknown_fresh(snap, host):
    """A container started just now already lacks device access (runtime/cgroup configuration)."""
    hit = find(snap, _NVML_UNKNOWN, CONTAINER_PROBES)
    return Hit(cite(hit)) if hit else None


@register(
    "nvml-unknown-error",
    severity="error",
    layer="container",
    order=31,
    title="NVML: Unknown Error inside a running container (GPU device access lost)",
    fix=[
        "a container that worked lost the GPU after `systemctl daemon-reload` (systemd cgroup driver): recreate it",
        "to prevent it: use CDI (`sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`, "
        "`--device nvidia.com/gpu=all`, Docker Engine 25 or newer) "
        'or set "exec-opts": ["native.cgroupdriver=cgroupfs"] in /etc/docker/daemon.json',
        "a fresh container failing the same way: check no-cgroups in "
        "/etc/nvidia-container-runtime/config.toml and update the toolkit",
    ],
    docs=[DOCS["toolkit_troubleshooting"], DOCS["toolkit_cdi"]],
)
def nvml_unknown_reloaded(snap, host):
    """Outside gpudock's own container probes (``docker exec`` into a long-running one)."""
    if find(snap, _NVML_UNKNOWN, CONTAINER_PROBES):
        return None
    others = [n for n in probe_names(snap) if n not in CONTAINER_PROBES]
    hit = find(snap, _NVML_UNKNOWN, others)
    return Hit(cite(hit)) if hit else None


@register(
    "cuda-no-device",
    severity="error",
    layer="container",
    order=40,
    title="The container starts but CUDA sees no GPU",
    fix=lambda snap, host, hit: [
        "run the container with `--gpus all` (or `--runtime=nvidia`, or `--device nvidia.com/gpu=all` with CDI)",
        "do not set NVIDIA_VISIBLE_DEVICES=void/none or NVIDIA_DISABLE_REQUIRE",
        *(
            [
                "on WSL 2 check /dev/dxg and /usr/lib/wsl/lib inside the "
                "container; update the Windows driver and `wsl --update`"
            ]
            if host.kind == WSL2
            else []
        ),
    ],
    docs=[DOCS["toolkit_troubleshooting"]],
)
def cuda_no_device(snap, host):
    hit = find(
        snap,
        r"only 0 Devices available|CUDA_ERROR_NO_DEVICE|no CUDA-capable device is detected|cudaErrorNoDevice|"
        r"no devices supporting CUDA",
    )
    return Hit(cite(hit)) if hit else None


_PULL_FAILED = r"Unable to find image|error pulling image|pull access denied|failed to resolve reference"
_FAILURE_WORDS = r"error|failed|not found|couldn't|could not|cannot|unable|denied|invalid"
SUDO_PROMPT = r"sudo: a password is required|sudo: a terminal is required|sudo: no tty present"
NEXT_STEPS = [
    "sudo nvidia-container-cli -k -d /dev/tty info   # the toolkit's own view of the driver and the GPU",
    'turn on the toolkit\'s debug log: uncomment `debug = "/var/log/nvidia-container-toolkit.log"` and '
    '`debug = "/var/log/nvidia-container-runtime.log"` in /etc/nvidia-container-runtime/config.toml, '
    "run the container again and read both logs",
    "gpudock doctor --save-snapshot host.json   # share the snapshot (not a screenshot) when you ask for help",
]


def _failed_fix(snap, host, hit):
    if hit.data.get("offline"):
        return [
            "run the check with an image that is already here: `docker image ls`, then "
            "`docker run --rm --gpus all IMAGE nvidia-smi` (the toolkit injects nvidia-smi)",
            *NEXT_STEPS[2:],
        ]
    if hit.data.get("sudo"):
        return [
            "sudo asked for a password: run `sudo -v` first, then `gpudock doctor --deep` again",
            *NEXT_STEPS[2:],
        ]
    if hit.data.get("timed_out"):
        return [
            "the GPU container did not finish in time: run it by hand and watch where it stops "
            f"(`docker run --rm --gpus all {CUDA_IMAGE} nvidia-smi`)",
            *NEXT_STEPS,
        ]
    return list(NEXT_STEPS)


# errors about the engine itself that explain any GPU container's failure on it (the snap's daemon does
# not read the toolkit's configuration)
ENGINE_CAUSES = ("docker-snap",)
# an info note that cites the probe where the host's GPU containers work another way: on a CDI host, "--gpus needs
# the toolkit" (gpudock.diagnose.cdi) is why docker_gpu fails, and the host is healthy (issue 21, point 3)
NOTES_THAT_EXPLAIN = ("nvidia-toolkit-missing",)


def _explained(result, findings) -> bool:
    """Another error already names this probe's failure: it cites the probe, or its line is in the probe's text.

    Only an error explains it: a failing GPU container is never left to a warning (the host would be all-clear).
    """
    for finding in findings:
        if finding.code == "doctor-rule-error":
            continue
        if finding.severity != "error" and not (finding.severity == "info" and finding.code in NOTES_THAT_EXPLAIN):
            continue
            continue
        if finding.code in ENGINE_CAUSES:
            return True
        if finding.evidence.startswith(f"{result.name}:"):
            return True
        cited = finding.evidence.split(": ", 1)[1] if ": " in finding.evidence else ""
        if len(cited) >= 12 and cited in result.text:
            return True
    return False


@register(
    "gpu-container-failed",
    severity="error",
    layer="container",
    order=50,
    title="A GPU container failed with an error gpudock does not recognise",
    fix=_failed_fix,
    docs=[DOCS["toolkit_troubleshooting"]],
    follow_up=True,
)
def gpu_container_failed(snap, host, findings):
    """The catch-all: never an all-clear while a GPU container fails (a CDI one too, where CDI is on)."""
    for name in (*CONTAINER_PROBES, CDI_PROBE):
        result = snap.command(name)
        if not result or container_saw_gpu(snap, [name]) or (name == CDI_PROBE and cdi_not_in_use(result)):
            continue
        if not (result.failed or (result.rc in (0, None) and search(_FAILURE_WORDS, result.text))):
            continue
        if _explained(result, findings):
            continue
        line = first_error_line(result)
        if search(SUDO_PROMPT, result.text):
            return Hit(
                f"{name}: {line[:300]}",
                {"sudo": True},
                severity="warning",
                title="The sudo GPU container probe stopped at a password prompt",
            )
        if search(_PULL_FAILED, result.text) and search(OFFLINE, result.text):
            return Hit(
                f"{name}: {line[:300]}",
                {"offline": True},
                severity="warning",
                title="The GPU container's image could not be pulled (no registry): the GPU was not tested",
            )
        if result.timed_out:
            return Hit(
                f"{name}: {line[:300]}",
                {"timed_out": True},
                severity="warning",
                title="A GPU container probe did not finish in time",
            )
        return Hit(f"{name}: {line[:300]}")
    return None


@register("gpu-ok", severity="ok", layer="container", order=90, title="A container sees the GPU")
def gpu_ok(snap, host):
    hit = container_saw_gpu(snap, (*CONTAINER_PROBES, "docker_cdi_gpu"))
    return Hit(cite(hit)) if hit else None
