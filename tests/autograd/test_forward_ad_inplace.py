"""Forward mode through in-place methods, ``__setitem__`` and ``Function.apply`` (issue #15).

They check the forward-mode flag themselves; opening a dual level rewrites no method.
Expected tangents are analytic derivatives.
"""

from __future__ import annotations

import inspect

import numpy as np

import gradkit as gk
import gradkit.autograd.forward_ad as fwAD


def _surface() -> dict[str, object]:
    out = {n: inspect.getattr_static(gk.Tensor, n) for n in dir(gk.Tensor)}
    out["Function.apply"] = inspect.getattr_static(gk.autograd.Function, "apply")
    return out


def test_a_dual_level_rewrites_no_method() -> None:
    before = _surface()
    with fwAD.dual_level():
        x = fwAD.make_dual(gk.tensor([1.0, 2.0]), gk.tensor([1.0, 0.5]))
        y = x.clone()
        y.mul_(3.0)
        y[0] = x[1]
    assert _surface() == before


def test_inplace_method_tangents() -> None:
    a, t = np.array([0.3, -1.2, 2.0]), np.array([1.0, 2.0, -0.5])
    with fwAD.dual_level():
        x = fwAD.make_dual(gk.tensor(a), gk.tensor(t))
        y = x.clone()
        y.exp_()                                   # d exp = exp(a) t
        z = x.clone()
        z *= x                                     # d (a*a) = 2 a t
        w = x.clone()
        w.zero_()                                  # constant
        v = x.clone()
        v.copy_(x * 2.0)                           # 2 t
        ty, tz = fwAD.unpack_dual(y).tangent, fwAD.unpack_dual(z).tangent
        tw, tv = fwAD.unpack_dual(w).tangent, fwAD.unpack_dual(v).tangent
    np.testing.assert_allclose(ty.numpy(), np.exp(a) * t, rtol=1e-12)
    np.testing.assert_allclose(tz.numpy(), 2 * a * t, rtol=1e-12)
    np.testing.assert_allclose(tw.numpy(), np.zeros(3))
    np.testing.assert_allclose(tv.numpy(), 2 * t, rtol=1e-12)


def test_setitem_tangent() -> None:
    with fwAD.dual_level():
        x = fwAD.make_dual(gk.tensor([1.0, 2.0, 3.0]), gk.tensor([1.0, 1.0, 1.0]))
        y = gk.zeros(3)
        y[1:] = x[:2] ** 2                         # d x^2 = 2 x t at x = 1, 2
        ty = fwAD.unpack_dual(y).tangent
    np.testing.assert_allclose(ty.numpy(), [0.0, 2.0, 4.0], rtol=1e-12)


def test_function_apply_uses_jvp() -> None:
    class Cube(gk.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x ** 3

        @staticmethod
        def jvp(ctx, t):
            return 3 * ctx.x ** 2 * t

    with fwAD.dual_level():
        x = fwAD.make_dual(gk.tensor([2.0, -1.0]), gk.tensor([1.0, 0.5]))
        out = Cube.apply(x)
        t = fwAD.unpack_dual(out).tangent
    np.testing.assert_allclose(t.numpy(), [12.0, 1.5], rtol=1e-12)
