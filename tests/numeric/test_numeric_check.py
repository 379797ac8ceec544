"""check_grad / approx_fprime against scipy.optimize; compare_grad reports."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gradkit import numeric

so = pytest.importorskip("scipy.optimize")


def func(x, a=1.0):
    return a * x[0] ** 2 - 0.5 * x[1] ** 3 + np.sin(x[2])


def grad(x, a=1.0):
    return np.array([2 * a * x[0], -1.5 * x[1] ** 2, np.cos(x[2])])


def bad_grad(x, a=1.0):
    return grad(x, a) + [0.0, 1e-3, 0.0]


def vec(x):
    return np.array([x[0] * x[1], x[1] ** 2, np.tanh(x[0])])


@pytest.mark.parametrize("x0", [[1.5, -1.5, 0.3], [0.0, 0.0, 0.0], [1e8, -3e-9, 2.0]])
@pytest.mark.parametrize("eps", [np.sqrt(np.finfo(float).eps), 1e-4, [1e-6, 1e-7, 1e-8], 1e-30])
def test_approx_fprime_matches_scipy(x0, eps) -> None:
    np.testing.assert_array_equal(numeric.approx_fprime(x0, func, eps, 2.0),
                                  so.approx_fprime(x0, func, eps, 2.0))
    np.testing.assert_array_equal(numeric.approx_fprime(x0[:2], vec, eps if np.ndim(eps) == 0 else eps[:2]),
                                  so.approx_fprime(x0[:2], vec, eps if np.ndim(eps) == 0 else eps[:2]))


def test_approx_fprime_shapes() -> None:
    assert numeric.approx_fprime([1.0, 2.0], vec).shape == (3, 2)
    assert numeric.approx_fprime(1.0, lambda x: x[0] ** 2).shape == (1,)
    with pytest.raises(ValueError):
        numeric.approx_fprime(np.ones((2, 2)), lambda x: x.sum())


@pytest.mark.parametrize("g", [grad, bad_grad])
def test_check_grad_matches_scipy(g) -> None:
    x0 = [1.5, -1.5, 0.3]
    assert numeric.check_grad(func, g, x0, 3.0) == so.check_grad(func, g, x0, 3.0)
    assert numeric.check_grad(func, g, x0, epsilon=1e-5) == so.check_grad(func, g, x0, epsilon=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = so.check_grad(func, g, x0, direction="random", seed=42)
    assert numeric.check_grad(func, g, x0, direction="random", seed=42) == expected
    assert numeric.check_grad(func, g, x0, direction="random", rng=7) == \
        so.check_grad(func, g, x0, direction="random", rng=7)
    with pytest.raises(ValueError, match="direction"):
        numeric.check_grad(func, g, x0, direction="diagonal")


def test_check_grad_random_needs_scalar_function() -> None:
    with pytest.raises(ValueError, match="scalar"):
        numeric.check_grad(vec, lambda x: np.ones((3, 2)), [1.0, 2.0], direction="random", seed=0)


def test_compare_grad_report() -> None:
    x0 = [1.5, -1.5, 0.3]
    good = numeric.compare_grad(func, grad, x0, 2.0)
    assert good.passed and bool(good)
    assert good.max_abs_error < 1e-8
    bad = numeric.compare_grad(func, bad_grad, x0, 2.0)
    assert not bad.passed
    assert bad.worst_index == (1,)
    assert bad.max_abs_error == pytest.approx(1e-3, rel=1e-6)
    assert bad.max_rel_error == pytest.approx(1e-3 / (1.5 * 1.5 ** 2), rel=1e-6)
    assert "FAIL" in str(bad) and "worst element (1,)" in str(bad)
    # Large-scale gradients: the tolerance scales with truncation + rounding, not a fixed eps.
    big = numeric.compare_grad(lambda x: 1e10 * np.sum(np.exp(x)), lambda x: 1e10 * np.exp(x), [3.0, 5.0])
    assert big.passed
