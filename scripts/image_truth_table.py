"""The GPU truth table of `gpudock check-image` (docs/image-check.md): predict, then run, on a real GPU.

For each fixture library of tests/data/cuda (and NVIDIA's nbody kernel as a real nvcc-built program) it
makes a small image with `docker import` (the loader, the fixture, and the C library the loader needs,
copied from this machine), asks `gpudock check-image` what will happen on GPU 0, runs the image with the
GPU, and records both. It also times the driver's PTX JIT on a large PTX text (first start, and with a
kept JIT cache). Needs a Docker daemon with the GPU flags in $GPU_DOCKER_ARGS (or CDI), nvidia-smi, and
gpudock on PYTHONPATH. Writes truth-table.json and truth-table.md into --out.

    python3 scripts/image_truth_table.py --loader LOADER --fixtures tests/data/cuda --nbody NBODY \
        --big-ptx BIG.ptx --out OUT
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

# fixture -> what it holds (the table's first column)
CASES = {
    "sass_sm80": "SASS sm_80 only (an older architecture)",
    "sass_sm90": "SASS sm_90 (the H100/H200's own), LZ4-compressed",
    "sass_sm90a": "SASS sm_90a only (arch-specific)",
    "ptx_compute80": "PTX compute_80 only, Zstandard-compressed",
    "sass_sm80_ptx80": "SASS sm_80 + PTX compute_80",
    "sass_sm100_ptx100": "SASS sm_100 + PTX compute_100 (a newer architecture)",
    "ptx_too_new": "PTX compute_80 of PTX ISA 9.5 (CUDA 13.5's NVRTC)",
}
PREFIX = "gpudock-issue23/"
GPU_ARGS = shlex.split(os.environ.get("GPU_DOCKER_ARGS", "--device nvidia.com/gpu=all"))


def sh(argv, timeout=300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def libraries(binary: Path) -> list[Path]:
    """The shared libraries ``ldd`` says the binary loads, and the loader itself."""
    found = []
    for line in sh(["ldd", str(binary)]).stdout.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0] if parts and parts[0].startswith("/") else ""
        if path.startswith("/"):
            found.append(Path(path))
    return found


def driver_deps() -> dict[str, Path]:
    """What the host's libcuda.so.1 loads (libm, libdl, libpthread, librt): the GPU flags mount the driver
    itself into the container, not these."""
    listing = sh(["ldconfig", "-p"]).stdout.splitlines()
    driver = next((line.split("=>")[-1].strip() for line in listing if "libcuda.so.1 " in line), "")
    deps = libraries(Path(driver)) if driver else []
    return {str(lib): lib for lib in deps if not lib.name.startswith(("libcuda", "libnvidia"))}


def build(tag: str, files: dict[str, Path], workdir: Path) -> None:
    """A one-layer image of ``files`` (path in the image -> file here), made with `docker import`."""
    tar_path = workdir / (tag.replace("/", "_") + ".tar")
    with tarfile.open(tar_path, "w") as tar:
        for inside, real in files.items():
            tar.add(str(real.resolve()), arcname=inside.lstrip("/"))
    sh(["docker", "import", str(tar_path), PREFIX + tag], timeout=120).check_returncode()


def predict(image: str) -> dict:
    run = sh([sys.executable, "-m", "gpudock", "check-image", image, "--json"], timeout=300)
    try:
        data = json.loads(run.stdout)
    except ValueError:
        return {"verdict": "check-image failed", "exit": run.returncode, "stderr": run.stderr[-400:]}
    gpu = data["gpus"][0] if data["gpus"] else {"verdict": "no GPU"}
    return {"verdict": gpu["verdict"], "exit": run.returncode, "codes": [f["code"] for f in data["findings"]]}


def run(image: str, argv: list[str], extra: list[str] = ()) -> dict:
    started = time.monotonic()
    done = sh(["docker", "run", "--rm", "--network", "none", *GPU_ARGS, *extra, image, *argv], timeout=300)
    wall = time.monotonic() - started
    line = next((x for x in done.stdout.splitlines() if x.startswith("{")), "")
    result = json.loads(line) if line else {"status": "error", "error": (done.stderr or done.stdout)[-300:]}
    return {**result, "exit": done.returncode, "wall_s": round(wall, 2), "output": done.stdout[-300:]}


def agrees(verdict: str, outcome: dict) -> bool:
    if verdict in ("runs", "jit"):
        return outcome.get("status") == "ok" or "billion interactions" in outcome.get("output", "")
    if verdict == "fails":
        return outcome.get("error") == "CUDA_ERROR_NO_BINARY_FOR_GPU"
    if verdict == "driver":
        return outcome.get("error") == "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--loader", "--fixtures", "--nbody", "--big-ptx", "--out"):
        parser.add_argument(name, type=Path, required=name != "--nbody")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="truth-"))
    base = {"/loader": args.loader, **{str(lib): lib for lib in libraries(args.loader)}, **driver_deps()}
    rows = []
    for case, holds in CASES.items():
        lib = args.fixtures / f"lib{case}.so"
        build(case, {**base, f"/fixtures/{lib.name}": lib}, work)
        outcome = run(PREFIX + case, ["/loader", f"/fixtures/{lib.name}"], ["-e", "CUDA_CACHE_DISABLE=1"])
        rows.append({"case": case, "holds": holds, "predicted": predict(PREFIX + case), "outcome": outcome})
        print(json.dumps(rows[-1]), flush=True)
    if args.nbody:
        build(
            "nbody", {"/nbody": args.nbody, **{str(lib): lib for lib in libraries(args.nbody)}, **driver_deps()}, work
        )
        outcome = run(PREFIX + "nbody", ["/nbody", "-benchmark", "-numbodies=65536", "-iterations=4"])
        rows.append(
            {
                "case": "nbody",
                "holds": "NVIDIA's nbody kernel (nvcc: SASS sm_80, sm_90 + PTX compute_90)",
                "predicted": predict(PREFIX + "nbody"),
                "outcome": outcome,
            }
        )
    saved = work / "sass_sm80.tar"  # the same verdict from a `docker save` tarball (Docker's own format here)
    sh(["docker", "save", "-o", str(saved), PREFIX + "sass_sm80"]).check_returncode()
    tarball = predict(str(saved))
    for row in rows:
        row["agrees"] = agrees(row["predicted"]["verdict"], row["outcome"])
    jit = measure_jit(args, work)
    smi = sh(["sh", "-c", "nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader"]).stdout
    report = {
        "gpu": smi,
        "docker": sh(["docker", "version", "--format", "{{.Server.Version}}"]).stdout.strip(),
        "rows": rows,
        "saved_tarball": tarball,
        "jit": jit,
        "agreement": f"{sum(r['agrees'] for r in rows)}/{len(rows)}",
    }
    (args.out / "truth-table.json").write_text(json.dumps(report, indent=1) + "\n")
    (args.out / "truth-table.md").write_text(markdown(report))
    print(markdown(report))
    shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r["agrees"] for r in rows) else 1


def measure_jit(args, work: Path) -> dict:
    """The driver's PTX JIT: a large PTX text in a fresh container (no cache), and the fixture with a kept cache."""
    big = work / "big.ptx"
    shutil.copy(args.big_ptx, big)
    cold = run(
        PREFIX + "ptx_compute80",
        ["/loader", "--ptx", "/big.ptx"],
        ["-e", "CUDA_CACHE_DISABLE=1", "-v", f"{big}:/big.ptx:ro"],
    )
    cache = work / "jit-cache"
    cache.mkdir()
    # the cache path named: an image without /etc/passwd runs with HOME=/, so $HOME/.nv is not where one expects
    mounts = ["-v", f"{big}:/big.ptx:ro", "-v", f"{cache}:/cuda-jit", "-e", "CUDA_CACHE_PATH=/cuda-jit"]
    first = run(PREFIX + "ptx_compute80", ["/loader", "--ptx", "/big.ptx"], mounts)
    second = run(PREFIX + "ptx_compute80", ["/loader", "--ptx", "/big.ptx"], mounts)
    kib = big.stat().st_size / 1024
    sass = run(PREFIX + "sass_sm90", ["/loader", "/fixtures/libsass_sm90.so"])
    ptx = run(PREFIX + "ptx_compute80", ["/loader", "/fixtures/libptx_compute80.so"], ["-e", "CUDA_CACHE_DISABLE=1"])
    return {
        "ptx_kib": round(kib),
        "cold_ms": cold.get("load_ms"),
        "cached_first_ms": first.get("load_ms"),
        "cached_second_ms": second.get("load_ms"),
        "kib_per_s": round(kib / (cold["load_ms"] / 1000), 1) if cold.get("load_ms") else None,
        "tiny_sass_load_ms": sass.get("load_ms"),
        "tiny_ptx_load_ms": ptx.get("load_ms"),
    }


def markdown(report: dict) -> str:
    lines = [
        f"GPU: {report['gpu']}; Docker {report['docker']}; agreement {report['agreement']}",
        "",
        "| fixture | holds | check-image predicts (GPU 0) | codes | outcome in a container | agrees |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        out = row["outcome"]
        said = "ran" if out.get("status") == "ok" or "billion" in out.get("output", "") else out.get("error")
        lines.append(
            f"| {row['case']} | {row['holds']} | {row['predicted']['verdict']} | "
            f"{', '.join(row['predicted'].get('codes', [])) or '-'} | {said} | "
            f"{'yes' if row['agrees'] else 'NO'} |"
        )
    jit = report["jit"]
    lines += [
        "",
        f"`docker save` tarball of sass_sm80: {report['saved_tarball']}",
        "",
        f"PTX JIT: {jit['ptx_kib']} KiB of PTX compiled in {jit['cold_ms']} ms cold ({jit['kib_per_s']} KiB/s); "
        f"with a kept cache volume: {jit['cached_first_ms']} ms, then {jit['cached_second_ms']} ms; "
        f"the tiny fixture: SASS {jit['tiny_sass_load_ms']} ms, PTX {jit['tiny_ptx_load_ms']} ms to load",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
