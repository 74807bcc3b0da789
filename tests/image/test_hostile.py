"""A hostile or huge image is refused within bounds: no unbounded read, no path escape, one clear line."""

from __future__ import annotations

import io
import json
import tarfile
import zlib

import pytest

from gpudock.cli import main
from gpudock.image import ImageTooLarge, ImageUnreadable, Limits, read
from tests.image.builders import docker_save, fixture, layer, oci_layout


def saved(tmp_path, layers, name="image.tar", **kw):
    path = tmp_path / name
    path.write_bytes(docker_save(layers, **kw))
    return str(path)


def gzip_bomb(zeros: int) -> bytes:
    """A gzip'd layer whose one file is ``zeros`` bytes of zeros: a few KiB on disk."""
    header = tarfile.TarInfo("bomb")
    header.size = zeros
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [packer.compress(header.tobuf(format=tarfile.USTAR_FORMAT))]
    chunk = bytes(1 << 20)
    for _ in range(zeros >> 20):
        out.append(packer.compress(chunk))
    out.append(packer.compress(bytes(1024)) + packer.flush())
    return b"".join(out)


def test_a_path_that_climbs_out_is_refused(tmp_path):
    with pytest.raises(ImageUnreadable, match="climbs out"):
        read(saved(tmp_path, [layer([("../../etc/cron.d/evil", b"* * * * * root sh")])]))


def test_a_decompression_bomb_stops_at_the_limit(tmp_path):
    bomb = gzip_bomb(64 << 20)
    assert len(bomb) < 200_000
    with pytest.raises(ImageTooLarge, match="--max-size"):
        read(saved(tmp_path, [bomb]), Limits(max_bytes=8 << 20))


def test_a_giant_tar_header_is_refused_before_it_is_read(tmp_path):
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 1 << 40  # a terabyte of "header" (GNU's base-256 size field); nothing follows
    with pytest.raises(ImageUnreadable, match="tar header of"):
        read(saved(tmp_path, [header.tobuf(format=tarfile.GNU_FORMAT)]))


def test_too_many_files_are_refused(tmp_path):
    many = layer([(f"f{i}", b"x") for i in range(50)])
    with pytest.raises(ImageTooLarge, match="more than 20 files"):
        read(saved(tmp_path, [many]), Limits(max_members=20))


def test_a_path_nested_too_deep_is_refused(tmp_path):
    with pytest.raises(ImageUnreadable, match="deeper than"):
        read(saved(tmp_path, [layer([("a/" * 200 + "f", b"x")])]))


def test_too_many_layers_are_refused(tmp_path):
    layers = [layer([(f"f{i}", b"x")]) for i in range(5)]
    with pytest.raises(ImageUnreadable, match="more than 3 layers"):
        read(saved(tmp_path, layers), Limits(max_layers=3))


def test_a_blob_that_points_outside_the_layout_is_refused(tmp_path):
    folder = oci_layout(tmp_path / "layout", [layer([("lib.so", fixture("libsass_sm80.so"))])])
    index = json.loads((folder / "index.json").read_text())
    manifest = json.loads((folder / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text())
    blob = folder / "blobs/sha256" / manifest["layers"][0]["digest"][7:]
    blob.unlink()
    outside = tmp_path / "outside.tar"
    outside.write_bytes(b"secret")
    blob.symlink_to(outside)
    with pytest.raises(ImageUnreadable, match="outside the folder"):
        read(str(folder))


def test_a_digest_that_is_a_path_is_refused(tmp_path):
    folder = oci_layout(tmp_path / "layout", [layer([("f", b"x")])])
    index = json.loads((folder / "index.json").read_text())
    index["manifests"][0]["digest"] = "sha256:../../../../etc/passwd"
    (folder / "index.json").write_text(json.dumps(index))
    with pytest.raises(ImageUnreadable, match="not one"):
        read(str(folder))


def test_two_images_in_one_archive_are_refused(tmp_path):
    archive = io.BytesIO(docker_save([layer([("f", b"x")])]))
    with tarfile.open(fileobj=archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    doubled = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(archive.getvalue())) as src, tarfile.open(fileobj=doubled, mode="w") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "manifest.json":
                data = json.dumps(manifest * 2).encode()
                member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    path = tmp_path / "two.tar"
    path.write_bytes(doubled.getvalue())
    with pytest.raises(ImageUnreadable, match="holds 2 images"):
        read(str(path))


def test_a_file_that_is_no_archive_is_refused(tmp_path):
    path = tmp_path / "notes.tar"
    path.write_bytes(b"these are not the layers you are looking for\n" * 40)
    with pytest.raises(ImageUnreadable, match="not a tar archive"):
        read(str(path))


def test_a_member_that_claims_more_data_than_there_is(tmp_path):
    header = tarfile.TarInfo("huge.so")
    header.size = 1 << 40
    cut = header.tobuf(format=tarfile.GNU_FORMAT) + b"\x7fELF" + bytes(600)
    with pytest.raises(ImageUnreadable, match="ends in the middle"):
        read(saved(tmp_path, [cut]))


def test_the_cli_says_one_line_and_exits_2(tmp_path, capsys):
    bad = saved(tmp_path, [layer([("../escape", b"x")])])
    assert main(["check-image", bad, "--gpu", "9.0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "climbs out" in err[0] and "Traceback" not in err[0]


def test_a_bad_max_size_is_a_usage_error(capsys):
    assert main(["check-image", "x.tar", "--max-size", "lots"]) == 2
    assert "--max-size takes a size" in capsys.readouterr().err
