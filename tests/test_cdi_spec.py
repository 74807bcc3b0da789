"""gpudock cdi generate: the spec for a fake driver tree, checked against the CDI project's own JSON schema."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from gpudock.cdi import binary, spec
from gpudock.cdi.discover import DriverNotFound, TreeHost, discover, driver_version
from gpudock.cdi.generate import generate
from gpudock.cli import main
from tests.cdi_fixtures import OTHER_VERSION, UUIDS, VERSION, elf_library, make_native, make_wsl

SCHEMA_DIR = Path(__file__).parent / "data" / "cdi-schema"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="device nodes (mknod) and ldconfig -r need root")


def schema_validator() -> Draft7Validator:
    schema = json.loads((SCHEMA_DIR / "schema.json").read_text())
    defs = json.loads((SCHEMA_DIR / "defs.json").read_text())
    registry = Registry().with_resource("defs.json", Resource.from_contents(defs, default_specification=_draft7()))
    return Draft7Validator(schema, registry=registry)


def _draft7():
    from referencing.jsonschema import DRAFT7

    return DRAFT7


@pytest.fixture
def native(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("device nodes (mknod) need root")
    return make_native(tmp_path / "host")


def test_the_schema_itself_refuses_a_spec_without_devices():
    errors = list(schema_validator().iter_errors({"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu"}))
    assert errors and "devices" in errors[0].message


@needs_root
def test_spec_for_a_two_gpu_host_is_valid_against_the_cdi_schema_in_yaml_and_json(native):
    text, driver = generate(str(native), "nvidia.yaml")
    data = yaml.safe_load(text)
    assert list(schema_validator().iter_errors(data)) == []
    as_json, _ = generate(str(native), "nvidia.json")
    assert json.loads(as_json) == data and list(schema_validator().iter_errors(json.loads(as_json))) == []
    assert data["cdiVersion"] == "0.5.0"  # device names that start with a digit need 0.5.0, nothing newer
    assert data["kind"] == "nvidia.com/gpu"
    names = [d["name"] for d in data["devices"]]
    assert names == ["0", UUIDS[0], "1", UUIDS[1], "all"]
    nodes = {d["name"]: [n["path"] for n in d["containerEdits"]["deviceNodes"]] for d in data["devices"]}
    assert nodes["0"] == nodes[UUIDS[0]] == ["/dev/nvidia0"] and nodes["all"] == ["/dev/nvidia0", "/dev/nvidia1"]
    common = data["containerEdits"]
    assert [n["path"] for n in common["deviceNodes"]] == ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"]
    assert all("major" not in n for d in data["devices"] for n in d["containerEdits"]["deviceNodes"])
    assert common["env"] == ["NVIDIA_VISIBLE_DEVICES=void"] and not any("LD_LIBRARY_PATH" in e for e in common["env"])
    assert "hooks" not in common  # no hook binary: nothing of the toolkit is needed on the host
    spec.load(text, "/etc/cdi/nvidia.yaml")  # and gpudock's own strict loader (the engines' rules) takes it


@needs_root
def test_libraries_are_the_loaded_drivers_own_under_their_sonames(native):
    text, driver = generate(str(native), "nvidia.yaml")
    mounts = {m["containerPath"]: m["hostPath"] for m in yaml.safe_load(text)["containerEdits"]["mounts"]}
    lib = "/usr/lib/x86_64-linux-gnu"
    assert mounts[f"{lib}/libcuda.so.1"] == f"{lib}/libcuda.so.{VERSION}"
    assert mounts[f"{lib}/libcuda.so"] == f"{lib}/libcuda.so.{VERSION}"  # what `-lcuda` links against
    assert mounts[f"{lib}/libnvidia-ml.so.1"] == f"{lib}/libnvidia-ml.so.{VERSION}"
    assert mounts[f"{lib}/libnvidia-nvvm.so.4"] == f"{lib}/libnvidia-nvvm.so.{VERSION}"  # SONAME read from the ELF
    assert mounts[f"{lib}/libnvidia-gpucomp.so.{VERSION}"] == f"{lib}/libnvidia-gpucomp.so.{VERSION}"
    assert mounts["/usr/bin/nvidia-smi"] == "/usr/local/nvidia/bin/nvidia-smi"  # the ELF, not /usr/bin's wrapper
    assert mounts["/usr/bin/nvidia-debugdump"] == "/usr/bin/nvidia-debugdump"
    hosts = set(mounts.values())
    assert f"{lib}/libcuda.so.{OTHER_VERSION}" not in hosts  # another driver lying on disk
    assert not any("glcore" in h or "i386" in h for h in hosts)  # graphics and 32-bit: not compute/utility
    assert sorted(lib.soname for lib in driver.libraries) == [
        "libcuda.so.1",
        f"libnvidia-gpucomp.so.{VERSION}",
        "libnvidia-ml.so.1",
        "libnvidia-nvvm.so.4",
        "libnvidia-ptxjitcompiler.so.1",
    ]


@needs_root
def test_generate_is_byte_identical_on_rerun_and_written_atomically(native, tmp_path, capsys):
    out = tmp_path / "cdi" / "nvidia.yaml"
    assert main(["cdi", "generate", "--root", str(native), "--output", str(out)]) == 0
    first = out.read_bytes()
    os.utime(native / "usr/lib/x86_64-linux-gnu", (1, 1))  # a touched folder changes nothing
    assert main(["cdi", "generate", "--root", str(native), "--output", str(out)]) == 0
    assert out.read_bytes() == first
    assert [p.name for p in out.parent.iterdir()] == ["nvidia.yaml"]  # no temporary file left beside it
    assert "wrote" in capsys.readouterr().err


@needs_root
def test_without_ldcache_the_library_folders_are_searched(tmp_path):
    root = make_native(tmp_path / "host", gpus=1, ldcache=False)
    driver = discover(TreeHost(str(root)), "x86_64")
    assert {lib.soname for lib in driver.libraries} >= {"libcuda.so.1", "libnvidia-ml.so.1"}
    assert [g.node for g in driver.gpus] == ["/dev/nvidia0"]


@needs_root
def test_wsl2_layout_dxg_and_the_windows_driver_files(tmp_path):
    root = make_wsl(tmp_path / "wsl")
    text, driver = generate(str(root), "nvidia.yaml")
    data = yaml.safe_load(text)
    assert list(schema_validator().iter_errors(data)) == []
    assert [d["name"] for d in data["devices"]] == ["all"]
    assert data["devices"][0]["containerEdits"]["deviceNodes"] == [{"path": "/dev/dxg"}]
    mounts = {m["containerPath"]: m["hostPath"] for m in data["containerEdits"]["mounts"]}
    assert mounts["/usr/lib/x86_64-linux-gnu/libcuda.so.1"] == "/usr/lib/wsl/lib/libcuda.so.1"
    assert mounts["/usr/lib/x86_64-linux-gnu/libdxcore.so"] == "/usr/lib/wsl/lib/libdxcore.so"
    assert mounts["/usr/bin/nvidia-smi"] == "/usr/lib/wsl/lib/nvidia-smi"
    assert mounts["/usr/lib/wsl/lib"] == "/usr/lib/wsl/lib" and mounts["/usr/lib/wsl/drivers"] == "/usr/lib/wsl/drivers"
    assert driver.wsl and driver.version is None


def test_no_driver_is_one_line_and_exit_1(tmp_path, capsys):
    (tmp_path / "proc").mkdir()
    with pytest.raises(DriverNotFound, match="no NVIDIA kernel module is loaded"):
        discover(TreeHost(str(tmp_path)))
    assert main(["cdi", "generate", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gpudock plan driver" in err
    assert main(["cdi", "generate", "--root", str(tmp_path / "nowhere")]) == 2


@pytest.mark.parametrize(
    "text,version",
    [
        ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.129.03  Thu Oct 19 18:56:32 UTC 2023\n", "535.129.03"),
        (
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (dvs-builder@U16)\n",
            "580.159.04",
        ),
        ("NVRM version: NVIDIA UNIX aarch64 Kernel Module  550.54.14  Thu Feb 22 01:25:25 UTC 2024\n", "550.54.14"),
        ("garbage", None),
        ("", None),
    ],
)
def test_driver_version_from_proc(text, version):
    assert driver_version(text) == version


# --- the binary readers --------------------------------------------------------------------------------


def test_elf_soname_and_refusals(tmp_path):
    lib = tmp_path / "libx.so.1.2.3"
    lib.write_bytes(elf_library("libx.so.1"))
    assert binary.elf_info(str(lib)) == (62, "libx.so.1")
    lib.write_bytes(elf_library("libx.so.1", elf_class=1))
    assert binary.elf_info(str(lib)) is None  # 32-bit
    lib.write_bytes(elf_library(None))
    assert binary.elf_info(str(lib)) == (62, None)
    lib.write_bytes(b"\x7fELF" + os.urandom(200))
    assert binary.elf_info(str(lib)) is None or isinstance(binary.elf_info(str(lib)), tuple)
    assert binary.elf_info(str(tmp_path)) is None and binary.elf_info(str(tmp_path / "absent")) is None


@needs_root
def test_ld_cache_written_by_the_real_ldconfig_is_read(tmp_path):
    root = make_native(tmp_path / "host", gpus=1)
    entries = dict(binary.ld_cache(str(root / "etc/ld.so.cache")))
    assert entries["libcuda.so.1"] == "/usr/lib/x86_64-linux-gnu/libcuda.so.1"
    assert entries["libnvidia-nvvm.so.4"] == "/usr/lib/x86_64-linux-gnu/libnvidia-nvvm.so.4"


def test_ld_cache_garbage_is_empty(tmp_path):
    junk = tmp_path / "ld.so.cache"
    junk.write_bytes(b"glibc-ld.so.cache1.1" + b"\xff" * 64)
    assert binary.ld_cache(str(junk)) == []
    junk.write_bytes(os.urandom(4096))
    assert binary.ld_cache(str(junk)) == []
    assert binary.ld_cache("/dev/null") == [] and binary.ld_cache(str(tmp_path / "none")) == []


def test_the_spec_written_on_the_real_h100_is_valid_against_the_schema():
    real = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "cdi-h100" / "nvidia.yaml"
    data = yaml.safe_load(real.read_text())
    assert list(schema_validator().iter_errors(data)) == []
    assert data["cdiVersion"] == "0.5.0"
