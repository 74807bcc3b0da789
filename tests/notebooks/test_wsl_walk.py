"""A WSL 2 reader walks 00 -> 06 in a replay: Docker Desktop, or Docker Engine in Ubuntu 24.04 (Windows 11).

Each notebook's code cells run in this process against the path's snapshot, the parameters set as papermill
sets them (after the parameters cell). Nothing in what the reader sees may send them to a native-only command:
no Linux driver, no reboot, no NVIDIA driver repository; the driver plan is refused with the reason.
"""

from __future__ import annotations

import contextlib
import io
import re

import jupytext
import pytest

from tests.helpers import ROOT, SNAPSHOTS

WALK = [f"0{n}" for n in range(7)]
# What the driver notebook's native path installs: never printed on WSL 2 as something to run.
NATIVE_ONLY = re.compile(
    r"apt-get install -y (nvidia-open|cuda-drivers|nvidia-driver-pinning|linux-headers-)"
    r"|^\s*(sudo )?reboot\b|cuda-keyring_1\.1-1_all\.deb|nvidia-driver-\d{3}\b",
    re.M,
)


def replay(notebook: str, snapshot: str, **parameters) -> str:
    """The text a notebook prints for ``snapshot``: its code cells in order, as `gpudock run` would run them."""
    path = next((ROOT / "notebooks").glob(f"{notebook}-*.md"))
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for cell in jupytext.read(path).cells:
            if cell.cell_type != "code":
                continue
            exec(compile(cell.source, f"{path.name}", "exec"), namespace)  # noqa: S102 (the repository's notebook)
            if "parameters" in cell.metadata.get("tags", []):
                namespace.update(snapshot=snapshot, **parameters)
    return out.getvalue()


def walk(name: str, **parameters) -> dict[str, str]:
    snapshot = str(SNAPSHOTS / f"{name}.json")
    return {nb: replay(nb, snapshot, **(parameters if nb == "04" else {})) for nb in WALK}


@pytest.fixture(scope="module")
def desktop():
    return walk("wsl2-docker-desktop")


@pytest.fixture(scope="module")
def engine():
    return walk("wsl2-ubuntu2404-fresh", docker_source="docker-ce")  # 04's recommendation for this path


@pytest.fixture(scope="module")
def pending():
    return walk("wsl2-ubuntu2404-group-pending", docker_source="docker-ce")  # 04 done, no new login yet


def test_no_step_of_any_path_is_native_only(desktop, engine, pending):
    for path, pages in (("desktop", desktop), ("engine", engine), ("pending", pending)):
        for nb, text in pages.items():
            hit = NATIVE_ONLY.search(text)
            assert not hit, f"{path} {nb}: {hit.group(0)!r}"
        assert "gpudock refuses: WSL 2 must not get a Linux NVIDIA driver" in pages["03"], path
        assert "Windows" in pages["03"] and "/usr/lib/wsl/lib" in pages["03"]


def test_the_docker_desktop_path_is_healthy_and_installs_nothing_in_the_distro(desktop):
    host, findings = desktop["00"].split("\n✓", 1)
    assert "WSL 2 with Docker Desktop" in host and "Docker Desktop engine" in host  # caption, then the host line
    assert not re.search(r"^[✗!] ", findings, re.M), findings  # no error, no warning
    assert "docker-desktop-conflict" not in "".join(desktop.values())  # Desktop's own nvidia runtime is no conflict
    for nb in ("04", "05"):
        assert "apt-get install" not in desktop[nb], (nb, desktop[nb])
    assert "gpu-ok" in desktop["06"]


def test_the_engine_path_gets_docker_ce_then_the_toolkit_and_is_told_why_the_gpu_check_waits(engine):
    first_error = engine["00"].split("✗", 1)[1]
    assert first_error.startswith(" The docker command is not available")
    assert first_error.index("with Docker Desktop") < first_error.index("gpudock plan docker")
    assert "--source docker-ce" in first_error  # the choice this reader makes (04 below)
    plan = engine["04"].split("Nothing was run", 1)[0]
    assert "apt-get install -y docker-ce docker-ce-cli" in plan and "install -y docker.io" not in plan
    assert "usermod -aG docker -- taro" in plan and "log in again" in plan
    assert "install -y nvidia-container-toolkit" in engine["05"]
    assert "nvidia-ctk runtime configure --runtime=docker" in engine["05"]
    assert "fix this first: docker-cli-missing" in engine["06"]


def test_right_after_04_the_reader_is_told_to_log_in_again_and_05_still_verifies(pending):
    """H2, S5, S6: the docker group is active only from a new login (WSL: `wsl --terminate`, restart the lab)."""
    assert "[docker-group-pending]" in pending["00"] and "wsl --terminate Ubuntu-24.04" in pending["00"]
    assert "restart `gpudock lab`" in pending["00"]
    toolkit = pending["05"]
    assert "The final check runs with sudo" in toolkit and "wsl --terminate Ubuntu-24.04" in toolkit
    assert "Nothing to run on this host." in pending["04"] or "docker-ce is installed" in pending["04"]
