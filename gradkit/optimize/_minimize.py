"""``minimize``: every ``scipy.optimize.minimize`` method with exact derivatives from gradkit."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import numpy as np

from .. import func as _gf
from gradkit._core.concrete import differentiating
from ._core import Objective, Packer, VectorFunction, fetch, require_scipy, to_array, to_float
from ._progress import make_progress

__all__ = ["minimize"]

_NO_GRAD = {"nelder-mead", "powell", "cobyla", "cobyqa"}
_HESSP = {"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"}
_HESS = {"dogleg", "trust-exact"}
_CONSTRAINED = {"slsqp", "trust-constr", "cobyla", "cobyqa"}
_CONSTRAINT = "gradkit.optimize.minimize (a constraint)"


def _default_method(constraints: Any, bounds: Any) -> str:
    # NOTE: SciPy's own rule, needed here to know which derivatives to supply.
    if constraints:
        return "slsqp"
    return "l-bfgs-b" if bounds is not None else "bfgs"


def _objective_pair(obj: Objective, meth: str, jac: Any) -> tuple[Callable[..., Any], Any]:
    """The ``fun`` and ``jac`` SciPy gets: ``jac=True`` with (f, g) from one pass by default."""
    packer = obj.packer
    if meth in _NO_GRAD and not callable(jac) and jac is not True:
        return obj.value, None
    if jac is None:
        return obj.value_and_grad, True
    if jac is True:
        def pair(x: Any) -> tuple[float, np.ndarray]:
            obj.nfev += 1
            obj.njev += 1
            f, g = fetch(*obj.fun(packer.unravel(np.array(x, dtype=np.float64)), *obj.args))
            return to_float(f), packer.flatten(g)
        return pair, True
    if callable(jac):
        def user_jac(x: Any) -> np.ndarray:
            obj.njev += 1
            return packer.flatten(jac(packer.unravel(np.array(x, dtype=np.float64)), *obj.args))
        return obj.value, user_jac
    return obj.value, jac                     # '2-point', '3-point', 'cs': SciPy's differences


def _second_order(obj: Objective, meth: str, hess: Any, hessp: Any) -> tuple[Any, Any]:
    packer = obj.packer
    if callable(hess):
        def user_hess(x: Any) -> Any:
            obj.nhev += 1
            h = hess(packer.unravel(np.array(x, dtype=np.float64)), *obj.args)
            return h if not hasattr(h, "shape") or hasattr(h, "matvec") else to_array(h)
        return user_hess, None
    if callable(hessp):
        def user_hessp(x: Any, p: Any) -> np.ndarray:
            obj.nhev += 1
            return packer.flatten(hessp(packer.unravel(np.array(x, dtype=np.float64)),
                                        packer.unravel(np.asarray(p, dtype=np.float64)), *obj.args))
        return None, user_hessp
    if hess is not None:
        return hess, None                     # a HessianUpdateStrategy or a difference scheme
    if meth in _HESS:
        return obj.hess, None
    if meth in _HESSP:
        obj.keep_graph = True
        return None, obj.hessp
    return None, None


def _bounds(bounds: Any, packer: Packer, so: Any) -> Any:
    """SciPy's forms pass as they are; ``(lower, upper)`` trees shaped like ``x0`` are flattened."""
    if bounds is None or isinstance(bounds, so.Bounds) or packer.single:
        return bounds
    if isinstance(bounds, (tuple, list)) and len(bounds) == 2 and len(bounds) != packer.n:
        lo, hi = (np.full(packer.n, s) if b is None else
                  (np.full(packer.n, float(b)) if np.ndim(b) == 0 and not isinstance(b, (dict, list, tuple))
                   else packer.flatten(b)) for b, s in zip(bounds, (-np.inf, np.inf)))
        return so.Bounds(lo, hi)
    return bounds


def _constraints(constraints: Any, packer: Packer, so: Any) -> Any:
    """Constraint functions take ``x`` in the user's structure; missing Jacobians (and, for
    ``NonlinearConstraint``, Hessians of ``v . c(x)``) are supplied exactly."""
    single = isinstance(constraints, (dict, so.NonlinearConstraint, so.LinearConstraint))
    items = [constraints] if single else list(constraints or ())
    out = [_one_constraint(c, packer, so) for c in items]
    return out[0] if single else out


def _one_constraint(c: Any, packer: Packer, so: Any) -> Any:
    if isinstance(c, dict):
        c = dict(c)
        vf = VectorFunction(c["fun"], packer, c.get("args", ()), owner=_CONSTRAINT)
        user_jac = c.get("jac")
        c["fun"] = vf.values
        c["jac"] = vf.jac if user_jac is None else _flat_callable(user_jac, packer, c.get("args", ()))
        c["args"] = ()
        return c
    if isinstance(c, so.NonlinearConstraint):
        vf = VectorFunction(c.fun, packer, owner=_CONSTRAINT)
        exact = isinstance(c.jac, str)
        jac = vf.jac if exact else _flat_callable(c.jac, packer, ())
        hess = c.hess
        if exact and hess is None:
            def hess(x: Any, v: Any) -> np.ndarray:
                v = np.asarray(v, dtype=np.float64)
                with differentiating(_CONSTRAINT):
                    h = _gf.hessian(lambda flat: (vf.call(flat) * v).sum())(np.array(x, dtype=np.float64))
                return to_array(h).reshape(len(x), len(x))
        return so.NonlinearConstraint(vf.values, c.lb, c.ub, jac=jac, hess=hess,
                                      keep_feasible=c.keep_feasible)
    return c


def _flat_callable(fn: Callable[..., Any], packer: Packer, args: Sequence[Any]) -> Callable[..., Any]:
    def flat(x: Any) -> np.ndarray:
        return to_array(fn(packer.unravel(np.array(x, dtype=np.float64)), *args))
    return flat


def _wants_result(callback: Callable[..., Any]) -> bool:
    try:
        return set(inspect.signature(callback).parameters) == {"intermediate_result"}
    except (TypeError, ValueError):
        return False


def _callback(user: Callable[..., Any] | None, prog: Any, obj: Objective,
              meth: str, so: Any, path: list[np.ndarray] | None = None) -> Callable[..., Any] | None:
    """One callback for SciPy that drives the progress line, records the path and calls the
    user's with ``x`` in the user's structure, in the style the user's callback asks for."""
    if user is None and prog is None and path is None:
        return None
    new_style = user is not None and _wants_result(user)

    def callback(intermediate_result: Any) -> Any:
        res = intermediate_result
        x = np.asarray(res.x if isinstance(res, so.OptimizeResult) else res, dtype=np.float64)
        if path is not None:
            path.append(x.copy())
        if prog is not None:
            f, gn = obj.seen.get(x.tobytes(), (None, None))
            if f is None and isinstance(res, so.OptimizeResult) and "fun" in res:
                f = float(res.fun)
            prog.update(f, gn)
        if user is None:
            return None
        xs = obj.packer.restore(x)
        if new_style:
            full = so.OptimizeResult(res) if isinstance(res, so.OptimizeResult) else \
                so.OptimizeResult(x=x, fun=obj.seen.get(x.tobytes(), (None,))[0])
            full.x = xs
            return user(intermediate_result=full)
        if meth == "trust-constr":
            return user(xs, res)
        return user(xs)
    return callback


def minimize(fun: Callable[..., Any], x0: Any, args: Any = (), method: str | Callable[..., Any] | None = None,
             jac: Any = None, hess: Any = None, hessp: Any = None, bounds: Any = None,
             constraints: Any = (), tol: float | None = None, callback: Callable[..., Any] | None = None,
             options: dict[str, Any] | None = None, progress: Any = False,
             return_path: bool = False, compile: bool = True) -> Any:  # noqa: A002
    """Minimize ``fun(x, *args)`` with ``scipy.optimize.minimize`` and exact derivatives.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``, written with gradkit operations or plain NumPy (NumPy
        functions run on gradkit tensors). A one-element array or tensor counts as a scalar.
    x0 : float, array_like, Tensor or pytree
        Starting point: a number, an array, a tensor, or nested tuples/lists/dicts of them (a
        list of numbers is an array, as in SciPy). ``fun`` receives ``x`` in the same structure;
        float32 and 0-d leaves are cast to float64 for SciPy.
    method : str or callable, optional
        Any ``scipy.optimize.minimize`` method; SciPy's default rule when omitted.
    jac, hess, hessp : optional
        When omitted, computed exactly: value and gradient from one forward and one backward
        pass (``jac=True`` for SciPy); Hessian-vector products for Newton-CG, trust-ncg,
        trust-krylov and trust-constr; full Hessians for dogleg and trust-exact. Given ones
        (callables taking ``x`` in the user's structure, ``True``, or SciPy's strings) are used.
    bounds : Bounds, sequence of (min, max), or (lower, upper) trees shaped like ``x0``
    constraints : dict, NonlinearConstraint, LinearConstraint or a sequence of them
        Constraint functions take ``x`` in the user's structure; their Jacobians (and for
        ``NonlinearConstraint`` the Hessians of ``v . c(x)``) are exact unless given.
    tol, options : passed to SciPy.
    callback : callable, optional
        ``callback(x)`` with ``x`` in the user's structure, or ``callback(intermediate_result)``
        (``callback(x, state)`` for trust-constr), as in SciPy; raising StopIteration stops.
    progress : bool or file-like
        ``True`` reports iteration, f and |g| on stderr: tqdm's bar on a terminal when tqdm is
        installed, else a live line (rate, ETA when ``options['maxiter']`` is set) rewritten at
        most every 0.2 s; a stream that is not a terminal (a log file) gets a plain line at the
        start, at most one every 10 s, and one at the end, never carriage returns. A stream
        writes there instead of stderr.
    return_path : bool
        Record the iterates: ``result.path`` is an ``(nit + 1, n)`` array of the flattened
        points, ``x0`` first, one row per iteration (SciPy's callback), the last row
        ``result.x``; ``gradkit.viz.plot_optimization_path(fun, result)`` draws it.

    compile : bool
        Trace the value and gradient once (``gradkit.compile``) and replay the recorded
        program on later calls, with results identical to eager ones. Where a trace cannot be
        trusted (randomness, Python state that changes, Dask tensors, ...) it runs eagerly by
        itself; ``result.compiled`` says which happened and ``result.compile_reason`` why not.
        Hessians and Hessian-vector products always run eagerly.

    Returns
    -------
    scipy.optimize.OptimizeResult
        SciPy's result with ``x`` and ``jac`` in ``x0``'s structure; ``nfev``, ``njev`` and
        ``nhev`` count the forward passes, backward passes and Hessian (-vector) products
        gradkit actually ran; ``compiled`` and ``compile_reason`` as above.

    Raises
    ------
    gradkit.ConcretizationError
        When ``fun`` turns ``x`` (or a value computed from it) into a Python or NumPy value
        while gradkit differentiates it (``math.sin(x[0])``, ``float(...)``, filling
        ``np.zeros(n)`` element by element): its gradient would silently be zero.
    RuntimeError
        When the value of ``fun`` does not depend on ``x`` through gradkit's graph
        (``x.detach()``, a constant). NOTE: gradkit does not fall back to finite differences
        by itself, so a dropped graph is never reported as convergence at ``x0``; pass
        ``jac='2-point'`` for a true black box.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit.optimize import minimize
    >>> res = minimize(lambda x: x ** 2 - 4 * x + 8, [1.3], method="BFGS")
    >>> np.round(res.x, 6), res.nfev
    (array([2.]), 3)
    """
    so = require_scipy(f"minimize(method={method!r})" if isinstance(method, str) else "minimize")
    packer = Packer(x0)
    obj = Objective(fun, packer, args, compile=compile)
    meth = method.lower() if isinstance(method, str) else \
        (_default_method(constraints, bounds) if method is None else "custom")
    f_s, jac_s = _objective_pair(obj, meth, jac)
    # NOTE: a finite-difference jac says the objective is a black box: its Hessian is not
    # differentiated either (SciPy's own default, a quasi-Newton update for trust-constr, applies)
    black_box = isinstance(jac, str) or jac is False
    hess_s, hessp_s = _second_order(obj, meth, hess, hessp) \
        if meth not in _NO_GRAD and not black_box else (hess, hessp)
    cons = _constraints(constraints, packer, so) if constraints else ()
    prog = make_progress(progress, f"minimize[{meth}]", (options or {}).get("maxiter"))
    path: list[np.ndarray] | None = [packer.x0.copy()] if return_path else None
    cb = _callback(callback, prog, obj, meth, so, path)
    try:
        res = so.minimize(f_s, packer.x0, args=(), method=method if method is not None else meth,
                          jac=jac_s, hess=hess_s, hessp=hessp_s, bounds=_bounds(bounds, packer, so),
                          constraints=cons, tol=tol, callback=cb, options=options)
    except BaseException:
        if prog is not None:
            prog.close()
        raise
    if prog is not None:
        prog.close(res)
    if path is not None:
        last = np.asarray(res.x, dtype=np.float64).ravel()
        if not np.array_equal(path[-1], last):
            path.append(last.copy())
        res.path = np.array(path)
    return _finish(res, obj, meth, jac)


def _finish(res: Any, obj: Objective, meth: str, jac: Any = None) -> Any:
    packer = obj.packer
    flat_x = np.asarray(res.x, dtype=np.float64)
    res.x = packer.restore(flat_x)
    res.fun = to_float(res.fun)
    grad = res.get("grad") if meth == "trust-constr" else res.get("jac")
    if grad is not None and np.size(grad) == packer.n:
        key = "grad" if meth == "trust-constr" else "jac"
        res[key] = packer.restore(grad)
    scipy_njev = res.get("njev")
    res.nfev, res.njev, res.nhev = obj.nfev, obj.njev, obj.nhev
    res.compiled, res.compile_reason = obj.compile_report()
    if isinstance(jac, str) and scipy_njev is not None:
        # NOTE: SciPy's differences ('2-point', ...) ran no backward pass, yet each is a
        # gradient evaluation, which SciPy's njev counts
        res.njev = scipy_njev
    return res
