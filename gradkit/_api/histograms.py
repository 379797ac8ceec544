"""PyTorch-style counting: ``histc`` and ``bincount`` (forward only, as in PyTorch)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._core import dtype as _dtype
from gradkit._core.backend import to_numpy
from gradkit._api.base import _scalar_name, as_tensor_arg as _t
from gradkit._core.tensor import Tensor, _make

__all__ = [
    "histc", "bincount", "histogram", "histogramdd",
]


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts in ``bins`` equal bins over [min, max] (the data's range if both are 0)."""
    x = _t(input)
    if not x.is_floating_point():
        raise RuntimeError(f"\"histogram_cpu\" not implemented for '{_scalar_name(x.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for bins")
    data = to_numpy(x._data).reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and data.size:
        # NOTE: NumPy's min/max (nan when a nan is there), as PyTorch's aminmax
        lo, hi = float(data.min()), float(data.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        # NOTE: a nan range made every comparison false, so every count was 0
        def show(v: float) -> str:
            return "-nan" if np.isnan(v) and min == max else format(v, "g")
        raise RuntimeError(f"torch.histc: range of [{show(lo)}, {show(hi)}] is not finite")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    keep = data[(data >= lo) & (data <= hi)].astype(np.float64)
    pos = ((keep - lo) * bins / (hi - lo)).astype(np.int64)
    pos = np.minimum(pos, bins - 1)
    counts = np.bincount(pos, minlength=bins).astype(x._data.dtype)
    return _make(counts, False, None)


def bincount(input: Tensor, weights: Any = None, minlength: int = 0) -> Tensor:
    """Number of occurrences of each value in a 1-D tensor of non-negative ints (or weight sums)."""
    x = _t(input)
    if x.ndim != 1 or x.dtype.is_floating_point or x.is_complex() or x.dtype is _dtype.bool:
        if x.ndim != 1:
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        raise RuntimeError(f"\"bincount_cpu\" not implemented for '{_scalar_name(x.dtype)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    data = to_numpy(x._data)
    if data.size and data.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _make(np.bincount(data, minlength=minlength).astype(np.int64), False, None)
    w = _t(weights)
    if tuple(w.shape) != tuple(x.shape):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    wd = to_numpy(w._data)
    dt = wd.dtype if wd.dtype.kind == "f" else np.float64
    return _make(np.bincount(data, weights=wd, minlength=minlength).astype(dt), False, None)


class _Histogram(tuple):
    """``(hist, bin_edges)``, named like PyTorch's ``torch.return_types.histogram``."""

    __slots__ = ()
    _name = "histogram"

    def __new__(cls, hist: Tensor, bin_edges: Any) -> Any:
        return tuple.__new__(cls, (hist, bin_edges))

    @property
    def hist(self) -> Any:
        return self[0]

    @property
    def bin_edges(self) -> Any:
        return self[1]

    def __repr__(self) -> str:
        return (f"torch.return_types.{self._name}(\nhist={self[0]!r},\n"
                f"bin_edges={self[1]!r})")

    def __reduce__(self) -> Any:
        return (tuple, (tuple(self),))


class _HistogramDD(_Histogram):
    __slots__ = ()
    _name = "histogramdd"


def _edges(lo: float, hi: float, count: int, dt: Any) -> np.ndarray:
    """``count + 1`` evenly spaced edges as PyTorch's linspace makes them: ``start + step * i``
    for the first half, ``end - step * (steps - 1 - i)`` for the second, each with one rounding
    (a fused multiply-add) to the input's dtype."""
    steps = count + 1
    lo_t, hi_t = np.asarray(lo, dt), np.asarray(hi, dt)
    step = (hi_t - lo_t) / np.asarray(count, dt)
    # NOTE: a wider type holds step * i exactly, so the sum is rounded once, as an fma
    wide = np.float64 if np.dtype(dt).itemsize < 8 else np.longdouble
    i = np.arange(steps)
    left = wide(lo_t) + wide(step) * i.astype(wide)
    right = wide(hi_t) - wide(step) * (steps - 1 - i).astype(wide)
    return np.where(i < steps // 2, left, right).astype(dt)


def _histdd(data: np.ndarray, bins: Any, rng: Any, weight: Any, density: bool,
            name: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Counts of the rows of ``data`` (N, D) in a D-dimensional grid, as ``torch.histogramdd``."""
    n, d = data.shape
    dt = data.dtype
    if isinstance(bins, Tensor) or not isinstance(bins, (list, tuple)):
        bins = [bins] * d
    if len(bins) != d:
        raise RuntimeError(f"torch.histogramdd: expected {d} sequences of bin edges for each "
                           f"of the {d} input dimensions, but got {len(bins)} bin sequences "
                           "instead")
    if rng is not None:
        rng = [float(v) for v in rng]
        if len(rng) != 2 * d:
            raise RuntimeError(f"torch.histogramdd: for a {d}-dimensional histogram range "
                               f"should have {2 * d} elements, but got {len(rng)}")
    edges: list[np.ndarray] = []
    for k, b in enumerate(bins):
        if isinstance(b, Tensor):
            if b.ndim != 1:
                raise RuntimeError(f"{name}: bins tensor should have one dimension, but got "
                                   f"{b.ndim} dimensions in the bins tensor for dimension {k}")
            e = to_numpy(b._data).astype(dt)
            if e.size < 1:
                raise RuntimeError(f"{name}: bins tensor should have at least 1 element, but "
                                   f"got {e.size} elements in the bins tensor for dimension {k}")
            if np.any(np.diff(e) < 0):
                # NOTE: PyTorch returns meaningless counts here; saying so is the honest answer
                raise ValueError(f"{name}: bin edges for dimension {k} must be non-decreasing")
            edges.append(e)
            continue
        count = int(b)
        if count <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {count} for "
                               f"dimension {k}")
        if rng is not None:
            lo, hi = rng[2 * k], rng[2 * k + 1]
        else:
            col = data[:, k]
            lo, hi = (float(col.min()), float(col.max())) if col.size else (0.0, 0.0)
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min "
                               f"{lo:g} max {hi:g} for dimension {k}")
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension {k}'s range [{lo:g}, {hi:g}] is "
                               "not finite")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges.append(_edges(lo, hi, count, dt))
    shape = tuple(max(e.size - 1, 0) for e in edges)
    keep = np.ones(n, dtype=bool)
    pos = []
    for k, e in enumerate(edges):
        col = data[:, k]
        if e.size < 2:
            keep &= False
            pos.append(np.zeros(n, dtype=np.int64))
            continue
        keep &= (col >= e[0]) & (col <= e[-1])
        p = np.searchsorted(e, col, side="right") - 1
        pos.append(np.clip(p, 0, e.size - 2))
    w = None
    if weight is not None:
        w = to_numpy(weight._data).reshape(-1).astype(dt)
    hist = np.zeros(shape, dtype=dt)
    if all(shape) and keep.any():
        flat = np.ravel_multi_index(tuple(p[keep] for p in pos), shape)
        hist = np.bincount(flat, weights=None if w is None else w[keep],
                           minlength=int(np.prod(shape))).astype(dt).reshape(shape)
    if density:
        total = hist.sum()
        vol = np.ones(shape, dtype=dt)
        for k, e in enumerate(edges):
            widths = np.diff(e).reshape([-1 if j == k else 1 for j in range(d)])
            vol = vol * widths
        with np.errstate(invalid="ignore", divide="ignore"):
            hist = (hist / total / vol).astype(dt)
    return hist, edges


def histogram(input: Tensor, bins: Any = 100, *, range: Any = None,  # noqa: A002
              weight: Any = None, density: bool = False) -> Any:
    """``(hist, bin_edges)`` of the flattened ``input``: ``bins`` equal bins over ``range``
    (the data's range by default) or the given increasing edges (no gradient, as in PyTorch)."""
    x = _t(input)
    if not x.is_floating_point():
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_scalar_name(x.dtype)}'")
    w = _weight(x, weight, tuple(x.shape), x.numel())
    data = to_numpy(x._data).reshape(-1, 1)
    hist, edges = _histdd(data, bins, range, w, density, "torch.histogramdd")
    return _Histogram(_make(hist, False, None), _make(edges[0], False, None))


def histogramdd(input: Tensor, bins: Any = 10, *, range: Any = None,  # noqa: A002
                weight: Any = None, density: bool = False) -> Any:
    """``(hist, bin_edges)`` of the points in the last dimension of ``input`` (N, D) in a
    D-dimensional grid (no gradient, as in PyTorch)."""
    x = _t(input)
    if not x.is_floating_point():
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_scalar_name(x.dtype)}'")
    if x.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions, "
                           f"but got {x.ndim}")
    d = x.shape[-1]
    lead = tuple(x.shape[:-1])
    w = _weight(x, weight, lead, int(np.prod(lead)))
    data = to_numpy(x._data).reshape(-1, d)
    hist, edges = _histdd(data, bins, range, w, density, "torch.histogramdd")
    return _HistogramDD(_make(hist, False, None),
                            tuple(_make(e, False, None) for e in edges))


def _weight(x: Tensor, weight: Any, lead: tuple[int, ...], n: int) -> Any:
    if weight is None:
        return None
    w = _t(weight)
    if tuple(w.shape) != lead:
        shape = list(x.shape) if x.ndim >= 2 else [n, 1]
        raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the "
                           "same shape as the input tensor excluding its innermost dimension, "
                           f"but got input with shape {shape} and weight with shape "
                           f"{list(w.shape)}")
    return w
