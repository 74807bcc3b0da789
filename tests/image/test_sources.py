"""Reading images from each place: `docker save` tarballs (Docker's and OCI's), OCI folders, the Docker daemon;
layers stacked with their whiteouts."""

from __future__ import annotations

import io
import subprocess
import tarfile

import pytest

from gpudock.image import check_image, read
from tests.image.builders import docker_save, fixture, layer, oci_archive, oci_layout

H100 = "tests/data/image/h100-driver-580.json"
LIBDIR = "usr/lib/x86_64-linux-gnu/"


def two_layers(compress: bool = False) -> list[bytes]:
    """A base layer with three CUDA libraries and a baked-in libcuda; an upper layer that deletes one
    library, hides a folder with an opaque whiteout, replaces one file and adds the CUDA runtime."""
    lower = layer(
        [
            ("usr", "dir"),
            (LIBDIR + "libsass_sm80.so", fixture("libsass_sm80.so")),
            (LIBDIR + "libcuda.so.535.104.05", b"\x7fELF not really"),
            (LIBDIR + "libcuda.so.1", "symlink", "libcuda.so.535.104.05"),
            ("opt/old/libsass_sm100_ptx100.so", fixture("libsass_sm100_ptx100.so")),
            ("opt/app/libptx_compute80.so", fixture("libptx_compute80.so")),
            ("opt/app/copy.so", "hardlink", "opt/app/libptx_compute80.so"),
        ],
        compress,
    )
    upper = layer(
        [
            (LIBDIR + ".wh.libcuda.so.1", b""),
            (LIBDIR + ".wh.libcuda.so.535.104.05", b""),
            ("opt/old/.wh..wh..opq", b""),
            ("opt/app/copy.so", b"replaced by a text file"),
            ("usr/local/cuda-12.8/targets/x86_64-linux/lib/libcudart.so.12.8.90", b"\x7fELF"),
            ("usr/local/cuda-12.8/version.json", b'{"cuda": {"name": "CUDA SDK", "version": "12.8.1"}}'),
        ],
        compress,
    )
    return [lower, upper]


def expect_stacked(facts) -> None:
    assert set(facts.files) == {"/" + LIBDIR + "libsass_sm80.so", "/opt/app/libptx_compute80.so"}
    assert facts.driver_libs == []  # whited out above
    assert facts.runtime_cuda == (12, 8)
    assert facts.toolkit == "12.8.1"
    assert facts.layers == 2


@pytest.mark.parametrize("manifest_last", [True, False])
def test_docker_save_tarball(tmp_path, manifest_last):
    path = tmp_path / "image.tar"
    path.write_bytes(docker_save(two_layers(), manifest_last=manifest_last))
    expect_stacked(read(str(path)))


def test_oci_archive_with_gzip_layers(tmp_path):
    path = tmp_path / "oci.tar"
    path.write_bytes(oci_archive(two_layers(compress=True)))
    facts = read(str(path))
    expect_stacked(facts)
    assert facts.source == "archive"


def test_oci_layout_folder(tmp_path):
    facts = read(str(oci_layout(tmp_path / "layout", two_layers(compress=True))))
    expect_stacked(facts)
    assert facts.source == "oci-layout"


def test_a_lower_layer_library_still_shows_when_nothing_above_touches_it(tmp_path):
    path = tmp_path / "one.tar"
    path.write_bytes(docker_save([two_layers()[0]], env={"NVIDIA_REQUIRE_CUDA": "cuda>=12.8"}))
    facts = read(str(path))
    assert "/opt/old/libsass_sm100_ptx100.so" in facts.files
    assert "/opt/app/copy.so" in facts.files  # a hard link carries its target's kernels
    assert facts.driver_libs == ["/" + LIBDIR + "libcuda.so.1", "/" + LIBDIR + "libcuda.so.535.104.05"]
    assert facts.env == {"NVIDIA_REQUIRE_CUDA": "cuda>=12.8"}


@pytest.mark.requires_docker
def test_a_local_image_through_the_docker_sdk(tmp_path):
    """`docker import` an image of the fixtures, then check it by name: the SDK streams `docker save`."""
    tag = "gpudock-test/check-image:1"
    root = io.BytesIO()
    with tarfile.open(fileobj=root, mode="w") as tar:
        for name in ("libsass_sm80.so", "libsass_sm90.so"):
            info = tarfile.TarInfo(f"opt/{name}")
            info.size = len(fixture(name))
            tar.addfile(info, io.BytesIO(fixture(name)))
    subprocess.run(["docker", "import", "-", tag], input=root.getvalue(), check=True, capture_output=True)
    try:
        result = check_image(tag, snapshot=H100)
    finally:
        subprocess.run(["docker", "image", "rm", tag], capture_output=True)
    assert result.facts.source == "docker"
    assert [g.verdict for g in result.gpus] == ["fails"]  # libsass_sm80.so has nothing for sm_90
    assert list(result.gpus[0].failing) == ["/opt/libsass_sm80.so"]
