"""PyTorch-style tensors built from tensors: ``meshgrid``, ``cartesian_prod``, ``combinations``,
``block_diag``, the stacks (``dstack``, ``column_stack``, ``row_stack``, ``atleast_3d``),
``tril_indices``/``triu_indices`` (forward only, as in PyTorch) and ``vander``.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any, Sequence

import numpy as np

from gradkit import _api as A
from gradkit._api.shape import _tensor_sequence
from gradkit._core.concrete import user_stacklevel
from gradkit._core import dtype as _dtype
from gradkit._api.base import as_tensor_arg as _t
from gradkit._core.tensor import Tensor, _make
from gradkit._core.creation import _finish

__all__ = [
    "meshgrid", "cartesian_prod", "combinations", "block_diag", "tril_indices", "triu_indices",
    "vander", "atleast_3d", "diagflat", "dstack", "column_stack", "row_stack",
]


# --- building tensors -----------------------------------------------------------------
def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors (``indexing='ij'`` by default, or ``'xy'``)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=user_stacklevel())
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    ts = [_t(t) for t in tensors]
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
    ts = [A.reshape(t, (-1,)) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    out = []
    for k, t in enumerate(ts):
        s = [1] * len(ts)
        s[k] = -1
        out.append(A.expand(A.reshape(t, tuple(s)), shape))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """All tuples of one element from each 1-D tensor, as rows (the tensor itself for one)."""
    ts = [_t(t) for t in tensors]
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return A.stack([A.reshape(g, (-1,)) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """All ``r``-element combinations of a 1-D tensor's elements, as rows."""
    x = _t(input)
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return A.reshape(x[:0], (0,))
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(gen(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if idx.shape[0] == 0:
        return _make(np.zeros((0, r), dtype=x._data.dtype), False, None)
    cols = [A.index_select(x, 0, idx[:, j]) for j in range(r)]
    return A.stack(cols, 1)


def block_diag(*tensors: Tensor) -> Tensor:
    """A block-diagonal matrix from 0-, 1- or 2-D tensors."""
    ts = []
    for i, t in enumerate(tensors):
        t = _t(t)
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {t.ndim} dimensions")
        ts.append(A.reshape(t, (1, -1)) if t.ndim < 2 else t)
    if not ts:
        return _make(np.zeros((1, 0), dtype=_dtype.get_default_dtype().np), False, None)
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = _dtype.promote_types(dt, t.dtype)
    rows = sum(t.shape[0] for t in ts)
    cols = sum(t.shape[1] for t in ts)
    out = _make(np.zeros((rows, cols), dtype=dt.np), False, None)
    r = c = 0
    for t in ts:
        h, w = t.shape
        out[r:r + h, c:c + w] = t.to(dt) if t.dtype is not dt else t
        r, c = r + h, c + w
    return out


def _tri_indices(row: int, col: int, offset: int, upper: bool, dtype: Any, device: Any) -> Tensor:
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    r, c = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    dt = np.int64 if dtype is None else _dtype.as_dtype(dtype).np
    if np.dtype(dt).kind not in "iu":
        name = "tril_indices" if not upper else "triu_indices"
        raise NotImplementedError(f"\"{name}\" not implemented for "
                                  f"'{_dtype.as_dtype(dtype)._legacy[:-len('Tensor')]}'")
    return _finish(np.stack([r, c]).astype(dt).reshape(2, -1), False, device)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None, layout: Any = None) -> Tensor:
    """Row and column indices (a 2 x N int64 tensor) of the lower triangle of a row x col matrix."""
    return _tri_indices(row, col, offset, False, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None, layout: Any = None) -> Tensor:
    """Row and column indices (a 2 x N int64 tensor) of the upper triangle of a row x col matrix."""
    return _tri_indices(row, col, offset, True, dtype, device)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D tensor: columns ``x**(N-1), ..., x, 1``."""
    v = _t(x)
    if v.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = v.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if v.dtype is _dtype.bool or not (v.is_floating_point() or v.is_complex()):
        v = v.to(_dtype.int64)
    if n == 0:
        return _make(np.zeros((v.shape[0], 0), dtype=v._data.dtype), False, None)
    cols = [A.add(A.mul(v, 0), 1)]
    for _ in range(1, n):
        cols.append(A.mul(cols[-1], v))
    if not increasing:
        cols = cols[::-1]
    return A.stack(cols, 1)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with the flattened ``input`` on its ``offset``-th diagonal."""
    return A.diag(A.reshape(_t(input), (-1,)), offset)


# --- stacking ---------------------------------------------------------------------------
def atleast_3d(*tensors: Any) -> Any:
    """Tensors viewed with at least three dimensions (``(n,) -> (1, n, 1)``, ``(m, n) -> (m, n, 1)``)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_3d(t) for t in tensors[0])
    if len(tensors) != 1:
        return tuple(atleast_3d(t) for t in tensors)
    t = _t(tensors[0])
    if t.ndim == 0:
        return A.reshape(t, (1, 1, 1))
    if t.ndim == 1:
        return A.reshape(t, (1, t.shape[0], 1))
    if t.ndim == 2:
        return A.unsqueeze(t, -1)
    return t


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate along the third dimension after ``atleast_3d``."""
    if not len(_tensor_sequence(tensors, "dstack")):
        raise RuntimeError("dstack expects a non-empty TensorList")
    return A.cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Stack 0-/1-D tensors as columns (and concatenate 2-D ones) horizontally."""
    if not len(_tensor_sequence(tensors, "column_stack")):
        raise RuntimeError("column_stack expects a non-empty TensorList")
    cols = []
    for t in tensors:
        t = _t(t)
        cols.append(A.reshape(t, (-1, 1)) if t.ndim <= 1 else t)
    return A.cat(cols, 1)


def row_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Alias of ``vstack``."""
    return A.vstack(_tensor_sequence(tensors, "row_stack"))


_RANGE_DEPRECATED = ("torch.range is deprecated and will be removed in a future release because "
                     "its behavior is inconsistent with Python's range builtin. Instead, use "
                     "torch.arange, which produces values in [start, end).")


def torch_range(start: Any, end: Any, step: Any = 1, *, dtype: Any = None, layout: Any = None,
                device: Any = None, requires_grad: bool = False) -> Tensor:
    """PyTorch's deprecated ``torch.range`` (``gk.range``; not in ``__all__``, so a star import
    keeps Python's ``range``): ``start, start + step, ...`` up to and including ``end``, in the
    default floating dtype unless ``dtype`` says otherwise; warns as PyTorch does."""
    import math

    from gradkit._core import backend as _backend
    from gradkit._core.creation import _float_dtype
    warnings.warn(_RANGE_DEPRECATED, UserWarning, stacklevel=user_stacklevel())
    device = _backend.default_device(device)
    npd = _float_dtype(dtype)
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if not all(math.isfinite(v) for v in vals):
        raise RuntimeError(f"unsupported range: {vals[0]} -> {vals[1]}")
    if npd.kind in "iub":
        vals = [int(v) for v in vals]          # C truncation, as PyTorch casts them
    lo, hi, st = vals
    if st == 0:
        raise RuntimeError("step must be nonzero")
    if (hi - lo) * st < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = int((hi - lo) / st + 1)
    arr = lo + st * np.arange(n, dtype=np.int64 if npd.kind in "iub" else np.float64)
    return _finish(arr.astype(npd), requires_grad, device)
