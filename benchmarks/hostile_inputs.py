"""How long the doctor takes on worst-case hostile snapshots (target: a 2 MB snapshot diagnosed in under 2 s).

    python3 benchmarks/hostile_inputs.py [MEGABYTES]

Builds one snapshot per family of hostile text — repetitions that make backtracking regexes take
quadratic time (``repository `` × n against ``repository .* is not signed``, runs of spaces and
newlines against ``^\\s*`` with MULTILINE, ``file creation failed: `` × n, digit runs, table bars …) —
each MEGABYTES large (default 2), spread over every probe and file of the contract. Each is written
to a file and timed end to end in process: load (schema, caps, validation), ``gpudock.diagnose.diagnose``
(the doctor's stable entry point, so new rules are measured as they land), doctor JSON and every plan.
Not a test: prints each family's time and exits 1 when one misses the target.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gpudock.diagnose import diagnose  # noqa: E402
from gpudock.exceptions import PlanRefused  # noqa: E402
from gpudock.facts.host import host_info  # noqa: E402
from gpudock.install import STEPS, make_plan  # noqa: E402
from gpudock.snapshot import Snapshot  # noqa: E402
from gpudock.views import doctor_json, findings_text  # noqa: E402

TARGET_S = 2.0
PROBES = (
    "docker_gpu docker_gpu_runtime docker_gpu_sudo docker_version docker_info docker_ps docker_hello nvidia_smi "
    "nvidia_smi_query nvidia_ctk_version nvidia_container_cli_info nvidia_container_cli_debug dpkg_nvidia dpkg_docker "
    "systemctl_docker id ls_docker_sock docker_nbody nvidia_docker_run apt_update"
).split()
FILES = (
    "/etc/os-release",
    "/proc/version",
    "/etc/docker/daemon.json",
    "/proc/driver/nvidia/version",
    "/etc/wsl.conf",
    "/etc/nvidia-container-runtime/config.toml",
    "/etc/apt/sources.list.d/nvidia-docker.list",
    "/etc/apt/sources.list.d/cuda.list",
)
FAMILIES = {
    "repository-star": "repository ",
    "file-creation-failed": "file creation failed: /usr/lib/libnvidia",
    "device-driver": "could not select device driver ",
    "nvidia-smi-header": "NVIDIA-SMI 1.2 ",
    "spaces": " ",
    "blank-lines": " \n",
    "table-bars": "|   0 A",
    "cuda-condition": "unsatisfied condition: cuda>=1.",
    "digits": "0.",
    "billion": "= 1.1 ",
    "runtimes": "Runtimes: ",
    "engine": "Engine:\n ",
    "urls": "https://x/",
    "markup-controls": "[/]\x1b[31m\u202e\ud800",
    "no-systemd": "has not been booted with systemd as init system",
}


def hostile_snapshot(unit: str, size: int) -> dict:
    texts = len(PROBES) * 2 + len(FILES)
    text = unit * (size // texts // len(unit) + 1)
    return {
        "platform": {"system": "Linux", "release": "6.1.0-26-amd64", "machine": "x86_64"},
        "env": {"USER": "alice"},
        "files": {path: text for path in FILES},
        "paths": {"/dev/dxg": True, "/run/systemd/system": False},
        "commands": {name: {"rc": 1, "stdout": text, "stderr": text} for name in PROBES},
    }


def end_to_end(path: Path) -> float:
    start = time.perf_counter()
    snap = Snapshot.load(path)
    host = host_info(snap)
    findings = diagnose(snap, host)
    doctor_json(findings, host).encode("utf-8")
    findings_text(findings)
    for step in STEPS:
        try:
            plan = make_plan(step, snap, host)
        except PlanRefused:
            continue
        plan.to_sh()
        plan.to_json()
    return time.perf_counter() - start


def main() -> int:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    size = int(megabytes * 1024 * 1024)
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for name, unit in FAMILIES.items():
            path = Path(folder) / f"{name}.json"
            path.write_text(json.dumps(hostile_snapshot(unit, size)))
            seconds = end_to_end(path)
            worst = max(worst, seconds)
            print(f"{name:22} {path.stat().st_size / 1e6:5.1f} MB  {seconds:6.2f} s")
    verdict = "meets" if worst < TARGET_S else "misses"
    print(f"worst {worst:.2f} s for {megabytes:g} MB snapshots ({verdict} the {TARGET_S:g} s target)")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
