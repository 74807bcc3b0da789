"""How Docker is installed and who may use it: the snap, rootless mode, the cgroup driver, the docker group.

Read from ``which_docker`` (``command -v docker`` and its ``readlink -f``), ``docker info``
(``Docker Root Dir``, ``Security Options``, ``Cgroup Driver``), ``docker context ls``, ``DOCKER_HOST``,
``getent group docker`` and ``id``. Each reader returns the line that proves it, or None.
"""

from __future__ import annotations

import re

from ..snapshot import Snapshot
from .evidence import Line, find, lines_of, probe_names, search
from .host import groups

# the snap's own paths and units (canonical/docker-snap): /snap/bin/docker, /var/snap/docker/…,
# /run/snap.docker (exec root), snap.docker.dockerd; `snap install docker` says "docker 28.1.1 from Canonical✓"
SNAP_TEXT = (
    r"/snap/bin/docker\b|/snap/docker/|/var/snap/docker/|/run/snap\.docker\b|snap\.docker\.dockerd"
    r"|^docker \S{1,40} from Canonical"
)
# rootless Docker (docs.docker.com/engine/security/rootless/): the daemon's socket under /run/user/<uid>,
# `docker info` lists "rootless" under Security Options (JSON: "name=rootless"), the context it creates
ROOTLESS_SOCKET = r"unix://(?:/run/user/\d{1,10}|\$XDG_RUNTIME_DIR|/var/tmp/xdg_runtime_dir_\d{1,10})/docker\.sock"
_USER_NAME = re.compile(r"[a-z_][a-z0-9_.-]{0,31}\$?")  # useradd's NAME_REGEX: a name gpudock may show


def docker_snap(snap: Snapshot) -> Line | None:
    """Docker is the snap package."""
    which = snap.command("which_docker")
    if which and which.ok:
        for line in lines_of(which.stdout):
            if re.search(r"^/snap/", line.strip()):
                return Line("which_docker", line.strip())
    info = snap.command("docker_info")
    if info:
        hit = search(r"Docker Root Dir:\s{0,5}/var/snap/docker/\S{0,200}", info.text)
        if hit:
            return Line("docker_info", hit.group(0))
    return find(snap, SNAP_TEXT)


def docker_rootless(snap: Snapshot) -> Line | None:
    """Docker runs rootless (the daemon as this user, in a user namespace)."""
    info = snap.command("docker_info")
    if info and info.rc in (0, None):
        lines = lines_of(info.text)
        for number, line in enumerate(lines):
            if line.strip() == "Security Options:":
                for option in lines[number + 1 : number + 8]:
                    if option.strip() == "rootless":
                        return Line("docker_info", "Security Options: rootless")
        hit = search(r"name=rootless", info.text)
        if hit:
            return Line("docker_info", "SecurityOptions: name=rootless")
    host = snap.env.get("DOCKER_HOST") or ""
    if re.fullmatch(ROOTLESS_SOCKET, host[:200]):
        return Line("env", f"DOCKER_HOST={host[:200]}")
    return find(snap, ROOTLESS_SOCKET + r"|^\s{0,5}Context:\s{1,20}rootless\s{0,5}$|^rootless \*\s")


def cgroup_driver(snap: Snapshot) -> tuple[str | None, str | None, Line | None]:
    """(driver, version, evidence) from ``docker info``: ('systemd', '2', Line) or Nones."""
    info = snap.command("docker_info")
    if not info or info.rc not in (0, None):
        return None, None, None
    driver = search(r"Cgroup Driver:\s{0,5}([a-z]{1,20})|\"CgroupDriver\"\s{0,3}:\s{0,3}\"([a-z]{1,20})\"", info.text)
    version = search(r"Cgroup Version:\s{0,5}(\d)|\"CgroupVersion\"\s{0,3}:\s{0,3}\"(\d)\"", info.text)
    if not driver:
        return None, None, None
    name = driver.group(1) or driver.group(2)
    number = (version.group(1) or version.group(2)) if version else None
    shown = f"Cgroup Driver: {name}" + (f", Cgroup Version: {number}" if number else "")
    return name, number, Line("docker_info", shown)


def session_groups(snap: Snapshot) -> list[str] | None:
    """The groups of this login session (``host.groups``); None when ``id`` was not probed."""
    ident = snap.command("id")
    return groups(snap) if ident and ident.stdout.strip() else None


def docker_group_members(snap: Snapshot) -> list[str] | None:
    """Who the group database lists in the docker group; None when nothing shows it.

    ``getent group docker`` (the probe), or the same ``docker:x:GID:MEMBERS`` line pasted from
    ``grep docker /etc/group``. Names that are not valid user names are left out: they reach fix texts.
    """
    result = snap.command("getent_group_docker")
    if result and result.ok:
        return _members(lines_of(result.stdout)) or []
    for name in probe_names(snap):
        other = snap.command(name)
        members = _members(lines_of(other.stdout)) if other else None
        if members is not None:
            return members
    return None


def _members(lines) -> list[str] | None:
    for line in lines:
        match = re.match(r"docker:[^:]{0,200}:\d{1,10}:(.{0,4000})$", line.strip())
        if match:
            return [m for m in match.group(1).split(",") if _USER_NAME.fullmatch(m)]
    return None


def _uid(text: str) -> str | None:
    match = re.search(r"uid=(\d{1,10})\(", text[:4000])
    return match.group(1) if match else None


def member_elsewhere(snap: Snapshot) -> Line | None:
    """Another session of this uid has the docker group (``newgrp docker``, a new login, ``id USER``,
    which reads the group database): the membership exists, this session lacks it."""
    ident = snap.command("id")
    uid = _uid(ident.stdout) if ident and ident.stdout else None
    if not uid:
        return None
    for name in probe_names(snap):
        if name == "id":
            continue
        other = snap.command(name)
        for line in lines_of(other.text) if other else []:
            if _uid(line) == uid and re.search(r"\(docker\)", line):
                return Line(name, line.strip()[:200])
    return None


def docker_group_pending(snap: Snapshot, user: str | None) -> Line | None:
    """``user`` is in the docker group, but this session (``id``) is not yet."""
    groups = session_groups(snap)
    if not user or groups is None or "docker" in groups:
        return None
    members = docker_group_members(snap)
    if members is not None and user in members:
        return Line("getent_group_docker", f"the docker group lists {user}; `id` (this session) lacks docker")
    elsewhere = member_elsewhere(snap)
    if elsewhere:
        return Line(elsewhere.probe, f"{elsewhere.text}; `id` (this session) lacks docker")
    return None


def local_images(listing: dict | None) -> set[str] | None:
    """The images of a ``docker image ls`` entry (``repo:tag``, and ``repo`` for ``:latest``), or None when
    Docker did not answer: then nothing is known about them."""
    if not listing or listing.get("rc") != 0:
        return None
    names = set((listing.get("stdout") or "").split())
    return names | {n.rsplit(":", 1)[0] for n in names if n.endswith(":latest")}
