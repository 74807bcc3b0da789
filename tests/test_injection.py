"""Injection corpus: hostile values in every snapshot field that reaches a plan, rendered in every format.

Each distinct shell plan is checked with ``bash -n`` and shellcheck, then RUN as an unprivileged user
with logging stubs first on PATH (sudo logs and runs the rest; apt-get, curl, gpg, dpkg, install, mv,
systemctl, usermod … log their argv and exit 0). No injected command may run, and every file a plan
installs as root must hold exactly the content the plan shows. Adapted from the adversarial review's
inject script, which found 16 plans running injected commands in v1.
"""

from __future__ import annotations

import copy
import io
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from rich.console import Console

from gpudock.diagnose import diagnose
from gpudock.exceptions import PlanRefused
from gpudock.facts.host import host_info
from gpudock.install import make_plan
from gpudock.install.docker import DOCKER_KEY_FINGERPRINT
from gpudock.install.driver import CUDA_KEY_FINGERPRINT
from gpudock.install.render import plan_view
from gpudock.install.toolkit import TOOLKIT_KEY_FINGERPRINT
from gpudock.snapshot import Snapshot
from tests.helpers import SNAPSHOTS

CANARY = "gpudock-canary"  # a stub that records that it ran; every payload tries to call it
PAYLOADS = {
    "semicolon": f"bookworm; {CANARY}",
    "dollar": f"$({CANARY})",
    "backtick": f"`{CANARY}`",
    "newline": f"x86_64\n{CANARY} #",
    "heredoc-end": f"amd64\nGPUDOCK_EOF\n{CANARY}\ncat >/dev/null <<'GPUDOCK_EOF'",
    "cr": f"x86_64\r{CANARY} #",
    "u2028": f"x86_64\u2028{CANARY} #",
    "dotdot": "../../../etc/passwd",
    "single-quote": f"it's'; {CANARY}; '",
    "double-quote": f'a"; {CANARY}; "',
    "backslash": "a\\\\b\\",
    "dash": "--help",
    "eof-word": "GPUDOCK_EOF",
    "markup": "[/][bold]x[link=file:///etc/passwd]y",
    "terminal": "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x9b31m\u202eexe.txt",
    "deb822": "amd64\nTrusted: yes\n\nTypes: deb\nURIs: http://evil.example/\nSuites: x\nComponents: main\n"
    "Trusted: yes",
    "long": "A" * 5000,
}
OS_RELEASE = '{pretty}\nNAME="Debian GNU/Linux"\nVERSION_ID={vid}\nVERSION_CODENAME={code}\nID={id}\nID_LIKE={like}\n'


def _q(value: str) -> str:
    """os-release quoting: double quotes with backslash escapes."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`")
    return '"' + escaped + '"'


def _os_release(**values) -> str:
    fields = {
        "pretty": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
        "vid": '"12"',
        "code": "bookworm",
        "id": "debian",
        "like": "debian",
    }
    fields.update(values)
    return OS_RELEASE.format(**fields)


def _variants(payload: str) -> dict:
    def files(s, text):
        s.setdefault("files", {})["/etc/os-release"] = text

    def user_from_id(s):
        s.setdefault("commands", {})["id"] = {
            "rc": 0,
            "stdout": f"uid=1000({payload}) gid=1000(u) groups=1000(u),27(docker)\n",
            "stderr": "",
        }

    def user_from_env(s):
        s.setdefault("commands", {}).pop("id", None)
        s.setdefault("env", {})["USER"] = payload

    return {
        "codename": lambda s: files(s, _os_release(code=_q(payload))),
        "pretty": lambda s: files(s, _os_release(pretty="PRETTY_NAME=" + _q(payload))),
        "id-like": lambda s: files(s, _os_release(id=_q("x" + payload), like=_q("debian " + payload))),
        "version-id": lambda s: files(s, _os_release(vid=_q(payload))),
        "machine": lambda s: s.setdefault("platform", {}).__setitem__("machine", payload),
        "release": lambda s: s.setdefault("platform", {}).__setitem__("release", payload),
        "user-id": user_from_id,
        "user-env": user_from_env,
        "dpkg": lambda s: s.setdefault("commands", {}).__setitem__(
            "dpkg_docker", {"rc": 0, "stdout": f"ii  {payload} 1 amd64 x\nii  docker.io 1 amd64 x\n", "stderr": ""}
        ),
        "apt-url": lambda s: s.setdefault("files", {}).__setitem__(
            "/etc/apt/sources.list.d/nvidia-docker.list", f"deb https://nvidia.github.io/{payload} /\n"
        ),
    }


def _bases() -> dict[str, dict]:
    native = json.loads((SNAPSHOTS / "debian12-ci-no-gpu.json").read_text())
    wsl = json.loads((SNAPSHOTS / "wsl2-healthy.json").read_text())
    return {"native": native.get("snapshot", native), "wsl": wsl.get("snapshot", wsl)}


def corpus():
    for base_name, base in _bases().items():
        for payload_name, payload in PAYLOADS.items():
            for variant, mutate in _variants(payload).items():
                doc = copy.deepcopy(base)
                doc.setdefault("platform", {"system": "Linux", "release": "6.1.0-26-amd64", "machine": "x86_64"})
                mutate(doc)
                yield f"{base_name}-{variant}-{payload_name}", doc


CORPUS = list(corpus())
PLANS = [("driver", {}), ("docker", {}), ("docker", {"source": "docker-ce"}), ("toolkit", {}), ("all", {})]
PLANS.append(("all", {"source": "docker-ce"}))


def _plans(doc: dict):
    snap = Snapshot(copy.deepcopy(doc))
    host = host_info(snap)
    for step, options in PLANS:
        try:
            yield step, options, make_plan(step, snap, host, **options)
        except PlanRefused:
            continue


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 256


def test_every_format_renders_and_no_payload_reaches_a_command():
    for name, doc in CORPUS:
        snap = Snapshot(copy.deepcopy(doc))
        for finding in diagnose(snap, host_info(snap)):
            assert CANARY not in " ".join(finding.fix), (name, finding.code, finding.fix)
        for step, _options, plan in _plans(doc):
            script, data = plan.to_sh(), json.loads(plan.to_json())
            console = Console(file=io.StringIO(), width=120, color_system="truecolor")
            console.print(plan_view(plan, verbose=True))
            shown = console.file.getvalue()
            assert "\x1b]52" not in shown and "\u202e" not in shown, f"{name}: terminal control reached the table"
            assert CANARY not in script, f"{name}/{step}: the payload reached the script"
            for entry in data["steps"]:
                for argv in entry["commands"]:
                    assert not any(CANARY in arg for arg in argv), (name, step, argv)
            for line in script.splitlines():
                assert "\r" not in line and "\u2028" not in line, (name, step, line)


STUB = """#!/bin/sh
# logging stub: argv (one quoted word each) and what it installs
line="$(basename "$0")"; for a in "$@"; do line="$line [$a]"; done
printf '%s\\n' "$line" >> "$STUBLOG"  # one write: pipelines of stubs do not interleave
{body}
exit {rc}
"""
STUB_BODIES = {
    "gpudock-canary": 'echo "CANARY RAN" >> "$STUBLOG"',
    "sudo": 'exec "$@"',
    "curl": 'while [ $# -gt 0 ]; do [ "$1" = -o ] && : > "$2"; shift; done',
    "dpkg-deb": 'mkdir -p "$3/usr/share/keyrings" && : > "$3/usr/share/keyrings/cuda-archive-keyring.gpg"',
    "gpg": (
        'for a in "$@"; do last="$a"; done\n'
        'case " $* " in *" --dearmor "*) while [ $# -gt 0 ]; do [ "$1" = -o ] && : > "$2"; shift; done;; esac\n'
        'case " $* " in *" --show-keys "*) [ -e "$last" ] || exit 2; '
        f"printf 'fpr:::::::::%s:\\n' {DOCKER_KEY_FINGERPRINT} {CUDA_KEY_FINGERPRINT} {TOOLKIT_KEY_FINGERPRINT};; esac"
    ),
    # installed once a logged apt-get install or dpkg -i named it
    "dpkg-query": (
        'for a in "$@"; do pkg="$a"; done\n'
        'if grep -E "^(apt-get \\[install\\]|dpkg \\[-i\\])" "$STUBLOG" | grep -qF -e "[$pkg]" -e "${pkg}_"; then\n'
        '  printf "install ok installed"; exit 0; fi'
    ),
    # daemon.json says "nvidia" once the logged nvidia-ctk configured it; every other grep is the real one
    "grep": (
        'for a in "$@"; do last="$a"; done\n'
        'if [ "$last" = /etc/docker/daemon.json ]; then /bin/grep -q "^nvidia-ctk \\[runtime\\]" "$STUBLOG"; exit; fi\n'
        'exec /bin/grep "$@"'
    ),
    "install": (
        'if [ "$1" = -m ] && [ "$3" = -T ]; then { echo "CONTENT-OF $5 BEGIN"; cat "$4"; echo "CONTENT-OF $5 END"; }'
        ' >> "$STUBLOG"; fi'
    ),
}
STUB_RC = {"dpkg-query": 1, "cmp": 1, "id": 1}  # nothing installed or written yet: every step runs
STUB_NAMES = (
    "sudo apt-get curl gpg dpkg dpkg-query dpkg-deb tee install mv chmod systemctl service usermod id docker "
    "nvidia-ctk nvidia-smi add-apt-repository start-stop-daemon reboot cmp sleep rm dockerd grep gpudock-canary"
).split()


@pytest.fixture(scope="module")
def sandbox():
    """A world-readable folder with the stubs, and an unprivileged user to run plans as."""
    folder = Path(tempfile.mkdtemp(prefix="gpudock-inject-"))
    folder.chmod(0o755)
    stubs = folder / "stubs"
    stubs.mkdir()
    for name in STUB_NAMES:
        path = stubs / name
        path.write_text(STUB.format(body=STUB_BODIES.get(name, ""), rc=STUB_RC.get(name, 0)))
        path.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _run_as_nobody(script: Path, log: Path, stubs: Path) -> subprocess.CompletedProcess:
    env = ["/usr/bin/env", "-i", f"PATH={stubs}:/usr/bin:/bin", "HOME=/nonexistent", "LANG=C.UTF-8", f"STUBLOG={log}"]
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *env, "/bin/bash", str(script)],
        capture_output=True,
        text=True,
        errors="replace",
        stdin=subprocess.DEVNULL,
        timeout=60,
        cwd="/",
    )


@pytest.mark.requires_root
def test_scripts_run_under_stubs_as_nobody_run_no_injected_command(sandbox):
    scripts: dict[str, tuple[str, object]] = {}
    for name, doc in CORPUS:
        for step, options, plan in _plans(doc):
            scripts.setdefault(plan.to_sh(), (f"{name}/{step}{options.get('source', '')}", plan))
    assert len(scripts) >= 5
    # the harness sees an injected command when one runs (v1's header-comment newline injection)
    bad, bad_log = sandbox / "v1.sh", sandbox / "v1.log"
    bad.write_text(f"#!/usr/bin/env bash\n# gpudock plan docker for x86_64\n{CANARY} #\nset -euo pipefail\n")
    bad_log.write_text("")
    bad_log.chmod(0o666)
    _run_as_nobody(bad, bad_log, sandbox / "stubs")
    assert "CANARY RAN" in bad_log.read_text()
    for index, (text, (label, plan)) in enumerate(scripts.items()):
        script, log = sandbox / f"plan-{index}.sh", sandbox / f"plan-{index}.log"
        script.write_text(text)
        script.chmod(0o644)
        log.write_text("")
        log.chmod(0o666)
        assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0, label
        if shutil.which("shellcheck"):
            check = subprocess.run(["shellcheck", "-f", "gcc", str(script)], capture_output=True, text=True)
            assert check.returncode == 0, f"{label}: {check.stdout[:500]}"
        proc = _run_as_nobody(script, log, sandbox / "stubs")
        logged = log.read_text()
        assert "CANARY" not in logged and CANARY not in proc.stdout + proc.stderr, f"{label}: injected command ran"
        assert proc.returncode == 0, f"{label}: exit {proc.returncode}: {proc.stderr[-800:]}"
        expected = {s.writes.path: s.writes.content for s in plan.steps if s.writes and s.writes.content is not None}
        for path, content in expected.items():
            marker = f"CONTENT-OF {path}.gpudock-new"
            assert f"{marker} BEGIN\n{content}{marker} END" in logged, f"{label}: {path} content differs"
        assert "Trusted" not in logged and "evil.example" not in logged, label
        for line in logged.splitlines():
            if line.startswith("CONTENT-OF") or not line.strip():
                continue
            assert line.split(" ")[0] in STUB_NAMES or line.startswith(
                ("Types:", "URIs:", "Suites:", "Comp", "Arch", "Signed", "deb ")
            ), line
