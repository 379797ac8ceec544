"""copy_/fill_/zero_ on a tensor with history overwrite it: the old values get a zero gradient
and never reach the new values; ops save only what their rules read (PyTorch's behaviour;
expected values worked out by hand and checked against PyTorch 2.13)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

OLD = [float("inf"), float("nan"), 1.0]


def _history():
    q = gk.tensor(OLD, requires_grad=True)
    return q, q.clone()


def test_copy_from_constant_cuts_the_old_history():
    q, r = _history()
    r.copy_(gk.ones(3))
    assert r.tolist() == [1.0, 1.0, 1.0]          # was kept as clone(q) before
    r.sum().backward()
    assert q.grad.tolist() == [0.0, 0.0, 0.0]       # PyTorch: zeros (was ones)


def test_fill_and_zero_do_not_turn_inf_nan_into_nan():
    q, r = _history()
    r.fill_(2.0)
    assert r.tolist() == [2.0, 2.0, 2.0]            # was [nan, nan, 2] (x * 0 + 2)
    assert r.grad_fn.name() == "FillBackward0"
    r.sum().backward()
    assert q.grad.tolist() == [0.0, 0.0, 0.0]
    q, r = _history()
    r.zero_()
    assert r.tolist() == [0.0, 0.0, 0.0]            # was [nan, nan, 0]
    assert r.grad_fn.name() == "ZeroBackward0"


def test_fill_with_a_tensor_and_copy_broadcast_send_the_gradient_to_the_value():
    q, r = _history()
    s = gk.tensor(3.0, requires_grad=True)
    r.fill_(s)
    (r * gk.arange(3.0)).sum().backward()
    assert s.grad.item() == 3.0                     # 0 + 1 + 2
    assert q.grad.tolist() == [0.0, 0.0, 0.0]
    w = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    z = gk.zeros(2, 3, dtype=gk.float64)
    z.copy_(w)
    assert z.grad_fn.name() == "CopyBackwards"
    (z * gk.tensor([[1.0], [10.0]], dtype=gk.float64)).sum().backward()
    assert w.grad.dtype == gk.float32 and w.grad.tolist() == [11.0, 11.0, 11.0]
    with pytest.raises(RuntimeError, match="0-dimension"):
        gk.zeros(3).fill_(gk.ones(2))


def test_copy_through_a_view_and_double_backward():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y[:2].copy_(x[1:] * 5)
    y.sum().backward(create_graph=True)
    # y = [5 x1, 5 x2, x2^2]: dy/dx = [0, 5, 5 + 2 x2]
    assert x.grad.tolist() == [0.0, 5.0, 11.0]
    (g,) = gk.autograd.grad(x.grad.sum(), x)
    assert g.tolist() == [0.0, 0.0, 2.0]


def test_mul_by_a_number_saves_nothing_so_a_later_inplace_change_is_fine():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    y = a * 2
    y2 = a / 4
    a.add_(1)                                       # PyTorch: no error, the rules are g * 2, g / 4
    (y.sum() + y2.sum()).backward()
    assert x.grad.tolist() == [2.25, 2.25]


def test_mul_still_saves_what_the_needed_rule_reads():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    w = gk.tensor([3.0, 4.0])
    y = (x * 1) * w                                 # d/dx needs w: modifying it must be caught
    w.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    y = gk.tensor([3.0, 4.0]) / a                   # d/da reads a: caught as before
    a.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_against_torch():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (torch, gk):
        q = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        r = q * q
        r[1:].copy_(q[:2] * 3)
        (r * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        grads.append(q.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)
    tq = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    tr = tq.clone()
    tr.copy_(torch.ones(3))
    tr.sum().backward()
    gq = gk.tensor([0.5, -1.0, 2.0], requires_grad=True)
    gr = gq.clone()
    gr.copy_(gk.ones(3))
    gr.sum().backward()
    np.testing.assert_array_equal(gq.grad.numpy(), tq.grad.numpy())
