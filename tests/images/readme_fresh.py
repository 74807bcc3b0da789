"""README's set-up command 1, taken from README.md itself, run on a really fresh minimal Debian.

The machine is a container of `debian_image.build(suite)` (debootstrap minbase + python3, git, sudo,
ca-certificates: no venv, no pip). An ordinary user with sudo runs the command in a copy of this
checkout (the files git tracks or would add; no .venv, no node_modules, no runs). The container
shares the host's network (`--network host`) to reach PyPI and Debian's mirror; where the host's
administrator added CA certificates (/usr/local/share/ca-certificates: a TLS-inspecting proxy, as on
CI's network) they are mounted there read-only and installed, as that administrator would on a new
machine. Nothing else of the host (no caches, no site-packages) goes in.
Afterwards the run folder must hold every executed notebook and a summary.json with all of them ok.

    sudo python3 tests/images/readme_fresh.py [--suite bookworm] [--keep DIR]

Editing README's command without making it work fails CI: the command is read from README.md.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from debian_image import NEWCOMER_PACKAGES, ImageError, build  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
USER = "newcomer"
LOCAL_CA = Path("/usr/local/share/ca-certificates")


class ReadmeError(RuntimeError):
    pass


def readme_command(readme: str, number: int = 1) -> str:
    """The shell lines under `# <number>.` in the first console block of README's "Set-up" section."""
    section = re.search(r"^## Set-up\b.*?$(.*?)(?=^## |\Z)", readme, re.M | re.S)
    if not section:
        raise ReadmeError("README.md has no '## Set-up' section")
    block = re.search(r"^```console\n(.*?)^```", section.group(1), re.M | re.S)
    if not block:
        raise ReadmeError("README's Set-up section has no ```console block")
    lines, inside = [], False
    for line in block.group(1).splitlines():
        heading = re.match(r"#\s*(\d+)\.", line)
        if heading:
            inside = int(heading.group(1)) == number
            continue
        if inside and line.strip() and not line.lstrip().startswith("#"):
            lines.append(line)
    if not lines:
        raise ReadmeError(f"README's Set-up block has no command {number} (a line `# {number}. …` then the command)")
    return "\n".join(lines)


def copy_checkout(target: Path, root: Path = ROOT) -> None:
    """What a fresh clone of this working tree holds: tracked and new files, nothing git ignores."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = root / name
        if source.is_file() and not source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def local_ca_certificates(folder: Path = LOCAL_CA) -> list[Path]:
    """The certificate authorities this host's administrator added (Debian: /usr/local/share/ca-certificates)."""
    return sorted(folder.glob("**/*.crt")) if folder.is_dir() else []


def container_script(command: str, local_ca: bool = False) -> str:
    """As root in the fresh container: an ordinary user with sudo (as a cloud image has), who runs ``command``."""
    home = f"/home/{USER}"
    as_user = f"cd ~/gpudock && set -e\n{command}"
    return "\n".join(
        [
            "set -eu",
            # the host's own CAs (a TLS-inspecting proxy on its network), as its administrator would add them
            "update-ca-certificates >/dev/null 2>&1" if local_ca else ":",
            f"useradd --shell /bin/bash {USER} 2>/dev/null",
            f"chown {USER}: {home}",
            f"echo '{USER} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{USER}",
            f"chmod 0440 /etc/sudoers.d/{USER}",
            f"chown -R {USER}: {home}/gpudock",
            f"exec su --login {USER} --command {shlex.quote(as_user)}",
        ]
    )


def check_run(checkout: Path) -> Path:
    """The one run folder under runs/: every notebook executed and ok in summary.json."""
    runs = sorted(p for p in (checkout / "runs").glob("*") if p.is_dir()) if (checkout / "runs").is_dir() else []
    if len(runs) != 1:
        raise ReadmeError(f"expected one run folder under runs/, found {[p.name for p in runs]}")
    folder = runs[0]
    notebooks = sorted(p.stem for p in (checkout / "notebooks").glob("*.md"))
    summary = json.loads((folder / "summary.json").read_text())
    statuses = {row["notebook"]: row["status"] for row in summary}
    if statuses != dict.fromkeys(notebooks, "ok"):
        raise ReadmeError(f"summary.json is not all ok: {summary}")
    missing = [name for name in notebooks if not (folder / f"{name}.ipynb").is_file()]
    if missing:
        raise ReadmeError(f"{folder.name} lacks executed notebooks: {missing}")
    return folder


def prove(suite: str = "bookworm", keep: Path | None = None, say=print) -> Path:
    """Run README's command 1 in a fresh ``suite`` container; return the checked run folder."""
    command = readme_command((ROOT / "README.md").read_text(encoding="utf-8"))
    tag = build(suite, NEWCOMER_PACKAGES, say=say)
    work = Path(tempfile.mkdtemp(prefix=f"gpudock-fresh-{suite}-", dir=keep))
    checkout = work / "gpudock"
    copy_checkout(checkout)
    say(f"fresh {suite}: README command 1, as user {USER} with sudo, in {tag}:\n    " + command.replace("\n", "\n    "))
    started = time.monotonic()
    certificates = local_ca_certificates()
    ca_folder = work / "local-ca"
    ca_folder.mkdir()
    for number, certificate in enumerate(certificates):
        shutil.copy(certificate, ca_folder / f"{number}-{certificate.name}")
    argv = ["docker", "run", "--rm", "--network", "host", "--volume", f"{checkout}:/home/{USER}/gpudock"]
    if certificates:
        argv += ["--volume", f"{ca_folder}:{LOCAL_CA}:ro"]
        say(f"fresh {suite}: with this host's own CA certificates: {', '.join(c.name for c in certificates)}")
    argv += [tag, "bash", "-c", container_script(command, local_ca=bool(certificates))]
    proc = subprocess.run(argv)
    say(f"fresh {suite}: exit {proc.returncode} after {time.monotonic() - started:.0f} s")
    try:
        if proc.returncode != 0:
            raise ReadmeError(f"README command 1 failed on a fresh {suite} (exit {proc.returncode})")
        folder = check_run(checkout)
        say(f"fresh {suite}: {folder.relative_to(checkout)} holds every notebook, all ok in summary.json")
        return folder
    finally:
        if keep is None:
            subprocess.run(["rm", "-rf", str(work)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="bookworm", help="bookworm (12) or trixie (13)")
    parser.add_argument("--keep", type=Path, help="leave the container's checkout (with its runs/) under this folder")
    args = parser.parse_args(argv)
    try:
        prove(args.suite, args.keep)
    except (ReadmeError, ImageError) as err:
        print(f"readme_fresh: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
