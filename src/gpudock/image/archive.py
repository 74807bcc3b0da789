"""Where an image's bytes come from: the Docker daemon (`docker save` through the Docker SDK), a saved
tarball (`docker save -o`, Docker's own format or OCI), or an OCI image-layout folder.

Either way the result is the image's config and its layers' facts, bottom layer first. The tar stream is
read once, members in whatever order they come; layers are kept as facts and put in order from the
manifest at the end. https://github.com/opencontainers/image-spec/blob/main/image-layout.md ;
`docker save`: https://docs.docker.com/reference/cli/docker/image/save/
"""

from __future__ import annotations

import json
import os
import platform
import posixpath
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from . import tarstream
from .layer import LayerFacts, normalise, scan_layer
from .limits import Budget, ImageUnreadable

DIGEST = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass
class RawImage:
    where: str  # what the person named
    source: str  # "docker", "archive", "oci-layout"
    config: dict
    layers: list[LayerFacts] = field(default_factory=list)  # bottom first
    bytes_read: int = 0


def read_image(spec: str, budget: Budget) -> RawImage:
    """An OCI layout folder, a tarball, or (neither existing) a local image name on the Docker daemon."""
    path = Path(spec)
    if path.is_dir():
        return read_layout(path, budget)
    if path.exists():
        return read_tarball(path, budget)
    return read_docker(spec, budget)


# --- a tar stream: docker save, or an OCI archive ----------------------------------------------------
def read_archive(source: tarstream.Reader, budget: Budget, where: str, origin: str) -> RawImage:
    docs: dict[str, object] = {}
    layers: dict[str, LayerFacts] = {}
    aliases: dict[str, str] = {}
    for member, data in tarstream.members(source, budget, where):
        name = normalise(member.name, budget, where)
        if member.type == "symlink":  # docker save links a layer it already wrote
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
            if not target.startswith(("../", "/")) and target != "..":
                aliases[name] = target
            continue
        if member.type != "file":
            continue
        head = data.read(512)
        data.unread(head)
        if _is_layer(head):
            if len(layers) >= budget.limits.max_layers:
                raise ImageUnreadable(where, f"refused: more than {budget.limits.max_layers} layers")
            layers[name] = scan_layer(data, budget, f"{where}: layer {name}") if head.strip(b"\0") else LayerFacts()
        elif head.lstrip()[:1] in (b"{", b"[") and member.size <= budget.limits.max_json:
            budget.spend_json(member.size)
            docs[name] = _json(data.exactly(member.size, where), where, name)
    raw = _assemble(docs, layers, aliases, where, origin)
    raw.bytes_read = budget.bytes
    return raw


def _is_layer(head: bytes) -> bool:
    return (
        tarstream.looks_like_tar(head)
        or head[:2] == b"\x1f\x8b"
        or head[:4] == b"\x28\xb5\x2f\xfd"
        or (len(head) == 512 and not head.strip(b"\0"))  # an empty layer: only the end-of-archive blocks
    )


def _json(data: bytes, where: str, name: str):
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise ImageUnreadable(where, f"{name} is not valid JSON") from None


def _assemble(docs, layers, aliases, where: str, origin: str) -> RawImage:
    manifest = docs.get("manifest.json")
    if isinstance(manifest, list) and manifest:
        if len(manifest) > 1:
            tags = ", ".join(str((m or {}).get("RepoTags")) for m in manifest[:4] if isinstance(m, dict))
            raise ImageUnreadable(where, f"holds {len(manifest)} images ({tags}); save one image per file")
        entry = manifest[0] if isinstance(manifest[0], dict) else {}
        config = docs.get(str(entry.get("Config", "")))
        names = entry.get("Layers")
    elif isinstance(docs.get("index.json"), dict):
        config, names = _oci_manifest(lambda digest: docs.get(_blob_name(digest, where)), docs["index.json"], where)
        names = [_blob_name(d, where) for d in names]
    else:
        raise ImageUnreadable(where, "no manifest.json or index.json: not a `docker save` archive nor an OCI image")
    if not isinstance(config, dict) or not isinstance(names, list):
        raise ImageUnreadable(where, "its manifest names no config or no layers")
    ordered = []
    for name in names:
        key = aliases.get(str(name), str(name))
        for _ in range(8):  # a link to a link
            key = aliases.get(key, key)
        if key not in layers:
            raise ImageUnreadable(where, f"layer {str(name)[:80]} named by the manifest is missing from the archive")
        ordered.append(layers[key])
    return RawImage(where, origin, config, ordered)


def _blob_name(digest, where: str) -> str:
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise ImageUnreadable(where, f"a blob digest that is not one: {str(digest)[:80]!r}")
    algorithm, hexdigest = digest.split(":", 1)
    return f"blobs/{algorithm}/{hexdigest}"


def _oci_manifest(get, index: dict, where: str) -> tuple[dict | None, list]:
    """Follow an OCI index to one image manifest (this machine's platform where there are several)."""
    document = index
    for _ in range(3):  # an index may point at another index (a multi-platform image)
        manifests = document.get("manifests") if isinstance(document, dict) else None
        if not isinstance(manifests, list) or not manifests:
            break
        chosen = _platform_choice([m for m in manifests if isinstance(m, dict)], where)
        document = get(chosen.get("digest"))
        if not isinstance(document, dict):
            raise ImageUnreadable(where, f"manifest {str(chosen.get('digest'))[:80]} is missing")
        if document.get("mediaType") not in INDEX_TYPES and "layers" in document:
            config = get((document.get("config") or {}).get("digest"))
            return config, [layer.get("digest") for layer in document.get("layers") or [] if isinstance(layer, dict)]
    raise ImageUnreadable(where, "its index leads to no image manifest")


def _platform_choice(manifests: list[dict], where: str) -> dict:
    if not manifests:
        raise ImageUnreadable(where, "its index lists no manifest")
    here = MACHINES.get(platform.machine(), platform.machine())
    for manifest in manifests:
        plat = manifest.get("platform") or {}
        if plat.get("architecture") == here and plat.get("os", "linux") == "linux":
            return manifest
    usable = [m for m in manifests if (m.get("platform") or {}).get("architecture") != "unknown"]  # attestations
    return (usable or manifests)[0]


# --- the three places ---------------------------------------------------------------------------------
def read_tarball(path: Path, budget: Budget) -> RawImage:
    where = str(path)
    try:
        handle = open(path, "rb")  # closed by the with below; the reader streams from it
    except OSError as err:
        raise ImageUnreadable(where, f"cannot read it ({err.strerror})") from None
    with handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ImageUnreadable(where, "not a regular file")
        return read_archive(tarstream.Reader(handle.read, budget.spend_archive), budget, where, "archive")


def read_layout(root: Path, budget: Budget) -> RawImage:
    where = str(root)
    if not (root / "index.json").is_file():
        raise ImageUnreadable(where, "a folder without index.json: not an OCI image layout")
    real_root = root.resolve()

    def document(name: str):
        data = _read_small(real_root, name, budget, where)
        budget.spend_json(len(data))
        return _json(data, where, name)

    def get(digest):
        return document(_blob_name(digest, where))

    config, digests = _oci_manifest(get, document("index.json"), where)
    if not isinstance(config, dict):
        raise ImageUnreadable(where, "its manifest names no config")
    if len(digests) > budget.limits.max_layers:
        raise ImageUnreadable(where, f"refused: more than {budget.limits.max_layers} layers")
    layers = []
    for digest in digests:
        blob = _inside(real_root, _blob_name(digest, where), where)
        with open(blob, "rb") as handle:
            layers.append(scan_layer(tarstream.Reader(handle.read, budget.spend_archive), budget, where))
    return RawImage(where, "oci-layout", config, layers, budget.bytes)


def _inside(root: Path, name: str, where: str) -> Path:
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise ImageUnreadable(where, f"refused: {name} points outside the folder")
    if not path.is_file():
        raise ImageUnreadable(where, f"{name} is missing or not a regular file")
    return path


def _read_small(root: Path, name: str, budget: Budget, where: str) -> bytes:
    path = _inside(root, name, where)
    if path.stat().st_size > budget.limits.max_json:
        raise ImageUnreadable(where, f"refused: {name} is larger than {budget.limits.max_json >> 20} MiB")
    return path.read_bytes()


def read_docker(name: str, budget: Budget) -> RawImage:
    """A local image, streamed from the daemon as `docker save` would write it (nothing is run)."""
    import docker.errors

    from ..dockerops import client

    cli = client()
    try:
        image = cli.images.get(name)
    except docker.errors.ImageNotFound:
        raise ImageUnreadable(
            name,
            "no such local image, file or folder; `docker pull` it first, or give a `docker save` tarball "
            "or an OCI layout folder",
        ) from None
    except docker.errors.APIError as err:
        raise ImageUnreadable(name, f"Docker refused: {str(err.explanation or err)[:200]}") from None
    stream = image.save(chunk_size=tarstream.CHUNK)
    try:
        raw = read_archive(tarstream.Reader.of_chunks(stream, budget.spend_archive), budget, name, "docker")
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
    raw.where = f"{name} ({image.short_id})"
    return raw
