"""The doctor on CDI: the three codes through the same checks as `gpudock cdi check`, and a CDI host is healthy."""

from __future__ import annotations

import copy

from gpudock.diagnose import diagnose
from gpudock.findings import has_errors
from gpudock.snapshot import Snapshot
from tests.cdi_hosts import CDI_OFF, LIB, SMI, SPEC, VERSION, after, before


def _codes(doc, severity=None):
    return [f.code for f in diagnose(Snapshot(doc)) if severity is None or f.severity == severity]


def _finding(doc, code):
    return next(f for f in diagnose(Snapshot(doc)) if f.code == code)


def test_driver_only_host_has_no_gpu_path_and_the_fix_names_install_cdi():
    findings = diagnose(Snapshot(before()))
    errors = [f.code for f in findings if f.severity == "error"]
    assert errors == ["nvidia-toolkit-missing"]  # one cause, not one error per failing probe
    toolkit = next(f for f in findings if f.code == "nvidia-toolkit-missing")
    assert any("gpudock install cdi --apply" in step for step in toolkit.fix)
    assert "cdi-device-unresolvable" not in _codes(
        before()
    )  # gpudock's own CDI probe on a CDI-off engine is no extra error


def test_after_install_cdi_the_host_is_healthy_with_a_note_on_gpus():
    findings = diagnose(Snapshot(after()))
    assert not has_errors(findings), [(f.code, f.title) for f in findings if f.severity == "error"]
    note = next(f for f in findings if f.code == "nvidia-toolkit-missing")
    assert note.severity == "info"
    assert note.evidence.startswith("docker_gpu:")  # the --gpus refusal it explains (no gpu-container-failed)
    assert any("--device nvidia.com/gpu=all" in step for step in note.fix)
    assert any("28.2" in step for step in note.fix)
    codes = [f.code for f in findings]
    assert "gpu-container-failed" not in codes and "nvidia-runtime-not-configured" not in codes
    assert not any(c.startswith("cdi-") for c in codes)


def test_nvidia_smi_in_a_cdi_container_is_gpu_ok():
    doc = after()
    doc["commands"]["docker_cdi_gpu"]["stdout"] = SMI
    assert "gpu-ok" in _codes(doc, "ok")


def test_docker_28_2_needs_no_note():
    doc = after()
    doc["commands"]["docker_info"]["stdout"] = " Server Version: 28.5.1\n Runtimes: io.containerd.runc.v2 runc\n"
    del doc["commands"]["docker_gpu"]
    assert "nvidia-toolkit-missing" not in _codes(doc)


def test_a_stale_spec_after_a_driver_update():
    doc = after()
    doc["files"]["/proc/driver/nvidia/version"] = doc["files"]["/proc/driver/nvidia/version"].replace(
        VERSION, "590.44.01"
    )
    finding = _finding(doc, "cdi-spec-stale")
    assert finding.severity == "error"
    assert f"files: /etc/cdi/nvidia.yaml: {LIB}/libcuda.so.{VERSION}: is driver {VERSION}'s" in finding.evidence
    assert "590.44.01" in finding.evidence
    assert finding.fix[0].startswith("sudo gpudock install cdi --apply") and finding.fix[-1].startswith(
        "gpudock cdi check"
    )


def test_a_library_the_spec_names_is_gone_and_a_node_is_missing():
    doc = after()
    doc["paths"][f"{LIB}/libnvidia-ml.so.{VERSION}"] = False
    doc["commands"]["stat_cdi_nodes"]["stderr"] += "stat: cannot statx '/dev/nvidia0': No such file or directory\n"
    doc["commands"]["stat_cdi_nodes"]["stdout"] = doc["commands"]["stat_cdi_nodes"]["stdout"].replace(
        "/dev/nvidia0|character special file|c3|0\n", ""
    )
    evidence = _finding(doc, "cdi-spec-stale").evidence
    assert f"{LIB}/libnvidia-ml.so.{VERSION}: does not exist on the host" in evidence
    assert "/dev/nvidia0: this device node does not exist on the host" in evidence


def test_a_spec_with_a_wrong_node_number():
    doc = after(
        spec=SPEC.replace(
            "    - path: /dev/nvidia0\n- name: all",
            "    - path: /dev/nvidia0\n      type: c\n      major: 195\n      minor: 7\n- name: all",
        )
    )
    assert "the spec says c 195:7, the host's node is c 195:0" in _finding(doc, "cdi-spec-stale").evidence


def test_a_spec_too_large_for_the_snapshot_is_kept_as_a_marker_and_reported():
    doc = after(spec="# " + "x" * (300 * 1024))
    snap = Snapshot(doc)
    assert snap.file("/etc/cdi/nvidia.yaml").startswith("[gpudock: spec not kept")
    assert "cannot be read" in _finding(doc, "cdi-spec-stale").evidence


def test_a_whole_spec_survives_a_snapshot_round_trip_uncut():
    long_line = SPEC.replace("NVIDIA_VISIBLE_DEVICES=void", "NVIDIA_VISIBLE_DEVICES=void" + " " * 6000 + "x")
    doc = after(spec=long_line)
    snap = Snapshot.loads(Snapshot(doc).to_json())
    assert snap.file("/etc/cdi/nvidia.yaml") == long_line


def test_unresolvable_with_specs_lists_what_they_provide():
    doc = after()
    doc["commands"]["user_run"] = {
        "rc": 125,
        "stdout": "",
        "stderr": "docker: Error response from daemon: CDI device injection failed: "
        "unresolvable CDI devices nvidia.com/gpu=1\n",
    }
    finding = _finding(doc, "cdi-device-unresolvable")
    assert "nvidia.com/gpu=1" in finding.evidence
    assert "the specs here provide: nvidia.com/gpu=0, nvidia.com/gpu=all" in finding.fix


def test_unresolvable_without_any_spec_is_spec_missing_as_an_error():
    doc = copy.deepcopy(before())
    doc["commands"]["docker_cdi_gpu"]["stderr"] = (
        "docker: Error response from daemon: CDI device injection failed: unresolvable CDI devices nvidia.com/gpu=all\n"
    )
    finding = _finding(doc, "cdi-spec-missing")
    assert finding.severity == "error"
    assert "cdi-device-unresolvable" not in _codes(doc)


def test_engine_reading_cdi_without_a_spec_warns():
    doc = copy.deepcopy(before())
    doc["files"]["/etc/docker/daemon.json"] = '{"features": {"cdi": true}}'
    finding = _finding(doc, "cdi-spec-missing")
    assert finding.severity == "warning" and "features.cdi" in finding.evidence


def test_cdi_off_in_a_users_own_run_is_reported():
    doc = {"commands": {"docker_run": {"rc": 125, "stdout": "", "stderr": CDI_OFF}}}
    finding = _finding(doc, "cdi-device-unresolvable")
    assert finding.title.startswith("Docker's CDI support is off")
    assert any('"features": {"cdi": true}' in step for step in finding.fix)


def test_a_gpudock_spec_is_not_toolkit_evidence_but_the_toolkits_is():
    assert "nvidia-runtime-not-configured" not in _codes(after())
    toolkit_spec = SPEC.replace(
        "containerEdits:\n  env:",
        "containerEdits:\n  hooks:\n  - hookName: createContainer\n    path: /usr/bin/nvidia-cdi-hook\n  env:",
        1,
    )
    doc = after(spec=toolkit_spec)
    doc["paths"]["/usr/bin/nvidia-cdi-hook"] = False
    evidence = _finding(doc, "cdi-spec-stale").evidence
    assert "/usr/bin/nvidia-cdi-hook: the hook program this spec runs does not exist" in evidence


# --- the real H100 host of docs/benchmarks/cdi-h100 (driver 580.159.04, Docker 26, no toolkit) -------------

REAL = __import__("pathlib").Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "cdi-h100"


def test_the_real_driver_only_host_before_and_after_install_cdi():
    before_host = diagnose(Snapshot.load(REAL / "snapshot-before.json"))
    assert [f.code for f in before_host if f.severity == "error"] == ["nvidia-toolkit-missing"]
    toolkit = next(f for f in before_host if f.code == "nvidia-toolkit-missing")
    assert toolkit.fix[0].startswith("no toolkit needed with this Docker (25 or newer): sudo gpudock install cdi")
    after_host = diagnose(Snapshot.load(REAL / "snapshot-after.json"))
    assert not has_errors(after_host)
    assert [f.severity for f in after_host if f.code == "nvidia-toolkit-missing"] == ["info"]


def test_the_real_spec_loads_and_names_the_drivers_own_files():
    from gpudock.cdi.spec import load

    spec = load((REAL / "nvidia.yaml").read_text(), "/etc/cdi/nvidia.yaml")
    hosts = {m.host_path for m in spec.common.mounts}
    assert "/usr/local/nvidia/lib64/libcuda.so.580.159.04" in hosts
    assert "/usr/local/nvidia/bin/nvidia-smi" in hosts and "/usr/bin/nvidia-smi" not in hosts
    assert set(spec.devices) == {"0", "all"} | {n for n in spec.devices if n.startswith("GPU-")}


def test_a_cdi_container_failing_with_unknown_text_is_never_an_all_clear():
    doc = after()
    doc["commands"]["docker_cdi_gpu"].update(rc=1, stdout="", stderr="Error: OCI runtime error: crun: something new\n")
    assert "gpu-container-failed" in _codes(doc, "error")
    doc = before()  # gpudock's own CDI probe on an engine with CDI off: the toolkit finding says it all
    assert "gpu-container-failed" not in _codes(doc)


def _unseen(asked="nvidia.com/gpu=all"):
    from tests.helpers import load_case

    doc = copy.deepcopy(load_case("cdi-unresolvable-spec-unseen-docker26-h100.json")["snapshot"])
    doc["commands"]["docker_cdi_gpu"]["stderr"] = (
        f"docker: Error response from daemon: CDI device injection failed: unresolvable CDI devices {asked}.\n"
    )
    return doc


def test_a_spec_dockerd_stopped_reading_is_fixed_by_a_restart_not_by_writing_it_again():
    """Seen on the H100 with Docker 26.1.5 (docs/benchmarks/cdi-refresh-h100): `install cdi` said 'already
    satisfied' and 'still fails'; only a dockerd restart made the spec resolve again."""
    doc = _unseen()
    unresolvable = _finding(doc, "cdi-device-unresolvable")
    assert unresolvable.severity == "error" and "restart it" in unresolvable.title
    assert unresolvable.fix[0].startswith("sudo service docker restart")  # no systemd on that host
    assert not any("install cdi" in step for step in unresolvable.fix)
    assert _finding(doc, "nvidia-toolkit-missing").severity == "info"  # the CDI route is set up
    assert "gpu-container-failed" not in _codes(doc)


def test_a_device_the_spec_does_not_provide_is_still_a_spec_to_write():
    doc = _unseen("nvidia.com/gpu=7")
    unresolvable = _finding(doc, "cdi-device-unresolvable")
    assert "restart it" not in unresolvable.title and any("install cdi" in step for step in unresolvable.fix)
    assert _finding(doc, "nvidia-toolkit-missing").severity == "error"


def test_the_cdi_plan_restarts_a_dockerd_that_stopped_reading_its_spec():
    from gpudock.facts.host import host_info
    from gpudock.install import make_plan

    for asked, restarts in (("nvidia.com/gpu=all", True), ("nvidia.com/gpu=7", False)):
        snap = Snapshot(_unseen(asked))
        plan = make_plan("cdi", snap, host_info(snap), spec_text=snap.file("/etc/cdi/nvidia.yaml"))
        titles = " | ".join(step.title for step in plan.steps)
        assert ("restart" in titles or "stop the dockerd" in titles) is restarts, titles
