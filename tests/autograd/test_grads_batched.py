"""``autograd.grad(..., is_grads_batched=True)`` and the post-accumulate-grad hook's return
rule; expected values worked by hand and checked against PyTorch 2.13 (same results)."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def test_batched_rows_give_the_jacobian():
    x = gk.ones(3, requires_grad=True)
    w = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * w * x                               # dy_i/dx_i = 2 w_i x_i, dy_i/dw_i = x_i**2
    gx, gw = gk.autograd.grad(y, (x, w), gk.eye(3), is_grads_batched=True)
    np.testing.assert_array_equal(gx.numpy(), np.diag([2.0, 4.0, 6.0]))
    np.testing.assert_array_equal(gw.numpy(), np.eye(3))


def test_batched_hessian_through_create_graph():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = gk.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (h,) = gk.autograd.grad(g, x, gk.eye(3), is_grads_batched=True)
    np.testing.assert_array_equal(h.numpy(), np.diag([6.0, 12.0, 18.0]))


def test_unused_inputs():
    x, z = gk.ones(3, requires_grad=True), gk.ones(2, requires_grad=True)
    assert gk.autograd.grad(x * 2, [x, z], gk.eye(3), is_grads_batched=True,
                            allow_unused=True)[1] is None
    m = gk.autograd.grad(x * 2, [x, z], gk.eye(3), is_grads_batched=True,
                         materialize_grads=True)[1]
    assert tuple(m.shape) == (2,)               # PyTorch's unbatched zeros


def test_post_accumulate_grad_hook_must_return_none():
    x = gk.ones(2, requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(2))
    with pytest.raises(RuntimeError, match="Tensor post accumulate grad hooks should return None."):
        (x * 3).sum().backward()
