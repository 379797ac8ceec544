"""Differential operators on sampled fields: divergence, curl, Laplacian, Hessian, velocity gradient.

Grids are indexed like the arrays: axis ``i`` is the coordinate ``x_i``, and a vector
field holds one component per axis, ``u[i]`` along axis ``i`` (a sequence of arrays
or one array with the component axis first). Spacing follows ``numpy.gradient``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ._sampled import _check_options, _kind, _parse_spacing, _periods, _prepare, derivative_along

__all__ = ["divergence", "curl", "laplacian", "hessian", "jacobian_field", "strain_rate", "spin",
           "directional_derivative"]


def _stack(xs: Sequence[Any], kind: str) -> Any:
    if kind == "tensor":
        from .._api import stack
        return stack(list(xs), 0)
    if kind == "dask":
        import dask.array as da
        return da.stack(list(xs), axis=0)
    return np.stack(list(xs), axis=0)


class _Grid:
    """Spacing and stencil options shared by the partial derivatives of one call."""

    def __init__(self, ndim: int, shape: tuple[int, ...], varargs: Sequence[Any], edge_order: int,
                 accuracy: int, boundary: str | None, period: Any) -> None:
        self.periodic = _check_options(edge_order, accuracy, boundary)
        self.ndim = ndim
        self.spacing = _parse_spacing(varargs, shape, tuple(range(ndim)))
        self.periods = _periods(period, ndim)
        self.opts = {"accuracy": accuracy, "edge_order": edge_order, "periodic": self.periodic}

    def d(self, f: Any, axis: int, order: int = 1) -> Any:
        kind, f, otype = _prepare(f)
        return derivative_along(f, axis, self.spacing[axis], order, period=self.periods[axis],
                                kind=kind, otype=otype, **self.opts)


def _components(u: Any) -> list[Any]:
    comps = [u[i] for i in range(len(u))]
    ndim = len(comps)
    for c in comps:
        if np.ndim(c) != ndim:
            raise ValueError(f"a vector field on an {ndim}-D grid needs {ndim} components of "
                             f"{ndim} dimensions each (component axis first); got a component with "
                             f"{np.ndim(c)} dimensions")
    return comps


def divergence(u: Any, *varargs: Any, edge_order: int = 1, accuracy: int = 2,
               boundary: str | None = None, period: Any = None) -> Any:
    """``sum_i du_i/dx_i`` of a sampled vector field (component ``i`` along axis ``i``).

    Parameters
    ----------
    u : sequence of array_like, or array_like of shape ``(N, *grid)``
        The components, one per grid axis; tensors stay differentiable.
    *varargs, edge_order, accuracy, boundary, period
        As in :func:`gradient`.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> y, x = np.meshgrid(np.arange(4.0), np.arange(5.0), indexing='ij')
    >>> float(numeric.divergence([2 * y, 3 * x])[0, 0])   # d(2y)/dy + d(3x)/dx
    5.0
    """
    comps = _components(u)
    g = _Grid(len(comps), tuple(np.shape(comps[0])), varargs, edge_order, accuracy, boundary, period)
    out = g.d(comps[0], 0)
    for i in range(1, len(comps)):
        out = out + g.d(comps[i], i)
    return out


def curl(u: Any, *varargs: Any, edge_order: int = 1, accuracy: int = 2,
         boundary: str | None = None, period: Any = None) -> Any:
    """Curl of a sampled 2-D or 3-D vector field, in the right-handed frame ``(x_0, x_1, x_2)``.

    2-D: the scalar ``du_1/dx_0 - du_0/dx_1``. 3-D: an array of shape ``(3, *grid)``,
    ``(du_2/dx_1 - du_1/dx_2, du_0/dx_2 - du_2/dx_0, du_1/dx_0 - du_0/dx_1)``.

    Notes
    -----
    The axes are the frame: for arrays indexed ``[x, y]`` (``meshgrid(..., indexing='ij')``)
    this is the usual ``dv/dx - du/dy``. For images indexed ``[row, col] = [y, x]``, pass
    the components in axis order (``u[0]`` along ``y``) and negate the 2-D result.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> x, y = np.meshgrid(np.arange(5.0), np.arange(5.0), indexing='ij')
    >>> float(numeric.curl([-y, x])[2, 2])   # rigid rotation: curl 2
    2.0
    """
    comps = _components(u)
    n = len(comps)
    if n not in (2, 3):
        raise ValueError(f"curl is defined for 2-D and 3-D fields, got {n} components")
    g = _Grid(n, tuple(np.shape(comps[0])), varargs, edge_order, accuracy, boundary, period)
    if n == 2:
        return g.d(comps[1], 0) - g.d(comps[0], 1)
    parts = [g.d(comps[2], 1) - g.d(comps[1], 2), g.d(comps[0], 2) - g.d(comps[2], 0),
             g.d(comps[1], 0) - g.d(comps[0], 1)]
    return _stack(parts, _kind(parts[0]))


def laplacian(f: Any, *varargs: Any, edge_order: int = 1, accuracy: int = 2,
              boundary: str | None = None, period: Any = None) -> Any:
    """``sum_i d^2 f/dx_i^2`` of a sampled scalar field, with second-derivative stencils.

    The interior uses the centred ``(f[i-1] - 2 f[i] + f[i+1]) / h^2`` (``accuracy=2``)
    or its 4th/6th-order versions; the edges use one-sided stencils of order
    ``edge_order``. Non-uniform coordinates use Fornberg's weights.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> x, y = np.meshgrid(np.arange(5.0), np.arange(5.0), indexing='ij')
    >>> float(numeric.laplacian(x**2 + 3 * y**2)[2, 2])
    8.0
    """
    g = _Grid(np.ndim(f), tuple(np.shape(f)), varargs, edge_order, accuracy, boundary, period)
    out = g.d(f, 0, 2)
    for i in range(1, g.ndim):
        out = out + g.d(f, i, 2)
    return out


def hessian(f: Any, *varargs: Any, edge_order: int = 1, accuracy: int = 2,
            boundary: str | None = None, period: Any = None) -> Any:
    """Second derivatives ``H[i, j] = d^2 f/dx_i dx_j`` of a sampled field, shape ``(N, N, *grid)``.

    Diagonal terms use second-derivative stencils (as :func:`laplacian`, which is the
    trace); mixed terms differentiate the first derivative along the other axis, so
    ``H[i, j]`` and ``H[j, i]`` are the same array.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> x, y = np.meshgrid(np.arange(5.0), np.arange(6.0), indexing='ij')
    >>> numeric.hessian(x**2 + x * y)[:, :, 2, 2]
    array([[2., 1.],
           [1., 0.]])
    """
    n = np.ndim(f)
    g = _Grid(n, tuple(np.shape(f)), varargs, edge_order, accuracy, boundary, period)
    first = [g.d(f, i) for i in range(n)]
    rows: list[list[Any]] = [[None] * n for _ in range(n)]
    for i in range(n):
        rows[i][i] = g.d(f, i, 2)
        for j in range(i + 1, n):
            rows[i][j] = rows[j][i] = g.d(first[i], j)
    kind = _kind(rows[0][0])
    return _stack([_stack(r, kind) for r in rows], kind)


def jacobian_field(u: Any, *varargs: Any, edge_order: int = 1, accuracy: int = 2,
                   boundary: str | None = None, period: Any = None) -> Any:
    """Velocity-gradient tensor ``L[i, j] = du_i/dx_j`` of a sampled vector field.

    Returns an array of shape ``(N, N, *grid)``; ``L = strain_rate(L) + spin(L)`` and
    ``trace(L)`` is the divergence.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> x, y = np.meshgrid(np.arange(4.0), np.arange(4.0), indexing='ij')
    >>> L = numeric.jacobian_field([y, np.zeros_like(x)])   # simple shear u = (y, 0)
    >>> L[:, :, 1, 1]
    array([[0., 1.],
           [0., 0.]])
    >>> numeric.strain_rate(L)[:, :, 1, 1]
    array([[0. , 0.5],
           [0.5, 0. ]])
    """
    comps = _components(u)
    n = len(comps)
    g = _Grid(n, tuple(np.shape(comps[0])), varargs, edge_order, accuracy, boundary, period)
    rows = [[g.d(c, j) for j in range(n)] for c in comps]
    kind = _kind(rows[0][0])
    return _stack([_stack(r, kind) for r in rows], kind)


def _transpose01(L: Any) -> Any:
    if _kind(L) == "tensor":
        return L.transpose(0, 1)
    return L.swapaxes(0, 1)


def strain_rate(L: Any) -> Any:
    """Symmetric part ``D = (L + L^T) / 2`` of a velocity-gradient tensor ``(N, N, *grid)``."""
    L = L if _kind(L) != "numpy" else np.asarray(L)
    return (L + _transpose01(L)) * 0.5


def spin(L: Any) -> Any:
    """Antisymmetric part ``W = (L - L^T) / 2`` (the vorticity tensor) of ``L``."""
    L = L if _kind(L) != "numpy" else np.asarray(L)
    return (L - _transpose01(L)) * 0.5


def directional_derivative(f: Callable[..., Any] | Any, direction: Any, *varargs: Any,
                           x: Any = None, normalize: bool = True, **options: Any) -> Any:
    """Rate of change of ``f`` along ``direction``: ``grad f . v`` (``v`` a unit vector by default).

    Parameters
    ----------
    f : callable or array_like
        A function of a vector (then ``x`` is the point, and the result is the
        :class:`DerivativeResult` of ``t -> f(x + t v)`` at 0, with an error estimate),
        or a sampled scalar field (then ``direction`` is ``N`` numbers or a field of
        shape ``(N, *grid)``, and ``varargs`` and ``options`` go to :func:`gradient`).
    direction : array_like
        The direction ``v``; scaled to unit length unless ``normalize=False``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkit import numeric
    >>> r = numeric.directional_derivative(lambda p: p[0]**2 + 3 * p[1], [3, 4], x=[1.0, 2.0])
    >>> round(float(r.value), 10)   # (2*1*3 + 3*4) / 5
    3.6
    """
    v = np.asarray(direction, dtype=np.float64)
    if normalize:
        norm = np.sqrt((v * v).sum(axis=0))
        v = v / np.where(norm == 0, 1.0, norm)
    if callable(f):
        from gradkit.autograd._finite_diff import derivative
        if x is None:
            raise TypeError("directional_derivative of a function needs the point: pass x=...")
        x0 = np.asarray(x, dtype=np.float64)

        def line(t: Any) -> Any:
            t = np.asarray(t)
            vals = [f(x0 + ti * v) for ti in t.ravel()]
            return np.asarray(vals).reshape(t.shape)

        return derivative(line, 0.0, **options)
    from ._sampled import gradient
    grads = gradient(f, *varargs, **options)
    grads = (grads,) if np.ndim(f) == 1 else grads
    out = grads[0] * v[0]
    for i in range(1, len(grads)):
        out = out + grads[i] * v[i]
    return out
