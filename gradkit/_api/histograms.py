"""PyTorch-style counting: ``histc`` and ``bincount`` (forward only, as in PyTorch)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._core import dtype as _dtype
from gradkit._core.backend import to_numpy
from gradkit._api.base import as_tensor_arg as _t
from gradkit._core.tensor import Tensor, _make

__all__ = [
    "histc", "bincount",
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


def _scalar_name(d: Any) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(d.name if hasattr(d, "name") else str(d), str(d))
