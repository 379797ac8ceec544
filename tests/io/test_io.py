"""gradkit.save / gradkit.load: round trips, no pickle, atomic writes, clear errors on bad files."""

from __future__ import annotations

import io
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.io import SerializationError, load, save


def test_roundtrip_nested(tmp_path):
    t = gk.tensor([[1.5, -2.0]], dtype=gk.float64)
    scalar = gk.tensor(2.0)
    obj = {
        "t": t,
        "same": t,
        "i": gk.tensor([1, 2]),
        "b": gk.tensor([True, False]),
        "n": None,
        "x": [1, 2.5, float("inf"), "s", True, (3, "a")],
        7: {"deep": [gk.zeros(0)]},
        "od": OrderedDict(z=1, a=2),
        "arr": np.arange(3, dtype=np.int16),
        "big": 2**70,
        "nan": float("nan"),
        "np": np.float32(0.5),
        (1, "k"): "tuple key",
        "rg": gk.ones(2, requires_grad=True),
        "scalar": scalar,
    }
    path = tmp_path / "obj.gk"
    save(obj, path)
    out = load(path)
    assert out["t"].dtype == gk.float64 and out["t"].tolist() == [[1.5, -2.0]]
    assert out["same"] is out["t"]
    assert out["i"].dtype == gk.int64 and out["b"].dtype == gk.bool
    assert out["x"] == [1, 2.5, float("inf"), "s", True, (3, "a")]
    assert isinstance(out["x"][5], tuple) and isinstance(out["x"][0], int)
    assert out[7]["deep"][0].shape == (0,)
    assert type(out["od"]) is OrderedDict and list(out["od"]) == ["z", "a"]
    assert out["arr"].dtype == np.int16 and out["big"] == 2**70 and np.isnan(out["nan"])
    assert out["np"] == 0.5 and out[(1, "k")] == "tuple key"
    assert out["rg"].requires_grad and out["rg"].is_leaf
    assert out["scalar"].shape == () and out["scalar"].item() == 2.0
    buf = io.BytesIO()
    save([gk.tensor(3.0)], buf)
    buf.seek(0)
    assert load(buf)[0].item() == 3.0


def test_model_and_optimizer_checkpoint(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, 2)
    x = gk.randn(8, 3)
    model(x).sum().backward()
    opt.step()
    sched.step()
    path = tmp_path / "ckpt.gk"
    save({"model": model.state_dict(), "optim": opt.state_dict(), "sched": sched.state_dict()}, path)
    ck = load(path)
    model2 = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model2.load_state_dict(ck["model"])
    opt2 = optim.Adam(model2.parameters(), lr=1.0)
    opt2.load_state_dict(ck["optim"])
    model.eval()
    model2.eval()
    np.testing.assert_array_equal(model(x).detach().numpy(), model2(x).detach().numpy())
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["betas"] == (0.9, 0.999)
    assert float(opt2.state[model2[0].weight]["step"]) == 1.0
    assert ck["sched"]["last_epoch"] == 1


def test_parameter_type_survives(tmp_path):
    p = nn.Parameter(gk.ones(2))
    save({"p": p}, tmp_path / "p.gk")
    assert isinstance(load(tmp_path / "p.gk")["p"], nn.Parameter)


def test_no_pickle_and_unsupported_types(tmp_path):
    path = tmp_path / "x.gk"
    with pytest.raises(TypeError, match="cannot store objects of type"):
        save({"f": lambda: 0}, path)
    with pytest.raises(TypeError, match="dtype object"):
        save(np.array([object()]), path)
    assert not path.exists() and os.listdir(tmp_path) == []  # failed save leaves nothing behind
    save(gk.ones(3), path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert b"pickle" not in z.read("gradkit.json")
    assert names == ["gradkit.json", "gradkit.sha256", "arrays/0.npy"]


def test_atomic_overwrite_keeps_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "state.gk"
    save({"v": gk.tensor([1.0])}, path)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        save({"v": gk.tensor([2.0])}, path)
    monkeypatch.undo()
    assert load(path)["v"].tolist() == [1.0]
    assert os.listdir(tmp_path) == ["state.gk"]


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "t.gk"
    save({"w": gk.randn(50, 50)}, path)
    data = path.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 5):
        (tmp_path / "cut.gk").write_bytes(data[:cut])
        with pytest.raises(SerializationError):
            load(tmp_path / "cut.gk")


def test_tampered_array_and_manifest_are_detected(tmp_path):
    path = tmp_path / "t.gk"
    save({"w": gk.arange(100.0)}, path)
    with zipfile.ZipFile(path) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    blob = bytearray(entries["arrays/0.npy"])
    blob[-8] ^= 0xFF
    for name, value in (
        ("arrays/0.npy", bytes(blob)),
        ("gradkit.json", entries["gradkit.json"].replace(b'"w"', b'"v"')),
    ):
        bad = dict(entries, **{name: value})
        with zipfile.ZipFile(tmp_path / "bad.gk", "w") as z:  # rewritten, so zip CRCs are valid
            for n, v in bad.items():
                z.writestr(n, v)
        with pytest.raises(SerializationError, match="checksum mismatch"):
            load(tmp_path / "bad.gk")
    raw = bytearray(path.read_bytes())  # flip a byte in place: zip CRC
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "flip.gk").write_bytes(bytes(raw))
    with pytest.raises(SerializationError):
        load(tmp_path / "flip.gk")


def test_foreign_files(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    with pytest.raises(SerializationError, match="not a valid gradkit file"):
        load(tmp_path / "a.txt")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("data.pkl", b"\x80\x04K\x01.")
    with pytest.raises(SerializationError, match="not a gradkit save file"):
        load(tmp_path / "other.zip")
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(SerializationError):
        load(tmp_path / "a.npy")
    assert issubclass(SerializationError, ValueError)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.gk")


def test_torch_file_is_rejected(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "t.pt")
    with pytest.raises(SerializationError, match="not a gradkit save file"):
        load(tmp_path / "t.pt")
