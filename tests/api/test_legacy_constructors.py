"""PyTorch's legacy spellings: typed constructors, autograd.Variable, size= factories, and the
arguments PyTorch refuses (values recorded from torch 2.13)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import Variable


@pytest.mark.parametrize("name,dtype", [("FloatTensor", gk.float32), ("DoubleTensor", gk.float64),
                                        ("HalfTensor", gk.float16), ("LongTensor", gk.int64),
                                        ("IntTensor", gk.int32), ("ShortTensor", gk.int16),
                                        ("CharTensor", gk.int8), ("ByteTensor", gk.uint8),
                                        ("BoolTensor", gk.bool)])
def test_typed_constructors(name: str, dtype) -> None:
    cls = getattr(gk, name)
    t = cls([1, 0, 1])
    assert t.dtype is dtype and t.tolist() == [1, 0, 1]
    assert cls(2, 3).shape == (2, 3) and cls(2, 3).dtype is dtype      # sizes
    assert cls().shape == (0,)
    assert isinstance(t, cls) and not isinstance(gk.zeros(1, dtype=gk.complex64), cls)


def test_long_tensor_truncates_and_checks_type() -> None:
    assert gk.LongTensor([1.7, 2.2]).tolist() == [1, 2]                # torch: tensor([1, 2])
    assert isinstance(gk.zeros(2), gk.FloatTensor)
    assert not isinstance(gk.zeros(2, dtype=gk.float64), gk.FloatTensor)
    with pytest.raises(TypeError):
        gk.LongTensor(gk.ones(2))                                      # torch: TypeError


def test_variable() -> None:
    t = gk.ones(2)
    assert Variable(t) is t and isinstance(t, Variable)
    v = Variable(t, requires_grad=True)
    assert v is not t and v.requires_grad and v.is_leaf
    (v * 3).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [3.0, 3.0])


def test_size_keyword_and_out() -> None:
    assert gk.randn(size=(2,)).shape == (2,) and gk.randn(size=()).shape == ()
    assert gk.zeros(size=(2, 3)).shape == (2, 3) and gk.ones(size=[4]).shape == (4,)
    assert gk.rand(size=(1, 2)).shape == (1, 2) and gk.empty(size=(3,)).shape == (3,)
    o = gk.ones(2)
    assert gk.zeros(2, out=o) is o and o.tolist() == [0.0, 0.0]        # out= was ignored before
    with pytest.raises(TypeError):
        gk.zeros(2, size=(2,))


def test_to_refuses_requires_grad() -> None:
    with pytest.raises(TypeError, match="to\\(\\) received an invalid combination of arguments"):
        gk.ones(2).to(requires_grad=True)
