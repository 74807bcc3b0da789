"""House rules the code keeps: no module over 400 lines, no function over 60 lines without a comment (on the line
above it, "Over 60 lines on purpose: why") that says why it stays whole."""

from __future__ import annotations

import ast

from tests.helpers import ROOT

SRC = ROOT / "src" / "gpudock"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# modules another issue is splitting now: the CLI (issue 24), the benchmark runner (issue 25), the slide plan (28)
BEING_SPLIT = {"cli.py", "bench/run.py", "slideplan.py"}


def _modules():
    return [p for p in sorted(SRC.rglob("*.py")) if str(p.relative_to(SRC)) not in BEING_SPLIT]


def test_no_module_over_400_lines():
    long = {str(p.relative_to(SRC)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"split these modules: {long}"


def test_a_function_over_60_lines_says_why_it_stays_whole():
    unexplained = []
    for path in _modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES and "60 lines" not in lines[first - 2]:
                    unexplained.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    assert not unexplained, f"split these, or say why above them (# Over 60 lines on purpose: …): {unexplained}"
