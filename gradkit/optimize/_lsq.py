"""Least squares, curve fitting and root finding with exact (autodiff) Jacobians."""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from gradkit._core.tensor import Tensor
from ._core import Packer, VectorFunction, require_scipy, to_array
from ._progress import make_progress

__all__ = ["least_squares", "curve_fit", "root"]


def least_squares(fun: Callable[..., Any], x0: Any, jac: Any = None, bounds: Any = (-np.inf, np.inf),
                  method: str = "trf", args: Any = (), kwargs: dict[str, Any] | None = None,
                  progress: Any = False, **options: Any) -> Any:
    """``scipy.optimize.least_squares`` with the exact Jacobian of the residuals.

    ``fun(x, *args, **kwargs)`` returns the residuals (any shape, or a pytree of arrays; they
    are flattened); ``x0`` may be a pytree and ``result.x`` keeps its structure. ``jac=None``
    computes the Jacobian by forward mode (fewer parameters than residuals) or reverse mode;
    a callable or SciPy's difference schemes (``'2-point'``, ...) are used as given. The other
    keywords (``ftol``, ``x_scale``, ``loss``, ``max_nfev``, ...) go to SciPy. ``progress=True``
    (or a stream) reports residual evaluations with ``0.5 * sum(r**2)`` as ``minimize`` does.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit.optimize import least_squares
    >>> res = least_squares(lambda x: np.stack([10 * (x[1] - x[0] ** 2), 1 - x[0]]), [-1.2, 1.0])
    >>> np.round(res.x, 6)
    array([1., 1.])
    """
    so = require_scipy("least_squares")
    packer = Packer(x0)
    vf = VectorFunction(fun, packer, args if isinstance(args, (tuple, list)) else (args,), kwargs,
                        owner="gradkit.optimize.least_squares")
    if jac is None:
        jac_s: Any = vf.jac
    elif callable(jac):
        def jac_s(x: Any) -> Any:
            return to_array(jac(packer.unravel(np.array(x, dtype=np.float64)), *args, **(kwargs or {})))
    else:
        jac_s = jac
    if not (isinstance(bounds, tuple) and len(bounds) == 2) or packer.single:
        flat_bounds = bounds
    else:
        flat_bounds = tuple(packer.flatten(b) if not np.isscalar(b) else b for b in bounds)
    prog = make_progress(progress, f"least_squares[{method}]", options.get("max_nfev"), "fev")
    try:
        res = so.least_squares(_reporting(vf.values, prog), packer.x0, jac=jac_s, bounds=flat_bounds,
                               method=method, **options)
    finally:
        if prog is not None:
            prog.close()
    res.x = packer.restore(res.x)
    return res


def _reporting(fn: Callable[..., Any], prog: Any) -> Callable[..., Any]:
    """``fn`` (residuals), counting each call on the progress line with the cost ``0.5 |r|^2``."""
    if prog is None:
        return fn

    def wrapped(*a: Any) -> Any:
        r = fn(*a)
        prog.update(0.5 * float(np.sum(np.square(np.abs(r)))), None)
        return r
    return wrapped


def _n_params(f: Callable[..., Any]) -> int:
    sig = inspect.signature(f)
    params = [p for p in sig.parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()) or len(params) < 2:
        raise ValueError("Unable to determine number of fit parameters.")
    return len(params) - 1


def curve_fit(f: Callable[..., Any], xdata: Any, ydata: Any, p0: Any = None, sigma: Any = None,
              absolute_sigma: bool = False, check_finite: bool | None = None,
              bounds: Any = (-np.inf, np.inf), method: str | None = None, jac: Any = None, *,
              full_output: bool = False, nan_policy: str | None = None, progress: Any = False,
              **kwargs: Any) -> Any:
    """``scipy.optimize.curve_fit`` with the exact Jacobian of the model in its parameters.

    ``f(xdata, *params)`` may use gradkit operations or plain NumPy; with ``jac=None`` the
    Jacobian with respect to the parameters comes from forward-mode autodiff (one pass with
    one tangent per parameter), so no finite-difference step is tuned. Returns ``popt, pcov``
    (and SciPy's extras with ``full_output``), exactly as SciPy. ``progress=True`` (or a stream)
    reports model evaluations as ``least_squares`` does.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit.optimize import curve_fit
    >>> t = np.linspace(0, 4, 50)
    >>> popt, pcov = curve_fit(lambda t, a, k: a * np.exp(-k * t), t, 3 * np.exp(-0.7 * t))
    >>> np.round(popt, 6)
    array([3. , 0.7])
    """
    so = require_scipy("curve_fit")
    if p0 is None:
        p0 = np.ones(_n_params(f))
    p0 = np.atleast_1d(np.asarray(to_array(p0), dtype=np.float64))
    n = p0.size
    xd = xdata if isinstance(xdata, Tensor) else np.asarray(xdata) if not callable(xdata) else xdata

    def model(flat: Any) -> Any:
        return f(xd, *[flat[i] for i in range(n)])

    vf = VectorFunction(lambda p: model(p), Packer(p0), owner="gradkit.optimize.curve_fit")

    def value(x: Any, *params: float) -> np.ndarray:
        return to_array(f(x, *params))

    if jac is None:
        def jac_s(x: Any, *params: float) -> np.ndarray:
            if x is not xdata and x is not xd:
                local = VectorFunction(lambda p: f(x, *[p[i] for i in range(n)]), Packer(p0),
                                       owner="gradkit.optimize.curve_fit")
                return local.jac(np.asarray(params))
            return vf.jac(np.asarray(params))
    else:
        jac_s = jac
    prog = make_progress(progress, "curve_fit", kwargs.get("max_nfev"), "fev")
    if prog is not None:
        model_only = value
        y = np.asarray(ydata, dtype=np.float64)

        def value(x: Any, *params: float) -> np.ndarray:
            out = model_only(x, *params)
            prog.update(0.5 * float(np.sum(np.square(out - y))) if np.shape(out) == y.shape else None)
            return out
    try:
        return so.curve_fit(value, xdata, ydata, p0=p0, sigma=sigma, absolute_sigma=absolute_sigma,
                            check_finite=check_finite, bounds=bounds, method=method, jac=jac_s,
                            full_output=full_output, nan_policy=nan_policy, **kwargs)
    finally:
        if prog is not None:
            prog.close()


_ROOT_JAC = {"hybr", "lm"}


def root(fun: Callable[..., Any], x0: Any, args: Any = (), method: str = "hybr", jac: Any = None,
         tol: float | None = None, callback: Callable[..., Any] | None = None,
         options: dict[str, Any] | None = None) -> Any:
    """``scipy.optimize.root`` with the exact Jacobian (for ``'hybr'`` and ``'lm'``).

    ``fun(x, *args)`` returns the residual vector (or a pytree, flattened); with ``jac=None``
    the Jacobian is exact (forward or reverse mode,
    whichever needs fewer passes). ``x0`` may be a pytree; ``result.x`` keeps
    its structure. The quasi-Newton methods (``'broyden1'``, ``'krylov'``, ...) use no Jacobian.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit.optimize import root
    >>> sol = root(lambda x: np.stack([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0,
    ...                                0.5 * (x[1] - x[0]) ** 3 + x[1]]), [0.0, 0.0])
    >>> np.round(sol.x, 6), sol.success
    (array([0.841164, 0.158836]), True)
    """
    so = require_scipy(f"root(method={method!r})")
    packer = Packer(x0)
    vf = VectorFunction(fun, packer, args if isinstance(args, (tuple, list)) else (args,),
                        owner="gradkit.optimize.root")
    meth = method.lower() if isinstance(method, str) else method
    if jac is None and meth in _ROOT_JAC:
        # NOTE: hybr and lm ask for the Jacobian far less often than for values (Broyden
        # updates in between), so values run forward only and the Jacobian is separate.
        fun_s, jac_s = vf.values, vf.jac
    elif callable(jac):
        def jac_s(x: Any) -> Any:
            return to_array(jac(packer.unravel(np.array(x, dtype=np.float64)), *vf.args))
        fun_s = vf.values
    else:
        fun_s, jac_s = vf.values, (jac if jac is not None and meth in _ROOT_JAC else None)
    cb = None
    if callback is not None:
        def cb(x: Any, f: Any) -> Any:
            return callback(packer.restore(x), f)
    res = so.root(fun_s, packer.x0, method=method, jac=jac_s, tol=tol, callback=cb, options=options)
    res.x = packer.restore(res.x)
    return res
