"""PyTorch's ``out=`` on ``matmul``, ``mm``, ``bmm``, ``add``, ``sub``, ``mul``, ``div``, ``cat``
and ``stack`` (the tensors tutorials use ``torch.matmul(a, b, out=c)``); ``cat`` used to accept
``out=`` and ignore it. Errors are PyTorch 2.13's (recorded)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def test_matmul_out_writes_and_returns_out() -> None:
    a = gk.tensor([[1.0, 2.0], [3.0, 4.0]])
    c = gk.zeros(2, 2)
    d = gk.matmul(a, a.T, out=c)
    assert d is c and c._version == 1
    np.testing.assert_array_equal(c.numpy(), [[5.0, 11.0], [11.0, 25.0]])
    gk.mm(a, a, out=c)
    np.testing.assert_array_equal(c.numpy(), [[7.0, 10.0], [15.0, 22.0]])
    b = gk.zeros(1, 2, 2)
    gk.bmm(a[None], a[None], out=b)
    np.testing.assert_array_equal(b.numpy()[0], [[7.0, 10.0], [15.0, 22.0]])


def test_elementwise_out() -> None:
    x = gk.tensor([1.0, 2.0, 4.0])
    z = gk.empty(3)
    assert gk.mul(x, x, out=z) is z
    np.testing.assert_array_equal(z.numpy(), [1.0, 4.0, 16.0])
    gk.add(x, 1, alpha=2, out=z)
    np.testing.assert_array_equal(z.numpy(), [3.0, 4.0, 6.0])
    gk.sub(x, x, out=z)
    np.testing.assert_array_equal(z.numpy(), [0.0, 0.0, 0.0])
    gk.div(x, 2, out=z)
    np.testing.assert_array_equal(z.numpy(), [0.5, 1.0, 2.0])
    w = gk.zeros(3, dtype=gk.float64)          # a float32 result into a float64 out: cast
    gk.mul(x, 3, out=w)
    assert w.dtype == gk.float64
    np.testing.assert_array_equal(w.numpy(), [3.0, 6.0, 12.0])


def test_cat_and_stack_out() -> None:
    out = gk.zeros(3)
    assert gk.cat([gk.ones(2), gk.tensor([5.0])], out=out) is out
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0, 5.0])
    s = gk.zeros(2, 2)
    gk.stack([gk.ones(2), gk.tensor([2.0, 3.0])], out=s)
    np.testing.assert_array_equal(s.numpy(), [[1.0, 1.0], [2.0, 3.0]])


def test_out_refused_when_autograd_would_record() -> None:
    a = gk.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mul\(\): functions with out=\.\.\. arguments don't "
                                           "support automatic differentiation, but one of the "
                                           "arguments requires grad."):
        gk.mul(a, a, out=gk.zeros(2))
    with pytest.raises(RuntimeError, match="cat"):
        gk.cat([a, a], out=gk.zeros(4))
    c = gk.zeros(2)
    with gk.no_grad():
        gk.mul(a, a, out=c)
    assert not c.requires_grad
    np.testing.assert_array_equal(c.numpy(), [1.0, 1.0])


def test_out_casting_and_shape_errors() -> None:
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output "
                                           "type Long"):
        gk.mul(gk.ones(2), 2, out=gk.zeros(2, dtype=gk.int64))
    # PyTorch resizes a non-empty out= of the wrong shape, with its deprecation warning
    o = gk.zeros(3)
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        r = gk.matmul(gk.ones(2, 2), gk.ones(2), out=o)
    assert r is o and o.tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="'out' must be Tensor"):
        gk.add(gk.ones(2), 1, out=[0.0, 0.0])


def test_cat_of_a_zero_dimensional_tensor_is_pytorchs_error() -> None:
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 1\) cannot be "
                                           "concatenated"):
        gk.cat([gk.ones(2), gk.tensor(2.0)])


def test_inplace_methods_refuse_out() -> None:
    with pytest.raises(TypeError, match=r"add_\(\) got an unexpected keyword argument 'out'"):
        gk.ones(2).add_(2, out=gk.zeros(2))
