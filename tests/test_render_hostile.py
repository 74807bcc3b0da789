"""Untrusted text in every view: rich markup prints as it is, control characters never reach the terminal.

Findings, plans, bench results and fleet rows carry text from other machines. Each view is rendered with
``[/`` (a closing markup tag that crashes rich when parsed as markup), ESC sequences (colours, OSC 52
clipboard writes, OSC 8 links), C1 controls, bidi overrides and lone surrogates, into a terminal console,
a plain console and an ASCII-only stream: nothing may raise, and no raw control character may come out.
"""

from __future__ import annotations

import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from gpudock.bench.results import Comparison, Result, Results
from gpudock.bench.tables import print_comparison, results_table
from gpudock.facts.host import host_info
from gpudock.findings import Finding
from gpudock.install.apply import apply
from gpudock.install.plan import Check, Plan, RootFile, Step
from gpudock.install.render import command_echo, plan_view, progress_line
from gpudock.layout import render_plain, split_step
from gpudock.snapshot import Snapshot
from gpudock.textsafety import printable
from gpudock.views import doctor_view
from tests.helpers import SNAPSHOTS

HOSTILE = [
    "[/]",
    "[/bold] closes nothing",
    "[bold red]not a style[/bold red]",
    "[link=https://evil.example]click[/link]",
    "\x1b[31mred\x1b[0m",
    "\x1b]52;c;ZWNobyBwd25lZA==\x07",  # OSC 52: write the clipboard
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "\x9b31m C1 CSI",
    "abc\u202edcba",  # right-to-left override
    "\u2066isolate\u2069",
    "lone \ud800 surrogate",
    "carriage\rreturn",
    "bell\x07",
    ":smile: :warning:",
]
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def consoles():
    """A colour terminal, a plain pipe and an ASCII-only stream (encoding errors are escaped)."""
    yield Console(file=io.StringIO(), width=80, force_terminal=True, color_system="truecolor")
    yield Console(file=io.StringIO(), width=60, color_system=None)
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="backslashreplace")
    yield Console(file=stream, width=80, color_system=None)


def output_of(console: Console) -> str:
    if isinstance(console.file, io.StringIO):
        return console.file.getvalue()
    console.file.flush()
    return console.file.buffer.getvalue().decode("ascii")


def strip_ours(text: str) -> str:
    """Remove the SGR and OSC 8 sequences rich itself writes, so what is left came from the input."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return re.sub(r"\x1b]8;[^\x1b]*\x1b\\", "", text)


def assert_safe(renderable) -> None:
    for console in consoles():
        console.print(renderable, crop=False)
        out = strip_ours(output_of(console))
        assert not RAW_CONTROL.search(out.replace("\n", "")), repr(out)
        assert "evil.example]" not in out or "[link=https://evil.example]" in out


def hostile_finding(text: str) -> Finding:
    return Finding(
        code=f"code-{text}",
        severity="error",
        title=f"title {text}",
        evidence=f"evidence {text}\nsecond line {text}",
        fix=[f"sudo echo {text}", f"prose: `{text}`", f"run {text}: docker info", text],
        docs=[f"https://example.com/{text}"],
    )


def test_printable_escapes_controls_bidi_and_surrogates_and_keeps_newlines_and_tabs():
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable("\x1b[31m") == "\\x1b[31m"
    assert printable("\x9b") == "\\x9b"
    assert printable("x\u202ey") == "x\\u202ey"
    assert printable("\ud800") == "\\ud800"
    assert printable("\x07\x7f") == "\\x07\\x7f"
    assert printable("[/bold] ünïcode ✓ 日本") == "[/bold] ünïcode ✓ 日本"
    for text in HOSTILE:
        printable(text).encode("utf-8")  # always encodable


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_printable_is_total_and_leaves_nothing_a_terminal_acts_on(text):
    out = printable(text)
    out.encode("utf-8")
    assert not RAW_CONTROL.search(out.replace("\n", "").replace("\t", ""))


def test_doctor_view_shows_hostile_text_escaped_and_never_crashes():
    host = host_info(Snapshot.load(SNAPSHOTS / "debian12-ci-no-gpu.json"))
    for text in HOSTILE:
        findings = [hostile_finding(text), Finding("x-ok", "ok", f"ok {text}", f"evidence {text}")]
        assert_safe(doctor_view(findings, host))
        assert_safe(doctor_view(findings, host, verbose=True))
    plain = render_plain(doctor_view([hostile_finding("[/bold] \x1b]52;c;QQ==\x07")], host), 200)
    assert "[/bold]" in plain and "\\x1b]52;c;QQ==\\x07" in plain


def test_markup_like_text_prints_verbatim():
    finding = hostile_finding("[bold red]x[/bold red]")
    plain = render_plain(doctor_view([finding]), 120)
    assert "title [bold red]x[/bold red]" in plain and "sudo echo [bold red]x[/bold red]" in plain


def test_plan_view_and_apply_lines_with_hostile_text():
    for text in HOSTILE:
        step = Step(
            f"title {text}",
            ("echo", text),
            check=Check(("true",), what=f"phrase {text}"),
            fallback=Step(f"fallback {text}", ("echo", text)),
        )
        file_step = Step(f"writes {text}", root=True, writes=RootFile(f"/etc/{text}", content=f"deb [{text}] x\n"))
        plan = Plan(f"name {text}", f"host {text}", [step, file_step], [Check(("echo", text))], [f"note {text}"])
        assert_safe(plan_view(plan))
        assert_safe(plan_view(plan, verbose=True))
        assert_safe(progress_line(1, 2, f"title {text}"))
        assert_safe(command_echo(("echo", text)))


def test_root_prompt_shows_file_content_with_brackets(tmp_path, monkeypatch):
    """The question is Text, not markup: "deb [signed-by=…]", "[/x]" and "[y/N]" reach the person as written."""
    monkeypatch.setattr("builtins.input", lambda *_: "n")
    console = Console(file=io.StringIO(), width=200, color_system=None)
    content = "deb [signed-by=/k.gpg] https://example.com/ stable main [/x]\n"
    step = Step("write a list", root=True, writes=RootFile("/etc/apt/sources.list.d/x.list", content=content))
    result = apply(Plan("p", "h", [step]), tmp_path, console=console)
    shown = console.file.getvalue()
    assert result.status == "aborted"
    assert "deb [signed-by=/k.gpg] https://example.com/ stable main [/x]" in shown and "[y/N]" in shown


def test_bench_tables_with_hostile_device_names_and_notes():
    for text in HOSTILE:
        result = Result("gemm", f"host {text}", f"cuda:0 {text}", "fp32", 1024, "GFLOP/s", 1.5, 3, 0.1, 0.01, text)
        results = Results({"hostname": text, "time": text, "no_gpu": text}, [result])
        assert_safe(results_table(results))
        assert_safe(results_table(results, verbose=True))
        rows = [Comparison(("gemm", f"cuda:0 {text}", "fp32", 1024), "GFLOP/s", 1.0, 1.1, 0.01)]
        for console in consoles():
            print_comparison(rows, f"a{text}.json", f"b{text}.json", console)
            assert not RAW_CONTROL.search(strip_ours(output_of(console)).replace("\n", ""))


def _fleet(rows):
    from gpudock.fleet.doctor import FleetReport, HostRow

    return FleetReport([HostRow(host, reachable, error) for host, reachable, error in rows], None)


def test_fleet_table_with_hostile_rows():
    from gpudock.fleet.table import print_fleet

    for text in HOSTILE:
        report = _fleet([(f"h-{text}", False, f"e {text}"), ("ok-host", True, None)])
        for console in consoles():
            print_fleet(report, console)
            out = strip_ours(output_of(console))
            assert not RAW_CONTROL.search(out.replace("\n", "")), repr(out)


def test_fleet_table_one_line_per_host():
    from gpudock.fleet.table import print_fleet

    report = _fleet(
        [("gpu-01", False, "ssh: connect to host 127.0.0.1 port 2299: Connection refused"), ("gpu-02", True, None)]
    )
    for width in (60, 80, 120):
        console = Console(file=io.StringIO(), width=width, color_system=None)
        print_fleet(report, console)
        lines = output_of(console).splitlines()
        assert lines[0].startswith("gpu-01") and "unreachable" in lines[0] and len(lines[0]) <= width
        assert lines[1].startswith("gpu-02") and "ok" in lines[1] and len(lines[1]) <= width


def test_split_step_rule():
    assert split_step("sudo reboot") == [("command", "sudo reboot")]
    assert split_step("docker info   # must show a Server section") == [
        ("command", "docker info"),
        ("comment", "must show a Server section"),
    ]
    assert split_step("check the GPU is there: `lspci | grep -i nvidia`") == [
        ("prose", "check the GPU is there:"),
        ("command", "lspci | grep -i nvidia"),
    ]
    assert split_step("(Windows PowerShell) wsl --shutdown") == [
        ("prose", "in Windows PowerShell:"),
        ("command", "wsl --shutdown"),
    ]
    assert split_step("until then: docker run --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=all …")[1][0] == "command"
    # prose stays prose, even when it starts with a program's name or holds one
    for prose in (
        "open the distro again",
        "where dockerd was started by hand: sudo pkill -x dockerd, wait until `pgrep -x dockerd` is empty, then:",
        "install the current NVIDIA driver for your GPU on Windows (not inside Linux)",
        "sudo is needed here, then log in again.",
    ):
        assert [kind for kind, _ in split_step(prose)] == ["prose"], prose
    # punctuation inside quotes does not make a command prose
    assert split_step("sudo sh -c 'a, b: c.'") == [("command", "sudo sh -c 'a, b: c.'")]
