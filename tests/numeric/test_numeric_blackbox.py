"""derivative / approx_grad / approx_jacobian / approx_hessian: values and honest error bounds."""

from __future__ import annotations

import numpy as np
import pytest

from gradkit import numeric

# (name, f, f', x): smooth, oscillatory, near a singularity, large and tiny scales.
PANEL = [
    ("smooth", np.exp, np.exp, 1.0),
    ("oscillatory", lambda x: np.sin(50 * x), lambda x: 50 * np.cos(50 * x), 0.3),
    ("log_near_0", np.log, lambda x: 1 / x, 1e-3),
    ("pole_near", lambda x: 1 / (x - 1), lambda x: -1 / (x - 1) ** 2, 1.001),
    ("sqrt_near_0", np.sqrt, lambda x: 0.5 / np.sqrt(x), 1e-4),
    ("large_scale", lambda x: np.exp(x / 1e6), lambda x: np.exp(x / 1e6) / 1e6, 3e6),
    ("tiny_scale", lambda x: np.sin(1e6 * x), lambda x: 1e6 * np.cos(1e6 * x), 1e-6),
]
METHODS = [("central", 2), ("central", 4), ("forward", 1), ("forward", 2), ("backward", 2), ("complex", 2)]


@pytest.mark.parametrize("method,order", METHODS)
@pytest.mark.parametrize("name,f,df,x", PANEL, ids=[p[0] for p in PANEL])
def test_error_bound_holds_on_panel(name: str, f, df, x: float, method: str, order: int) -> None:
    r = numeric.derivative(f, x, method=method, order=order)
    err = abs(r.value - df(x))
    assert err <= r.error
    assert r.error <= 1e-7 * abs(df(x))        # and the bound is useful
    assert bool(r.success)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_higher_derivatives(n: int) -> None:
    x = np.array([-0.7, 0.0, 0.4, 1.3])
    exact = [np.cos, lambda t: -np.sin(t), lambda t: -np.cos(t), np.sin][n - 1](x)
    r = numeric.derivative(np.sin, x, n=n)
    assert r.value.shape == x.shape
    assert np.all(np.abs(r.value - exact) <= r.error)
    assert np.all(r.error < 10.0 ** (-11 + 2 * n))


def test_vectorized_single_call_and_scalar_mode() -> None:
    calls = []

    def f(x):
        calls.append(np.shape(x))
        return np.cosh(x)

    x = np.linspace(-1, 1, 6).reshape(2, 3)
    r = numeric.derivative(f, x)
    # one call per iteration of the adaptive step control, each with all the points it needs (flattened)
    assert calls[0][-1] == x.size and len(calls) < 10
    np.testing.assert_allclose(r.value, np.sinh(x), atol=1e-11)
    r2 = numeric.derivative(lambda t: float(np.cosh(t)), 0.5, vectorized=False)
    assert abs(r2.value - np.sinh(0.5)) <= r2.error


def test_complex_step_machine_precision() -> None:
    x = np.linspace(0.1, 1.5, 7)
    f = lambda t: np.exp(t) / np.sqrt(np.sin(t) ** 3 + np.cos(t) ** 3)   # noqa: E731
    g = numeric.derivative(f, x, method="complex")
    central = numeric.derivative(f, x)
    np.testing.assert_allclose(g.value, central.value, rtol=1e-9)
    exact = numeric.derivative(np.sin, x, method="complex").value
    np.testing.assert_allclose(exact, np.cos(x), rtol=2e-16, atol=0)
    assert np.all(g.error < 1e-14 * np.abs(g.value))
    outside = numeric.derivative(f, 3.0, method="complex")     # f is complex there: no estimate
    assert outside.error == np.inf and not outside.success
    with pytest.raises(ValueError, match="first derivatives"):
        numeric.derivative(np.sin, 0.3, n=2, method="complex")


def test_argument_errors() -> None:
    with pytest.raises(ValueError, match="n must"):
        numeric.derivative(np.sin, 0.3, n=5)
    with pytest.raises(ValueError, match="even"):
        numeric.derivative(np.sin, 0.3, order=3)
    with pytest.raises(ValueError, match="method"):
        numeric.derivative(np.sin, 0.3, method="spline")


def _rosen(v):
    return np.sum(100.0 * (v[1:] - v[:-1] ** 2) ** 2 + (1 - v[:-1]) ** 2, axis=0)


def _rosen_grad(v):
    g = np.zeros_like(v)
    g[:-1] = -400 * v[:-1] * (v[1:] - v[:-1] ** 2) - 2 * (1 - v[:-1])
    g[1:] += 200 * (v[1:] - v[:-1] ** 2)
    return g


def _rosen_hess(v):
    from scipy.optimize import rosen_hess
    return rosen_hess(v)


@pytest.mark.parametrize("method", ["central", "forward", "complex"])
def test_approx_grad_rosenbrock(method: str) -> None:
    x = np.array([-1.2, 1.0, 0.7, 1.5])
    r = numeric.approx_grad(_rosen, x, method=method)
    assert r.value.shape == (4,)
    assert np.all(np.abs(r.value - _rosen_grad(x)) <= r.error)
    assert np.all(r.error <= 1e-6 * np.abs(_rosen_grad(x)).max())


def test_approx_jacobian_vectorized_one_call() -> None:
    calls = []

    def f(v):   # v: (3, p) -> (2, p)
        calls.append(v.shape)
        return np.stack([v[0] * v[1] ** 2, np.sin(v[2]) + v[0]])

    x = np.array([0.5, -1.5, 2.0])
    r = numeric.approx_jacobian(f, x, vectorized=True)
    exact = np.array([[x[1] ** 2, 2 * x[0] * x[1], 0.0], [1.0, 0.0, np.cos(x[2])]])
    assert len(calls) == 1 and r.value.shape == (2, 3)
    assert np.all(np.abs(r.value - exact) <= r.error + 1e-300)
    scalar = numeric.approx_jacobian(lambda v: f(v[:, None])[:, 0], x)
    np.testing.assert_allclose(scalar.value, r.value, atol=1e-10)
    with pytest.raises(ValueError, match="scalar"):
        numeric.approx_grad(lambda v: f(v[:, None])[:, 0], x)


def test_approx_hessian() -> None:
    x = np.array([-1.2, 1.0, 0.7])
    r = numeric.approx_hessian(_rosen, x)
    exact = _rosen_hess(x)
    np.testing.assert_allclose(r.value, r.value.T)
    assert np.all(np.abs(r.value - exact) <= r.error + 1e-12)
    rv = numeric.approx_hessian(_rosen, x, vectorized=True)
    np.testing.assert_allclose(rv.value, r.value, atol=1e-12)
    f = lambda v: np.exp(v[0]) * np.sin(v[1])   # noqa: E731
    h = numeric.approx_hessian(f, [0.3, 1.1])
    e = np.exp(0.3)
    exact = np.array([[e * np.sin(1.1), e * np.cos(1.1)], [e * np.cos(1.1), -e * np.sin(1.1)]])
    assert np.all(np.abs(h.value - exact) <= h.error)
