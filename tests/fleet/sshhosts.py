"""Real SSH hosts for the fleet tests: sshd in small Debian containers on 127.0.0.1 ports.

Each container shares the host's network (``--network host``) and listens on its own loopback port, so
the tests talk to loopback addresses only. Key authentication, strict host-key checking against a
generated known_hosts; the login user ``gpu`` has passwordless sudo (Ansible's ``become``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import REAL

PACKAGES = ("openssh-server", "python3", "sudo")
USER = "gpu"
LABEL = "gpudock-fleet-test"

# Runs as the container's command: the login user, its key, the host key, then sshd in the foreground.
SETUP = r"""
set -eu
useradd -m -s /bin/bash {user} 2>/dev/null || true
echo '{user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{user}
install -d -m 700 -o {user} -g {user} /home/{user}/.ssh
install -m 600 -o {user} -g {user} /keys/client.pub /home/{user}/.ssh/authorized_keys
install -m 600 /keys/host_{port} /etc/ssh/gpudock_host_key
mkdir -p /run/sshd
{extra}
exec /usr/sbin/sshd -D -e -p {port} -o ListenAddress={listen} -o HostKey=/etc/ssh/gpudock_host_key \
  -o PasswordAuthentication=no -o PermitRootLogin=no
"""

# A stand-in nvidia-smi outside a login shell's PATH (/usr/local/sbin): the recorded real H200 output.
# The query form answers the probe's own columns (name, driver_version, memory.total; no header), taken
# from the recorded CSV (index, name, uuid, driver_version, memory.total, ...).
NVIDIA_SMI = r"""
cat > /usr/local/sbin/nvidia-smi <<'EOF_SMI'
#!/bin/sh
case "$*" in
  *--query-gpu=name,driver_version,memory.total*)
    exec awk -F', ' 'NR > 1 { print $2 ", " $4 ", " $5 }' /standin/h200-nvidia-smi-query.csv ;;
esac
exec cat /standin/h200-nvidia-smi.txt
EOF_SMI
chmod 755 /usr/local/sbin/nvidia-smi
"""


def ssh_image() -> str:
    """The cached minimal Debian image with sshd, Python and sudo (GPUDOCK_FLEET_TEST_IMAGE: one already built)."""
    if os.environ.get("GPUDOCK_FLEET_TEST_IMAGE"):
        return os.environ["GPUDOCK_FLEET_TEST_IMAGE"]
    from tests.images.debian_image import build  # the newcomer issue's one builder (debootstrap + docker import)

    return build("bookworm", PACKAGES, say=lambda line: print(line, file=sys.stderr))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().split()[:2]


@dataclass
class Host:
    name: str
    port: int
    container: str | None  # None: nothing listens on this port


@dataclass
class Fleet:
    """Keys, known_hosts and containers of one test; ``inventory()`` writes an INI inventory for them."""

    folder: Path
    hosts: list[Host] = field(default_factory=list)
    image: str = ""

    def __post_init__(self):
        self.keys = self.folder / "keys"
        self.keys.mkdir(parents=True, exist_ok=True)
        self.known_hosts = self.folder / "known_hosts"
        self.known_hosts.touch()
        if not (self.keys / "client").exists():
            _keygen(self.keys / "client")
        self.image = self.image or ssh_image()

    def start(
        self, name: str, *, extra: str = "", docker_args: tuple[str, ...] = (), mounts=(), own_network: bool = False
    ) -> Host:
        """A host whose sshd listens on a fresh 127.0.0.1 port.

        ``own_network``: the container gets a network namespace of its own, its sshd published on
        127.0.0.1 only. A host that runs its own dockerd needs this: dockerd with ``"bridge": "none"``
        deletes any ``docker0`` in its namespace, which under ``--network host`` is this machine's.
        """
        port = free_port()
        kind, key = _keygen(self.keys / f"host_{port}")
        with self.known_hosts.open("a") as handle:
            handle.write(f"[127.0.0.1]:{port} {kind} {key}\n")
        container = f"gpudock-fleet-{name}-{uuid.uuid4().hex[:8]}"
        argv = ["docker", "run", "-d", "--rm", "--name", container, "--label", LABEL]
        argv += ["-p", f"127.0.0.1:{port}:{port}"] if own_network else ["--network", "host"]
        argv += ["-v", f"{self.keys}:/keys:ro", "-v", f"{REAL}:/standin:ro", *docker_args]
        for source, target in mounts:
            argv += ["-v", f"{source}:{target}"]
        script = SETUP.format(user=USER, port=port, extra=extra, listen="0.0.0.0" if own_network else "127.0.0.1")
        argv += [self.image, "/bin/sh", "-c", script]
        subprocess.run(argv, check=True, capture_output=True, text=True)
        host = Host(name, port, container)
        self.hosts.append(host)
        _wait_for_port(port, container)
        return host

    def down(self, name: str) -> Host:
        """A host whose port has nothing listening (an unreachable machine)."""
        host = Host(name, free_port(), None)
        self.hosts.append(host)
        return host

    def inventory(self, hosts: list[Host] | None = None, group: str = "lab") -> Path:
        path = self.folder / "inventory.ini"
        ssh_args = (
            f"-o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=yes "
            "-o IdentitiesOnly=yes -o ConnectTimeout=5"
        )
        lines = [f"[{group}]"]
        for host in hosts or self.hosts:
            lines.append(f"{host.name} ansible_host=127.0.0.1 ansible_port={host.port}")
        lines += [
            f"[{group}:vars]",
            f"ansible_user={USER}",
            f"ansible_ssh_private_key_file={self.keys / 'client'}",
            f"ansible_ssh_common_args='{ssh_args}'",
            "ansible_python_interpreter=/usr/bin/python3",
        ]
        path.write_text("\n".join(lines) + "\n")
        return path

    def exec(self, host: Host, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "exec", host.container, *argv], capture_output=True, text=True)

    def stop(self) -> None:
        containers = [host.container for host in self.hosts if host.container]
        if containers:
            subprocess.run(["docker", "rm", "-f", *containers], capture_output=True)


def _wait_for_port(port: int, container: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(4).startswith(b"SSH"):
                    return
        except OSError:
            time.sleep(0.2)
    logs = subprocess.run(["docker", "logs", container], capture_output=True, text=True)
    raise RuntimeError(f"sshd in {container} did not answer on port {port}: {logs.stdout}{logs.stderr}")


def docker_cli() -> str | None:
    return shutil.which("docker")


def start_lab(fleet: Fleet) -> Fleet:
    """Three hosts: an H200 (stand-in nvidia-smi; this machine's Docker CLI and engine), one without a
    Docker CLI, and a port with nothing listening."""
    gid = os.stat("/var/run/docker.sock").st_gid
    docker_group = f"groupadd -g {gid} hostdocker 2>/dev/null || true; usermod -aG {gid} {USER}\n"
    fleet.start(
        "h200",
        extra=NVIDIA_SMI + docker_group,
        mounts=[(shutil.which("docker"), "/usr/bin/docker:ro"), ("/var/run/docker.sock", "/var/run/docker.sock")],
    )
    fleet.start("nodocker")
    fleet.down("down")
    return fleet
