"""Every view at 60, 80, 120 and 200 columns: no fix command, finding code or URL split across lines.

The doctor runs on every real fixture (tests/data/cases, tests/data/snapshots, tests/data/real), the
plans on every snapshot, the bench table on measured H200 results; what is checked is what a person
copies: each command must be on one line, whole, and every other line must fit the width.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys

import pytest
from rich.console import Console

from gpudock.bench.results import Results
from gpudock.bench.tables import results_table
from gpudock.doctor import check
from gpudock.exceptions import GpudockError
from gpudock.facts.host import host_info
from gpudock.findings import Finding
from gpudock.install import STEPS, make_plan
from gpudock.install.plan import file_preview
from gpudock.install.render import plan_view, skip_phrase
from gpudock.layout import render_plain, split_step
from gpudock.snapshot import Snapshot
from gpudock.views import doctor_view, findings_text
from tests.helpers import CASES, REAL, ROOT, SNAPSHOTS
from tests.install.hosts import host_snapshot

WIDTHS = (60, 80, 120, 200)
SNAPSHOT_FILES = sorted(SNAPSHOTS.glob("*.json"))
DOCTOR_FILES = (
    [c for c in sorted(CASES.glob("*.json")) if c.name != "expectations-real.json"]
    + SNAPSHOT_FILES
    + [REAL / "h200-device-snapshot.json"]
)
BENCH_FILES = [p for p in sorted((ROOT / "docs" / "benchmarks").rglob("*.json")) if '"results"' in p.read_text()]


def render(renderable, width: int) -> list[str]:
    return render_plain(renderable, width).splitlines()


def whole_on_one_line(piece: str, lines: list[str]) -> bool:
    return any(piece in line for line in lines)


def commands_of(finding: Finding) -> list[str]:
    return [text for step in finding.fix for kind, text in split_step(step) if kind == "command"]


def backticked(finding: Finding) -> list[str]:
    return [span.strip("`") for step in finding.fix for span in re.findall(r"`[^`]*`", step)]


def assert_fits(lines: list[str], width: int, unbreakable: list[str]) -> None:
    """Lines wider than ``width`` must be ones that hold an unbreakable piece (a command, or any URL)."""
    for line in lines:
        if len(line) > width:
            ok = any(piece in line for piece in unbreakable) or re.search(r"[a-z]+://\S{20,}", line)
            assert ok, f"line wider than {width}: {line!r}"


@pytest.mark.parametrize("path", DOCTOR_FILES, ids=[p.stem for p in DOCTOR_FILES])
def test_doctor_never_splits_a_command_code_or_url(path):
    report = check(str(path))
    for width in WIDTHS:
        for verbose in (False, True):
            lines = render(doctor_view(report.findings, report.host, verbose), width)
            pieces = []
            for f in report.findings:
                pieces += [f"[{f.code}]"]
                if f.severity != "ok" or verbose:
                    pieces += commands_of(f) + backticked(f) + f.docs
            for piece in pieces:
                assert whole_on_one_line(piece, lines), f"{path.stem} at {width}: {piece!r} split or missing"
            assert_fits(lines, width, pieces)


def test_every_fixture_shows_some_fix_command_on_its_own_line():
    """The rule that finds commands in fix steps finds them: the fixtures' fixes are not all prose."""
    found = 0
    for path in DOCTOR_FILES:
        for f in check(str(path)).findings:
            for command in commands_of(f):
                lines = render(doctor_view([f]), 80)
                # on its own line: only the step number (or indentation) before it
                assert any(line.strip().split(". ", 1)[-1] == command or line.strip() == command for line in lines)
                found += 1
    assert found > 20


def test_ok_findings_are_one_line_and_verbose_shows_their_evidence():
    report = check(str(CASES / "debian12-docker-up-no-gpu.json"))
    ok = next(f for f in report.findings if f.severity == "ok")
    short = render(doctor_view([ok]), 200)
    assert len(short) == 3 and short[0].startswith(("✓", "+")) and ok.code in short[0]  # line, blank, summary
    assert ok.evidence in "\n".join(render(doctor_view([ok], verbose=True), 200))


def test_host_line_is_one_line_at_every_width():
    report = check(str(SNAPSHOTS / "wsl2-healthy.json"))
    for width in WIDTHS:
        first = render(doctor_view(report.findings, report.host), width)[0]
        assert first.startswith(("gpudock doctor", report.host.distro_id)) and len(first) <= width


@pytest.mark.parametrize("path", SNAPSHOT_FILES, ids=[p.stem for p in SNAPSHOT_FILES])
def test_plans_keep_every_command_line_whole(path):
    snap = Snapshot.load(path)
    host = host_info(snap)
    for step_name in STEPS:
        try:
            plan = make_plan(step_name, snap, host)
        except GpudockError:
            continue
        shown = [file_preview(s.writes) if s.writes else s.command_line() for s in plan.steps]
        shown += [s.fallback.command_line() for s in plan.steps if s.fallback]
        commands = [line.strip() for text in shown for line in text.split("\n")]
        commands += [shlex.join(check.argv) for check in plan.verify]  # the final check is a command too
        urls = [s.docs for s in plan.steps if s.docs]
        for width in WIDTHS:
            lines = render(plan_view(plan), width)
            for command in commands:
                assert any(line.strip() == command for line in lines), f"{step_name} at {width}: {command!r}"
            verbose = render(plan_view(plan, verbose=True), width)
            for s in plan.steps:
                assert any(line.strip() == s.command_line() for line in verbose)
            for s in plan.steps:
                if s.check:
                    assert whole_on_one_line(s.check.shell(), verbose)
            for url in urls:
                assert whole_on_one_line(url, verbose)
            phrases = [span for s in plan.steps for span in re.findall(r"`[^`]*`", skip_phrase(s))]
            assert_fits(lines, width, commands + phrases)
            # the raw shell check is not in the default view, its phrase is
            for s in plan.steps:
                if s.check and s.check.stdout_regex:
                    assert s.check.shell() not in "\n".join(lines)
                    assert skip_phrase(s) and skip_phrase(s).split()[-1] in "\n".join(lines)


def test_plan_skip_phrases_are_short_words():
    snap = host_snapshot("debian-12", "native")  # no engine answers: docker.io is planned
    plan = make_plan("docker", snap, host_info(snap))
    phrases = [skip_phrase(s) for s in plan.steps if s.check]
    assert "skipped if docker.io is installed" in phrases
    assert all("dpkg-query" not in p for p in phrases)


@pytest.mark.parametrize("path", BENCH_FILES, ids=[p.stem for p in BENCH_FILES])
def test_bench_table_fits_80_columns(path):
    results = Results.load(path)
    lines = render(results_table(results), 80)
    device_lines = {f"= {r.device}" for r in results.results}
    for line in lines:
        assert len(line) <= 80 or any(d in line for d in device_lines), line
    for r in results.results:  # the full device name once, in the header
        assert sum(f"= {r.device}" in line for line in lines) == 1
    values = [f"{r.value:,.1f}" for r in results.results]
    for value in values:
        assert whole_on_one_line(value, lines)
    assert not any(r.note and r.note in "\n".join(lines) for r in results.results)
    verbose = "\n".join(render(results_table(results, verbose=True), 200))
    squeezed = "".join(verbose.split())  # a long note folds inside its column
    assert all("".join(r.note.split()) in squeezed for r in results.results)


def test_findings_text_is_the_doctor_layout_for_notebooks():
    report = check(str(CASES / "debian12-docker-up-no-gpu.json"))
    text = findings_text(report.findings)
    assert text.startswith("✗ No NVIDIA driver") and "\n    1. check the GPU is there:" in text
    assert "\x1b" not in text
    assert findings_text([]) == "no problems found in this part"


# --- colour and symbols degrade: NO_COLOR, pipes, TERM=dumb ------------------------------------------


def _cli(*args, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS")}
    environ.update({"PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "80", **env})
    return subprocess.run(
        [sys.executable, "-m", "gpudock", *args], capture_output=True, text=True, env=environ, timeout=120
    )


@pytest.mark.parametrize("env", [{}, {"NO_COLOR": "1"}, {"TERM": "dumb"}], ids=["pipe", "no-color", "term-dumb"])
def test_piped_no_color_and_dumb_terminals_get_plain_text_with_the_same_structure(env):
    case = str(CASES / "debian12-docker-up-no-gpu.json")
    proc = _cli("doctor", "--snapshot", case, **env)
    assert proc.returncode == 1 and "\x1b" not in proc.stdout
    report = check(case)
    assert proc.stdout.rstrip("\n").splitlines() == render(doctor_view(report.findings, report.host), 80)
    plan = _cli("plan", "docker", "--snapshot", str(SNAPSHOTS / "debian12-ci-no-gpu.json"), **env)
    assert plan.returncode == 0 and "\x1b" not in plan.stdout
    snap = Snapshot.load(SNAPSHOTS / "debian12-ci-no-gpu.json")
    expected = render(plan_view(make_plan("docker", snap, host_info(snap))), 80)
    assert plan.stdout.rstrip("\n").splitlines() == expected


def test_no_color_on_a_terminal_keeps_bold_but_drops_colour():
    report = check(str(CASES / "debian12-docker-up-no-gpu.json"))
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system="truecolor", no_color=True)
    console.print(doctor_view(report.findings, report.host), crop=False)
    assert "\x1b[31" not in out.getvalue() and "\x1b[1m" in out.getvalue()


def test_ascii_terminals_get_ascii_marks():
    report = check(str(CASES / "debian12-docker-up-no-gpu.json"))
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="backslashreplace")
    console = Console(file=out, width=80, color_system=None)
    console.print(doctor_view(report.findings, report.host), crop=False)
    out.flush()
    text = out.buffer.getvalue().decode("ascii")
    assert text.splitlines()[2].startswith("x No NVIDIA driver")


def test_urls_are_terminal_hyperlinks_on_a_terminal():
    report = check(str(CASES / "debian12-docker-up-no-gpu.json"))
    out = io.StringIO()
    Console(file=out, width=80, force_terminal=True, color_system="standard").print(
        doctor_view(report.findings, report.host), crop=False
    )
    url = report.findings[0].docs[0]
    assert "\x1b]8;id=" in out.getvalue() and f";{url}\x1b\\" in out.getvalue()


def test_json_outputs_are_unchanged_by_the_views(tmp_path):
    proc = _cli("doctor", "--snapshot", str(CASES / "debian12-daemon-down.json"), "--json")
    assert json.loads(proc.stdout)["findings"]


def test_jupyter_shows_the_same_layout():
    report = check(str(CASES / "debian12-docker-up-no-gpu.json"))
    bundle = doctor_view(report.findings, report.host)._repr_mimebundle_()
    assert bundle["text/plain"] == render_plain(doctor_view(report.findings, report.host), 100)
    assert bundle["text/html"].startswith("<pre>") and "&lt;" not in bundle["text/plain"]


def test_evidence_keeps_its_spacing_where_it_fits():
    report = check(str(SNAPSHOTS / "native-h200-healthy.json"))
    ok = next(f for f in report.findings if f.code == "gpu-ok")
    assert "   " in ok.evidence  # nvidia-smi's aligned table row
    assert ok.evidence in render_plain(doctor_view([ok], verbose=True), 200)


def test_an_ascii_only_stdout_gets_ascii_marks_and_never_a_traceback():
    case = str(CASES / "debian12-docker-up-no-gpu.json")
    proc = _cli("doctor", "--snapshot", case, PYTHONIOENCODING="ascii")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("gpudock doctor - ") and lines[2].startswith("x No NVIDIA driver")
    plan = _cli("plan", "docker", "--snapshot", str(SNAPSHOTS / "debian12-ci-no-gpu.json"), PYTHONIOENCODING="ascii")
    assert plan.returncode == 0 and plan.stdout.isascii()


def test_apply_progress_keeps_the_command_whole_at_60_columns():
    from gpudock.install.render import command_echo, progress_line

    argv = ("sudo", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "nvidia-container-toolkit")
    lines = render(command_echo(argv), 60)
    assert lines == ["  $ sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y nvidia-container-toolkit"]
    title = "download NVIDIA's repository key (https) into a private folder and check its fingerprint"
    wrapped = render(progress_line(16, 25, title), 60)
    assert wrapped[0].startswith("[16/25] download") and all(len(line) <= 60 for line in wrapped)


def test_wide_characters_wrap_by_terminal_cells():
    from rich.cells import cell_len

    finding = Finding(
        "x-jp",
        "error",
        "Docker デーモンに接続できません。権限がありません。もう一度ログインしてください。" * 2,
        "docker_info: ソケット /var/run/docker.sock への接続が拒否されました" * 3,
        ["sudo usermod -aG docker 太郎"],
    )
    for width in (60, 80):
        lines = render(doctor_view([finding]), width)
        assert all(cell_len(line) <= width for line in lines), lines
        assert any(line.strip() == "1. sudo usermod -aG docker 太郎" for line in lines)


def test_a_report_renders_as_the_doctor_view():
    report = check(str(CASES / "debian12-docker-up-no-gpu.json"))
    assert render(report, 80) == render(doctor_view(report.findings, report.host), 80)


def test_every_command_in_a_fix_step_is_either_on_its_own_line_or_backticked():
    """A fix step that carries a command must show it unbroken: as the step's command part, or in backticks."""
    import re

    from gpudock.diagnose import diagnose
    from gpudock.layout import split_step
    from gpudock.snapshot import Snapshot
    from tests.helpers import CASES, SNAPSHOTS

    files = [p for p in sorted(CASES.glob("*.json")) if p.name != "expectations-real.json"]
    for path in files + sorted(SNAPSHOTS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for finding in diagnose(Snapshot(doc.get("snapshot", doc))):
            for step in finding.fix:
                if any(kind == "command" for kind, _ in split_step(step)):
                    continue
                bare = re.sub(r"`[^`]*`", "", step)
                assert not re.search(r"(^|\s)sudo\s", bare), (path.name, finding.code, step)
