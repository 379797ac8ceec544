"""where(..., safe=True): the unselected branch cannot turn the gradient into nan."""

from __future__ import annotations

import math

import numpy as np

import gradkit as gk
import gradkit.nn.functional as F


def _grad(safe: bool) -> list[float]:
    x = gk.tensor([-1.0, 4.0], dtype=gk.float64, requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = gk.where(x > 0, gk.sqrt(x), 0.0, safe=safe)
    y.sum().backward()
    return x.grad.tolist()


def test_default_is_pytorchs_nan() -> None:
    g = _grad(False)
    assert math.isnan(g[0]) and g[1] == 0.25          # PyTorch 2.13: tensor([nan, 0.2500])


def test_safe_gives_the_selected_branchs_gradient() -> None:
    assert _grad(True) == [0.0, 0.25]


def test_both_branches_and_a_longer_chain() -> None:
    x = gk.tensor([-1.0, 4.0], dtype=gk.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        y = gk.where(x > 0, gk.log(x) * 2.0 + 1.0, x ** 2, safe=True)
    y.sum().backward()
    assert x.grad.tolist() == [-2.0, 0.5]             # 2x on the left, 2/x on the right


def test_shared_subexpressions_keep_their_other_gradients() -> None:
    x = gk.tensor([-1.0, 4.0], dtype=gk.float64, requires_grad=True)
    with np.errstate(invalid="ignore"):
        s = gk.sqrt(gk.abs(x))                         # finite everywhere; used twice
        y = gk.where(x > 0, s, 0.0, safe=True) + s
    y.sum().backward()
    expected = [-0.5, 2 * 0.25]                        # d sqrt|x| = sign(x) / (2 sqrt|x|)
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_functional_alias_and_tensor_method() -> None:
    x = gk.tensor([-1.0, 4.0], dtype=gk.float64, requires_grad=True)
    with np.errstate(invalid="ignore"):
        F.safe_where(x > 0, gk.sqrt(x), gk.zeros(2, dtype=gk.float64)).sum().backward()
    assert x.grad.tolist() == [0.0, 0.25]
    t = gk.tensor([1.0, 2.0])
    assert t.where(gk.tensor([True, False]), gk.tensor([9.0, 9.0])).tolist() == [1.0, 9.0]
