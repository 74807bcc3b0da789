"""Host facts that explain GPU figures, read once per run: PCIe link (current and maximum), power limits,
clocks and clock-event reasons, persistence mode, ECC, MIG mode, compute mode, the processes on the GPU
(`nvidia-smi -q -x`, see telemetry.py for why nvidia-smi), and the GPU's NUMA node against this process's
CPU affinity (sysfs). On a host without a GPU or without nvidia-smi every reader says why and returns no facts.

parse_xml and numa_facts are pure (tests run them over committed real outputs and a fake sysfs).
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from .telemetry import bus_id

MAX_XML = 8 << 20  # nvidia-smi -q -x is ~20 KB per GPU; anything far larger is not its output


def _text(node, path: str) -> str | None:
    found = node.find(path) if node is not None else None
    text = (found.text or "").strip() if found is not None else ""
    return text if text and text not in ("N/A", "[N/A]") else None


def _number(node, path: str) -> float | None:
    text = _text(node, path)
    if text is None:
        return None
    try:
        return float(text.split()[0].rstrip("x"))  # "700.00 W", "16x", "1980 MHz", "5"
    except ValueError:
        return None


def _active(node, tag: str) -> list[str]:
    """Names of the reasons marked Active under clocks_event_reasons (or clocks_throttle_reasons)."""
    group = node.find(tag)
    if group is None:
        return []
    prefix = tag.rstrip("s") + "_"  # clocks_event_reason_ / clocks_throttle_reason_
    return [child.tag.removeprefix(prefix) for child in group if (child.text or "").strip() == "Active"]


def _processes(gpu) -> list[dict]:
    out = []
    for proc in gpu.findall("processes/process_info"):
        pid = _text(proc, "pid")
        out.append(
            {
                "pid": int(pid) if pid and pid.isdigit() else None,
                "type": _text(proc, "type"),
                "name": (_text(proc, "process_name") or "")[:120],
                "used_mib": _number(proc, "used_memory"),
            }
        )
    return out


def _gpu(gpu) -> dict:
    # power: <gpu_power_readings> (drivers >= 530) or <power_readings> (older), limit names differ
    power = gpu.find("gpu_power_readings")
    power = power if power is not None else gpu.find("power_readings")
    reasons = "clocks_event_reasons" if gpu.find("clocks_event_reasons") is not None else "clocks_throttle_reasons"
    return {
        "bus_id": bus_id(gpu.get("id", "") or _text(gpu, "pci/pci_bus_id") or ""),
        "name": _text(gpu, "product_name"),
        "uuid": _text(gpu, "uuid"),
        "pcie": {
            "gen_current": _number(gpu, "pci/pci_gpu_link_info/pcie_gen/current_link_gen"),
            "gen_max": _number(gpu, "pci/pci_gpu_link_info/pcie_gen/max_link_gen"),
            "gen_device_max": _number(gpu, "pci/pci_gpu_link_info/pcie_gen/max_device_link_gen"),
            "gen_host_max": _number(gpu, "pci/pci_gpu_link_info/pcie_gen/max_host_link_gen"),
            "width_current": _number(gpu, "pci/pci_gpu_link_info/link_widths/current_link_width"),
            "width_max": _number(gpu, "pci/pci_gpu_link_info/link_widths/max_link_width"),
            "replay_counter": _number(gpu, "pci/replay_counter"),
        },
        "power": {
            "draw_w": _number(power, "instant_power_draw") or _number(power, "power_draw"),
            "limit_w": _number(power, "current_power_limit") or _number(power, "enforced_power_limit"),
            "default_limit_w": _number(power, "default_power_limit"),
            "max_limit_w": _number(power, "max_power_limit"),
        },
        "clocks": {
            "sm_mhz": _number(gpu, "clocks/sm_clock"),
            "sm_max_mhz": _number(gpu, "max_clocks/sm_clock"),
            "mem_mhz": _number(gpu, "clocks/mem_clock"),
            "mem_max_mhz": _number(gpu, "max_clocks/mem_clock"),
        },
        "reasons_active": _active(gpu, reasons),
        "temperature_c": _number(gpu, "temperature/gpu_temp"),
        "persistence_mode": _text(gpu, "persistence_mode"),
        "ecc_mode": _text(gpu, "ecc_mode/current_ecc"),
        "mig_mode": _text(gpu, "mig_mode/current_mig"),
        "compute_mode": _text(gpu, "compute_mode"),
        "virtualization_mode": _text(gpu, "gpu_virtualization_mode/virtualization_mode"),
        "performance_state": _text(gpu, "performance_state"),
        "processes": _processes(gpu),
    }


def parse_xml(text: str) -> dict:
    """`nvidia-smi -q -x` -> {"driver", "cuda", "gpus": [...]}; ValueError when it is not that output."""
    if len(text) > MAX_XML:
        raise ValueError("larger than any nvidia-smi -q -x output")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as err:
        raise ValueError(f"not XML: {err}") from None
    if root.tag != "nvidia_smi_log":
        raise ValueError(f"not nvidia-smi -q -x output (root element <{root.tag[:40]}>)")
    return {
        "driver": _text(root, "driver_version"),
        "cuda": _text(root, "cuda_version"),
        "gpus": [_gpu(gpu) for gpu in root.findall("gpu")],
    }


def read_xml(command: str = "nvidia-smi", run=subprocess.run) -> tuple[str | None, str]:
    """(the XML, "") or (None, why not): nvidia-smi missing, failing or slow is an answer, never an exception."""
    try:
        proc = run([command, "-q", "-x"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return None, f"{command} not found (it comes with the NVIDIA driver)"
    except (OSError, subprocess.SubprocessError) as err:
        return None, f"{command} -q -x failed: {type(err).__name__}"
    if proc.returncode != 0:
        last = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
        return None, f"{command} -q -x exited {proc.returncode}: {last[0][:160]}"
    return proc.stdout, ""


def parse_cpulist(text: str) -> set[int]:
    """'0-3,8,10-11' -> {0, 1, 2, 3, 8, 10, 11} (the kernel's cpulist format); bad parts are skipped."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        low, _, high = part.partition("-")
        if low.strip().isdigit() and (not high or high.strip().isdigit()):
            cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def cpulist(cpus) -> str:
    """{0, 1, 2, 3, 8} -> '0-3,8'."""
    runs, ordered = [], sorted(cpus)
    for cpu in ordered:
        if runs and cpu == runs[-1][1] + 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)


def numa_facts(bus: str, sysfs: str | Path = "/sys/bus/pci/devices", affinity: set[int] | None = None) -> dict:
    """The GPU's NUMA node and its CPUs (sysfs) against the CPUs this process may run on.

    ``local`` is True when the process may run on the GPU's node, False when it may run only elsewhere
    (a remote node: host<->device copies cross the inter-socket link), None when the machine reports no
    NUMA node for the device (numa_node -1: one node, or a VM that hides it)."""
    if affinity is None:
        affinity = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else set()
    device = Path(sysfs) / bus
    try:
        node = int((device / "numa_node").read_text().strip())
        local_cpus = parse_cpulist((device / "local_cpulist").read_text())
    except (OSError, ValueError):
        return {"gpu_node": None, "process_cpus": cpulist(affinity), "local": None, "note": f"no sysfs entry for {bus}"}
    out = {"gpu_node": node if node >= 0 else None, "gpu_cpus": cpulist(local_cpus), "process_cpus": cpulist(affinity)}
    if node < 0 or not local_cpus or not affinity:
        out["local"] = None
    else:
        out["local"] = bool(local_cpus & affinity)
        out["remote_only"] = not (affinity <= local_cpus) and not (local_cpus & affinity)
    return out


def host_gpu_facts(gpus, xml: str | None, why: str = "", numa=numa_facts) -> dict:
    """host.pcie / host.throttle / host.numa / host.gpu_state, each keyed by device label, from one
    `nvidia-smi -q -x`; GPUs are matched to CUDA devices by PCI bus id (CUDA and nvidia-smi may order them
    differently). ``host.facts_source`` says where the facts came from, ``host.facts_error`` why there are none."""
    if xml is None:
        return {"facts_error": why or "nvidia-smi -q -x gave nothing"}
    try:
        parsed = parse_xml(xml)
    except ValueError as err:
        return {"facts_error": f"nvidia-smi -q -x: {err}"}
    by_bus = {g["bus_id"]: g for g in parsed["gpus"]}
    out: dict = {"facts_source": f"nvidia-smi -q -x (driver {parsed['driver']}, CUDA {parsed['cuda']})"}
    for gpu in gpus:
        facts = by_bus.get(bus_id(gpu.pci_bus_id or ""))
        if facts is None:
            out.setdefault("facts_missing", []).append(gpu.label)
            continue
        out.setdefault("pcie", {})[gpu.label] = facts["pcie"] | {
            "note": "read at start; an idle GPU may run its link at a lower generation until it is busy"
        }
        out.setdefault("throttle", {})[gpu.label] = {
            "power_limit_w": facts["power"]["limit_w"],
            "default_power_limit_w": facts["power"]["default_limit_w"],
            "max_power_limit_w": facts["power"]["max_limit_w"],
            "sm_clock_max_mhz": facts["clocks"]["sm_max_mhz"],
            "reasons_at_start": facts["reasons_active"],
        }
        out.setdefault("numa", {})[gpu.label] = numa(facts["bus_id"])
        keys = ("persistence_mode", "ecc_mode", "mig_mode", "compute_mode", "virtualization_mode")
        state = {k: facts[k] for k in keys} | {"temperature_c": facts["temperature_c"], "driver": parsed["driver"]}
        state["processes_at_start"] = facts["processes"]
        out.setdefault("gpu_state", {})[gpu.label] = state
    return out
