"""Look at the live host: run the probes of the contract's table (docs/contracts.md) and return a Snapshot.

This is the one module that says what to look at on the host; ``gpudock.probe_run`` runs each command
(a time-out, an argv list, never raising; at most ``MAX_OUTPUT`` characters a stream). Ctrl-C kills
every running probe's process group at once (the doctor ends within 2 s).
Looking changes nothing: ``apt_update`` (``--deep``) reads the repositories into a private
lists folder with apt's update hooks cleared, never into /var/lib/apt.
"""

from __future__ import annotations

import glob
import os
import platform
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from .facts.engine import local_images
from .images import CUDA_IMAGE, HELLO_IMAGE, IMAGES_PROBE, NBODY_IMAGE, OFFICIAL_HELLO_IMAGE
from .probe_run import MAX_OUTPUT, allow_runs, kill_running, read_file, run_command

__all__ = ["MAX_OUTPUT", "Probe", "collect", "kill_running", "probes", "run_command"]
from .snapshot import Snapshot

APT_CONFIG = "@gpudock-apt-config@"  # replaced by a private apt.conf when the apt probe runs
# apt-get update reads the repositories into a private lists folder; no caches, no update hooks
# (stamps, command-not-found, appstream): the host's apt state is left as it was. The private folder is
# not _apt's, so apt would fetch unsandboxed anyway and say so in a warning; saying it here keeps the output clean.
_APT_PRIVATE = """Dir::State::Lists "{lists}";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Sandbox::User "root";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
"""

FILES = (
    "/etc/os-release",
    "/proc/version",
    "/etc/docker/daemon.json",
    "/proc/driver/nvidia/version",
    "/etc/wsl.conf",
    "/etc/nvidia-container-runtime/config.toml",
)
APT_SOURCE_GLOBS = ("/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources")
PATHS = (
    "/dev/dxg",
    "/usr/lib/wsl/lib/libcuda.so.1",
    "/usr/lib/wsl/lib/nvidia-smi",
    "/dev/nvidia0",
    "/dev/nvidiactl",
    "/dev/nvidia-uvm",
    "/var/run/docker.sock",
    "/usr/bin/dockerd",
    "/usr/bin/nvidia-container-runtime-hook",
    "/usr/bin/nvidia-ctk",
    "/run/systemd/system",
    "/proc/sys/fs/binfmt_misc/WSLInterop",
    "/mnt/wsl/docker-desktop/cli-tools",
    "/var/run/cdi/nvidia.yaml",
    "/etc/cdi/nvidia.yaml",
    "/usr/bin/nvidia-smi",  # on WSL: a Linux driver's nvidia-smi (WSL's own is /usr/lib/wsl/lib/nvidia-smi)
    "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1",  # on WSL: a Linux driver's NVML beside WSL's
    "/dev/char/195:255",  # nvidiactl's /dev/char link: without it runc drops GPU access on daemon-reload
    "/lib/udev/rules.d/71-nvidia-dev-char.rules",  # NVIDIA's udev rule that makes those links at boot
)
# `command -v docker` and where it really lives: a snap (/snap/bin/docker) or Docker Desktop's cli-tools.
# A fixed script, no input in it.
WHICH_DOCKER = (
    'p=$(command -v docker) || { echo "docker: command not found" >&2; exit 127; }; echo "$p"; readlink -f "$p"'
)
# the driver's user-space libraries on disk, to compare with the loaded module: fixed folders and patterns,
# at most 40 names (bounded in time by the probe's time-out and in size by the output cap)
DRIVER_LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib")


def ls_driver_libs_script(dirs=DRIVER_LIB_DIRS) -> str:
    """The ``ls_driver_libs`` probe's script over fixed folders (quoted, never input)."""
    folders = " ".join(shlex.quote(d) for d in dirs)
    return (
        f'set -- $(for d in {folders}; do ls -d "$d"/libnvidia-ml.so* "$d"/libcuda.so* 2>/dev/null; done '
        "| head -n 40); "
        '[ $# -gt 0 ] || { echo "no libnvidia-ml.so* or libcuda.so* in the library folders" >&2; exit 2; }; '
        'ls -l -- "$@"'
    )


ENV_KEYS = ("WSL_DISTRO_NAME", "WSL_INTEROP", "DOCKER_HOST", "DOCKER_CONTEXT", "USER", "SUDO_USER", "CI")


@dataclass(frozen=True)
class Probe:
    """One command of the probe table (docs/contracts.md). ``deep`` ones are slow, need the
    network or sudo, and run only when asked for (``collect(deep=True)``)."""

    name: str
    argv: tuple[str, ...]
    timeout: float = 15.0
    deep: bool = False
    image: str | None = None  # the container image it runs, if any (pulled by `docker run` when absent)


# Over 60 lines on purpose: a table, one Probe per row of the contract's probe table (docs/contracts.md).
def probes(
    hello_image: str = OFFICIAL_HELLO_IMAGE, gpu_image: str | None = CUDA_IMAGE, as_root: bool = True
) -> list[Probe]:
    """The probe table; without a local ``gpu_image`` the container GPU probes are left out (never a silent pull)."""
    sudo = () if as_root else ("sudo", "-n")  # -n: fail at once rather than wait for a password
    gpu_run = ("docker", "run", "--rm", "--network", "none")
    gpu_probes = (
        []
        if gpu_image is None
        else [
            Probe("docker_gpu", gpu_run + ("--gpus", "all", gpu_image, "nvidia-smi"), timeout=60, image=gpu_image),
            Probe(
                "docker_gpu_runtime",
                # without NVIDIA_VISIBLE_DEVICES the nvidia runtime acts as runc on an image that does not set it
                gpu_run + ("--runtime=nvidia", "-e", "NVIDIA_VISIBLE_DEVICES=all", gpu_image, "nvidia-smi"),
                timeout=60,
                deep=True,
                image=gpu_image,
            ),
            Probe(
                "docker_gpu_sudo",
                sudo + gpu_run + ("--gpus", "all", gpu_image, "nvidia-smi"),
                timeout=60,
                deep=True,
                image=gpu_image,
            ),
        ]
    )
    return gpu_probes + [
        Probe("docker_version", ("docker", "version")),
        Probe("docker_info", ("docker", "info")),
        Probe("docker_ps", ("docker", "ps")),
        Probe("docker_hello", ("docker", "run", "--rm", hello_image), timeout=60, image=hello_image),
        Probe("nvidia_smi", ("nvidia-smi",)),
        Probe(
            "nvidia_smi_query", ("nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader")
        ),
        Probe(
            "nvidia_smi_compute_cap",
            ("nvidia-smi", "--query-gpu=index,name,compute_cap,driver_version", "--format=csv,noheader"),
        ),
        Probe("nvidia_ctk_version", ("nvidia-ctk", "--version")),
        Probe("nvidia_container_cli_version", ("nvidia-container-cli", "--version")),
        Probe("nvidia_container_cli_info", ("nvidia-container-cli", "info")),
        Probe("docker_info_runtimes", ("docker", "info", "--format", "{{json .Runtimes}}")),
        Probe("docker_context_ls", ("docker", "context", "ls")),
        Probe("ls_cdi", ("ls", "-l", "/etc/cdi", "/var/run/cdi")),
        Probe("lspci", ("lspci", "-d", "10de:")),
        Probe("windows_version", ("cmd.exe", "/c", "ver"), timeout=10),
        Probe("nvidia_container_cli_debug", ("nvidia-container-cli", "-k", "-d", "/dev/stderr", "info")),
        Probe("dpkg_nvidia", ("dpkg", "-l", "*nvidia*")),
        Probe("dpkg_docker", ("dpkg", "-l", "docker*", "containerd*", "podman-docker")),
        Probe("systemctl_docker", ("systemctl", "is-active", "docker")),
        Probe("id", ("id",)),
        Probe("getent_group_docker", ("getent", "group", "docker")),
        Probe("which_docker", ("sh", "-c", WHICH_DOCKER)),
        Probe("ls_driver_libs", ("sh", "-c", ls_driver_libs_script())),
        Probe("ls_docker_sock", ("ls", "-l", "/var/run/docker.sock")),
        Probe(
            "docker_nbody",
            ("docker", "run", "--rm", "--gpus", "all", NBODY_IMAGE, "nbody", "-gpu", "-benchmark"),
            timeout=300,
            deep=True,
            image=NBODY_IMAGE,
        ),
        Probe(
            "nvidia_docker_run", ("nvidia-docker", "run", "--rm", "nvidia/cuda", "nvidia-smi"), timeout=60, deep=True
        ),
        Probe("apt_update", sudo + ("apt-get", "-c", APT_CONFIG, "update"), timeout=180, deep=True),
    ]


# run before the others (their images are chosen from it) and kept: a plan knows which images it may run
IMAGE_LISTING = Probe(IMAGES_PROBE, ("docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"), timeout=10)


def _time_left(timeout: float, deadline: float | None) -> float:
    """A probe's own time-out, cut to what is left of the budget (0 when it is spent)."""
    if deadline is None:
        return timeout
    return max(min(timeout, deadline - time.monotonic()), 0.0)


def _run_probe(p: Probe, env, user, deadline: float | None) -> dict:
    timeout = _time_left(p.timeout, deadline)
    if timeout <= 0:
        return {"rc": None, "stdout": "", "stderr": f"{p.argv[0]}: not run (the time budget was spent)",
                "timed_out": True, "argv": list(p.argv)}  # fmt: skip
    return {**run_command(p.argv, timeout, env, user), "argv": list(p.argv)}


def choose_images(local: set[str]) -> tuple[str, str | None]:
    """Images for the hello and GPU probes, preferring what is already on the host.

    hello: hello-world when present, else gpudock's FROM-scratch hello, else hello-world (the
    deck's own first command, a 13 kB pull; announced, and a failed pull is diagnosed).
    GPU: the CUDA image, else any local small image: Docker refuses `--gpus` before the image's
    command runs, so the toolkit verdict holds offline. None when no image is local: the GPU
    probes are then skipped rather than pulling an image nobody asked for.
    """
    hello = OFFICIAL_HELLO_IMAGE
    if OFFICIAL_HELLO_IMAGE not in local and HELLO_IMAGE in local:
        hello = HELLO_IMAGE
    for candidate in (CUDA_IMAGE, HELLO_IMAGE, OFFICIAL_HELLO_IMAGE):
        if candidate in local:
            return hello, candidate
    return hello, None


def _select(table, wanted, deep, containers, pull, local: set[str] | None, say) -> list[Probe]:
    """The probes to run: asked for (or the quick ones, all with ``deep``), less the container runs not wanted."""
    chosen = [
        p for p in table if (wanted is None and (deep or not p.deep)) or (wanted is not None and p.name in wanted)
    ]
    if not containers:
        return [p for p in chosen if not p.image]
    if not pull:
        return [p for p in chosen if not p.image or (local is not None and p.image in local)]
    if local is not None:  # Docker answered: these images are really missing, and `docker run` will pull them
        for image in sorted({p.image for p in chosen if p.image} - local):
            say(f"probing: {image} is not here; `docker run` pulls it (network)")
    return chosen


# Over 60 lines on purpose: one pass from the images chosen to the Snapshot, each stage a few lines.
def collect(
    names: Iterable[str] | None = None,
    deep: bool = False,
    env: Mapping[str, str] | None = None,
    user: str | int | None = None,
    max_workers: int = 8,
    say: Callable[[str], None] = lambda line: None,
    *,
    containers: bool = True,
    pull: bool = True,
    budget_s: float | None = None,
) -> Snapshot:
    """Probe the live host. ``names`` limits the command probes; ``deep`` adds the slow ones; ``say`` hears of
    an image pull before it happens. ``containers=False``: no container (a plan needs none); ``pull=False``: only
    images already here; ``budget_s``: each command gets at most the time left (``doctor --check``)."""
    deadline = None if budget_s is None else time.monotonic() + budget_s
    as_root = os.geteuid() == 0 and user is None
    wanted = set(names) if names is not None else None
    listing = _run_probe(IMAGE_LISTING, env, user, deadline)
    local = local_images(listing)
    hello, gpu = choose_images(local or set())
    from .cdi.probes import cdi_evidence, cdi_gpu_argv
    from .cdi.snapview import NODE_PROBE

    spec_files, spec_paths, stat_argv = cdi_evidence()
    extra = [Probe(NODE_PROBE, stat_argv, timeout=10)]
    if cdi_gpu_argv(gpu):
        extra.append(Probe("docker_cdi_gpu", cdi_gpu_argv(gpu), timeout=60, image=gpu))
    if containers and pull and gpu is None and (wanted is None or "docker_cdi_gpu" in wanted):
        say("probing: no image is here for the CDI GPU check (docker_cdi_gpu); skipped, nothing is pulled")
    chosen = _select(probes(hello, gpu, as_root) + extra, wanted, deep, containers, pull, local, say)
    private = None
    if any(APT_CONFIG in p.argv for p in chosen):
        private = Path(tempfile.mkdtemp(prefix="gpudock-apt-"))
        (private / "lists" / "partial").mkdir(parents=True)
        (private / "apt.conf").write_text(_APT_PRIVATE.format(lists=private / "lists"))
        chosen = [
            replace(p, argv=tuple(str(private / "apt.conf") if a == APT_CONFIG else a for a in p.argv)) for p in chosen
        ]
    allow_runs()
    pool = ThreadPoolExecutor(max_workers=max_workers)
    try:
        futures = [pool.submit(_run_probe, p, env, user, deadline) for p in chosen]
        results = {p.name: future.result() for p, future in zip(chosen, futures, strict=True)}
    except BaseException:  # Ctrl-C: stop at once, kill what runs, start nothing more
        pool.shutdown(wait=False, cancel_futures=True)
        kill_running()
        raise
    finally:
        pool.shutdown(wait=False)
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
    files = dict(spec_files)
    for path in list(FILES) + sorted(f for pattern in APT_SOURCE_GLOBS for f in glob.glob(pattern)):
        text = read_file(path)
        if text is not False:
            files[path] = text
    uname = platform.uname()
    merged_env = {**os.environ, **(env or {})}
    return Snapshot(
        {
            "platform": {"system": uname.system, "release": uname.release, "machine": uname.machine},
            "env": {k: merged_env[k] for k in ENV_KEYS if k in merged_env},
            "files": files,
            "paths": {**spec_paths, **{p: os.path.exists(p) for p in PATHS}},
            "commands": {**results, **({IMAGES_PROBE: listing} if wanted is None or IMAGES_PROBE in wanted else {})},
        }
    )
