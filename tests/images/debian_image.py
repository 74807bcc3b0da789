"""Minimal Debian images for tests and CI: `debootstrap --variant=minbase` + `docker import`, cached by tag.

One builder for every test machine this project needs: the fresh Debian that README's first command
must work on (python3, git, sudo, ca-certificates and nothing more: no venv, no pip), and the fleet's
SSH test hosts (e.g. openssh-server, python3, sudo). The tag is derived from the suite, the mirror and
the sorted package list, so an image already built (earlier in the same CI run, or by an earlier test)
is reused, and a different package list never gets a stale image.

    python3 tests/images/debian_image.py [--suite bookworm] [--include python3,git,sudo,ca-certificates]

prints the tag (needs root, debootstrap and a Docker daemon). From Python (pytest, CI helpers)::

    from debian_image import build           # tests/images on sys.path
    tag = build("bookworm", ["openssh-server", "python3", "sudo"])
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

MIRROR = "http://deb.debian.org/debian"
REPOSITORY = "gpudock-test/debian"
# what README's set-up promises to need: a cloud image's or WSL's Debian has these, nothing else can be assumed
NEWCOMER_PACKAGES = ("python3", "git", "sudo", "ca-certificates")
SUITES = {"12": "bookworm", "13": "trixie"}
_FORMAT = 1  # bump when the way images are made changes, so cached ones are not reused


class ImageError(RuntimeError):
    pass


def image_tag(suite: str, packages: Iterable[str], mirror: str = MIRROR) -> str:
    """gpudock-test/debian:<suite>-<12 hex digits of suite, mirror and the sorted package list>."""
    suite = SUITES.get(suite, suite)
    key = json.dumps(
        {"suite": suite, "packages": sorted(set(packages)), "mirror": mirror, "variant": "minbase", "format": _FORMAT},
        sort_keys=True,
    )
    return f"{REPOSITORY}:{suite}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def image_exists(tag: str) -> bool:
    proc = subprocess.run(["docker", "image", "inspect", tag], capture_output=True)
    return proc.returncode == 0


def _debootstrap() -> str:
    found = shutil.which("debootstrap") or ("/usr/sbin/debootstrap" if Path("/usr/sbin/debootstrap").exists() else None)
    if not found:
        raise ImageError("debootstrap is not installed (apt-get install debootstrap)")
    return found


def build(
    suite: str = "bookworm",
    packages: Iterable[str] = NEWCOMER_PACKAGES,
    mirror: str = MIRROR,
    say: Callable[[str], None] = print,
    workdir: str | Path | None = None,
) -> str:
    """The tag of a local image of a minimal ``suite`` with ``packages``; built only when no such image exists."""
    suite = SUITES.get(suite, suite)
    packages = sorted(set(packages))
    tag = image_tag(suite, packages, mirror)
    if image_exists(tag):
        say(f"debian image: reusing {tag} ({suite}, minbase + {','.join(packages)})")
        return tag
    if os.geteuid() != 0:
        raise ImageError("building a Debian image needs root (debootstrap)")
    debootstrap = _debootstrap()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gpudock-debootstrap-", dir=workdir) as tmp:
        root = Path(tmp) / "rootfs"
        argv = [debootstrap, "--variant=minbase", f"--include={','.join(packages)}", suite, str(root), mirror]
        say("debian image: " + " ".join(argv))
        proc = subprocess.run(argv, capture_output=True, text=True)
        if proc.returncode != 0:
            log = root / "debootstrap" / "debootstrap.log"
            detail = log.read_text(errors="replace")[-3000:] if log.exists() else (proc.stdout + proc.stderr)[-3000:]
            raise ImageError(f"debootstrap {suite} failed (exit {proc.returncode}):\n{detail}")
        # what a fresh install does not carry: the downloaded .debs and the package lists
        for folder in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (root / folder).glob("*"):
                if item.is_file():
                    item.unlink()
        changes = [
            'CMD ["/bin/bash"]',
            f"LABEL org.gpudock.suite={suite} org.gpudock.packages={','.join(packages)} org.gpudock.mirror={mirror}",
        ]
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "import", *[arg for c in changes for arg in ("--change", c)], "-", tag],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
        )
        tar.stdout.close()
        if tar.wait() != 0 or imported.returncode != 0:
            raise ImageError(f"docker import {tag} failed: {imported.stderr.strip()}")
    say(f"debian image: built {tag} in {time.monotonic() - started:.0f} s")
    return tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="bookworm", help="bookworm (12), trixie (13), … (default: bookworm)")
    parser.add_argument(
        "--include",
        default=",".join(NEWCOMER_PACKAGES),
        help="comma-separated packages on top of minbase (default: %(default)s)",
    )
    parser.add_argument("--mirror", default=MIRROR)
    args = parser.parse_args(argv)
    try:
        tag = build(
            args.suite,
            [p for p in args.include.split(",") if p],
            args.mirror,
            say=lambda line: print(line, file=sys.stderr),
        )
    except ImageError as err:
        print(f"debian_image: {err}", file=sys.stderr)
        return 1
    print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
