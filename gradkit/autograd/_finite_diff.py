"""Derivatives of black-box functions: adaptive steps, Richardson extrapolation, complex step.

Every estimate comes with an error estimate. A finite-difference formula is evaluated
on a ladder of steps ``h_k = h_0 / ratio**k``, walked down only as far as needed
(``derivative``: until the error estimate meets the tolerances, as
``scipy.differentiate.derivative`` adapts its step); two rounds of Richardson extrapolation
cancel the leading truncation terms; the error of each extrapolant is estimated from
its spread against both neighbours plus a bound on the rounding error, and the
extrapolant with the smallest estimate is returned (the DERIVEST / numdifftools idea).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ._stencil import fornberg

__all__ = ["DerivativeResult", "derivative", "approx_grad", "approx_jacobian", "approx_hessian"]

_EPS = np.finfo(np.float64).eps
# NOTE: the error estimate is a spread of extrapolants; the minimum over the ladder is
# biased low, so it is scaled up (DERIVEST uses 12.7 for the same reason).
_SAFETY = 4.0
_ROUNDING = 10.0      # ulps of rounding assumed in each function value


@dataclass
class DerivativeResult:
    """A derivative estimate: ``value``, its ``error`` estimate, the chosen ``step`` and ``nfev``."""

    value: Any
    error: Any
    step: Any
    nfev: int

    @property
    def success(self) -> Any:
        """Whether the value and its error estimate are finite."""
        return np.isfinite(self.value) & np.isfinite(self.error)

    def __repr__(self) -> str:
        return (f"DerivativeResult(value={self.value!r}, error={self.error!r}, "
                f"step={self.step!r}, nfev={self.nfev})")


def _stencil(n: int, method: str, order: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Integer offsets, weights and truncation exponents of the base difference formula."""
    if method == "central":
        if order % 2:
            raise ValueError(f"central differences have even orders; got order={order}")
        half = ((n + 1) // 2 * 2 - 1 + order) // 2
        nodes = np.arange(-half, half + 1)
        exps = [order, order + 2, order + 4]
    elif method in ("forward", "backward"):
        nodes = np.arange(n + order) * (1 if method == "forward" else -1)
        exps = [order, order + 1, order + 2]
    else:
        raise ValueError(f"method must be 'central', 'forward', 'backward' or 'complex', got {method!r}")
    w = fornberg(0.0, nodes.astype(np.float64), n)
    keep = np.abs(w) > 1e-12 * np.abs(w).max()
    return nodes[keep].astype(np.float64), w[keep], exps


def _extrapolate(D: np.ndarray, rnd: np.ndarray, exps: Sequence[int],
                 ratio: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Richardson-extrapolate ``D`` (steps on axis 0) and pick the best-estimated entry."""
    R, E = D, rnd
    for p in exps[:2]:
        q = ratio ** p
        R = (q * R[1:] - R[:-1]) / (q - 1)
        E = (q * E[1:] + E[:-1]) / (q - 1)
    with np.errstate(invalid="ignore", over="ignore"):
        spread = np.abs(np.diff(R, axis=0))
        err = np.full(R.shape, np.inf)
        err[1:-1] = _SAFETY * np.maximum(spread[:-1], spread[1:]) + _ROUNDING * E[1:-1]
    err[~np.isfinite(err) | ~np.isfinite(R)] = np.inf
    k = np.argmin(err, axis=0)[None]
    value = np.take_along_axis(R, k, axis=0)[0]
    error = np.take_along_axis(err, k, axis=0)[0]
    return value, error, k[0]


def _steps(x: np.ndarray, step: Any, num_steps: int, ratio: float) -> np.ndarray:
    """The step ladder, shape ``(num_steps, *x.shape)``."""
    h0 = 0.5 * np.maximum(np.abs(x), 1.0) if step is None else np.broadcast_to(
        np.asarray(step, dtype=np.float64), x.shape)
    return h0[None] * ratio ** -np.arange(num_steps, dtype=np.float64).reshape((-1,) + (1,) * x.ndim)


def _call(f: Callable[..., Any], X: np.ndarray, args: tuple[Any, ...], vectorized: bool) -> np.ndarray:
    """``f`` at every point of ``X``: one call when vectorized, else one call per element."""
    if vectorized:
        return np.asarray(f(X, *args))
    return np.asarray([f(xi, *args) for xi in X.ravel()]).reshape(X.shape)


def _not_real(v0: np.ndarray) -> np.ndarray:
    """Where ``f`` is not real on the real axis, the complex step does not apply."""
    return ~np.isfinite(v0) | (np.asarray(v0).imag != 0)


def _complex_step(f: Callable[..., Any], x: np.ndarray, args: tuple[Any, ...],
                  vectorized: bool) -> DerivativeResult:
    scale = np.maximum(np.abs(x), 1.0)
    h = np.stack([1e-20 * scale, 1e-15 * scale, 0 * scale])
    with np.errstate(all="ignore"):
        V = _call(f, x[None] + 1j * h, args, vectorized).astype(complex)
    D = V[:2].imag / h[:2]
    err = np.abs(D[0] - D[1]) + 4 * _EPS * np.abs(D[0])
    err = np.where(_not_real(V[2]), np.inf, err)
    return DerivativeResult(D[0], err, h[0], 3 * x.size)


def derivative(f: Callable[..., Any], x: Any, n: int = 1, *, method: str = "central",
               order: int | None = None, step: Any = None, args: tuple[Any, ...] = (),
               vectorized: bool = True, num_steps: int = 30,
               step_ratio: float = 2.0, tolerances: Any = None) -> DerivativeResult:
    """The ``n``-th derivative of a scalar function at ``x``, with an error estimate.

    Parameters
    ----------
    f : callable
        ``f(x, *args)``, elementwise: each iteration calls it once on an array of the
        points it needs (``vectorized=False`` calls it once per point instead).
    x : array_like
        Where to differentiate; any shape (each element is a separate problem).
    n : int
        Derivative order, 1 to 4.
    method : {'central', 'forward', 'backward', 'complex'}
        Difference formula. ``'complex'`` is the complex step ``Im f(x + ih) / h``
        (``n=1``, analytic ``f`` that accepts complex input): no cancellation, so the
        result is accurate to about machine precision. Where ``f(x + 0j)`` is not real
        (a branch cut), the error estimate is ``inf``.
    order : int, optional
        Default (``None``), for the first derivative by central differences: SciPy's scheme
        (``scipy.differentiate.derivative``): an 8th-order formula on the nodes
        ``x +- h * step_ratio**-j``, refined by shrinking ``h``, which reuses all but two
        nodes: 9 evaluations, then 2 per refinement (11 for a smooth function, as SciPy).
        Otherwise the order of the base formula (even for central), refined by Richardson
        extrapolation on the step ladder (the default for ``n > 1`` and one-sided methods: 2).
    step : float or array_like, optional
        Largest step ``h_0``; the default is ``0.5 * max(|x|, 1)``. At most ``num_steps``
        steps (refinements) of ratio ``step_ratio`` follow it.
    tolerances : dict, optional
        ``atol`` and ``rtol`` (defaults: the smallest normal float, as
        ``scipy.differentiate.derivative``, and ``1e-10``). The step is adapted as SciPy's is: the steps
        are walked down only until the error estimate is within ``atol + rtol * |value|``
        (or stops improving), so a smooth function costs about a dozen evaluations, not
        ``num_steps * len(stencil)``. With ``rtol=0`` the walk goes on until the estimate
        stops improving.

    Returns
    -------
    DerivativeResult
        ``value`` and ``error`` shaped like ``x``, the chosen ``step`` and ``nfev``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> r = numeric.derivative(np.exp, [0.0, 1.0])
    >>> bool(np.all(np.abs(r.value - np.exp([0.0, 1.0])) <= r.error))
    True
    >>> bool(numeric.derivative(np.sin, 0.5, method='complex').value == np.cos(0.5))
    True
    """
    if not 1 <= n <= 4:
        raise ValueError(f"n must be 1, 2, 3 or 4, got {n!r}")
    x = np.asarray(x, dtype=np.float64)
    if method == "complex":
        if n != 1:
            raise ValueError("the complex step gives first derivatives only; use method='central'")
        return _complex_step(f, x, args, vectorized)
    atol, rtol = _tolerances(tolerances)
    if method == "central" and n == 1 and order is None:
        return _geometric(f, x, _steps(x, step, 1, step_ratio)[0], step_ratio, args, vectorized,
                          num_steps, atol, rtol)
    nodes, w, exps = _stencil(n, method, 2 if order is None else order)
    return _adaptive(f, x, n, nodes, w, exps, _steps(x, step, num_steps, step_ratio), args, vectorized,
                     step_ratio, atol, rtol)


#: order of the first-derivative central formula on geometric nodes (SciPy's default)
_GEOMETRIC_ORDER = 8


def _geometric(f: Callable[..., Any], x: np.ndarray, h0: np.ndarray, c: float,
               args: tuple[Any, ...], vectorized: bool, maxiter: int, atol: float,
               rtol: float) -> DerivativeResult:
    """First derivatives by SciPy's scheme: an 8th-order central formula on the nodes
    ``x +- h c**-j`` (``j < 4``), then ``h /= c`` per iteration, which reuses all but two of
    them, so the first estimate costs 9 evaluations and each refinement 2.

    The error estimate is the change from the previous estimate (an 8th-order formula
    improves by ``c**8`` a step, so this bounds the previous estimate's error and, by far,
    the new one's), plus a bound on the rounding in the function values. An element stops
    when it is within ``atol + rtol * |value|``, or when the change grows (rounding now
    dominates; the previous estimate is returned), or after ``maxiter`` refinements.
    """
    half = _GEOMETRIC_ORDER // 2
    offsets = c ** -np.arange(half, dtype=np.float64)               # in units of h
    nodes = np.concatenate([-offsets[::-1], [0.0], offsets])
    w = fornberg(0.0, nodes, 1)
    shape, xf, hf = x.shape, x.ravel(), np.broadcast_to(h0, x.shape).ravel()
    size = xf.size
    # f at x - h0 c**-m (row 0), x + h0 c**-m (row 1) for m = 0, 1, ...; and at x
    side = np.full((2, half + maxiter, size), np.nan)
    value, error = np.full(size, np.nan), np.full(size, np.inf)
    chosen = np.full(size, np.nan)
    prev = np.full(size, np.nan)
    prev_err = np.full(size, np.inf)
    active = np.arange(size)
    with np.errstate(all="ignore"):
        pts = xf[None, None] + np.array([-1.0, 1.0])[:, None, None] * \
            (hf[None] * offsets[:, None])[None]                        # (2, half, size)
        V = _call(f, np.concatenate([pts.reshape(-1, size), xf[None]]), args, vectorized)
    nfev = V.size
    side[:, :half] = V[:-1].reshape(2, half, size)
    center = V[-1]
    for k in range(maxiter + 1):
        if k:
            m = k + half - 1
            with np.errstate(all="ignore"):
                hm = hf[active] * c ** -m
                Vk = _call(f, xf[active][None] + np.array([-1.0, 1.0])[:, None] * hm[None], args,
                           vectorized)
            nfev += Vk.size
            side[:, m, active] = Vk
        a = active
        h = hf[a] * c ** -k
        rows = np.concatenate([side[0, k:k + half, a].T[::-1], center[a][None], side[1, k:k + half, a].T])
        with np.errstate(all="ignore"):
            D = np.tensordot(w, rows, axes=(0, 0)) / h
            rnd = _ROUNDING * _EPS * np.tensordot(np.abs(w), np.abs(rows), axes=(0, 0)) / h
            # NOTE: twice the change: near a pole the new estimate can be off by about the change
            change = 2.0 * np.abs(D - prev[a]) + rnd if k else np.full(a.size, np.inf)
            # the change grew after the estimates had started to agree: rounding dominates,
            # so the previous estimate (and its error) is the best there is. Before they
            # agree (a step across a pole or out of the domain), walk on down.
            settled = np.isfinite(prev_err[a]) & (prev_err[a] <= 1e-3 * np.abs(prev[a]))
            keep_prev = (change > prev_err[a]) & settled
            value[a] = np.where(keep_prev, prev[a], D)
            error[a] = np.where(keep_prev, prev_err[a], change)
            error[a] = np.where(np.isfinite(value[a]), error[a], np.inf)
            chosen[a] = np.where(keep_prev, h * c, h)
            done = keep_prev | (change <= atol + rtol * np.abs(D))
        prev[a], prev_err[a] = D, change
        active = a[~done]
        if not active.size:
            break
    return DerivativeResult(value.reshape(shape), error.reshape(shape), chosen.reshape(shape), nfev)


_FIRST = 5     # steps evaluated at once: the fewest that give an extrapolant an error estimate
_STALL = 4     # stop once the best error estimate has not improved over this many more steps


def _tolerances(tolerances: Any) -> tuple[float, float]:
    tol = dict(tolerances or {})
    unknown = set(tol) - {"atol", "rtol"}
    if unknown:
        raise ValueError(f"tolerances takes 'atol' and 'rtol', got {sorted(unknown)}")
    atol = tol.get("atol", np.finfo(np.float64).smallest_normal)
    # NOTE: tighter than SciPy's sqrt(eps): SciPy's error is the last change of an 8th-order
    # estimate, several orders above its true error; ours is the extrapolation's own spread
    rtol = tol.get("rtol", 1e-10)
    if not (atol >= 0 and rtol >= 0):
        raise ValueError(f"tolerances must be non-negative, got atol={atol!r}, rtol={rtol!r}")
    return float(atol), float(rtol)


def _adaptive(f: Callable[..., Any], x: np.ndarray, n: int, nodes: np.ndarray, w: np.ndarray,
              exps: Sequence[int], h: np.ndarray, args: tuple[Any, ...], vectorized: bool,
              ratio: float, atol: float, rtol: float) -> DerivativeResult:
    """Walk down the step ladder only as far as each element needs (SciPy's adaptive control).

    ``_FIRST`` steps are evaluated at once, then one step (``len(nodes)`` evaluations) per
    iteration, and only for the elements still running. An element stops once the best
    error estimate of its extrapolation table is within ``atol + rtol * |value|`` (SciPy's
    test), once it has not improved for ``_STALL`` steps after the estimates started to
    agree (rounding now dominates: smaller steps only add noise), or at the end of the ladder.
    """
    shape, K = x.shape, h.shape[0]
    xf, hf = x.ravel(), h.reshape(K, -1)
    size = xf.size
    D = np.full((K, size), np.nan)
    rnd = np.full((K, size), np.nan)
    value, error = np.full(size, np.nan), np.full(size, np.inf)
    chosen = np.full(size, np.nan)
    best_at = np.zeros(size, dtype=int)       # the step count when the error estimate last improved
    active = np.arange(size)
    nfev, k = 0, 0
    while active.size and k < K:
        stop = min(K, max(k + 1, _FIRST))
        hk = hf[k:stop][:, active]                                    # (steps, active)
        with np.errstate(all="ignore"):
            V = _call(f, xf[active][None, None] + nodes[:, None, None] * hk[None], args, vectorized)
            D[k:stop, active] = np.tensordot(w, V, axes=(0, 0)) / hk ** n
            rnd[k:stop, active] = _EPS * np.tensordot(np.abs(w), np.abs(V), axes=(0, 0)) / hk ** n
        nfev += V.size
        k = stop
        v, e, i = _extrapolate(D[:k, active], rnd[:k, active], exps, ratio)
        better = e < error[active]
        best_at[active[better]] = k
        value[active], error[active] = v, e
        chosen[active] = hf[i, active]
        with np.errstate(invalid="ignore"):
            done = e <= atol + rtol * np.abs(v)
            settled = np.isfinite(e) & (e <= 1e-3 * np.abs(v))
        done |= settled & (k - best_at[active] >= _STALL)
        active = active[~done]
    return DerivativeResult(value.reshape(shape), error.reshape(shape), chosen.reshape(shape), nfev)


def _jacobian_core(f: Callable[..., Any], x: np.ndarray, method: str, order: int, step: Any,
                   args: tuple[Any, ...], vectorized: bool, num_steps: int,
                   ratio: float) -> DerivativeResult:
    """Columns ``d f / d x_j`` (``f`` maps ``(m,)`` to any shape), value shaped ``(*out, m)``."""
    m = x.size
    eye = np.eye(m)
    if method == "complex":
        h = (1e-20 * np.maximum(np.abs(x), 1.0))[None] * np.array([1.0, 1e5])[:, None]   # (2, m)
        X = x[:, None, None] + 1j * eye[:, None, :] * h[None]                               # (m, 2, m)
        V = np.moveaxis(_points(f, X, args, vectorized), -1, 0)                              # (m, 2, *out)
        D = V.imag / _expand(h.T, V.ndim)
        value = D[:, 0]
        err = np.abs(D[:, 0] - D[:, 1]) + 4 * _EPS * np.abs(value)
        with np.errstate(all="ignore"):
            v0 = np.asarray(f(x.astype(complex), *args))
        err = np.where(_not_real(v0), np.inf, err)
        return DerivativeResult(np.moveaxis(value, 0, -1), np.moveaxis(err, 0, -1), h[0], X[0].size)
    nodes, w, exps = _stencil(1, method, order)
    h = _steps(x, step, num_steps, ratio)                                                 # (K, m)
    T = nodes[:, None, None] * h[None]                                                    # (J, K, m)
    X = x[:, None, None, None] + eye[:, None, None, :] * T[None]                          # (m, J, K, m)
    with np.errstate(all="ignore"):
        V = np.moveaxis(_points(f, X, args, vectorized), (-3, -2, -1), (0, 1, 2))        # (J, K, m, *out)
        hh = _expand(h, V.ndim - 1)
        D = np.tensordot(w, V, axes=(0, 0)) / hh
        rnd = _EPS * np.tensordot(np.abs(w), np.abs(V), axes=(0, 0)) / hh
    value, error, k = _extrapolate(D, rnd, exps, ratio)                                   # (m, *out)
    chosen = np.take_along_axis(np.broadcast_to(hh, D.shape), k[None], axis=0)[0]
    return DerivativeResult(np.moveaxis(value, 0, -1), np.moveaxis(error, 0, -1),
                            np.moveaxis(chosen, 0, -1), X[0].size)


def _expand(a: np.ndarray, ndim: int) -> np.ndarray:
    return a.reshape(a.shape + (1,) * (ndim - a.ndim))


def _points(f: Callable[..., Any], X: np.ndarray, args: tuple[Any, ...], vectorized: bool) -> np.ndarray:
    """``f`` at the points ``X[:, ...]`` (vector index first); output dims before the point dims."""
    m, pts = X.shape[0], X.shape[1:]
    flat = X.reshape(m, -1)
    if vectorized:
        V = np.asarray(f(flat, *args))
    else:
        V = np.stack([np.asarray(f(flat[:, p], *args)) for p in range(flat.shape[1])], axis=-1)
    return V.reshape(V.shape[:-1] + pts)


def approx_jacobian(f: Callable[..., Any], x: Any, *, method: str = "central", order: int = 2,
                    step: Any = None, args: tuple[Any, ...] = (), vectorized: bool = False,
                    num_steps: int = 30, step_ratio: float = 2.0) -> DerivativeResult:
    """Jacobian ``J[i, j] = d f_i / d x_j`` of ``f: R^m -> R^k``, with an error estimate per entry.

    ``vectorized=True`` means ``f`` accepts an array of shape ``(m, p)`` (points in
    columns) and returns ``(k, p)``: all points then go in one call. Otherwise ``f`` is
    called once per point with a vector of shape ``(m,)``. ``value`` has shape
    ``(k, m)`` (``(m,)`` for a scalar ``f``).

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> J = numeric.approx_jacobian(lambda v: np.array([v[0] * v[1], np.sin(v[0])]), [1.0, 2.0])
    >>> np.allclose(J.value, [[2.0, 1.0], [np.cos(1.0), 0.0]], atol=1e-10)
    True
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be a vector (1-D), got shape {x.shape}")
    return _jacobian_core(f, x, method, order, step, args, vectorized, num_steps, step_ratio)


def approx_grad(f: Callable[..., Any], x: Any, *, method: str = "central", order: int = 2,
                step: Any = None, args: tuple[Any, ...] = (), vectorized: bool = False,
                num_steps: int = 30, step_ratio: float = 2.0) -> DerivativeResult:
    """Gradient of a scalar function of a vector, with an error estimate per component.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> g = numeric.approx_grad(lambda v: v[0]**2 + v[0] * v[1] + v[2], [1.0, 2.0, 3.0])
    >>> np.round(g.value, 8)   # [2x + y, x, 1]
    array([4., 1., 1.])
    """
    r = approx_jacobian(f, x, method=method, order=order, step=step, args=args,
                        vectorized=vectorized, num_steps=num_steps, step_ratio=step_ratio)
    if np.ndim(r.value) != 1:
        raise ValueError("approx_grad needs a scalar function; use approx_jacobian")
    return r


def approx_hessian(f: Callable[..., Any], x: Any, *, step: Any = None, args: tuple[Any, ...] = (),
                   vectorized: bool = False, num_steps: int = 30,
                   step_ratio: float = 2.0) -> DerivativeResult:
    """Hessian of a scalar function of a vector, with an error estimate per entry.

    ``H[i, j] ~ (f(x+h_i+h_j) - f(x+h_i-h_j) - f(x-h_i+h_j) + f(x-h_i-h_j)) / (4 h_i h_j)``
    on a ladder of steps, Richardson-extrapolated (its error is even in ``h``).

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> H = numeric.approx_hessian(lambda v: v[0]**2 * v[1] + np.exp(v[1]), [1.0, 0.0])
    >>> np.allclose(H.value, [[0.0, 2.0], [2.0, 1.0]], atol=1e-8)
    True
    """
    x = np.asarray(x, dtype=np.float64)
    m = x.size
    iu, ju = np.triu_indices(m)
    h = _steps(x, step, num_steps, step_ratio)                       # (K, m)
    hi, hj = h[:, iu], h[:, ju]                                      # (K, P)
    eye = np.eye(m)
    signs = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=np.float64)
    # X[:, s, k, p] = x + s0 h_i e_i + s1 h_j e_j
    X = (x[:, None, None, None] + eye[:, iu][:, None, None, :] * (signs[:, 0, None, None] * hi)[None]
         + eye[:, ju][:, None, None, :] * (signs[:, 1, None, None] * hj)[None])
    with np.errstate(all="ignore"):
        V = _points(f, X, args, vectorized)
        if V.shape != X.shape[1:]:
            raise ValueError("approx_hessian needs a scalar function")
        D = (V[0] - V[1] - V[2] + V[3]) / (4 * hi * hj)
        rnd = _EPS * np.abs(V).sum(axis=0) / (4 * hi * hj)
    value, error, _ = _extrapolate(D, rnd, [2, 4, 6], step_ratio)
    H = np.empty((m, m))
    E = np.empty((m, m))
    H[iu, ju] = H[ju, iu] = value
    E[iu, ju] = E[ju, iu] = error
    return DerivativeResult(H, E, h[0], X[0].size)
