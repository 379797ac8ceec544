"""gradkit.scipy.integrate.odeint: SciPy's solution; derivatives in y0, t and args against finite
differences of scipy.integrate.odeint solved to a tight tolerance."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate as si

import gradkit as gk
from gradkit.scipy.integrate import odeint

RNG = np.random.default_rng(4)
TIGHT = dict(rtol=1e-12, atol=1e-12)


def t(a, grad=True):
    return gk.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def decay(y, s, k, c):
    return -k * y + c * np.sin(s)


def lotka(y, s, a, b):
    return np.stack([a * y[0] - b * y[0] * y[1], -y[1] + b * y[0] * y[1]]) if not \
        isinstance(y, gk.Tensor) else gk.stack([a * y[0] - b * y[0] * y[1], -y[1] + b * y[0] * y[1]])


def fd(fun, x, eps=1e-4):
    x = np.asarray(x, dtype=float)
    out = []
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        out.append((fun(x + e) - fun(x - e)) / (2 * eps))
    return np.array(out).reshape(x.shape)


def test_solution_matches_scipy():
    ts = np.linspace(0.0, 10.0, 11)
    y0 = np.array([1.0, 0.5])
    ref = si.odeint(lotka, y0, ts, args=(1.1, 0.7), **TIGHT)
    got = odeint(lotka, t(y0), ts, args=(1.1, 0.7))
    assert got.shape == (11, 2)
    np.testing.assert_allclose(got.detach().numpy(), ref, atol=1e-6)
    got = odeint(lotka, t(y0), ts, args=(1.1, 0.7), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(got.detach().numpy(), ref, atol=1e-9)


def test_gradients_in_y0_args_and_t():
    ts = np.linspace(0.0, 3.0, 4)
    y0 = RNG.normal(size=3)
    k, c = 0.7, 1.3
    loss = lambda out: (out[-1] ** 2).sum() + out[2].sum()  # noqa: E731

    def ref(y0_, ts_=ts, k_=k, c_=c):
        return loss(si.odeint(decay, y0_, ts_, args=(k_, c_), **TIGHT))

    ty0, tk, tc, tts = t(y0), t(k), t(c), t(ts)
    loss(odeint(decay, ty0, tts, args=(tk, tc), rtol=1e-10, atol=1e-10)).backward()
    np.testing.assert_allclose(ty0.grad.numpy(), fd(ref, y0), rtol=1e-6, atol=1e-7)
    # the equation is linear in y: d y(s) / d y0 = exp(-k s)
    y3 = si.odeint(decay, y0, ts, args=(k, c), **TIGHT)[-1]
    np.testing.assert_allclose(ty0.grad.numpy(), 2 * y3 * np.exp(-3 * k) + np.exp(-2 * k),
                               rtol=1e-8)
    np.testing.assert_allclose(tk.grad.numpy(), fd(lambda v: ref(y0, k_=v), k), rtol=1e-6)
    np.testing.assert_allclose(tc.grad.numpy(), fd(lambda v: ref(y0, c_=v), c), rtol=1e-6)
    np.testing.assert_allclose(tts.grad.numpy(), fd(lambda v: ref(y0, ts_=v), ts), rtol=1e-5,
                               atol=1e-7)


def test_the_autograd_style_function_with_numpy_calls():
    def func(y, s, a1, a2):
        return -np.sqrt(s) - y + a1 - np.mean((y + a2) ** 2)

    y0, a1, a2 = RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=3)
    ts = np.linspace(0.1, 0.2, 4)
    ref = si.odeint(func, y0, ts, args=(a1, a2), **TIGHT)
    ta1 = t(a1)
    got = odeint(func, y0, ts, args=(ta1, a2))
    np.testing.assert_allclose(got.detach().numpy(), ref, atol=1e-8)
    got[-1].sum().backward()
    expect = fd(lambda v: si.odeint(func, y0, ts, args=(v, a2), **TIGHT)[-1].sum(), a1)
    np.testing.assert_allclose(ta1.grad.numpy(), expect, rtol=1e-5)


def test_forward_mode_and_second_order():
    ts = np.array([0.0, 1.0])
    y0 = np.array([0.5])
    k = t(0.8)
    # exact: y(1) = y0 exp(-k): d/dk = -y0 exp(-k), d2/dk2 = y0 exp(-k)
    (g,) = gk.autograd.grad(odeint(decay, y0, ts, args=(k, 0.0))[-1, 0], k, create_graph=True)
    (h,) = gk.autograd.grad(g, k)
    np.testing.assert_allclose(g.item(), -0.5 * np.exp(-0.8), rtol=1e-7)
    np.testing.assert_allclose(h.item(), 0.5 * np.exp(-0.8), rtol=1e-6)
    _, tangent = gk.func.jvp(lambda u: odeint(decay, u, ts, args=(0.8, 0.0)), (t(y0, False),),
                             (t([1.0], False),))
    np.testing.assert_allclose(np.asarray(tangent)[-1], np.exp(-0.8), rtol=1e-7)


def test_tfirst_and_decreasing_time():
    ts = np.array([2.0, 1.0, 0.0])
    got = odeint(lambda s, y, kk: -kk * y, t([1.0]), ts, args=(0.5,), tfirst=True)
    np.testing.assert_allclose(got.detach().numpy()[:, 0], np.exp(-0.5 * (ts - 2.0)), rtol=1e-7)


def test_plain_inputs_give_scipy_results():
    ts = np.linspace(0, 1, 3)
    out = odeint(decay, np.array([1.0]), ts, args=(0.5, 0.1))
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, si.odeint(decay, np.array([1.0]), ts, args=(0.5, 0.1)))


def test_mxstep_bounds_the_work():
    with pytest.raises(RuntimeError, match="mxstep"):
        odeint(lambda y, s: -1e4 * y, t([1.0]), np.array([0.0, 10.0]), mxstep=20)
