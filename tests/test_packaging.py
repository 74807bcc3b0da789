"""pyproject.toml and environment.yml list the same dependencies; the package runs as `python -m gpudock`."""

import re
import subprocess
import sys

import tomllib
import yaml

from tests.helpers import ROOT

CONDA_NAMES = {"docker-py": "docker", "cuda-cuobjdump": "nvidia-cuda-cuobjdump"}  # conda-forge names -> PyPI names
CONDA_ONLY = {"python", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pip_side = {_name(r) for r in project["dependencies"] + extras["test"] + extras["fleet"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_side = set()
    for entry in env["dependencies"]:
        if isinstance(entry, str):
            name = _name(entry)
            conda_side.add(CONDA_NAMES.get(name, name))
        else:
            assert entry["pip"] == ["-e ."], "the pip section installs gpudock itself"
    assert conda_side - CONDA_ONLY == pip_side
    assert env["channels"] == ["conda-forge"]


def test_cuda_extras_pick_one_cupy_wheel_each():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert [_name(r) for r in extras["cuda11"]] == ["cupy-cuda11x"]
    assert [_name(r) for r in extras["cuda12"]] == ["cupy-cuda12x"]
    assert [_name(r) for r in extras["cuda13"]] == ["cupy-cuda13x"]


def test_fleet_extra_is_ansible_core_and_runner():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert sorted(_name(r) for r in extras["fleet"]) == ["ansible-core", "ansible-runner"]


def test_module_and_console_script_agree():
    module = subprocess.run([sys.executable, "-m", "gpudock", "--help"], capture_output=True, text=True)
    assert module.returncode == 0 and "doctor" in module.stdout and "bench" in module.stdout
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["gpudock"] == "gpudock.cli:main"


def test_importing_gpudock_does_no_io(tmp_path):
    """No probes, files or network at import time: importing must not even touch the current folder."""
    code = (
        "import sys, gpudock, gpudock.cli, gpudock.diagnose, gpudock.install, gpudock.runner, gpudock.slides;"
        "heavy = [m for m in ('docker', 'papermill', 'cupy', 'matplotlib') if m in sys.modules]; print(heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr
    assert list(tmp_path.iterdir()) == []
