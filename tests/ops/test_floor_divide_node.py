"""floor_divide records PyTorch's NotImplemented node: its backward refuses with PyTorch's
message, forward mode refuses, and its edges are only the inputs that require grad (#17).
Integer floor division and div(rounding_mode="floor") record no node; remainder's derivative
(which uses the quotient) is unchanged. Expected values from NumPy and PyTorch 2.13."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import forward_ad as fwAD
from gradkit.autograd import gradcheck, gradgradcheck

MSG = "derivative for aten::floor_divide is not implemented"


def _names(out):
    return (type(out.grad_fn).__name__,
            [None if n is None else type(n).__name__ for n, _ in out.grad_fn.next_functions])


def test_node_and_edges():
    x = gk.tensor([3.0, -4.5], requires_grad=True)
    y = gk.tensor([2.0, 0.5], requires_grad=True)
    # recorded from PyTorch 2.13
    assert _names(gk.floor_divide(x * 2, y)) == ("NotImplemented", ["MulBackward0", "AccumulateGrad"])
    assert _names(x // 2) == ("NotImplemented", ["AccumulateGrad"])
    assert _names(gk.floor_divide(x.detach(), y)) == ("NotImplemented", ["AccumulateGrad"])
    np.testing.assert_array_equal((x // y).detach().numpy(), [1.0, -9.0])
    assert "grad_fn=<NotImplemented>" in repr(x // y)


def test_backward_and_forward_mode_refuse():
    x = gk.tensor([3.0, -4.5], requires_grad=True)
    with pytest.raises(RuntimeError, match=MSG):
        (x // 1.5).sum().backward()
    with fwAD.dual_level():
        d = fwAD.make_dual(gk.tensor([1.0, 2.0]), gk.ones(2))
        with pytest.raises(NotImplementedError, match="forward AD with aten::floor_divide"):
            gk.floor_divide(d, 2.0)


def test_integers_and_div_floor_record_no_node():
    a = gk.tensor([-7, 7, 9])
    np.testing.assert_array_equal(gk.floor_divide(a, gk.tensor([2, -2, 4])).numpy(), [-4, -4, 2])
    x = gk.tensor([2.5, -1.0, 0.3], dtype=gk.float64, requires_grad=True)
    q = gk.div(x, 0.7, rounding_mode="floor")
    np.testing.assert_array_equal(q.numpy(), np.floor_divide([2.5, -1.0, 0.3], 0.7))
    assert q.grad_fn is None and not q.requires_grad


def test_remainder_derivatives_unchanged():
    x = gk.tensor([2.5, -1.3, 0.4], dtype=gk.float64, requires_grad=True)
    y = gk.tensor([0.7, 0.6, -0.9], dtype=gk.float64, requires_grad=True)
    assert gradcheck(gk.remainder, (x, y))
    assert gradgradcheck(gk.remainder, (x, y))
    gx, gy = gk.autograd.grad(gk.remainder(x, y).sum(), (x, y))
    np.testing.assert_array_equal(gx.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(gy.numpy(), -np.floor_divide([2.5, -1.3, 0.4], [0.7, 0.6, -0.9]))


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    xt = torch.tensor([3.0, -4.5], requires_grad=True)
    xg = gk.tensor([3.0, -4.5], requires_grad=True)
    ot, og = xt * 3 // 1.25, xg * 3 // 1.25
    assert _names(og) == _names(ot)
    np.testing.assert_array_equal(og.detach().numpy(), ot.detach().numpy())
    with pytest.raises(RuntimeError) as et:
        ot.sum().backward()
    with pytest.raises(RuntimeError) as eg:
        og.sum().backward()
    assert str(eg.value) == str(et.value)
