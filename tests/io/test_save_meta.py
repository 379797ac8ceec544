"""Meta tensors save and load as PyTorch's do (dtype and shape, no values); a crafted meta entry
is refused like any other malformed entry."""
import io
import json
import zipfile

import pytest

import gradkit as gk
from gradkit.io import SerializationError


def _roundtrip(obj):
    buf = io.BytesIO()
    gk.save(obj, buf)
    buf.seek(0)
    return gk.load(buf)


def test_meta_tensors_and_parameters_round_trip():
    w = gk.empty(3, 4, dtype=gk.float64, device="meta")
    p = gk.nn.Parameter(gk.empty(2, device="meta"))
    out = _roundtrip({"w": w, "p": p, "x": gk.ones(2)})
    assert out["w"].device.type == "meta" and tuple(out["w"].shape) == (3, 4)
    assert out["w"].dtype == gk.float64 and not out["w"].requires_grad
    assert isinstance(out["p"], gk.nn.Parameter) and out["p"].requires_grad
    assert out["p"].device.type == "meta" and out["x"].tolist() == [1.0, 1.0]


def test_meta_module_state_dict_round_trips():
    sd = gk.nn.Linear(2, 3, device="meta").state_dict()
    out = _roundtrip(sd)
    assert list(out) == ["weight", "bias"]
    assert tuple(out["weight"].shape) == (3, 2) and out["bias"].device.type == "meta"


def _tampered(entry):
    buf = io.BytesIO()
    gk.save({"w": gk.empty(2, device="meta")}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    manifest = json.loads(src.read("gradkit.json"))
    manifest["tree"]["dict"][0][1] = entry
    raw = json.dumps(manifest, separators=(",", ":")).encode()
    import hashlib

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("gradkit.json", raw)
        z.writestr("gradkit.sha256", hashlib.sha256(raw).hexdigest())
    out.seek(0)
    return out


@pytest.mark.parametrize("entry", [
    {"meta": {"kind": "tensor", "dtype": "|O", "shape": [2]}, "requires_grad": False},
    {"meta": {"kind": "tensor", "dtype": "<f4", "shape": [-1]}, "requires_grad": False},
    {"meta": {"kind": "tensor", "dtype": "<f4", "shape": [1] * 65}, "requires_grad": False},
    {"meta": {"kind": "tensor", "dtype": "<i8", "shape": [2]}, "requires_grad": True},
    {"meta": {"kind": "module", "dtype": "<f4", "shape": [2]}, "requires_grad": False},
    {"meta": {"kind": "tensor", "dtype": "<f4", "shape": [2.5]}, "requires_grad": False},
])
def test_crafted_meta_entries_are_refused(entry):
    with pytest.raises(SerializationError):
        gk.load(_tampered(entry))


def test_the_tampering_helper_keeps_a_valid_file_valid():
    entry = {"meta": {"kind": "tensor", "dtype": "<f4", "shape": [5]}, "requires_grad": True}
    out = gk.load(_tampered(entry))
    assert tuple(out["w"].shape) == (5,) and out["w"].requires_grad
