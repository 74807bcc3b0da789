"""Fuzz: generated and mutated snapshots through the snapshot model, the doctor and every renderer.

Hostile text (lone surrogates, rich markup, terminal controls, shell syntax, huge values) must give
findings and plans, never an exception; verdicts must not depend on key order or on a save/load round
trip. ``gpudock.diagnose.diagnose`` is the doctor's stable entry point, so new rules join this test as
they land. Started from the adversarial review's fuzz script.
"""

from __future__ import annotations

import copy
import io
import json
import random

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rich.console import Console

from gpudock.diagnose import diagnose
from gpudock.exceptions import PlanRefused, SnapshotError
from gpudock.facts.host import host_info
from gpudock.install import STEPS, make_plan
from gpudock.install.render import plan_view
from gpudock.snapshot import Snapshot
from gpudock.views import doctor_json, doctor_view, findings_text, host_line
from tests.helpers import CASES, SNAPSHOTS

PROBES = [
    "docker_gpu",
    "docker_gpu_runtime",
    "docker_gpu_sudo",
    "docker_version",
    "docker_info",
    "docker_ps",
    "docker_hello",
    "nvidia_smi",
    "nvidia_smi_query",
    "nvidia_ctk_version",
    "nvidia_container_cli_info",
    "nvidia_container_cli_debug",
    "dpkg_nvidia",
    "dpkg_docker",
    "systemctl_docker",
    "id",
    "ls_docker_sock",
    "docker_nbody",
    "nvidia_docker_run",
    "apt_update",
]
FILES = [
    "/etc/os-release",
    "/proc/version",
    "/etc/docker/daemon.json",
    "/proc/driver/nvidia/version",
    "/etc/wsl.conf",
    "/etc/nvidia-container-runtime/config.toml",
    "/etc/apt/sources.list.d/nvidia-docker.list",
    "/etc/apt/sources.list.d/cuda.list",
]
PATHS = [
    "/dev/dxg",
    "/usr/lib/wsl/lib/libcuda.so.1",
    "/dev/nvidia0",
    "/usr/bin/dockerd",
    "/usr/bin/nvidia-container-runtime-hook",
    "/run/systemd/system",
    "/proc/sys/fs/binfmt_misc/WSLInterop",
    "/mnt/wsl/docker-desktop/cli-tools",
]
WEIRD = [
    "",
    "\x00",
    "\ud800",
    "\udcff",
    "\u2028",
    "\r",
    "\n\n",
    "[/]",
    "[bold]",
    "[link=x]",
    "%s",
    "{}",
    "{{",
    "\\",
    "'",
    '"',
    "$(id)",
    "`id`",
    "é",
    "日本語",
    "\U0001f600",
    "\x1b[31m",
    "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "\x9b2J",
    "\u202etxt.exe",
    "\t",
    " " * 50,
    "A" * 1000,
    "ID=ubuntu",
    'VERSION_ID="24.04"',
    "Server Version: 1",
    "Operating System: Docker Desktop",
    "uid=0(root)",
    "uid=1000([/])",
    "|   0  NVIDIA H200   |",
    "CUDA Version: 12.4",
    "Driver Version: 550.1",
    "unsatisfied condition: cuda>=99.9",
    "only 0 Devices available",
    "Hello from Docker!",
    "ii  nvidia-docker2 1 amd64 x",
    "ii  nvidia-driver-550 1 amd64 x",
    "ii  evil;reboot 1 amd64 x",
    "Conflicting values set for option Signed-By regarding source https://",
    "Conflicting values set for option Signed-By regarding source https://x/$(reboot) /",
    "NO_PUBKEY A4B469963BF863CC",
    "file creation failed: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1: file exists",
    "System has not been booted with systemd",
    "command not found",
    'could not select device driver "" with capabilities: [[gpu]]',
    '"Runtimes": {"nvidia": {}',
    "CUDA Version:",
    "cuda>=",
    "Runtimes:",
    "microsoft-standard-WSL2",
    "4.4.0-19041-Microsoft",
    "The command 'docker' could not be found in this WSL 2 distro",
    "WSL 1 distro",
    "Failed to initialize NVML: Unknown Error",
    "no-cgroups = true",
    "Driver/library version mismatch",
    "nvidia.github.io/nvidia-docker",
    "unknown flag: --gpus",
    "= 123.4 billion interactions per second",
]
OS_RELEASES = [
    'ID=ubuntu\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID_LIKE=debian\n',
    'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
    "ID=fedora\nVERSION_ID=40\n",
    'ID=ubuntu\nVERSION_ID="22.04"\nUBUNTU_CODENAME=jammy\n',
    'ID=ubuntu\nVERSION_ID="24.04"\nVERSION_CODENAME="noble\necho CANARY"\n',
]
RELEASES = ["Linux", "x86_64", "aarch64", "6.6.87.2-microsoft-standard-WSL2", "4.4.0-19041-Microsoft", "6.1.0-18-amd64"]


def _fixtures() -> list[dict]:
    found = []
    for path in sorted(CASES.glob("*.json")) + sorted(SNAPSHOTS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and isinstance(doc.get("snapshot"), dict):
            doc = doc["snapshot"]
        if isinstance(doc, dict) and any(k in doc for k in ("commands", "files", "platform")):
            found.append(doc)
    return found


FIXTURES = _fixtures()
LINES = sorted(
    {
        line
        for doc in FIXTURES
        for entry in (doc.get("commands") or {}).values()
        if isinstance(entry, dict)
        for stream in ("stdout", "stderr")
        for line in (entry.get(stream) or "").splitlines()
        if line.strip()
    }
)


def _text(r: random.Random, parts: int | None = None) -> str:
    """Up to six pieces: fixture lines, hostile words, random characters (any code point, surrogates too)."""
    pieces = []
    for _ in range(r.randint(0, 6) if parts is None else parts):
        k = r.random()
        if k < 0.45:
            pieces.append(r.choice(LINES))
        elif k < 0.85:
            pieces.append(r.choice(WEIRD))
        else:
            pieces.append(
                "".join(
                    chr(r.randint(0, 0x10FFFF) if r.random() < 0.1 else r.randint(32, 126))
                    for _ in range(r.randint(0, 40))
                )
            )
    return r.choice(["\n", " ", "", "\r\n", ", "]).join(pieces)


def generate(r: random.Random) -> dict:
    """A snapshot-shaped document: every section optional, every value possibly hostile."""
    doc: dict = {}
    if r.random() < 0.8:
        doc["platform"] = {
            k: _text(r, 1) if r.random() < 0.5 else r.choice(RELEASES)
            for k in ("system", "release", "machine")
            if r.random() < 0.9
        }
    if r.random() < 0.6:
        keys = ["WSL_DISTRO_NAME", "WSL_INTEROP", "DOCKER_HOST", "USER", "CI"]
        doc["env"] = {k: _text(r, 1) for k in r.sample(keys, r.randint(0, 4))}
    if r.random() < 0.8:
        doc["files"] = {}
        for path in r.sample(FILES, r.randint(0, len(FILES))):
            if path == "/etc/os-release" and r.random() < 0.7:
                doc["files"][path] = r.choice(OS_RELEASES) + _text(r, 2)
            else:
                doc["files"][path] = None if r.random() < 0.2 else _text(r)
    if r.random() < 0.7:
        doc["paths"] = {p: r.choice([True, False, None]) for p in r.sample(PATHS, r.randint(0, len(PATHS)))}
    if r.random() < 0.95:
        doc["commands"] = {}
        for name in r.sample(PROBES, r.randint(0, len(PROBES))):
            entry = {}
            if r.random() < 0.9:
                entry["rc"] = r.choice([None, 0, 0, 1, 125, 126, 127, 3, -9, 255])
            for stream in ("stdout", "stderr"):
                if r.random() < 0.9:
                    entry[stream] = r.choice([None, _text(r)])
            if r.random() < 0.1:
                entry["timed_out"] = r.choice([True, False, None])
            doc["commands"][name] = entry
    return doc


def _codes(snap: Snapshot) -> list[tuple[str, str]]:
    return sorted((f.code, f.severity) for f in diagnose(snap, host_info(snap)))


def _render(snap: Snapshot, tables: bool, plans: bool = True) -> None:
    host = host_info(snap)
    findings = diagnose(snap, host)
    doctor_json(findings, host).encode("utf-8")
    findings_text(findings).encode("utf-8")
    host_line(host).encode("utf-8")
    console = Console(file=io.StringIO(), width=100, color_system=None)
    if tables:
        console.print(doctor_view(findings, host, verbose=True))
    for step in STEPS if plans else ():
        for source in ("distro", "docker-ce") if step in ("docker", "all") else ("distro",):
            try:
                plan = make_plan(step, snap, host, source=source)
            except PlanRefused:
                continue
            plan.to_sh().encode("utf-8")
            plan.to_json().encode("utf-8")
            if tables:
                console.print(plan_view(plan))
                console.print(plan_view(plan, verbose=True))


def _check(doc: dict, draw: int) -> None:
    """Everything for every document; the costlier checks on a share of them (``draw`` in 0..19)."""
    try:
        snap = Snapshot(copy.deepcopy(doc))
    except SnapshotError:
        return
    if draw % 4 == 0:
        codes = _codes(snap)
        if snap.data:  # an empty document is not a snapshot file (exit 2), so it has no round trip
            assert _codes(Snapshot.loads(snap.to_json())) == codes, "a save/load round trip changed the verdict"
        reordered = {k: dict(reversed(list(v.items()))) if isinstance(v, dict) else v for k, v in reversed(doc.items())}
        assert _codes(Snapshot(reordered)) == codes, "the verdict depends on the order of keys"
    _render(snap, tables=draw == 0, plans=draw % 2 == 0)


PER_EXAMPLE = 4  # documents per hypothesis example
_FUZZ = {
    "phases": [Phase.generate],
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}


def _fuzz(seed: int, draw: int) -> None:
    # seeds, not st.randoms(): each draw of those costs a hypothesis step
    for offset in range(PER_EXAMPLE):
        _check(
            generate(random.Random(seed + offset)), (draw + offset * 5) % 20
        )  # diagnose and JSON/text for all; plans for half, round trips a quarter, tables 1/20


@settings(**_FUZZ)  # as many examples as the loaded profile says: "push" (tests/conftest.py), 75 x 4 documents
@given(st.integers(0, 2**32), st.integers(0, 19))
def test_generated_snapshots_never_crash_and_replay_the_same(seed, draw):
    _fuzz(seed, draw)


@pytest.mark.slow  # .ci/run runs it once, in a step of its own (`pytest -m slow --dist load`)
@pytest.mark.parametrize("half", [0, 1])  # two halves of 5,000 documents: one per worker
@settings(**_FUZZ, max_examples=10_000 // PER_EXAMPLE // 2)
@given(st.integers(0, 2**32), st.integers(0, 19))
def test_10_000_generated_snapshots_never_crash_and_replay_the_same(half, seed, draw):
    _fuzz(seed + half * 2**33, draw)  # the halves draw from seed ranges of their own


def _mutate(r: random.Random, base: dict) -> dict:
    doc = copy.deepcopy(base)
    commands = doc.get("commands") or {}
    for _ in range(r.randint(1, 5)):
        names = list(commands)
        choice = r.randint(0, 9)
        if choice == 0 and names:
            entry = commands[r.choice(names)]
            key = r.choice(["stdout", "stderr"])
            if isinstance(entry.get(key), str):
                entry[key] = entry[key][: r.randint(0, len(entry[key]))]
        elif choice == 1 and names:
            entry = commands[r.choice(names)]
            entry["stdout"], entry["stderr"] = entry.get("stderr"), entry.get("stdout")
        elif choice == 2 and names:
            commands[r.choice(names)]["rc"] = r.choice([None, 0, 1, 127, 125, -1, 2**31])
        elif choice == 3 and names:
            del commands[r.choice(names)]
        elif choice == 4 and names:
            entry = commands[r.choice(names)]
            entry["stdout"] = (entry.get("stdout") or "") + "\n" + r.choice(WEIRD) + r.choice(LINES)
        elif choice == 5 and names:
            commands[r.choice(names)]["timed_out"] = True
        elif choice == 6 and doc.get("files"):
            path = r.choice(list(doc["files"]))
            doc["files"][path] = r.choice([None, "", r.choice(WEIRD), r.choice(OS_RELEASES)])
        elif choice == 7:
            doc.setdefault("platform", {})["release"] = r.choice(RELEASES + WEIRD)
        elif choice == 8 and names:
            entry = commands[r.choice(names)]
            entry["stderr"] = (entry.get("stderr") or "") + r.choice(WEIRD) * r.randint(1, 200)
        elif choice == 9:
            doc.setdefault("env", {})["USER"] = r.choice(WEIRD)
    if commands:
        doc["commands"] = commands
    return doc


def test_mutated_real_fixtures_never_crash_and_replay_the_same():
    r = random.Random(11)
    for i in range(1_000):
        _check(_mutate(r, r.choice(FIXTURES)), i % 20)


def test_generated_snapshots_through_the_cli(tmp_path, capsys):
    """The doctor and plan commands end to end (main()): exit 0, 1 or 2, never an exception."""
    from gpudock.cli import main

    r = random.Random(2026)
    path = tmp_path / "s.json"
    for i in range(150):
        doc = generate(r) if i % 3 else _mutate(r, r.choice(FIXTURES))
        path.write_text(json.dumps(doc), encoding="utf-8", errors="surrogatepass")
        assert main(["doctor", "--snapshot", str(path), "--json"]) in (0, 1, 2)
        assert main(["doctor", "--snapshot", str(path)]) in (0, 1, 2)
        step = ("driver", "docker", "toolkit", "all")[i % 4]
        fmt = ("sh", "json", "table")[i % 3]
        assert main(["plan", step, "--snapshot", str(path), "--format", fmt, "--source", "docker-ce"]) in (0, 1, 2)
        out = capsys.readouterr()
        assert "Traceback" not in out.err
        out.out.encode("utf-8")
