"""The fat-binary reader against NVIDIA's cuobjdump, on fixtures built for known architectures.

tests/data/cuda/ holds shared libraries made offline with NVRTC and nvFatbin from PyPI (make_fixtures.py
says how); cuobjdump comes from NVIDIA's `nvidia-cuda-cuobjdump` wheel (the test extra). NVIDIA's nbody
kernel, a real nvcc build, is read too where the shared folder beside the repository has it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpudock.image import compress, fatbin
from gpudock.image.scan import scan_bytes
from tests.helpers import ROOT
from tests.image.builders import CUDA, fixture

FIXTURES = sorted(p.name for p in CUDA.glob("*.so"))
NBODY = ROOT.parent / "shared" / "device" / "nbody-reference" / "nbody-reference"
_LISTED = re.compile(r"^(ELF|PTX) file\s+\d+: .*\.(sm_\d+[af]?)\.(?:cubin|ptx)$")


def cuobjdump() -> str:
    found = shutil.which("cuobjdump")
    spec = importlib.util.find_spec("nvidia")
    for base in (spec.submodule_search_locations if spec else []) or []:
        candidate = Path(base) / "cu13" / "bin" / "cuobjdump"
        if not found and candidate.exists():
            found = str(candidate)
    if not found:
        if os.environ.get("CI") or os.environ.get("GPUDOCK_REQUIRE_DOCKER"):
            pytest.fail("cuobjdump is missing: the test extra installs nvidia-cuda-cuobjdump from PyPI")
        pytest.skip("no cuobjdump (pip install nvidia-cuda-cuobjdump)")
    return found


def nvidia_says(path: Path) -> Counter:
    out = subprocess.run([cuobjdump(), "--list-elf", "--list-ptx", str(path)], capture_output=True, text=True)
    found = Counter()
    for line in out.stdout.splitlines():
        match = _LISTED.match(line.strip())
        if match:
            kind, arch = ("sass", match[2]) if match[1] == "ELF" else ("ptx", "compute_" + match[2][3:])
            found[(kind, arch)] += 1
    return found


def gpudock_says(data: bytes) -> Counter:
    found = scan_bytes(data)
    # cuobjdump names a family cubin (sm_100f) as sm_100: the same SASS, listed by its base architecture
    return Counter(
        (k.entry.kind, k.entry.arch[:-1] if k.entry.kind == "sass" and k.entry.suffix == "f" else k.entry.arch)
        for k in found.runtime
    )


@pytest.mark.parametrize("name", FIXTURES)
def test_reader_lists_what_cuobjdump_lists(name):
    expected = nvidia_says(CUDA / name)
    assert expected, f"cuobjdump found nothing in {name}"
    assert gpudock_says(fixture(name)) == expected


@pytest.mark.skipif(not NBODY.exists(), reason="the shared folder beside the repository has no nbody-reference")
def test_reader_lists_a_real_nvcc_build_as_cuobjdump_does():
    assert gpudock_says(NBODY.read_bytes()) == nvidia_says(NBODY)


def test_a_stream_in_tiny_chunks_reads_the_same_as_whole():
    data = fixture("libmulti.so")
    assert scan_bytes(data, chunk=3) == scan_bytes(data)


def test_compressed_entries_decode_to_their_own_ptx_header():
    kernels = scan_bytes(fixture("libmulti.so")).kernels
    lz4_ptx = next(k for k in kernels if k.entry.kind == "ptx")
    assert lz4_ptx.entry.compression == "lz4"
    assert (lz4_ptx.ptx_target, lz4_ptx.ptx_version) == ("sm_75", "8.8")  # from the decompressed text


def test_header_flags_and_versions():
    by_arch = {k.entry.arch: k for k in scan_bytes(fixture("libfamilies.so")).kernels}
    assert set(by_arch) == {"sm_100a", "sm_100f", "compute_90a", "sm_120"}
    assert by_arch["compute_90a"].ptx_target == "sm_90a"  # the PTX text agrees with the header's flag
    too_new = scan_bytes(fixture("libptx_too_new.so")).kernels[0]
    assert too_new.entry.version == (9, 5) and too_new.ptx_version == "9.5"
    zstd = scan_bytes(fixture("libptx_compute80.so")).kernels[0].entry
    assert zstd.compression == "zstd" and zstd.size > zstd.stored_size


def test_relocatable_section_is_listed_but_not_loaded():
    found = scan_bytes(fixture("libmulti.so"))
    sections = Counter(k.section for k in found.kernels)
    assert sections == {".nv_fatbin": 2, "__nv_relfatbin": 1}
    assert all(k.section == ".nv_fatbin" for k in found.runtime)


def test_a_fat_binary_outside_its_sections_counts_for_nothing():
    data = fixture("libsass_sm80.so").replace(b".nv_fatbin\0", b".xx_fatbin\0")
    assert scan_bytes(data) is None


def test_a_cut_file_gives_what_is_complete_and_no_error():
    data = fixture("libsass_sm100_ptx100.so")
    start = data.find(fatbin.MAGIC)
    assert scan_bytes(data[: start + 200]) is None  # the container is cut: nothing of it is trusted


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=4096), st.integers(min_value=0, max_value=8000))
def test_garbage_never_raises(noise, at):
    data = bytearray(fixture("libsass_sm90.so"))
    data[at : at + len(noise)] = noise
    scan_bytes(bytes(data), chunk=997)  # whatever it finds, it must not crash


def test_lz4_refuses_a_match_before_the_start():
    with pytest.raises(compress.CorruptPayload):
        compress.lz4_block(b"\x00\x10\x00", 100)
