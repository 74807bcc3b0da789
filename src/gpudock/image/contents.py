"""What an image holds that decides where it runs: its CUDA kernels, CUDA runtime, driver libraries, C library.

Built from the layers as the container sees them (overlay.py); pure data, JSON-ready (``as_dict``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .archive import RawImage
from .layer import Item
from .overlay import visible
from .scan import FileKernels

ENV_KEYS = re.compile(r"^(NVIDIA_[A-Z_]+|CUDA_VERSION|LD_LIBRARY_PATH)$")
_VERSION_TXT = re.compile(r"CUDA Version\s+(\d+\.\d+(?:\.\d+)?)")
_TORCH_CUDA = re.compile(r"^cuda\b[^=\n]*=\s*['\"](\d+\.\d+)['\"]", re.M)


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


@dataclass
class ImageFacts:
    where: str
    source: str
    architecture: str = ""
    os: str = ""
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, FileKernels] = field(default_factory=dict)  # path -> its CUDA code
    driver_libs: list[str] = field(default_factory=list)  # libcuda.so*, libnvidia-ml.so* baked in
    compat_libs: list[str] = field(default_factory=list)  # CUDA's forward-compatibility package (…/compat/)
    cudart: dict[str, str] = field(default_factory=dict)  # path -> version ('' where only the soname says)
    toolkit: str = ""  # /usr/local/cuda*/version.json or version.txt
    wheels: dict[str, str] = field(default_factory=dict)  # nvidia-cuda-runtime wheels: path -> version
    torch_cuda: str = ""  # the CUDA release PyTorch was built for (torch/version.py)
    libc: str = ""  # "glibc 2.36", "musl" or "" (none found)
    layers: int = 0
    bytes_read: int = 0

    @property
    def runtime_cuda(self) -> tuple[int, ...]:
        """The newest CUDA runtime in the image, as (major, minor), from what says it most precisely."""
        found = [version_tuple(v)[:2] for v in self.cudart.values() if len(version_tuple(v)) >= 2]
        found += [version_tuple(v)[:2] for v in self.wheels.values()]
        if self.toolkit:
            found.append(version_tuple(self.toolkit)[:2])
        if not found:
            found = [version_tuple(v)[:1] for v in self.cudart.values() if v]  # libcudart.so.12: major only
        return max(found) if found else ()

    def runtime_files(self) -> dict[str, FileKernels]:
        """Executables and shared libraries with code the driver loads (objects are link-time inputs)."""
        return {p: f for p, f in self.files.items() if f.elf_type in ("shared", "executable") and f.runtime}

    def as_dict(self) -> dict:
        return {
            "image": self.where,
            "source": self.source,
            "architecture": self.architecture,
            "os": self.os,
            "env": self.env,
            "cuda_runtime": ".".join(map(str, self.runtime_cuda)) or None,
            "cudart": self.cudart,
            "toolkit": self.toolkit or None,
            "wheels": self.wheels,
            "torch_cuda": self.torch_cuda or None,
            "libc": self.libc or None,
            "driver_libs": self.driver_libs,
            "compat_libs": self.compat_libs,
            "files": {path: found.as_dict() for path, found in sorted(self.files.items())},
            "layers": self.layers,
            "bytes_read": self.bytes_read,
        }


def image_facts(raw: RawImage) -> ImageFacts:
    kernels, items = visible(raw.layers)
    config = raw.config.get("config") or raw.config.get("Config") or {}
    env = {}
    for pair in config.get("Env") or []:
        key, _, value = str(pair).partition("=")
        if ENV_KEYS.match(key):
            env[key] = value[:2000]
    facts = ImageFacts(
        where=raw.where,
        source=raw.source,
        architecture=str(raw.config.get("architecture", ""))[:40],
        os=str(raw.config.get("os", ""))[:40],
        env=env,
        files={"/" + path: found for path, found in sorted(kernels.items())},
        layers=len(raw.layers),
        bytes_read=raw.bytes_read,
    )
    for path, item in sorted(items.items()):
        _take(facts, "/" + path, item)
    return facts


def _take(facts: ImageFacts, path: str, item: Item) -> None:
    if item.kind == "driver-lib":
        if "/stubs/" in path:  # link-time stubs, not on the loader's path
            return
        (facts.compat_libs if "/compat/" in path else facts.driver_libs).append(path)
    elif item.kind == "cudart":
        facts.cudart[path] = item.detail
    elif item.kind == "wheel":
        facts.wheels[path] = item.detail
    elif item.kind == "libc" and item.detail:
        facts.libc = f"glibc {item.detail}"
    elif item.kind == "libc" and not facts.libc and not item.link:
        facts.libc = "glibc"
    elif item.kind == "musl" and not facts.libc:
        facts.libc = "musl"
    elif item.kind == "text":
        _text(facts, path, item.detail)


def _text(facts: ImageFacts, path: str, text: str) -> None:
    if path.endswith("version.json"):
        try:
            version = json.loads(text).get("cuda", {}).get("version", "")
        except (ValueError, AttributeError):
            version = ""
        facts.toolkit = facts.toolkit or str(version)[:40]
    elif path.endswith("version.txt"):
        found = _VERSION_TXT.search(text)
        facts.toolkit = facts.toolkit or (found[1] if found else "")
    elif path.endswith("torch/version.py"):
        found = _TORCH_CUDA.search(text)
        facts.torch_cuda = found[1] if found else facts.torch_cuda
