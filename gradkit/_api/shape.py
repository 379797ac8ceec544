"""PyTorch-style shape functions (reshape, permute, expand, cat, split, ...), routed to ops/shape.py.

Part of ``gradkit._api`` (see its docstring); none carries a derivative of its own.
"""

from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from gradkit._core import dtype as _dtype
from gradkit._core.backend import c_contiguous
from gradkit._core.tensor import Tensor, _INFERENCE_DETACHED, _INFERENCE_VC, _make
from gradkit.ops import shape as S
from gradkit.ops._registry import apply
from gradkit._api.base import as_tensor_arg as _as_tensor
from gradkit._api.base import Dims, _dims, _multi_view, _t, _view_op, _accepts_out
from gradkit._core.tensor import Size
from gradkit._core.autocast import autocast_op

# --- shapes -----------------------------------------------------------------------------
def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer_shape(shape: tuple[int, ...], numel: int) -> tuple[int, ...]:
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """The same elements with a new shape (one dim may be -1)."""
    x = _t(input)
    target = _infer_shape(_shape_arg(shape), x._data.size)
    variant = S.VIEW if c_contiguous(x._data) else S.UNSAFE_VIEW
    return _view_op(x, S.reshape_p.prim, {"shape": target}, variant)


def view(input: Tensor, *shape: Any) -> Tensor:
    """Like ``reshape``; the tensor must be contiguous, as in PyTorch."""
    x = _t(input)
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        return _view_dtype(x, shape[0])
    target = _infer_shape(_shape_arg(shape), x._data.size)
    if not c_contiguous(x._data) and x._data.size > 1 and not _viewable(x._data, target):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return _view_op(x, S.reshape_p.prim, {"shape": target}, S.VIEW)


def _viewable(arr: Any, shape: tuple[int, ...]) -> bool:
    """Whether a non-contiguous array can take ``shape`` without a copy (PyTorch's view rule:
    only dims that are contiguous with each other are merged or split)."""
    if type(arr) is not np.ndarray:
        return False
    try:
        np.reshape(arr, shape, copy=False)
    except ValueError:
        return False
    return True


def _view_dtype(x: Tensor, dtype: Any) -> Tensor:
    """``x.view(dtype)``: the same bytes read as another dtype (PyTorch's reinterpretation,
    not a conversion). Shares memory and the version counter; not differentiable."""
    d = _dtype.as_dtype(dtype)
    arr = x._data
    new = np.dtype(d.np)
    if new.itemsize != arr.itemsize:
        old_name, new_name = x.dtype._legacy[:-6], d._legacy[:-6]
        what = f"to view {old_name} as {new_name} (different element sizes)"
        if arr.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if arr.shape[-1] != 1 and arr.strides[-1] != arr.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got "
                               f"{arr.strides[-1] // arr.itemsize}")
        if new.itemsize > arr.itemsize and arr.shape[-1] % (new.itemsize // arr.itemsize):
            raise RuntimeError(f"self.size(-1) must be divisible by "
                               f"{new.itemsize // arr.itemsize} {what}, but got {arr.shape[-1]}")
        if arr.shape[-1] == 1 and arr.strides[-1] != arr.itemsize:
            arr = np.lib.stride_tricks.as_strided(arr, strides=arr.strides[:-1] + (arr.itemsize,))
    out = _make(arr.view(new), False, None)
    out._vc = x._vc if x._vc is not _INFERENCE_DETACHED else _INFERENCE_VC
    return out


def _reshape_variant(x: Tensor, shape: tuple[int, ...], variant: int) -> Tensor:
    return _view_op(x, S.reshape_p.prim, {"shape": tuple(shape)}, variant)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    x = _t(input)
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = S.norm_dim(start_dim, x.ndim), S.norm_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    shp = x.shape
    new = tuple(shp[:s]) + (int(np.prod(shp[s:e + 1], dtype=np.int64)),) + tuple(shp[e + 1:])
    return reshape(x, new)


def ravel(input: Tensor) -> Tensor:
    """Flattened to 1-D."""
    return reshape(_as_tensor(input), (-1,))


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    sizes = _infer_shape(tuple(sizes), x.shape[d])
    return reshape(x, tuple(x.shape[:d]) + sizes + tuple(x.shape[d + 1:]))


def squeeze(input: Tensor, dim: Dims = None) -> Tensor:
    """Remove size-1 dims (all, or those in ``dim``)."""
    x = _t(input)
    if dim is None:
        new = tuple(s for s in x.shape if s != 1)
        return _reshape_variant(x, new, S.SQUEEZE)
    dims = _dims(x, dim) or ()
    new = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    return _reshape_variant(x, new, S.SQUEEZE_DIM if isinstance(dim, int) else S.SQUEEZE_DIMS)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim``."""
    x = _t(input)
    d = S.norm_dim(dim, x.ndim + 1)
    new = tuple(x.shape[:d]) + (1,) + tuple(x.shape[d:])
    return _reshape_variant(x, new, S.UNSQUEEZE)


def permute(input: Tensor, *dims: Any) -> Tensor:
    x = _t(input)
    d = _shape_arg(dims)
    if len(d) != x.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(d)}")
    d = tuple(S.norm_dim(i, x.ndim) for i in d)
    if len(set(d)) != len(d):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _view_op(x, S.permute_p.prim, {"dims": d}, S.PERMUTE)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims."""
    x = _t(input)
    if x.ndim == 0:
        return x
    a, b = S.norm_dim(dim0, x.ndim), S.norm_dim(dim1, x.ndim)
    d = list(range(x.ndim))
    d[a], d[b] = d[b], d[a]
    return _view_op(x, S.permute_p.prim, {"dims": tuple(d)}, S.TRANSPOSE)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose a matrix (0-D and 1-D tensors are returned as they are)."""
    x = _t(input)
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    if x.ndim < 2:
        return x
    return _view_op(x, S.permute_p.prim, {"dims": (1, 0)}, S.T)


def movedim(input: Tensor, source: Dims, destination: Dims) -> Tensor:
    x = _t(input)
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) "
                           f"should contain the same number of dims as destination ({list(dst)} dims)")
    for name, dims in (("source", src), ("destination", dst)):
        if len({S.norm_dim(d, x.ndim) for d in dims}) != len(dims):
            # NOTE: PyTorch's check; a repeated dim built a wrong permutation silently
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    order = _moved(x.ndim, src, dst)
    return _view_op(x, S.permute_p.prim, {"dims": tuple(order)}, S.PERMUTE)


def _moved(ndim: int, src: tuple[int, ...], dst: tuple[int, ...]) -> list[int]:
    src = tuple(S.norm_dim(s, ndim) for s in src)
    dst = tuple(S.norm_dim(d, ndim) for d in dst)
    order = [i for i in range(ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return order


moveaxis = movedim


def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to a larger shape without copying (-1 keeps a dim)."""
    x = _t(input)
    shape = _shape_arg(sizes)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand(torch.{x.dtype._legacy}{{{list(x.shape)}}}, size={list(shape)}): "
                           f"the number of sizes provided ({len(shape)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({x.ndim})")
    full = []
    for i, s in enumerate(shape):
        if s == -1:
            if i < lead:
                raise RuntimeError("The expanded size of the tensor (-1) isn't allowed in a "
                                   "leading, non-existing dimension")
            s = x.shape[i - lead]
        elif i >= lead and x.shape[i - lead] != 1 and x.shape[i - lead] != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({x.shape[i - lead]}) at non-singleton dimension {i}.  "
                               f"Target sizes: {list(shape)}.  Tensor sizes: {list(x.shape)}")
        full.append(s)
    return _view_op(x, S.expand_p.prim, {"shape": tuple(full)})


def broadcast_to(input: Tensor, shape: Sequence[int]) -> Tensor:
    return expand(input, tuple(shape))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, tuple(other.shape))


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    shape = S.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    return Size(S.broadcast_shapes(*shapes))


def repeat(input: Tensor, *repeats: Any) -> Tensor:
    """Tile the tensor ``repeats`` times along each dim (PyTorch's ``Tensor.repeat``)."""
    x = _t(input)
    reps = _shape_arg(repeats)
    if len(reps) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    _nonnegative_repeats(x, reps)
    return S.repeat_p(x, repeats=reps)


def _nonnegative_repeats(x: Tensor, reps: tuple[int, ...]) -> None:
    """PyTorch's error for a negative repeat count (NumPy's ``negative dimensions``)."""
    if any(int(r) < 0 for r in reps):
        shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
        out = [int(n) * int(r) for n, r in zip(shape, reps)]
        neg = next(n for n in out if n < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {neg}: {out}")


def tile(input: Tensor, *sizes: Any, dims: Sequence[int] | None = None) -> Tensor:
    """``torch.tile(x, dims)``; the method also takes the sizes one by one (``x.tile(2, 2)``)."""
    x = _t(input)
    reps = _shape_arg(sizes) if dims is None else tuple(dims)
    if len(reps) < x.ndim:
        reps = (1,) * (x.ndim - len(reps)) + reps
    _nonnegative_repeats(x, reps)
    return S.repeat_p(x, repeats=reps)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element (or each slice along ``dim``) ``repeats`` times; ``output_size``, the
    total length along ``dim``, is checked against the repeats as PyTorch does. With ``input``
    alone (1-D integer repeats), each index ``i`` repeated ``input[i]`` times."""
    if repeats is None:
        reps = _t(input)
        if reps.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        return repeat_interleave(_make(np.arange(reps.shape[0], dtype=np.int64), False, None),
                                 reps, 0, output_size=output_size)
    x = _t(input)
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    d = S.norm_dim(dim, x.ndim)
    if isinstance(repeats, (int, np.integer)) and not isinstance(repeats, bool) and repeats >= 0 \
            and x.ndim:
        # PyTorch's path for a number: an unsqueezed expand, cloned and viewed
        shape = tuple(x.shape)
        y = expand(unsqueeze(x, d + 1), shape[:d + 1] + (int(repeats),) + shape[d + 1:])
        return _view_op(y.clone(), S.reshape_p.prim,
                        {"shape": shape[:d] + (shape[d] * int(repeats),) + shape[d + 1:]}, S.VIEW)
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    if np.size(reps) and np.min(reps) < 0:
        raise RuntimeError("repeats can not be negative" if isinstance(repeats, Tensor) else
                           "Repeats must be non-negative")
    index = np.repeat(np.arange(x.shape[d]), reps)
    if output_size is not None and int(output_size) != index.shape[0]:
        raise RuntimeError("allocated size does not match required size")
    # NOTE: index_select's row, without its checks: an index built from arange is in range
    idx = (slice(None),) * d + (index.astype(np.int64, copy=False),)
    return apply(S.getitem_p.prim, (x,), {"index": idx}, S.INDEX_SELECT)


def flip(input: Tensor, dims: Dims) -> Tensor:
    x = _t(input)
    d = (dims,) if isinstance(dims, int) else tuple(dims)
    return S.flip_p(x, dims=tuple(S.norm_dim(i, x.ndim) for i in d))


def fliplr(input: Tensor) -> Tensor:
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    return flip(input, (0,))


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    x = _t(input)
    if dims is None:
        return S.roll_p(x, shifts=shifts if isinstance(shifts, int) else tuple(shifts), dims=None)
    sh = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dm = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(sh) != len(dm):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:{len(dm)}")
    return S.roll_p(x, shifts=sh, dims=tuple(S.norm_dim(d, x.ndim) for d in dm))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    x = _t(input)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    a, b = (S.norm_dim(d, x.ndim) for d in dims)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and "
                           f"dim1 = {dims[1]}")
    return S.rot90_p(x, k=int(k) % 4, dims=(a, b))      # one node, PyTorch's Rot90Backward0


@autocast_op
@_accepts_out
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim."""
    ts = [_t(t) for t in _tensor_sequence(tensors, "cat")]
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(ts):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    ts = [t for t in ts if not (t.ndim == 1 and t.shape[0] == 0)] or ts[:1]
    d = S.norm_dim(dim, ts[0].ndim)
    for i, t in enumerate(ts[1:], start=1):
        if t.ndim != ts[0].ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ts[0].ndim} "
                               f"and {t.ndim}")
        for k, (a, b) in enumerate(zip(ts[0].shape, t.shape)):
            if k != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected "
                                   f"size {a} but got size {b} for tensor number {i} in the list.")
    dt = _dtype.result_type(*ts)
    ts = [t if t.dtype is dt else t.to(dt) for t in ts]
    return S.cat_p(*ts, dim=d)


concat = concatenate = cat


@autocast_op
@_accepts_out
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along a new dim."""
    ts = [_t(t) for t in _tensor_sequence(tensors, "stack")]
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = ts[0].shape
    for i, t in enumerate(ts):
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t.shape)} at entry {i}")
    d = S.norm_dim(dim, ts[0].ndim + 1)
    dt = _dtype.result_type(*ts)
    ts = [t if t.dtype is dt else t.to(dt) for t in ts]
    return S.stack_p(*ts, dim=d)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    ts = [atleast_1d(_t(t)) for t in _tensor_sequence(tensors, "hstack")]
    if not ts:
        raise RuntimeError("hstack expects a non-empty TensorList")
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    ts = [atleast_2d(_t(t)) for t in _tensor_sequence(tensors, "vstack")]
    if not ts:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return cat(ts, 0)


def _tensor_sequence(tensors: Any, name: str) -> Any:
    """PyTorch's TypeError for one tensor where a sequence of tensors is expected (iterating
    over its rows, as NumPy does, would join the rows instead)."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    return tensors


def atleast_1d(*tensors: Any) -> Any:
    """A 0-d tensor viewed as ``(1,)``; several tensors (or one tuple of them) give a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_1d(t) for t in tensors[0])
    if len(tensors) != 1:
        return tuple(atleast_1d(t) for t in tensors)
    x = _t(tensors[0])
    return reshape(x, (1,)) if x.ndim == 0 else x


def atleast_2d(*tensors: Any) -> Any:
    """Tensors viewed with at least two dimensions (``(n,) -> (1, n)``); several tensors (or
    one tuple of them) give a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_2d(t) for t in tensors[0])
    if len(tensors) != 1:
        return tuple(atleast_2d(t) for t in tensors)
    x = _t(tensors[0])
    if x.ndim == 1:
        return unsqueeze(x, 0)                       # PyTorch's UnsqueezeBackward0
    return reshape(x, (1,) * (2 - x.ndim) + tuple(x.shape)) if x.ndim < 2 else x


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into chunks of a given size (the last may be smaller) or of given sizes."""
    x = _t(tensor)
    d = S.norm_dim(dim, x.ndim)
    sizes = S.sizes_from_split(x.shape[d], split_size_or_sections)
    # NOTE: a list of sizes is PyTorch's split_with_sizes (SplitWithSizesBackward0)
    variant = 0 if isinstance(split_size_or_sections, (int, np.integer)) else 1
    lead, starts = (slice(None),) * d, np.cumsum((0,) + tuple(sizes))
    indices = [lead + (slice(int(a), int(a) + n), Ellipsis) for a, n in zip(starts, sizes)]
    return _multi_view(x, S.split_p.prim, {"sizes": sizes, "dim": d}, variant, indices)


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Split into pieces of the given sizes (which must add up to the dimension's size)."""
    return split(input, [int(s) for s in split_sizes], dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    x = _t(input)
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: %d" % chunks)
    d = S.norm_dim(dim, x.ndim)
    n = x.shape[d]
    size = -(-n // chunks) if n else 1
    return split(x, builtins.max(size, 1), d)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``n`` nearly equal pieces, or at the given indices; each piece is a view
    (a slice of ``input``, as in PyTorch, so it may be written in place)."""
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    n = x.shape[d]
    sections = indices_or_sections
    if isinstance(sections, Tensor):
        if sections.dtype.is_floating_point or sections.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have integral "
                               "dtype and be either a zero-dimensional or one-dimensional tensor")
        sections = sections.item() if sections.ndim == 0 else sections.tolist()
    if isinstance(sections, (int, np.integer)):
        k = int(sections)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        bounds = [0]
        for size in sizes:
            bounds.append(bounds[-1] + size)
    else:
        bounds = [0] + [_clip_index(int(i), n) for i in sections] + [n]
    return tuple(narrow(x, d, a, builtins.max(b - a, 0))
                 for a, b in zip(bounds[:-1], bounds[1:]))


def _clip_index(i: int, n: int) -> int:
    """A split index as PyTorch's slicing reads it: negative counts from the end, clipped."""
    if i < 0:
        i = builtins.max(i + n, 0)
    return builtins.min(i, n)


def _split_at(name: str, x: Tensor, sections: Any, dim: int, min_ndim: int) -> tuple[Tensor, ...]:
    if x.ndim < min_ndim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_ndim} dimension, "
                           f"but got a tensor with {x.ndim} dimensions!")
    if isinstance(sections, (int, np.integer)):
        size = x.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {size} is not divisible by the split_size "
                               f"{sections}!")
    return tensor_split(x, sections, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 1 (dim 0 for 1-D input); an int must divide the size."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got a "
                           "tensor with 0 dimensions!")
    return _split_at("hsplit", x, indices_or_sections, 0 if x.ndim == 1 else 1, 1)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 0 of an at least 2-D tensor; an int must divide the size."""
    return _split_at("vsplit", _t(input), indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 2 of an at least 3-D tensor; an int must divide the size."""
    return _split_at("dsplit", _t(input), indices_or_sections, 2, 3)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Remove a dim, returning the slices along it."""
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    indices = [(slice(None),) * d + (i, Ellipsis) for i in range(x.shape[d])]
    return _multi_view(x, S.unbind_p.prim, {"dim": d}, 0, indices)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = S.norm_dim(dim, x.ndim)
    start, length = int(start), int(length)
    if length < 0:                              # PyTorch's checks, in its order
        raise RuntimeError("narrow(): length must be non-negative.")
    n = x.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({x.shape[d]}).")
    idx = (slice(None),) * d + (slice(start, start + length),)
    return _view_op(x, S.getitem_p.prim, {"index": idx}, S.SLICE)
