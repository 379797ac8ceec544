"""PyTorch-style indexing, sorting and searching (gather, scatter, sort, topk, unique, ...).

Part of ``gradkit._api`` (see its docstring); none carries a derivative of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._core import backend as _backend
from gradkit._core import dtype as _dtype
from gradkit._core.tensor import Tensor, _make
from gradkit.ops import reduction as R
from gradkit.ops import shape as S
from gradkit.ops._registry import apply
from gradkit._api.base import as_tensor_arg as _as_tensor
from gradkit._api.base import (_cummax_ret, _cummin_ret, _kth_ret, _not_lazy, _other, _sort_ret,
                               _t, _topk_ret, _view_op, _vmap_batched, _vmap_dynamic,
                               _vmap_error)
from gradkit._api.shape import expand, reshape
from gradkit._core.creation import _fill_value
from gradkit._core.autocast import autocast_op

def _index_array(index: Any) -> np.ndarray:
    arr = index._data if isinstance(index, Tensor) else _backend.as_data(index)
    if arr.dtype.kind not in "iu":
        raise RuntimeError(f"index_select(): Expected dtype int32/int64 for index but got: "
                           f"{arr.dtype}")
    return arr.astype(np.int64, copy=False)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    flat = _index_array(index).reshape(-1)
    if _first_bad(flat, 0, x.shape[d] if x.ndim else 1) is not None:
        raise IndexError("index out of range in self")
    idx = (slice(None),) * d + (flat,)
    return apply(S.getitem_p.prim, (x,), {"index": idx}, S.INDEX_SELECT)


def _first_bad(idx: np.ndarray, low: int, size: int) -> int | None:
    """The first index outside ``[low, size)``, or None (PyTorch refuses it; NumPy would wrap a
    negative one). A lazy (Dask) index is not computed to check it; a meta one has no values."""
    if idx.size == 0 or _backend.values_unknown(idx):
        return None
    lo, hi = idx.min(), idx.max()
    if lo >= low and hi < size:
        return None
    flat = idx.reshape(-1)
    return int(flat[(flat < low) | (flat >= size)][0])


def _check_along(x: Tensor, d: int, idx: np.ndarray, src: Tensor | None = None,
                 scatter: bool = False) -> None:
    """PyTorch's shape and range checks of gather/scatter indices along ``d``."""
    what = "self" if scatter else "input"
    if max(idx.ndim, 1) != max(x.ndim, 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {what} "
                           "tensor")
    xs, ss = tuple(x.shape) or (1,), (tuple(src.shape) or (1,)) if src is not None else None
    shape = idx.shape or (1,)
    for k, n in enumerate(shape):
        if not scatter and k != d and n > xs[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(idx.shape)} to be no larger than self {list(x.shape)} "
                               f"apart from dimension {d}")
        if scatter and ((k != d and n > xs[k]) or (ss is not None and n > ss[k])):
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                               f"{list(x.shape)} apart from dimension {d}"
                               + (f" and to be no larger size than src {list(src.shape)}"
                                  if src is not None else ""))
    bad = _first_bad(idx, 0, xs[d])
    if bad is not None:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {xs[d]}")


def gather(input: Tensor, dim: int, index: Any) -> Tensor:
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    idx = _index_array(index)
    _check_along(x, d, idx)
    if idx.ndim == 0 or x.ndim == 0:
        flat = x.reshape((1,)) if x.ndim == 0 else x
        return S.gather_p(flat, dim=0, index=idx.reshape(1)).reshape(idx.shape)
    return S.gather_p(x, dim=d, index=idx)


def _scatter_args(x: Tensor, dim: int, index: Any, src: Any) -> tuple[Tensor, int, np.ndarray, Any]:
    """Checked arguments of scatter/scatter_add, a 0-d input, index or src made 1-D."""
    d = S.norm_dim(dim, x.ndim)
    idx = _index_array(index)
    if type(src) in (int, float) and (x._data.dtype.kind in "iu" or x._data.dtype == np.float32):
        src = _fill_value(src, x._data.dtype)
    if isinstance(src, Tensor) and src.ndim == 0 and idx.ndim:
        src = src.reshape((1,) * idx.ndim)      # a 0-d src is one element (PyTorch)
    _check_along(x, d, idx, src if isinstance(src, Tensor) else None, scatter=True)
    if x.ndim == 0 or idx.ndim == 0:
        idx = idx.reshape(-1)
        if isinstance(src, Tensor) and src.ndim == 0:
            src = src.reshape((1,))
    return x, d, idx, src


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    x = _t(input)
    src = value if src is None else src
    if isinstance(src, Tensor) and src.dtype is not x.dtype:
        # NOTE: PyTorch's check; NumPy would cast (2.5 written into a long tensor as 2)
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if reduce is not None:
        # PyTorch's older spelling of scatter_reduce (sum or prod, input's values included)
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        from gradkit._api.mutating import scatter_reduce
        idx = _t(index)
        if isinstance(src, Tensor):
            s = src[tuple(slice(0, n) for n in idx.shape)]    # the part index addresses
        else:
            s = _make(np.full(tuple(idx.shape), src, dtype=x._data.dtype), False, None)
        return scatter_reduce(x, dim, idx, s, "sum" if reduce == "add" else "prod")
    flat = x.reshape((1,)) if x.ndim == 0 else x
    flat, d, idx, src = _scatter_args(flat, dim if x.ndim else 0, index, src)
    out = apply(S.scatter_p.prim, (flat, src), {"dim": d, "index": idx},
                0 if isinstance(src, Tensor) else 1)
    return out.reshape(()) if x.ndim == 0 else out


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    x = _t(input)
    if _t(src).dtype is not x.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    flat = x.reshape((1,)) if x.ndim == 0 else x
    flat, d, idx, s = _scatter_args(flat, dim if x.ndim else 0, index, _t(src))
    out = S.scatter_add_p(flat, s, dim=d, index=idx)
    return out.reshape(()) if x.ndim == 0 else out


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    x = _t(input)
    m = _t(mask)
    if m._data.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{m.dtype.name}")
    if isinstance(value, (int, float)) and (x._data.dtype.kind in "iu"
                                            or x._data.dtype == np.float32):
        value = _fill_value(value, x._data.dtype)
    value = _other(value)
    # PyTorch's nodes: MaskedFillBackward0 for a number, MaskedFillBackward1 for a tensor value
    return apply(S.masked_fill_p.prim, (x, m, value), None, int(isinstance(value, Tensor)))


def masked_select(input: Tensor, mask: Any) -> Tensor:
    x = _t(input)
    if _vmap_batched(mask):
        raise _vmap_error("vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) "
                          "We cannot support this because for each batch this would return a "
                          "differently shaped Tensor. Please file an issue at "
                          "https://github.com/pytorch/pytorch/issues if you need this feature.")
    m = _t(mask)._data
    if m.dtype != np.bool_:        # an integer mask indexed by position, silently
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = S.broadcast_shapes(m.shape, tuple(x.shape))
    if tuple(x.shape) != shape:
        x = expand(x, shape)
    return apply(S.getitem_p.prim, (x,), {"index": np.broadcast_to(m, shape)}, S.MASKED_SELECT)


def take(input: Tensor, index: Any) -> Tensor:
    x = _t(input)
    flat = reshape(x, (-1,))
    idx = _index_array(index)
    bad = _first_bad(idx, -flat.shape[0], flat.shape[0])
    if bad is not None:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of "
                         f"{flat.shape[0]} elements.")
    if x.ndim < 2:
        return apply(S.getitem_p.prim, (flat,), {"index": idx}, S.TAKE)
    # NOTE: PyTorch's TakeBackward0 reads the input itself (no view before it): the flat
    # positions as one index per dim
    where = np.unravel_index(np.where(idx < 0, idx + flat.shape[0], idx), tuple(x.shape))
    return apply(S.getitem_p.prim, (x,), {"index": where}, S.TAKE)


def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """``gather`` with ``input`` and ``indices`` broadcast against each other in the other dims
    (as PyTorch and ``np.take_along_axis``); ``dim=None`` reads the flattened input."""
    x = _t(input)
    idx = _index_array(indices)
    if dim is None:
        return gather(reshape(x, (-1,)), 0, idx.reshape(-1))
    d = S.norm_dim(dim, x.ndim)
    if idx.ndim != x.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {x.ndim} dimensions for input, and "
                           f"{idx.ndim} dimensions for indices")
    xs, js = list(x.shape), list(idx.shape)
    xs[d] = js[d] = 1
    common = list(S.broadcast_shapes(tuple(xs), tuple(js)))
    want_x, want_i = list(common), list(common)
    want_x[d], want_i[d] = x.shape[d], idx.shape[d]
    # NOTE: PyTorch expands the input even to its own shape (an ExpandBackward0 node)
    x = expand(x, tuple(want_x))
    return gather(x, d, np.broadcast_to(idx, tuple(want_i)))


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    x = _t(input)
    if as_tuple and _vmap_batched(x):
        raise _vmap_error("Batching rule not implemented for aten::nonzero_numpy. We could not "
                          "generate a fallback.")
    _vmap_dynamic(x, "nonzero")
    return _nonzero(x, as_tuple)


def _nonzero(x: Tensor, as_tuple: bool) -> Any:
    _not_lazy(x, "nonzero", "has a shape that depends on the values")
    if x.ndim == 0:          # a 0-d tensor counts as one element: (1, 0) indices, or one (0,) or (1,)
        hit = bool(x._data)
        if as_tuple:
            return (_make(np.zeros(int(hit), np.int64), False, None),)
        return _make(np.zeros((int(hit), 0), np.int64), False, None)
    nz = np.nonzero(x._data)
    if as_tuple:
        return tuple(_make(i.astype(np.int64), False, None) for i in nz)
    return _make(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64),
                 False, None)


def argwhere(input: Tensor) -> Tensor:
    # NOTE: inside vmap PyTorch runs argwhere per example (it has no batching rule), which
    # works when every example has as many hits; _nonzero reads the values, so vmap does too
    return _nonzero(_t(input), False)


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero(input)`` with exactly ``size`` rows: cut after ``size`` or filled with
    ``fill_value`` (a shape that does not depend on the values)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    idx = nonzero(input)._data
    out = np.full((int(size), idx.shape[1]), fill_value, dtype=np.int64)
    k = min(int(size), idx.shape[0])
    out[:k] = idx[:k]
    return _make(out, False, None)


def _two_dims(x: Tensor, name: str) -> Tensor:
    if x.ndim < 2:  # NumPy's np.tril/np.triu broadcast a vector to a matrix; PyTorch refuses
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return x


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    return S.tril_p(_two_dims(_t(input), "tril"), diagonal=diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    return S.triu_p(_two_dims(_t(input), "triu"), diagonal=diagonal)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    x = _t(input)
    return _view_op(x, S.diagonal_p.prim, {"offset": offset, "dim1": S.norm_dim(dim1, x.ndim),
                                         "dim2": S.norm_dim(dim2, x.ndim)})


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """The diagonal of a matrix, or a matrix with a vector on its diagonal."""
    x = _t(input)
    if x.ndim == 1:
        return S.diag_embed_p(x, offset=diagonal)
    if x.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got %dD" % x.ndim)
    out = apply(S.diagonal_p.prim, (x,), {"offset": diagonal, "dim1": 0, "dim2": 1}, 1)
    # NOTE: diag is a copy in PyTorch (diagonal is the view); the row gives NumPy's view
    out._data = out._data.copy()
    return out


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims ``dim1``, ``dim2``) with the last dim of ``input`` on their diagonal
    ``offset``; the other dims are batch dims."""
    x = _t(input)
    nd = x.ndim + 1
    d1, d2 = S.norm_dim(dim1, nd), S.norm_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if x.ndim <= 1 and (d1, d2) == (0, 1):
        return S.diag_embed_p(x.reshape((-1,)), offset=offset)
    n = (x.shape[-1] if x.ndim else 1) + abs(offset)
    shape = list(x.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    # the gradient of diagonal() places its input on a diagonal of zeros: exactly diag_embed
    return S.diagonal_backward_p(x.reshape((-1,)) if x.ndim == 0 else x, shape=tuple(shape),
                                 offset=offset, dim1=d1, dim2=d2)


@autocast_op
def trace(input: Tensor) -> Tensor:
    x = _t(input)
    if x.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim %d" % x.ndim)
    if x.dtype is _dtype.bool:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return S.trace_p(x)


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy that stays on the graph (gradient passes through unchanged); a channels-last
    ``memory_format`` lays the copy out NHWC (NDHWC), as ``contiguous`` does."""
    from gradkit._core import formats
    out = S.clone_p(_t(input))
    if formats.check(memory_format) in formats.CHANNELS_LAST:
        return out.contiguous(memory_format=memory_format)
    return out


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: Any = None) -> Any:
    """Sorted values and their indices; ties keep their order (also when not ``stable``).

    NOTE: passing ``stable`` (any value) selects PyTorch's ``sort.stable`` overload, whose node
    is SortBackward1; without it the node is SortBackward0.
    """
    x = _t(input)
    if x.ndim == 0:
        S.norm_dim(dim, 0)
        return _sort_ret(apply(S.clone_p.prim, (x,), None, 1 if stable is None else 2),
                         _make(np.zeros((), np.int64), False, None))
    d = S.norm_dim(dim, x.ndim)
    _not_lazy(x, "sort", "needs argsort, which Dask arrays lack")
    idx = _argsort(x._data, d, descending)
    return _sort_ret(_gather_as(x, d, idx, 1 if stable is None else 5),
                     _make(idx.astype(np.int64), False, None))


def msort(input: Tensor) -> Tensor:
    """Sorted along the first dimension."""
    return sort(_as_tensor(input), 0)[0]


def _argsort(a: np.ndarray, d: int, descending: bool) -> np.ndarray:
    """Stable argsort; descending keeps ties in their order and puts nan first, as PyTorch.

    NOTE: not argsort(-a): that wraps unsigned ints (0 would sort first), refuses bools and
    puts nan last.
    """
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    up = np.argsort(np.flip(a, d), axis=d, kind="stable")
    return (a.shape[d] - 1) - np.flip(up, d)


def _gather_as(x: Tensor, d: int, idx: np.ndarray, variant: int) -> Tensor:
    """``gather`` recorded under another PyTorch node name (SortBackward0, TopkBackward0, ...)."""
    return apply(S.gather_p.prim, (x,), {"dim": d, "index": idx}, variant)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(input, dim, descending).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    if not 0 <= k <= (x.shape[d] if x.ndim else 1):
        raise RuntimeError("selected index k out of range")
    if x.ndim == 0:
        r = topk(x.reshape((1,)), k, 0, largest, sorted)
        return _topk_ret(r.values.reshape(()), r.indices.reshape(())) if k else r
    v, i = sort(x, d, descending=largest)
    sl = (slice(None),) * d + (slice(0, k),)
    idx = i._data[sl]
    idx = _backend.contiguous(idx)
    return _topk_ret(_gather_as(x, d, idx, 2), _make(idx, False, None))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The k-th smallest element along ``dim`` (1-based), as ``(values, indices)``."""
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    if not 1 <= k <= (x.shape[d] if x.ndim else 1):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    values, idx = apply(R.median_dim_p.prim, (x,), {"dim": d, "keepdim": keepdim, "k": k}, R.KTHVALUE)
    return _kth_ret(values, idx)


def _cum_extreme(x: Tensor, dim: int, better: Any, ret: Any) -> Any:
    d = S.norm_dim(dim, x.ndim)
    data = np.moveaxis(x._data, d, 0) if x.ndim else x._data.reshape(1)
    idx = np.zeros(data.shape, dtype=np.int64)
    best = data[0].copy() if data.shape[0] else None        # an empty dim: empty results
    for i in range(1, data.shape[0]):
        # NOTE: ties move the index forward, as PyTorch's cummax/cummin do.
        take = better(data[i], best) | (data[i] == best) | np.isnan(data[i])
        best = np.where(take, data[i], best)
        idx[i] = np.where(take, i, idx[i - 1])
    idx = np.moveaxis(idx, 0, d) if x.ndim else idx.reshape(())
    variant = 3 if ret is _cummax_ret else 4
    values = _gather_as(x, d, idx, variant) if x.ndim else _gather_as(
        x.reshape(1), 0, np.zeros(1, np.int64), variant).reshape(())
    return ret(values, _make(np.ascontiguousarray(idx), False, None))


def cummax(input: Tensor, dim: int) -> Any:
    """Running maximum along ``dim`` as ``(values, indices)``; the gradient goes to the index."""
    return _cum_extreme(_t(input), dim, np.greater, _cummax_ret)


def cummin(input: Tensor, dim: int) -> Any:
    """Running minimum along ``dim`` as ``(values, indices)``; the gradient goes to the index."""
    return _cum_extreme(_t(input), dim, np.less, _cummin_ret)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """Distinct elements (no gradient, as in PyTorch)."""
    x = _t(input)
    _not_lazy(x, "unique", "has a shape that depends on the values")
    _vmap_dynamic(x, "_unique2" if dim is None else "unique_dim")
    # NOTE: equal_nan=False: PyTorch keeps every NaN (nan != nan), NumPy would collapse them
    res = np.unique(x._data, return_inverse=return_inverse, return_counts=return_counts, axis=dim,
                    equal_nan=False)
    if not isinstance(res, tuple):
        return _make(res, False, None)
    out = [_make(res[0], False, None)]
    for extra in res[1:]:
        out.append(_make(np.asarray(extra, dtype=np.int64).reshape(
            x.shape if extra is res[1] and return_inverse and dim is None else -1), False, None))
    return tuple(out)


def unique_consecutive(input: Tensor, return_inverse: bool = False,
                       return_counts: bool = False, dim: int | None = None) -> Any:
    """Collapse each run of equal consecutive elements (or slices along ``dim``) to one
    (no gradient, as ``unique``)."""
    x = _t(input)
    _not_lazy(x, "unique_consecutive", "has a shape that depends on the values")
    _vmap_dynamic(x, "unique_consecutive" if dim is None else "unique_dim_consecutive")
    data = x._data
    if dim is None:
        flat = data.reshape(-1)
        new_run = flat[1:] != flat[:-1]
        moved = flat
    else:
        axis = dim + x.ndim if dim < 0 else dim
        if not 0 <= axis < max(x.ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(x.ndim, 1)}, {max(x.ndim, 1) - 1}], but got {dim})")
        moved = np.moveaxis(data, axis, 0)
        rows = moved.reshape(moved.shape[0], -1)
        new_run = np.any(rows[1:] != rows[:-1], axis=1)
    n = moved.shape[0]
    starts = np.flatnonzero(np.concatenate([[n > 0], new_run])) if n else np.zeros(0, np.int64)
    values = moved[starts]
    if dim is not None:
        values = np.moveaxis(values, 0, axis)
    out = [_make(np.ascontiguousarray(values), False, None)]
    if return_inverse:
        inv = np.cumsum(np.concatenate([[0], new_run.astype(np.int64)])) if n else \
            np.zeros(0, np.int64)
        out.append(_make(inv.astype(np.int64).reshape(x.shape if dim is None else -1),
                         False, None))
    if return_counts:
        counts = np.diff(np.append(starts, n)).astype(np.int64)
        out.append(_make(counts, False, None))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """Insertion indices keeping ``sorted_sequence`` sorted (no gradient)."""
    _not_lazy(_t(sorted_sequence), "searchsorted", "needs the sorted values")
    seq = _t(sorted_sequence)._data
    vals = input._data if isinstance(input, Tensor) else np.asarray(input)
    side = side or ("right" if right else "left")
    if seq.ndim <= 1:
        res = np.searchsorted(seq, vals, side=side, sorter=None if sorter is None else
                              np.asarray(getattr(sorter, "_data", sorter)))
    else:
        flat_seq = seq.reshape(-1, seq.shape[-1])
        flat_val = vals.reshape(-1, vals.shape[-1])
        res = np.stack([np.searchsorted(a, b, side=side) for a, b in zip(flat_seq, flat_val)])
        res = res.reshape(vals.shape)
    return _make(np.asarray(res, dtype=np.int32 if out_int32 else np.int64), False, None)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """Bucket index of each element given sorted ``boundaries`` (no gradient)."""
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates in ``shape`` of flat (row-major) ``indices``: one int64 tensor per
    dimension, each of ``indices``' shape (negative indices count from the end, as PyTorch)."""
    idx = indices if isinstance(indices, Tensor) else _make(np.asarray(indices), False, None)
    if idx._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {idx.dtype}")
    dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in dims):
        raise ValueError("'shape' cannot have negative values, but got " + str(tuple(dims)))
    rest = idx._data.astype(np.int64)
    coords = []
    for size in reversed(dims):
        coords.append(rest % size if size else np.zeros_like(rest))
        rest = rest // size if size else rest
    return tuple(_make(np.asarray(c, dtype=np.int64), False, None) for c in reversed(coords))


# --- PyTorch's refusals by dtype (its words) ------------------------------------------------
def _refusing() -> None:
    from gradkit._api.base import _no_kernel, _refuse_kinds
    g = globals()
    sort_c = {"c": (RuntimeError, " Sort does not support complex dtypes on CPU")}
    for name in ("sort", "argsort", "msort"):
        g[name] = _refuse_kinds(g[name], sort_c)
    g["topk"] = _refuse_kinds(topk, {"c": (RuntimeError,
                                           " topk does not support complex dtypes on CPU")})
    g["kthvalue"] = _refuse_kinds(kthvalue, {"c": _no_kernel("kthvalue_cpu")})
    for name in ("unique", "unique_consecutive"):
        g[name] = _refuse_kinds(g[name], {"c": _no_kernel("unique")})


_refusing()
