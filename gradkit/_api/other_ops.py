"""More of ``torch.*``: indexing fills, products with a bias, differences, distances, histograms.

Everything differentiable here is built from gradkit's own differentiable
functions, so gradients (and gradients of gradients) come from their rules.
``bincount``, ``histc``, ``tril_indices`` and ``triu_indices`` are forward only,
as in PyTorch.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any, Sequence

import numpy as np

from gradkit import _api as A
from gradkit._api import special as AM
from gradkit._core import dtype as _dtype
from gradkit._core.backend import to_numpy
from gradkit._api.base import _view_op
from gradkit._core.tensor import Tensor, _make
from gradkit.ops import shape as S
from gradkit._core.creation import _finish

__all__ = [
    "index_fill", "index_copy", "masked_scatter", "put", "select", "narrow_copy", "diff",
    "gradient", "cdist", "histc", "bincount", "cartesian_prod", "combinations", "meshgrid",
    "block_diag", "cross", "tril_indices", "triu_indices", "vander", "trapezoid", "trapz",
    "cumulative_trapezoid", "renorm", "addmm", "addmv", "addr", "addbmm", "baddbmm",
    "chain_matmul", "dstack", "column_stack", "row_stack", "atleast_3d", "scatter_reduce",
    "index_reduce", "as_strided", "unfold", "msort", "ravel", "is_same_size", "is_signed",
]


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else A.as_tensor_arg(x)


def _dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


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
    return _write(x, (slice(None),) * d + (flat,), value)


def index_copy(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` replaced by those of ``source``."""
    x, src = _t(input), _t(source)
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
    vals = A.reshape(src, (-1,))[:n]
    return _write(x, np.ascontiguousarray(mk), vals)


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
    flat = A.reshape(x, (-1,))
    vals = A.reshape(src, (-1,))
    out = AM.index_add(flat, 0, idx, vals) if accumulate else _write(flat, idx, vals)
    return A.reshape(out, tuple(x.shape))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim`` (a view, one dimension fewer)."""
    x = _t(input)
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, x.ndim)
    size = x.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(x.shape)} at dimension {d}")
    return x[(slice(None),) * d + (int(index),)]


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """A copy of ``narrow(input, dim, start, length)``."""
    return A.clone(A.narrow(_t(input), dim, start, length))


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """All windows of ``size`` elements ``step`` apart along ``dimension``, in a new last dimension.

    A view, as in PyTorch: an in-place write through it changes ``input`` (and is recorded
    for autograd). Overlapping windows (``step < size``) are refused for in-place writes.
    """
    x = _t(input)
    if x.ndim == 0:
        x = A.reshape(x, (1,))
        squeeze = True
    else:
        squeeze = False
    d = _dim(dimension, x.ndim)
    n = x.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    out = _view_op(x, S.unfold_p.prim, {"dim": d, "size": int(size), "step": int(step)})
    if squeeze:
        out = A.reshape(out, (size,))
    return out


def as_strided(input: Tensor, size: Sequence[int], stride: Sequence[int],
               storage_offset: int | None = None) -> Tensor:
    """The elements of ``input``'s storage at ``storage_offset + sum(i * stride)``.

    A view, as in PyTorch (read-only where elements repeat, so an in-place write through
    an overlapping view is refused). gradkit reads a tensor's own elements in row-major
    order from its first one, which is what PyTorch reads for a contiguous tensor (with
    ``storage_offset`` counted from the start of its storage). A non-contiguous tensor, or
    an explicit ``storage_offset`` on a view that does not start its storage, is refused
    (call ``.contiguous()`` first) rather than read differently.
    """
    x = _t(input)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if not x.is_contiguous() or (storage_offset is not None and x._base is not None
                                 and x.storage_offset() != 0):
        raise RuntimeError(
            "as_strided: gradkit reads a tensor's own elements in row-major order, which is "
            "PyTorch's storage only for a contiguous tensor (and a storage_offset counts from "
            "the start of the storage, not of this view); this tensor is a non-contiguous or "
            "offset view. Call .contiguous() first.")
    off = int(storage_offset or 0)
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    pos = S.strided_positions(size, stride, off)
    need = int(pos.max()) + 1 if pos.size else 0
    if need > x.numel() or off < 0:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                           f"{off}, and itemsize {x.element_size()} requiring a storage size of "
                           f"{need * x.element_size()} are out of bounds for storage of size "
                           f"{x.numel() * x.element_size()}")
    return _view_op(x, S.as_strided_p.prim, {"size": size, "stride": stride, "offset": off})


# --- differences and integrals ---------------------------------------------------------
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None,
         append: Any = None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``logical_xor`` for bools)."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _dim(dim, x.ndim)
    parts = [x]
    if prepend is not None:
        p = _t(prepend)
        parts.insert(0, p if p.ndim else A.expand(p, tuple(x.shape[:d]) + (1,) + tuple(x.shape[d + 1:])))
    if append is not None:
        p = _t(append)
        parts.append(p if p.ndim else A.expand(p, tuple(x.shape[:d]) + (1,) + tuple(x.shape[d + 1:])))
    if len(parts) > 1:
        x = A.cat(parts, d)
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        hi, lo = A.narrow(x, d, 1, m - 1), A.narrow(x, d, 0, m - 1)
        x = A.logical_xor(hi, lo) if x.dtype is _dtype.bool else A.sub(hi, lo)
    return x


def _spacing_coords(spacing: Any, dims: list[int], x: Tensor) -> list[Any]:
    """Per dimension: a float step or a 1-D ndarray of coordinates."""
    if isinstance(spacing, (int, float)) or (isinstance(spacing, Tensor) and spacing.ndim == 0):
        s = spacing.item() if isinstance(spacing, Tensor) else spacing
        return [float(s)] * len(dims)
    sp = list(spacing)
    if len(sp) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's "
                           f"spacing and dim arguments to have the same length, but got a spacing "
                           f"argument of length {len(sp)} and a dim argument of length {len(dims)}.")
    out: list[Any] = []
    for s, d in zip(sp, dims):
        if isinstance(s, Tensor) and s.ndim == 1:
            c = to_numpy(s._data).astype(np.float64)
            if c.shape[0] != x.shape[d]:
                raise RuntimeError(f"torch.gradient expected each tensor to be on the same device,"
                                   f" and with size {x.shape[d]} along dimension {d}")
            out.append(c)
        else:
            out.append(float(s.item() if isinstance(s, Tensor) else s))
    return out


def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None,
             edge_order: int = 1) -> tuple[Tensor, ...]:
    """PyTorch's ``torch.gradient``: second-order central differences inside, one-sided at the
    edges (order ``edge_order``), along each of ``dim`` (all by default); a tuple of tensors.

    ``spacing`` is a number, a list of numbers (one per dim) or a list of 1-D coordinate tensors.
    """
    x = _t(input)
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = list(range(x.ndim))
    elif isinstance(dim, int):
        dims = [_dim(dim, x.ndim)]
    else:
        dims = [_dim(d, x.ndim) for d in dim]
    for d in dims:
        if x.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    if not x.is_floating_point() and not x.is_complex():
        x = x.to(_dtype.get_default_dtype())
    coords = _spacing_coords(spacing, dims, x)
    return tuple(_grad1(x, d, c, edge_order) for d, c in zip(dims, coords))


def _grad1(f: Tensor, d: int, c: Any, edge_order: int) -> Tensor:
    n = f.shape[d]
    shape = [1] * f.ndim
    dt = f._data.dtype

    def k(v: np.ndarray) -> Tensor:
        s = list(shape)
        s[d] = -1
        return _make(np.asarray(v, dtype=dt).reshape(s), False, None)

    def sl(a: int, b: int) -> Tensor:
        return A.narrow(f, d, a, b - a)

    h = np.diff(c) if isinstance(c, np.ndarray) else np.full(n - 1, c)
    dx1, dx2 = h[:-1], h[1:]
    a = -dx2 / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    cc = dx1 / (dx2 * (dx1 + dx2))
    parts = []
    if edge_order == 1:
        first = A.div(A.sub(sl(1, 2), sl(0, 1)), float(h[0]))
        last = A.div(A.sub(sl(n - 1, n), sl(n - 2, n - 1)), float(h[-1]))
    else:
        h0, h1 = float(h[0]), float(h[1])
        ca, cb, cc0 = -(2 * h0 + h1) / (h0 * (h0 + h1)), (h0 + h1) / (h0 * h1), -h0 / (h1 * (h0 + h1))
        first = A.add(A.add(A.mul(sl(0, 1), ca), A.mul(sl(1, 2), cb)), A.mul(sl(2, 3), cc0))
        h0, h1 = float(h[-2]), float(h[-1])
        la, lb, lc = h1 / (h0 * (h0 + h1)), -(h1 + h0) / (h0 * h1), (2 * h1 + h0) / (h1 * (h0 + h1))
        last = A.add(A.add(A.mul(sl(n - 3, n - 2), la), A.mul(sl(n - 2, n - 1), lb)),
                     A.mul(sl(n - 1, n), lc))
    parts.append(first)
    if n > 2:
        mid = A.add(A.add(A.mul(sl(0, n - 2), k(a)), A.mul(sl(1, n - 1), k(b))),
                    A.mul(sl(2, n), k(cc)))
        parts.append(mid)
    parts.append(last)
    return A.cat(parts, d)


def trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """Integral of ``y`` along ``dim`` by the trapezoidal rule (points ``x`` or spacing ``dx``)."""
    y = _t(y)
    d = _dim(dim, y.ndim)
    n = y.shape[d]
    if n == 0:
        return A.sum(y, d)
    avg = A.div(A.add(A.narrow(y, d, 1, n - 1), A.narrow(y, d, 0, n - 1)), 2)
    if x is not None and not isinstance(x, (int, float)):
        xs = _t(x)
        dxs = diff(xs, dim=-1 if xs.ndim == 1 else d)
        if xs.ndim == 1:
            s = [1] * y.ndim
            s[d] = -1
            dxs = A.reshape(dxs, tuple(s))
        return A.sum(A.mul(avg, dxs), d)
    step = x if x is not None else (1 if dx is None else dx)
    return A.mul(A.sum(avg, d), step)


def trapz(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """Running trapezoidal integral of ``y`` along ``dim`` (one element fewer)."""
    y = _t(y)
    d = _dim(dim, y.ndim)
    n = y.shape[d]
    if n == 0:
        return y
    avg = A.div(A.add(A.narrow(y, d, 1, n - 1), A.narrow(y, d, 0, n - 1)), 2)
    if x is not None and not isinstance(x, (int, float)):
        xs = _t(x)
        dxs = diff(xs, dim=-1 if xs.ndim == 1 else d)
        if xs.ndim == 1:
            s = [1] * y.ndim
            s[d] = -1
            dxs = A.reshape(dxs, tuple(s))
        return A.cumsum(A.mul(avg, dxs), d)
    step = x if x is not None else (1 if dx is None else dx)
    return A.cumsum(A.mul(avg, step), d)


# --- distances, histograms --------------------------------------------------------------
def _safe_root(s: Tensor, p: float) -> Tensor:
    """``s ** (1/p)`` with a zero gradient where ``s == 0`` (PyTorch's cdist convention)."""
    pos = A.gt(s, 0)
    safe = A.where(pos, s, A.add(A.mul(s, 0.0), 1.0))
    root = A.sqrt(safe) if p == 2 else A.pow(safe, 1.0 / p)
    return A.where(pos, root, A.mul(s, 0.0))


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"
          ) -> Tensor:
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2`` (batched)."""
    a, b = _t(x1), _t(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} "
                           f"X2: {b.shape[-1]}")
    if not a.is_floating_point():
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {a.dtype}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    dif = A.sub(A.unsqueeze(a, -2), A.unsqueeze(b, -3))
    if p == 0:
        return A.sum(A.ne(dif, 0).to(a.dtype), -1)
    if p == float("inf"):
        return A.amax(A.abs(dif), -1)
    if p == 2:
        return _safe_root(A.sum(A.mul(dif, dif), -1), 2)
    if p == 1:
        return A.sum(A.abs(dif), -1)
    return _safe_root(A.sum(A.pow(A.abs(dif), float(p)), -1), float(p))


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
        lo, hi = float(data.min()), float(data.max())
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


# --- building tensors -----------------------------------------------------------------
def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors (``indexing='ij'`` by default, or ``'xy'``)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
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


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (the first dimension of size 3 if None)."""
    a, b = _t(input), _t(other)
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = tuple(np.broadcast_shapes(tuple(a.shape), tuple(b.shape)))
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in a "
                      "future release.", UserWarning, stacklevel=2)
        cands = [i for i, s in enumerate(shape) if s == 3]
        if not cands:
            raise RuntimeError("no dimension of size 3 in input")
        dim = cands[0]
    d = _dim(dim, len(shape))
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    a, b = A.expand(a, shape), A.expand(b, shape)

    def c(t: Tensor, i: int) -> Tensor:
        return A.narrow(t, d, i, 1)
    x = A.sub(A.mul(c(a, 1), c(b, 2)), A.mul(c(a, 2), c(b, 1)))
    y = A.sub(A.mul(c(a, 2), c(b, 0)), A.mul(c(a, 0), c(b, 2)))
    z = A.sub(A.mul(c(a, 0), c(b, 1)), A.mul(c(a, 1), c(b, 0)))
    return A.cat([x, y, z], d)


def _tri_indices(row: int, col: int, offset: int, upper: bool, dtype: Any, device: Any) -> Tensor:
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    r, c = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    dt = np.int64 if dtype is None else _dtype.as_dtype(dtype).np
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


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` rescaled so that its ``p``-norm is at most ``maxnorm``."""
    x = _t(input)
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if x.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    d = _dim(dim, x.ndim)
    others = tuple(i for i in range(x.ndim) if i != d)
    norm = A.norm(x, p, dim=others, keepdim=True)
    # a nan norm leaves its slice as is (nan > maxnorm is False), as in PyTorch
    factor = A.where(A.gt(norm, maxnorm), A.div(maxnorm, A.add(norm, 1e-7)), 1.0)
    return A.mul(x, factor)


# --- products with a bias ---------------------------------------------------------------
def _bias(input: Any, prod: Tensor, beta: Any, alpha: Any) -> Tensor:
    out = prod if alpha == 1 else A.mul(prod, alpha)
    if beta == 0:
        return out                      # NOTE: input is ignored (its NaNs do not propagate)
    inp = _t(input)
    return A.add(inp if beta == 1 else A.mul(inp, beta), out)


def _check_shape(input: Any, shape: tuple[int, ...], name: str) -> None:
    s = tuple(_t(input).shape)
    try:
        if tuple(np.broadcast_shapes(s, shape)) != shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({shape[-1]}) must match the existing "
                           f"size ({s[-1] if s else 1}) at non-singleton dimension "
                           f"{len(shape) - 1}.  Target sizes: {list(shape)}.  Tensor sizes: "
                           f"{list(s)}") from None


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` (``input`` ignored when ``beta == 0``)."""
    m1, m2 = _t(mat1), _t(mat2)
    if m1.ndim != 2:
        raise RuntimeError("mat1 must be a matrix, got " f"{m1.ndim}-D tensor")
    if m2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix, got " f"{m2.ndim}-D tensor")
    prod = A.mm(m1, m2)
    _check_shape(input, tuple(prod.shape), "addmm")
    return _bias(input, prod, beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    prod = A.mv(_t(mat), _t(vec))
    _check_shape(input, tuple(prod.shape), "addmv")
    return _bias(input, prod, beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    v1, v2 = _t(vec1), _t(vec2)
    if v1.ndim != 1 or v2.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {v1.ndim}-D" if v1.ndim != 1
                           else f"addr: Expected 1-D argument vec2, but got {v2.ndim}-D")
    prod = A.outer(v1, v2)
    _check_shape(input, tuple(prod.shape), "addr")
    return _bias(input, prod, beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
           alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * sum_i(batch1[i] @ batch2[i])``."""
    b1, b2 = _t(batch1), _t(batch2)
    if b1.ndim != 3 or b2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if b1.ndim != 3 else
                           "batch2 must be a 3D tensor")
    prod = A.sum(A.bmm(b1, b2), 0)
    _check_shape(input, tuple(prod.shape), "addbmm")
    return _bias(input, prod, beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
            alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)`` for each batch."""
    b1, b2 = _t(batch1), _t(batch2)
    if b1.ndim != 3 or b2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if b1.ndim != 3 else
                           "batch2 must be a 3D tensor")
    prod = A.bmm(b1, b2)
    _check_shape(input, tuple(prod.shape), "baddbmm")
    return _bias(input, prod, beta, alpha)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of 2-D matrices (deprecated in PyTorch: use ``linalg.multi_dot``)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more input tensors")
    ms = [_t(m) for m in matrices]
    for m in ms:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    if len(ms) == 1:
        return A.clone(ms[0])
    out = ms[0]
    for m in ms[1:]:
        out = A.mm(out, m)
    return out


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
    if not len(tensors):
        raise RuntimeError("dstack expects a non-empty TensorList")
    return A.cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Stack 0-/1-D tensors as columns (and concatenate 2-D ones) horizontally."""
    if not len(tensors):
        raise RuntimeError("column_stack expects a non-empty TensorList")
    cols = []
    for t in tensors:
        t = _t(t)
        cols.append(A.reshape(t, (-1, 1)) if t.ndim <= 1 else t)
    return A.cat(cols, 1)


def row_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Alias of ``vstack``."""
    return A.vstack(tensors)


# --- scatter_reduce -------------------------------------------------------------------
_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce ``src`` into ``input`` at ``index`` along ``dim`` with ``sum``, ``prod``, ``mean``,
    ``amax`` or ``amin`` (``input``'s own values take part when ``include_self``).

    Differentiable: ties in ``amax``/``amin`` share the gradient evenly, as in PyTorch.
    """
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
    if tuple(s.shape) != idx.shape:
        s = s[tuple(slice(0, m) for m in idx.shape)]
    # positions of the output written to, and a 0/1 mask of them
    hit = np.zeros(tuple(x.shape), dtype=bool)
    _mark_hits(hit, idx, d)
    untouched = _make(~hit, False, None)
    zero = A.mul(x, 0)
    if reduce in ("sum", "mean"):
        base = x if include_self else A.where(untouched, x, zero)
        out = A.scatter_add(base, d, idx, s)
        if reduce == "sum":
            return out
        cnt = np.zeros(tuple(x.shape), dtype=np.int64)
        _add_at(cnt, idx, d, 1)
        cnt = cnt + (1 if include_self else 0)
        cnt = np.where(hit, cnt, 1).astype(x._data.dtype)
        if x.is_floating_point() or x.is_complex():
            return A.div(out, _make(cnt, False, None))
        return A.floor_divide(out, _make(cnt, False, None))
    if reduce == "prod":
        return _scatter_prod(x, d, idx, s, hit, include_self)
    # amax / amin: the extreme value (forward), then a tie-averaging composition for the gradient
    xd, sd = to_numpy(x._data), to_numpy(s._data)
    res = xd.copy() if include_self else np.where(hit, _init(xd.dtype, reduce), xd)
    _ufunc_at(np.maximum if reduce == "amax" else np.minimum, res, idx, d, sd)
    R = _make(res, False, None)
    if not (x.is_floating_point() or x.is_complex()):
        return R
    # NOTE: as PyTorch, ties share the gradient evenly, and the count includes input elements equal
    # to the result even when include_self=False (they get no gradient then).
    xsel = A.eq(x, R).to(x.dtype)
    ms = A.eq(s, A.gather(R, d, idx)).to(x.dtype)
    cnt = A.scatter_add(xsel, d, idx, ms)
    ws = A.div(ms, A.gather(cnt, d, idx))
    wx = A.div(xsel, cnt) if include_self else untouched.to(x.dtype)
    srcw = A.scatter_add(A.mul(x, wx), d, idx, A.mul(s, ws))
    rest = A.sub(A.sub(1.0, wx), A.scatter_add(A.mul(wx, 0), d, idx, ws))
    return A.add(srcw, A.mul(R, rest))


def _init(dt: Any, reduce: str) -> Any:
    if dt.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dt) if dt.kind in "iu" else None
    return (info.min if reduce == "amax" else info.max) if info else (reduce == "amin")


def _full_index(idx: np.ndarray, d: int) -> tuple[np.ndarray, ...]:
    grids = list(np.indices(idx.shape, sparse=True))
    grids[d] = idx
    return tuple(np.broadcast_to(g, idx.shape) for g in grids)


def _mark_hits(hit: np.ndarray, idx: np.ndarray, d: int) -> None:
    hit[_full_index(idx, d)] = True


def _add_at(arr: np.ndarray, idx: np.ndarray, d: int, val: Any) -> None:
    np.add.at(arr, _full_index(idx, d), val)


def _ufunc_at(uf: Any, arr: np.ndarray, idx: np.ndarray, d: int, src: np.ndarray) -> None:
    uf.at(arr, _full_index(idx, d), src[tuple(slice(0, m) for m in idx.shape)])


def _scatter_prod(x: Tensor, d: int, idx: np.ndarray, s: Tensor, hit: np.ndarray,
                  include_self: bool) -> Tensor:
    """Products by rounds: in round k each output slot multiplies in its k-th contribution."""
    full = _full_index(idx, d)
    lin = np.ravel_multi_index(full, tuple(x.shape)).reshape(-1)
    order = np.argsort(lin, kind="stable")
    sorted_lin = lin[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_lin)) + 1]
    starts = np.repeat(first, np.diff(np.r_[first, sorted_lin.size]))
    rank = np.empty_like(lin)
    rank[order] = np.arange(lin.size) - starts
    out = x if include_self else A.where(_make(hit, False, None), A.mul(x, 0) + 1, x)
    flat_s = A.reshape(s, (-1,))
    numel = x.numel()
    for k in range(int(rank.max()) + 1):
        sel = np.flatnonzero(rank == k)
        ones = _make(np.ones(numel, dtype=x._data.dtype), False, None)
        factor = _write(ones, lin[sel], A.index_select(flat_s, 0, sel))
        out = A.mul(out, A.reshape(factor, tuple(x.shape)))
    return out


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
    return scatter_reduce(x, d, full, s, reduce, include_self=include_self)


# --- small ones -------------------------------------------------------------------------
def msort(input: Tensor) -> Tensor:
    """Sorted along the first dimension."""
    return A.sort(_t(input), 0)[0]


def ravel(input: Tensor) -> Tensor:
    """Flattened to 1-D."""
    return A.reshape(_t(input), (-1,))


def is_same_size(input: Tensor, other: Tensor) -> bool:
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input: Tensor) -> bool:
    return input._data.dtype.kind not in "ub"
