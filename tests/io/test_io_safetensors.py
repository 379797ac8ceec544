"""safetensors: gradkit.save/load in the format of the ``safetensors`` package, checked against it."""

from __future__ import annotations

import importlib.util
import io
import json
import struct

import numpy as np
import pytest

import gradkit as gk
from gradkit.io import SerializationError


def _raw(header: dict, data: bytes, pad: bool = True) -> bytes:
    h = json.dumps(header).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def test_known_bytes_layout(tmp_path):
    # the format spelled out by hand: header length, JSON header, raw little-endian data
    p = tmp_path / "a.safetensors"
    gk.save({"x": gk.tensor([1.0, 2.0], dtype=gk.float32)}, p, metadata={"k": "v"})
    raw = p.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n])
    assert header == {"__metadata__": {"k": "v"}, "x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
    assert raw[8 + n:] == np.array([1.0, 2.0], dtype="<f4").tobytes()


def test_roundtrip_dtypes_and_metadata(tmp_path):
    p = tmp_path / "m.safetensors"
    sd = {"f64": gk.tensor([[1.5, -2.0]], dtype=gk.float64), "f16": gk.tensor([0.5], dtype=gk.float16),
          "i64": gk.arange(6).reshape(2, 3), "i8": gk.tensor([-3, 4], dtype=gk.int8),
          "u8": gk.tensor([0, 255], dtype=gk.uint8), "b": gk.tensor([True, False]), "empty": gk.zeros(0, 4)}
    gk.save(sd, p, metadata={"format": "pt"})
    back, meta = gk.io.load_safetensors(p, with_metadata=True)
    assert meta == {"format": "pt"}
    assert set(back) == set(sd)
    for k, v in sd.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape
        assert np.array_equal(back[k].numpy(), v.numpy())
    assert set(gk.load(p)) == set(sd)  # gk.load recognises the format by its first bytes


def test_nested_object_is_refused_clearly(tmp_path):
    p = tmp_path / "opt.safetensors"
    with pytest.raises(TypeError, match="zip format"):
        gk.save({"state": {"step": 1}}, p)
    with pytest.raises(TypeError, match="flat dict"):
        gk.save([gk.zeros(2)], p)
    assert not p.exists() and list(tmp_path.iterdir()) == []  # nothing half-written
    gk.save({"state": {"step": 1}}, tmp_path / "opt.pt")  # other extensions keep the zip format
    assert gk.load(tmp_path / "opt.pt") == {"state": {"step": 1}}


@pytest.mark.parametrize("header,data,why", [
    ({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "accounts for|data is"),
    ({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, "needs 12 bytes"),
    ({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
      "y": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8, "contiguous"),
    ({"x": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "contiguous"),
    ({"x": {"dtype": "O", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8, "unsupported dtype"),
    ({"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4, "invalid shape"),
    ({"x": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}, b"\0" * 4, "invalid data_offsets"),
    ({"__metadata__": {"a": 1}}, b"", "str to str"),
    ({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "extra": 1}}, b"\0" * 4, "exactly"),
])
def test_hostile_headers(header, data, why):
    with pytest.raises(SerializationError, match=why):
        gk.load(io.BytesIO(_raw(header, data)))


def test_hostile_sizes():
    with pytest.raises(SerializationError, match="limit"):
        gk.io.load_safetensors(io.BytesIO(struct.pack("<Q", 1 << 40) + b"{}"))
    with pytest.raises(SerializationError, match="past the end"):
        gk.io.load_safetensors(io.BytesIO(struct.pack("<Q", 100) + b"{}"))
    with pytest.raises(SerializationError, match="duplicate"):
        x = b'"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}'
        h = b"{" + x + b"," + x + b"}"
        gk.io.load_safetensors(io.BytesIO(struct.pack("<Q", len(h)) + h + b"\0"))
    with pytest.raises(SerializationError, match="not valid JSON"):
        gk.io.load_safetensors(io.BytesIO(struct.pack("<Q", 3) + b"{x}"))


def test_reads_files_of_the_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    p = tmp_path / "n.safetensors"
    arrays = {"a": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.array([1, -2], dtype=np.int16),
              "c": np.array([7], dtype=np.uint8), "d": np.array([[1 + 2j]], dtype=np.complex64)}
    st.save_file(arrays, str(p), metadata={"who": "numpy"})
    back, meta = gk.io.load_safetensors(p, with_metadata=True)
    assert meta == {"who": "numpy"}
    for k, a in arrays.items():
        assert back[k].numpy().dtype == a.dtype and np.array_equal(back[k].numpy(), a)
    # and the package reads gradkit's files
    q = tmp_path / "g.safetensors"
    gk.save({k: gk.from_numpy(a) for k, a in arrays.items()}, q)
    again = st.load_file(str(q))
    for k, a in arrays.items():
        assert again[k].dtype == a.dtype and np.array_equal(again[k], a)


def test_roundtrip_with_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    from safetensors import safe_open

    p = tmp_path / "t.safetensors"
    sd = {"w": torch.randn(3, 4), "b": torch.arange(5), "h": torch.randn(2).half(), "m": torch.tensor([True]),
          "bf": torch.tensor([1.5, -3.0, 1e30]).bfloat16(), "d": torch.randn(2, 2, dtype=torch.float64)}
    st.save_file(sd, str(p), metadata={"format": "pt"})
    if importlib.util.find_spec("ml_dtypes") is None:      # BF16 widened to float32, said so
        with pytest.warns(UserWarning, match="pip install ml_dtypes"):
            back, meta = gk.io.load_safetensors(p, with_metadata=True)
    else:                                                   # BF16 stays bfloat16
        back, meta = gk.io.load_safetensors(p, with_metadata=True)
        assert back["bf"].dtype is gk.bfloat16
    assert meta == {"format": "pt"}
    for k, v in sd.items():
        ref = v.float().numpy() if k == "bf" else v.numpy()
        got = back[k].float().numpy() if k == "bf" else back[k].numpy()
        assert got.dtype == ref.dtype and np.array_equal(got, ref), k
    # a gradkit model's state_dict loads in PyTorch
    model = gk.nn.Linear(3, 2)
    q = tmp_path / "model.safetensors"
    gk.save(model.state_dict(), q, metadata={"by": "gradkit"})
    loaded = st.load_file(str(q))
    tm = torch.nn.Linear(3, 2)
    tm.load_state_dict(loaded)
    assert torch.equal(tm.weight.detach(), torch.from_numpy(model.weight.detach().numpy()))
    with safe_open(str(q), framework="pt") as f:
        assert f.metadata() == {"by": "gradkit"}


def test_unsigned_big_endian_and_strided_arrays_roundtrip(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    p, q = tmp_path / "u.safetensors", tmp_path / "g.safetensors"
    # uint16/uint64 come back as themselves (as in PyTorch), the full range of uint64 included
    arrays = {"u16": np.array([1, 65535], np.uint16), "u64": np.array([2**63 + 5], np.uint64)}
    st.save_file(arrays, str(p))
    loaded = gk.load(p)
    assert loaded["u16"].dtype == gk.uint16 and loaded["u16"].tolist() == [1, 65535]
    assert loaded["u64"].dtype == gk.uint64 and loaded["u64"].tolist() == [2**63 + 5]
    gk.save(loaded, q)  # through gradkit and back
    again = st.load_file(str(q))
    for k, a in arrays.items():
        assert again[k].dtype == a.dtype and np.array_equal(again[k], a)
    big = np.arange(6, dtype=">f8").reshape(2, 3)[:, ::2]  # big-endian, not contiguous
    gk.save({"b": big}, q)
    out = st.load_file(str(q))["b"]
    assert out.dtype == np.float64 and np.array_equal(out, big)
