"""The minimal Debian image builder and README's command 1 as CI reads it from README.md."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from debian_image import NEWCOMER_PACKAGES, build, image_tag  # noqa: E402
from readme_fresh import ReadmeError, check_run, container_script, readme_command  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_readme_command_1_makes_a_venv_and_runs_the_tutorial():
    command = readme_command((ROOT / "README.md").read_text())
    assert command == "scripts/bootstrap && .venv/bin/gpudock run"
    assert "pip install" not in command and "sudo pip" not in command
    assert readme_command((ROOT / "README.md").read_text(), 2) == "sudo bash .ci/run"


def test_readme_command_extraction_is_strict():
    readme = (
        "# x\n\n## Set-up: two commands\n\n```console\n# 1. first\n#    more words\nmake a\n\n"
        "# 2. second\nmake b\n```\n"
    )
    assert readme_command(readme, 1) == "make a" and readme_command(readme, 2) == "make b"
    with pytest.raises(ReadmeError, match="no command 3"):
        readme_command(readme, 3)
    with pytest.raises(ReadmeError, match="Set-up"):
        readme_command("# x\n\n## Install\n\n```console\n# 1.\nmake\n```\n")


def test_the_container_runs_the_command_as_an_ordinary_user_with_sudo():
    script = container_script("scripts/bootstrap && .venv/bin/gpudock run")
    assert "NOPASSWD:ALL" in script and "su --login newcomer --command" in script
    assert "cd ~/gpudock" in script and "update-ca-certificates" not in script
    assert "update-ca-certificates" in container_script("true", local_ca=True)
    subprocess.run(["bash", "-n", "-c", script], check=True)


def test_tag_is_keyed_by_suite_mirror_and_package_set():
    base = image_tag("bookworm", NEWCOMER_PACKAGES)
    assert base.startswith("gpudock-test/debian:bookworm-")
    assert image_tag("12", reversed(NEWCOMER_PACKAGES)) == base  # order and suite number do not matter
    assert image_tag("bookworm", [*NEWCOMER_PACKAGES, "openssh-server"]) != base
    assert image_tag("trixie", NEWCOMER_PACKAGES) != base
    assert image_tag("bookworm", NEWCOMER_PACKAGES, mirror="http://mirror.example/debian") != base


def test_a_run_folder_must_hold_every_notebook_ok(tmp_path):
    (tmp_path / "notebooks").mkdir()
    for name in ("00-a", "01-b"):
        (tmp_path / "notebooks" / f"{name}.md").write_text("")
    run = tmp_path / "runs" / "20260101T000000Z"
    run.mkdir(parents=True)
    (run / "00-a.ipynb").write_text("{}")
    (run / "summary.json").write_text('[{"notebook": "00-a", "status": "ok"}, {"notebook": "01-b", "status": "ok"}]')
    with pytest.raises(ReadmeError, match="lacks executed notebooks"):
        check_run(tmp_path)
    (run / "01-b.ipynb").write_text("{}")
    assert check_run(tmp_path) == run
    (run / "summary.json").write_text(
        '[{"notebook": "00-a", "status": "ok"}, {"notebook": "01-b", "status": "failed"}]'
    )
    with pytest.raises(ReadmeError, match="not all ok"):
        check_run(tmp_path)


@pytest.mark.requires_docker
@pytest.mark.requires_root
def test_the_newcomer_image_is_minimal_debian_without_venv_or_pip():
    """Built by .ci/run's fresh-Debian step already; here it is reused (same tag), not rebuilt."""
    import shutil

    if not shutil.which("debootstrap") and not Path("/usr/sbin/debootstrap").exists():
        from tests.conftest import _docker_required

        if _docker_required():
            pytest.fail("CI must build the Debian image, but debootstrap is missing: .ci/run did not install it")
        pytest.skip("debootstrap is not installed (apt-get install debootstrap)")
    said = []
    tag = build("bookworm", NEWCOMER_PACKAGES, say=said.append)
    probe = (
        "import importlib.util as u, shutil, sys; "
        "print(sys.version_info[:2] >= (3, 10), u.find_spec('ensurepip') is None, u.find_spec('pip') is None, "
        "all(shutil.which(t) for t in ('git', 'sudo', 'su', 'useradd')))"
    )
    proc = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", tag, "python3", "-c", probe], capture_output=True, text=True
    )
    assert proc.stdout.split() == ["True"] * 4, proc.stdout + proc.stderr
    assert build("bookworm", NEWCOMER_PACKAGES, say=said.append) == tag and "reusing" in said[-1]
