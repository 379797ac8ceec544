"""``Tensor.grad_dtype`` (PyTorch 2.13): the dtype a leaf's gradients are cast to as they
accumulate, ``None`` for any. Expected values and messages recorded from PyTorch 2.13."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


class _Double(gk.autograd.Function):
    """An identity whose backward hands back a float64 gradient."""

    @staticmethod
    def forward(ctx, a):
        return a.clone()

    @staticmethod
    def backward(ctx, g):
        return g.double()


def test_default_is_the_tensors_dtype_and_gradients_are_cast_to_it():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    assert x.grad_dtype == gk.float32
    _Double.apply(x).sum().backward()
    assert x.grad.dtype == gk.float32
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_set_dtype_casts_incoming_gradients():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    x.grad_dtype = gk.float64
    (x * 2).sum().backward()
    assert x.grad.dtype == gk.float64
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    (x * 3).sum().backward()                    # accumulation stays in float64
    assert x.grad.dtype == gk.float64
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_none_keeps_whatever_dtype_arrives():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    x.grad_dtype = None
    assert x.grad_dtype is None
    _Double.apply(x).sum().backward()
    assert x.grad.dtype == gk.float64


def test_half_grad_dtype():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    w.grad_dtype = gk.float16
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    assert w.grad.dtype == gk.float16
    np.testing.assert_array_equal(w.grad.numpy(), np.array([6.0, 6.0], np.float16))


def test_errors_match_pytorch():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad_dtype can only be accessed on leaf tensors."):
        _ = y.grad_dtype
    with pytest.raises(RuntimeError, match="grad_dtype can only be set on leaf tensors."):
        y.grad_dtype = gk.float16
    with pytest.raises(RuntimeError, match="grad_dtype must be a torch.dtype or None, but got str"):
        x.grad_dtype = "a"
    (x * 2).sum().backward()
    with pytest.raises(RuntimeError, match="Cannot set grad_dtype to 'Half' because there is "
                                           "already a gradient with dtype 'float'"):
        x.grad_dtype = gk.float16
    x.grad = None
    x.grad_dtype = gk.float16
    with pytest.raises(RuntimeError, match="attempting to assign a gradient with dtype 'float' to "
                                           "a tensor with grad_dtype 'Half'"):
        x.grad = gk.ones(2)


def test_matches_live_torch():
    torch = pytest.importorskip("torch")
    for mod in (torch, gk):
        x = mod.tensor([1.0, 2.0], requires_grad=True)
        x.grad_dtype = mod.float64
        (x * x).sum().backward()
        assert str(x.grad.dtype) == "torch.float64"
        np.testing.assert_array_equal(x.grad.detach().numpy(), [2.0, 4.0])


def test_compiled_step_writes_the_grad_dtype_eager_writes():
    w = gk.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        (w * x).sum().backward()
        return w.grad

    c = gk.compile(step)
    for want in (gk.float64, None, gk.float16, gk.float32):
        w.grad = None
        w.grad_dtype = want
        for _ in range(3):                  # trace, then replays (accumulating)
            c(gk.tensor([1.0, 3.0]))
        assert w.grad.dtype == (gk.float32 if want is None else want)
        np.testing.assert_array_equal(w.grad.numpy().astype(np.float64), [3.0, 9.0])
