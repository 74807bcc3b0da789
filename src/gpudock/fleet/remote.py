"""What the fleet asks each host to run, and how its answer becomes a Snapshot.

The probe table is the local doctor's (``gpudock.probe.probes()``), sent to the ``gpudock_probe``
Ansible module; the answer is untrusted input and goes through ``Snapshot`` validation like any file.
"""

from __future__ import annotations

from pathlib import Path

from .. import probe
from ..exceptions import SnapshotError
from ..images import CUDA_IMAGE, HELLO_IMAGE, OFFICIAL_HELLO_IMAGE
from ..snapshot import Snapshot

MODULES = Path(__file__).parent / "ansible_modules"
PROBE_MODULE = "gpudock_probe"
# Where a login shell over SSH may not look: WSL's driver tools, the sbin folders of a non-root user.
SEARCH_DIRS = ("/usr/lib/wsl/lib", "/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/snap/bin")
IMAGE_CANDIDATES = {
    "hello": [OFFICIAL_HELLO_IMAGE, HELLO_IMAGE],
    "gpu": [CUDA_IMAGE, HELLO_IMAGE, OFFICIAL_HELLO_IMAGE],
}


def _unsafe(value):
    """Every string marked ``!unsafe``: Ansible must not template a probe's text (``{{json .Runtimes}}``)."""
    from ..install.ansible import Unsafe

    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, dict):
        return {key: _unsafe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_unsafe(item) for item in value]
    return value


def probe_args(deep: bool = False) -> dict:
    """The module's arguments: the probe table with image slots the target fills from its own images."""
    table = probe.probes(hello_image="@hello@", gpu_image="@gpu@", as_root=False)
    return _unsafe(
        {
            "probes": [
                {"name": p.name, "argv": list(p.argv), "timeout": p.timeout} for p in table if deep or not p.deep
            ],
            "files": list(probe.FILES),
            "file_globs": list(probe.APT_SOURCE_GLOBS),
            "paths": list(probe.PATHS),
            "env_keys": list(probe.ENV_KEYS),
            "search_dirs": list(SEARCH_DIRS),
            "images": IMAGE_CANDIDATES,
            "max_output": probe.MAX_OUTPUT,
            "apt_placeholder": probe.APT_CONFIG,
            "apt_config": probe._APT_PRIVATE,  # the local doctor's private apt config ({lists} filled in there)
        }
    )


def probe_task(deep: bool = False, timeout_s: int = 600) -> dict:
    return {
        "name": "gpudock probes",
        PROBE_MODULE: probe_args(deep),
        "register": "gpudock_snapshot",
        "timeout": timeout_s,
    }


# what the module always answers: a result without them is empty, cut short, or not gpudock's module
ANSWER_SECTIONS = ("platform", "commands")


def snapshot_from_result(result: dict) -> Snapshot:
    """The module's return value as a validated snapshot document (SnapshotError when it is not one).

    Checked as a document, like a file (``{}``, ``null`` or a result without ``snapshot`` is no snapshot),
    and it must hold every section the module always writes: ansible-runner empties a result over its
    event size limit, and an empty answer must never read as a healthy host."""
    from ..snapshot import validate

    answer = result.get("snapshot") if isinstance(result, dict) else None
    if not isinstance(answer, dict) or not answer:
        raise SnapshotError("it holds none (an empty result: not gpudock's module, or cut short on the way)")
    data = validate(answer, document=True)
    missing = [section for section in ANSWER_SECTIONS if not data.get(section)]
    if missing:
        raise SnapshotError(f"the host's snapshot is incomplete (no {' or '.join(missing)}); it was cut or altered")
    return Snapshot(data)
