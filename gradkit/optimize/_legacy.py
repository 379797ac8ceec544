"""SciPy's legacy ``fmin_*`` functions and ``minimize_scalar``, with exact gradients."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._core import Memo, Objective, Packer, require_scipy, to_float

__all__ = ["fmin", "fmin_powell", "fmin_bfgs", "fmin_cg", "fmin_ncg", "fmin_l_bfgs_b",
           "minimize_scalar"]


def _objective(func: Callable[..., Any], x0: Any, args: Any) -> Objective:
    # NOTE: the legacy interface flattens x0 (SciPy: ``asarray(x0).flatten()``).
    return Objective(func, Packer(np.asarray(x0, dtype=np.float64).ravel()), args,
                     owner="gradkit.optimize.fmin")


def fmin(func: Callable[..., Any], x0: Any, args: tuple[Any, ...] = (), xtol: float = 1e-4,
         ftol: float = 1e-4, maxiter: int | None = None, maxfun: int | None = None,
         full_output: int = 0, disp: int = 1, retall: int = 0, callback: Any = None,
         initial_simplex: Any = None) -> Any:
    """``scipy.optimize.fmin`` (Nelder-Mead); ``func`` may return a tensor or a shape-(1,) array."""
    so = require_scipy("fmin")
    obj = _objective(func, x0, args)
    return so.fmin(obj.value, obj.packer.x0, (), xtol, ftol, maxiter, maxfun, full_output, disp,
                   retall, callback, initial_simplex)


def fmin_powell(func: Callable[..., Any], x0: Any, args: tuple[Any, ...] = (), xtol: float = 1e-4,
                ftol: float = 1e-4, maxiter: int | None = None, maxfun: int | None = None,
                full_output: int = 0, disp: int = 1, retall: int = 0, callback: Any = None,
                direc: Any = None) -> Any:
    """``scipy.optimize.fmin_powell``; ``func`` may return a tensor or a shape-(1,) array."""
    so = require_scipy("fmin_powell")
    obj = _objective(func, x0, args)
    return so.fmin_powell(obj.value, obj.packer.x0, (), xtol, ftol, maxiter, maxfun, full_output,
                          disp, retall, callback, direc)


def _f_and_fprime(f: Callable[..., Any], x0: Any, fprime: Any, args: Any) -> tuple[Any, Any, Objective]:
    obj = _objective(f, x0, args)
    if fprime is not None:
        return obj.value, (lambda x: np.asarray(fprime(x, *obj.args), dtype=np.float64)), obj
    memo = Memo(obj)
    return memo, memo.derivative, obj


def fmin_bfgs(f: Callable[..., Any], x0: Any, fprime: Any = None, args: tuple[Any, ...] = (),
              gtol: float = 1e-5, norm: float = np.inf, epsilon: Any = np.sqrt(np.finfo(float).eps),
              maxiter: int | None = None, full_output: int = 0, disp: int = 1, retall: int = 0,
              callback: Any = None, xrtol: float = 0, c1: float = 1e-4, c2: float = 0.9,
              hess_inv0: Any = None) -> Any:
    """``scipy.optimize.fmin_bfgs``; without ``fprime`` the gradient is exact (value and
    gradient from one pass), not a finite difference."""
    so = require_scipy("fmin_bfgs")
    fs, gs, obj = _f_and_fprime(f, x0, fprime, args)
    return so.fmin_bfgs(fs, obj.packer.x0, gs, (), gtol, norm, epsilon, maxiter, full_output, disp,
                        retall, callback, xrtol, c1, c2, hess_inv0)


def fmin_cg(f: Callable[..., Any], x0: Any, fprime: Any = None, args: tuple[Any, ...] = (),
            gtol: float = 1e-5, norm: float = np.inf, epsilon: Any = np.sqrt(np.finfo(float).eps),
            maxiter: int | None = None, full_output: int = 0, disp: int = 1, retall: int = 0,
            callback: Any = None, c1: float = 1e-4, c2: float = 0.4) -> Any:
    """``scipy.optimize.fmin_cg``; without ``fprime`` the gradient is exact."""
    so = require_scipy("fmin_cg")
    fs, gs, obj = _f_and_fprime(f, x0, fprime, args)
    return so.fmin_cg(fs, obj.packer.x0, gs, (), gtol, norm, epsilon, maxiter, full_output, disp,
                      retall, callback, c1, c2)


def fmin_ncg(f: Callable[..., Any], x0: Any, fprime: Any = None, fhess_p: Any = None,
             fhess: Any = None, args: tuple[Any, ...] = (), avextol: float = 1e-5,
             epsilon: Any = np.sqrt(np.finfo(float).eps), maxiter: int | None = None,
             full_output: int = 0, disp: int = 1, retall: int = 0, callback: Any = None,
             c1: float = 1e-4, c2: float = 0.9) -> Any:
    """``scipy.optimize.fmin_ncg``; ``fprime`` (required by SciPy) and, unless ``fhess`` or
    ``fhess_p`` is given, the Hessian-vector product are exact."""
    so = require_scipy("fmin_ncg")
    fs, gs, obj = _f_and_fprime(f, x0, fprime, args)
    if fhess_p is None and fhess is None:
        fhess_p = obj.hessp
    return so.fmin_ncg(fs, obj.packer.x0, gs, fhess_p, fhess, (), avextol, epsilon, maxiter,
                       full_output, disp, retall, callback, c1, c2)


def fmin_l_bfgs_b(func: Callable[..., Any], x0: Any, fprime: Any = None, args: tuple[Any, ...] = (),
                  approx_grad: int = 0, bounds: Any = None, m: int = 10, factr: float = 1e7,
                  pgtol: float = 1e-5, epsilon: float = 1e-8, **kwargs: Any) -> Any:
    """``scipy.optimize.fmin_l_bfgs_b``, returning ``(x, f, d)``.

    Without ``fprime`` and ``approx_grad``, SciPy expects ``func`` to return ``(f, g)``; a
    ``func`` that returns only ``f`` gets its exact gradient from gradkit instead (one probe
    call at ``x0`` tells the two apart). The other keywords (``maxfun``, ``maxiter``,
    ``callback``, ``maxls``, ...) go to SciPy.
    """
    so = require_scipy("fmin_l_bfgs_b")
    obj = _objective(func, x0, args)
    x0f = obj.packer.x0
    if fprime is not None or approx_grad:
        fs = obj.value
        gs = None if fprime is None else (lambda x: np.asarray(fprime(x, *obj.args), dtype=np.float64))
    elif isinstance(func(x0f.copy(), *obj.args), (tuple, list)):
        def fs(x: Any) -> tuple[float, np.ndarray]:
            f, g = func(x, *obj.args)
            return to_float(f), np.asarray(g, dtype=np.float64).ravel()
        gs = None
    else:
        fs, gs = obj.value_and_grad, None
    return so.fmin_l_bfgs_b(fs, x0f, gs, (), approx_grad, bounds, m, factr, pgtol, epsilon, **kwargs)


def minimize_scalar(fun: Callable[..., Any], bracket: Any = None, bounds: Any = None,
                    args: Any = (), method: str | None = None, tol: float | None = None,
                    options: dict[str, Any] | None = None) -> Any:
    """``scipy.optimize.minimize_scalar``; ``fun`` may return a 0-d tensor or a one-element array
    (cast to float at the boundary), and tensor bounds or brackets are accepted."""
    so = require_scipy("minimize_scalar")
    args = args if isinstance(args, tuple) else (args,)

    def f(x: float) -> float:
        return to_float(fun(x, *args))

    def plain(b: Any) -> Any:
        return None if b is None else tuple(to_float(v, "bound") for v in b)

    res = so.minimize_scalar(f, bracket=plain(bracket), bounds=plain(bounds), method=method, tol=tol,
                             options=options)
    res.x, res.fun = float(res.x), float(res.fun)
    return res
