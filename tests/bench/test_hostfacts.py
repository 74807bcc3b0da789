"""Host facts and telemetry from nvidia-smi, parsed from real outputs (tests/data/real) with no GPU here."""

import subprocess

import pytest

from gpudock.bench.devices import Gpu
from gpudock.bench.gpufacts import cpulist, host_gpu_facts, numa_facts, parse_cpulist, parse_xml, read_xml
from gpudock.bench.telemetry import Sampler, bus_id, decode_reasons, parse_apps, parse_query, summarize
from tests.helpers import REAL

H100_XML = (REAL / "h100-nvidia-smi-q.xml").read_text()
H200_XML = (REAL / "h200-nvidia-smi-q.xml").read_text()
H100 = Gpu(0, "NVIDIA H100 80GB HBM3", "9.0", 132, 85017493504, "0000:00:06.0")


def test_real_h100_and_h200_outputs_parse():
    for text, name in ((H100_XML, "NVIDIA H100 80GB HBM3"), (H200_XML, "NVIDIA H200")):
        doc = parse_xml(text)
        gpu = doc["gpus"][0]
        assert doc["driver"] == "580.159.04" and gpu["name"] == name
        assert gpu["pcie"]["gen_max"] == 5 and gpu["pcie"]["width_max"] == 16
        assert gpu["power"]["limit_w"] == 700 and gpu["clocks"]["sm_max_mhz"] == 1980
        assert gpu["mig_mode"] == "Disabled" and gpu["ecc_mode"] == "Enabled" and gpu["persistence_mode"] == "Enabled"
    assert parse_xml(H100_XML)["gpus"][0]["bus_id"] == "0000:00:06.0"
    assert parse_xml(H100_XML)["gpus"][0]["reasons_active"] == ["gpu_idle"]


def test_drivers_before_530_name_throttle_reasons_and_power_differently():
    """Older drivers write clocks_throttle_reasons and power_readings/power_limit (derived from the real file)."""
    old = (
        H100_XML.replace("clocks_event_reason", "clocks_throttle_reason")
        .replace("<gpu_power_readings>", "<power_readings>")
        .replace("</gpu_power_readings>", "</power_readings>")
        .replace("current_power_limit>", "enforced_power_limit>")
        .replace("<clocks_throttle_reason_sw_power_cap>Not Active", "<clocks_throttle_reason_sw_power_cap>Active")
    )
    gpu = parse_xml(old)["gpus"][0]
    assert gpu["power"]["limit_w"] == 700 and set(gpu["reasons_active"]) == {"gpu_idle", "sw_power_cap"}


@pytest.mark.parametrize("text", ["", "not xml", "<other/>", "<nvidia_smi_log>" + "x" * (9 << 20)])
def test_what_is_not_nvidia_smi_output_is_refused(text):
    with pytest.raises(ValueError):
        parse_xml(text)


def test_host_facts_key_by_device_and_say_why_when_missing(tmp_path):
    facts = host_gpu_facts([H100], H100_XML, numa=lambda bus: {"gpu_node": None, "local": None})
    label = H100.label
    assert facts["pcie"][label]["gen_current"] == 5 and facts["throttle"][label]["default_power_limit_w"] == 700
    assert facts["gpu_state"][label]["mig_mode"] == "Disabled" and facts["gpu_state"][label]["processes_at_start"] == []
    assert "580.159.04" in facts["facts_source"]
    other = Gpu(1, "NVIDIA H100 80GB HBM3", "9.0", 132, 1, "0000:99:00.0")
    assert host_gpu_facts([other], H100_XML)["facts_missing"] == [other.label]
    assert host_gpu_facts([H100], None, "nvidia-smi not found")["facts_error"] == "nvidia-smi not found"
    assert "not XML" in host_gpu_facts([H100], "garbage")["facts_error"]


def test_reading_nvidia_smi_never_raises():
    def missing(*a, **k):
        raise FileNotFoundError

    def failing(*a, **k):
        return subprocess.CompletedProcess(a, 9, "", "NVIDIA-SMI has failed because it couldn't communicate\n")

    assert read_xml(run=missing) == (None, "nvidia-smi not found (it comes with the NVIDIA driver)")
    assert "exited 9: NVIDIA-SMI has failed" in read_xml(run=failing)[1]
    sampler = Sampler(command="/nonexistent/nvidia-smi")
    sampler.poll_once()
    assert sampler.errors and not sampler.samples


def test_numa_node_against_this_process_affinity(tmp_path):
    device = tmp_path / "0000:00:06.0"
    device.mkdir()
    (device / "numa_node").write_text("1\n")
    (device / "local_cpulist").write_text("16-31\n")
    remote = numa_facts("0000:00:06.0", tmp_path, affinity=set(range(16)))
    assert remote["local"] is False and remote["gpu_node"] == 1 and remote["gpu_cpus"] == "16-31"
    assert numa_facts("0000:00:06.0", tmp_path, affinity={3, 20})["local"] is True
    (device / "numa_node").write_text("-1\n")  # one node, or a VM that hides it (the lent H100)
    assert numa_facts("0000:00:06.0", tmp_path, affinity={0})["local"] is None
    assert numa_facts("0000:00:07.0", tmp_path, affinity={0})["local"] is None


def test_cpulists_round_trip():
    assert parse_cpulist("0-3,8,10-11") == {0, 1, 2, 3, 8, 10, 11}
    assert cpulist({0, 1, 2, 3, 8, 10, 11}) == "0-3,8,10-11"
    assert parse_cpulist("garbage,2") == {2}


def test_query_and_apps_lines_from_the_h100():
    samples = parse_query((REAL / "h100-nvidia-smi-query-gpu-idle.csv").read_text(), 1.0)
    s = samples[0]
    assert (s.bus, s.sm_mhz, s.sm_max_mhz, s.power_limit_w, s.pcie_gen, s.pcie_width) == (
        "0000:00:06.0",
        345,
        1980,
        700,
        5,
        16,
    )
    assert s.reasons == ["gpu_idle"]
    apps = parse_apps((REAL / "h100-nvidia-smi-compute-apps.csv").read_text(), 2.0)
    assert [(a.bus, a.name, a.used_mib) for a in apps] == [("0000:00:06.0", "python3", 984)]
    assert parse_apps("No running processes found\n", 1.0) == []
    assert parse_query("[N/A], [N/A]\n", 1.0) == []


def test_clock_event_reason_bits_follow_nvml():
    assert decode_reasons("0x0000000000000004") == ["sw_power_cap"]
    assert decode_reasons(0x1 | 0x40 | 0x80) == ["gpu_idle", "hw_thermal_slowdown", "hw_power_brake_slowdown"]
    assert decode_reasons("[N/A]") == []
    assert bus_id("00000000:1B:00.0") == bus_id("0000:1b:00.0") == "0000:1b:00.0"


def test_summary_is_of_the_window_and_leaves_this_process_out():
    line = "00000000:00:06.0, {sm}, 1980, 2619, {w}, 700.00, 60, 100, {r}, 5, 16"
    samples = []
    for t in range(10):
        capped = t >= 4
        text = line.format(sm=1500 if capped else 1980, w=699 if capped else 400, r="0x4" if capped else "0x0")
        samples += parse_query(text, 100.0 + t)
    samples += parse_query(line.format(sm=100, w=1, r="0x1"), 500.0)  # outside the window
    apps = parse_apps("00000000:00:06.0, 42, me, 100\n00000000:00:06.0, 7, other, 5000", 103.0)
    seen = summarize(samples, apps, "0000:00:06.0", (100.0, 109.0), own_pids={42})
    assert seen["samples"] == 10 and seen["reasons"] == {"sw_power_cap": 0.6}
    assert seen["sm_clock_mhz"] == {"min": 1500, "median": 1500, "max": 1980} and seen["power_w"]["max"] == 699
    assert seen["other_processes"] == [{"pid": 7, "name": "other", "used_mib": 5000}]
    assert summarize(samples, apps, "0000:00:07.0", (100.0, 109.0))["samples"] == 0
