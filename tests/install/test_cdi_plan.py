"""gpudock plan cdi: the spec shown and written atomically, features.cdi merged, the restart, the refusals."""

from __future__ import annotations

import copy
import json

import pytest

from gpudock.exceptions import PlanRefused
from gpudock.facts.host import host_info
from gpudock.install import make_plan
from gpudock.install.daemonjson import DaemonJsonError, with_cdi
from gpudock.snapshot import Snapshot
from tests.cdi_hosts import SPEC, after, before


def _plan(doc, spec_text=SPEC):
    snap = Snapshot(doc)
    return make_plan("cdi", snap, host_info(snap), spec_text=spec_text)


def test_docker_26_gets_the_spec_features_cdi_the_restart_and_a_verification():
    plan = _plan(before())
    titles = [s.title for s in plan.steps]
    assert titles[0] == "create /etc/cdi (where engines read static specs)"
    spec_step = plan.steps[1]
    assert spec_step.writes.path == "/etc/cdi/nvidia.yaml" and spec_step.writes.content == SPEC
    assert spec_step.commands()[-1] == ("mv", "-f", "-T", "/etc/cdi/nvidia.yaml.gpudock-new", "/etc/cdi/nvidia.yaml")
    backup, merge = plan.steps[2], plan.steps[3]
    assert backup.check.argv == ("test", "-e", "/etc/docker/daemon.json.before-gpudock-cdi")  # first one kept
    assert backup.argv == (
        "cp",
        "-p",
        "--",
        "/etc/docker/daemon.json",
        "/etc/docker/daemon.json.before-gpudock-cdi",
    )
    merged = json.loads(merge.writes.content)
    assert merged == {"features": {"cdi": True}, "data-root": "/var/lib/gpudock-docker", "storage-driver": "overlay2"}
    restart = [s for s in plan.steps[4:]]
    assert any("stop the dockerd that gpudock started" in s.title for s in restart)  # no systemd here: gpudock's way
    assert plan.verify[0].argv[:9] == (
        "docker",
        "run",
        "--rm",
        "--pull",
        "never",
        "--network",
        "none",
        "--device",
        "nvidia.com/gpu=all",
    )
    assert plan.verify[0].argv[9:] == (
        "gpudock/hello:latest",
        "/bin/busybox",
        "ls",
        "/dev/nvidiactl",
    )  # an image already here
    script = plan.to_sh()
    assert "cdiVersion: 0.5.0" in script  # the root file is shown in full


def test_a_second_apply_has_nothing_left_to_change():
    doc = after()
    doc["commands"]["docker_cdi_gpu"]["stdout"] = "nvidiactl\nnvidia0\n"
    plan = _plan(doc, spec_text=doc["files"]["/etc/cdi/nvidia.yaml"])
    assert [s.title for s in plan.steps][1:] == [
        "write the CDI spec /etc/cdi/nvidia.yaml (from the loaded driver; kept across reboots)"
    ]
    assert plan.steps[1].check.argv[:2] == ("cmp", "-s")  # skipped when the same bytes are there
    assert not any("daemon" in s.title.lower() for s in plan.steps)


def test_features_cdi_set_but_the_daemon_not_restarted_restarts_only():
    doc = after()
    doc["commands"]["docker_cdi_gpu"].update(
        rc=125, stdout="", stderr='could not select device driver "cdi" with capabilities: []'
    )
    titles = [s.title for s in _plan(doc).steps]
    assert not any("features" in t for t in titles) and any("start" in t for t in titles)


def test_docker_older_than_25_is_refused_with_nvidia_docker_1_flags():
    doc = before()
    doc["commands"]["docker_info"]["stdout"] = " Server Version: 20.10.24+dfsg1\n"
    doc["commands"]["docker_version"]["stdout"] = "Server:\n Engine:\n  Version: 20.10.24+dfsg1\n"
    with pytest.raises(PlanRefused) as err:
        _plan(doc)
    text = str(err.value)
    assert "needs Docker Engine 25 or newer" in text and "runs 20.10.24" in text
    assert "--device /dev/nvidia0 --device /dev/nvidiactl --device /dev/nvidia-uvm" in text
    assert "-v /usr/local/nvidia/lib64/libcuda.so.580.159.04:/usr/lib/x86_64-linux-gnu/libcuda.so.1:ro" in text


def test_docker_28_2_changes_no_daemon_json():
    doc = before()
    doc["commands"]["docker_info"]["stdout"] = " Server Version: 28.5.1\n"
    plan = _plan(doc)
    assert not any("daemon" in s.title.lower() for s in plan.steps)
    assert any("28.2 or newer reads CDI specs by default" in n for n in plan.notes)


def test_invalid_daemon_json_is_refused_untouched():
    doc = before()
    doc["files"]["/etc/docker/daemon.json"] = '{"data-root": "/x",}'
    with pytest.raises(PlanRefused, match=r"daemon.json is not valid JSON \(line 1.*gpudock changed nothing"):
        _plan(doc)


def test_the_toolkits_own_spec_is_left_alone():
    doc = before()
    doc["files"]["/var/run/cdi/nvidia.yaml"] = (
        SPEC + "  hooks:\n  - hookName: createContainer\n    path: /usr/bin/nvidia-cdi-hook\n"
    )
    doc["paths"]["/run/systemd/system"] = True
    doc["commands"]["systemctl_docker"] = {"rc": 0, "stdout": "active\n", "stderr": ""}
    plan = _plan(doc)
    assert not any(s.writes and s.writes.path.startswith("/etc/cdi") for s in plan.steps)
    assert any("nvidia-cdi-refresh keeps /var/run/cdi/nvidia.yaml" in n for n in plan.notes)


def test_a_snapshot_plan_generates_the_spec_when_applied():
    plan = _plan(before(), spec_text=None)
    generate = plan.steps[1]
    assert generate.argv[:4] == ("gpudock", "cdi", "generate", "--output") and not generate.root
    assert plan.steps[2].writes.source == generate.argv[4]


def test_docker_desktop_and_no_engine_are_refused():
    doc = before()
    doc["commands"]["docker_info"]["stdout"] = " Server Version: 28.5.1\n Operating System: Docker Desktop\n"
    with pytest.raises(PlanRefused, match="Docker Desktop"):
        _plan(doc)
    doc = copy.deepcopy(before())
    del doc["commands"]["docker_info"], doc["commands"]["docker_version"]
    with pytest.raises(PlanRefused, match="no Docker Engine answers"):
        _plan(doc)


# --- daemon.json: a text edit, not a rewrite ------------------------------------------------------------


@pytest.mark.parametrize(
    "before_text,after_text",
    [
        (None, '{\n  "features": {\n    "cdi": true\n  }\n}\n'),
        ("{}", '{\n  "features": {\n    "cdi": true\n  }\n}'),
        ('{"log-level": "warn"}', '{"features": {"cdi": true}, "log-level": "warn"}'),
        (
            '{\n  "runtimes": {"nvidia": {"path": "nvidia-container-runtime"}},\n  "log-level": "warn"\n}\n',
            '{\n  "features": {"cdi": true},\n  "runtimes": {"nvidia": {"path": "nvidia-container-runtime"}},\n'
            '  "log-level": "warn"\n}\n',
        ),
        (
            '{\n  // the admin\'s note\n  "features": {"buildkit": true}\n}',
            '{\n  // the admin\'s note\n  "features": {"cdi": true, "buildkit": true}\n}',
        ),
        ('{"features": {"cdi": false}}', '{"features": {"cdi": true}}'),
        ('{"features": {"cdi": true}}', None),
    ],
)
def test_features_cdi_is_merged_keeping_keys_and_comments(before_text, after_text):
    assert with_cdi(before_text) == after_text


@pytest.mark.parametrize("text", ["{bad", "[1, 2]", '{"features": true}', '{"a": 1 /* never ends'])
def test_daemon_json_that_cannot_be_edited_safely_is_refused(text):
    with pytest.raises(DaemonJsonError):
        with_cdi(text)


def _verify_argv(commands_kept: tuple[str, ...], listing: str | None) -> tuple[str, ...]:
    doc = before()
    doc["commands"] = {k: v for k, v in doc["commands"].items() if k in commands_kept}
    if listing is not None:
        doc["commands"]["docker_images"] = {"rc": 0, "stdout": listing, "stderr": ""}
    return _plan(doc).verify[0].argv


@pytest.mark.parametrize(
    ("listing", "image", "pulled"),
    [
        ("gpudock/hello:latest\nbusybox:latest\n", "gpudock/hello:latest", False),
        ("ubuntu:24.04\ngpudock/hello:latest\n", "ubuntu:24.04", False),  # nvidia-smi is the better proof
        ("debian:12\n", "ubuntu:24.04", True),
        (None, "ubuntu:24.04", True),
    ],
)
def test_a_plan_probe_that_ran_no_container_verifies_with_an_image_it_listed(listing, image, pulled):
    """Seen on the GPU machine: `plan`'s probe runs no container (issue 24), so the check fell back to
    ubuntu:24.04 with --pull never, and `install cdi --apply` said "still fails" on a healthy host without it."""
    argv = _verify_argv(("docker_version", "docker_info"), listing)
    assert image in argv
    assert (("--pull", "never") == argv[3:5]) is not pulled, argv


def test_the_image_listing_is_never_read_as_a_message():
    from gpudock.facts.evidence import find

    doc = before()
    doc["commands"]["docker_images"] = {"rc": 0, "stdout": "unresolvable-cdi-devices:latest\n", "stderr": ""}
    assert find(Snapshot(doc), r"unresolvable.CDI.devices") is None


def test_a_hostile_image_listing_never_reaches_the_check():
    """The listing names images only to be matched against gpudock's own two: nothing of it is run."""
    listing = "ubuntu:24.04 --privileged\n$(reboot):latest\n`id`\ngpudock/hello:latest;rm -rf /\n"
    argv = _verify_argv(("docker_version", "docker_info"), listing)
    assert argv[-3:] == ("ubuntu:24.04", "nvidia-smi", "-L")  # gpudock's own image and command, whatever is listed
    assert not any(bad in " ".join(argv) for bad in ("privileged", "reboot", "`", ";"))
