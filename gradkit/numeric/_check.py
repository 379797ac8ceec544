"""Gradient checks: SciPy's ``check_grad`` / ``approx_fprime``, and an error-aware ``compare_grad``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gradkit.autograd._finite_diff import approx_grad

__all__ = ["approx_fprime", "check_grad", "compare_grad", "GradComparison"]

_epsilon = np.sqrt(np.finfo(float).eps)


def _eps_for_method(x_dtype: Any, f_dtype: Any) -> float:
    """SciPy's ``_eps_for_method(..., '2-point')``: sqrt of the smaller machine epsilon."""
    eps = np.finfo(np.float64).eps
    if np.issubdtype(x_dtype, np.inexact):
        eps = np.finfo(x_dtype).eps
        if np.issubdtype(f_dtype, np.inexact) and np.dtype(f_dtype).itemsize < np.dtype(x_dtype).itemsize:
            eps = np.finfo(f_dtype).eps
    return float(eps ** 0.5)


def approx_fprime(xk: Any, f: Callable[..., Any], epsilon: Any = _epsilon, *args: Any) -> np.ndarray:
    """Forward-difference gradient (or Jacobian) of ``f`` at ``xk``, as ``scipy.optimize.approx_fprime``.

    ``f'[i] = (f(xk + epsilon[i] e_i) - f(xk)) / epsilon[i]``, with SciPy's refinements:
    the step actually taken, ``(xk + h) - xk``, is the divisor, and a step lost to
    rounding falls back to ``sqrt(eps) * max(1, |xk|)``. A scalar ``f`` gives shape
    ``(n,)``, a vector ``f`` of length ``m > 1`` gives ``(m, n)``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> g = numeric.approx_fprime(np.ones(2), lambda x, c0, c1: c0 * x[0]**2 + c1 * x[1]**2,
    ...                           1e-8, 1, 200)
    >>> np.allclose(g, [2, 400], rtol=1e-5)
    True
    """
    x0 = np.atleast_1d(np.asarray(xk, float))
    if x0.ndim > 1:
        raise ValueError("`x0` must have at most 1 dimension.")
    f0 = np.atleast_1d(f(x0, *args))
    if f0.ndim > 1:
        raise ValueError("`f0` passed has more than 1 dimension.")     # SciPy's error and message

    def fun(x: np.ndarray) -> np.ndarray:
        out = np.atleast_1d(f(x, *args))
        if out.ndim > 1:
            raise RuntimeError("`fun` return value has more than 1 dimension.")
        return out

    sign_x0 = (x0 >= 0).astype(float) * 2 - 1
    # NOTE: broadcast as SciPy does (no broadcast_to x0's shape), so the same steps work here
    h = np.asarray(epsilon, dtype=float)
    dx = (x0 + h) - x0
    h = np.where(dx == 0, _eps_for_method(x0.dtype, f0.dtype) * sign_x0 * np.maximum(1.0, np.abs(x0)), h)
    jt = np.empty((x0.size, f0.size))
    for i in range(x0.size):
        x1 = np.copy(x0)
        x1[i] = x0[i] + h[i]
        jt[i] = (fun(x1) - f0) / ((x0[i] + h[i]) - x0[i])
    if f0.size == 1:
        jt = np.ravel(jt)
    return jt.T


def _legacy_random_state(seed: Any) -> Any:
    """``scipy._lib._util.check_random_state``: ints seed a legacy ``RandomState``."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    return np.random.RandomState(seed)


def check_grad(func: Callable[..., Any], grad: Callable[..., Any], x0: Any, *args: Any,
               epsilon: Any = _epsilon, direction: str = "all", seed: Any = None,
               rng: Any = None) -> float:
    """2-norm of ``grad(x0) - approx_fprime(x0, func, epsilon)``, as ``scipy.optimize.check_grad``.

    ``direction='random'`` compares along one random direction ``v`` instead:
    ``grad(x0) . v`` against the forward difference of ``w -> func(x0 + w v)``. ``seed``
    follows SciPy's legacy rule (an int seeds ``numpy.random.RandomState``); ``rng`` its
    new one (passed to ``numpy.random.default_rng``). For a check whose tolerance accounts
    for truncation and rounding, use :func:`compare_grad`.

    Examples
    --------
    >>> from gradkit import numeric
    >>> err = numeric.check_grad(lambda x: x[0]**2 - 0.5 * x[1]**3,
    ...                          lambda x: [2 * x[0], -1.5 * x[1]**2], [1.5, -1.5])
    >>> err < 1e-6
    True
    """
    x0 = np.asarray(x0)
    if direction == "random":
        _grad = np.asanyarray(grad(x0, *args))
        if _grad.ndim > 1:
            raise ValueError("'random' can only be used with scalar valued func")
        gen = np.random.default_rng(rng) if rng is not None else _legacy_random_state(seed)
        v = gen.standard_normal(size=x0.shape)

        def _func(w: Any, *a: Any) -> Any:
            return func(x0 + w * v, *a)

        analytical = np.dot(_grad, v)
        numerical = approx_fprime(np.zeros((1,)), _func, epsilon, *args)
    elif direction == "all":
        analytical = grad(x0, *args)
        numerical = approx_fprime(x0, func, epsilon, *args)
    else:
        raise ValueError(f"{direction} is not a valid string for ``direction`` argument")
    return float(np.sqrt(np.sum(np.abs((analytical - numerical) ** 2))))


@dataclass
class GradComparison:
    """How far an analytic gradient is from an error-controlled numerical one."""

    analytic: np.ndarray
    numeric: np.ndarray
    numeric_error: np.ndarray     # truncation + rounding estimate of ``numeric``
    tolerance: np.ndarray         # atol + rtol * |numeric| + numeric_error
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...]
    passed: bool

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        i = self.worst_index
        verdict = "PASS" if self.passed else "FAIL"
        return (f"{verdict}: max abs error {self.max_abs_error:.3g}, max rel error "
                f"{self.max_rel_error:.3g}; worst element {i}: analytic {self.analytic[i]!r}, "
                f"numeric {self.numeric[i]!r} +- {self.numeric_error[i]:.2g} "
                f"(tolerance {self.tolerance[i]:.2g})")


def compare_grad(func: Callable[..., Any], grad: Callable[..., Any], x0: Any, *args: Any,
                 rtol: float = 1e-6, atol: float = 1e-10, method: str = "central") -> GradComparison:
    """Compare ``grad(x0)`` with an adaptive Richardson estimate of the gradient of ``func``.

    An element passes when ``|analytic - numeric| <= atol + rtol * |numeric| + err``,
    where ``err`` is the numerical estimate's own error bound (truncation plus
    rounding), so no step size needs tuning and float32-level noise is not
    mistaken for a bug.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> f = lambda x: np.sum(np.sin(x) * x)
    >>> numeric.compare_grad(f, lambda x: np.cos(x) * x + np.sin(x), [0.3, 1.2]).passed
    True
    >>> numeric.compare_grad(f, lambda x: np.cos(x) * x, [0.3, 1.2]).passed
    False
    """
    x = np.asarray(x0, dtype=np.float64)
    est = approx_grad(func, x, method=method, args=args)
    analytic = np.asarray(grad(x, *args), dtype=np.float64).reshape(est.value.shape)
    abs_err = np.abs(analytic - est.value)
    tol = atol + rtol * np.abs(est.value) + est.error
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = abs_err / np.maximum(np.abs(est.value), np.finfo(float).tiny)
        score = np.where(tol > 0, abs_err / tol, np.inf)
    worst = np.unravel_index(int(np.nanargmax(np.where(np.isnan(score), np.inf, score))), score.shape)
    return GradComparison(analytic, est.value, est.error, tol, float(abs_err.max()), float(rel.max()),
                          tuple(int(i) for i in worst), bool(np.all(abs_err <= tol)))
