"""`gpudock lab`: its command line, its own settings and kernel, jupytext round trips, and a real browser."""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from gpudock import lab
from gpudock.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))


def test_cli_passes_unknown_options_to_jupyterlab():
    args = build_parser().parse_args(["lab", "--port", "9000", "--ServerApp.x=1", "--allow-root", "--no-browser"])
    assert (args.port, args.no_browser, args.passthrough) == (9000, True, ["--ServerApp.x=1", "--allow-root"])
    assert build_parser().parse_args(["lab"]).passthrough == []
    with pytest.raises(SystemExit):  # the other subcommands still refuse options they do not know
        build_parser().parse_args(["doctor", "--ServerApp.x=1"])


def test_command_binds_localhost_at_the_repository_root_and_user_options_come_last(tmp_path):
    dirs = lab.prepare(tmp_path, python="/venv/bin/python3", say=lambda line: None)
    argv = lab.command(ROOT, dirs, 8899, open_browser=False, extra=["--ServerApp.ip=::1"], python="/venv/bin/python3")
    assert argv[:3] == ["/venv/bin/python3", "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={ROOT}" in argv and "--ServerApp.ip=127.0.0.1" in argv
    assert "--ServerApp.port=8899" in argv and "--ServerApp.open_browser=False" in argv
    assert "--ServerApp.contents_manager_class=gpudock.labserver.TutorialContentsManager" in argv
    assert f"--LabApp.user_settings_dir={dirs.settings}" in argv
    assert argv[-1] == "--ServerApp.ip=::1"  # traitlets: the last value wins


def test_token_honours_jupyter_token_else_a_new_random_one(tmp_path):
    dirs = lab.prepare(tmp_path, say=lambda line: None)
    assert lab.environment(dirs, {"JUPYTER_TOKEN": "mine"})["JUPYTER_TOKEN"] == "mine"
    first, second = (lab.environment(dirs, {})["JUPYTER_TOKEN"] for _ in range(2))
    assert first != second and len(first) >= 32
    env = lab.environment(dirs, {"JUPYTER_PATH": "/elsewhere"})
    assert env["JUPYTER_PATH"].split(os.pathsep) == [str(dirs.data), "/elsewhere"]  # our kernel spec first


def test_private_settings_make_jupytext_the_markdown_viewer_and_keep_the_users_choices(tmp_path):
    docmanager = tmp_path / "user-settings" / lab.DOCMANAGER
    docmanager.parent.mkdir(parents=True)
    docmanager.write_text(json.dumps({"defaultViewers": {"python": "Editor"}, "autosave": False}))
    dirs = lab.prepare(tmp_path, python="/venv/bin/python3", say=lambda line: None)
    assert json.loads(docmanager.read_text()) == {
        "defaultViewers": {"python": "Editor", "markdown": "Jupytext Notebook"},
        "autosave": False,
    }
    spec = json.loads((dirs.data / "kernels" / "python3" / "kernel.json").read_text())
    assert spec["argv"][0] == "/venv/bin/python3" and spec["display_name"] == "Python 3"
    for path in NOTEBOOKS:  # the kernel is the one the notebooks name, under the same display name
        assert nbformat.reads(_notebook_json(path), as_version=4).metadata["kernelspec"] == {
            "display_name": spec["display_name"],
            "language": spec["language"],
            "name": "python3",
        }
    commented = tmp_path / "other"
    (commented / "user-settings" / lab.DOCMANAGER).parent.mkdir(parents=True)
    (commented / "user-settings" / lab.DOCMANAGER).write_text("{ // JupyterLab allows comments\n}")
    said = []
    lab.prepare(commented, say=said.append)
    assert "not plain JSON" in said[0]
    assert (commented / "user-settings" / lab.DOCMANAGER).read_text().startswith("{ //")


def _notebook_json(path: Path) -> str:
    import jupytext

    return nbformat.writes(jupytext.read(path))


def test_free_port_skips_a_taken_one():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert lab.free_port(port) != port


def test_saving_with_only_outputs_and_kernel_metadata_changed_leaves_the_markdown_byte_identical(tmp_path):
    """The path JupyterLab takes: gpudock lab's contents manager reads the .md, the browser adds outputs, it saves."""
    from gpudock.labserver import TutorialContentsManager, kernel_language_info

    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copy(ROOT / "jupytext.toml", tmp_path)
    manager = TutorialContentsManager(root_dir=str(tmp_path))

    async def round_trip(path: Path) -> None:
        model = await manager.get(f"notebooks/{path.name}", content=True, type="notebook")
        nb = model["content"]
        assert nb["metadata"]["language_info"] == kernel_language_info()  # what the kernel will set: no change
        for number, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code":
                cell["execution_count"] = number
                cell["outputs"] = [
                    nbformat.v4.new_output("stream", text="Hello from Docker!\n"),
                    nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>", "image/png": "iVBORw0K"}),
                ]
                cell["metadata"]["execution"] = {"iopub.status.idle": "2026-11-28T00:00:00Z"}
                cell["metadata"]["scrolled"] = True
        nb["metadata"]["language_info"]["version"] = "3.99.0"
        nb["metadata"]["kernelspec"]["display_name"] = "Python 3"
        nb["metadata"]["jupytext"].setdefault("text_representation", {})["jupytext_version"] = "9.9.9"
        await manager.save({"type": "notebook", "format": "json", "content": nb}, f"notebooks/{path.name}")

    for path in NOTEBOOKS:
        asyncio.run(round_trip(tmp_path / "notebooks" / path.name))
        assert (tmp_path / "notebooks" / path.name).read_bytes() == path.read_bytes(), path.name


def test_jupytext_writes_the_notebooks_back_unchanged():
    """What any jupytext tool writes (with or without this repository's jupytext.toml) is what is committed."""
    import jupytext
    from jupytext.config import load_jupytext_config

    config = load_jupytext_config(str(ROOT / "notebooks"))
    for path in NOTEBOOKS:
        text = path.read_text(encoding="utf-8")
        assert jupytext.writes(jupytext.read(path), fmt="md") == text, path.name
        assert jupytext.writes(jupytext.read(path), fmt="md", config=config) == text, path.name


def test_checkpoints_are_ignored_by_git():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    probe = ROOT / "notebooks" / ".ipynb_checkpoints" / "x-checkpoint.md"
    proc = subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=ROOT)
    assert proc.returncode == 0, ".ipynb_checkpoints/ must be in .gitignore"


# --- a real browser -------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _copy_checkout(target: Path) -> None:
    """The working tree as git sees it (tracked and new files, not ignored ones), committed in a fresh repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "copy"]):
        subprocess.run([*git, *args], cwd=target, check=True, capture_output=True)


@pytest.fixture
def running_lab(tmp_path):
    """`gpudock lab` on a free port, serving a copy of this checkout (so a bad save cannot touch the real one)."""
    if not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to copy")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    _copy_checkout(checkout)
    port, token = lab.free_port(18888), "gpudock-test-token"
    env = {**os.environ, "JUPYTER_TOKEN": token, "XDG_STATE_HOME": str(tmp_path / "state")}
    extra = ["--allow-root"] if os.geteuid() == 0 else []
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gpudock", "lab", "--port", str(port), "--no-browser", *extra],
        cwd=checkout,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("gpudock lab did not answer:\n" + (tmp_path / "lab.log").read_text()[-3000:])
        time.sleep(0.5)
    try:
        yield base, token, checkout
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_idle(page, timeout_s: float = 240) -> None:
    """Every code cell has run: no `[*]` and no `[ ]` prompts left."""
    page.wait_for_function(
        """() => {
            const panel = '.jp-NotebookPanel:not(.lm-mod-hidden)';
            const prompts = [...document.querySelectorAll(panel + ' .jp-CodeCell .jp-InputPrompt')]
                .map(p => p.textContent.trim());
            return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
        }""",
        timeout=timeout_s * 1000,
    )


def _outputs_when(page, pattern: str, timeout_s: float = 120) -> str:
    """The notebook's output texts once one matches ``pattern`` (or at the timeout). JupyterLab renders cells
    lazily, so the panel is scrolled to its end first: an output below the fold is not in the page until then."""
    deadline = time.monotonic() + timeout_s
    seen: list[str] = []  # outputs in page order, gathered at the top and at the end (cells leave the DOM too)
    while True:
        for where in ("0", "e.scrollHeight"):
            page.evaluate(
                "() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer,"
                f" .jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook').forEach(e => e.scrollTop = {where})"
            )
            time.sleep(0.3)
            for output in page.locator(".jp-NotebookPanel .jp-OutputArea-output").all_inner_texts():
                if output not in seen:
                    seen.append(output)
        text = "\n".join(seen)
        if re.search(pattern, text) or time.monotonic() > deadline:
            return text
        time.sleep(1)


@pytest.mark.requires_browser
def test_lab_opens_runs_and_saves_a_tutorial_notebook_in_chromium(running_lab, tmp_path):
    import jupytext
    from playwright.sync_api import sync_playwright

    from tests.conftest import _docker_required, browser_path

    base, token, checkout = running_lab
    name = "01-docker-check.md"
    shots = Path(os.environ.get("GPUDOCK_SCREENSHOTS", tmp_path))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/lab/tree/notebooks/{name}?token={token}")
        # a notebook with cells, not a text editor showing front matter
        code_cells = sum(c.cell_type == "code" for c in jupytext.read(ROOT / "notebooks" / name).cells)
        page.wait_for_function(
            f"() => document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell').length === {code_cells}",
            timeout=90_000,
        )
        assert page.locator(".jp-FileEditor").count() == 0
        assert "#region" not in page.locator(".jp-NotebookPanel").inner_text()
        page.wait_for_selector(".jp-StatusBar-TextItem:has-text('Idle')", timeout=90_000)  # kernel started
        time.sleep(1)
        tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=name)
        assert "jp-mod-dirty" not in (tab.get_attribute("class") or ""), "opening the notebook marked it unsaved"
        page.screenshot(path=str(shots / "lab-opened.png"))

        # run every cell through the UI: Run menu → Run All Cells
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        _wait_idle(page)
        text = _outputs_when(page, r"\bdocker-[a-z-]+\b")
        assert "$ docker run" in text, text[:2000]  # the hello-world check ran on this host
        assert re.search(r"\bdocker-[a-z-]+\b", text), text[:2000]  # and its Docker findings
        # the same Docker findings as `gpudock doctor` on this host
        doctor = subprocess.run([sys.executable, "-m", "gpudock", "doctor", "--json"], capture_output=True, text=True)
        codes = {f["code"] for f in json.loads(doctor.stdout)["findings"] if f["code"].startswith("docker-")}
        assert codes and all(code in text for code in codes), (codes, text[:2000])
        if _docker_required():  # CI: Docker was installed and started, so the check must pass
            assert "docker-ok" in text and "Hello from Docker!" in text, text[:2000]
        assert (
            page.locator(
                ".jp-NotebookPanel .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
            ).count()
            == 0
        )

        page.keyboard.press("Control+s")
        page.wait_for_function(
            f"""() => [...document.querySelectorAll('.lm-DockPanel-tabBar .lm-TabBar-tab')]
                .some(t => t.textContent.includes('{name}') && !t.classList.contains('jp-mod-dirty'))""",
            timeout=30_000,
        )
        assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").inner_text()
        page.screenshot(path=str(shots / "lab-ran-and-saved.png"), full_page=True)

        # the index links every notebook; a click opens the linked .md as a notebook too
        page.goto(f"{base}/lab/tree/notebooks/00-index.md?token={token}")
        # JupyterLab shows a relative link as its /files/ URL and opens it itself when clicked
        shown = ".jp-NotebookPanel:not(.lm-mod-hidden)"
        page.wait_for_function(
            f"() => document.querySelectorAll(\"{shown} .jp-MarkdownCell a[href*='/files/notebooks/']\").length >= 6",
            timeout=60_000,
        )
        links = page.locator(f"{shown} .jp-MarkdownCell a[href*='/files/notebooks/']")
        linked = {
            re.search(r"/files/notebooks/([^?]+)", h).group(1) for h in links.evaluate_all("a => a.map(x => x.href)")
        }
        assert linked == {p.name for p in NOTEBOOKS} - {"00-index.md"}
        page.locator(f"{shown} .jp-MarkdownCell a[href*='/files/notebooks/02-nvidia-docker-history.md']").first.click()
        page.wait_for_selector(".lm-DockPanel-tabBar .lm-TabBar-tab:has-text('02-nvidia-docker-history.md')")
        page.wait_for_function(
            """() => { const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                       return panel && panel.querySelectorAll('.jp-Cell').length > 3
                              && panel.textContent.includes('NVIDIA Docker の歴史'); }""",
            timeout=60_000,
        )
        assert page.locator(".jp-FileEditor").count() == 0
        page.screenshot(path=str(shots / "lab-link-from-the-index.png"))
        browser.close()

    diff = subprocess.run(["git", "diff", "--exit-code", "--stat", "notebooks/"], cwd=checkout, capture_output=True)
    assert diff.returncode == 0, "saving changed the tracked notebooks:\n" + diff.stdout.decode()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=checkout, capture_output=True, text=True).stdout
    assert status == "", f"JupyterLab left files git does not ignore:\n{status}"


def test_without_jupyterlab_the_command_exits_3_with_one_line(monkeypatch, capsys):
    from gpudock.cli import main

    monkeypatch.setitem(sys.modules, "jupyterlab", None)  # import jupyterlab -> ImportError
    assert main(["lab", "--no-browser"]) == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "JupyterLab is not installed" in err
