"""What the GPU did while a benchmark ran: SM clock, power, temperature, clock-event ("throttle") reasons,
PCIe link and the processes on it, sampled with `nvidia-smi --query-gpu` / `--query-compute-apps`.

Why nvidia-smi and not NVML through nvidia-ml-py: nvidia-smi ships with every driver and the NVIDIA Container
Toolkit (and CDI specs) put it into containers wherever NVML is, so gpudock needs no extra package; its output
is text, so what a run saw can be saved, committed as a test fixture and parsed on a machine without a GPU;
and it is what users already paste into bug reports. The price is a process per sample (a poll every
``interval`` seconds, and only while GPU benchmarks run, never during the CPU ones).

Parsing and summarising are pure functions of the recorded text, tested without a GPU.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field

# `nvidia-smi --help-query-gpu`. Drivers before 530 call clocks_event_reasons clocks_throttle_reasons.
FIELDS = (
    "pci.bus_id",
    "clocks.sm",
    "clocks.max.sm",
    "clocks.mem",
    "power.draw",
    "power.limit",
    "temperature.gpu",
    "utilization.gpu",
    "clocks_event_reasons.active",
    "pcie.link.gen.current",
    "pcie.link.width.current",
)
OLD_NAMES = {"clocks_event_reasons.active": "clocks_throttle_reasons.active"}
APPS = ("gpu_bus_id", "pid", "process_name", "used_memory")

# NVML's nvmlClocksEventReasons bit masks (NVML API reference, "ClocksEventReasons"); the same bits as the
# older nvmlClocksThrottleReasons.
REASONS = {
    0x1: "gpu_idle",
    0x2: "applications_clocks_setting",
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}


def decode_reasons(mask: str | int) -> list[str]:
    """Names of the bits set in a clocks-event-reasons mask ('0x0000000000000004' -> ['sw_power_cap'])."""
    try:
        bits = mask if isinstance(mask, int) else int(str(mask).strip(), 16)
    except ValueError:
        return []
    return [name for bit, name in REASONS.items() if bits & bit]


def _number(text: str) -> float | None:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        return None  # "[N/A]", "N/A", "[Not Supported]"


def bus_id(text: str) -> str:
    """'00000000:1B:00.0' (nvidia-smi) and '0000:1b:00.0' (CUDA, sysfs) -> '0000:1b:00.0'."""
    parts = text.strip().lower().split(":")  # DOMAIN:BUS:DEVICE.FUNCTION; the domain's last four digits count
    if len(parts) != 3:
        return text.strip().lower()
    return f"{parts[0][-4:].rjust(4, '0')}:{parts[1]}:{parts[2]}"


@dataclass
class Sample:
    t: float  # time.time() when read
    bus: str
    sm_mhz: float | None
    sm_max_mhz: float | None
    mem_mhz: float | None
    power_w: float | None
    power_limit_w: float | None
    temperature_c: float | None
    utilization: float | None
    reasons: list[str]
    pcie_gen: float | None
    pcie_width: float | None


def parse_query(text: str, t: float) -> list[Sample]:
    """Lines of `nvidia-smi --query-gpu=<FIELDS> --format=csv,noheader,nounits`, one per GPU."""
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != len(FIELDS):
            continue
        n = [_number(c) for c in cells]
        reasons = decode_reasons(cells[8])
        out.append(Sample(t, bus_id(cells[0]), n[1], n[2], n[3], n[4], n[5], n[6], n[7], reasons, n[9], n[10]))
    return out


@dataclass
class App:
    t: float
    bus: str
    pid: int
    name: str
    used_mib: float | None


def parse_apps(text: str, t: float) -> list[App]:
    """Lines of `nvidia-smi --query-compute-apps=gpu_bus_id,pid,process_name,used_memory --format=csv,noheader,nounits`
    ('No running processes found' reads as none)."""
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) < 4 or not cells[1].isdigit():
            continue
        name = ",".join(cells[2:-1])  # a process name may hold commas
        out.append(App(t, bus_id(cells[0]), int(cells[1]), name[:120], _number(cells[-1])))
    return out


def _stats(values: list[float]) -> dict:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)} if values else {}


def summarize(samples: list[Sample], apps: list[App], bus: str, window: tuple[float, float], own_pids=()) -> dict:
    """What one benchmark row saw on the GPU at ``bus`` during ``window`` (time.time() start, end).

    ``reasons`` maps each clock-event reason to the share of samples it was active in; ``other_processes``
    lists compute processes on this GPU other than ``own_pids`` (this process) seen in the window.
    """
    t0, t1 = window
    mine = [s for s in samples if s.bus == bus and t0 <= s.t <= t1]
    out: dict = {"samples": len(mine)}
    if mine:
        pick = lambda attr: [getattr(s, attr) for s in mine if getattr(s, attr) is not None]  # noqa: E731
        out["sm_clock_mhz"] = _stats(pick("sm_mhz"))
        out["sm_clock_max_mhz"] = max(pick("sm_max_mhz"), default=None)
        out["power_w"] = _stats(pick("power_w"))
        out["power_limit_w"] = max(pick("power_limit_w"), default=None)
        out["temperature_c"] = _stats(pick("temperature_c"))
        out["utilization_pct"] = _stats(pick("utilization"))
        counts: dict[str, int] = {}
        for s in mine:
            for reason in s.reasons:
                counts[reason] = counts.get(reason, 0) + 1
        out["reasons"] = {r: round(c / len(mine), 3) for r, c in sorted(counts.items())}
        out["pcie_gen"] = max(pick("pcie_gen"), default=None)
        out["pcie_width"] = max(pick("pcie_width"), default=None)
    seen = {}
    for app in apps:
        if app.bus == bus and t0 <= app.t <= t1 and app.pid not in own_pids:
            seen[app.pid] = {"pid": app.pid, "name": app.name, "used_mib": app.used_mib}
    out["other_processes"] = list(seen.values())
    return out


@dataclass
class Sampler:
    """Polls nvidia-smi in a background thread between start() and stop(); never raises."""

    interval: float = 0.2
    apps_every: int = 3  # the process list every few polls (it changes slowly)
    command: str = "nvidia-smi"
    samples: list = field(default_factory=list)
    apps: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    call_s: list = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fields = FIELDS

    def _run(self, args: list[str]) -> str | None:
        started = time.perf_counter()
        try:
            proc = subprocess.run([self.command, *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError) as err:
            self.errors.append(f"{self.command}: {type(err).__name__}: {str(err)[:120]}")
            return None
        self.call_s.append(time.perf_counter() - started)
        if proc.returncode != 0:
            self.errors.append(f"{self.command} exited {proc.returncode}: {(proc.stdout + proc.stderr).strip()[:160]}")
            return None
        return proc.stdout

    def poll_once(self, with_apps: bool = True) -> None:
        fields = ",".join(self._fields)
        text = self._run([f"--query-gpu={fields}", "--format=csv,noheader,nounits"])
        if text is None and self._fields == FIELDS and "valid field" in (self.errors[-1] if self.errors else ""):
            self._fields = tuple(OLD_NAMES.get(f, f) for f in FIELDS)  # a driver older than 530
            text = self._run([f"--query-gpu={','.join(self._fields)}", "--format=csv,noheader,nounits"])
        if text is not None:
            self.samples += parse_query(text, time.time())
        if with_apps:
            apps = self._run([f"--query-compute-apps={','.join(APPS)}", "--format=csv,noheader,nounits"])
            if apps is not None:
                self.apps += parse_apps(apps, time.time())

    def _loop(self) -> None:
        polls = 0
        while not self._stop.is_set() and len(self.errors) < 20:
            self.poll_once(with_apps=polls % self.apps_every == 0)
            polls += 1
            self._stop.wait(self.interval)

    def start(self) -> Sampler:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="gpudock-telemetry", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=15)
            self._thread = None
