"""Image facts against this host's GPUs and driver: per GPU, will it run, and the four finding codes.

Pure: an ImageFacts, the GPUs (gpudock.facts.gpus.HostGpu) and the driver's CUDA version in, a Check out.
Per file with CUDA code (executables and shared libraries), per GPU: SASS it can run, else PTX the driver
can compile (JIT), else nothing. The GPU's verdict is the worst over the files, and the image's own
requirements (NVIDIA_REQUIRE_CUDA, the CUDA runtime's major version) can make it need a newer driver.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..facts.gpus import HostGpu
from ..findings import Finding
from . import cuda
from .contents import ImageFacts
from .cuda import DOCS, dotted, sm_name
from .require import evaluate, requirements
from .scan import FileKernels

RANK = {"runs": 0, "no-kernels": 0, "unknown": 1, "jit": 2, "driver": 3, "fails": 4}
SAY = {
    "runs": "runs (SASS for its architecture)",
    "no-kernels": "no precompiled CUDA kernels found (code compiled at run time, or none)",
    "unknown": "cannot tell (the driver did not report the compute capability)",
    "jit": "runs through PTX JIT (first start slower)",
    "driver": "needs a newer driver",
    "fails": "fails: no kernel for this GPU",
}
MAX_LISTED = 4


@dataclass
class GpuCheck:
    gpu: HostGpu
    verdict: str
    reasons: list[str] = field(default_factory=list)
    failing: dict[str, str] = field(default_factory=dict)  # path -> what it has
    jit: dict[str, int] = field(default_factory=dict)  # path -> PTX bytes to compile
    needs_cuda: tuple[int, ...] = ()

    def as_dict(self) -> dict:
        return {
            "gpu": self.gpu.as_dict(),
            "verdict": self.verdict,
            "says": SAY[self.verdict],
            "reasons": self.reasons,
            "failing_files": self.failing,
            "jit_files": self.jit,
        }


@dataclass
class Check:
    facts: ImageFacts
    gpus: list[GpuCheck]
    findings: list[Finding]
    driver_cuda: tuple[int, int] | None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict:
        return {
            "image": self.facts.as_dict(),
            "driver_cuda": dotted(self.driver_cuda) if self.driver_cuda else None,
            "gpus": [g.as_dict() for g in self.gpus],
            "findings": [f.as_dict() for f in self.findings],
            "notes": self.notes,
        }


def _file_verdict(found: FileKernels, cc: tuple[int, int], driver: tuple[int, int] | None):
    """('runs'|'jit'|'driver'|'fails', PTX bytes, the CUDA release the PTX needs)."""
    kernels = [k.entry for k in found.runtime]
    if any(e.kind == "sass" and cuda.sass_runs(e.sm, e.suffix, cc) for e in kernels):
        return "runs", 0, ()
    ptx = [e for e in kernels if e.kind == "ptx" and cuda.ptx_compiles(e.sm, e.suffix, cc)]
    if not ptx:
        return "fails", 0, ()
    readable = [e for e in ptx if driver is None or (cuda.cuda_for_ptx(e.version) or (99, 0)) <= driver]
    if readable:
        best = max(readable, key=lambda e: e.sm)
        return "jit", best.size, ()
    needed = min(cuda.cuda_for_ptx(e.version) or (99, 0) for e in ptx)
    return "driver", 0, needed


def _has(found: FileKernels) -> str:
    return ", ".join(sorted({k.entry.arch for k in found.runtime}, key=lambda a: (a.startswith("compute"), a)))


def check_gpu(facts: ImageFacts, gpu: HostGpu, driver: tuple[int, int] | None, driver_version: str) -> GpuCheck:
    files = facts.runtime_files()
    if gpu.cc is None:
        return GpuCheck(gpu, "unknown" if files else "no-kernels")
    result = GpuCheck(gpu, "runs" if files else "no-kernels")
    for path, found in files.items():
        verdict, size, needed = _file_verdict(found, gpu.cc, driver)
        if verdict == "fails":
            result.failing[path] = _has(found)
        elif verdict == "jit":
            result.jit[path] = size
        elif verdict == "driver":
            result.reasons.append(f"{path}: its PTX needs a driver for CUDA {dotted(needed)}")
            result.needs_cuda = max(result.needs_cuda, needed)
        if RANK[verdict] > RANK[result.verdict]:
            result.verdict = verdict
    _image_needs(facts, gpu, driver, driver_version, result)
    return result


def _image_needs(facts: ImageFacts, gpu: HostGpu, driver, driver_version: str, result: GpuCheck) -> None:
    """The image's own demands on the driver: the toolkit's requirement check, the CUDA runtime's major."""
    if driver is None:
        return
    context = {"cuda": dotted(driver), "driver": driver_version or None, "arch": f"{gpu.cc[0]}.{gpu.cc[1]}"}
    for requirement in requirements(facts.env):
        if evaluate(requirement, context) is False:
            wanted = next((c[6:] for c in requirement.split(" ") if c.startswith("cuda>=")), "")
            result.reasons.append(
                f"NVIDIA_REQUIRE: the toolkit refuses to start it: unsatisfied condition: {requirement.split(' ')[0]}"
            )
            if wanted:
                result.needs_cuda = max(result.needs_cuda, tuple(int(p) for p in wanted.split(".")[:2] if p.isdigit()))
    runtime = facts.runtime_cuda
    if runtime and runtime[0] > driver[0] and not facts.compat_libs:
        result.reasons.append(f"its CUDA runtime {dotted(runtime)} needs a driver for CUDA {runtime[0]}.x")
        result.needs_cuda = max(result.needs_cuda, (runtime[0], 0))
    if result.reasons and RANK["driver"] > RANK[result.verdict]:
        result.verdict = "driver"


def compare(facts: ImageFacts, gpus: list[HostGpu], driver: tuple[int, int] | None, driver_version: str = "") -> Check:
    checks = [check_gpu(facts, gpu, driver, driver_version or gpu.driver) for gpu in gpus]
    findings = [f for f in (_arch(checks), _driver(checks, driver), _jit(checks), _bundled(facts)) if f]
    findings.sort(key=lambda f: {"error": 0, "warning": 1}.get(f.severity, 2))
    return Check(facts, checks, findings, driver, notes(facts))


def notes(facts: ImageFacts) -> list[str]:
    """What may still stop the image's CUDA code, beyond the kernels (said, not judged)."""
    if not facts.runtime_files():
        return []
    found = []
    capabilities = facts.env.get("NVIDIA_DRIVER_CAPABILITIES")
    wanted = {c.strip() for c in (capabilities or "").split(",")}
    if capabilities is not None and not wanted & {"compute", "all"}:
        found.append(
            f"NVIDIA_DRIVER_CAPABILITIES={capabilities}: without `compute` the toolkit mounts no CUDA driver "
            "library (libcuda.so.1) into the container"
        )
    if facts.libc == "musl":
        found.append("musl C library: the NVIDIA driver libraries the toolkit mounts are built for glibc")
    elif not facts.libc:
        found.append("no C library found: the NVIDIA driver libraries the toolkit mounts need glibc in the image")
    return found


def _gpu_label(check: GpuCheck) -> str:
    where = f"GPU {check.gpu.index}" if check.gpu.index != "given" else "a GPU of"
    return f"{where} {check.gpu.name} ({sm_name(check.gpu.cc)})" if check.gpu.cc else f"{where} {check.gpu.name}"


def _listed(paths: dict[str, str] | list[str], show) -> list[str]:
    items = list(paths.items()) if isinstance(paths, dict) else [(p, "") for p in paths]
    lines = [show(p, v) for p, v in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"(and {len(items) - MAX_LISTED} more)")
    return lines


def _arch(checks: list[GpuCheck]) -> Finding | None:
    failing = [c for c in checks if c.failing]
    if not failing:
        return None
    first = failing[0]
    cc = first.gpu.cc
    evidence = [f"{_gpu_label(c)}: no SASS it runs and no PTX it can compile in:" for c in failing[:1]]
    evidence += _listed(first.failing, lambda p, v: f"  {p}: {v}")
    evidence += [f"also {_gpu_label(c)}" for c in failing[1:]]
    sm = cc[0] * 10 + cc[1]
    fix = [
        f"rebuild with SASS for this GPU: `-gencode arch=compute_{sm},code=sm_{sm}`, and PTX of the newest "
        f"architecture for later GPUs: `-gencode arch=compute_{sm},code=compute_{sm}`"
    ]
    first_cuda = cuda.FIRST_CUDA.get(sm)
    if first_cuda:
        fix.append(
            f"or use a base image and wheels built with CUDA {dotted(first_cuda)} or newer, the first release "
            f"that builds {sm_name(cc)} (their release notes list the architectures they ship)"
        )
    last = cuda.LAST_CUDA.get(sm)
    if last:
        fix.append(
            f"{sm_name(cc)} is not built by CUDA releases after {dotted(last)}: an image built with "
            f"CUDA {dotted(last)} or older still can"
        )
    return Finding(
        "image-arch-unsupported",
        "error",
        f'The image has no kernel for {sm_name(cc)}: it fails on {_gpu_label(first)} ("no kernel image is '
        'available for execution on the device")',
        "\n".join(evidence),
        fix,
        [DOCS["compat_guide"], DOCS["nvcc_arch"], DOCS["families"]],
    )


def _driver(checks: list[GpuCheck], driver: tuple[int, int] | None) -> Finding | None:
    needing = [c for c in checks if c.reasons and c.needs_cuda]
    if not needing:
        return None
    needed = max(c.needs_cuda for c in needing)
    first = needing[0]
    have = f"; this driver supports CUDA {dotted(driver)}" if driver else ""
    evidence = [f"{_gpu_label(first)}:"] + [f"  {r}" for r in first.reasons[:MAX_LISTED]]
    branch = cuda.branch_for(needed)
    install = f"gpudock plan driver --branch {branch}" if branch.isdigit() else "gpudock plan driver"
    return Finding(
        "image-needs-newer-driver",
        "error",
        f"The image needs a driver for CUDA {dotted(needed)}{have}",
        "\n".join(evidence),
        [
            f"install driver branch {branch} or newer" if branch.isdigit() else f"install a driver: {branch}",
            install,
            f"or use an image built for CUDA {dotted(driver)} or older"
            if driver
            else "or use an image for an older CUDA",
            "do not set NVIDIA_DISABLE_REQUIRE: the program would fail later instead",
        ],
        [DOCS["drivers"], DOCS["minor_compat"], DOCS["ptx_isa"]],
    )


def _jit(checks: list[GpuCheck]) -> Finding | None:
    jitting = [c for c in checks if c.jit and not c.failing]
    if not jitting:
        return None
    first = jitting[0]
    total = sum(first.jit.values())
    cost = ""
    if cuda.JIT_KIB_PER_S:
        seconds = total / 1024 / cuda.JIT_KIB_PER_S
        took = f"about {seconds:,.1f} s" if seconds >= 0.1 else "under 0.1 s"
        cost = f" ({took} at the {cuda.JIT_KIB_PER_S:,.0f} KiB/s measured on an H100 host)"
    sm = first.gpu.cc[0] * 10 + first.gpu.cc[1]
    evidence = [
        f"{_gpu_label(first)}: no SASS for it in {len(first.jit)} file(s); the driver compiles "
        f"{total / 1024:,.0f} KiB of PTX when each is first loaded{cost}:"
    ]
    evidence += _listed(first.jit, lambda p, v: f"  {p}: {v / 1024:,.0f} KiB of PTX")
    return Finding(
        "image-ptx-jit",
        "warning",
        f"The image runs on {_gpu_label(first)} only through PTX JIT: every new container compiles first",
        "\n".join(evidence),
        [
            f"rebuild with SASS for it: `-gencode arch=compute_{sm},code=sm_{sm}`",
            "or keep the driver's JIT cache between containers (by default it is `$HOME/.nv/ComputeCache` inside "
            "the container, gone with it): `-e CUDA_CACHE_PATH=/cuda-jit -v cuda-jit:/cuda-jit`, with "
            "`CUDA_CACHE_MAXSIZE` (bytes) large enough for the compiled code",
        ],
        [DOCS["jit_cache"], DOCS["compat_guide"]],
    )


def _bundled(facts: ImageFacts) -> Finding | None:
    if not facts.driver_libs:
        return None
    return Finding(
        "image-bundles-driver-libs",
        "warning",
        "The image ships NVIDIA driver libraries: they must come from the host's driver",
        "\n".join(_listed(facts.driver_libs, lambda p, v: p)),
        [
            "remove them from the image (the NVIDIA Container Toolkit mounts the host's own at start); build "
            "against the link-time stubs (`/usr/local/cuda/lib64/stubs`) instead",
            'otherwise: on WSL 2 the start fails ("libnvidia-ml.so.1: file exists"), elsewhere a version '
            'mismatch with the host\'s kernel module ("Driver/library version mismatch")',
        ],
        [DOCS["toolkit_env"], DOCS["wsl"]],
    )
