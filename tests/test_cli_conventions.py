"""The conventions people expect of a command line: did you mean, examples, bare help, --version with the
commit, shell completion generated from the parser."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

import pytest

from gpudock.cli import build_parser, main
from gpudock.cli.plan import STEPS
from gpudock.cli.version import head, version_text
from tests.helpers import ROOT


def gpudock(*args: str, **env) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "gpudock", *args], capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )


@pytest.mark.parametrize(
    "argv, suggestion, help_of",
    [
        (["doctr"], "did you mean 'doctor'?", "gpudock --help"),
        (["fleet", "doktor"], "did you mean 'doctor'?", "gpudock fleet --help"),
        (["bench", "comapre", "a", "b"], "did you mean 'compare'?", "gpudock bench --help"),
        (["plan", "al"], "did you mean 'all'?", "gpudock plan --help"),
        (["plan", "all", "--format", "shh"], "did you mean 'sh'?", "gpudock plan --help"),
        (["plan", "all", "--fromat", "sh"], "did you mean --format?", "gpudock plan --help"),
        (["install", "docker", "--aply"], "did you mean --apply?", "gpudock install --help"),
        (["--help-me"], "did you mean --help?", "gpudock --help"),
    ],
)
def test_typos_get_one_line_with_a_suggestion_and_the_right_help(capsys, argv, suggestion, help_of):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1
    assert suggestion in err and f"(see `{help_of}`)" in err


def test_no_suggestion_for_a_word_unlike_any(capsys):
    with pytest.raises(SystemExit):
        main(["zzzzzz"])
    assert "did you mean" not in capsys.readouterr().err


def _parsers(parser: argparse.ArgumentParser, name: str = "gpudock"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_help_has_examples_and_fits_80_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    seen = []
    for name, parser in _parsers(build_parser()):
        text = parser.format_help()
        assert "Examples:" in text and f"\n  {name.split()[0]} " in text, name
        wide = [line for line in text.splitlines() if len(line) > 80]
        assert not wide, (name, wide)
        seen.append(name)
    assert len(seen) >= 15 and "gpudock fleet bench" in seen and "gpudock bench compare" in seen


def test_every_positional_and_option_has_help():
    for name, parser in _parsers(build_parser()):
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                assert action.help, (name, action.dest)


def test_bare_command_prints_its_help(capsys):
    assert main([]) == 0
    assert "Examples:" in capsys.readouterr().out
    assert main(["fleet"]) == 0
    assert "usage: gpudock fleet" in capsys.readouterr().out


def test_steps_match_the_planners():
    from gpudock.install import STEPS as PLANNER_STEPS

    assert STEPS == PLANNER_STEPS


@pytest.mark.skipif(not (ROOT / ".git").exists() or not shutil.which("git"), reason="needs a git checkout")
def test_version_names_the_commit_of_this_checkout():
    proc = gpudock("--version")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert proc.returncode == 0 and f"git {commit.strip()[:12]}" in proc.stdout.splitlines()[0]
    assert "Python " in proc.stdout


def test_commit_from_a_worktree_and_packed_refs(tmp_path):
    common = tmp_path / "main.git"
    (common / "worktrees" / "wt").mkdir(parents=True)
    (common / "packed-refs").write_text("# pack-refs with: peeled\n" + "ab" * 20 + " refs/heads/issue-9\n")
    wt_git = common / "worktrees" / "wt"
    (wt_git / "HEAD").write_text("ref: refs/heads/issue-9\n")
    (wt_git / "commondir").write_text("../..\n")
    checkout = tmp_path / "wt"
    checkout.mkdir()
    (checkout / ".git").write_text(f"gitdir: {wt_git}\n")
    assert head(checkout) == ("ab" * 20, "issue-9")
    (wt_git / "HEAD").write_text("cd" * 20 + "\n")  # detached
    assert head(checkout) == ("cd" * 20, None)
    assert head(tmp_path / "nowhere") is None


def test_version_text_without_a_checkout(monkeypatch):
    monkeypatch.setattr("gpudock.cli.version.checkout_root", lambda: None)
    first = version_text("9.9").splitlines()[0]
    assert first == "gpudock 9.9"


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
def test_bash_completion_is_generated_from_the_parser(tmp_path):
    script = tmp_path / "gpudock.bash"
    script.write_text(gpudock("completion", "bash").stdout)

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        probe = f"source {script}; COMP_WORDS=(gpudock {line}); COMP_CWORD={len(words)}; _shtab_gpudock; "
        probe += 'printf "%s\\n" "${COMPREPLY[@]}"'
        return subprocess.run(["bash", "-c", probe], capture_output=True, text=True).stdout.split()

    assert complete("do") == ["doctor"]
    assert complete("plan", "") == list(STEPS)
    assert "--format" in complete("plan", "--fo")
    assert "--prometheus" in complete("fleet", "doctor", "--pro")


@pytest.mark.parametrize("shell, marker", [("zsh", "#compdef gpudock"), ("tcsh", "complete gpudock"), ("fish", "")])
def test_completion_for_other_shells(shell, marker):
    proc = gpudock("completion", shell)
    assert proc.returncode == 0 and "doctor" in proc.stdout and marker in proc.stdout


def test_what_the_merged_tree_review_found_is_one_line_each(monkeypatch, capsys, tmp_path):
    """`gpudock cdi` alone is its help (as `gpudock fleet`); a port in other digits is refused as a port; an
    environment without shtab is exit 3 with what to do; an unwritable --prometheus names the user's path."""
    assert main(["cdi"]) == 0 and "{generate,check}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main(["lab", "--port", "\uff18\uff18\uff18\uff18"])
    assert stop.value.code == 2 and "a TCP port from 1 to 65535" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "shtab", None)  # import shtab raises ImportError
    assert main(["completion", "bash"]) == 3
    assert capsys.readouterr().err.strip() == (
        "gpudock: shtab (which writes the completion scripts) is not installed; rerun `scripts/bootstrap`"
    )
    (tmp_path / "file").write_text("")
    assert main(["doctor", "--check", "--prometheus", str(tmp_path / "file" / "a.prom")]) != 0
    assert f"cannot write {tmp_path / 'file' / 'a.prom'}: Not a directory" in capsys.readouterr().err


def test_bench_out_is_saved_when_the_reader_closed_the_pipe(monkeypatch, tmp_path):
    """`gpudock bench --out F | head -1`: rich ends the print with SystemExit(1) on the closed pipe, and the
    measured results were never saved."""
    from gpudock.bench import run, tables
    from gpudock.bench.results import Results

    measured = Results.load(ROOT / "docs" / "benchmarks" / "h200-host.json")
    monkeypatch.setattr(run, "run_benchmarks", lambda **kwargs: measured)
    monkeypatch.setattr("gpudock.metrics.remember_bench", lambda results, say: None)

    def closed_pipe(*args, **kwargs):
        raise SystemExit(1)

    monkeypatch.setattr(tables, "print_results", closed_pipe)
    with pytest.raises(SystemExit):
        main(["bench", "--out", str(tmp_path / "b.json")])
    assert Results.load(tmp_path / "b.json").results == measured.results
