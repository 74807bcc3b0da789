"""CUDA's compatibility rules and release facts that check-image applies, each with its source.

- SASS (a cubin) for sm_XY runs on a GPU of the same major version and the same or a higher minor one;
  PTX for compute_XY is compiled by the driver (JIT) for any GPU of compute capability X.Y or higher
  (the architecture compatibility guides, e.g. https://docs.nvidia.com/cuda/ada-compatibility-guide/).
- ``a`` targets (sm_90a) run on exactly that compute capability; ``f`` targets (sm_100f) on the same
  major version, same or higher minor (NVIDIA's blog "NVIDIA Blackwell and NVIDIA CUDA 12.9 Introduce
  Family-Specific Architecture Features"; nvcc's GPU feature list).
- The driver compiles a PTX text only if it knows its PTX ISA version: ISA 8.8 needs a driver for CUDA
  12.9, 9.0 one for 13.0 (the PTX ISA release history; NVIDIA's cuda-python maps them the same way in
  ``get_minimal_required_cuda_ver_from_ptx_ver``).
- Driver branches: the CUDA Toolkit release notes' table of toolkit and driver versions; within a major
  release a newer runtime also runs on the major's first driver (minor version compatibility:
  https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html).
"""

from __future__ import annotations

DOCS = {
    "compat_guide": "https://docs.nvidia.com/cuda/cuda-programming-guide/01-introduction/cuda-platform.html",
    "nvcc_arch": "https://docs.nvidia.com/cuda/cuda-compiler-driver-nvcc/index.html#gpu-feature-list",
    "families": "https://developer.nvidia.com/blog/nvidia-blackwell-and-nvidia-cuda-12-9-introduce-family-specific-architecture-features",
    "ptx_isa": "https://docs.nvidia.com/cuda/parallel-thread-execution/#release-notes",
    "drivers": "https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html",
    "minor_compat": "https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html",
    "jit_cache": "https://docs.nvidia.com/cuda/cuda-c-programming-guide/index.html#env-vars",
    "toolkit_env": "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/docker-specialized.html",
    "wsl": "https://docs.nvidia.com/cuda/wsl-user-guide/index.html",
}

# PTX ISA version -> the first CUDA release (and so driver) that reads it
_PTX_CUDA = {(6, 0): (9, 0), (6, 1): (9, 1), (6, 2): (9, 2), (6, 3): (10, 0), (6, 4): (10, 1), (6, 5): (10, 2),
             (8, 6): (12, 7), (8, 7): (12, 8), (8, 8): (12, 9)}  # fmt: skip
# CUDA release -> the driver branch that first supports it (Linux, the release notes' table)
DRIVER_BRANCH = {(11, 8): 520, (12, 0): 525, (12, 1): 530, (12, 2): 535, (12, 3): 545, (12, 4): 550, (12, 5): 555,
                 (12, 6): 560, (12, 8): 570, (12, 9): 575, (13, 0): 580, (13, 1): 590}  # fmt: skip
# SM -> the first CUDA release that builds SASS for it (nvcc's GPU feature list, the release notes)
FIRST_CUDA = {50: (6, 5), 52: (6, 5), 53: (7, 0), 60: (8, 0), 61: (8, 0), 62: (8, 0), 70: (9, 0), 72: (10, 0),
              75: (10, 0), 80: (11, 0), 86: (11, 1), 87: (11, 4), 89: (11, 8), 90: (11, 8), 100: (12, 8),
              101: (12, 8), 103: (12, 9), 110: (13, 0), 120: (12, 8), 121: (12, 9)}  # fmt: skip
# SM -> the last CUDA release that still builds for it (CUDA 13.0 dropped Maxwell, Pascal and Volta; 12.0 Kepler)
LAST_CUDA = {35: (11, 8), 37: (11, 8), 50: (12, 9), 52: (12, 9), 53: (12, 9), 60: (12, 9), 61: (12, 9),
             62: (12, 9), 70: (12, 9), 72: (12, 9)}  # fmt: skip
# measured on the lent H100 (docs/image-check.md): how fast its driver JIT-compiles PTX, KiB per second
JIT_KIB_PER_S: float | None = 838.0  # 2,864 KiB in 3.42 s, driver 580.159.04, 2026-12-06


def cc_of(sm: int) -> tuple[int, int]:
    return divmod(sm, 10)


def sass_runs(sm: int, suffix: str, gpu: tuple[int, int]) -> bool:
    """Whether SASS built for sm_<sm><suffix> runs on a GPU of compute capability ``gpu``."""
    built = cc_of(sm)
    if suffix == "a":
        return built == gpu
    return built[0] == gpu[0] and gpu[1] >= built[1]


def ptx_compiles(sm: int, suffix: str, gpu: tuple[int, int]) -> bool:
    """Whether the driver can JIT-compile PTX for compute_<sm><suffix> for a GPU of capability ``gpu``."""
    built = cc_of(sm)
    if suffix == "a":
        return built == gpu
    if suffix == "f":
        return built[0] == gpu[0] and gpu[1] >= built[1]
    return gpu >= built


def cuda_for_ptx(version: tuple[int, int]) -> tuple[int, int] | None:
    """The CUDA release whose driver first reads PTX ISA ``version``; None for one newer than gpudock knows."""
    major, minor = version
    if (major, minor) in _PTX_CUDA:
        return _PTX_CUDA[(major, minor)]
    if major == 7:
        return (11, minor)
    if major == 8 and minor <= 5:
        return (12, minor)
    if major == 9:
        return (13, minor)
    return None


def branch_for(cuda: tuple[int, ...]) -> str:
    """'580' for CUDA 13.0: the driver branch to install; a sentence where the table stops."""
    known = [branch for release, branch in sorted(DRIVER_BRANCH.items()) if release >= tuple(cuda[:2])]
    if known:
        return str(known[0])
    return f"one whose nvidia-smi shows CUDA Version {'.'.join(map(str, cuda[:2]))} or newer"


def sm_name(cc: tuple[int, int]) -> str:
    return f"sm_{cc[0]}{cc[1]}"


def dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))
