"""Image facts against GPUs and drivers: CUDA's compatibility rules, the toolkit's requirement check, the four
finding codes, and the faces (`gpudock check-image`, `gpudock doctor --image`)."""

from __future__ import annotations

import json

import pytest

from gpudock.cli import main
from gpudock.doctor import check
from gpudock.facts.gpus import HostGpu, given_gpu, host_gpus
from gpudock.image import check_image, cuda
from gpudock.image.compare import compare
from gpudock.image.contents import ImageFacts
from gpudock.image.require import evaluate, requirements
from gpudock.image.scan import scan_bytes
from gpudock.snapshot import Snapshot
from tests.image.builders import docker_save, fixture, layer

H100 = "tests/data/image/h100-driver-580.json"
RTX = "tests/data/image/rtx5090-driver-575.json"


def facts_of(*libraries: str, env: dict | None = None, **more) -> ImageFacts:
    files = {f"/opt/{name}": scan_bytes(fixture(name)) for name in libraries}
    return ImageFacts("test", "archive", env=env or {}, files=files, **more)


def gpu(cc: tuple[int, int], index: str = "0") -> HostGpu:
    return HostGpu(index, f"GPU {cc}", cc, "580.159.04")


@pytest.mark.parametrize(
    ("sm", "suffix", "gpu_cc", "runs"),
    [
        (80, "", (8, 6), True),  # same major, higher minor
        (86, "", (8, 0), False),  # never to a lower minor
        (80, "", (9, 0), False),  # never across majors
        (90, "a", (9, 0), True),
        (100, "a", (10, 3), False),  # arch-specific: exactly that one
        (100, "f", (10, 3), True),  # family: the same major
        (120, "", (12, 1), True),
    ],
)
def test_sass_compatibility(sm, suffix, gpu_cc, runs):
    assert cuda.sass_runs(sm, suffix, gpu_cc) is runs


def test_ptx_compiles_forward_but_not_back():
    assert cuda.ptx_compiles(80, "", (12, 0))
    assert not cuda.ptx_compiles(100, "", (9, 0))
    assert not cuda.ptx_compiles(100, "f", (11, 0))
    assert not cuda.ptx_compiles(90, "a", (10, 0))


def test_ptx_isa_versions_map_to_cuda_releases():
    assert cuda.cuda_for_ptx((8, 8)) == (12, 9)
    assert cuda.cuda_for_ptx((8, 6)) == (12, 7)
    assert cuda.cuda_for_ptx((9, 0)) == (13, 0)
    assert cuda.cuda_for_ptx((7, 8)) == (11, 8)
    assert cuda.cuda_for_ptx((12, 0)) is None
    assert cuda.branch_for((12, 8)) == "570" and cuda.branch_for((13, 0)) == "580"
    assert "13.5" in cuda.branch_for((13, 5))


def test_requirements_follow_the_toolkit():
    image = "cuda>=12.8 brand=tesla,driver>=470,driver<471 brand=geforce,driver>=470,driver<471"
    assert evaluate(image, {"cuda": "13.0", "driver": "580.159.04"}) is True
    assert evaluate(image, {"cuda": "12.4", "driver": "550.54.14", "brand": "tesla"}) is False
    assert evaluate(image, {"cuda": "11.4", "driver": "470.82.01", "brand": "tesla"}) is True  # forward compat
    assert evaluate(image, {"cuda": "11.4", "driver": "470.82.01"}) is None  # the brand decides: unknown here
    assert evaluate("arch>=8.0", {"arch": "9.0"}) is True
    assert requirements({"CUDA_VERSION": "12.4.1"}) == ["cuda>=12.4"]  # a legacy image
    assert requirements({"NVIDIA_REQUIRE_CUDA": "cuda>=12.8", "NVIDIA_DISABLE_REQUIRE": "true"}) == []
    assert requirements({"NVIDIA_REQUIRE_JETPACK": "csv-mode"}) == []


def test_each_gpu_gets_its_own_verdict():
    facts = facts_of("libsass_sm80.so", "libptx_compute80.so")
    result = compare(facts, [gpu((12, 0)), gpu((8, 6), "1"), gpu((8, 0), "2")], (12, 9))
    assert [g.verdict for g in result.gpus] == ["fails", "jit", "jit"]
    assert list(result.gpus[0].failing) == ["/opt/libsass_sm80.so"]
    codes = [f.code for f in result.findings]
    assert codes == ["image-arch-unsupported", "image-ptx-jit"] and not result.ok
    arch = result.findings[0]
    assert "sm_120" in arch.title and "compute_120,code=sm_120" in arch.fix[0] and "12.8" in arch.fix[1]


def test_an_old_gpu_is_told_the_last_release_that_builds_for_it():
    arch = compare(facts_of("libsass_sm90.so"), [gpu((6, 1))], (12, 9)).findings[0]
    assert arch.code == "image-arch-unsupported" and any("12.9 or older" in step for step in arch.fix)


def test_sass_for_the_gpu_runs_and_says_nothing():
    result = compare(facts_of("libsass_sm90.so", "libsass_sm90a.so"), [gpu((9, 0))], (13, 0))
    assert [g.verdict for g in result.gpus] == ["runs"] and result.findings == [] and result.ok


def test_ptx_newer_than_the_driver_needs_a_newer_driver():
    result = compare(facts_of("libptx_too_new.so"), [gpu((9, 0))], (13, 0))
    assert result.gpus[0].verdict == "driver"
    (finding,) = result.findings
    assert finding.code == "image-needs-newer-driver" and "13.5" in finding.title and "13.0" in finding.title


def test_the_toolkit_requirement_and_the_runtime_major_need_a_newer_driver():
    facts = facts_of("libsass_sm90.so", env={"NVIDIA_REQUIRE_CUDA": "cuda>=13.1"}, cudart={"/x/libcudart.so.13": "13"})
    result = compare(facts, [gpu((9, 0))], (12, 9), "575.64.03")
    finding = next(f for f in result.findings if f.code == "image-needs-newer-driver")
    assert "unsatisfied condition: cuda>=13.1" in finding.evidence
    assert "runtime 13 needs a driver for CUDA 13.x" in finding.evidence
    assert finding.fix[0] == "install driver branch 590 or newer"


def test_bundled_driver_libraries_warn_but_stubs_and_compat_do_not():
    facts = facts_of("libsass_sm90.so", driver_libs=["/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"])
    (finding,) = compare(facts, [gpu((9, 0))], (13, 0)).findings
    assert finding.code == "image-bundles-driver-libs" and finding.severity == "warning"


def test_jit_cost_is_estimated_from_the_measured_rate():
    finding = compare(facts_of("libptx_compute80.so"), [gpu((9, 0))], (13, 0)).findings[0]
    assert finding.code == "image-ptx-jit" and "KiB/s" in finding.evidence and "CUDA_CACHE_PATH" in finding.fix[1]


def test_host_gpus_come_from_the_compute_cap_probe():
    snap = Snapshot.load(RTX)
    assert [(g.index, g.cc) for g in host_gpus(snap)] == [("0", (12, 0)), ("1", (8, 6))]
    assert given_gpu("sm_120").cc == (12, 0) and given_gpu("8.9").cc == (8, 9)


def test_an_old_snapshot_without_compute_capability_cannot_tell():
    snap = Snapshot({"commands": {"nvidia_smi_query": {"rc": 0, "stdout": "NVIDIA H100, 580.1, 80 GiB\n"}}})
    result = check_image("unused", snap, facts=facts_of("libsass_sm80.so"))
    assert [g.verdict for g in result.gpus] == ["unknown"] and result.ok


@pytest.fixture
def blackwell_trap(tmp_path):
    """An image like the reports of 2025: built for Ampere and Hopper only, with a baked-in NVML."""
    files = [
        ("opt/app/libkernels.so", fixture("libsass_sm80.so")),
        ("usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", b"\x7fELF"),
    ]
    path = tmp_path / "app.tar"
    path.write_bytes(docker_save([layer(files)], env={"NVIDIA_REQUIRE_CUDA": "cuda>=12.8"}))
    return str(path)


def test_the_cli_exits_1_and_its_json_names_every_gpu(blackwell_trap, capsys):
    assert main(["check-image", blackwell_trap, "--snapshot", RTX, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [g["verdict"] for g in data["gpus"]] == ["fails", "runs"]
    assert {f["code"] for f in data["findings"]} == {"image-arch-unsupported", "image-bundles-driver-libs"}
    assert data["image"]["files"]["/opt/app/libkernels.so"]["kernels"][0]["arch"] == "sm_80"


def test_the_cli_prints_a_verdict_per_gpu(blackwell_trap, capsys):
    assert main(["check-image", blackwell_trap, "--gpu", "8.0"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "compute capability 8.0, driver: unknown: runs (SASS for its architecture)" in out
    assert "[image-bundles-driver-libs]" in out


def test_doctor_with_an_image_adds_its_findings(blackwell_trap):
    report = check(RTX, image=blackwell_trap)
    codes = [f.code for f in report.findings]
    assert "image-arch-unsupported" in codes and not report.ok
    assert codes.index("image-arch-unsupported") < codes.index("image-bundles-driver-libs")


def test_notes_say_what_else_stops_cuda_code():
    facts = facts_of("libsass_sm90.so", env={"NVIDIA_DRIVER_CAPABILITIES": "utility,video"}, libc="musl")
    found = compare(facts, [gpu((9, 0))], (13, 0)).notes
    assert any("without `compute`" in n for n in found) and any("musl" in n for n in found)
    fine = facts_of("libsass_sm90.so", env={"NVIDIA_DRIVER_CAPABILITIES": "all"}, libc="glibc 2.39")
    assert compare(fine, [gpu((9, 0))], (13, 0)).notes == []


def test_doctor_with_an_image_it_cannot_reach_is_unreadable_input_not_exit_3(monkeypatch, capsys):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/gpudock-test.sock")
    assert main(["doctor", "--snapshot", RTX, "--image", "gpudock-test/absent:1"]) == 2
    err = capsys.readouterr().err
    assert "gpudock-test/absent:1: cannot read it: docker: no daemon answers" in err


def test_check_image_of_a_name_without_a_daemon_is_exit_3(monkeypatch, capsys):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/gpudock-test.sock")
    assert main(["check-image", "gpudock-test/absent:1", "--gpu", "9.0"]) == 3
