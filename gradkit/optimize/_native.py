"""Optimizers that need nothing but NumPy: gradient descent and scalar Newton/Halley."""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from gradkit._core.tensor import Tensor, _make
from ..autograd import grad as _autograd_grad
from gradkit._core.grad_mode import enable_grad
from gradkit._core.concrete import differentiating
from ._core import Objective, Packer, check_connected, to_array
from ._progress import make_progress

__all__ = ["OptimizeResult", "RootResults", "gradient_descent", "newton"]


class OptimizeResult(dict):
    """The result of a native optimizer: a dict with attribute access, like SciPy's."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    __setattr__ = dict.__setitem__          # type: ignore[assignment]
    __delattr__ = dict.__delitem__          # type: ignore[assignment]

    def __repr__(self) -> str:
        width = max(map(len, self)) + 1 if self else 0
        return "\n".join(f"{k.rjust(width)}: {v!r}" for k, v in self.items())


class RootResults:
    """A scalar root: ``root``, ``iterations``, ``function_calls``, ``converged``, ``flag``,
    ``method``, as ``scipy.optimize.RootResults``."""

    def __init__(self, root: Any, iterations: int, function_calls: int, converged: Any,
                 flag: str, method: str) -> None:
        self.root, self.iterations, self.function_calls = root, iterations, function_calls
        self.converged, self.flag, self.method = converged, flag, method

    def __repr__(self) -> str:
        return "\n".join(f"{k.rjust(15)}: {v!r}" for k, v in vars(self).items())


# --- gradient descent ------------------------------------------------------------------
def _check_gd(lr: float, momentum: float, nesterov: bool, method: str) -> None:
    if not lr > 0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if momentum < 0:
        raise ValueError(f"Invalid momentum value: {momentum}")
    if nesterov and momentum <= 0:
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")
    if method not in ("fixed", "armijo"):
        raise ValueError(f"method must be 'fixed' or 'armijo', got {method!r}")


def _armijo(obj: Objective, x: np.ndarray, f: float, g: np.ndarray, d: np.ndarray,
            lr: float) -> tuple[float, float]:
    """Backtrack from ``lr`` until ``f(x - t d) <= f - 1e-4 t g.d``; returns (t, f_new)."""
    slope = float(g @ d)
    t = lr
    for _ in range(60):
        f_new = obj.value(x - t * d)
        if f_new <= f - 1e-4 * t * slope:
            return t, f_new
        t *= 0.5
    return 0.0, f


def gradient_descent(fun: Callable[..., Any], x0: Any, lr: float = 1e-2, method: str = "fixed",
                     momentum: float = 0.0, nesterov: bool = False, maxiter: int = 1000,
                     tol: float = 1e-6, args: Any = (), callback: Callable[..., Any] | None = None,
                     progress: Any = False, return_path: bool = False) -> OptimizeResult:
    """Minimize ``fun(x, *args)`` by gradient descent with exact gradients (no SciPy needed).

    Parameters
    ----------
    fun : callable
        Scalar objective written with gradkit operations or plain NumPy.
    x0 : float, array_like, Tensor or pytree
        Starting point; the result keeps its structure.
    lr : float
        The step (``'fixed'``) or the first step tried by backtracking (``'armijo'``).
    method : {'fixed', 'armijo'}
        A constant step, or Armijo backtracking (halving until ``f`` drops by
        ``1e-4 * t * g.d``).
    momentum, nesterov : float, bool
        Heavy-ball momentum in PyTorch's form ``b = momentum * b + g``, stepping along ``b``
        (or ``g + momentum * b`` with ``nesterov``).
    maxiter, tol : int, float
        Stop after ``maxiter`` steps, or when the largest gradient entry is at most ``tol``.
    callback : callable, optional
        ``callback(x)`` after each step, ``x`` in ``x0``'s structure; StopIteration stops.
    progress : bool or file-like
        A progress line (iteration, f, |g|), as in ``minimize``.
    return_path : bool
        ``result.path``: the ``(nit + 1, n)`` flattened iterates, ``x0`` first, for
        ``gradkit.viz.plot_optimization_path(fun, result)``.

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``jac``, ``nit``, ``nfev``, ``njev``, ``success``, ``status``, ``message``.

    Examples
    --------
    >>> from gradkit.optimize import gradient_descent
    >>> res = gradient_descent(lambda x: x ** 2 - 4 * x + 8, 1.3, lr=0.1, tol=1e-10)
    >>> round(res.x, 8), res.success
    (2.0, True)
    """
    _check_gd(lr, momentum, nesterov, method)
    packer = Packer(x0)
    obj = Objective(fun, packer, args, owner="gradkit.optimize.gradient_descent")
    x = packer.x0.copy()
    buf = np.zeros_like(x)
    prog = make_progress(progress, f"gradient_descent[{method}]", maxiter)
    path = [x.copy()] if return_path else None
    f, g = obj.value_and_grad(x)
    status, message, nit = 1, "Maximum number of iterations has been exceeded.", 0
    for nit in range(1, maxiter + 1):
        if np.max(np.abs(g), initial=0.0) <= tol:
            status, message, nit = 0, "Optimization terminated successfully.", nit - 1
            break
        buf = momentum * buf + g if momentum else g
        d = g + momentum * buf if nesterov else buf
        if method == "armijo":
            if float(g @ d) <= 0:                 # momentum turned uphill: restart it
                buf = d = g
            t, _ = _armijo(obj, x, f, g, d, lr)
            if t == 0.0:
                status, message = 2, "Desired error not necessarily achieved due to precision loss."
                break
        else:
            t = lr
        x = x - t * d
        if path is not None:
            path.append(x.copy())
        f, g = obj.value_and_grad(x)
        if not np.isfinite(f):
            status, message = 3, "The objective became non-finite; try a smaller lr or method='armijo'."
            break
        if prog is not None:
            prog.update(f, float(np.linalg.norm(g)))
        if callback is not None:
            try:
                callback(packer.restore(x))
            except StopIteration:
                status, message = 99, "`callback` raised `StopIteration`."
                break
    res = OptimizeResult(x=packer.restore(x), fun=f, jac=packer.restore(g), nit=nit,
                         nfev=obj.nfev, njev=obj.njev, status=status, success=status == 0,
                         message=message)
    if path is not None:
        res["path"] = np.array(path)
    if prog is not None:
        prog.close(res)
    return res


# --- Newton and Halley for scalar roots ------------------------------------------------
def _derivatives(func: Callable[..., Any], x: np.ndarray, args: tuple[Any, ...],
                 order: int) -> list[np.ndarray]:
    """``f(x)``, ``f'(x)`` and, for ``order == 2``, ``f''(x)``, elementwise, from one forward
    pass (each element's derivative: ``func`` acts elementwise on an array ``x0``)."""
    xt = _make(x.copy(), True, None)
    with enable_grad(), differentiating("gradkit.optimize.newton", [xt]):
        y = func(xt, *args)
        check_connected(y, xt, "gradkit.optimize.newton", "function")
        y = y if isinstance(y, Tensor) else _make(to_array(y), False, None)
        out = [to_array(y).reshape(x.shape)]
        g = None
        if y.requires_grad:
            (g,) = _autograd_grad(y.sum(), xt, create_graph=order > 1, allow_unused=True)
        out.append(np.zeros_like(x) if g is None else to_array(g).reshape(x.shape))
        if order > 1:
            h = None
            if g is not None and g.requires_grad:
                (h,) = _autograd_grad(g.sum(), xt, allow_unused=True)
            out.append(np.zeros_like(x) if h is None else to_array(h).reshape(x.shape))
    return out


def _user_derivative(fn: Any, x: np.ndarray, args: tuple[Any, ...]) -> np.ndarray:
    return np.broadcast_to(to_array(fn(x if x.ndim else float(x), *args)), x.shape).astype(np.float64)


def newton(func: Callable[..., Any], x0: Any, fprime: Any = None, args: tuple[Any, ...] = (),
           tol: float = 1.48e-8, maxiter: int = 50, fprime2: Any = None, x1: Any = None,
           rtol: float = 0.0, full_output: bool = False, disp: bool = True) -> Any:
    """A root of ``func`` by Newton's method (Halley's with ``fprime2``), with exact derivatives.

    SciPy's signature and results; SciPy is not needed. ``fprime=None`` means the exact first
    derivative (SciPy falls back to the secant method); ``fprime2=True`` means the exact second
    derivative, so Halley's method, which converges cubically. Callables are used as given.
    An array ``x0`` solves elementwise, ``func`` acting elementwise.

    Returns
    -------
    float or ndarray
        The root; with ``full_output``, ``(root, RootResults)`` for a scalar and
        ``(root, converged, zero_der)`` for an array, as SciPy.

    Examples
    --------
    >>> from gradkit.optimize import newton
    >>> round(newton(lambda x: x ** 3 - 2, 1.0, fprime2=True), 12)
    1.259921049895
    """
    if tol <= 0:
        raise ValueError(f"tol too small ({tol:g} <= 0)")
    if maxiter < 1:
        raise ValueError("maxiter must be greater than 0")
    del x1                                    # NOTE: only for the secant method, never needed here
    scalar = np.ndim(x0) == 0 and not isinstance(x0, Tensor)
    x = np.array(to_array(x0), dtype=np.float64)
    halley = fprime2 is not None and fprime2 is not False
    order = 2 if fprime2 is True else 1
    auto = fprime is None or fprime is True
    calls, converged, zero_der = 0, np.zeros(x.shape, bool), np.zeros(x.shape, bool)
    nit = 0
    for nit in range(1, maxiter + 1):  # noqa: B007  (nit is reported after the loop)
        if auto or fprime2 is True:
            ders = _derivatives(func, x, args, order)
        else:
            ders = [to_array(func(x if x.ndim else float(x), *args)).reshape(x.shape)]
        calls += 1
        f = ders[0]
        d1 = ders[1] if auto else _user_derivative(fprime, x, args)
        zero_der = (d1 == 0) & (f != 0)
        if np.all(f == 0) or zero_der.any():
            converged = f == 0
            break
        step = f / d1
        if halley:
            d2 = ders[2] if fprime2 is True else _user_derivative(fprime2, x, args)
            adj = step * d2 / d1 / 2
            step = np.where(np.abs(adj) < 1, step / (1.0 - adj), step)
        x_new = x - step
        converged = np.abs(x_new - x) <= tol + rtol * np.abs(x_new)
        x = x_new
        if np.all(converged):
            break
    method = "halley" if halley else "newton"
    flag = "converged" if np.all(converged) else \
        ("convergence error" if zero_der.any() else f"Failed to converge after {nit} iterations")
    if disp and not np.all(converged):
        if zero_der.any() or not scalar:
            what = "Derivative was zero. " if zero_der.any() else ""
            warnings.warn(f"{what}Failed to converge after {nit} iterations, value is "
                          f"{x if x.ndim else float(x)}.", RuntimeWarning, stacklevel=2)
        else:
            raise RuntimeError(f"Failed to converge after {nit} iterations, value is "
                               f"{x if x.ndim else float(x)}.")
    root = float(x) if scalar else x
    if not full_output:
        return root
    if scalar:
        return root, RootResults(root, nit, calls, bool(converged), flag, method)
    return root, converged, zero_der
