"""Run the benchmark suite: every GPU separately (CuPy), the CPU (numba, NumPy's BLAS; NumPy as the
correctness reference), NVIDIA's nbody and PyTorch's torch.matmul interleaved with gpudock's when there,
the GPU's clocks, power and clock-event reasons sampled meanwhile, then every row attested against its
ceiling and, where low, explained; with progress and results JSON."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

from ..exceptions import GpudockError
from . import cpu
from .attest import attest
from .checks import TOLERANCE, check_nbody_cpu, check_nbody_gpu  # noqa: F401  (re-exported: older imports)
from .cpu_tasks import cpu_tasks
from .devices import Gpu, cpu_label, gpu_status
from .gpu_tasks import gpu_tasks
from .results import Results
from .sizes import FULL, QUICK, GiB, MiB, Sizes  # noqa: F401  (re-exported: older imports)
from .tasks import Task
from .telemetry import Sampler, summarize
from .whylow import explain, measured_under

KINDS = ("nbody", "gemm", "copy", "transfer", "cpu")  # what --only selects


def _where(mountinfo: str = "/proc/self/mountinfo", dockerenv: str = "/.dockerenv") -> str:
    """ "container" inside a Docker container, else "host"; GPUDOCK_WHERE overrides.

    /.dockerenv alone misleads (machine images built with Docker keep it), so the root must
    also be an overlay mount, as Docker's storage drivers make it.
    """
    if os.environ.get("GPUDOCK_WHERE") in ("host", "container"):
        return os.environ["GPUDOCK_WHERE"]
    try:
        with open(mountinfo) as handle:
            root_fs = next((line.split(" - ")[1].split()[0] for line in handle if line.split()[4] == "/"), "")
    except (OSError, IndexError):
        root_fs = ""
    return "container" if os.path.exists(dockerenv) and root_fs in ("overlay", "aufs", "fuse-overlayfs") else "host"


def host_facts(gpus: list[Gpu], why_no_gpu: str, peak: cpu.CpuPeak | None = None, xml_reader=None) -> dict:
    """What the run ran on; with GPUs also host.pcie/throttle/numa/gpu_state from nvidia-smi (gpufacts.py)."""
    facts = {
        "hostname": platform.node(),
        "cpu": cpu_label(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "gpus": [g.__dict__ | {"label": g.label} for g in gpus],
    }
    if why_no_gpu:
        facts["no_gpu"] = why_no_gpu
    ceilings = {}
    if gpus:
        from .ceilings import gpu_ceilings
        from .gpufacts import host_gpu_facts, read_xml

        ceilings = {g.label: gpu_ceilings(g.index, g.compute_capability, g.sm_count) for g in gpus}
        facts.update(host_gpu_facts(gpus, *(xml_reader or read_xml)()))
    if peak is not None:
        facts["cpu_peak"] = peak.to_dict()
        facts["cpu_threads"] = peak.threads
        facts["blas"] = cpu.blas()
        if peak.clock_ghz:
            ceilings[facts["cpu"]] = {"fp32": peak.gflops("fp32"), "fp64": peak.gflops("fp64")}
        try:
            import numba

            facts["numba"] = numba.__version__
        except ImportError:
            pass
    if ceilings:
        facts["ceilings"] = ceilings
    try:
        import cupy

        facts["cupy"] = cupy.__version__
        facts["cuda_driver"] = cupy.cuda.runtime.driverGetVersion() if gpus else None
    except Exception:
        pass
    return facts


def _torch_reference(enabled: bool, gpus: list[Gpu], say, host: dict):
    if not (enabled and gpus):
        return None
    from .torchref import torch_status

    torch, why = torch_status()
    host["torch"] = torch.__version__ if torch is not None else None
    if why:
        host["torch_reference"] = why
        say(f"{why}.")
    return torch


def run_benchmarks(
    quick: bool = False,
    cpu: bool = True,
    gpu: bool = True,
    progress: bool = True,
    say: Callable[[str], None] = print,
    nvidia_nbody: str | None = None,
    only: tuple[str, ...] | None = None,
    torch_reference: bool = True,
) -> Results:
    """Measure every GPU separately and the CPU; a host without a GPU says why and measures the CPU.

    ``nvidia_nbody``: path of NVIDIA's nbody sample (or a binary that prints its result lines), run at the
    same N in alternating rounds with gpudock's nbody; its rows are ``"where": "reference"``; so are
    torch.matmul's, when PyTorch is there and ``torch_reference``. ``only``: the kinds of benchmark to run.
    """
    sizes = QUICK if quick else FULL
    gpus, why = gpu_status() if gpu else ([], "GPU benchmarks not asked for")
    if gpu and not gpus:
        say(f"no GPU: {why}. Measuring the CPU only.")
    if nvidia_nbody and not gpus:
        say("NVIDIA's nbody not run: no GPU")
    where = _where()  # one look at the mount table per run, not one per result row
    peak = _cpu_peak() if cpu else None
    results = Results(host_facts(gpus, why, peak))
    torch = _torch_reference(torch_reference, gpus, say, results.host)
    tasks = [t for g in gpus for t in gpu_tasks(g, sizes, where, nvidia_nbody, torch)]
    tasks += cpu_tasks(sizes, where, peak) if cpu else []
    tasks = [t for t in tasks if not only or t.kind in only]
    sampler = Sampler() if gpus and "facts_error" not in results.host else None
    _run_all(tasks, results, say, progress, sampler)
    if gpus:
        results.host["libraries"] = {"cublas": loaded("libcublas")}  # torch's and CuPy's may differ
    finish(results, sampler, exclude=(os.path.basename(nvidia_nbody),) if nvidia_nbody else ())
    return results


def _cpu_peak():
    return cpu.cpu_peak()


def loaded(prefix: str, maps: str = "/proc/self/maps") -> list[str]:
    """Paths of the shared libraries named ``prefix``* mapped into this process (Linux); [] elsewhere."""
    try:
        with open(maps) as handle:
            paths = {line.split()[-1] for line in handle if len(line.split()) >= 6}
    except OSError:
        return []
    return sorted(p for p in paths if os.path.basename(p).startswith(prefix))


def _run_all(tasks: list[Task], results: Results, say, progress: bool, sampler: Sampler | None) -> None:
    """The tasks in order; the sampler runs while GPU tasks do (they come first), never during CPU ones."""

    def step(task: Task) -> None:
        if sampler is not None:
            sampler.start() if task.gpu is not None else sampler.stop()
        _run_task(task, results, say)

    try:
        if not progress:
            for task in tasks:
                step(task)
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
        with Progress(*columns, TimeElapsedColumn(), transient=False) as bar:
            job = bar.add_task("benchmarks", total=len(tasks))
            for task in tasks:
                bar.update(job, description=task.label)
                step(task)
                bar.advance(job)
            bar.update(job, description="benchmarks done")
    finally:
        if sampler is not None:
            sampler.stop()


def _run_task(task: Task, results: Results, say) -> None:
    """One benchmark failing (an unsupported precision, out of memory) is reported, and the rest still run."""
    try:
        results.results += task.run()
    except GpudockError:
        raise  # a wrong result (the nbody check) must stop the run: its numbers would be meaningless
    except Exception as err:  # CuPy/CUDA errors come in many types
        message = f"{task.label}: failed: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
        say(message)
        results.host.setdefault("errors", []).append(message)


def finish(results: Results, sampler: Sampler | None, exclude: tuple[str, ...] = ()) -> None:
    """Telemetry per GPU row, then attestation and "why low" for every row (pure: the same functions explain
    a recorded run). ``exclude``: process names that are part of the benchmark (NVIDIA's nbody binary)."""
    buses = {g["label"]: g.get("pci_bus_id", "") for g in results.host.get("gpus", [])}
    if sampler is not None:
        own = {os.getpid()}
        apps = [a for a in sampler.apps if not any(a.name.endswith(x) for x in exclude if x)]
        for row in results.results:
            if row.device in buses and row.window[1]:
                row.telemetry = summarize(sampler.samples, apps, buses[row.device], row.window, own)
                row.telemetry["own_process_listed"] = any(a.pid in own for a in apps)
                limited = measured_under(row.telemetry)
                row.note = f"{row.note}; {limited}" if limited and row.note else limited or row.note
        _run_telemetry(results.host, sampler, buses)
    for row in results.results:
        attest(row, results.host)
    for row in results.results:
        row.why_low = explain(row, results.host, results.results)


def _run_telemetry(host: dict, sampler: Sampler, buses: dict) -> None:
    """host.telemetry (how sampling went) and, per GPU, the reasons seen over the whole run."""
    host["telemetry"] = {
        "source": "nvidia-smi --query-gpu / --query-compute-apps, polled while GPU benchmarks ran",
        "interval_s": sampler.interval,
        "samples": len(sampler.samples),
        "call_ms_median": round(1000 * statistics.median(sampler.call_s), 1) if sampler.call_s else None,
        "errors": sampler.errors[:5],
    }
    for label, bus in buses.items():
        mine = [s for s in sampler.samples if s.bus == bus]
        counts: dict[str, int] = {}
        for s in mine:
            for reason in s.reasons:
                counts[reason] = counts.get(reason, 0) + 1
        seen = {r: round(c / len(mine), 3) for r, c in sorted(counts.items())} if mine else {}
        host.setdefault("throttle", {}).setdefault(label, {})["reasons_during_run"] = seen
