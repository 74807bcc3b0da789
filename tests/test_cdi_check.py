"""gpudock cdi check: one line per problem (spec, path, fix); exit 1 on a stale spec, 0 on a good one."""

from __future__ import annotations

import json
import os
import time

import pytest
import yaml

from gpudock.cdi import spec
from gpudock.cdi.check import MISSING, STALE, UNRESOLVABLE, check
from gpudock.cdi.discover import TreeHost
from gpudock.cdi.generate import generate
from gpudock.cli import main
from tests.cdi_fixtures import VERSION, make_native, proc_version

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the fake driver's device nodes need root (mknod)")


@pytest.fixture
def host(tmp_path):
    root = make_native(tmp_path / "host")
    text, _ = generate(str(root), "nvidia.yaml")
    (root / "etc/cdi").mkdir(parents=True)
    (root / "etc/cdi/nvidia.yaml").write_text(text)
    return root


def _edit(root, mutate, path="etc/cdi/nvidia.yaml"):
    target = root / path
    data = yaml.safe_load((root / "etc/cdi/nvidia.yaml").read_text())
    mutate(data)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data))


def _run(root, capsys, *extra):
    rc = main(["cdi", "check", "--root", str(root), *extra])
    return rc, capsys.readouterr().out


def test_a_fresh_spec_is_ok(host, capsys):
    rc, out = _run(host, capsys)
    assert rc == 0
    assert out.strip().splitlines() == [
        "ok: nvidia.com/gpu devices 0, 1, GPU-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9, "
        "GPU-5f1c2a3b-4d5e-6f70-8192-a3b4c5d6e7f8, all (from /etc/cdi/nvidia.yaml)"
    ]


def test_after_a_driver_update_every_library_is_named_and_exit_is_1(host, capsys):
    (host / "proc/driver/nvidia/version").write_text(proc_version("590.44.01"))
    rc, out = _run(host, capsys)
    assert rc == 1
    lines = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(lines) == 5
    assert all(line.startswith("✗ /etc/cdi/nvidia.yaml: /usr/lib/x86_64-linux-gnu/lib") for line in lines)
    assert f"is driver {VERSION}'s, but the loaded kernel module is 590.44.01" in lines[0]
    assert all("fix: sudo gpudock install cdi --apply" in line for line in lines)


def test_a_library_removed_from_the_spec_is_named(host, capsys):
    def drop_nvml(data):
        data["containerEdits"]["mounts"] = [
            m for m in data["containerEdits"]["mounts"] if "libnvidia-ml" not in m["hostPath"]
        ]

    _edit(host, drop_nvml)
    rc, out = _run(host, capsys)
    assert rc == 1
    assert "✗ /etc/cdi/nvidia.yaml: libnvidia-ml.so*: the spec mounts no libnvidia-ml.so*" in out


def test_a_library_gone_from_disk_and_a_missing_node_are_named(host, capsys):
    (host / f"usr/lib/x86_64-linux-gnu/libnvidia-nvvm.so.{VERSION}").unlink()
    (host / "dev/nvidia1").unlink()
    rc, out = _run(host, capsys)
    assert rc == 1
    assert (
        f"✗ /etc/cdi/nvidia.yaml: /usr/lib/x86_64-linux-gnu/libnvidia-nvvm.so.{VERSION}: does not exist on the host"
        in out
    )
    assert (
        "✗ /etc/cdi/nvidia.yaml: /dev/nvidia1: this device node does not exist on the host (device 1 of the spec" in out
    )


def test_a_wrong_device_node_number_is_flagged(host, capsys):
    def wrong(data):
        data["devices"][0]["containerEdits"]["deviceNodes"] = [
            {"path": "/dev/nvidia0", "type": "c", "major": 195, "minor": 7}
        ]

    _edit(host, wrong)
    rc, out = _run(host, capsys)
    assert rc == 1
    assert "/dev/nvidia0: the spec says c 195:7, the host's node is c 195:0" in out


def test_uvm_missing_from_the_spec(host, capsys):
    _edit(host, lambda d: d["containerEdits"].update(deviceNodes=[{"path": "/dev/nvidiactl"}]))
    rc, out = _run(host, capsys)
    assert rc == 1 and "the spec gives containers no /dev/nvidia-uvm: CUDA cannot start" in out


def test_two_specs_in_one_folder_conflict_and_var_run_shadows_etc(host, capsys):
    (host / "etc/cdi/nvidia.json").write_text(json.dumps(yaml.safe_load((host / "etc/cdi/nvidia.yaml").read_text())))
    result = check(TreeHost(str(host)))
    conflicts = [p for p in result.problems if "same folder" in p.message]
    assert conflicts and all(p.severity == "error" and p.code == STALE for p in conflicts)
    assert "all" not in result.winner  # engines drop a device two specs of one folder define
    assert any(p.code == UNRESOLVABLE for p in result.problems)
    (host / "etc/cdi/nvidia.json").unlink()
    _edit(host, lambda d: None, "var/run/cdi/nvidia.yaml")
    rc, out = _run(host, capsys)
    assert rc == 0  # a shadowed spec is a warning: the newer folder's spec wins
    assert "! /etc/cdi/nvidia.yaml: is shadowed: /var/run/cdi/nvidia.yaml defines the same devices and wins" in out
    assert "(from /var/run/cdi/nvidia.yaml)" in out


def test_no_spec_is_cdi_spec_missing(tmp_path, capsys):
    root = make_native(tmp_path / "host", gpus=1)
    result = check(TreeHost(str(root)))
    assert [p.code for p in result.problems] == [MISSING]
    rc, out = _run(root, capsys, "--json")
    assert rc == 1 and json.loads(out)["problems"][0]["code"] == "cdi-spec-missing"


def test_spec_files_named_on_the_command_line(host, tmp_path, capsys):
    other = tmp_path / "mine.yaml"
    other.write_text((host / "etc/cdi/nvidia.yaml").read_text().replace("/dev/nvidia1", "/dev/nvidia9"))
    rc = main(["cdi", "check", "--root", str(host), str(other)])
    out = capsys.readouterr().out
    assert rc == 1 and f"{other}: /dev/nvidia9: this device node does not exist" in out
    assert main(["cdi", "check", str(tmp_path / "absent.yaml")]) == 2


# --- hostile and broken specs: one problem line, bounded -----------------------------------------------


@pytest.mark.parametrize(
    "text,message",
    [
        (
            "kind: nvidia.com/gpu\ncdiVersion: 0.5.0\ndevices: [{name: all, containerEdits: {}, bogus: 1}]",
            "unknown field 'bogus'",
        ),
        ("cdiVersion: 9.9.9\nkind: nvidia.com/gpu\ndevices: [{name: all, containerEdits: {}}]", "not a CDI version"),
        ("cdiVersion: 0.3.0\nkind: nvidia.com/gpu\ndevices: [{name: '0', containerEdits: {}}]", "at least 0.5.0"),
        ("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: [{name: 0, containerEdits: {}}]", "name is not a string"),
        ("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: []", "lists no devices"),
        ("- just\n- a list\n# nvidia.com/gpu", "not a mapping"),
        ("kind: nvidia.com/gpu\n: : :", "not valid YAML"),
        ("a: &x [1,2]\nb: *x\nkind: nvidia.com/gpu\n", "aliases"),
    ],
)
def test_specs_engines_refuse_are_refused_here_too(text, message):
    with pytest.raises(spec.InvalidSpec, match=message):
        spec.load(text, "/etc/cdi/x.yaml")


def test_billion_laughs_and_huge_specs_cost_bounded_time():
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
    )
    started = time.monotonic()
    with pytest.raises(spec.InvalidSpec, match="aliases"):
        spec.load(bomb, "/etc/cdi/bomb.yaml")
    with pytest.raises(spec.InvalidSpec, match="larger than 256 KiB"):
        spec.load("x: " + "y" * (300 * 1024), "/etc/cdi/big.yaml")
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(spec.InvalidSpec):
        spec.load(deep, "/etc/cdi/deep.json")
    assert time.monotonic() - started < 2


def test_a_broken_nvidia_spec_is_a_problem_and_another_vendors_is_ignored(host, capsys):
    (host / "etc/cdi/broken.yaml").write_text("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: nope\n")
    (host / "etc/cdi/other.yaml").write_text("cdiVersion: 0.5.0\nkind: vendor.example/fpga\ndevices: nope\n")
    rc, out = _run(host, capsys)
    assert rc == 1
    assert "✗ /etc/cdi/broken.yaml: engines refuse this spec: the spec: devices is not a list" in out
    assert "other.yaml" not in out
