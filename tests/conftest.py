"""requires_<tool> markers become skips where the tool is missing, and failures in CI.

CI (CI=true, or GPUDOCK_REQUIRE_DOCKER=1) must run the Docker tests against the
real daemon: a skip there would hide a broken .ci/run, so it fails instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import settings

# Fuzzing sized by a profile: "push" (the default) runs a few hundred generated cases on every run of the
# suite; the 10,000-case fuzz is a test marked `slow`, which .ci/run runs once in a step of its own.
# HYPOTHESIS_PROFILE=default gives hypothesis's own sizes.
settings.register_profile("push", max_examples=75)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "push"))

DATA = Path(__file__).parent / "data"


@cache
def docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@cache
def gpu_present() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


@cache
def browser_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@cache
def ansible_present() -> bool:
    try:
        import ansible_runner  # noqa: F401  (only whether it imports)
    except ImportError:
        return False
    return shutil.which("ansible-playbook") is not None and shutil.which("ssh") is not None


def _docker_required() -> bool:
    """In CI the real Docker daemon and Chromium must be there: a skip would hide a broken .ci/run."""
    return os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("GPUDOCK_REQUIRE_DOCKER") == "1"


def pytest_runtest_setup(item):
    if item.get_closest_marker("requires_docker") and not docker_answers():
        if _docker_required():
            pytest.fail(
                "CI must run Docker tests against a real daemon, but `docker info` fails: .ci/run did not start dockerd"
            )
        pytest.skip("no Docker daemon answers here (start dockerd to run this test)")
    if item.get_closest_marker("requires_gpu") and not gpu_present():
        pytest.skip("no NVIDIA GPU visible to CuPy on this machine")
    if item.get_closest_marker("requires_browser") and not browser_path():
        if _docker_required():
            pytest.fail("CI must run the browser tests, but no Chromium is installed: .ci/run did not install it")
        pytest.skip("no headless Chromium (apt-get install chromium)")
    if item.get_closest_marker("requires_ansible") and not ansible_present():
        if _docker_required():
            pytest.fail("CI must run the fleet tests, but ansible-runner or ssh is missing: see .ci/run")
        pytest.skip("no Ansible here (pip install 'gpudock[fleet]', apt-get install openssh-client)")
    if item.get_closest_marker("requires_root") and os.geteuid() != 0:
        pytest.skip("needs root to run commands as another user")


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> Path:
    """The reference replay run (as slides/rebuild.sh makes it: the healthy H200 snapshot and its measured
    figures), executed once per test session for every test that reads it."""
    root = Path(__file__).resolve().parents[1]
    run = tmp_path_factory.mktemp("reference") / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "gpudock", "run", "--snapshot", str(DATA / "snapshots" / "native-h200-healthy.json")]
        + ["-p", "results", str(root / "docs" / "benchmarks" / "h200-host.json"), "--out", str(run)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=600,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])},
    )
    assert proc.returncode == 0, proc.stderr
    return run
