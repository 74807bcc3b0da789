"""Why a figure is low: when a row is under its expected fraction of the ceiling (attest.py), or its median
is still uncertain after every repeat allowed, name the evidence gpudock read and the fix.

Pure functions of a row (its telemetry, timing and attestation), the run's host facts (gpufacts.py) and the
other rows of the run. Each verdict is {"cause", "evidence", "fix"}; causes are kebab-case words:
mig-slice, shared-gpu, power-capped, thermal-throttled, hw-slowdown, clocks-held, pcie-trained-down,
pcie-slot-limited, remote-numa, pageable-copies, cpu-busy, noisy, no-cause-found.
"""

from __future__ import annotations

SHARE = 0.2  # a clock-event reason active in at least this share of a row's samples counts as evidence
NVIDIA_SMI_DOCS = "https://docs.nvidia.com/deploy/nvidia-smi/index.html"
MIG_DOCS = "https://docs.nvidia.com/datacenter/tesla/mig-user-guide/"


def _verdict(cause: str, evidence: str, fix: str) -> dict:
    return {"cause": cause, "evidence": evidence, "fix": fix}


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _mig(state: dict) -> list[dict]:
    if str(state.get("mig_mode", "")).lower() != "enabled":
        return []
    return [
        _verdict(
            "mig-slice",
            "MIG mode is Enabled on this GPU: a process sees one slice, a fraction of its SMs and memory bandwidth",
            f"judge the figure against the slice's share (nvidia-smi mig -lgi), or ask for a whole GPU; {MIG_DOCS}",
        )
    ]


def sharing(tel: dict) -> list[dict]:
    """The other compute processes a row's telemetry saw on its GPU. Where this process's own pid is not
    listed (another PID namespace), one of the entries may be this process, so one alone proves nothing."""
    others = tel.get("other_processes") or []
    if tel.get("own_process_listed") is False and len(others) < 2:
        return []
    return others


def _shared(tel: dict, state: dict) -> list[dict]:
    others = sharing(tel)
    if not others:
        return []
    names = ", ".join(f"pid {p.get('pid')} {p.get('name') or '?'} ({p.get('used_mib') or '?'} MiB)" for p in others[:4])
    return [
        _verdict(
            "shared-gpu",
            f"{len(others)} other compute process(es) on this GPU during the benchmark: {names}; "
            "the GPU time-slices between them",
            "stop them or wait for them, or run on a free GPU (CUDA_VISIBLE_DEVICES=N); an administrator can "
            f"make the GPU exclusive (nvidia-smi -c EXCLUSIVE_PROCESS); {NVIDIA_SMI_DOCS}",
        )
    ]


def _clocks(tel: dict, throttle: dict) -> list[dict]:
    reasons = tel.get("reasons") or {}
    sm = tel.get("sm_clock_mhz") or {}
    top = tel.get("sm_clock_max_mhz") or throttle.get("sm_clock_max_mhz")
    clock = f"SM clock median {sm.get('median', 0):,.0f} of {top:,.0f} MHz" if sm and top else "SM clock not read"
    out = []
    power = reasons.get("sw_power_cap", 0)
    if power >= SHARE:
        watts = tel.get("power_w") or {}
        limit, default = throttle.get("power_limit_w"), throttle.get("default_power_limit_w")
        lowered = limit and default and limit < default - 1
        evidence = f"SW power cap active in {_pct(power)} of samples; {clock}; "
        evidence += f"power median {watts.get('median', 0):,.0f} W"
        evidence += f" of a {limit:,.0f} W limit" if limit else ""
        evidence += f" (lowered from the default {default:,.0f} W)" if lowered else ""
        fix = (
            f"restore the default limit (root: nvidia-smi -pl {default:.0f})"
            if lowered
            else "the GPU is at its power limit, as heavy work (tensor-core GEMM above all) takes it; compare "
            "only interleaved measurements (same minute, same clocks), never figures from different runs"
        )
        out.append(_verdict("power-capped", evidence, f"{fix}; nvidia-smi -q -d POWER,PERFORMANCE; {NVIDIA_SMI_DOCS}"))
    thermal = max(reasons.get("sw_thermal_slowdown", 0), reasons.get("hw_thermal_slowdown", 0))
    if thermal >= SHARE:
        temp = (tel.get("temperature_c") or {}).get("max")
        out.append(
            _verdict(
                "thermal-throttled",
                f"thermal slowdown active in {_pct(thermal)} of samples; {clock}; GPU up to {temp} C",
                "improve cooling (airflow, inlet temperature, fan and heatsink); nvidia-smi -q -d TEMPERATURE",
            )
        )
    hardware = max(reasons.get("hw_slowdown", 0), reasons.get("hw_power_brake_slowdown", 0))
    if hardware >= SHARE:
        out.append(
            _verdict(
                "hw-slowdown",
                f"hardware slowdown (HW slowdown / power brake) active in {_pct(hardware)} of samples; {clock}",
                "check the power supply and cabling and the server's BMC event log; the board asks for it",
            )
        )
    held = reasons.get("applications_clocks_setting", 0)
    if held >= SHARE:
        out.append(
            _verdict(
                "clocks-held",
                f"application clocks setting limits the clock in {_pct(held)} of samples; {clock}",
                "reset application clocks (root: nvidia-smi -rac) or ask whoever set them",
            )
        )
    return out


def _pcie(row, tel: dict, link: dict) -> list[dict]:
    if not row.name.startswith(("h2d_", "d2h_")) or not link:
        return []
    gen, width = tel.get("pcie_gen"), tel.get("pcie_width")
    gen_max, width_max = link.get("gen_max"), link.get("width_max")
    out = []
    if gen and width and gen_max and width_max and (gen < gen_max or width < width_max):
        out.append(
            _verdict(
                "pcie-trained-down",
                f"during the copy the link ran at Gen{gen:.0f} x{width:.0f}; it can run at Gen{gen_max:.0f} "
                f"x{width_max:.0f}",
                "reseat the card, check the slot's wiring (an x8 slot?), risers and the BIOS PCIe settings; "
                "compare lspci -vv LnkSta with LnkCap",
            )
        )
    device, host = link.get("gen_device_max"), link.get("gen_host_max")
    if device and host and host < device:
        out.append(
            _verdict(
                "pcie-slot-limited",
                f"the GPU supports PCIe Gen{device:.0f}, the slot or CPU only Gen{host:.0f}",
                "use a slot wired to a CPU that supports the GPU's generation",
            )
        )
    return out


def _numa(row, numa: dict) -> list[dict]:
    if not row.name.startswith(("h2d_", "d2h_")) or numa.get("local") is not False:
        return []
    node = numa.get("gpu_node")
    return [
        _verdict(
            "remote-numa",
            f"the GPU sits on NUMA node {node} (CPUs {numa.get('gpu_cpus')}); this process may run only on CPUs "
            f"{numa.get('process_cpus')}: host memory and copies cross the link between sockets",
            f"numactl --cpunodebind={node} --membind={node} gpudock bench ... (or taskset -c {numa.get('gpu_cpus')})",
        )
    ]


def _pageable(row, rows) -> list[dict]:
    if not row.name.endswith("_pageable"):
        return []
    pinned_name = row.name.replace("_pageable", "_pinned")
    pinned = next((r for r in rows if r.name == pinned_name and r.device == row.device and r.where == row.where), None)
    than = f" against {pinned.value:,.1f} GB/s pinned in this run" if pinned else ""
    return [
        _verdict(
            "pageable-copies",
            f"pageable host memory: the driver copies through a staging buffer, {row.value:,.1f} GB/s{than}; "
            "the figure moves with the host's CPU and page cache",
            "copy from page-locked (pinned) memory: cudaHostAlloc / cupy.cuda.alloc_pinned_memory / "
            "torch's pin_memory=True; judge the PCIe link by the pinned rows",
        )
    ]


def _noisy(row, tel: dict) -> list[dict]:
    if not row.noisy:
        return []
    evidence = (
        f"the median is uncertain by ±{100 * (row.median_uncertainty or 0):.1f} % after {row.repeats} repeats "
        f"(spread ±{50 * row.spread:.1f} %)"
    )
    load = tel.get("loadavg")
    fix = "repeat on an idle machine; compare only interleaved measurements"
    if load is not None and tel.get("cpus"):
        evidence += f"; load average {load:.1f} on {tel['cpus']} CPUs"
    return [_verdict("noisy", evidence, fix)]


def _cpu_busy(row, tel: dict) -> list[dict]:
    load, cpus = tel.get("loadavg"), tel.get("cpus")
    if row.device.startswith("cuda:") or load is None or not cpus or load <= 1.5 * cpus:
        return []
    return [
        _verdict(
            "cpu-busy",
            f"load average {load:.1f} on {cpus} CPUs while the benchmark ran: other work competes for the cores",
            "run on an idle machine, or give the benchmark the free cores (NUMBA_NUM_THREADS, taskset)",
        )
    ]


def explain(row, host: dict, rows: list) -> list[dict]:
    """Verdicts for one row; empty when the row is neither low nor noisy."""
    low = row.fraction_of_ceiling is not None and row.expected_fraction is not None
    low = low and row.fraction_of_ceiling < row.expected_fraction
    if not low and not row.noisy:
        return []
    tel = row.telemetry or {}
    state = host.get("gpu_state", {}).get(row.device, {})
    throttle = host.get("throttle", {}).get(row.device, {})
    found = _mig(state) + _shared(tel, state)
    if not row.name.startswith(("h2d_", "d2h_")):  # clock limits slow the SMs and memory, not PCIe copies
        found += _clocks(tel, throttle)
    found += _pcie(row, tel, host.get("pcie", {}).get(row.device, {}))
    found += _numa(row, host.get("numa", {}).get(row.device, {}))
    found += _pageable(row, rows) + _cpu_busy(row, tel) + _noisy(row, tel)
    if low and not [v for v in found if v["cause"] != "noisy"]:
        checked = "MIG mode, other processes, clock-event reasons, PCIe link, NUMA placement"
        found.append(
            _verdict(
                "no-cause-found",
                f"{_pct(row.fraction_of_ceiling)} of the ceiling, expected at least {_pct(row.expected_fraction)}; "
                f"nothing in what gpudock reads explains it ({checked})",
                "compare with a reference measured in the same run (--nvidia-nbody, torch.matmul) and profile "
                "with Nsight Compute",
            )
        )
    return found


def measured_under(tel: dict) -> str:
    """'power-capped (sw_power_cap in 62 % of samples, SM clock median 1,755 of 1,980 MHz)' or ''."""
    reasons = {k: v for k, v in (tel.get("reasons") or {}).items() if k not in ("gpu_idle",) and v >= SHARE}
    if not reasons:
        return ""
    sm, top = tel.get("sm_clock_mhz") or {}, tel.get("sm_clock_max_mhz")
    clock = f", SM clock median {sm['median']:,.0f} of {top:,.0f} MHz" if sm and top else ""
    named = ", ".join(f"{k} in {_pct(v)} of samples" for k, v in reasons.items())
    return f"measured while clocks were limited ({named}{clock})"
