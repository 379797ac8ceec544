"""NumPy's statistics on gradkit tensors: ``ptp``, ``average``, ``median``, ``quantile``,
``percentile``, ``cov``, ``corrcoef``.

The handlers take NumPy's signatures and keywords and build their results from gradkit
operations, so the results stay on the graph. Registered into
``gradkit._api.numpy_protocol.FUNCTIONS`` on import (``numpy_dispatch`` loads this module).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from gradkit._api.numpy_protocol import (_needs_graph, _tensorize, _unsupported, _write_out,
                                         implements)
from gradkit._api.numpy_routines import _normalize_axis, _t, _to_data, gk
from gradkit._core.tensor import Tensor

__all__: list[str] = []


def _as_float(x: Tensor) -> Tensor:
    """NumPy's statistics compute integers and booleans in float64."""
    return x if x._data.dtype.kind in "fcV" else x.to(gk.float64)


def _np_dtype(x: Any) -> Any:
    return x._data.dtype if isinstance(x, Tensor) else np.asarray(x).dtype


# --- statistics ------------------------------------------------------------------------
@implements(np.ptp)
def _ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    x = _t(a)
    res = np.max(x, axis=axis, keepdims=keepdims) - np.min(x, axis=axis, keepdims=keepdims)
    return res if out is None else _write_out(out, res)


@implements(np.average)
def _average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *,
             keepdims: bool = False) -> Any:
    x = _t(a)
    if weights is None:
        avg = np.mean(_as_float(x), axis=axis, keepdims=keepdims)
        scl = gk.full_like(avg, x.numel() / max(avg.numel(), 1)).detach()
    else:
        w = _t(weights)
        kind = x._data.dtype.kind
        dt = np.result_type(x._data, w._data, "f8") if kind in "biu" else \
            np.result_type(x._data, w._data)
        x, w = x.to(dt), w.to(dt)
        if x.shape != w.shape:
            if axis is None:
                raise TypeError("Axis must be specified when shapes of a and weights differ.")
            if w.ndim != 1:
                raise TypeError("1D weights expected when shapes of a and weights differ.")
            ax = _normalize_axis(axis, x.ndim)
            if w.shape[0] != x.shape[ax]:
                raise ValueError("Length of weights not compatible with specified axis.")
            w = w.reshape(*[-1 if i == ax else 1 for i in range(x.ndim)])
            w = w.expand(*x.shape)
        scl = np.sum(w, axis=axis, keepdims=keepdims)
        if np.any(scl._data == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = np.sum(x * w, axis=axis, keepdims=keepdims) / scl
    if returned:
        if scl.shape != avg.shape:
            scl = scl.expand(*avg.shape)
        return avg, scl
    return avg


def _to_last(x: Tensor, axis: Any) -> tuple[Tensor, tuple[int, ...]]:
    """Move the reduced axes to one last axis; also return them (normalized)."""
    if axis is None:
        return x.reshape(-1), tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(sorted(_normalize_axis(a, x.ndim) for a in axes))
    kept = [i for i in range(x.ndim) if i not in axes]
    y = x.permute(*kept, *axes)
    return y.reshape(*[x.shape[i] for i in kept], -1), axes


def _keep(res: Tensor, shape: tuple[int, ...], axes: tuple[int, ...], lead: int = 0) -> Tensor:
    new = [1 if i in axes else s for i, s in enumerate(shape)]
    return res.reshape(*res.shape[:lead], *new)


def _nan_if_any(res: Tensor, y: Tensor, lead: int = 0) -> Tensor:
    """NumPy's median and quantile give NaN for a slice that holds a NaN."""
    bad = np.isnan(y._data).any(-1)
    if not np.any(bad):
        return res
    return gk.where(gk.as_tensor(np.broadcast_to(bad, res.shape)), math.nan, res)


@implements(np.median)
def _median(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
            keepdims: bool = False) -> Any:
    x = _as_float(_t(a))
    y, axes = _to_last(x, axis)
    n = y.shape[-1]
    if n == 0:
        return np.mean(y, axis=-1)
    s = gk.sort(y, -1).values
    # NOTE: an even count gives the mean of the two middle values, so each gets half the gradient
    res = s[..., n // 2] if n % 2 else (s[..., n // 2 - 1] + s[..., n // 2]) / 2.0
    res = _nan_if_any(res, y)
    res = _keep(res, tuple(x.shape), axes) if keepdims else res
    return res if out is None else _write_out(out, res)


def _quantile(x: Tensor, q: Any, axis: Any, keepdims: bool, method: str, name: str,
              scale: float) -> Any:
    if method != "linear":
        raise NotImplementedError(f"numpy.{name} on gradkit tensors supports method='linear' "
                                  f"only (got {method!r}); pass tensor.detach() for the others")
    if isinstance(q, Tensor) and _needs_graph(q):
        raise _unsupported(f"{name} with a q that requires grad")
    qa = np.asarray(_to_data(q), dtype=np.float64) / scale
    if np.any((qa < 0) | (qa > 1)):
        raise ValueError(f"{'Percentiles' if scale == 100 else 'Quantiles'} must be in the "
                         f"range [0, {int(scale)}]")
    # NumPy's result dtype (float32 stays float32 for a Python float q, not for a list q)
    dt = getattr(np, name)(np.zeros(1, dtype=x._data.dtype), _to_data(q)).dtype
    x = x.to(dt)
    y, axes = _to_last(x, axis)
    n = y.shape[-1]
    s = gk.sort(y, -1).values
    pos = qa * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    t = gk.as_tensor((pos - lo).astype(x._data.dtype))
    a_lo = gk.movedim(s[..., lo], tuple(range(y.ndim - 1, y.ndim - 1 + qa.ndim)),
                      tuple(range(qa.ndim))) if qa.ndim else s[..., lo]
    a_hi = gk.movedim(s[..., hi], tuple(range(y.ndim - 1, y.ndim - 1 + qa.ndim)),
                      tuple(range(qa.ndim))) if qa.ndim else s[..., hi]
    tt = t.reshape(*t.shape, *([1] * (a_lo.ndim - qa.ndim)))
    diff = a_hi - a_lo
    # NumPy's _lerp: a + d*t below t = 0.5, b - d*(1 - t) from there (exact at both ends)
    res = gk.where(tt >= 0.5, a_hi - diff * (1 - tt), a_lo + diff * tt)
    bad = np.isnan(y._data).any(-1)
    if np.any(bad):
        res = gk.where(gk.as_tensor(np.broadcast_to(bad, res.shape)), math.nan, res)
    return _keep(res, tuple(x.shape), axes, qa.ndim) if keepdims else res


@implements(np.quantile)
def _np_quantile(a: Any, q: Any, axis: Any = None, out: Any = None,
                 overwrite_input: bool = False, method: str = "linear",
                 keepdims: bool = False, **kw: Any) -> Any:
    res = _quantile(_t(a), q, axis, keepdims, method, "quantile", 1.0)
    return res if out is None else _write_out(out, res)


@implements(np.percentile)
def _np_percentile(a: Any, q: Any, axis: Any = None, out: Any = None,
                   overwrite_input: bool = False, method: str = "linear",
                   keepdims: bool = False, **kw: Any) -> Any:
    res = _quantile(_t(a), q, axis, keepdims, method, "percentile", 100.0)
    return res if out is None else _write_out(out, res)


@implements(np.cov)
def _cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: Any = None,
         fweights: Any = None, aweights: Any = None, *, dtype: Any = None) -> Any:
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    x = _t(m)
    if x.ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    dt = np.dtype(dtype) if dtype is not None else np.result_type(
        x._data, *([] if y is None else [_np_dtype(_tensorize(y))]), np.float64)
    X = gk.atleast_2d(x).to(dt)
    if not rowvar and X.shape[0] != 1:
        X = X.T
    if y is not None:
        Y = gk.atleast_2d(_t(y)).to(dt)
        if not rowvar and Y.shape[0] != 1:
            Y = Y.T
        X = gk.cat([X, Y], 0)
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        w = np.asarray(_to_data(fweights), dtype=float)
    if aweights is not None:
        aw = np.asarray(_to_data(aweights), dtype=float)
        w = aw if w is None else w * aw
    avg, w_sum = _average(X, axis=1, weights=w, returned=True)
    w_sum = float(w_sum._data[0])
    if w is None:
        fact = X.shape[1] - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * float(np.sum(w * aw)) / w_sum
    Xc = X - avg[:, None]
    XT = Xc.T if w is None else (Xc * gk.as_tensor(w.astype(dt))).T
    if Xc.is_complex():
        XT = gk.conj(XT)
    if fact <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
        fact = 0.0
    with np.errstate(divide="ignore"):
        c = (Xc @ XT) * float(np.true_divide(1, fact))
    return c.squeeze()


@implements(np.corrcoef)
def _corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None,
              **kw: Any) -> Any:
    c = _cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c
    sd = gk.sqrt(gk.real(gk.diagonal(c)) if c.is_complex() else gk.diagonal(c))
    c = c / sd[:, None]
    c = c / sd[None, :]
    return gk.clamp(c, -1.0, 1.0)


# --- statistics that ignore NaNs ------------------------------------------------------------
def _nan_moments(a: Any, axis: Any, dtype: Any, ddof: float, keepdims: bool) -> Tensor:
    x = _as_float(_t(a))
    if dtype is not None:
        x = x.to(dtype)
    nan = np.isnan(x._data)
    if not np.any(nan):
        return np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)
    mask = gk.as_tensor(nan)
    x0 = gk.where(mask, 0.0, x)
    cnt = np.sum(~nan, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.sum(x0, axis=axis, keepdims=True) / gk.as_tensor(cnt.astype(x._data.dtype))
    dev = gk.where(mask, 0.0, x0 - mean)
    sq = gk.real(dev * gk.conj(dev)) if dev.is_complex() else dev * dev
    dof = np.sum(~nan, axis=axis, keepdims=keepdims) - ddof
    if np.any(dof <= 0):
        warnings.warn("Degrees of freedom <= 0 for slice.", RuntimeWarning, stacklevel=3)
    # NOTE: a slice without degrees of freedom (all NaN, or ddof too large) gives NaN, as NumPy
    safe = np.where(dof > 0, dof, 1).astype(sq._data.dtype)
    res = np.sum(sq, axis=axis, keepdims=keepdims) / gk.as_tensor(safe)
    bad = dof <= 0
    return gk.where(gk.as_tensor(bad), math.nan, res) if np.any(bad) else res


@implements(np.nanvar)
def _nanvar(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
            keepdims: bool = False, **kw: Any) -> Any:
    res = _nan_moments(a, axis, dtype, kw.pop("correction", ddof), keepdims)
    return res if out is None else _write_out(out, res)


@implements(np.nanstd)
def _nanstd(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
            keepdims: bool = False, **kw: Any) -> Any:
    res = gk.sqrt(_nan_moments(a, axis, dtype, kw.pop("correction", ddof), keepdims))
    return res if out is None else _write_out(out, res)


def _nan_order_stat(x: Tensor, q: Any, axis: Any, keepdims: bool, name: str,
                    scale: float) -> Tensor:
    """Quantiles (``q`` None: the median) of each slice's non-NaN values: NaNs sort last, so
    each slice interpolates within its own count of values."""
    if isinstance(q, Tensor) and _needs_graph(q):
        raise _unsupported(f"{name} with a q that requires grad")
    x = _as_float(x)
    y, axes = _to_last(x, axis)
    s = gk.sort(y, -1).values
    cnt = np.sum(~np.isnan(y._data), axis=-1)
    if q is None:
        qa = np.asarray(0.5)
        lo, hi = (cnt - 1) // 2, cnt // 2
    else:
        qa = np.asarray(_to_data(q), dtype=np.float64) / scale
        if np.any((qa < 0) | (qa > 1)):
            raise ValueError(f"{'Percentiles' if scale == 100 else 'Quantiles'} must be in "
                             f"the range [0, {int(scale)}]")
        pos = qa.reshape(qa.shape + (1,) * cnt.ndim) * np.maximum(cnt - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(cnt - 1, 0))
    lo, hi = np.maximum(lo, 0), np.maximum(hi, 0)
    full = lo.shape + (s.shape[-1],)
    sb = s if tuple(s.shape) == full else gk.expand(s, full)
    a_lo = gk.take_along_dim(sb, lo[..., None], -1)[..., 0]
    a_hi = gk.take_along_dim(sb, hi[..., None], -1)[..., 0]
    if q is None:
        res = (a_lo + a_hi) / 2.0
    else:
        t = gk.as_tensor((pos - np.floor(pos)).astype(s._data.dtype))
        diff = a_hi - a_lo
        res = gk.where(t >= 0.5, a_hi - diff * (1 - t), a_lo + diff * t)
    empty = np.broadcast_to(cnt == 0, tuple(res.shape))
    if np.any(empty):
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
        res = gk.where(gk.as_tensor(empty), math.nan, res)
    return _keep(res, tuple(x.shape), axes, qa.ndim) if keepdims else res


@implements(np.nanmedian)
def _nanmedian(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
               keepdims: bool = False) -> Any:
    res = _nan_order_stat(_t(a), None, axis, keepdims, "nanmedian", 1.0)
    return res if out is None else _write_out(out, res)


def _nan_quantile_handler(name: str, scale: float) -> Any:
    def handler(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
                method: str = "linear", keepdims: bool = False, **kw: Any) -> Any:
        if method != "linear":
            raise NotImplementedError(f"numpy.{name} on gradkit tensors supports "
                                      f"method='linear' only (got {method!r}); pass "
                                      "tensor.detach() for the others")
        if kw.get("weights") is not None:
            raise NotImplementedError(f"numpy.{name} with weights= is not supported on gradkit "
                                      "tensors")
        res = _nan_order_stat(_t(a), q, axis, keepdims, name, scale)
        return res if out is None else _write_out(out, res)
    return handler


implements(np.nanquantile)(_nan_quantile_handler("nanquantile", 1.0))
implements(np.nanpercentile)(_nan_quantile_handler("nanpercentile", 100.0))
