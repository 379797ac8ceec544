"""PyTorch-style mutating ops as functions: index fills and copies, ``put``, ``masked_scatter``,
``scatter_reduce`` and ``index_reduce`` (PyTorch's "Indexing, Slicing, Joining, Mutating Ops").

Built from gradkit's own differentiable functions, so gradients (and gradients of
gradients) come from their rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit import _api as A
from gradkit._api import special as AM
from gradkit._core import dtype as _dtype
from gradkit._core.backend import to_numpy
from gradkit._api.base import _dim, _scalar_name
from gradkit._api.base import as_tensor_arg as _t
from gradkit._core.creation import _fill_value
from gradkit._core.tensor import Tensor, _make
from gradkit.ops import shape as S
from gradkit.ops._registry import apply
from gradkit._core.autocast import autocast_op

__all__ = [
    "index_fill", "index_copy", "masked_scatter", "put", "scatter_reduce", "index_reduce",
    "index_put",
]


def _idx(index: Any) -> np.ndarray:
    arr = to_numpy(index._data) if isinstance(index, Tensor) else np.asarray(index)
    return arr


def _write(x: Tensor, index: Any, value: Any) -> Tensor:
    """A copy of ``x`` with ``value`` written at ``index`` (recorded, differentiable)."""
    out = A.clone(x)
    if isinstance(value, Tensor) and value.dtype is not out.dtype:
        value = value.to(out.dtype)
    out[index] = value
    return out



# --- index fills ----------------------------------------------------------------------
def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    x = _t(input)
    idx = _idx(index)
    if idx.dtype.kind not in "iu":
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if idx.ndim > 1:
        raise IndexError("Index has to be a vector/scalar")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got tensor "
                           f"with {value.ndim} dimension(s).")
    if x.ndim == 0:
        return index_fill(x.reshape((1,)), 0, idx, value).reshape(())
    d = _dim(dim, x.ndim)
    size = x.shape[d]
    flat = idx.reshape(-1)
    if flat.size and (flat.max() >= size or flat.min() < -size):
        bad = flat[(flat >= size) | (flat < -size)][0]
        raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    sel = (slice(None),) * d + (flat,)
    if x.is_floating_point() and (
            (isinstance(value, (int, float)) and not isinstance(value, bool)) or
            (isinstance(value, Tensor) and value.dtype is x.dtype and
             type(value._data) is type(x._data))):
        # PyTorch's node: one IndexFillBackward0 (a number) or IndexFillBackward1 (a tensor
        # value), the masked_fill row over the filled slices (a repeated index fills once)
        mask = np.zeros(tuple(x.shape), dtype=bool)
        mask[sel] = True
        m = _make(mask if type(x._data) is np.ndarray else np.asarray(mask, like=x._data),
                  False, None)
        if isinstance(value, Tensor):
            return apply(S.masked_fill_p.prim, (x, m, value), None, S.INDEX_FILL_T)
        return apply(S.masked_fill_p.prim, (x, m, _fill_value(value, x._data.dtype)), None,
                     S.INDEX_FILL)
    return _write(x, sel, value)


@autocast_op
def index_copy(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` replaced by those of ``source``."""
    x, src = _t(input), _t(source)
    if src.dtype is not x.dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, but "
                           f"got (self) {_scalar_name(x.dtype)} and (source) {_scalar_name(src.dtype)}")
    idx = _idx(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("index_copy_(): Expected a long tensor for index, but got "
                           f"{idx.dtype}")
    if idx.ndim > 1:
        raise IndexError("index_copy_(): Index should have dimension 1 or 0 (got "
                         f"{idx.ndim})")
    if x.ndim == 0:
        return index_copy(x.reshape((1,)), 0, idx, src.reshape((-1,))).reshape(())
    d = _dim(dim, x.ndim)
    flat = idx.reshape(-1)
    if src.ndim == 0:
        src = src.reshape((1,))
    n = src.shape[d] if src.ndim > d else 1
    if n != flat.size:
        raise IndexError(f"index_copy_(): Number of indices ({flat.size}) should be equal to "
                         f"source.size(dim) ({n})")
    size = x.shape[d]
    if flat.size and (flat.max() >= size or flat.min() < 0):
        bad = flat[(flat >= size) | (flat < 0)][0]
        raise IndexError(f"index_copy_(): index {bad} is out of bounds for dimension {d} "
                         f"with size {size}")
    want = tuple(x.shape[:d]) + (flat.size,) + tuple(x.shape[d + 1:])
    if tuple(src.shape) == want:
        # PyTorch's node: one IndexCopyBackward0 (a row of the table)
        return S.index_copy_p(x, src, dim=d, index=flat)
    return _write(x, (slice(None),) * d + (flat,), src)


def masked_scatter(input: Tensor, mask: Any, source: Tensor) -> Tensor:
    """``input`` with the positions where ``mask`` is True filled, in order, from ``source``."""
    x, src = _t(input), _t(source)
    m = _t(mask)
    if m.dtype is not _dtype.bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{m.dtype}")
    if src.dtype is not x.dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes but got"
                           f" {x.dtype} and {src.dtype}")
    shape = tuple(np.broadcast_shapes(tuple(x.shape), tuple(m.shape)))
    mk = np.broadcast_to(to_numpy(m._data), shape)
    n = int(mk.sum())
    if n > src.numel():
        raise RuntimeError("masked_scatter: expected source to have at least as many elements as "
                           f"ones in mask ({n}), but got {src.numel()}")
    if tuple(x.shape) != shape:
        x = A.expand(x, shape)
    # PyTorch's node: one MaskedScatterBackward0 (a row of the table)
    return S.masked_scatter_p(x, src, mask=np.ascontiguousarray(mk))


def put(input: Tensor, index: Any, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` (seen as 1-D) with ``source`` written (or added) at the flat positions ``index``."""
    x, src = _t(input), _t(source)
    idx = _idx(index).reshape(-1)
    if idx.dtype.kind not in "iu":
        raise IndexError("put_(): Expected a long tensor for index, but got " + str(idx.dtype))
    if src.dtype is not x.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {x.dtype} and source.dtype = {src.dtype}")
    if src.numel() != idx.size:
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {src.numel()}, index.numel() = "
                           f"{idx.size}")
    n = x.numel()
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = idx[(idx >= n) | (idx < -n)][0]
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    idx = np.where(idx < 0, idx + n, idx)
    # PyTorch's node: one PutBackward0 (a row of the table)
    return S.put_p(x, src, index=idx, accumulate=bool(accumulate))


def index_put(input: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` with ``values`` written (or, with ``accumulate``, added: repeated positions
    add up) at ``input[indices]``; ``indices`` is a tuple of integer or boolean tensors."""
    name = "index_put_"
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{name}(): argument 'indices' (position 1) must be tuple of Tensors, "
                        f"not {type(indices).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"{name}(): argument 'values' (position 2) must be Tensor, not "
                        f"{type(values).__name__}")
    x = _t(input)
    arrays = []
    for k, i in enumerate(indices):
        if not isinstance(i, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got {type(i).__name__}")
        if i._data.dtype.kind not in "iub":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        arrays.append(to_numpy(i._data))
    if values.dtype is not x.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_scalar_name(x.dtype)} for the destination and "
                           f"{_scalar_name(values.dtype)} for the source.")
    index = tuple(arrays)
    try:
        pos = np.arange(x.numel()).reshape(tuple(x.shape))[index]
    except IndexError as exc:
        raise IndexError(str(exc).replace("axis", "dimension")) from None
    if not accumulate:
        return _write(x, index, values)
    vals = A.reshape(A.broadcast_to(values, pos.shape), (-1,))
    out = AM.index_add(A.reshape(x, (-1,)), 0, pos.reshape(-1), vals)
    return A.reshape(out, tuple(x.shape))


# --- scatter_reduce -------------------------------------------------------------------
_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce ``src`` into ``input`` at ``index`` along ``dim`` with ``sum``, ``prod``, ``mean``,
    ``amax`` or ``amin`` (``input``'s own values take part when ``include_self``).

    Differentiable: ties in ``amax``/``amin`` share the gradient evenly, as in PyTorch.
    """
    return _scatter_reduce(input, dim, index, src, reduce, include_self, 0)


def _scatter_reduce(input: Tensor, dim: int, index: Any, src: Tensor, reduce: str,
                    include_self: bool, variant: int) -> Tensor:
    """``scatter_reduce``; ``variant`` 1 names the node ``IndexReduceBackward0``."""
    x, s = _t(input), _t(src)
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    if s.dtype is not x.dtype:
        raise RuntimeError("scatter_reduce(): Expected self.dtype to be equal to src.dtype")
    idx = _idx(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("scatter_reduce(): Expected dtype int64 for index")
    if x.ndim == 0:
        return scatter_reduce(x.reshape((1,)), 0, idx.reshape(-1), s.reshape((-1,)), reduce,
                              include_self=include_self).reshape(())
    d = _dim(dim, x.ndim)
    if idx.ndim != x.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if idx.size == 0:
        return A.clone(x)
    for k in range(idx.ndim):
        if idx.shape[k] > s.shape[k] or (k != d and idx.shape[k] > x.shape[k]):
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(idx.shape)} to be smaller than self {list(x.shape)} apart "
                               f"from dimension {d} and to be smaller size than src "
                               f"{list(s.shape)}")
    n = x.shape[d]
    if idx.max() >= n or idx.min() < 0:
        bad = int(idx[(idx >= n) | (idx < 0)][0])
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {n}")
    # PyTorch's node: one ScatterReduceBackward0 (IndexReduceBackward0), a row of the table
    return apply(S.scatter_reduce_p.prim, (x, s),
                 {"dim": d, "index": idx, "reduce": reduce, "include_self": bool(include_self)},
                 variant)


def index_reduce(input: Tensor, dim: int, index: Any, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """``scatter_reduce`` of whole slices: slice ``i`` of ``source`` along ``dim`` goes to
    ``index[i]`` (``reduce`` is ``prod``, ``mean``, ``amax`` or ``amin``)."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    x, s = _t(input), _t(source)
    d = _dim(dim, x.ndim)
    idx = _idx(index).reshape(-1)
    if s.ndim == 0:
        s = s.reshape((1,))
    if s.shape[d] != idx.size:
        raise IndexError(f"index_reduce_(): Number of indices ({idx.size}) should be equal to "
                         f"source.size(dim) ({s.shape[d]})")
    shape = [1] * s.ndim
    shape[d] = idx.size
    full = np.ascontiguousarray(np.broadcast_to(idx.reshape(shape), tuple(s.shape)))
    return _scatter_reduce(x, d, full, s, reduce, include_self, 1)
