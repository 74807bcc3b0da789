import json

import pytest

from gpudock.exceptions import SnapshotError
from gpudock.snapshot import CommandResult, Snapshot


def test_round_trip_keeps_every_key(tmp_path, data_dir):
    original = json.loads((data_dir / "real" / "h200-device-snapshot.json").read_text())["snapshot"]
    path = Snapshot(original).save(tmp_path / "s.json")
    assert Snapshot.load(path).data == original


def test_test_case_document_is_unwrapped(data_dir):
    snap = Snapshot.load(data_dir / "real" / "h200-device-snapshot.json")
    assert snap.command("nvidia_smi_query").stdout.startswith("NVIDIA H200")


def test_missing_key_means_not_probed_and_null_file_means_absent():
    snap = Snapshot({"files": {"/etc/docker/daemon.json": None}})
    assert snap.file("/etc/os-release") is None
    assert snap.file("/etc/docker/daemon.json") == ""
    assert snap.file_known_absent("/etc/docker/daemon.json")
    assert snap.command("docker_info") is None
    assert snap.path("/dev/dxg") is None


def test_unknown_keys_and_probe_names_are_ignored():
    snap = Snapshot({"weird": 1, "commands": {"my_probe": {"rc": 0, "stdout": "x", "extra": [1]}}})
    assert snap.command("my_probe").ok


@pytest.mark.parametrize(
    "doc, where",
    [
        ([1, 2], "top level"),
        ({"commands": {"docker_info": {"rc": "1"}}}, "commands.docker_info.rc"),
        ({"commands": {"docker_info": {"rc": True}}}, "commands.docker_info.rc"),
        ({"commands": {"docker_info": "broken"}}, "commands.docker_info"),
        ({"commands": []}, "commands"),
        ({"paths": {"/dev/dxg": "yes"}}, "paths"),
        ({"files": {"/etc/os-release": 3}}, "files"),
        ({"platform": "Linux"}, "platform"),
    ],
)
def test_mistyped_snapshot_names_the_key(doc, where):
    with pytest.raises(SnapshotError, match=where.replace(".", r"\.")):
        Snapshot(doc)


def test_not_json_gives_line_and_column(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"commands": ')
    with pytest.raises(SnapshotError, match=r"not valid JSON \(line 1"):
        Snapshot.load(bad)


def test_missing_file_is_a_snapshot_error(tmp_path):
    with pytest.raises(SnapshotError, match="no such file"):
        Snapshot.load(tmp_path / "nope.json")


@pytest.mark.parametrize(
    "rc, text, expected",
    [
        (127, "", True),
        (None, "bash: docker: command not found", True),
        (None, "Command 'nvidia-smi' not found, but can be installed with:", True),
        (1, "docker: command not found", False),  # a known rc that is not 127 wins
        (0, "", False),
    ],
)
def test_not_found(rc, text, expected):
    assert CommandResult("x", rc, "", text).not_found is expected


def test_failed_with_unknown_rc_reads_stderr():
    assert CommandResult("x", None, "", "Error: boom").failed
    assert not CommandResult("x", None, "Hello", "").failed
