"""``np.polyfit`` and ``np.piecewise`` on tensors: NumPy's values (NumPy itself on the arrays is
the oracle) and gradients checked against central finite differences in float64."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.func import grad

RNG = np.random.default_rng(7)
X = np.linspace(-1.0, 2.0, 9)
Y = np.sin(X) + 0.1 * RNG.standard_normal(9)
W = 0.5 + RNG.random(9)


def _fd(f, v, h=1e-6):
    out = np.zeros_like(v)
    for i in range(v.size):
        e = np.zeros_like(v)
        e[i] = h
        out[i] = (f(v + e) - f(v - e)) / (2 * h)
    return out


@pytest.mark.parametrize("kw", [{}, {"w": W}, {"rcond": 1e-3}])
def test_polyfit_values_match_numpy(kw):
    got = np.polyfit(gk.tensor(X), gk.tensor(Y), 3, **kw)
    np.testing.assert_allclose(np.asarray(got), np.polyfit(X, Y, 3, **kw), rtol=1e-10, atol=1e-12)


def test_polyfit_full_cov_and_2d_match_numpy():
    got = np.polyfit(gk.tensor(X), gk.tensor(Y), 2, full=True)
    want = np.polyfit(X, Y, 2, full=True)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-10, atol=1e-12)
    for cov in (True, "unscaled"):
        c, v = np.polyfit(gk.tensor(X), gk.tensor(Y), 2, cov=cov)
        c0, v0 = np.polyfit(X, Y, 2, cov=cov)
        np.testing.assert_allclose(np.asarray(c), c0, rtol=1e-10)
        np.testing.assert_allclose(np.asarray(v), v0, rtol=1e-8, atol=1e-14)
    Y2 = np.stack([Y, Y ** 2], 1)
    np.testing.assert_allclose(np.asarray(np.polyfit(gk.tensor(X), gk.tensor(Y2), 2)),
                               np.polyfit(X, Y2, 2), rtol=1e-10, atol=1e-12)


def test_polyfit_gradient_reaches_y_x_and_w():
    def loss(y, x=X, w=None):
        return np.sum(np.polyfit(x, y, 2, w=w) * np.array([1.0, -2.0, 0.5]))
    np.testing.assert_allclose(np.asarray(grad(loss)(gk.tensor(Y))), _fd(loss, Y), rtol=1e-6,
                               atol=1e-8)
    gx = np.asarray(grad(lambda x: loss(Y, x))(gk.tensor(X)))
    np.testing.assert_allclose(gx, _fd(lambda x: loss(Y, x), X), rtol=1e-5, atol=1e-7)
    gw = np.asarray(grad(lambda w: loss(Y, X, w))(gk.tensor(W)))
    np.testing.assert_allclose(gw, _fd(lambda w: loss(Y, X, w), W), rtol=1e-5, atol=1e-7)


def _pw(x):
    return np.piecewise(x, [x < 0, x >= 0.5], [lambda v: -v ** 3, lambda v: np.sin(v), 0.25])


def test_piecewise_values_match_numpy():
    v = np.linspace(-1, 1, 11)
    np.testing.assert_allclose(np.asarray(_pw(gk.tensor(v))), _pw(v), rtol=1e-15)
    f = [lambda v: v ** 2, 3.0]
    np.testing.assert_allclose(np.asarray(np.piecewise(gk.tensor(v), v > 0.2, f)),
                               np.piecewise(v, v > 0.2, f))


def test_piecewise_gradient():
    v = np.array([-0.7, -0.1, 0.3, 0.6, 0.9])
    g = np.asarray(grad(lambda x: np.sum(_pw(x)))(gk.tensor(v)))
    np.testing.assert_allclose(g, _fd(lambda x: np.sum(_pw(x)), v), rtol=1e-6, atol=1e-9)


V = np.array([1.0, 2.0, 3.0, -1.0])
POLY = {
    "polyder": lambda v: np.polyder(v, 2),
    "polyint": lambda v: np.polyint(v, 2, k=[1.0, 2.0]),
    "polyadd": lambda v: np.polyadd(v, v[:2] ** 2),
    "polysub": lambda v: np.polysub(v[:1], v),
    "polymul": lambda v: np.polymul(v, v[:2]),
    "poly": lambda v: np.poly(v),
    "polydiv_q": lambda v: np.polydiv(v, v[1:3])[0],
    "polydiv_r": lambda v: np.polydiv(v, v[1:3])[1],
    "apply_along_axis": lambda v: np.apply_along_axis(
        lambda w: np.stack([w.sum(), (w ** 2).max()]), 1, np.outer(v, v).reshape(2, 2, 4)),
    "apply_along_axis_2d": lambda v: np.apply_along_axis(lambda w: np.outer(w, w), 0,
                                                         np.outer(v, v)[:, :3]),
}


@pytest.mark.parametrize("name", sorted(POLY))
def test_polynomial_routines_values_and_gradients(name):
    f = POLY[name]
    want = f(V)
    got = f(gk.tensor(V))
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-13)
    c = np.cos(np.arange(want.size)).reshape(want.shape)
    g = np.asarray(grad(lambda v: np.sum(f(v) * c))(gk.tensor(V)))
    np.testing.assert_allclose(g, _fd(lambda v: np.sum(f(v) * c), V), rtol=1e-6, atol=1e-8)
