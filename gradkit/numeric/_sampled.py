"""``gradient``: ``numpy.gradient`` for arrays, tensors (differentiably) and Dask arrays."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from gradkit.autograd._stencil import Coords, Plan, make_plan, min_points
from gradkit._core.tensor import Tensor

__all__ = ["gradient"]

try:  # NumPy >= 2.0
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.numeric import normalize_axis_tuple  # type: ignore[no-redef]


def _kind(f: Any) -> str:
    """'tensor' for a gradkit Tensor, 'dask' for a Dask array, else 'numpy'."""
    if isinstance(f, Tensor):
        return "tensor"
    if type(f).__module__.startswith("dask."):
        return "dask"
    return "numpy"


def _sl(ndim: int, axis: int, start: int, stop: int) -> tuple[slice, ...]:
    sl = [slice(None)] * ndim
    sl[axis] = slice(start, stop)
    return tuple(sl)


def _check_options(edge_order: int, accuracy: int, boundary: str | None) -> bool:
    if accuracy not in (2, 4, 6):
        raise ValueError(f"accuracy must be 2, 4 or 6, got {accuracy!r}")
    if boundary not in (None, "periodic"):
        raise ValueError(f"boundary must be None (one-sided edges) or 'periodic', got {boundary!r}")
    if edge_order > accuracy:
        if accuracy == 2:
            raise ValueError("'edge_order' greater than 2 not supported")
        raise ValueError(f"edge_order ({edge_order}) cannot exceed accuracy ({accuracy})")
    if edge_order < 1:
        raise ValueError(f"edge_order must be at least 1, got {edge_order!r}")
    return boundary == "periodic"


def _as_numpy(v: Any) -> Any:
    if isinstance(v, Tensor):
        from gradkit._core import concrete as _concrete
        _concrete.check(v, "numeric.gradient's spacing (used as plain numbers)")
        return v.detach().numpy()
    return v


class _TooShort(ValueError, IndexError):
    """A coordinate array of one sample: NumPy raises IndexError there, ValueError for scalar steps."""


def _parse_spacing(varargs: Sequence[Any], shape: tuple[int, ...],
                   axes: tuple[int, ...]) -> list[Any]:
    """``numpy.gradient``'s spacing rules: none, one scalar, or one scalar/coordinates per axis."""
    n, len_axes = len(varargs), len(axes)
    varargs = [_as_numpy(v) for v in varargs]
    if n == 0:
        return [1.0] * len_axes
    if n == 1 and np.ndim(varargs[0]) == 0:
        return list(varargs) * len_axes
    if n != len_axes:
        raise TypeError("invalid number of arguments")
    dx: list[Any] = list(varargs)
    for i, distances in enumerate(dx):
        distances = np.asanyarray(distances)
        if distances.ndim == 0:
            continue
        if distances.ndim != 1:
            raise ValueError("distances must be either scalars or 1d (2-D irregular grids are not "
                             "supported, as in numpy/numpy#9401: pass one 1-D coordinate array per axis)")
        if len(distances) != shape[axes[i]]:
            raise ValueError("when 1d, distances must match the length of the corresponding dimension")
        if np.issubdtype(distances.dtype, np.integer):
            distances = distances.astype(np.float64)
        diffx = np.diff(distances)
        if diffx.size == 0:
            raise _TooShort("Shape of array too small to calculate a numerical gradient, at least "
                            "(edge_order + 1) elements are required.")
        if diffx.size and not ((diffx > 0).all() or (diffx < 0).all()):
            # NOTE: numpy/numpy#17867 -- a 1-D argument is read as coordinates, not spacings.
            warnings.warn(f"the coordinates for axis {axes[i]} are not strictly monotonic, so some "
                          "derivatives will be inf or nan; a 1-D spacing argument holds coordinates, "
                          "not step sizes (pass np.cumsum of the steps)", RuntimeWarning, stacklevel=3)
        if diffx.size and (diffx == diffx[0]).all():
            dx[i] = diffx[0]    # constant steps: the scalar formulas (as numpy.gradient does)
        else:
            dx[i] = Coords(np.asarray(distances, dtype=np.float64), diffx)
    return dx


def _prepare(f: Any) -> tuple[str, Any, Any]:
    """The input converted as ``numpy.gradient`` does (integers become float64), and its kind."""
    kind = _kind(f)
    if kind == "tensor":
        if not (f.is_floating_point() or f.is_complex()):
            f = f.double()
        return kind, f, None
    if kind == "numpy":
        f = np.asanyarray(f)
    otype = f.dtype
    if otype.kind not in "mM" and not np.issubdtype(otype, np.inexact):
        f = f.astype(np.float64)
        otype = np.dtype(np.float64)
    return kind, f, otype


def _numpy_handles(f: Any, varargs: Sequence[Any], accuracy: int, boundary: Any) -> bool:
    """Whether ``numpy.gradient`` itself should run: its options, and inputs outside the fast path."""
    if accuracy != 2 or boundary is not None or _kind(f) != "numpy":
        return False
    a = np.asanyarray(f) if not isinstance(f, np.ndarray) else f
    if type(a) is not np.ndarray or a.dtype == np.bool_:
        return True
    return any(isinstance(v, (complex, np.complexfloating)) or
               (isinstance(v, (np.ndarray, list, tuple)) and np.asarray(v).dtype.kind == "c")
               for v in varargs)


def _weight(w: Any, ndim: int, axis: int) -> Any:
    if np.ndim(w) == 0:
        return w
    shape = [1] * ndim
    shape[axis] = -1
    return np.reshape(w, shape)


_CACHE_BYTES = 1 << 19      # process big stencils in slabs of about this size, while in cache


def _pairs_numpy(o: np.ndarray, terms: list[tuple[Any, np.ndarray, np.ndarray]], denom: Any) -> None:
    """``o = sum(c * (a - b)) / denom`` in place, slab by slab along axis 0.

    Working on cache-sized slabs lets the division reuse what the subtraction just
    wrote, instead of streaming the whole output through memory twice.
    """
    rows = o.shape[0] if o.ndim else 1
    row_bytes = max(o.nbytes // max(rows, 1), 1)
    step = max(1, _CACHE_BYTES // row_bytes) if o.ndim else 1
    tmp = np.empty_like(o[:step]) if len(terms) > 1 else None
    for r0 in range(0, rows, step):
        sl = slice(r0, r0 + step) if o.ndim else ()
        oo = o[sl]
        for i, (c, a, b) in enumerate(terms):
            t = np.subtract(a[sl], b[sl], out=oo if i == 0 else tmp[:oo.shape[0]])
            if c != 1:
                t *= c
            if i:
                oo += t
        np.divide(oo, denom, out=oo)


def _eval_numpy(f: np.ndarray, axis: int, plan: Plan, otype: Any) -> np.ndarray:
    """Evaluate a plan with ufuncs writing into the output (no temporaries for 2-term stencils)."""
    nd, n, pad = f.ndim, f.shape[axis], plan.pad
    src = f
    if pad:
        src = np.concatenate([f[_sl(nd, axis, n - pad, n)], f, f[_sl(nd, axis, 0, pad)]], axis=axis)
    out = np.empty_like(f, dtype=otype)
    for b in plan.blocks:
        if b.stop <= b.start:
            continue
        o = out[_sl(nd, axis, b.start, b.stop)]

        def F(off: int, b: Any = b) -> np.ndarray:
            return src[_sl(nd, axis, b.start + pad + off, b.stop + pad + off)]

        if b.pairs:
            _pairs_numpy(o, [(c, F(p), F(q)) for c, p, q in b.terms], b.denom)
            continue
        ws = [_weight(w, nd, axis) for _, w in b.terms]
        if all(np.result_type(w, o.dtype) == o.dtype for w in ws):
            # Same rounding as the expression w0*F0 + w1*F1 + ..., without its temporaries.
            tmp = np.empty_like(o) if len(ws) > 1 else None
            np.multiply(ws[0], F(b.terms[0][0]), out=o)
            for (off, _), w in zip(b.terms[1:], ws[1:]):
                o += np.multiply(w, F(off), out=tmp)
        else:
            acc = ws[0] * F(b.terms[0][0])
            for (off, _), w in zip(b.terms[1:], ws[1:]):
                acc = acc + w * F(off)
            o[...] = acc
    return out


def _eval_generic(f: Any, axis: int, plan: Plan, cat: Any) -> Any:
    """Evaluate a plan with slicing and arithmetic only (gradkit tensors: differentiable)."""
    nd, n, pad = f.ndim, f.shape[axis], plan.pad
    src = f
    if pad:
        src = cat([f[_sl(nd, axis, n - pad, n)], f, f[_sl(nd, axis, 0, pad)]], axis)
    pieces = []
    for b in sorted(plan.blocks, key=lambda b: b.start):
        if b.stop <= b.start:
            continue

        def F(off: int, b: Any = b) -> Any:
            return src[_sl(nd, axis, b.start + pad + off, b.stop + pad + off)]

        if b.pairs:
            acc = None
            for c, p, q in b.terms:
                t = F(p) - F(q)
                t = t if c == 1 else t * c
                acc = t if acc is None else acc + t
            pieces.append(acc / b.denom)
        else:
            acc = None
            for off, w in b.terms:
                t = F(off) * _weight(w, nd, axis)
                acc = t if acc is None else acc + t
            pieces.append(acc)
    return pieces[0] if len(pieces) == 1 else cat(pieces, axis)


def _tensor_cat(xs: Sequence[Any], axis: int) -> Any:
    from .._api import cat
    return cat(list(xs), axis)


def derivative_along(f: Any, axis: int, h: Any, d: int = 1, *, accuracy: int = 2,
                     edge_order: int = 1, periodic: bool = False, period: Any = None,
                     kind: str | None = None, otype: Any = None) -> Any:
    """The ``d``-th derivative (``d`` = 1 or 2) of prepared ``f`` along ``axis``."""
    n = f.shape[axis]
    need = min_points(d, accuracy, edge_order, periodic)
    if n < need:
        if d == 1 and accuracy == 2 and not periodic:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")
        raise ValueError(f"Shape of array too small to calculate this derivative: axis {axis} has "
                         f"{n} samples, accuracy={accuracy}, edge_order={edge_order} need {need}")
    if periodic and period is None and not isinstance(h, Coords):
        period = n * h
    kind = kind or _kind(f)
    if kind == "dask":
        from ._dask import derivative_along_dask
        return derivative_along_dask(f, axis, h, d, accuracy=accuracy, edge_order=edge_order,
                                     periodic=periodic, period=period)
    plan = make_plan(n, h, d, accuracy, edge_order, periodic, period)
    if kind == "tensor":
        return _eval_generic(f, axis, plan, _tensor_cat)
    return _eval_numpy(f, axis, plan, otype if otype is not None else f.dtype)


def _periods(period: Any, n_axes: int) -> list[Any]:
    if period is None or np.ndim(period) == 0:
        return [period] * n_axes
    if len(period) != n_axes:
        raise ValueError(f"period needs one value per differentiated axis ({n_axes}), got {len(period)}")
    return list(period)


def gradient(f: Any, *varargs: Any, axis: int | Sequence[int] | None = None, edge_order: int = 1,
             accuracy: int = 2, boundary: str | None = None, period: Any = None) -> Any:
    """The gradient of sampled values: ``numpy.gradient``, plus higher orders and periodic edges.

    With the default ``accuracy=2`` and ``boundary=None`` the results are those of
    ``numpy.gradient`` (same formulas, same order of operations), for every form of
    spacing it accepts.

    Parameters
    ----------
    f : array_like, Tensor or dask.array.Array
        Samples of a scalar field. Integer input is promoted to float64. A gradkit
        tensor gives tensors on the autograd graph (the stencils are linear, so a loss
        on the result backpropagates to ``f``); a Dask array gives lazy Dask arrays
        (``map_overlap``).
    *varargs : scalar or 1-D array, optional
        Spacing, as in ``numpy.gradient``: nothing (unit spacing), one scalar for all
        axes, or one entry per differentiated axis, each a scalar step or a 1-D array of
        sample **coordinates** (not steps; numpy/numpy#17867) of that axis's length.
    axis : int or tuple of int, optional
        Axes to differentiate along (negative counts from the end); all by default.
    edge_order : int, optional
        Order of the one-sided edge formulas: 1 or 2 for ``accuracy=2``, up to
        ``accuracy`` otherwise. Ignored with ``boundary='periodic'``.
    accuracy : {2, 4, 6}, optional
        Order of the centred interior stencils (uniform and non-uniform spacing).
    boundary : {None, 'periodic'}, optional
        ``'periodic'`` wraps the stencils around: sample ``n`` is sample ``0``.
    period : float or sequence of float, optional
        Period per axis for ``boundary='periodic'`` with non-uniform coordinates (for
        uniform spacing it is ``n * h``).

    Returns
    -------
    ndarray or tuple of ndarray (Tensor, Dask array)
        One derivative per axis, shaped like ``f``; a single array when one axis is
        differentiated, as ``numpy.gradient`` returns.

    Notes
    -----
    Interior points use centred differences of order ``accuracy``, with Fornberg's
    weights for non-uniform coordinates. The point ``k < accuracy // 2`` samples from
    an edge uses samples ``0 .. max(edge_order + 1, 2k + 1) - 1`` from that edge.
    One-sided second-order edges amplify noise (numpy/numpy#28166); prefer
    ``edge_order=1`` for noisy data. Two-dimensional irregular grids are not supported
    (numpy/numpy#9401): give one coordinate array per axis.

    See Also
    --------
    divergence, curl, laplacian, hessian, jacobian_field

    Examples
    --------
    Elevation on a 3x3 grid, rows running south to north (the seed's example):

    >>> import numpy as np
    >>> from gradkit import numeric
    >>> z = np.array([[100, 110, 120], [90, 100, 110], [80, 90, 100]])
    >>> dy, dx = numeric.gradient(z)
    >>> dy
    array([[-10., -10., -10.],
           [-10., -10., -10.],
           [-10., -10., -10.]])
    >>> dx
    array([[10., 10., 10.],
           [10., 10., 10.],
           [10., 10., 10.]])
    >>> numeric.gradient(np.sin(np.linspace(0, 2 * np.pi, 9)[:-1]), np.pi / 4,
    ...                  accuracy=6, boundary='periodic').round(2)
    array([ 1.  ,  0.71,  0.  , -0.71, -1.  , -0.71, -0.  ,  0.71])
    """
    if _numpy_handles(f, varargs, accuracy, boundary):
        # NOTE: NumPy's own semantics for what the fast path does not model: masked arrays
        # (masks propagate through its slicing arithmetic), bool samples (TypeError for
        # uniform steps) and complex spacings.
        return np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    kind, f, otype = _prepare(f)
    if kind == "numpy" and otype.type in (np.datetime64, np.timedelta64):
        if accuracy != 2 or boundary is not None:
            raise TypeError("datetime64/timedelta64 samples support only accuracy=2 without "
                            "boundary='periodic'")
        return np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    axes = tuple(range(f.ndim)) if axis is None else normalize_axis_tuple(axis, f.ndim)
    spacing = _parse_spacing(varargs, tuple(f.shape), axes)
    # NOTE: after the axes and the spacing, as numpy.gradient checks them (same first error)
    periodic = _check_options(edge_order, accuracy, boundary)
    periods = _periods(period, len(axes))
    outs = [derivative_along(f, ax, h, 1, accuracy=accuracy, edge_order=edge_order,
                             periodic=periodic, period=p, kind=kind, otype=otype)
            for ax, h, p in zip(axes, spacing, periods)]
    return outs[0] if len(axes) == 1 else tuple(outs)
