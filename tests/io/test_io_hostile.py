"""gradkit.load on files crafted to hurt: bombs, lying headers, odd dtypes, deep nesting.

Every case must be a SerializationError, with memory bounded by the file's size (not by
what its headers declare) and no RecursionError or MemoryError. Also: what a killed save
leaves behind, and the mode of saved files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import gradkit as gk
from gradkit.io import SerializationError, load, save

ROOT = Path(__file__).resolve().parents[2]


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def npy_header(descr: str, shape) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def manifest(tree, arrays) -> bytes:
    return json.dumps({"format": "gradkit.save", "version": 1, "tree": tree, "arrays": arrays}).encode()


def craft(path, raw_manifest: bytes, members, compress=zipfile.ZIP_STORED) -> Path:
    """A zip with a correctly checksummed manifest and the given (name, bytes) members."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are wanted here
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr("gradkit.json", raw_manifest)
            z.writestr("gradkit.sha256", sha(raw_manifest))
            for name, blob in members:
                z.writestr(zipfile.ZipInfo(name), blob, compress_type=compress)
    return Path(path)


def one_array(path, blob: bytes, dtype: str, shape, compress=zipfile.ZIP_STORED) -> Path:
    m = manifest(
        {"tensor": 0, "requires_grad": False}, [{"dtype": dtype, "shape": shape, "sha256": sha(blob)}]
    )
    return craft(path, m, [("arrays/0.npy", blob)], compress)


def load_bounded(path, limit: int = 4 << 20):
    """Load expecting a SerializationError, with the peak of Python allocations under ``limit``."""
    tracemalloc.start()
    try:
        with pytest.raises(SerializationError) as info:
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak {peak} bytes"
    return str(info.value)


def patch_sizes(data: bytes, name: bytes, compressed: int | None, uncompressed: int | None) -> bytes:
    """Rewrite the sizes of member ``name`` in its local header and its directory entry."""
    out = bytearray(data)
    for sig, comp_at, name_at in ((b"PK\x03\x04", 18, 30), (b"PK\x01\x02", 20, 46)):
        pos = out.find(sig)
        while pos >= 0:
            if out[pos + name_at : pos + name_at + len(name)] == name:
                if compressed is not None:
                    out[pos + comp_at : pos + comp_at + 4] = struct.pack("<I", compressed)
                if uncompressed is not None:
                    out[pos + comp_at + 4 : pos + comp_at + 8] = struct.pack("<I", uncompressed)
            pos = out.find(sig, pos + 1)
    return bytes(out)


def test_a_valid_crafted_file_loads(tmp_path):
    # the helpers themselves build a loadable file, so the failures below are the attacks'
    blob = npy(np.arange(6.0).reshape(2, 3))
    assert load(one_array(tmp_path / "ok.gk", blob, "<f8", [2, 3])).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_every_layout_and_numeric_dtype_still_round_trips(tmp_path):
    # the loader parses .npy headers itself now: Fortran order, byte order, 0-d, empty, views
    objs = {
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "big_endian": np.arange(4, dtype=">i4"),
        "zero_d": np.array(2.5),
        "empty": np.zeros((0, 3)),
        "bool": np.array([True, False]),
        "complex": np.array([1 + 2j], np.complex64),
        "half": np.ones(3, np.float16),
        "strided": np.arange(10.0)[::2],
        "transposed": gk.arange(6.0).reshape(2, 3).t(),
    }
    save(objs, tmp_path / "a.gk")
    back = load(tmp_path / "a.gk")
    for k, v in objs.items():
        got = back[k].numpy() if isinstance(back[k], gk.Tensor) else back[k]
        want = v.numpy() if isinstance(v, gk.Tensor) else v
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want), k
        assert got.flags.writeable, k


def test_deflate_bomb_is_refused_without_inflating(tmp_path):
    # 64 MiB of zeros in ~64 KiB; the manifest tells the truth about it
    n = 8 << 20
    header = npy_header("<f8", (n,))
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = comp.compress(header) + b"".join(comp.compress(bytes(1 << 20)) for _ in range(n * 8 >> 20))
    body += comp.flush()
    assert len(body) < 200_000
    m = manifest({"tensor": 0}, [{"dtype": "<f8", "shape": [n], "sha256": "0" * 64}])
    path = craft(tmp_path / "bomb.gk", m, [("arrays/0.npy", b"")])
    data = path.read_bytes()
    # splice the deflate stream in as the member's data, marked deflated with its true sizes
    at = data.find(b"PK\x03\x04", data.find(b"arrays/0.npy") - 30 - 20)
    local = bytearray(data[at : at + 30 + len("arrays/0.npy")])
    local[8:10] = struct.pack("<H", zipfile.ZIP_DEFLATED)
    local[14:26] = struct.pack("<III", zlib.crc32(header + bytes(n * 8)), len(body), len(header) + n * 8)
    rest = data[at + len(local) :]
    cd = rest.find(b"PK\x01\x02")
    central = bytearray(rest[cd:])
    pos = central.find(b"arrays/0.npy") - 46
    central[pos + 10 : pos + 12] = struct.pack("<H", zipfile.ZIP_DEFLATED)
    central[pos + 16 : pos + 28] = local[14:26]
    eocd = central.rfind(b"PK\x05\x06")
    central[eocd + 16 : eocd + 20] = struct.pack("<I", at + len(local) + len(body))
    path.write_bytes(data[:at] + bytes(local) + body + bytes(central))
    with zipfile.ZipFile(path) as z:  # the bomb is real: zipfile would inflate it
        assert z.getinfo("arrays/0.npy").file_size == len(header) + n * 8
    assert "compressed" in load_bounded(path)


def test_compressed_manifest_is_refused(tmp_path):
    m = manifest({"str": "x" * 100}, [])
    with zipfile.ZipFile(tmp_path / "c.gk", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("gradkit.json", m)
        z.writestr("gradkit.sha256", sha(m))
    assert "compressed" in load_bounded(tmp_path / "c.gk")


@pytest.mark.parametrize("declared", [0xFFFFFFF0, 1 << 31, 10_000])
def test_lying_member_sizes_are_refused_before_reading(tmp_path, declared):
    path = tmp_path / "t.gk"
    save({"w": gk.arange(100.0)}, path)
    data = patch_sizes(path.read_bytes(), b"arrays/0.npy", declared, declared)
    (tmp_path / "lie.gk").write_bytes(data)
    assert "more than the file holds" in load_bounded(tmp_path / "lie.gk")


def test_stored_sizes_that_disagree_are_refused(tmp_path):
    path = tmp_path / "t.gk"
    save({"w": gk.arange(100.0)}, path)
    data = patch_sizes(path.read_bytes(), b"arrays/0.npy", None, 1 << 30)
    (tmp_path / "lie.gk").write_bytes(data)
    assert "declares 1073741824 bytes but stores" in load_bounded(tmp_path / "lie.gk")


@pytest.mark.parametrize(
    "shape, why",
    [
        ([1 << 40, 1 << 40], "declares shape"),
        ([1 << 62] * 4, "declares shape"),  # the product overflows int64
        ([-1], "invalid shape"),
        ([2.0], "invalid shape"),
        ([True], "invalid shape"),
        ("3", "invalid shape"),
        ([1] * 65, "invalid shape"),
    ],
)
def test_huge_or_invalid_shapes(tmp_path, shape, why):
    blob = npy(np.zeros(3))
    assert why in load_bounded(one_array(tmp_path / "s.gk", blob, "<f8", shape))


def test_npy_header_that_disagrees_with_the_manifest(tmp_path):
    # the manifest says 3 values, the .npy header 2**40: refused before allocating anything
    blob = npy(np.zeros(3))
    big = npy_header("<f8", (1 << 40,)) + bytes(24)
    other = npy_header("<i8", (3,)) + bytes(24)
    for bad in (big, other, blob[:-8], blob + bytes(8)):
        assert "match" in load_bounded(one_array(tmp_path / "h.gk", bad, "<f8", [3]))


@pytest.mark.parametrize(
    "arr",
    [
        np.array(["ab", "c"]),
        np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]),
        np.array(["2020-01-01"], dtype="M8[D]"),
        np.array([3], dtype="m8[s]"),
        np.zeros(2, dtype="V8"),
    ],
    ids=["unicode", "structured", "datetime", "timedelta", "void"],
)
def test_non_numeric_dtypes(tmp_path, arr):
    blob = npy(arr)
    msg = load_bounded(one_array(tmp_path / "d.gk", blob, arr.dtype.str, list(arr.shape)))
    assert "only bool, integer, float and complex" in msg or "invalid dtype" in msg


@pytest.mark.parametrize(
    "code", ["|O", "<U99999999999", "nonsense", 3, None, "f8,f8", "(2,)<f8", "<f8" * 10_000]
)
def test_object_and_garbage_dtype_strings(tmp_path, code):
    blob = npy(np.zeros(3))
    load_bounded(one_array(tmp_path / "o.gk", blob, code, [3]))


def test_deeply_nested_manifest_is_not_a_recursion_error(tmp_path):
    for depth in (300, 100_000):
        raw = b'{"format":"gradkit.save","version":1,"arrays":[],"tree":' + b'{"list":[' * depth
        raw += b"]}" * depth + b"}"
        assert "nested too deeply" in load_bounded(craft(tmp_path / f"n{depth}.gk", raw, []), 32 << 20)


@pytest.mark.parametrize(
    "name",
    ["../evil.npy", "arrays/../../evil.npy", "/abs.npy", "arrays/00.npy", "arrays/1.npy.bak", "data.pkl"],
)
def test_unexpected_member_names(tmp_path, name):
    blob = npy(np.zeros(3))
    m = manifest({"tensor": 0}, [{"dtype": "<f8", "shape": [3], "sha256": sha(blob)}])
    path = craft(tmp_path / "p.gk", m, [("arrays/0.npy", blob), (name, b"x")])
    assert "unexpected member" in load_bounded(path)


def test_duplicate_and_extra_and_missing_members(tmp_path):
    blob = npy(np.zeros(3))
    spec = {"dtype": "<f8", "shape": [3], "sha256": sha(blob)}
    m = manifest({"tensor": 0}, [spec])
    path = craft(tmp_path / "dup.gk", m, [("arrays/0.npy", blob), ("arrays/0.npy", blob)])
    assert "appears twice" in load_bounded(path)
    path = craft(tmp_path / "extra.gk", m, [("arrays/0.npy", blob), ("arrays/1.npy", blob)])
    assert "not in the manifest" in load_bounded(path)
    path = craft(tmp_path / "missing.gk", manifest({"tensor": 0}, [spec, spec]), [("arrays/0.npy", blob)])
    assert "array 1 is missing" in load_bounded(path)


def test_too_many_members(tmp_path, monkeypatch):
    import gradkit.io as gio

    path = tmp_path / "t.gk"
    save([gk.zeros(1) for _ in range(5)], path)
    assert len(load(path)) == 5
    monkeypatch.setattr(gio, "_MAX_MEMBERS", 4)
    assert "members (at most 4)" in load_bounded(path)


def test_overlapping_members(tmp_path):
    # two directory entries point at the same bytes (a classic zip-bomb trick)
    blob = npy(np.zeros(3))
    spec = {"dtype": "<f8", "shape": [3], "sha256": sha(blob)}
    path = craft(
        tmp_path / "o.gk",
        manifest({"list": [{"tensor": 0}, {"tensor": 1}]}, [spec, spec]),
        [("arrays/0.npy", blob), ("arrays/1.npy", blob)],
    )
    data = bytearray(path.read_bytes())
    offsets = {}
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        n = struct.unpack("<H", data[pos + 28 : pos + 30])[0]
        offsets[bytes(data[pos + 46 : pos + 46 + n])] = pos
        pos = data.find(b"PK\x01\x02", pos + 1)
    a = offsets[b"arrays/0.npy"]
    data[offsets[b"arrays/1.npy"] + 42 : offsets[b"arrays/1.npy"] + 46] = data[a + 42 : a + 46]
    (tmp_path / "o2.gk").write_bytes(bytes(data))
    assert "overlap" in load_bounded(tmp_path / "o2.gk")


def test_encrypted_member(tmp_path):
    path = tmp_path / "t.gk"
    save({"w": gk.arange(3.0)}, path)
    data = bytearray(path.read_bytes())
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = data.find(sig)
        while pos >= 0:
            data[pos + at] |= 1
            pos = data.find(sig, pos + 1)
    (tmp_path / "e.gk").write_bytes(bytes(data))
    assert "encrypted" in load_bounded(tmp_path / "e.gk")


@pytest.mark.parametrize("kind", ["tensor", "parameter"])
def test_integer_arrays_that_require_grad_and_odd_flags(tmp_path, kind):
    blob = npy(np.arange(3))
    spec = [{"dtype": np.arange(3).dtype.str, "shape": [3], "sha256": sha(blob)}]
    for flag, why in ((True, "cannot require gradients"), ([1], "invalid requires_grad"), ("yes", "invalid")):
        path = craft(
            tmp_path / "g.gk", manifest({kind: 0, "requires_grad": flag}, spec), [("arrays/0.npy", blob)]
        )
        assert why in load_bounded(path)
    path = craft(
        tmp_path / "ok.gk", manifest({kind: 0, "requires_grad": False}, spec), [("arrays/0.npy", blob)]
    )
    assert load(path).tolist() == [0, 1, 2]


def test_huge_integer_and_bad_float_leaves(tmp_path):
    for leaf in ({"int": "9" * 100_000}, {"float": "0xnope"}, {"int": "1e5"}):
        load_bounded(craft(tmp_path / "i.gk", manifest(leaf, []), []))


def test_a_directory_or_missing_path_is_an_os_error_as_in_torch(tmp_path):
    with pytest.raises(IsADirectoryError if os.name != "nt" else PermissionError):
        load(tmp_path)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.gk")


# --------------------------------------------------------------------------- saving
KILLED_SAVE = """
import os, sys
sys.path.insert(0, {root!r})
import gradkit as gk
from gradkit import io
os.replace = lambda *a: os._exit(3)      # dies between writing the temporary file and renaming it
io.save({{"w": gk.ones(10)}}, {path!r})
"""


def test_a_killed_save_leaves_nothing_after_the_next_save(tmp_path):
    path = tmp_path / "state.gk"
    save({"w": gk.zeros(3)}, path)
    code = KILLED_SAVE.format(root=str(ROOT), path=str(path))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert r.returncode == 3, r.stderr
    orphans = [p for p in os.listdir(tmp_path) if p != "state.gk"]
    assert len(orphans) == 1 and orphans[0].endswith(".gradkit-tmp")  # what a kill leaves
    assert load(path)["w"].tolist() == [0.0, 0.0, 0.0]  # the old file is intact
    save({"w": gk.ones(2)}, path)
    assert os.listdir(tmp_path) == ["state.gk"]
    assert load(path)["w"].tolist() == [1.0, 1.0]


def test_temporaries_of_live_writers_and_other_files_are_kept(tmp_path):
    path = tmp_path / "state.gk"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        keep = [
            f".state.gk.{live.pid}.0123456789ab.gradkit-tmp",  # a save in progress elsewhere
            f".state.gk.{os.getpid()}.0123456789ab.gradkit-tmp",  # another thread of ours
            ".state.gk.notapid.0123456789ab.gradkit-tmp",
            ".other.gk.99999999.0123456789ab.gradkit-tmp",  # another target's
            "state.gk.bak",
        ]
        for name in keep:
            (tmp_path / name).write_bytes(b"x")
        save({"w": gk.ones(1)}, path)
        assert sorted(os.listdir(tmp_path)) == sorted(keep + ["state.gk"])
    finally:
        live.kill()
        live.wait()


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_saved_files_get_the_umask_mode_or_keep_the_old_one(tmp_path):
    old = os.umask(0o022)
    try:
        save([1], tmp_path / "a.gk")
        os.umask(0o077)
        save([1], tmp_path / "b.gk")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "a.gk").st_mode & 0o777 == 0o644
    assert os.stat(tmp_path / "b.gk").st_mode & 0o777 == 0o600
    os.chmod(tmp_path / "a.gk", 0o640)
    save([2], tmp_path / "a.gk")  # replacing a file keeps its mode, as writing it in place would
    assert os.stat(tmp_path / "a.gk").st_mode & 0o777 == 0o640 and load(tmp_path / "a.gk") == [2]


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_saving_through_a_symlink_writes_its_target(tmp_path):
    (tmp_path / "real.gk").write_bytes(b"")
    os.symlink(tmp_path / "real.gk", tmp_path / "link.gk")
    save({"a": 1}, tmp_path / "link.gk")
    assert os.path.islink(tmp_path / "link.gk") and load(tmp_path / "real.gk") == {"a": 1}
