"""``scipy.integrate.odeint`` differentiable through the solution.

``odeint(func, y0, t, args=())`` with a Tensor among ``y0``, ``t`` and ``args`` integrates with
an adaptive Dormand-Prince 5(4) Runge-Kutta method written with gradkit operations
("discretize, then differentiate"): the step sizes are chosen on detached values, then every
accepted step is recorded on the graph, so gradients with respect to ``y0``, ``t`` and every
tensor in ``args`` (reverse mode, forward mode, higher orders) are the exact derivatives of the
computed solution.

Accuracy: each step's local error is kept below ``atol + rtol * |y|`` (SciPy's odeint defaults,
``rtol = atol = 1.49012e-8``), so the solution agrees with SciPy's LSODA to about that
tolerance times the interval length, and its derivatives approximate the exact sensitivities
to the same order (they are exact for the discrete solution, which converges with the method's
order 5). For stiff problems the explicit method takes many small steps (``mxstep`` bounds
them per output interval, as in SciPy); SciPy's LSODA switches to an implicit method instead.

Without a Tensor among the arguments the call is SciPy's own ``odeint``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import gradkit as gk

from ._util import any_tensor, as_tensors, scipy_module

__all__ = ["odeint"]

_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_A = ((),
      (1 / 5,),
      (3 / 40, 9 / 40),
      (44 / 45, -56 / 15, 32 / 9),
      (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
      (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
      (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84))
_B5 = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
_B4 = (5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40)
_E = tuple(b5 - b4 for b5, b4 in zip(_B5, _B4))


def _as_rhs(v: Any, like: Any) -> Any:
    if isinstance(v, gk.Tensor):
        return v
    if isinstance(v, (list, tuple)) and any(isinstance(x, gk.Tensor) for x in v):
        return gk.stack([x if isinstance(x, gk.Tensor) else gk.as_tensor(x, dtype=like.dtype)
                         for x in v])
    return gk.as_tensor(np.asarray(v), dtype=like.dtype)


def _dopri_step(f: Callable[[Any, Any], Any], y: Any, t: Any, h: Any, k1: Any) -> tuple[Any, ...]:
    ks = [k1]
    for i in range(1, 7):
        yi = y
        for a, k in zip(_A[i], ks):
            if a != 0.0:
                yi = yi + k * (h * a)
        ks.append(f(yi, t + h * _C[i]))
    y_new = y
    for b, k in zip(_B5, ks):
        if b != 0.0:
            y_new = y_new + k * (h * b)
    err = None
    for e, k in zip(_E, ks):
        if e != 0.0:
            term = k.detach().numpy() * e
            err = term if err is None else err + term
    return y_new, ks[-1], err


def odeint(func: Callable[..., Any], y0: Any, t: Any, args: tuple[Any, ...] = (),
           Dfun: Any = None, col_deriv: int = 0, full_output: int = 0, ml: Any = None,
           mu: Any = None, rtol: float | None = None, atol: float | None = None,
           tcrit: Any = None, h0: float = 0.0, hmax: float = 0.0, hmin: float = 0.0,
           ixpr: int = 0, mxstep: int = 0, mxhnil: int = 0, mxordn: int = 12, mxords: int = 5,
           printmessg: int = 0, tfirst: bool = False) -> Any:
    """``scipy.integrate.odeint``: ``y(t)`` for ``dy/dt = func(y, t, *args)``, ``y(t[0]) = y0``.

    Returns an array of shape ``(len(t), *y0.shape)``, differentiable in ``y0``, ``t`` and the
    tensors in ``args`` (see the module's notes for the method and its accuracy).
    ``Dfun``, ``col_deriv``, ``ml``/``mu``, ``tcrit``, ``ixpr``, ``mxhnil``, ``mxordn``/
    ``mxords`` are LSODA's options and are ignored on tensors; ``full_output`` is not supported
    there.
    """
    if not any_tensor(y0, t, *args):
        return scipy_module("integrate").odeint(
            func, y0, t, args=args, Dfun=Dfun, col_deriv=col_deriv, full_output=full_output,
            ml=ml, mu=mu, rtol=rtol, atol=atol, tcrit=tcrit, h0=h0, hmax=hmax, hmin=hmin,
            ixpr=ixpr, mxstep=mxstep, mxhnil=mxhnil, mxordn=mxordn, mxords=mxords,
            printmessg=printmessg, tfirst=tfirst)
    if full_output:
        raise NotImplementedError("gradkit.scipy.integrate.odeint: full_output on tensors")
    y0, t = as_tensors(y0, t)
    rtol = 1.49012e-8 if rtol is None else float(rtol)
    atol = 1.49012e-8 if atol is None else float(atol)
    mxstep = 500 if not mxstep else int(mxstep)
    hmax = abs(float(hmax))

    def f(y: Any, s: Any) -> Any:
        out = func(s, y, *args) if tfirst else func(y, s, *args)
        return _as_rhs(out, y).reshape(y.shape)

    y = y0
    ys = [y0]
    tv = t.detach().numpy()
    k1 = f(y, t[0])
    h_abs = abs(float(h0)) if h0 else None
    for i in range(len(tv) - 1):
        span = float(tv[i + 1] - tv[i])
        if span == 0.0:
            ys.append(y)
            continue
        dt = t[i + 1] - t[i]                      # the interval, on the graph
        if h_abs is None:
            d0 = float(np.sqrt(np.mean(np.square(y.detach().numpy()))))
            d1 = float(np.sqrt(np.mean(np.square(k1.detach().numpy()))))
            h_abs = 0.01 * d0 / d1 if d0 > 1e-5 and d1 > 1e-5 else 1e-6
            h_abs = min(h_abs, abs(span))
        frac = 0.0                                # position in the interval, in [0, 1]
        steps = 0
        while frac < 1.0:
            if steps >= mxstep:
                raise RuntimeError(f"gradkit.scipy.integrate.odeint: more than mxstep={mxstep} "
                                   f"steps in the interval [{tv[i]}, {tv[i + 1]}]")
            hf = min(h_abs / abs(span), 1.0 - frac)
            if hmax:
                hf = min(hf, hmax / abs(span))
            last = hf >= 1.0 - frac - 1e-12
            if last:
                hf = 1.0 - frac
            h = dt * hf
            s = t[i] + dt * frac
            y_new, k7, err = _dopri_step(f, y, s, h, k1)
            scale = atol + rtol * np.maximum(np.abs(y.detach().numpy()),
                                             np.abs(y_new.detach().numpy()))
            en = float(np.sqrt(np.mean(np.square(err * abs(span) * hf / scale)))) \
                if err.size else 0.0
            steps += 1
            if en <= 1.0 or (hmin and abs(span) * hf <= hmin):
                y, k1 = y_new, k7
                frac = 1.0 if last else frac + hf
                factor = 5.0 if en == 0.0 else min(5.0, max(0.2, 0.9 * en ** -0.2))
                if not last:
                    h_abs = abs(span) * hf * factor
                else:
                    h_abs = max(h_abs, abs(span) * hf * factor) if en > 0 else h_abs * factor
            else:
                h_abs = abs(span) * hf * max(0.2, 0.9 * en ** -0.2)
        ys.append(y)
    return gk.stack(ys)
