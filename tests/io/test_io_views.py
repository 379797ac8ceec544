"""gradkit.save/load keep views' sharing, as PyTorch's serialization note shows: a view and
its base saved together share memory again after loading; a view saved alone brings its
base's elements. Files with views are format version 2; crafted view entries that reach
outside their array, or appear in a version-1 file, are refused."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import gradkit as gk
from gradkit.io import SerializationError, load, save

from tests.io.test_io_hostile import craft, npy, sha


def _version(path) -> int:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("gradkit.json"))["version"]


def test_saved_views_share_memory_after_loading(tmp_path) -> None:
    numbers = gk.arange(1, 10)
    evens = numbers[1::2]
    save([numbers, evens], tmp_path / "t.gk")
    loaded_numbers, loaded_evens = load(tmp_path / "t.gk")
    loaded_evens *= 2
    # the serialization note's output: evens doubled in place inside numbers
    assert loaded_numbers.tolist() == [1, 4, 3, 8, 5, 12, 7, 16, 9]
    assert numbers.tolist() == list(range(1, 10))
    assert _version(tmp_path / "t.gk") == 2


def test_transposes_rows_and_a_view_alone(tmp_path) -> None:
    x = gk.tensor(np.arange(12.0).reshape(3, 4))
    save({"t": x.t(), "row": x[1], "x": x}, tmp_path / "v.gk")
    d = load(tmp_path / "v.gk")
    assert d["t"].tolist() == np.arange(12.0).reshape(3, 4).T.tolist()
    d["x"][1, 2] = -1.0
    assert d["t"][2, 1].item() == -1.0 and d["row"][2].item() == -1.0
    small = gk.arange(1, 1000)[0:5]
    save(small, tmp_path / "s.gk")
    loaded = load(tmp_path / "s.gk")
    assert loaded.tolist() == [1, 2, 3, 4, 5] and loaded._base.numel() == 999
    save(small.clone(), tmp_path / "c.gk")
    assert load(tmp_path / "c.gk")._base is None and _version(tmp_path / "c.gk") == 1


def test_views_that_are_stored_as_copies(tmp_path) -> None:
    w = gk.ones(4, requires_grad=True)
    expanded = gk.ones(3).expand(4, 3)            # more elements than its base
    save([w[1:], expanded], tmp_path / "g.gk")
    a, b = load(tmp_path / "g.gk")
    assert a._base is None and a.requires_grad and a.tolist() == [1.0, 1.0, 1.0]
    assert b.shape == (4, 3) and b.tolist() == [[1.0] * 3] * 4
    assert _version(tmp_path / "g.gk") == 1


def _view_file(path, where, version=2):
    blob = npy(np.arange(6.0))
    m = json.dumps({"format": "gradkit.save", "version": version,
                    "tree": {"tensor": 0, "view": where},
                    "arrays": [{"dtype": "<f8", "shape": [6], "sha256": sha(blob)}]}).encode()
    return craft(path, m, [("arrays/0.npy", blob)])


@pytest.mark.parametrize("where", [[4, [2], [2]], [0, [7], [1]], [-1, [2], [1]], [0, [2], [-1]],
                                   [True, [2], [1]], [0, [2, 2], [1]], [0, [10 ** 6, 10 ** 6], [0, 0]],
                                   "x", [0, [2], [1], 5]])
def test_views_outside_their_array_are_refused(tmp_path, where) -> None:
    with pytest.raises(SerializationError):
        load(_view_file(tmp_path / "bad.gk", where))


def test_view_entries_need_version_2(tmp_path) -> None:
    assert load(_view_file(tmp_path / "ok.gk", [1, [2], [3]])).tolist() == [1.0, 4.0]
    with pytest.raises(SerializationError, match="version 1"):
        load(_view_file(tmp_path / "v1.gk", [1, [2], [3]], version=1))
    with pytest.raises(SerializationError, match="format version 3"):
        load(_view_file(tmp_path / "v3.gk", [1, [2], [3]], version=3))


def test_same_as_torch(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    out = []
    for lib, name in ((torch, "t.pt"), (gk, "g.gk")):
        base = lib.arange(12).reshape(3, 4)
        lib.save([base.t(), base[:, 1], base], tmp_path / name)
        t, col, b = lib.load(tmp_path / name)
        col += 100
        t[0, 2] = -5
        out.append((b.tolist(), t.tolist(), col.tolist()))
    assert out[0] == out[1]
