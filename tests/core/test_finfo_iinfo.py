"""``finfo``/``iinfo`` as PyTorch's: Python numbers, PyTorch's repr and refusals (recorded from
PyTorch 2.13), and against a live PyTorch for every dtype when it is installed."""
from __future__ import annotations

import pytest

import gradkit as gk


def test_values_are_python_numbers_with_pytorchs_repr():
    f = gk.finfo(gk.float16)
    assert type(f.eps) is float and f.eps == 0.0009765625
    assert f.resolution == 0.001 and f.min == -65504.0 and f.bits == 16
    assert f.smallest_normal == 6.103515625e-05 and f.dtype == "float16"
    assert repr(gk.finfo(gk.float32)) == (
        "finfo(resolution=1e-06, min=-3.40282e+38, max=3.40282e+38, eps=1.19209e-07, "
        "smallest_normal=1.17549e-38, tiny=1.17549e-38, dtype=float32)")
    assert repr(gk.finfo(gk.complex128)).endswith("dtype=float64)")
    assert gk.finfo().dtype == "float32"
    i = gk.iinfo(gk.int32)
    assert type(i.max) is int and (i.min, i.max, i.bits) == (-2147483648, 2147483647, 32)
    assert repr(gk.iinfo(gk.uint8)) == "iinfo(min=0, max=255, dtype=uint8)"
    assert repr(gk.iinfo(gk.int64)) == "iinfo(min=-9.22337e+18, max=9.22337e+18, dtype=int64)"
    assert gk.finfo(gk.float16) == gk.finfo(gk.float16) != gk.finfo(gk.float32)


def test_refusals():
    with pytest.raises(TypeError, match=r"torch.finfo\(\) requires a floating point input type"):
        gk.finfo(gk.int32)
    with pytest.raises(TypeError, match=r"torch.iinfo\(\) requires an integer input type"):
        gk.iinfo(gk.float32)
    with pytest.raises(TypeError, match="torch.bool is not supported by torch.iinfo"):
        gk.iinfo(gk.bool)
    with pytest.raises(TypeError, match=r"argument 'type' \(position 1\) must be torch.dtype, "
                                        "not str"):
        gk.finfo("float32")


def test_against_live_torch():
    torch = pytest.importorskip("torch")
    for name in ("float16", "float32", "float64", "complex64", "complex128", "bfloat16"):
        if name == "bfloat16":
            pytest.importorskip("ml_dtypes")
        a, b = torch.finfo(getattr(torch, name)), gk.finfo(getattr(gk, name))
        assert repr(a) == repr(b)
        for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution",
                     "dtype"):
            assert getattr(a, attr) == getattr(b, attr), (name, attr)
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        a, b = torch.iinfo(getattr(torch, name)), gk.iinfo(getattr(gk, name))
        assert repr(a) == repr(b) and (a.min, a.max, a.bits) == (b.min, b.max, b.bits)
