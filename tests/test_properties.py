"""The doctor never raises on arbitrary or garbled snapshots; a broken file exits 2 with one line."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpudock.cli import main
from gpudock.diagnose import diagnose
from gpudock.exceptions import SnapshotError
from gpudock.snapshot import Snapshot

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)

# Pieces of real error text, so garbled output still reaches the rules' patterns.
fragments = st.sampled_from(
    [
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock",
        "permission denied while trying to connect to the docker",
        'could not select device driver "" with capabilities: [[gpu]]',
        "|   0  NVIDIA H200   On  |",
        "NVIDIA-SMI 580  Driver Version: 580",
        "unsatisfied condition: cuda>=",
        "Conflicting values set for option Signed-By regarding source",
        "ii  nvidia-driver-535",
        "The command 'docker' could not be found in this WSL",
        "Failed to initialize NVML: Unknown Error",
        "Runtimes:",
        "\x00",
        "\ufffd",
        "= 1.0 billion interactions per second",
        "Operating System: Docker Desktop",
        "NO_PUBKEY",
        "uid=0(root)",
        '{"nvidia":{"path":"nvidia-container-runtime"}}',
        "desktop-linux *   Docker Desktop",
        "01:00.0 VGA compatible controller: NVIDIA Corporation GP104 [GeForce GTX 1080]",
        "Microsoft Windows [Version 10.0.19043.1288]",
        "  cdi: nvidia.com/gpu=0",
        "sudo: a password is required",
    ]
)
garbled_text = st.lists(fragments | st.text(max_size=40), max_size=6).map("\n".join)
probe_names = st.sampled_from(
    [
        "docker_version",
        "docker_info",
        "docker_hello",
        "docker_gpu",
        "nvidia_smi",
        "nvidia_smi_query",
        "dpkg_nvidia",
        "dpkg_docker",
        "apt_update",
        "id",
        "systemctl_docker",
        "nvidia_ctk_version",
        "docker_nbody",
        "docker_gpu_sudo",
        "docker_info_runtimes",
        "docker_context_ls",
        "nvidia_container_cli_version",
        "nvidia_container_cli_info",
        "ls_cdi",
        "lspci",
        "windows_version",
        "anything_else",
    ]
)
commands = st.dictionaries(
    probe_names,
    st.fixed_dictionaries(
        {
            "rc": st.none() | st.integers(-2, 300),
            "stdout": st.none() | garbled_text,
            "stderr": st.none() | garbled_text,
        },
        optional={"timed_out": st.booleans()},
    ),
    max_size=8,
)
snapshots = st.fixed_dictionaries(
    {},
    optional={
        "platform": st.dictionaries(
            st.sampled_from(["system", "release", "machine"]),
            st.text(max_size=40) | st.just("5.15.1-microsoft-standard-WSL2"),
        ),
        "env": st.dictionaries(st.sampled_from(["WSL_DISTRO_NAME", "DOCKER_HOST", "USER"]), st.text(max_size=20)),
        "files": st.dictionaries(
            st.sampled_from(["/etc/os-release", "/proc/version", "/etc/docker/daemon.json"]), st.none() | garbled_text
        ),
        "paths": st.dictionaries(
            st.sampled_from(["/dev/dxg", "/dev/nvidia0", "/usr/bin/dockerd"]), st.none() | st.booleans()
        ),
        "commands": commands,
    },
)


@settings(max_examples=300, deadline=None)
@given(snapshots)
def test_diagnose_never_raises_on_garbled_snapshots(doc):
    findings = diagnose(Snapshot(doc))
    assert all(f.code != "doctor-rule-error" for f in findings), [f.evidence for f in findings]


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_is_a_snapshot_or_a_snapshot_error(doc):
    try:
        snap = Snapshot.loads(json.dumps(doc))
    except SnapshotError as err:
        assert "\n" not in str(err)
        return
    assert all(f.code != "doctor-rule-error" for f in diagnose(snap))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_cli_on_any_file_exits_0_1_or_2_with_one_line_errors(tmp_path_factory, capsys, content):
    path = tmp_path_factory.mktemp("snap") / "s.json"
    path.write_bytes(content)
    code = main(["doctor", "--snapshot", str(path), "--json"])
    captured = capsys.readouterr()
    assert code in (0, 1, 2)
    if code == 2:
        assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    else:
        json.loads(captured.out)
