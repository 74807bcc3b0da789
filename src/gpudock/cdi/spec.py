"""CDI spec files: read one (untrusted, bounded), check its shape as engines do, write one (deterministic).

A spec is read the way the engines' CDI library (tags.cncf.io/container-device-interface, ``pkg/cdi/spec.go``)
reads it: YAML or JSON by suffix, unknown fields refused (``yaml.UnmarshalStrict``), ``cdiVersion`` a known
version and at least the one the spec's fields need, ``kind`` as ``vendor.com/class``, device names of
letters, digits, ``-``, ``_``, ``.`` starting and ending alphanumerically. A spec an engine would refuse is an
``InvalidSpec`` here too, so ``gpudock cdi check`` and the doctor say so before a container does.

YAML is read with PyYAML's safe loader (already a gpudock dependency, with libyaml's C parser where present):
it builds plain dicts, lists and scalars only, never objects. The text is first bounded (``MAX_SPEC_BYTES``)
and scanned event by event: aliases (the "billion laughs" expansion) and more than ``MAX_EVENTS`` events are
refused before anything is built, so a hostile spec costs bounded time and memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_SPEC_BYTES = 256 * 1024  # nvidia-ctk's spec for 8 GPUs is ~40 kB; a larger file is not a GPU spec
MAX_EVENTS = 50_000  # YAML parser events (scalars, mappings, sequences) in one spec
KIND = "nvidia.com/gpu"
SPEC_DIRS = ("/etc/cdi", "/var/run/cdi")  # lowest priority first: a later folder wins (pkg/cdi/spec-dirs.go)
SUFFIXES = (".yaml", ".json")
# CDI spec versions, oldest first (specs-go/version.go); 0.3.0 is the earliest engines load
VERSIONS = ("0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.1.0")
EARLIEST = "0.3.0"
_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,126}[A-Za-z0-9])?")
_VENDOR = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")
_CLASS = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?")
_EDIT_FIELDS = {
    "env": list,
    "deviceNodes": list,
    "mounts": list,
    "hooks": list,
    "intelRdt": dict,
    "additionalGids": list,
    "netDevices": list,
}
_NODE_FIELDS = {
    "path": str,
    "hostPath": str,
    "type": str,
    "major": int,
    "minor": int,
    "fileMode": int,
    "permissions": str,
    "uid": int,
    "gid": int,
}
_MOUNT_FIELDS = {"hostPath": str, "containerPath": str, "options": list, "type": str}
_HOOK_FIELDS = {"hookName": str, "path": str, "args": list, "env": list, "timeout": int}
_TOP_FIELDS = {"cdiVersion": str, "kind": str, "annotations": dict, "devices": list, "containerEdits": dict}
_DEVICE_FIELDS = {"name": str, "annotations": dict, "containerEdits": dict}
MAX_ITEMS = 4096  # entries in one list of a spec (devices, mounts, nodes): a GPU spec has a few dozen


def _yaml():
    """PyYAML (a gpudock dependency); where gpudock runs from source with the standard library alone
    (``python3 -m gpudock.cdi``), one line that says what to install: JSON specs need nothing."""
    try:
        import yaml
    except ImportError:
        from ..exceptions import MissingTool

        raise MissingTool("YAML specs need PyYAML", "install python3-yaml, or use JSON (--output FILE.json)") from None
    return yaml


class InvalidSpec(ValueError):
    """A spec an engine would refuse to load; the message is one line."""


@dataclass(frozen=True)
class Node:
    path: str
    host_path: str
    type: str | None = None
    major: int | None = None
    minor: int | None = None


@dataclass(frozen=True)
class Mount:
    host_path: str
    container_path: str


@dataclass(frozen=True)
class Edits:
    """One ``containerEdits`` block: what a device (or every device of the spec) adds to a container."""

    env: tuple[str, ...] = ()
    nodes: tuple[Node, ...] = ()
    mounts: tuple[Mount, ...] = ()
    hooks: tuple[str, ...] = ()  # each hook's path (the program the engine runs)


@dataclass
class Spec:
    """A loaded spec: where it is, its kind, its devices by name, and the edits shared by all of them."""

    path: str
    version: str
    kind: str
    devices: dict[str, Edits]
    common: Edits
    data: dict = field(repr=False, default_factory=dict)

    @property
    def folder(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""

    def edits(self) -> Iterator[tuple[str, Edits]]:
        """(owner, edits): the spec's common edits (owner ``""``) then each device's."""
        yield "", self.common
        yield from self.devices.items()

    def host_paths(self) -> list[str]:
        """Every host path the spec names (nodes, mounts, hooks), each once, in order."""
        seen: dict[str, None] = {}
        for _owner, edits in self.edits():
            for node in edits.nodes:
                seen.setdefault(node.host_path)
            for mount in edits.mounts:
                seen.setdefault(mount.host_path)
            for hook in edits.hooks:
                seen.setdefault(hook)
        return list(seen)


# --- reading -------------------------------------------------------------------------------------------


def parse_text(text: str, path: str) -> dict:
    """The document in ``text`` (YAML, or JSON for a ``.json`` path) as plain data; InvalidSpec otherwise."""
    if len(text.encode("utf-8", errors="replace")) > MAX_SPEC_BYTES:
        raise InvalidSpec(f"larger than {MAX_SPEC_BYTES // 1024} KiB: not a device spec")
    if path.endswith(".json"):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise InvalidSpec(f"not valid JSON ({str(err)[:120]})") from None
    else:
        value = _load_yaml(text)
    if not isinstance(value, dict):
        raise InvalidSpec("not a CDI spec: the document is not a mapping of cdiVersion, kind, devices")
    return value


def _load_yaml(text: str):
    yaml = _yaml()

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for count, event in enumerate(yaml.parse(text, Loader=loader)):
            if isinstance(event, yaml.AliasEvent):
                raise InvalidSpec("uses YAML aliases (*name): CDI specs have none; refused unexpanded")
            if count > MAX_EVENTS:
                raise InvalidSpec(f"has more than {MAX_EVENTS} YAML elements: not a device spec")
        return yaml.load(text, Loader=loader)  # a safe loader: plain data only
    except yaml.YAMLError as err:
        first = " ".join(str(err).split())[:160]
        raise InvalidSpec(f"not valid YAML ({first})") from None
    except RecursionError:
        raise InvalidSpec("nested too deeply to be a CDI spec") from None


def load(text: str, path: str) -> Spec:
    """A Spec from the text of the file at ``path``; InvalidSpec (one line) where an engine would refuse it."""
    data = parse_text(text, path)
    _fields(data, _TOP_FIELDS, "the spec")
    for key in ("cdiVersion", "kind", "devices"):
        if key not in data:
            raise InvalidSpec(f"has no {key}")
    version = data["cdiVersion"].removeprefix("v")
    if version not in VERSIONS:
        raise InvalidSpec(f"cdiVersion {_shown(data['cdiVersion'])} is not a CDI version ({', '.join(VERSIONS)})")
    kind = data["kind"]
    check_kind(kind)
    if not data["devices"]:
        raise InvalidSpec("lists no devices")
    common = _edits(data.get("containerEdits") or {}, "the spec's containerEdits")
    devices: dict[str, Edits] = {}
    for number, device in enumerate(_items(data["devices"], "devices")):
        if not isinstance(device, dict):
            raise InvalidSpec(f"devices[{number}] is not a mapping")
        _fields(device, _DEVICE_FIELDS, f"devices[{number}]")
        name = device.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InvalidSpec(f"devices[{number}] has an invalid name {_shown(name)}")
        if name in devices:
            raise InvalidSpec(f"names the device {name!r} twice")
        devices[name] = _edits(device.get("containerEdits") or {}, f"device {name}")
    need = minimum_version(data)
    if VERSIONS.index(version) < VERSIONS.index(need):
        raise InvalidSpec(
            f"says cdiVersion {version} but uses fields of {need}: the spec version must be at least {need}"
        )
    return Spec(path, version, kind, devices, common, data)


def check_kind(kind) -> None:
    if not isinstance(kind, str) or kind.count("/") != 1:
        raise InvalidSpec(f"kind {_shown(kind)} is not vendor.com/class")
    vendor, klass = kind.split("/")
    if len(vendor) > 253 or not _VENDOR.fullmatch(vendor) or not _CLASS.fullmatch(klass):
        raise InvalidSpec(f"kind {_shown(kind)} is not vendor.com/class")


def _items(value, where: str) -> list:
    if not isinstance(value, list):
        raise InvalidSpec(f"{where} is not a list")
    if len(value) > MAX_ITEMS:
        raise InvalidSpec(f"{where} has more than {MAX_ITEMS} entries")
    return value


def _fields(value: dict, allowed: dict, where: str) -> None:
    """Unknown fields are refused (the engines' strict loader); known ones must have their type."""
    for key, item in value.items():
        kind = allowed.get(key)
        if kind is None:
            raise InvalidSpec(f"{where} has an unknown field {_shown(key)} (engines refuse unknown fields)")
        if item is None:
            continue
        if kind is int and (isinstance(item, bool) or not isinstance(item, int)):
            raise InvalidSpec(f"{where}: {key} is not a number")
        if kind is not int and not isinstance(item, kind):
            shown = {str: "string", list: "list", dict: "mapping"}[kind]
            raise InvalidSpec(f"{where}: {key} is not a {shown} ({_shown(item)})")


def _strings(value, where: str) -> tuple[str, ...]:
    items = _items(value or [], where)
    if not all(isinstance(item, str) for item in items):
        raise InvalidSpec(f"{where} holds something that is not a string")
    return tuple(items)


def _entries(value: dict, key: str, where: str, fields: dict, required: tuple[str, ...]) -> list[dict]:
    """The mappings of one list of a containerEdits block, each checked like the engines check it."""
    found = []
    for number, entry in enumerate(_items(value.get(key) or [], f"{where} {key}")):
        label = f"{where} {key}[{number}]"
        if not isinstance(entry, dict):
            raise InvalidSpec(f"{label} is not a mapping")
        _fields(entry, fields, label)
        if not all(entry.get(name) for name in required):
            raise InvalidSpec(f"{label} needs {' and '.join(required)}")
        found.append(entry)
    return found


def _edits(value: dict, where: str) -> Edits:
    _fields(value, _EDIT_FIELDS, where)
    env = _strings(value.get("env"), f"{where} env")
    nodes = tuple(
        Node(n["path"], n.get("hostPath") or n["path"], n.get("type"), n.get("major"), n.get("minor"))
        for n in _entries(value, "deviceNodes", where, _NODE_FIELDS, ("path",))
    )
    mounts = []
    for mount in _entries(value, "mounts", where, _MOUNT_FIELDS, ("hostPath", "containerPath")):
        _strings(mount.get("options"), f"{where} mount {mount['containerPath']} options")
        mounts.append(Mount(mount["hostPath"], mount["containerPath"]))
    hooks = tuple(h["path"] for h in _entries(value, "hooks", where, _HOOK_FIELDS, ("hookName", "path")))
    return Edits(env, nodes, tuple(mounts), hooks)


def minimum_version(data: dict) -> str:
    """The lowest cdiVersion whose fields this spec uses (specs-go/version.go's rules, newest first)."""
    edits = [data.get("containerEdits") or {}] + [
        (d.get("containerEdits") or {}) for d in data.get("devices") or [] if isinstance(d, dict)
    ]
    edits = [e for e in edits if isinstance(e, dict)]
    devices = [d for d in data.get("devices") or [] if isinstance(d, dict)]
    rdt = [e.get("intelRdt") for e in edits if isinstance(e.get("intelRdt"), dict)]
    if any(e.get("netDevices") for e in edits) or any(
        r.get("schemata") is not None or r.get("enableMonitoring") for r in rdt
    ):
        return "1.1.0"
    if rdt or any(e.get("additionalGids") for e in edits):
        return "0.7.0"
    klass = str(data.get("kind", "")).partition("/")[2]
    if data.get("annotations") or any(d.get("annotations") for d in devices) or "." in klass:
        return "0.6.0"
    names = [str(d.get("name", "")) for d in devices]
    nodes = [n for e in edits for n in (e.get("deviceNodes") or []) if isinstance(n, dict)]
    if any(name[:1].isdigit() for name in names) or any(n.get("hostPath") for n in nodes):
        return "0.5.0"
    mounts = [m for e in edits for m in (e.get("mounts") or []) if isinstance(m, dict)]
    if any(m.get("type") for m in mounts):
        return "0.4.0"
    return EARLIEST


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- writing -------------------------------------------------------------------------------------------


def render(data: dict, path: str) -> str:
    """The spec as text for ``path``: JSON for ``.json``, else YAML; the same data gives the same bytes."""
    if path.endswith(".json"):
        return json.dumps(data, indent=2, ensure_ascii=True) + "\n"
    yaml = _yaml()

    return "---\n" + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=4096, allow_unicode=False)
