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


def test_a_live_plan_says_what_it_did_not_look_at(tmp_path, monkeypatch):
    from gpudock.install import NOT_SEEN, plan_for
    from tests.helpers import SNAPSHOTS

    for key, value in fake_docker(tmp_path, ["hello-world:latest"]).items():
        monkeypatch.setenv(key, value)
    live = plan_for("docker", say=lambda line: None)
    assert NOT_SEEN in live.notes and not [c for c in _calls(tmp_path) if c.startswith("run ")]
    assert NOT_SEEN not in plan_for("docker", SNAPSHOTS / "debian12-ci-no-gpu.json").notes


def test_logs_go_to_one_folder_whatever_the_working_folder(tmp_path, monkeypatch):
    from gpudock import paths

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GPUDOCK_LOG_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(paths.os, "geteuid", lambda: 1000)
    first = paths.new_log_dir(None, "install-docker")
    assert first.parent == tmp_path / "state" / "gpudock" / "log" and first.name.endswith("-install-docker")
    assert paths.new_log_dir(None, "install-docker") != first  # never an earlier run's folder
    monkeypatch.setattr(paths.os, "geteuid", lambda: 0)
    assert paths.log_home() == paths.Path("/var/log/gpudock")
    monkeypatch.setenv("GPUDOCK_LOG_DIR", str(tmp_path / "mine"))
    assert paths.new_log_dir(None, "install-all").parent == tmp_path / "mine"
    assert not (tmp_path / "runs").exists()


def test_a_plan_probe_keeps_the_image_listing_it_read(tmp_path):
    """No container runs for a plan, but the images here are kept: the plan's checks run one of them unpulled."""
    snap = probe.collect(env=fake_docker(tmp_path, ["gpudock/hello:latest"]), containers=False)
    assert not [call for call in _calls(tmp_path) if call.startswith("run ")]
    listing = snap.data["commands"]["docker_images"]
    assert (
        listing["rc"] == 0
        and "gpudock/hello:latest" in listing["stdout"]
        and listing["argv"][:3]
        == [
            "docker",
            "image",
            "ls",
        ]
    )
