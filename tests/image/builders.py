"""Image archives made in memory for the tests: layers, `docker save` tarballs (Docker's format and OCI's),
OCI layout folders. Each is the smallest thing the real tools write, with whatever the test puts in it."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

from tests.helpers import DATA

CUDA = DATA / "cuda"


def fixture(name: str) -> bytes:
    return (CUDA / name).read_bytes()


def layer(entries: list[tuple], compress: bool = False) -> bytes:
    """A layer tar: entries are (name, bytes) files, (name, 'dir'), (name, 'symlink', target),
    (name, 'hardlink', target)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry[0])
            if isinstance(entry[1], bytes):
                info.size = len(entry[1])
                tar.addfile(info, io.BytesIO(entry[1]))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}[entry[1]]
            if len(entry) > 2:
                info.linkname = entry[2]
            tar.addfile(info)
    data = out.getvalue()
    return gzip.compress(data, mtime=0) if compress else data


def config(env: dict[str, str] | None = None) -> bytes:
    pairs = [f"{k}={v}" for k, v in (env or {}).items()]
    return json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": pairs}}).encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def docker_save(layers: list[bytes], env: dict[str, str] | None = None, manifest_last: bool = True) -> bytes:
    """Docker's own `docker save` format (Docker 24 and older): <id>/layer.tar, <config>.json, manifest.json."""
    out = io.BytesIO()
    cfg = config(env)
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    names = [f"{hashlib.sha256(data).hexdigest()}/layer.tar" for data in layers]
    manifest = json.dumps([{"Config": cfg_name, "RepoTags": ["test:1"], "Layers": names}]).encode()
    with tarfile.open(fileobj=out, mode="w") as tar:
        if not manifest_last:
            _add(tar, "manifest.json", manifest)
        for name, data in zip(names, layers, strict=True):
            _add(tar, name, data)
        _add(tar, cfg_name, cfg)
        if manifest_last:
            _add(tar, "manifest.json", manifest)
    return out.getvalue()


def _blob(data: bytes) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    return f"sha256:{digest}", f"blobs/sha256/{digest}"


def oci_files(layers: list[bytes], env: dict[str, str] | None = None) -> dict[str, bytes]:
    """The files of an OCI image layout (what Docker 25+ `docker save` and skopeo write)."""
    files: dict[str, bytes] = {}
    cfg = config(env)
    cfg_digest, cfg_name = _blob(cfg)
    files[cfg_name] = cfg
    described = []
    for data in layers:
        digest, name = _blob(data)
        files[name] = data
        media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if data[:2] == b"\x1f\x8b" else "")
        described.append({"mediaType": media, "digest": digest, "size": len(data)})
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_digest, "size": len(cfg)},
            "layers": described,
        }  # fmt: skip
    ).encode()
    man_digest, man_name = _blob(manifest)
    files[man_name] = manifest
    files["index.json"] = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": man_digest,
                    "size": len(manifest),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }  # fmt: skip
    ).encode()
    files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    return files


def oci_archive(layers: list[bytes], env: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in oci_files(layers, env).items():
            _add(tar, name, data)
    return out.getvalue()


def oci_layout(folder: Path, layers: list[bytes], env: dict[str, str] | None = None) -> Path:
    for name, data in oci_files(layers, env).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder
