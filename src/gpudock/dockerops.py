"""Docker through the Docker SDK: ping, the offline hello image, runs with GPU device requests."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

from .exceptions import ContainerFailed, DockerUnavailable, ImageMissing, MissingTool
from .images import HELLO_IMAGE

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
HELLO_TEXT = (
    "Hello from Docker!\\nThis message comes from gpudock's local hello image "
    "(FROM scratch + busybox-static), built because no registry is needed for it."
)


def client(timeout: int = 30):
    """A Docker SDK client, or DockerUnavailable with the reason in one line."""
    import docker
    from docker.errors import DockerException

    try:
        cli = docker.from_env(timeout=timeout)
        cli.ping()
        return cli
    except DockerException as err:
        reason = str(err).split("\n")[0]
        if "Permission denied" in reason or "PermissionError" in reason:
            raise DockerUnavailable(
                "permission denied on the Docker socket",
                'add yourself to the docker group (`sudo usermod -aG docker -- "$USER"`, then log in again)',
            ) from None
        raise DockerUnavailable(f"no daemon answers ({reason[:160]})") from None


def _find_busybox() -> Path:
    for candidate in BUSYBOX_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    found = shutil.which("busybox")
    if found:
        return Path(found)
    raise MissingTool("busybox not found", "install Debian's busybox-static (`sudo apt-get install busybox-static`)")


def _is_static(binary: Path) -> bool:
    # A dynamic ELF has a PT_INTERP naming its loader; FROM scratch has none.
    return b"ld-linux" not in binary.read_bytes()[:8192] and b"/lib64/ld" not in binary.read_bytes()[:8192]


def build_hello_image(cli=None, tag: str = HELLO_IMAGE) -> str:
    """Build the FROM-scratch hello image from the host's static busybox; return its id.

    Used where ``hello-world`` cannot be pulled (offline machines, CI). Idempotent:
    an existing image with this tag is kept.
    """
    import docker.errors

    cli = cli or client()
    try:
        return cli.images.get(tag).id
    except docker.errors.ImageNotFound:
        pass
    busybox = _find_busybox()
    if not _is_static(busybox):
        raise MissingTool(
            f"{busybox} is dynamically linked", "install Debian's busybox-static for a FROM-scratch image"
        )
    dockerfile = (
        f'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "echo", "-e", "{HELLO_TEXT}"]\n'
    ).encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        tar.add(str(busybox), arcname="busybox")
    context.seek(0)
    try:
        image, _logs = cli.images.build(fileobj=context, custom_context=True, tag=tag, rm=True, network_mode="none")
    except docker.errors.BuildError as err:
        raise ContainerFailed(tag, f"building failed: {err.msg}") from None
    return image.id


def hello(build: bool = False, say=None) -> str:
    """gpudock's hello container, the one way both faces run it: built first when asked, run without a network.

    ``say`` hears which image was built (its id), for the CLI's first line.
    """
    if build:
        image_id = build_hello_image()
        if say:
            say(f"{HELLO_IMAGE} {image_id[:19]}")
    return run(HELLO_IMAGE, network_mode="none")


def run(image: str, command=None, gpus: bool = False, cli=None, **kwargs) -> str:
    """Run a container to completion and return its output (stdout and stderr).

    ``gpus=True`` asks for every GPU the way ``--gpus all`` does (a DeviceRequest).
    Errors come back as gpudock exceptions with Docker's own message.
    """
    import docker
    import docker.errors

    cli = cli or client()
    if gpus:
        kwargs["device_requests"] = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
    try:
        out = cli.containers.run(image, command, remove=True, stdout=True, stderr=True, **kwargs)
    except docker.errors.ContainerError as err:
        stderr = (err.stderr or b"").decode(errors="replace").strip()[:300]
        raise ContainerFailed(image, f"exited {err.exit_status}: {stderr}") from None
    except docker.errors.ImageNotFound:
        raise ImageMissing(
            image, "it could not be pulled; `gpudock hello --build` makes the local hello image"
        ) from None
    except docker.errors.APIError as err:
        raise ContainerFailed("docker", str(err.explanation or err)) from None
    return out.decode("utf-8", errors="replace")
