"""gradkit.autograd.numerical: finite-difference gradients for a black-box NumPy function."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk


def black_box(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # np.interp-style code gradkit has no rule for; here simply a smooth function of both
    return np.cumsum(np.sin(a) * b) + np.exp(a).sum()


def test_gradients_match_the_analytic_ones() -> None:
    f = gk.autograd.numerical(black_box, warn=False)
    a = gk.tensor([0.1, -0.4, 0.7], dtype=gk.float64, requires_grad=True)
    b = gk.tensor([1.5, 2.0, -1.0], dtype=gk.float64, requires_grad=True)
    y = f(a, b)
    assert y.grad_fn is not None
    np.testing.assert_allclose(y.detach().numpy(), black_box(a.detach().numpy(), b.detach().numpy()))
    w = np.array([1.0, -2.0, 0.5])
    (y * gk.tensor(w)).sum().backward()
    an, bn = a.detach().numpy(), b.detach().numpy()
    # y_i = sum_{j<=i} sin(a_j) b_j + sum_j exp(a_j)
    suffix = np.cumsum(w[::-1])[::-1]
    np.testing.assert_allclose(a.grad.numpy(), suffix * np.cos(an) * bn + w.sum() * np.exp(an),
                               rtol=1e-8)
    np.testing.assert_allclose(b.grad.numpy(), suffix * np.sin(an), rtol=1e-8)
    assert 0.0 <= f.last_error < 1e-6


def test_mixed_with_ordinary_ops_and_constants() -> None:
    f = gk.autograd.numerical(lambda v, k: np.tanh(v) * k, warn=False)
    x = gk.tensor([0.3, -0.2], dtype=gk.float64, requires_grad=True)
    (f(x * 2.0, 3.0) ** 2).sum().backward()
    xn = x.detach().numpy()
    expected = 2 * np.tanh(2 * xn) * 3 * 3 * (1 - np.tanh(2 * xn) ** 2) * 2
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-7)


def test_warns_once_per_function() -> None:
    def g(v: np.ndarray) -> np.ndarray:
        return v * 2.0
    f = gk.autograd.numerical(g)
    x = gk.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="finite differences"):
        f(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(x)


def test_dispatch_fallback_is_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    module = sys.modules["gradkit.autograd.numerical"]        # the module, not the function
    monkeypatch.setattr(module, "_fallback_warned", set())   # "once" starts afresh
    x = gk.tensor([4.0, 1.5], dtype=gk.float64, requires_grad=True)
    # NOTE: numpy.roots (an eigenvalue problem of the companion matrix) has no rule in the table
    with pytest.raises(TypeError, match="cannot differentiate numpy.roots"):
        np.roots(x)
    with gk.autograd.numerical_fallback():
        with pytest.warns(UserWarning, match="numpy.roots has no derivative rule"):
            y = np.roots(x)                              # the root of 4 z + 1.5: -x1 / x0
    y.sum().backward()
    expected = np.array([0.09375, -0.25])                    # (x1 / x0**2, -1 / x0)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-8)
