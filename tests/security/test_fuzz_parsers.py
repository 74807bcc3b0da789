"""Bounded fuzzing of every parser the adversarial review fuzzed (its Z1-Z6), in CI on every push.

Hostile text and structure through: NVIDIA's nbody output parser, a results file's load + compare + tables,
the slide planner and both deck writers, the Marp code fence, fleet bench's reading of a host's output,
and fleet doctor's reading of a host's answer. Each may refuse its input with gpudock's one-line error;
any other exception escapes and fails the test. Sizes are bounded so the whole file runs in seconds.
"""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from rich.console import Console

from gpudock import slideplan, slides
from gpudock.bench.compare import compare
from gpudock.bench.container import parse_nbody
from gpudock.bench.results import Results
from gpudock.bench.tables import print_comparison, print_results
from gpudock.exceptions import BenchmarkError, GpudockError, ResultsFileError
from gpudock.fleet import bench as fleet_bench
from gpudock.fleet.doctor import row_from_outcome
from gpudock.fleet.engine import HostOutcome, TaskOutcome
from tests.security.standin import ROOT, healthy_snapshot

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
# text a parser meets in the wild, and what breaks one: fences, markup, controls, surrogates, digits
PIECES = st.sampled_from(
    ["`", "```", "   ```", "~~~", "\n", " ", "#", "<!--", "-->", "<style>", "![](x)", "$", "\\", "[", "]", "\x1b[2J",
     "\ud800", "\u202e", "9" * 30, "...", "0", "-1", "nan", "bodies", "GFLOP/s", "┏━┓", "┃", "┗━┛", "error", "  1. ",
     "\n   ```\n", "[" * 3000, "9" * 5000]
)  # fmt: skip
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=40).map("".join)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=20,
)
H200 = json.loads((ROOT / "docs" / "benchmarks" / "h200-host.json").read_text())


def _quiet() -> Console:
    return Console(file=io.StringIO(), width=100, force_terminal=False, color_system=None)


@FUZZ
@given(TEXT, st.integers(0, 10**6), st.sampled_from(["12.5", "0", "...", "9" * 400, "1e999"]))
@example("", 1024, "...")
def test_z1_nbody_output(noise, bodies, number):
    output = f"{noise}\n{bodies} bodies, total time for 10 iterations: {number} ms\n= {number} single-precision GFLOP/s at 20 flops per interaction\n{noise}"  # noqa: E501 (the sample's own line)
    try:
        row = parse_nbody(output)
    except BenchmarkError:
        return
    assert row.value > 0 and row.median_s > 0


NUMBERS = st.one_of(st.sampled_from([0, -1.0, float("nan"), float("inf"), 1e-300, 1e300, True]), JSON)
FIELDS = st.sampled_from(["value", "spread", "median_s", "name", "device", "size"])


@FUZZ
@given(st.lists(st.tuples(FIELDS, NUMBERS), max_size=6))
@example([("value", float("nan"))])  # what the review found: always tried, then the generated cases
@example([("value", 0)])
@example([("spread", -5.0)])
def test_z2_results_load_compare_and_tables(changes):
    doc = json.loads(json.dumps(H200))
    for (key, value), row in zip(changes, doc["results"], strict=False):
        row[key] = value
    try:
        b = Results.from_dict(json.loads(json.dumps(doc, allow_nan=True)))
    except ResultsFileError:
        return
    a = Results.from_dict(H200)
    for pair in compare(a, b):
        assert pair.a > 0 and pair.b > 0 and pair.spread_b >= 0
        assert "nan" not in pair.verdict and "inf" not in pair.verdict and "-" not in pair.verdict
    if compare(a, b):
        print_comparison(compare(a, b), "a", "b", console=_quiet())
    print_results(b, console=_quiet())


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["markdown", "code", "raw"]), TEXT, JSON), min_size=1, max_size=6))
@example([("code", "x", {"image/png": "not base64!"})])
def test_z3_slide_planner_and_both_deck_writers(specs):
    cells = []
    for kind, text, extra in specs:
        cell = {"cell_type": kind, "source": text, "metadata": extra if isinstance(extra, dict) else {}}
        if kind == "code":
            cell["outputs"] = [
                {"output_type": "stream", "name": "stdout", "text": text},
                {"output_type": "display_data", "data": extra if isinstance(extra, dict) else {"text/plain": text}},
                {"output_type": "error", "ename": text, "evalue": text},
            ]
        cells.append(cell)
    try:
        deck = slideplan.plan([("nb", cells)])
    except GpudockError:
        return  # e.g. image data that is not base64: one line
    slides.marp_markdown(deck)
    slides.reveal_html(deck)


@FUZZ
@given(TEXT)
@example("a\n   ```\n# x")
def test_z4_a_fence_holds_any_text(text):
    text = text.replace("\r", "")  # Markdown reads CR as a line break; probe text is split into lines first
    tokens = MarkdownIt("commonmark").parse(slides._fence(text, "text"))
    assert [t.type for t in tokens] == ["fence"] and tokens[0].content == text.replace("\0", "\ufffd") + "\n"


@FUZZ
@given(st.one_of(TEXT, JSON.map(json.dumps)))
@example("[" * 100_000)
@example("9" * 5_000)
def test_z5_fleet_bench_reads_any_host_output(stdout):
    outcome = HostOutcome("h", [TaskOutcome(fleet_bench.BENCH_TASK, "ok", {"stdout": stdout})], {"failures": 0})
    row = fleet_bench._host_bench("h", outcome)
    assert (row.results is None) == bool(row.error)


@FUZZ
@given(st.one_of(JSON, st.builds(lambda s: {"snapshot": s}, JSON), st.just({"snapshot": healthy_snapshot()})))
def test_z6_fleet_doctor_reads_any_host_answer(answer):
    outcome = HostOutcome("h", [TaskOutcome("gpudock probes", "ok", answer if isinstance(answer, dict) else {})])
    row = row_from_outcome("h", outcome, "gpudock probes")
    assert row.verdict in ("ok", "problem", "failed")
    if row.verdict != "failed":
        assert row.snapshot is not None and row.snapshot.data.get("commands")
