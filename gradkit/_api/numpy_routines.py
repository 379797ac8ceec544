"""More NumPy dispatch handlers, grouped by NumPy's own routine families.

Each handler takes NumPy's signature and keywords and builds its result from gradkit
operations (or from NumPy functions that dispatch back to gradkit on tensors), so the
result stays on the graph. Functions whose results carry no gradient (booleans, dtypes)
run on the values. Registered into ``gradkit._api.numpy_protocol.FUNCTIONS`` on import.
NumPy's statistics (``median``, ``quantile``, ``cov``, ...) are in ``numpy_statistics``.
"""

from __future__ import annotations

import importlib
import math
import string
import types
import warnings
from typing import Any

import numpy as np

from gradkit import _api as _A
from gradkit._api import complex as _C
from gradkit._api import special as _AM
from gradkit._api import construction as _construction
from gradkit._api import differences as _differences
from gradkit._core import creation as _F
from gradkit._core import dtype as _D
from gradkit._api.numpy_protocol import (FUNCTIONS, _needs_graph, _plain_numpy, _tensorize,
                                         _unsupported, _write_out, implements)
from gradkit._core.tensor import Tensor

# NOTE: the handlers read gradkit's functions from the floors below this one (never from the
# root package, which imports this module); gradkit.numeric loads by name when np.gradient runs.
gk = types.SimpleNamespace(
    **{n: getattr(_A, n) for n in _A.__all__},
    as_tensor=_F.as_tensor, zeros=_F.zeros, zeros_like=_F.zeros_like, ones_like=_F.ones_like,
    full_like=_F.full_like, real=_C.real, conj=_C.conj, atleast_3d=_construction.atleast_3d,
    diff=_differences.diff,
    float64=_D.float64, float32=_D.float32)


__all__: list[str] = []


def _t(x: Any) -> Tensor:
    """Anything array-like as a tensor (constants for arrays, lists and numbers; a list that
    holds tensors is stacked on the graph, as NumPy would build an array from it)."""
    if isinstance(x, (list, tuple)) and _holds_tensor(x):
        parts = [_t(e) for e in x]
        dt = np.result_type(*[p._data for p in parts])
        return gk.stack([p.to(dt) for p in parts], 0)
    x = _tensorize(x)
    return x if isinstance(x, Tensor) else gk.as_tensor(np.asarray(x))


def _holds_tensor(x: Any) -> bool:
    if isinstance(x, Tensor):
        return True
    return isinstance(x, (list, tuple)) and any(_holds_tensor(e) for e in x)


def _normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise _AxisError(axis, ndim)
    return axis % ndim


_AxisError = getattr(getattr(np, "exceptions", np), "AxisError", None) or np.AxisError


# --- array manipulation ----------------------------------------------------------------
@implements(np.flipud)
def _flipud(m: Any) -> Any:
    x = _t(m)
    if x.ndim < 1:
        raise ValueError("Input must be >= 1-d.")
    return gk.flip(x, (0,))


@implements(np.fliplr)
def _fliplr(m: Any) -> Any:
    x = _t(m)
    if x.ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return gk.flip(x, (1,))


@implements(np.rot90)
def _rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    x = _t(m)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == x.ndim:
        raise ValueError("Axes must be different.")
    if any(not -x.ndim <= ax < x.ndim for ax in axes):
        raise ValueError(f"Axes={tuple(axes)} out of range for array of ndim={x.ndim}.")
    a0, a1 = axes[0] % x.ndim, axes[1] % x.ndim
    # NOTE: NumPy and PyTorch agree: k > 0 rotates from the first axis towards the second
    return gk.rot90(x, k, (a0, a1))


@implements(np.append)
def _append(arr: Any, values: Any, axis: Any = None) -> Any:
    x, v = _t(arr), _t(values)
    if axis is None:
        return gk.cat([x.reshape(-1), v.reshape(-1)], 0)
    return gk.cat([x, v], axis)


def _atleast_3d_one(x: Tensor) -> Tensor:
    if x.ndim == 0:
        return x.reshape(1, 1, 1)
    if x.ndim == 1:
        return x.reshape(1, x.shape[0], 1)
    if x.ndim == 2:
        return x.reshape(*x.shape, 1)
    return x


@implements(np.atleast_3d)
def _atleast_3d(*arys: Any) -> Any:
    res = [_atleast_3d_one(_t(a)) for a in arys]
    return res[0] if len(res) == 1 else tuple(res)


@implements(np.column_stack)
def _column_stack(tup: Any) -> Any:
    cols = []
    for a in tup:
        x = _t(a)
        cols.append(x.reshape(-1, 1) if x.ndim < 2 else x)
    return gk.cat(cols, 1)


@implements(np.dstack)
def _dstack(tup: Any) -> Any:
    return gk.cat([_atleast_3d_one(_t(a)) for a in tup], 2)


@implements(np.rollaxis)
def _rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    x = _t(a)
    n = x.ndim
    axis = _normalize_axis(axis, n)
    if not -n <= start <= n:
        raise _AxisError(f"'start' arg requires {-n} <= start < {n + 1}, "
                                      f"but {start} was passed in")
    start = start % (n + 1) if start < 0 else start
    if axis < start:
        start -= 1
    if axis == start:
        return x[...]
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return x.permute(*axes)


@implements(np.diagflat)
def _diagflat(v: Any, k: int = 0) -> Any:
    return gk.diag(_t(v).reshape(-1), k)


@implements(np.partition)
def _partition(a: Any, kth: Any, axis: Any = -1, kind: str = "introselect",
               order: Any = None) -> Any:
    # NOTE: NumPy's argpartition picks the order; the values are gathered on the graph
    x = _t(a)
    if axis is None:
        x, axis = x.reshape(-1), -1
    idx = np.argpartition(x._data, kth, axis=axis, kind=kind)
    return np.take_along_axis(x, idx, axis)


@implements(np.select)
def _select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(choicelist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    choices = [_t(c) for c in choicelist]
    d = _to_data(default)
    dtype = np.result_type(*[c._data for c in choices], d if np.isscalar(d) else np.asarray(d))
    result = _t(default).to(dtype)
    for cond, choice in zip(reversed(condlist), reversed(choices)):
        c = _to_data(cond)
        if np.asarray(c).dtype != bool:
            raise TypeError("invalid entry in condlist: should be boolean ndarray")
        result = gk.where(gk.as_tensor(np.asarray(c)), choice.to(dtype), result)
    return result


def _to_data(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


# --- array creation --------------------------------------------------------------------
@implements(np.linspace)
def _linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
              retstep: bool = False, dtype: Any = None, axis: int = 0, *,
              device: Any = None) -> Any:
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    s, e = _t(start), _t(stop)
    dt = np.result_type(_to_data(_tensorize(start)), _to_data(_tensorize(stop)), float(num))
    s, e = s.to(dt), e.to(dt)
    div = (num - 1) if endpoint else num
    delta = e - s
    # NumPy's formula, kept for equal values: y = arange(num) * (delta / div) + start
    y = gk.as_tensor(np.arange(0, num, dtype=dt).reshape((-1,) + (1,) * delta.ndim))
    step: Any
    if div > 0:
        step = delta / div
        if np.any(step._data == 0):
            y = (y / div) * delta
        else:
            y = y * step
    else:
        step = gk.as_tensor(np.full(delta.shape, np.nan, dtype=dt))
        y = y * delta
    y = y + s
    if endpoint and num > 1:
        y = gk.cat([y[:-1], e.reshape(1, *e.shape).expand(1, *y.shape[1:])], 0)
    if axis != 0:
        y = gk.movedim(y, 0, axis)
    if dtype is not None:
        if np.issubdtype(np.dtype(dtype), np.integer):
            y = gk.floor(y)
        y = y.to(np.dtype(dtype))
    if retstep:
        return y, (step if step.ndim else step)
    return y


@implements(np.logspace)
def _logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10.0,
              dtype: Any = None, axis: int = 0) -> Any:
    y = _linspace(start, stop, num=num, endpoint=endpoint, axis=0)
    b = _t(base)
    if b.ndim:                                       # NumPy: base broadcasts against the bounds
        b = b.reshape(1, *b.shape)
    res = np.power(b, y)
    if axis != 0:
        res = gk.movedim(res, 0, axis)
    return res if dtype is None else res.to(np.dtype(dtype))


@implements(np.geomspace)
def _geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
               axis: int = 0) -> Any:
    s, e = _t(start), _t(stop)
    dt = np.result_type(s._data, e._data, float(num))
    s, e = s.to(dt), e.to(dt)
    if s.is_complex() or e.is_complex():
        raise NotImplementedError("numpy.geomspace of complex bounds is not supported on gradkit "
                                  "tensors")
    if np.any(s._data == 0) or np.any(e._data == 0):
        raise ValueError("Geometric sequence cannot include zero")
    # NOTE: NumPy's way: negative bounds (both) flip the sign; the ends are exactly the bounds
    flip = np.sign(s._data)
    if np.any(np.sign(e._data) != flip):
        raise NotImplementedError("numpy.geomspace with bounds of opposite signs (a complex "
                                  "sequence) is not supported on gradkit tensors")
    sgn = gk.as_tensor(flip)
    res = np.exp(_linspace(np.log(s * sgn), np.log(e * sgn), num=num, endpoint=endpoint))
    res = res * sgn
    if num > 0:
        ends = [s.reshape(1, *s.shape).expand(1, *res.shape[1:])]
        mid = res[1:-1] if endpoint and num > 1 else res[1:]
        parts = ends + [mid] + ([e.reshape(1, *e.shape).expand(1, *res.shape[1:])]
                                if endpoint and num > 1 else [])
        res = gk.cat(parts, 0)
    if axis != 0:
        res = gk.movedim(res, 0, axis)
    return res if dtype is None else res.to(np.dtype(dtype))


# --- mathematical functions ------------------------------------------------------------
@implements(np.fix)
def _fix(x: Any, out: Any = None) -> Any:
    res = gk.fix(_t(x))
    return res if out is None else _write_out(out, res)


@implements(np.i0)
def _i0(x: Any) -> Any:
    from gradkit.ops import special as _S           # SciPy's i0 kernel, loaded on first use
    t = _t(x)
    return _S.i0(t if t._data.dtype.kind in "fcV" else t.to(gk.float64))


@implements(np.interp)
def _interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None,
            period: Any = None) -> Any:
    if period is not None:
        if _needs_graph(x, xp, fp, left, right):
            raise _unsupported("interp with period=")
        return _plain_numpy(np.interp, (x, xp, fp), dict(left=left, right=right, period=period))
    X, XP, FP = _t(x), _t(xp), _t(fp)
    if XP.ndim != 1 or FP.ndim != 1:
        raise ValueError("object too deep for desired array")
    if XP.shape[0] != FP.shape[0]:
        raise ValueError("fp and xp are not of the same length.")
    if XP.shape[0] == 0:
        raise ValueError("array of sample points is empty")
    dt = np.result_type(X._data, XP._data, np.float64)
    X, XP = X.to(dt), XP.to(dt)
    FP = FP.to(np.result_type(FP._data, np.float64))
    n = XP.shape[0]
    xd = X._data
    if n == 1:
        res = FP[np.zeros(xd.shape, dtype=np.int64)]
    else:
        j = np.clip(np.searchsorted(XP._data, xd, side="right") - 1, 0, n - 2)
        x0, x1, f0, f1 = XP[j], XP[j + 1], FP[j], FP[j + 1]
        slope = (f1 - f0) / (x1 - x0)
        res = slope * (X - x0) + f0
        at_end = gk.as_tensor(xd == XP._data[-1])
        res = gk.where(at_end, FP[np.full(xd.shape, n - 1)], res)
    lo = FP[0] if left is None else _t(left).to(FP._data.dtype)
    hi = FP[n - 1] if right is None else _t(right).to(FP._data.dtype)
    res = gk.where(gk.as_tensor(xd < XP._data[0]), lo, res)
    return gk.where(gk.as_tensor(xd > XP._data[-1]), hi, res)


@implements(np.bincount)
def _bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
    if weights is None or not _needs_graph(weights):
        return _plain_numpy(np.bincount, (x,), dict(weights=weights, minlength=minlength))
    idx = np.asarray(_to_data(_tensorize(x)))
    w = _t(weights)
    if idx.ndim != 1 or w.shape != tuple(idx.shape):
        raise ValueError("The weights and list don't have the same length.")
    if idx.size and idx.min() < 0:
        raise ValueError("'list' argument must have no negative elements")
    n = max(int(idx.max()) + 1 if idx.size else 0, int(minlength))
    w = w.to(np.result_type(w._data, np.float64))
    return _AM.index_add(gk.zeros((n,), dtype=w._data.dtype), 0, idx, w)


@implements(np.histogram)
def _histogram(a: Any, bins: Any = 10, range: Any = None, density: Any = None,
               weights: Any = None) -> Any:
    if _needs_graph(a) or (isinstance(bins, Tensor) and _needs_graph(bins)):
        raise _unsupported("histogram of values that require grad (its bin edges can depend "
                           "on them); weights may require grad")
    if weights is None or not _needs_graph(weights):
        return _plain_numpy(np.histogram, (a,), dict(bins=bins, range=range, density=density,
                                                     weights=weights))
    data = np.asarray(_to_data(_tensorize(a))).reshape(-1)
    w = _t(weights)
    if tuple(w.shape) != tuple(np.shape(_to_data(_tensorize(a)))):
        raise ValueError("weights should have the same shape as a.")
    _, edges = np.histogram(data, bins=_to_data(bins), range=range)
    nb = edges.size - 1
    j = np.searchsorted(edges, data, side="right") - 1
    j[data == edges[-1]] = nb - 1                  # the last bin includes its right edge
    inside = (j >= 0) & (j < nb)
    wf = w.reshape(-1)
    wf = wf.to(np.result_type(wf._data, np.float64)) if density else wf
    hist = _AM.index_add(gk.zeros((nb,), dtype=wf._data.dtype), 0, j[inside], wf[inside])
    if density:
        hist = hist / (gk.sum(hist) * gk.as_tensor(np.diff(edges)))
    return hist, edges


@implements(np.gradient)
def _gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    # gradkit.numeric.gradient is numpy.gradient (same spacing rules), differentiable on tensors
    numeric = importlib.import_module("gradkit.numeric")
    return numeric.gradient(_t(f), *varargs, axis=axis, edge_order=edge_order)


@implements(np.cross)
def _cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
           axis: Any = None) -> Any:
    if axis is not None:
        axisa = axisb = axisc = axis
    x, y = _t(a), _t(b)
    x = gk.movedim(x, _normalize_axis(axisa, x.ndim), -1)
    y = gk.movedim(y, _normalize_axis(axisb, y.ndim), -1)
    na, nb = x.shape[-1], y.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")
    if na == 2 or nb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=3)
    x0, x1 = x[..., 0], x[..., 1]
    y0, y1 = y[..., 0], y[..., 1]
    cz = x0 * y1 - x1 * y0
    if na == 2 and nb == 2:
        return cz
    if na == 3 and nb == 3:
        x2, y2 = x[..., 2], y[..., 2]
        cx, cy = x1 * y2 - x2 * y1, x2 * y0 - x0 * y2
    elif na == 2:                                    # a2 = 0
        y2 = y[..., 2]
        cx, cy = x1 * y2, -(x0 * y2)
    else:                                            # b2 = 0
        x2 = x[..., 2]
        cx, cy = -(x2 * y1), x2 * y0
    out = gk.stack(gk.broadcast_tensors(cx, cy, cz), -1)
    return gk.movedim(out, -1, _normalize_axis(axisc, out.ndim))


def _nan_fill(name: str, fill: float) -> Any:
    reduce = getattr(np, name)

    def handler(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
                keepdims: bool = False, **kw: Any) -> Any:
        x = _t(a)
        if dtype is not None:
            kw["dtype"] = dtype
        if x._data.dtype.kind not in "fcV":
            return reduce(x, axis=axis, out=out, keepdims=keepdims, **kw)
        nan = gk.isnan(x)
        res = reduce(gk.where(nan, fill, x), axis=axis, out=out, keepdims=keepdims, **kw)
        if name in ("max", "min"):                   # an all-NaN slice gives NaN, as in NumPy
            all_nan = np.all(nan._data, axis=axis, keepdims=keepdims)
            if np.any(all_nan):
                res = gk.where(gk.as_tensor(all_nan), math.nan, res)
        return res
    return handler


implements(np.nansum)(_nan_fill("sum", 0.0))
implements(np.nanprod)(_nan_fill("prod", 1.0))
implements(np.nanmax)(_nan_fill("max", -math.inf))
implements(np.nanmin)(_nan_fill("min", math.inf))


def _nan_cumulative(name: str, fill: float) -> Any:
    def handler(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        x = _t(a)
        if x._data.dtype.kind in "fcV":
            x = gk.where(gk.isnan(x), fill, x)
        res = getattr(np, name)(x, axis=axis, dtype=dtype)
        return res if out is None else _write_out(out, res)
    return handler


implements(np.nancumsum)(_nan_cumulative("cumsum", 0.0))
implements(np.nancumprod)(_nan_cumulative("cumprod", 1.0))


@implements(np.round, np.around)
def _round(a: Any, decimals: int = 0, out: Any = None) -> Any:
    x = _t(a)
    if x._data.dtype.kind not in "fcV" or out is not None:
        if _needs_graph(x):
            raise _unsupported("round with out=")
        return _plain_numpy(np.round, (x,), dict(decimals=decimals, out=out))
    # NOTE: half to even, as NumPy (and PyTorch); the gradient is zero almost everywhere.
    # NumPy scales by 10**decimals, rounds, and scales back; the same steps here.
    if decimals == 0:
        return gk.round(x)
    if decimals > 0:
        f = 10.0 ** decimals
        return gk.round(x * f) / f
    f = 10.0 ** -decimals
    return gk.round(x / f) * f


def _trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Any:
    yt = _t(y)
    ax = _normalize_axis(axis, yt.ndim)
    if x is None:
        d: Any = dx
    else:
        xt = _t(x)
        if xt.ndim == 1:
            d = gk.diff(xt)
            d = d.reshape(*[-1 if i == ax else 1 for i in range(yt.ndim)])
        else:
            d = np.diff(xt, axis=axis)
    hi = (slice(None),) * ax + (slice(1, None),)
    lo = (slice(None),) * ax + (slice(None, -1),)
    return np.sum(d * (yt[hi] + yt[lo]) / 2.0, axis=ax)


implements(*[getattr(np, n) for n in ("trapezoid", "trapz") if hasattr(np, n)])(_trapezoid)


@implements(np.unwrap)
def _unwrap(p: Any, discont: Any = None, axis: int = -1, *, period: float = 2 * math.pi) -> Any:
    # NOTE: the correction is a multiple of the period, constant almost everywhere, so it is
    # computed by NumPy on the values and the gradient of unwrap is the identity
    x = _t(p)
    corrected = np.unwrap(x._data, discont=discont, axis=axis, period=period)
    return x + gk.as_tensor(corrected - x._data)


def _correlate_core(a: Tensor, v: Tensor, mode: str) -> Tensor:
    """out[k] = sum_j a_padded[k + j] * v[j], with NumPy's padding for each mode (len a >= len v)."""
    n, m = a.shape[0], v.shape[0]
    left, right = {"full": (m - 1, m - 1), "same": (m // 2, m - m // 2 - 1),
                   "valid": (0, 0)}[mode]
    zeros = gk.zeros(left, dtype=a.dtype), gk.zeros(right, dtype=a.dtype)
    ap = gk.cat([zeros[0], a, zeros[1]], 0)
    length = n + left + right - m + 1
    idx = np.arange(length)[:, None] + np.arange(m)[None, :]
    return (ap[idx] * v).sum(1)


def _mode(mode: Any) -> str:
    names = {0: "valid", 1: "same", 2: "full", "v": "valid", "s": "same", "f": "full"}
    mode = names.get(mode, mode)
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")
    return mode


def _vectors(a: Any, v: Any) -> tuple[Tensor, Tensor]:
    x, y = _t(a).reshape(-1), _t(v).reshape(-1)
    if x.shape[0] == 0:
        raise ValueError("a cannot be empty")
    if y.shape[0] == 0:
        raise ValueError("v cannot be empty")
    dt = np.result_type(x._data, y._data)
    return x.to(dt), y.to(dt)


@implements(np.correlate)
def _correlate(a: Any, v: Any, mode: str = "valid") -> Any:
    x, y = _vectors(a, v)
    mode = _mode(mode)
    if y.is_complex():
        y = gk.conj(y)
    if x.shape[0] >= y.shape[0]:
        return _correlate_core(x, y, mode)
    # NumPy swaps the (conjugated) inputs and reverses the result
    return gk.flip(_correlate_core(y, x, mode), (0,))


@implements(np.convolve)
def _convolve(a: Any, v: Any, mode: str = "full") -> Any:
    x, y = _vectors(a, v)
    if y.shape[0] > x.shape[0]:
        x, y = y, x
    return _correlate_core(x, gk.flip(y, (0,)), _mode(mode))


@implements(np.real_if_close)
def _real_if_close(a: Any, tol: float = 100) -> Any:
    x = _t(a)
    if not x.is_complex():
        return x
    if tol > 1:
        tol = np.finfo(x._data.dtype).eps * tol
    if np.all(np.absolute(x._data.imag) < tol):
        return gk.real(x)
    return x


# --- logic: results without a gradient ------------------------------------------------
def _values_only(func: Any) -> Any:
    def handler(*args: Any, **kwargs: Any) -> Any:
        return _plain_numpy(func, args, kwargs)
    return handler


for _f in (np.iscomplex, np.isreal):       # iscomplexobj/isrealobj: _numpy._NO_GRADIENT
    implements(_f)(_values_only(_f))


# --- polynomials -----------------------------------------------------------------------
@implements(np.polyval)
def _polyval(p: Any, x: Any) -> Any:
    pt, xt = _t(p), _t(x)
    y = gk.zeros_like(xt)                            # NumPy starts from zeros_like(x)
    for i in range(pt.shape[0]):
        y = y * xt + pt[i]
    return y


@implements(np.polyfit)
def _polyfit(x: Any, y: Any, deg: Any, rcond: Any = None, full: bool = False, w: Any = None,
             cov: Any = False) -> Any:
    """NumPy's least-squares fit, step for step (columns of the Vandermonde matrix scaled to
    unit norm, ``lstsq``, unscaled), on the graph: the gradient reaches ``x``, ``y`` and ``w``."""
    order = int(deg) + 1
    xt, yt = _t(x), _t(y)
    xt = xt.to(np.result_type(xt._data.dtype, np.float64))
    yt = yt.to(np.result_type(yt._data.dtype, np.float64))
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if xt.ndim != 1:
        raise TypeError("expected 1D vector for x")
    if xt.shape[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if yt.ndim < 1 or yt.ndim > 2:
        raise TypeError("expected 1D or 2D array for y")
    if xt.shape[0] != yt.shape[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = xt.shape[0] * np.finfo(xt._data.dtype).eps
    lhs = np.vander(xt, order)
    rhs = yt
    if w is not None:
        wt = _t(w).to(lhs.dtype)
        if wt.ndim != 1:
            raise TypeError("expected a 1-d array for weights")
        if wt.shape[0] != yt.shape[0]:
            raise TypeError("expected w and y to have the same length")
        lhs = lhs * wt[:, None]
        rhs = rhs * (wt if rhs.ndim == 1 else wt[:, None])
    scale = gk.sqrt(gk.sum(lhs * lhs, 0))
    lhs = lhs / scale
    c, resids, rank, s = np.linalg.lstsq(lhs, rhs, rcond)
    c = c / (scale if c.ndim == 1 else scale[:, None])
    if rank != order and not full:
        warnings.warn("Polyfit may be poorly conditioned", np.exceptions.RankWarning,
                      stacklevel=3)
    if full:
        return c, resids, rank, s, rcond
    if cov:
        vbase = np.linalg.inv(lhs.T @ lhs) / gk.outer(scale, scale)
        if cov == "unscaled":
            fac: Any = 1
        else:
            if xt.shape[0] <= order:
                raise ValueError("the number of data points must exceed order to scale the "
                                 "covariance matrix")
            fac = resids / (xt.shape[0] - order)
        if yt.ndim == 1:
            return c, vbase * fac
        return c, vbase[:, :, None] * fac
    return c


@implements(np.piecewise)
def _piecewise(x: Any, condlist: Any, funclist: Any, *args: Any, **kw: Any) -> Any:
    """NumPy's piecewise: ``funclist[i]`` evaluated on the elements where ``condlist[i]``
    holds (later conditions win; one extra function for where none holds), on the graph."""
    xt = _t(x)
    n = len(funclist)
    conds = condlist
    if isinstance(conds, (Tensor, np.ndarray)) or np.isscalar(conds) or (
            len(conds) and not isinstance(conds[0], (list, tuple, np.ndarray, Tensor))):
        conds = [conds]
    masks = [np.broadcast_to(np.asarray(_to_data(c), dtype=bool), xt.shape) for c in conds]
    if len(masks) == n - 1:
        masks.append(~np.any(np.stack(masks), axis=0) if masks else np.ones(xt.shape, bool))
    elif len(masks) != n:
        raise ValueError(f"with {len(masks)} condition(s), either {len(masks)} or "
                         f"{len(masks) + 1} functions are expected")
    y = gk.zeros_like(xt)
    for mask, func in zip(masks, funclist):
        m = gk.as_tensor(mask)
        if not callable(func):
            y = gk.where(m, gk.as_tensor(np.asarray(_to_data(func), dtype=xt._data.dtype)), y)
        elif mask.any():
            part = _t(func(xt[m], *args, **kw)).to(xt.dtype)
            y = y.index_put((m,), part)
    return y


def _poly1(p: Any) -> Tensor:
    t = _t(p)
    return t.reshape(1) if t.ndim == 0 else t


@implements(np.polymul)
def _polymul(a1: Any, a2: Any) -> Any:
    return np.convolve(_poly1(a1), _poly1(a2))


def _polyadd_sub(a1: Any, a2: Any, sign: int) -> Any:
    a, b = _poly1(a1), _poly1(a2)
    dt = np.result_type(a._data.dtype, b._data.dtype)
    a, b = a.to(dt), b.to(dt)
    n = max(a.shape[0], b.shape[0])
    a = gk.cat([gk.zeros((n - a.shape[0],), dtype=a.dtype), a]) if a.shape[0] < n else a
    b = gk.cat([gk.zeros((n - b.shape[0],), dtype=b.dtype), b]) if b.shape[0] < n else b
    return a + b if sign > 0 else a - b


@implements(np.polyadd)
def _polyadd(a1: Any, a2: Any) -> Any:
    return _polyadd_sub(a1, a2, 1)


@implements(np.polysub)
def _polysub(a1: Any, a2: Any) -> Any:
    return _polyadd_sub(a1, a2, -1)


@implements(np.polyder)
def _polyder(p: Any, m: Any = 1) -> Any:
    m = int(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    t = _t(p)
    for _ in range(m):
        n = t.shape[0] - 1
        t = t[:-1] * gk.as_tensor(np.arange(n, 0, -1))
    return t


@implements(np.polyint)
def _polyint(p: Any, m: Any = 1, k: Any = None) -> Any:
    m = int(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    kt = gk.zeros((m,), dtype=gk.float64) if k is None else _t(k).to(gk.float64).reshape(-1)
    if kt.shape[0] == 1 and m > 1:
        kt = kt.expand(m)
    if kt.shape[0] < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    t = _t(p)
    for i in range(m):
        t = gk.cat([t / gk.as_tensor(np.arange(t.shape[0], 0, -1)), kt[i:i + 1]])
    return t


@implements(np.poly)
def _poly(seq_of_zeros: Any) -> Any:
    z = _t(seq_of_zeros)
    if z.ndim != 1:
        raise TypeError("gradkit cannot differentiate numpy.poly of a matrix (its characteristic "
                        "polynomial); pass its eigenvalues (np.linalg.eigvals) instead")
    if z.is_complex():
        raise TypeError("gradkit cannot differentiate numpy.poly of complex roots")
    a = gk.as_tensor(np.ones(1, dtype=z._data.dtype if z.is_floating_point() else np.float64))
    for i in range(z.shape[0]):
        a = np.convolve(a, gk.stack([gk.ones_like(z[i]), -z[i]]).to(a.dtype))
    return a


@implements(np.polydiv)
def _polydiv(u: Any, v: Any) -> Any:
    """NumPy's long division, step for step, on the graph."""
    ut, vt = _poly1(u), _poly1(v)
    dt = np.result_type(ut._data.dtype, vt._data.dtype, np.float64)
    ut, vt = ut.to(dt), vt.to(dt)
    m, n = ut.shape[0] - 1, vt.shape[0] - 1
    scale = 1.0 / vt[0]
    r = [ut[i] for i in range(m + 1)]
    q = [gk.zeros((), dtype=ut.dtype)] * max(m - n + 1, 1)
    for k in range(m - n + 1):
        d = scale * r[k]
        q[k] = d
        for j in range(n + 1):
            r[k + j] = r[k + j] - d * vt[j]
    while len(r) > 1 and np.allclose(r[0]._data, 0, rtol=1e-14):
        r = r[1:]
    return gk.stack(q), gk.stack(r)


@implements(np.apply_along_axis)
def _apply_along_axis(func1d: Any, axis: int, arr: Any, *args: Any, **kwargs: Any) -> Any:
    """``func1d`` on every 1-D slice along ``axis``; the results stacked where ``axis`` was
    (NumPy's shapes), on the graph."""
    a = _t(arr)
    nd = a.ndim
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(axis, nd)
    axis %= nd
    moved = gk.movedim(a, axis, -1)
    outer = tuple(moved.shape[:-1])
    if 0 in outer:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    res = [_t(func1d(moved[ind], *args, **kwargs)) for ind in np.ndindex(*outer)]
    dt = np.result_type(*[r._data.dtype for r in res])
    out = gk.stack([r.to(dt) for r in res]).reshape(outer + tuple(res[0].shape))
    k = res[0].ndim
    o = len(outer)
    return out.permute(*(list(range(axis)) + list(range(o, o + k)) + list(range(axis, o))))


@implements(np.vander)
def _vander(x: Any, N: Any = None, increasing: bool = False) -> Any:
    xt = _t(x)
    if xt.ndim != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    n = xt.shape[0] if N is None else int(N)
    dt = np.promote_types(xt._data.dtype, int)
    xt = xt.to(dt)
    # NOTE: successive products (NumPy's multiply.accumulate): no x**0 at x = 0 in the graph
    cols = [gk.ones_like(xt)] if n > 0 else []
    for _ in range(1, n):
        cols.append(cols[-1] * xt)
    if not cols:
        return gk.as_tensor(np.empty((xt.shape[0], 0), dtype=dt))
    v = gk.stack(cols, 1)
    return v if increasing else gk.flip(v, (1,))


# --- linear algebra --------------------------------------------------------------------
@implements(np.kron)
def _kron(a: Any, b: Any) -> Any:
    x, y = _t(a), _t(b)
    nd = max(x.ndim, y.ndim)
    xs = (1,) * (nd - x.ndim) + tuple(x.shape)
    ys = (1,) * (nd - y.ndim) + tuple(y.shape)
    xe = x.reshape(*[d for s in xs for d in (s, 1)]) if nd else x
    ye = y.reshape(*[d for s in ys for d in (1, s)]) if nd else y
    return (xe * ye).reshape(*[p * q for p, q in zip(xs, ys)])


_einsum_subscripts = FUNCTIONS[np.einsum]
_LETTERS = string.ascii_letters


def _sublist(labels: Any) -> str:
    out = []
    for s in labels:
        if s is Ellipsis:
            out.append("...")
        elif isinstance(s, (int, np.integer)) and 0 <= s < len(_LETTERS):
            out.append(_LETTERS[s])
        else:
            raise ValueError(f"subscript is not within the valid range [0, 52): {s!r}")
    return "".join(out)


@implements(np.einsum)
def _einsum(*operands: Any, **kw: Any) -> Any:
    if operands and isinstance(operands[0], str):
        return _einsum_subscripts(*operands, **kw)
    # the sublist form: einsum(a, [0, 1], b, [1, 2], [0, 2]) is einsum("ab,bc->ac", a, b)
    args = list(operands)
    out = args.pop() if len(args) % 2 else None
    arrays, labels = args[0::2], args[1::2]
    spec = ",".join(_sublist(s) for s in labels)
    if out is not None:
        spec += "->" + _sublist(out)
    return _einsum_subscripts(spec, *arrays, **kw)
