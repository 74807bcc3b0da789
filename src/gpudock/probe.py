"""Look at the live host: run the probes of the contract's table (docs/contracts.md) and return a Snapshot.

This is the one module that touches the host to *look*. Every command has a
time-out, runs as an argv list, and never raises: a missing command is rc 127,
a hung one is recorded with ``timed_out``, undecodable bytes are replaced, and each
stream keeps at most ``MAX_OUTPUT`` characters (head and tail, marked as cut).
Ctrl-C kills every running probe's process group at once (the doctor ends within 2 s).
Looking changes nothing: ``apt_update`` (``--deep``) reads the repositories into a private
lists folder with apt's update hooks cleared, never into /var/lib/apt.
"""

from __future__ import annotations

import glob
import os
import platform
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from .images import CUDA_IMAGE, HELLO_IMAGE, NBODY_IMAGE, OFFICIAL_HELLO_IMAGE
from .snapshot import MAX_TEXT, NOT_FOUND, Snapshot, cap_text

MAX_OUTPUT = MAX_TEXT  # characters kept per stream, head and tail; nvidia-smi -q on 8 GPUs is ~60k
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
_RUNNING: set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()
_STOPPING = threading.Event()

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


def _decode(data: bytes | None) -> str:
    return cap_text((data or b"").decode("utf-8", errors="replace"), MAX_OUTPUT)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def kill_running() -> None:
    """Kill every probe still running (and what it started): Ctrl-C must not leave one behind."""
    _STOPPING.set()
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for proc in running:
        _kill_group(proc)


def run_command(
    argv: Sequence[str],
    timeout: float = 15.0,
    env: Mapping[str, str] | None = None,
    user: str | int | None = None,
) -> dict:
    """Run ``argv`` and return the snapshot's command entry; never raises.

    The command runs in its own process group so a time-out also kills what it
    started (``docker run`` leaves a client waiting otherwise). ``user`` runs it
    as another account (root only), for tests of the docker group.
    """
    full_env = dict(os.environ)
    full_env.update({"LC_ALL": "C", "LANG": "C"})  # rules read English messages
    full_env.update(env or {})
    extra = {}
    if user is not None:
        extra = {"user": user, "group": _primary_group(user), "extra_groups": []}
    if _STOPPING.is_set():
        return {"rc": None, "stdout": "", "stderr": f"{argv[0]}: not run (interrupted)"}
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            start_new_session=True,
            **extra,
        )
    except FileNotFoundError:
        return {"rc": NOT_FOUND, "stdout": "", "stderr": f"{argv[0]}: command not found"}
    except PermissionError as err:
        return {"rc": 126, "stdout": "", "stderr": f"{argv[0]}: {err.strerror}"}
    except (OSError, ValueError, KeyError) as err:
        return {"rc": None, "stdout": "", "stderr": f"{argv[0]}: cannot start: {err}"}
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            out, err = b"", b""
        return {
            "rc": None,
            "stdout": _decode(out),
            "stderr": _decode(err) + f"\n[gpudock: no answer within {timeout:g} s; killed]",
            "timed_out": True,
        }
    except BaseException:  # Ctrl-C in the calling thread: the probe's whole group goes too
        _kill_group(proc)
        raise
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)
    return {"rc": proc.returncode, "stdout": _decode(out), "stderr": _decode(err)}


def _primary_group(user: str | int) -> int:
    import pwd

    entry = pwd.getpwnam(user) if isinstance(user, str) else pwd.getpwuid(user)
    return entry.pw_gid


def _read_file(path: str) -> str | None | bool:
    """Text, None when absent, False when present but unreadable or not a regular file (then: not probed)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError:
        return False
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode) and not path.startswith("/proc/"):
            os.close(fd)
            return False
        with os.fdopen(fd, "rb") as handle:
            return _decode(handle.read(MAX_OUTPUT * 4))
    except FileNotFoundError:
        return None
    except OSError:
        return False


def _local_images(env: Mapping[str, str] | None, user) -> set[str]:
    listing = run_command(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], timeout=10, env=env, user=user
    )
    if listing.get("rc") != 0:
        return set()
    names = set(listing["stdout"].split())
    return names | {n.rsplit(":", 1)[0] for n in names if n.endswith(":latest")}


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


# Over 60 lines on purpose: one pass from the images chosen to the Snapshot, each stage a few lines.
def collect(
    names: Iterable[str] | None = None,
    deep: bool = False,
    env: Mapping[str, str] | None = None,
    user: str | int | None = None,
    max_workers: int = 8,
    say: Callable[[str], None] = lambda line: None,
) -> Snapshot:
    """Probe the live host. ``names`` limits the command probes; ``deep`` adds the slow ones.

    ``say`` hears about anything that may leave the machine (an image pull) before it happens.
    """
    as_root = os.geteuid() == 0 and user is None
    wanted = set(names) if names is not None else None
    local = _local_images(env, user)
    hello, gpu = choose_images(local)
    from .cdi.probes import cdi_evidence, cdi_gpu_argv
    from .cdi.snapview import NODE_PROBE

    spec_files, spec_paths, stat_argv = cdi_evidence()
    extra = [Probe(NODE_PROBE, stat_argv, timeout=10)]
    if cdi_gpu_argv(gpu):
        extra.append(Probe("docker_cdi_gpu", cdi_gpu_argv(gpu), timeout=60, image=gpu))
    if gpu is None and (wanted is None or "docker_cdi_gpu" in wanted):
        say("probing: no image is here for the CDI GPU check (docker_cdi_gpu); skipped, nothing is pulled")
    chosen = [
        p
        for p in probes(hello, gpu, as_root) + extra
        if (wanted is None and (deep or not p.deep)) or (wanted is not None and p.name in wanted)
    ]
    for image in sorted({p.image for p in chosen if p.image} - local):
        say(f"probing: {image} is not on this host; `docker run` will pull it from its registry (network)")
    private = None
    if any(APT_CONFIG in p.argv for p in chosen):
        private = Path(tempfile.mkdtemp(prefix="gpudock-apt-"))
        (private / "lists" / "partial").mkdir(parents=True)
        (private / "apt.conf").write_text(_APT_PRIVATE.format(lists=private / "lists"))
        chosen = [
            replace(p, argv=tuple(str(private / "apt.conf") if a == APT_CONFIG else a for a in p.argv)) for p in chosen
        ]
    _STOPPING.clear()
    pool = ThreadPoolExecutor(max_workers=max_workers)
    try:
        futures = [
            pool.submit(lambda p=p: {**run_command(p.argv, p.timeout, env, user), "argv": list(p.argv)}) for p in chosen
        ]
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
        text = _read_file(path)
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
            "commands": results,
        }
    )
