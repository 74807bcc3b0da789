"""SSH test hosts shared by the fleet tests of one module (started once: each costs a container)."""

from __future__ import annotations

import pytest

from tests.fleet.sshhosts import Fleet, start_lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """h200 (stand-in nvidia-smi, this machine's Docker), nodocker, and down (nothing listening)."""
    fleet = Fleet(tmp_path_factory.mktemp("lab"))
    try:
        yield start_lab(fleet)
    finally:
        fleet.stop()
