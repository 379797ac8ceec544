"""``gradkit.testing.make_tensor`` (``torch.testing.make_tensor``; its docstring is in the
survey of PyTorch's documentation, issue #17).

The ranges, defaults and messages are PyTorch 2.13's (its docstring's table; messages
recorded); the values are random, so what is checked is where they fall.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.testing import make_tensor


def test_floating_default_and_given_ranges():
    gk.manual_seed(0)
    t = make_tensor((200,), dtype=gk.float32, device="cpu")
    a = t.numpy()
    assert t.dtype == gk.float32 and t.shape == (200,) and not t.requires_grad
    assert a.min() >= -9 and a.max() < 9 and a.std() > 3        # spread over [-9, 9)
    u = make_tensor(3, 4, dtype=gk.float64, low=-1, high=1, requires_grad=True)
    assert u.shape == (3, 4) and u.requires_grad and u.is_leaf
    assert (np.abs(u.detach().numpy()) <= 1).all()


def test_integer_bool_and_complex():
    i = make_tensor((500,), dtype=gk.int64, device="cpu").numpy()
    assert i.min() >= -9 and i.max() <= 9 and set(np.unique(i)) == set(range(-9, 10))
    u8 = make_tensor((300,), dtype=gk.uint8).numpy()
    assert u8.min() >= 0 and u8.max() <= 9
    b = make_tensor((2, 2), dtype=gk.bool)
    assert b.dtype == gk.bool and b.shape == (2, 2)
    c = make_tensor((100,), dtype=gk.complex64, low=0, high=2).numpy()
    assert (c.real >= 0).all() and (c.real < 2).all() and (c.imag >= 0).all() and (c.imag < 2).all()


def test_noncontiguous_and_exclude_zero():
    t = make_tensor((3, 4), dtype=gk.float32, noncontiguous=True)
    assert t.shape == (3, 4) and not t.is_contiguous()
    z = make_tensor((400,), dtype=gk.int32, low=-1, high=2, exclude_zero=True).numpy()
    assert 0 not in z and set(np.unique(z)) <= {-1, 1}


def test_errors_are_pytorchs():
    with pytest.raises(ValueError, match=r"`low` must be less than `high`, but got 2 >= 1"):
        make_tensor((2,), dtype=gk.float32, low=2, high=1)
    with pytest.raises(ValueError, match=r"`requires_grad=True` is not supported for boolean"):
        make_tensor((2,), dtype=gk.int64, requires_grad=True)
    with pytest.raises(ValueError, match=r"The value interval specified by `low` and `high` is \[300, 400\), "
                                         r"but torch.uint8 only supports \[0, 256\)"):
        make_tensor((2,), dtype=gk.uint8, low=300, high=400)
    with pytest.raises(ValueError, match="`low` and `high` cannot be NaN"):
        make_tensor((2,), dtype=gk.float32, low=float("nan"))


def test_matches_torch_errors_live():
    torch = pytest.importorskip("torch")
    for kw in ({"low": 2, "high": 1}, {"low": 300, "high": 400}):
        with pytest.raises(ValueError) as want:
            torch.testing.make_tensor((2,), dtype=torch.uint8, device="cpu", **kw)
        with pytest.raises(ValueError) as got:
            make_tensor((2,), dtype=gk.uint8, device="cpu", **kw)
        assert str(got.value) == str(want.value)
