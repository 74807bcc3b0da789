"""check-image for people: what the image holds, one line per GPU, then the findings in the doctor's layout."""

from __future__ import annotations

import json

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from ..layout import NotebookDisplay, Wrapped, render_plain, terminal_console, unicode_ok, words
from ..textsafety import printable
from ..views import DoctorView, summary_text
from .compare import SAY, Check
from .cuda import dotted

NO_GPU = "No NVIDIA GPU seen here: nothing to compare with (--snapshot FILE of the target host, or --gpu 12.0)."
_STYLE = {"runs": "green", "no-kernels": "green", "jit": "yellow", "unknown": "yellow", "driver": "red", "fails": "red"}


def check_json(check: Check) -> str:
    return json.dumps(check.as_dict(), indent=2, ensure_ascii=False)


def _facts_lines(check: Check) -> list[str]:
    facts = check.facts
    files = facts.runtime_files()
    arches = sorted({k.entry.arch for f in files.values() for k in f.runtime}, key=lambda a: (a[0] == "c", a))
    mib = facts.bytes_read / (1 << 20)
    lines = [f"{facts.layers} layer(s), {mib:,.1f} MiB read; {facts.architecture or '?'}/{facts.os or '?'}"]
    runtime = dotted(facts.runtime_cuda) if facts.runtime_cuda else "none found"
    lines.append(
        f"CUDA runtime: {runtime}" + (f" (PyTorch built for CUDA {facts.torch_cuda})" if facts.torch_cuda else "")
    )
    lines.append(f"C library: {facts.libc or 'none found'}")
    lines.append(
        f"CUDA code: {len(files)} file(s): {', '.join(arches)}" if files else "CUDA code: no precompiled kernels found"
    )
    for key in ("NVIDIA_REQUIRE_CUDA", "NVIDIA_DRIVER_CAPABILITIES", "NVIDIA_VISIBLE_DEVICES"):
        if key in facts.env:
            lines.append(f"{key}={facts.env[key]}")
    if facts.compat_libs:
        lines.append(f"CUDA forward-compatibility libraries: {facts.compat_libs[0]}")
    return lines


class CheckView(NotebookDisplay):
    def __init__(self, check: Check, verbose: bool = False):
        self.check, self.verbose = check, verbose

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        dot = "·" if unicode_ok(console) else "-"
        check = self.check
        yield Text(f"gpudock check-image {dot} ", style="bold") + Text(printable(check.facts.where))
        for line in _facts_lines(check):
            yield from Wrapped(words(printable(line), "dim"), 2).lines(options.max_width)
        yield Text("")
        driver = f"driver for CUDA {dotted(check.driver_cuda)}" if check.driver_cuda else "driver: unknown"
        if not check.gpus:
            yield from Wrapped(words(NO_GPU)).lines(options.max_width)
        for gpu in check.gpus:
            label = f"GPU {gpu.gpu.index} {gpu.gpu.name}" if gpu.gpu.index != "given" else f"A GPU of {gpu.gpu.name}"
            cc = f" (sm_{gpu.gpu.cc[0]}{gpu.gpu.cc[1]})" if gpu.gpu.cc and gpu.gpu.index != "given" else ""
            line = f"{printable(label)}{cc}, {driver}: {SAY[gpu.verdict]}"
            yield from Wrapped(words(line, _STYLE[gpu.verdict]), 0, hang=2).lines(options.max_width)
        for note in check.notes:
            yield from Wrapped(words("note: " + note, "yellow"), 0, hang=2).lines(options.max_width)
        if check.findings:
            yield Text("")
            yield DoctorView(check.findings, None, self.verbose, summary=False)
        yield Text("")
        summary = summary_text(check.findings)
        yield Text(summary.plain.replace("run `gpudock doctor` again", "check the image again"), style=summary.style)


def print_check(check: Check, console: Console | None = None, verbose: bool = False) -> None:
    (console or terminal_console()).print(CheckView(check, verbose), crop=False)


def gpus_text(snap) -> str:
    """The GPUs a snapshot shows, as check-image would compare an image with them (one line each)."""
    from ..facts.gpus import host_gpus

    lines = []
    for gpu in host_gpus(snap):
        cc = f"compute capability {gpu.cc[0]}.{gpu.cc[1]}" if gpu.cc else "compute capability not recorded"
        lines.append(f"GPU {gpu.index} {printable(gpu.name)}: {cc}, driver {printable(gpu.driver) or '?'}")
    return "\n".join(lines) or "no NVIDIA GPU in this snapshot"


def check_text(check: Check, width: int = 100) -> str:
    return render_plain(CheckView(check), width)
