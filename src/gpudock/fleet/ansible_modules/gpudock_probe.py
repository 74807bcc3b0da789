#!/usr/bin/python
"""Ansible module: run gpudock's probe table on a target and return a snapshot (docs/contracts.md).

Shipped to the target by Ansible (a module, so the target needs nothing of gpudock: only Python,
Ansible's own requirement). The probe table comes from the controller (``gpudock.probe.probes()``);
this file only runs it: argv lists with time-outs, never a shell, never raising. A login shell over
SSH may lack PATH entries (WSL's /usr/lib/wsl/lib), so commands are looked up in ``search_dirs`` too.
Images: a probe whose argv holds ``@hello@`` or ``@gpu@`` uses the first candidate image already on
the target; with none there it is left out (a fleet run never pulls an image).
"""

from __future__ import annotations

import glob
import os
import platform
import shutil
import signal
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

MAX_OUTPUT = [16 * 1024]  # characters kept per stream (head and tail); the controller sends its own limit
NOT_FOUND = 127


def _decode(data):
    text = (data or b"").decode("utf-8", errors="replace")
    limit = MAX_OUTPUT[0]
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + f"\n[... {len(text) - 2 * half} characters cut by gpudock ...]\n" + text[-half:]


def _which(name, search_path):
    if "/" in name:
        return name if os.access(name, os.X_OK) else None
    return shutil.which(name, path=search_path)


def run_command(argv, timeout, search_path, env):
    exe = _which(argv[0], search_path)
    if exe is None:
        return {"rc": NOT_FOUND, "stdout": "", "stderr": f"{argv[0]}: command not found"}
    try:
        proc = subprocess.Popen(
            [exe] + list(argv[1:]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except PermissionError as err:
        return {"rc": 126, "stdout": "", "stderr": f"{argv[0]}: {err.strerror}"}
    except (OSError, ValueError) as err:
        return {"rc": None, "stdout": "", "stderr": f"{argv[0]}: cannot start: {err}"}
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            out, err = b"", b""
        return {
            "rc": None,
            "stdout": _decode(out),
            "stderr": _decode(err) + f"\n[gpudock: no answer within {timeout:g} s; killed]",
            "timed_out": True,
        }
    return {"rc": proc.returncode, "stdout": _decode(out), "stderr": _decode(err)}


def _read_file(path):
    try:
        with open(path, "rb") as handle:
            return _decode(handle.read(64_000))
    except FileNotFoundError:
        return None
    except OSError:
        return False


def _local_images(search_path, env):
    listing = run_command(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], 10, search_path, env)
    if listing.get("rc") != 0:
        return set()
    names = set(listing["stdout"].split())
    return names | {n.rsplit(":", 1)[0] for n in names if n.endswith(":latest")}


def _with_images(probes, candidates, local):
    chosen = {f"@{slot}@": next((c for c in names if c in local), None) for slot, names in candidates.items()}
    ready = []
    for probe in probes:
        slots = [arg for arg in probe["argv"] if arg in chosen]
        if any(chosen[slot] is None for slot in slots):
            continue  # that image is not on the target: left out, never pulled
        ready.append({**probe, "argv": [chosen.get(arg, arg) for arg in probe["argv"]]})
    return ready


# Over 60 lines on purpose: an Ansible module's main (argument spec, run, exit_json), as Ansible's own are.
def main():
    module = AnsibleModule(
        argument_spec={
            "probes": {"type": "list", "elements": "dict", "required": True},
            "files": {"type": "list", "elements": "str", "default": []},
            "file_globs": {"type": "list", "elements": "str", "default": []},
            "paths": {"type": "list", "elements": "str", "default": []},
            "env_keys": {"type": "list", "elements": "str", "default": []},
            "search_dirs": {"type": "list", "elements": "str", "default": []},
            "images": {"type": "dict", "default": {}},
            "max_output": {"type": "int", "default": 16 * 1024},
            "apt_placeholder": {"type": "str", "default": ""},
            "apt_config": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    params = module.params
    MAX_OUTPUT[0] = params["max_output"]
    search_path = os.pathsep.join([os.environ.get("PATH", "/usr/bin:/bin")] + params["search_dirs"])
    env = dict(os.environ, LC_ALL="C", LANG="C", PATH=search_path)
    local = _local_images(search_path, env) if params["images"] else set()
    probes = _with_images(params["probes"], params["images"], local)
    if os.geteuid() == 0:  # root needs no sudo (as gpudock.probe does locally)
        probes = [{**p, "argv": p["argv"][2:] if p["argv"][:2] == ["sudo", "-n"] else p["argv"]} for p in probes]

    private = None
    marker = params["apt_placeholder"]
    if marker and any(marker in p["argv"] for p in probes):
        # apt-get update into a private lists folder (the probe table's own config): the host's apt state stays
        private = tempfile.mkdtemp(prefix="gpudock-apt-")
        os.makedirs(os.path.join(private, "lists", "partial"))
        config = os.path.join(private, "apt.conf")
        with open(config, "w") as handle:
            handle.write(params["apt_config"].replace("{lists}", os.path.join(private, "lists")))
        probes = [{**p, "argv": [config if a == marker else a for a in p["argv"]]} for p in probes]

    def run_one(probe):
        entry = run_command(probe["argv"], float(probe.get("timeout") or 15), search_path, env)
        return probe["name"], {**entry, "argv": list(probe["argv"])}

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            commands = dict(pool.map(run_one, probes))
    finally:
        if private:
            shutil.rmtree(private, ignore_errors=True)
    files = {}
    paths = list(params["files"]) + sorted(f for pattern in params["file_globs"] for f in glob.glob(pattern))
    for path in paths:
        text = _read_file(path)
        if text is not False:
            files[path] = text
    uname = platform.uname()
    snapshot = {
        "platform": {"system": uname.system, "release": uname.release, "machine": uname.machine},
        "env": {k: os.environ[k] for k in params["env_keys"] if k in os.environ},
        "files": files,
        "paths": {p: os.path.exists(p) for p in params["paths"]},
        "commands": commands,
    }
    module.exit_json(changed=False, snapshot=snapshot, images=sorted(local))


if __name__ == "__main__":
    main()
