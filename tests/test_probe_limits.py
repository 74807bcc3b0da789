"""What the live probe may do: no container for a plan, no pull for a health check, a bounded time."""

from __future__ import annotations

import os
import time

from gpudock import probe
from gpudock.probe import Probe

# A stand-in `docker` first on PATH: it lists the local images given and records every other call.
FAKE_DOCKER = """#!/bin/sh
if [ "$1 $2" = "image ls" ]; then printf '%s\\n' {images}; exit 0; fi
echo "$*" >> "$GPUDOCK_FAKE_DOCKER_LOG"
exit 0
"""


def fake_docker(tmp_path, images=("busybox:latest",)) -> dict:
    """The environment for probe.collect with the stand-in docker (its calls land in tmp_path/calls)."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    (folder / "docker").write_text(FAKE_DOCKER.format(images=" ".join(images)))
    (folder / "docker").chmod(0o755)
    return {"PATH": f"{folder}:{os.environ['PATH']}", "GPUDOCK_FAKE_DOCKER_LOG": str(tmp_path / "calls")}


def _calls(tmp_path) -> list[str]:
    path = tmp_path / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_a_plan_probe_starts_no_container(tmp_path):
    snap = probe.collect(env=fake_docker(tmp_path), containers=False)
    ran = _calls(tmp_path)
    assert ran and not [call for call in ran if call.startswith("run ")], ran
    assert "docker_hello" not in snap.data["commands"] and "docker_info" in snap.data["commands"]


def test_without_pull_only_local_images_run(tmp_path):
    said = []
    snap = probe.collect(env=fake_docker(tmp_path), pull=False, say=said.append)
    # hello-world is not here (nor any image the GPU probes use): no container probe runs, nothing is pulled
    assert not [call for call in _calls(tmp_path) if call.startswith("run ")] and said == []
    assert "docker_hello" not in snap.data["commands"] and "docker_gpu" not in snap.data["commands"]
    (tmp_path / "calls").unlink(missing_ok=True)
    snap = probe.collect(env=fake_docker(tmp_path, ["gpudock/hello:latest"]), pull=False)
    runs = [call for call in _calls(tmp_path) if call.startswith("run ")]
    assert runs and all("gpudock/hello" in call for call in runs), runs  # the local image serves both probes
    assert {"docker_hello", "docker_gpu"} <= set(snap.data["commands"])


def test_a_budget_bounds_the_whole_probe(monkeypatch, tmp_path):
    table = [Probe("slow", ("sleep", "30"), timeout=60), Probe("quick", ("true",))]
    monkeypatch.setattr(probe, "probes", lambda *args, **kwargs: table)
    started = time.monotonic()
    snap = probe.collect(env=fake_docker(tmp_path), budget_s=1.5)
    assert time.monotonic() - started < 6
    slow, quick = snap.data["commands"]["slow"], snap.data["commands"]["quick"]
    assert slow["timed_out"] and slow["rc"] is None and quick["rc"] == 0


def test_a_spent_budget_runs_nothing_more(monkeypatch, tmp_path):
    table = [Probe("first", ("sleep", "30"), timeout=60), Probe("second", ("true",))]
    monkeypatch.setattr(probe, "probes", lambda *args, **kwargs: table)
    snap = probe.collect(env=fake_docker(tmp_path), budget_s=1.0, max_workers=1)  # second waits for first
    assert "time budget" in snap.data["commands"]["second"]["stderr"]
