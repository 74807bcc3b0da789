"""``gpudock cdi generate``: a CDI spec for the loaded NVIDIA driver, in pure Python, with no hook binary.

Devices: one per GPU by index (``nvidia.com/gpu=0``) and by UUID (``nvidia.com/gpu=GPU-…``), and ``all``;
each holds only its GPU's node. What every device needs is in the spec's own ``containerEdits``: the
control nodes, the driver's compute and utility libraries and programs, read-only, and
``NVIDIA_VISIBLE_DEVICES=void`` (as nvidia-ctk's specs set it: a toolkit runtime on the same engine then
leaves the container alone rather than injecting the GPU twice).

Libraries are mounted under their SONAME in the host's own library folder (``libcuda.so.580.95.05`` at
``/usr/lib/x86_64-linux-gnu/libcuda.so.1``), which glibc searches by default in images of the same family
(Debian/Ubuntu: the multiarch folder; Fedora-likes: /usr/lib64); a driver kept elsewhere (``/usr/local/nvidia/
lib64``, found through ld.so.cache) is mounted into that system folder, since no image searches its own.
Programs go where every image's PATH looks: their own folder when it is one of those, else ``/usr/bin``.
nvidia-ctk mounts the versioned files and runs its ``nvidia-cdi-hook`` (create-symlinks, update-ldcache) in
each container instead; gpudock's spec needs no program of its own on the host. It sets no
``LD_LIBRARY_PATH``: CDI replaces an image's own value (ociedit ``AddMultipleProcessEnv``), which would break
images that set one (PyTorch's, NGC's).

Device nodes carry no major/minor: the engine reads them from the host node when the container starts
(CDI ``fillMissingInfo``), so a spec stays right when ``nvidia-uvm``'s dynamic major changes at a reboot.
The same tree gives the same bytes: nothing depends on time, order of a folder listing or the machine
that writes it.
"""

from __future__ import annotations

import posixpath

from .discover import PATH_DIRS, WSL_DRIVERS, WSL_LIB, Driver, default_lib_dirs, discover
from .spec import KIND, minimum_version, render
from .tree import TreeView

FILE_OPTIONS = ["ro", "nosuid", "nodev", "bind"]
SOCKET_OPTIONS = ["ro", "nosuid", "nodev", "bind", "noexec"]
FOLDER_OPTIONS = ["ro", "nosuid", "nodev", "rbind"]


def _mount(host: str, container: str, options: list[str]) -> dict:
    return {"hostPath": host, "containerPath": container, "options": list(options)}


def _mounts(driver: Driver) -> list[dict]:
    mounts = []
    searched = default_lib_dirs(driver.arch)
    for lib in driver.libraries:
        folder = posixpath.dirname(lib.path)
        folder = folder if folder in searched and not driver.wsl else driver.lib_dir
        mounts.append(_mount(lib.path, f"{folder}/{lib.soname}", FILE_OPTIONS))
        if lib.soname.startswith("libcuda.so.") and not driver.wsl:
            # the development name that `-lcuda` links against (Triton, numba's linker); nvidia-ctk's hook makes it
            mounts.append(_mount(lib.path, f"{folder}/libcuda.so", FILE_OPTIONS))
    for program in driver.programs:
        in_path = posixpath.dirname(program) in PATH_DIRS and not driver.wsl
        target = program if in_path else f"/usr/bin/{posixpath.basename(program)}"
        mounts.append(_mount(program, target, FILE_OPTIONS))
    mounts += [_mount(socket, socket, SOCKET_OPTIONS) for socket in driver.sockets]
    if driver.wsl:
        mounts += [_mount(WSL_LIB, WSL_LIB, FOLDER_OPTIONS)]
        mounts += [_mount(WSL_DRIVERS, WSL_DRIVERS, FOLDER_OPTIONS)]
    seen: set[str] = set()
    unique = []
    for mount in mounts:  # one mount per container path (two libraries claiming one SONAME: the first)
        if mount["containerPath"] not in seen:
            seen.add(mount["containerPath"])
            unique.append(mount)
    return unique


def spec_data(driver: Driver) -> dict:
    """The spec as plain data (what YAML/JSON rendering and the schema see)."""
    devices = []
    for gpu in driver.gpus if not driver.wsl else []:
        devices.append({"name": str(gpu.index), "containerEdits": {"deviceNodes": [{"path": gpu.node}]}})
        if gpu.uuid:
            devices.append({"name": gpu.uuid, "containerEdits": {"deviceNodes": [{"path": gpu.node}]}})
    devices.append({"name": "all", "containerEdits": {"deviceNodes": [{"path": g.node} for g in driver.gpus]}})
    common = {
        "env": ["NVIDIA_VISIBLE_DEVICES=void"],
        "deviceNodes": [{"path": node} for node in driver.control_nodes],
        "mounts": _mounts(driver),
    }
    if not common["deviceNodes"]:
        del common["deviceNodes"]
    data = {"cdiVersion": "", "kind": KIND, "devices": devices, "containerEdits": common}
    data["cdiVersion"] = minimum_version(data)  # the lowest that fits: older engines (Podman 4.3) read it too
    return data


def header(driver: Driver) -> str:
    source = "WSL 2 (/dev/dxg, /usr/lib/wsl/lib)" if driver.wsl else f"driver {driver.version}"
    return (
        f"# CDI spec for {source}, written by `gpudock cdi generate`; regenerate it after every driver update\n"
        "# (`sudo gpudock install cdi --apply`) and check it with `gpudock cdi check`.\n"
    )


def generate(root: str = "/", output: str = "nvidia.yaml", arch: str | None = None) -> tuple[str, Driver]:
    """(spec text for ``output``'s format, the driver it describes); DriverNotFound without a driver."""
    driver = discover(TreeView(root), arch)
    text = render(spec_data(driver), output)
    if not output.endswith(".json"):
        text = header(driver) + text
    return text, driver
