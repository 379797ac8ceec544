"""``F.kl_div`` at a zero target: the loss counts ``0 log 0`` as 0, and the derivative in the
target there is nan, as PyTorch's ``xlogy(target, target) - target * input`` gives (it used to
be a finite number that dropped the unbounded ``log(target)`` term). Values recorded from
PyTorch 2.13."""

import math

import numpy as np

import gradkit as gk


def test_zero_target_value_and_gradients():
    t = gk.tensor([0.0, 0.5, 0.5], dtype=gk.float64, requires_grad=True)
    x = gk.log(gk.tensor([0.2, 0.3, 0.5], dtype=gk.float64)).requires_grad_()
    loss = gk.nn.functional.kl_div(x, t, reduction="batchmean")
    loss.backward()
    want = 0.5 * math.log(0.5 / 0.3) + 0.5 * math.log(0.5 / 0.5)
    assert abs(loss.item() - want / 3) < 1e-15
    g = t.grad.numpy()
    assert np.isnan(g[0])
    np.testing.assert_allclose(g[1:], [0.5036085412553303, 0.3333333333333333], rtol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, -1 / 6, -1 / 6], rtol=1e-14)
