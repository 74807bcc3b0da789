"""Synthetic host snapshots for plan tests: every supported distro × native / WSL 2."""

from gpudock.snapshot import Snapshot

OS_RELEASE = {
    "ubuntu-20.04": 'NAME="Ubuntu"\nVERSION_ID="20.04"\nVERSION_CODENAME=focal\nID=ubuntu\nID_LIKE=debian\n'
    'PRETTY_NAME="Ubuntu 20.04.6 LTS"\nUBUNTU_CODENAME=focal\n',
    "ubuntu-22.04": 'NAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n'
    'PRETTY_NAME="Ubuntu 22.04.5 LTS"\nUBUNTU_CODENAME=jammy\n',
    "ubuntu-24.04": 'NAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n'
    'PRETTY_NAME="Ubuntu 24.04.3 LTS"\nUBUNTU_CODENAME=noble\n',
    "ubuntu-26.04": 'NAME="Ubuntu"\nVERSION_ID="26.04"\nVERSION_CODENAME=resolute\nID=ubuntu\nID_LIKE=debian\n'
    'PRETTY_NAME="Ubuntu 26.04 LTS"\nUBUNTU_CODENAME=resolute\n',
    "debian-11": 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\n'
    "VERSION_CODENAME=bullseye\nID=debian\n",
    "debian-12": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    "VERSION_CODENAME=bookworm\nID=debian\n",
    "debian-13": 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\n'
    "VERSION_CODENAME=trixie\nID=debian\n",
}
KINDS = ("native", "wsl2")


def host_snapshot(distro: str, kind: str, user: str = "alice", arch: str = "x86_64", **extra) -> Snapshot:
    native = kind == "native"
    release = (
        ("6.8.0-45-generic" if distro.startswith("ubuntu") else "6.1.0-26-amd64")
        if native
        else "5.15.167.4-microsoft-standard-WSL2"
    )
    doc = {
        "platform": {"system": "Linux", "release": release, "machine": arch},
        "env": {} if native else {"WSL_DISTRO_NAME": "Ubuntu"},
        "files": {"/etc/os-release": OS_RELEASE[distro]},
        "paths": {"/dev/dxg": not native, "/run/systemd/system": native},
        "commands": {
            "id": {
                "rc": 0,
                "stdout": f"uid=1000({user}) gid=1000({user}) groups=1000({user}),27(sudo)\n",
                "stderr": "",
            },
            "systemctl_docker": {"rc": 3, "stdout": "inactive\n", "stderr": ""}
            if native
            else {
                "rc": 1,
                "stdout": "",
                "stderr": "System has not been booted with systemd as init system (PID 1). Can't operate.\n",
            },
        },
    }
    for key, value in extra.items():
        doc.setdefault(key, {}).update(value)
    return Snapshot(doc)
