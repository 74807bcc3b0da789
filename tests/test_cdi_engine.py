"""A real engine resolves a spec gpudock generated: Debian 13's Docker 26 (CDI) inside a Debian 13 container.

Why Docker 26 from Debian 13 and not Debian's Podman: Docker is the engine this tutorial configures (daemon.json's
``features.cdi``, the restart, ``--device nvidia.com/gpu=all``) and the engine of the GPU proof on the lent machine,
so CI runs the same binaries and the same CDI library as that proof; Debian 12's Podman 4.3 carries an older CDI
library and would prove another engine. The engine runs inside a container of its own, so the test touches neither
the host's Docker daemon nor its /etc/cdi, and the fake driver's device nodes are made with mknod in there.
The container then must see exactly the spec's nodes (with the host node's numbers) and mounts (the same bytes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpudock.diagnose import diagnose
from gpudock.snapshot import Snapshot
from tests.cdi_fixtures import UUIDS, UVM_MAJOR

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("GPUDOCK_DOCKER26_CACHE", "/var/cache/gpudock-tests/docker26"))
pytestmark = [pytest.mark.requires_docker, pytest.mark.requires_root]


@pytest.fixture(scope="module")
def engine_run(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root (a privileged container, debootstrap)")
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        pytest.fail("busybox-static is needed (apt-get install busybox-static)")
    subprocess.run([str(ROOT / "scripts" / "docker26-binaries"), str(CACHE)], check=True, timeout=240)
    sys.path.insert(0, str(ROOT / "tests" / "images"))
    from debian_image import build

    image = build("trixie", say=lambda line: None)  # README's fresh Debian 13 (CI built it one step earlier)
    out = tmp_path_factory.mktemp("cdi-engine")
    # what --privileged gives, spelled out: CI's machine lacks CAP_SYS_RESOURCE in its bounding set, so
    # --privileged (all capabilities) cannot start there; cdi_inside.sh mounts its cgroups afresh, read-write
    argv = [
        "docker", "run", "--rm", "--network", "none", "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
        "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
        "--security-opt", "systempaths=unconfined", "--cgroupns", "private",
        "--device-cgroup-rule", "c *:* rwm", "--device-cgroup-rule", "b *:* rwm",
        "-v", f"{CACHE}:/opt/docker26:ro", "-v", f"{ROOT}:/gpudock:ro", "-v", f"{busybox}:/opt/busybox:ro",
        "-v", f"{out}:/out", image, "bash", "/gpudock/tests/engine/cdi_inside.sh",
    ]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert (out / "spec.json").exists(), f"the engine run failed:\n{proc.stdout}\n{proc.stderr}\n" + _log(out)
    return out


def _log(out: Path) -> str:
    log = out / "dockerd.log"
    return log.read_text()[-3000:] if log.exists() else ""


def _inside(out: Path, device: str) -> tuple[dict, dict, list[str]]:
    nodes, files, env = {}, {}, []
    for line in (out / f"inside-{device}.txt").read_text().splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "node":
            path, major, minor = rest.split()
            nodes[path] = (int(major, 16), int(minor, 16))
        elif kind == "file":
            path, digest = rest.split()
            files[path] = digest
        elif kind == "env":
            env.append(rest)
    return nodes, files, env


def test_the_engine_is_docker_26_and_the_spec_checks_clean(engine_run):
    assert (engine_run / "engine-version.txt").read_text().startswith("26.")
    assert (engine_run / "check-good.rc").read_text().strip() == "0"
    assert json.loads((engine_run / "check-good.json").read_text())["ok"] is True


def test_the_container_sees_exactly_the_specs_nodes_and_mounts(engine_run):
    spec = json.loads((engine_run / "spec.json").read_text())
    host_files = dict(line.split()[1:] for line in (engine_run / "host-files.txt").read_text().splitlines())
    mounts = [m["containerPath"] for m in spec["containerEdits"]["mounts"]]
    assert set(host_files) == set(mounts)  # each mount's container path is a real file of the fake driver
    common = {n["path"] for n in spec["containerEdits"]["deviceNodes"]}
    expected_numbers = {"/dev/nvidia0": (195, 0), "/dev/nvidia1": (195, 1), "/dev/nvidiactl": (195, 255)}
    expected_numbers |= {"/dev/nvidia-uvm": (UVM_MAJOR, 0), "/dev/nvidia-uvm-tools": (UVM_MAJOR, 1)}
    for device in ("all", "0", UUIDS[1]):
        nodes, files, env = _inside(engine_run, device)
        entry = next(d for d in spec["devices"] if d["name"] == device)
        wanted = common | {n["path"] for n in entry["containerEdits"]["deviceNodes"]}
        assert set(nodes) == wanted, device  # exactly these nodes: GPU 1 is not in device 0's container
        assert all(
            nodes[p] == expected_numbers[p] for p in nodes
        )  # the host node's major:minor (no numbers in the spec)
        assert files == {p: host_files[p] for p in mounts}  # every mount, with the host file's bytes
        assert env == ["void"]
    nodes, files, env = _inside(engine_run, "none")
    assert nodes == {} and files == {} and env == [""]  # without --device: nothing of the GPU


def test_an_unknown_device_is_unresolvable_and_the_doctor_says_so(engine_run):
    text = (engine_run / "unresolvable.txt").read_text()
    assert (engine_run / "unresolvable.rc").read_text().strip() != "0"
    assert "unresolvable CDI devices nvidia.com/gpu=7" in text
    snap = Snapshot({"commands": {"docker_cdi_gpu": {"rc": 125, "stdout": "", "stderr": text}}})
    assert "cdi-device-unresolvable" in [f.code for f in diagnose(snap)]  # the engine's own words


def test_a_library_gone_from_disk_is_named_by_the_check_and_refused_by_the_engine(engine_run):
    assert (engine_run / "check-stale.rc").read_text().strip() == "1"
    assert "libnvidia-nvvm.so.580.95.05: does not exist on the host" in (engine_run / "check-stale.txt").read_text()
    assert (engine_run / "stale-run.rc").read_text().strip() != "0"
    refusal = (engine_run / "stale-run.txt").read_text()
    assert "libnvidia-nvvm.so.580.95.05" in refusal
    snap = Snapshot({"commands": {"docker_cdi_gpu": {"rc": 125, "stdout": "", "stderr": refusal}}})
    assert "cdi-spec-stale" in [f.code for f in diagnose(snap)]
