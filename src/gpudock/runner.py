"""The runner behind `gpudock run`: jupytext .md -> papermill -> runs/<UTC time>/ + summary.json.

Not to be confused with ``gpudock.tutorial``, the cell API the notebooks themselves call. Parameters and
the snapshot are checked before any notebook starts, so a typo or a broken snapshot costs one line and
exit 2, not a half-finished run. Each summary entry records what ran (``status``: executed or not) and,
beside it, the doctor's verdict on the sections the notebook talks about.
"""

from __future__ import annotations

import ast
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .exceptions import (
    BadParameterValue,
    NotebooksNotFound,
    UnknownNotebook,
    UnknownParameter,
    UsageError,
)
from .files import write_text_atomic
from .rundir import new_run_dir, release_run_dir

KERNEL = "python3"  # ipykernel's native kernel: the Python environment gpudock runs in


def notebooks_dir() -> Path:
    """notebooks/ of the working directory, else of the source checkout gpudock was installed from."""
    here = Path("notebooks")
    if here.is_dir() and any(here.glob("*.md")):
        return here
    checkout = Path(__file__).resolve().parents[2] / "notebooks"
    if checkout.is_dir():
        return checkout
    raise NotebooksNotFound()


def find_notebooks(names: list[str] | None = None) -> list[Path]:
    folder = notebooks_dir()
    every = sorted(folder.glob("*.md"))
    if not names:
        return every
    chosen = []
    for name in names:
        path = Path(name)
        if path.is_file():
            if path.suffix not in (".md", ".ipynb"):
                raise UsageError(f"{path}: not a notebook (give a name such as 01, or a .md / .ipynb file)")
            chosen.append(path)
            continue
        matches = [p for p in every if p.stem == name or p.stem.startswith(name)]
        if len(matches) != 1:
            raise UnknownNotebook(name, (p.stem for p in every))
        chosen.append(matches[0])
    return chosen


def declared_parameters(path: Path) -> dict[str, type]:
    """name -> type of the literal in the notebook's `parameters` cell."""
    import jupytext

    try:
        nb = jupytext.read(path)
    except Exception as err:  # jupytext raises many types for a file that is not a notebook
        raise UsageError(f"{path}: not a readable notebook ({type(err).__name__})") from None
    cell = next((c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return {}
    found = {}
    try:
        body = ast.parse(cell.source).body
    except SyntaxError:
        raise UsageError(f"{path}: its parameters cell is not valid Python") from None
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = type(ast.literal_eval(node.value))
            except ValueError:
                found[node.targets[0].id] = str
    return found


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "any text"}
_SHORT_WORDS = {bool: "true/false", int: "integer", float: "number", str: "text"}


def convert(name: str, raw: str, kind: type):
    """A command-line string as the parameter's own type, or UsageError saying what it accepts."""
    if kind is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
    elif kind is int:
        try:
            return int(raw)
        except ValueError:
            pass
    elif kind is float:
        try:
            return float(raw)
        except ValueError:
            pass
    else:
        return raw
    raise BadParameterValue(name, _TYPE_WORDS[kind], raw)


def resolve_parameters(paths: list[Path], raw: dict[str, str]) -> dict[Path, dict]:
    """Per notebook, the typed values of the parameters it declares; unknown names are errors."""
    declared = {path: declared_parameters(path) for path in paths}
    every: dict[str, type] = {}
    for params in declared.values():
        every.update(params)
    for name in raw:
        if name not in every:
            accepted = ", ".join(f"{n} ({_SHORT_WORDS[t]})" for n, t in sorted(every.items()))
            raise UnknownParameter(name, accepted)
    typed = {name: convert(name, value, every[name]) for name, value in raw.items()}
    return {path: {n: v for n, v in typed.items() if n in declared[path]} for path in paths}


@dataclass
class NotebookRun:
    notebook: str
    status: str  # ok | failed | skipped: whether it executed, not what it found
    duration_s: float
    error: str | None = None  # why it failed ("code cell 3 (In [4]): …"); None when it ran ok
    verdict: str | None = None  # the doctor's error | warning | ok on this notebook's sections; None: it has none
    parameters: dict = field(default_factory=dict)
    gpudock: str = ""
    host: dict = field(default_factory=dict)


# The sections a notebook talks about: its `t.show_findings("docker")` cells (no argument: every section).
_SECTIONS = re.compile(r"""\bshow_findings\(\s*(?:["']([a-z]+)["'])?\s*\)""")


def notebook_sections(path: Path) -> list[str | None]:
    """The doctor sections a notebook shows (None stands for all of them); [] when it shows none."""
    return [m.group(1) for m in _SECTIONS.finditer(path.read_text(encoding="utf-8"))]


def notebook_verdict(report, path: Path) -> str | None:
    """The doctor's verdict on what this notebook talks about; None for a notebook without findings."""
    from .doctor import verdict_of
    from .tutorial import SECTION_LAYERS

    sections = notebook_sections(path)
    if not sections:
        return None
    if None in sections:
        return report.verdict
    return verdict_of(f for name in sections for f in report.about(SECTION_LAYERS.get(name, (name,))))


def host_summary(report) -> dict:
    """The host facts a summary keeps: what kind of machine, which distribution, which GPUs."""
    host = report.host
    return {
        "kind": host.kind,
        "distro": host.pretty_name or host.distro_id,
        "arch": host.arch,
        "gpus": [gpu.get("name", "") for gpu in host.gpus],
        "replay": report.snapshot.source.name if report.snapshot.source else None,
    }


def _failure(err, nb) -> str:
    """'code cell K (In [N]): Name: value' — K counts the code cells of the source notebook."""
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    where = f"code cell {code.index(err.source) + 1} " if err.source in code else ""
    value = str(err.evalue).splitlines()[0] if err.evalue else ""
    return f"{where}(In [{err.exec_count}]): {err.ename}: {value}".strip()


def execute(
    path: Path, out: Path, parameters: dict, cwd: Path | None = None, siblings: set[str] = frozenset()
) -> NotebookRun:
    """One notebook through papermill, written to ``out`` even when it fails; its links to ``siblings``
    (notebook names executed into the same folder) point to their ``.ipynb`` there."""
    import jupytext
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from .links import relink_notebook

    started = time.monotonic()
    nb = relink_notebook(jupytext.read(path), set(siblings))
    try:
        papermill.execute_notebook(
            nb,
            str(out),
            parameters=parameters,
            kernel_name=KERNEL,
            progress_bar=False,
            cwd=str(cwd) if cwd else None,
            language="python",
            # the kernel's own log (a start-up notice, "KeyboardInterrupt caught in kernel" at shut-down) is noise
            # here: a cell's real errors reach its outputs and fail the run, never through this log
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
        status, error = "ok", None
    except PapermillExecutionError as err:
        status, error = "failed", _failure(err, nb)
    except Exception as err:  # kernel died, no such kernel, unreadable notebook
        status, error = "failed", f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return NotebookRun(path.stem, status, round(time.monotonic() - started, 2), error)


def run_notebooks(
    names: list[str] | None = None,
    raw_parameters: dict[str, str] | None = None,
    out: str | Path | None = None,
    snapshot: str | Path | None = None,
    say: Callable[[str], None] = print,
) -> tuple[Path, list[NotebookRun]]:
    """Execute the notebooks into a new run folder; returns (folder, per-notebook results)."""
    from ._version import __version__
    from .doctor import check

    paths = find_notebooks(names)
    raw = dict(raw_parameters or {})
    if snapshot:
        raw["snapshot"] = str(Path(snapshot).resolve())
    per_notebook = resolve_parameters(paths, raw)  # before anything runs
    # the snapshot is read and validated once, here (one line and exit 2 when broken), never per notebook;
    # without one this probes the host once for the summary's host facts and verdicts
    report = check(snapshot or None, say=say)
    facts = host_summary(report)
    folder = new_run_dir(out, lock=True)  # a second run into the same folder is refused, not merged
    names = {p.stem for p in paths}  # executed side by side: their links point to each other's .ipynb
    runs: list[NotebookRun] = []
    try:
        for index, path in enumerate(paths, 1):
            say(f"[{index}/{len(paths)}] {path.stem} …")
            # the kernel runs where gpudock was started, so relative paths in parameters mean what the user meant
            result = execute(path, folder / f"{path.stem}.ipynb", per_notebook[path], siblings=names)
            result.verdict = notebook_verdict(report, path)
            result.parameters, result.gpudock, result.host = per_notebook[path], __version__, facts
            runs.append(result)
            say(
                f"[{index}/{len(paths)}] {path.stem}: {result.status} ({result.duration_s:.1f} s)"
                + (f" — {result.error}" if result.error else "")
            )
            _write_summary(folder, runs)
    except KeyboardInterrupt:
        runs += [
            NotebookRun(p.stem, "skipped", 0.0, "interrupted", None, per_notebook[p], __version__, facts)
            for p in paths[len(runs) :]
        ]
        _write_summary(folder, runs)
        raise
    finally:
        release_run_dir(folder)
    return folder, runs


def _write_summary(folder: Path, runs: list[NotebookRun]) -> None:
    write_text_atomic(folder / "summary.json", json.dumps([asdict(r) for r in runs], indent=2) + "\n")
