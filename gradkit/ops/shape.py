"""Shape and indexing primitives: views, permutations, joins, splits, gathers and scatters.

Most rules undo the forward on the gradient (``reshape`` back, ``permute`` by
the inverse). Expansion needs no rule of its own: the engine sums every
gradient down to its input's shape.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gradkit._core.backend import (along_blocks, arange, backend_of, copy, data_of, eye,
                                   index_like, is_lazy, move, ones, zeros)
from ._registry import not_lazy
from ._registry import LINEAR, bf16_native, defop, uint_rows
from .elementwise import where
from gradkit._core import dtype as _dtype
from gradkit._core.tensor import Tensor
from gradkit._core.tensor import _make


def norm_dim(dim: int, ndim: int) -> int:
    """A dimension as a non-negative int, with PyTorch's error when out of range."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


def norm_dims(dim: Any, ndim: int) -> tuple[int, ...] | None:
    """``None`` (all dims) or a sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        dims = [norm_dim(int(d), ndim) for d in dim]
        for i, d in enumerate(dims):               # PyTorch's error (NumPy's was a ValueError)
            if d in dims[:i]:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        return tuple(sorted(dims))
    return (norm_dim(int(dim), ndim),)


# --- views -----------------------------------------------------------------------
def _reshape_impl(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    try:
        return np.reshape(x, shape)
    except (NotImplementedError, TypeError):
        if not is_lazy(x):
            raise
        if x.size == 0:                         # NOTE: Dask cannot reshape empty arrays
            return zeros(tuple(0 if s == -1 else s for s in shape), x.dtype, x)
        # NOTE: Dask reshapes only along chunk boundaries; keep the first axis' chunks (the
        # samples, usually) and join the rest.
        try:
            return np.reshape(x.rechunk({i: -1 for i in range(1, x.ndim)}), shape)
        except NotImplementedError:
            return np.reshape(x.rechunk(-1), shape)


def _reshape_vjp(g: Any, ans: Any, x: Any, shape: tuple[int, ...]) -> Any:
    if type(g) is not Tensor:
        return reshape_p(g, shape=x.shape)
    # NOTE: named as PyTorch's rules name it: a reshape that only drops one size-1 dim is a
    # squeeze(dim) (the gradient of an unsqueeze), one that only adds it an unsqueeze
    return reshape_as(g, tuple(x.shape), _one_dim_variant(tuple(g.shape), tuple(x.shape)))


def _one_dim_variant(src: tuple[int, ...], dst: tuple[int, ...]) -> int:
    if len(src) == len(dst) + 1:
        return SQUEEZE_DIM if any(src[i] == 1 and src[:i] + src[i + 1:] == dst
                                  for i in range(len(src))) else VIEW
    if len(dst) == len(src) + 1:
        return UNSQUEEZE if any(dst[i] == 1 and dst[:i] + dst[i + 1:] == src
                                for i in range(len(dst))) else VIEW
    return VIEW


reshape_p = defop("reshape", _reshape_impl, vjp=_reshape_vjp,
                  jvp=LINEAR, save_inputs=False,
                  names=("ViewBackward0", "UnsafeViewBackward0", "SqueezeBackward0",
                         "SqueezeBackward1", "UnsqueezeBackward0", "SqueezeBackward4",
                         "AliasBackward0", "SqueezeBackward2"), batch="reshape", batched_vjp="reshape")
(VIEW, UNSAFE_VIEW, SQUEEZE, SQUEEZE_DIM, UNSQUEEZE, SQUEEZE4, ALIAS, SQUEEZE_DIMS) = range(8)
_reshape_variants = {}


def reshape_as(x: Any, shape: tuple[int, ...], variant: int = VIEW) -> Any:
    """Reshape (any variant name); the polymorphic form used by rules."""
    from ._registry import apply
    if isinstance(x, Tensor):
        return apply(reshape_p.prim, (x,), {"shape": tuple(shape)}, variant)
    return np.reshape(x, shape) if type(x) is np.ndarray else _reshape_impl(x, shape)


def _expand_impl(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(x, shape)


# NOTE: the engine reduces the gradient to the input's shape, which is expand's whole rule.
expand_p = defop("expand", _expand_impl, vjp=lambda g, ans, x, shape: g, jvp=LINEAR,
                 save_inputs=False, batch="expand", batched_vjp="identity")


def _permute_impl(x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
    return np.transpose(x, dims)


def _permute_vjp(g: Any, ans: Any, x: Any, dims: tuple[int, ...]) -> Any:
    return permute_p(g, dims=tuple(int(i) for i in np.argsort(dims)))


permute_p = defop("permute", _permute_impl, vjp=_permute_vjp, jvp=LINEAR, save_inputs=False,
                  names=("PermuteBackward0", "TransposeBackward0", "TBackward0"),
                  batch="dims", batched_vjp="permute")
PERMUTE, TRANSPOSE, T = range(3)


def _same_name_backward(variant: int, plain: Any) -> Any:
    """A ``_backward`` whose gradient node, when recorded (``create_graph``), has the forward
    node's name: PyTorch's ``TBackward0`` differentiates with ``grad.t()``, ``TransposeBackward0``
    with ``grad.transpose(...)`` and ``PermuteBackward0`` with ``grad.permute(...)``."""
    from ._registry import apply

    def _backward(self: Any, grads: list[Any], create_graph: bool) -> Any:
        g = grads[0]
        if create_graph and isinstance(g, Tensor):
            dims = tuple(int(i) for i in np.argsort(self.params["dims"]))
            return (apply(permute_p.prim, (g,), {"dims": dims}, variant),)
        return plain(self, grads, create_graph)
    return _backward


base = permute_p.prim.node_classes
permute_p.prim.node_classes = tuple(
    type(cls.__name__, (cls,), {"__slots__": (), "_backward": _same_name_backward(i, cls._backward)})
    if i else cls for i, cls in enumerate(base))
del base


def _flip_impl(x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
    # NOTE: NumPy's flip is a view; PyTorch's flip is a copy (writing to it leaves x alone)
    return np.flip(x, dims).copy()


flip_p = defop("flip", _flip_impl, vjp=lambda g, ans, x, dims: flip_p(g, dims=dims), jvp=LINEAR,
               save_inputs=False, batch="dims")


def _roll_impl(x: np.ndarray, shifts: Any, dims: Any) -> np.ndarray:
    if dims is None:
        return np.roll(x.reshape(-1), shifts).reshape(x.shape)
    return np.roll(x, shifts, dims)


def _roll_vjp(g: Any, ans: Any, x: Any, shifts: Any, dims: Any) -> Any:
    neg = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
    return roll_p(g, shifts=neg, dims=dims)


roll_p = defop("roll", _roll_impl, vjp=_roll_vjp, jvp=LINEAR, save_inputs=False, batch="dims")


def _repeat_impl(x: np.ndarray, repeats: tuple[int, ...]) -> np.ndarray:
    return np.tile(x, repeats)


def _repeat_vjp(g: Any, ans: Any, x: Any, repeats: tuple[int, ...]) -> Any:
    from .reduction import sum as _sum
    shape = (1,) * (len(repeats) - x.ndim) + tuple(x.shape)
    split = []
    for r, s in zip(repeats, shape):
        split += [r, s]
    g = reshape_as(g, tuple(split))
    g = _sum(g, dim=tuple(range(0, 2 * len(repeats), 2)))
    return reshape_as(g, tuple(x.shape))


repeat_p = defop("repeat", _repeat_impl, vjp=_repeat_vjp, jvp=LINEAR, save_inputs=False, batch="repeat")


def _tril_impl(x: np.ndarray, diagonal: int = 0) -> np.ndarray:
    return np.tril(x, diagonal)


def _triu_impl(x: np.ndarray, diagonal: int = 0) -> np.ndarray:
    return np.triu(x, diagonal)


tril_p = defop("tril", _tril_impl, vjp=lambda g, ans, x, diagonal=0: tril_p(g, diagonal=diagonal),
               jvp=LINEAR, save_inputs=False, batch="trailing")
triu_p = defop("triu", _triu_impl, vjp=lambda g, ans, x, diagonal=0: triu_p(g, diagonal=diagonal),
               jvp=LINEAR, save_inputs=False, batch="trailing")


def _clone_impl(x: np.ndarray, contiguous: bool = False) -> np.ndarray:
    # NOTE: a clone keeps the input's strides (PyTorch's preserve_format); ``contiguous=True``
    # is ``Tensor.contiguous()``'s copy, in C order.
    if contiguous and type(x) is np.ndarray:
        return np.ascontiguousarray(x).reshape(x.shape)
    return copy(x)


# NOTE: the variants name the node of sort() on a 0-d tensor (a copy), as PyTorch does.
clone_p = defop("clone", _clone_impl, vjp=lambda g, ans, x, contiguous=False: g, jvp=LINEAR,
                save_inputs=False,
                names=("CloneBackward0", "SortBackward0", "SortBackward1"),
                batch="elementwise", batched_vjp="identity")


def _to_impl(x: np.ndarray, dtype: Any) -> np.ndarray:
    if _dtype.BF16_NP[0] is not None:
        return _dtype.astype(x, dtype)           # to and from bfloat16 through float32
    return x.astype(dtype)


# NOTE: the engine casts the gradient back to the input's dtype.
to_p = defop("to", _to_impl, vjp=lambda g, ans, x, dtype: g, jvp=LINEAR, save_inputs=False,
             names="ToCopyBackward0", batch="elementwise", batched_vjp="identity")


def _to_device_impl(x: Any, target: Any, source: Any, value: Any = None) -> Any:
    return value if value is not None else move(x, target)


# NOTE: a copy between devices or array libraries (``to('cuda')``, ``cpu()``, ``compute()``);
# the gradient goes back where the input lives. ``value`` carries a result computed ahead
# (``gradkit.compute`` computes several lazy tensors in one pass).
to_device_p = defop(
    "to_device", _to_device_impl,
    vjp=lambda g, ans, x, target, source, value=None: to_device_p(g, target=source, source=target),
    jvp=LINEAR, save_inputs=False, names="ToCopyBackward0")


# --- joins and splits ------------------------------------------------------------
def _cat_impl(*xs: np.ndarray, dim: int = 0) -> np.ndarray:
    return np.concatenate(xs, axis=dim)


def _cat_vjp(g: Any, ans: Any, *xs: Any, dim: int = 0) -> tuple[Any, ...]:
    sizes = [x.shape[dim] if x.ndim else 1 for x in xs]
    return split_p(g, sizes=tuple(sizes), dim=dim)


cat_p = defop("cat", _cat_impl, vjp_all=_cat_vjp, jvp=LINEAR, save_inputs=False, batch="cat")


def _stack_impl(*xs: np.ndarray, dim: int = 0) -> np.ndarray:
    return np.stack(xs, axis=dim)


# NOTE: variant 1 is the name PyTorch's fused CPU LSTM kernel gives the output it stacks
# (an nn.LSTM's float32 output prints grad_fn=<MkldnnRnnLayerBackward0>)
stack_p = defop("stack", _stack_impl, vjp_all=lambda g, ans, *xs, dim=0: unbind_p(g, dim=dim),
                jvp=LINEAR, save_inputs=False, batch="cat", batched_vjp="stack",
                names=("StackBackward0", "MkldnnRnnLayerBackward0"))


def _split_impl(x: np.ndarray, sizes: tuple[int, ...], dim: int) -> tuple[np.ndarray, ...]:
    # NOTE: slices, not np.split, so every array library (Dask too) stays on its own arrays
    lead = (slice(None),) * dim
    out, start = [], 0
    for n in sizes:
        out.append(x[lead + (slice(start, start + n),)])
        start += n
    return tuple(out)


def _split_vjp(g: tuple[Any, ...], ans: Any, x: Any, sizes: Any, dim: int) -> Any:
    return cat_p(*g, dim=dim)


split_p = defop("split", _split_impl, vjp=_split_vjp, jvp=LINEAR, save_inputs=False, n_out=-1,
                names=("SplitBackward0", "SplitWithSizesBackward0"), batch="unbind")


def _unbind_impl(x: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    m = np.moveaxis(x, dim, 0)
    # NOTE: m[i, ...], not iteration: a 1-D array iterates as NumPy scalars (copies), and
    # each output must be a 0-d view sharing x's memory
    return tuple(m[i, ...] for i in range(m.shape[0]))


unbind_p = defop("unbind", _unbind_impl, vjp=lambda g, ans, x, dim: stack_p(*g, dim=dim),
                 jvp=LINEAR, save_inputs=False, n_out=-1, batch="unbind", batched_vjp="unbind")


# --- indexing ----------------------------------------------------------------------
def _getitem_impl(x: np.ndarray, index: Any) -> np.ndarray:
    return x[index]


def _getitem_vjp(g: Any, ans: Any, x: Any, index: Any) -> Any:
    return index_backward_p(g, shape=tuple(x.shape), index=index)


getitem_p = defop("getitem", _getitem_impl, vjp=_getitem_vjp, jvp=LINEAR, save_inputs=False,
                  names=("SliceBackward0", "SelectBackward0", "IndexBackward0",
                         "UnsqueezeBackward0", "AliasBackward0", "TakeBackward0",
                         "MaskedSelectBackward0", "IndexSelectBackward0", "EmbeddingBackward0",
                         "ReflectionPad1DBackward0", "ReflectionPad2DBackward0",
                         "ReflectionPad3DBackward0", "ReplicationPad1DBackward0",
                         "ReplicationPad2DBackward0", "ReplicationPad3DBackward0"),
                batch="getitem")
(SLICE, SELECT, INDEX, GI_UNSQUEEZE, GI_ALIAS, TAKE, MASKED_SELECT, INDEX_SELECT,
 EMBEDDING) = range(9)
#: F.pad's reflect and replicate modes, by the number of padded dims (1 to 3)
REFLECTION_PAD = {1: 9, 2: 10, 3: 11}
REPLICATION_PAD = {1: 12, 2: 13, 3: 14}


# --- index_add: ``x`` with ``alpha * src`` added at ``index`` along ``dim`` (IndexAddBackward0)
def _index_add_impl(x: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray,
                    alpha: Any = 1) -> np.ndarray:
    out = copy(x)
    np.add.at(out, (slice(None),) * dim + (index_like(index, out),), src if alpha == 1 else src * alpha)
    return out


def _index_add_src_vjp(g: Any, ans: Any, x: Any, src: Any, dim: int, index: np.ndarray,
                       alpha: Any = 1) -> Any:
    picked = getitem_p(g, index=(slice(None),) * dim + (index,))      # index_select of g
    return picked if alpha == 1 else picked * alpha


def _index_add_src_jvp(t: Any, ans: Any, x: Any, src: Any, dim: int, index: np.ndarray,
                       alpha: Any = 1) -> Any:
    return index_backward_p(t if alpha == 1 else t * alpha, shape=tuple(x.shape),
                            index=(slice(None),) * dim + (index,))


index_add_p = defop(
    "index_add", _index_add_impl, promote="same", save_inputs=False, names="IndexAddBackward0",
    vjp=(lambda g, ans, x, src, dim, index, alpha=1: g, _index_add_src_vjp),
    jvp=(lambda t, ans, x, src, dim, index, alpha=1: t, _index_add_src_jvp))
not_lazy(index_add_p, False, "adds the slices with np.add.at")


# --- index_copy: ``x`` with the slices at ``index`` along ``dim`` replaced by ``src``'s
# (IndexCopyBackward0); linear in (x, src) together
def _index_copy_impl(x: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    out = copy(x)
    out[(slice(None),) * dim + (index_like(index, out),)] = src
    return out


def _index_copy_vjp_x(g: Any, ans: Any, x: Any, src: Any, dim: int, index: np.ndarray) -> Any:
    mask = ones(x.shape, bool, data_of(g))
    mask[(slice(None),) * dim + (index,)] = False
    return g * mask


index_copy_p = defop(
    "index_copy", _index_copy_impl, promote="same", save_inputs=False, names="IndexCopyBackward0",
    vjp=(_index_copy_vjp_x,
         lambda g, ans, x, src, dim, index: getitem_p(g, index=(slice(None),) * dim + (index,))),
    jvp=LINEAR)
not_lazy(index_copy_p, False, "writes the slices with fancy indexing")


# --- put: ``x`` seen flat with ``src`` written (or, with ``accumulate``, added) at the flat
# positions ``index`` (non-negative, checked by the caller) (PutBackward0)
def _put_impl(x: np.ndarray, src: np.ndarray, index: np.ndarray, accumulate: bool = False) -> np.ndarray:
    out = copy(x).reshape(-1)
    idx = index_like(index, out)
    if accumulate:
        np.add.at(out, idx, src.reshape(-1))
    else:
        out[idx] = src.reshape(-1)
    return out.reshape(x.shape)


def _put_vjp_x(g: Any, ans: Any, x: Any, src: Any, index: np.ndarray, accumulate: bool = False) -> Any:
    if accumulate:
        return g
    mask = ones(x.shape, bool, data_of(g))
    mask.reshape(-1)[index] = False
    return g * mask


def _put_vjp_src(g: Any, ans: Any, x: Any, src: Any, index: np.ndarray, accumulate: bool = False) -> Any:
    flat = g if g.ndim == 1 else reshape_as(g, (int(np.prod(tuple(g.shape))),))
    picked = getitem_p(flat, index=index)
    return reshape_as(picked, tuple(src.shape))


put_p = defop("put", _put_impl, promote="same", save_inputs=False, names="PutBackward0",
              vjp=(_put_vjp_x, _put_vjp_src), jvp=LINEAR)
not_lazy(put_p, False, "writes flat positions with fancy indexing")


# --- masked_scatter: ``x`` with its positions where ``mask`` is True filled, in order, from
# ``src``'s first elements (MaskedScatterBackward0); ``mask`` has ``x``'s shape
def _masked_scatter_impl(x: np.ndarray, src: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = copy(x)
    m = index_like(mask, out)
    out[m] = src.reshape(-1)[:int(mask.sum())]
    return out


def _masked_scatter_vjp_x(g: Any, ans: Any, x: Any, src: Any, mask: np.ndarray) -> Any:
    keep = ones(x.shape, bool, data_of(g))
    keep[mask] = False
    return g * keep


def _masked_scatter_vjp_src(g: Any, ans: Any, x: Any, src: Any, mask: np.ndarray) -> Any:
    n = int(src.size if not isinstance(src, Tensor) else src.numel())
    picked = getitem_p(g, index=mask)                     # the masked positions, in order
    if picked.shape[0] != n:
        picked = index_backward_p(picked, shape=(n,), index=(slice(0, picked.shape[0]),))
    return reshape_as(picked, tuple(src.shape))


masked_scatter_p = defop("masked_scatter", _masked_scatter_impl, promote="same", save_inputs=False,
                         names="MaskedScatterBackward0",
                         vjp=(_masked_scatter_vjp_x, _masked_scatter_vjp_src), jvp=LINEAR)
not_lazy(masked_scatter_p, False, "writes the masked positions with boolean indexing")


def _index_backward_impl(g: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
    out = zeros(shape, g.dtype, g)
    if g.size == 0:
        return out
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index_like(index, g), g)
    return out


index_backward_p = defop(
    "index_backward", _index_backward_impl,
    vjp=lambda g, ans, gin, shape, index: getitem_p(g, index=index), jvp=LINEAR,
    save_inputs=False, names="IndexBackwardBackward0")


# --- constant_pad_nd: F.pad(mode="constant") as one node (PyTorch's ConstantPadNdBackward0) --
def _constant_pad_impl(x: Any, pad: tuple[int, ...], value: Any = 0) -> Any:
    """``pad`` lists (left, right) amounts from the last dim back; negative ones crop."""
    crop = [slice(None)] * x.ndim
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        d = x.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        crop[d] = slice(max(-lo, 0), x.shape[d] - max(-hi, 0))
        widths[d] = (max(lo, 0), max(hi, 0))
    out = x[tuple(crop)]
    if not any(lo or hi for lo, hi in widths):
        return out.copy()
    return np.pad(out, widths, mode="constant", constant_values=value)


def _negated(pad: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(-p for p in pad)


# NOTE: fused (PyTorch's node): the gradient of a pad is the crop by the same amounts, which
# is this op with the amounts negated, so every order of derivative stays on this row.
constant_pad_nd_p = defop(
    "constant_pad_nd", _constant_pad_impl,
    vjp=lambda g, ans, x, pad, value=0: constant_pad_nd_p(g, pad=_negated(pad), value=0),
    jvp=(lambda t, ans, x, pad, value=0: constant_pad_nd_p(t, pad=pad, value=0),),
    save_inputs=False, names="ConstantPadNdBackward0", batch="trailing")


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    for i in items:
        if not (i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer))):
            return False
        if isinstance(i, bool):
            return False
    return True


def _index_put_impl(x: np.ndarray, value: Any, index: Any) -> np.ndarray:
    out = copy(x)
    out[index] = value
    return out


def _index_put_vjp_x(g: Any, ans: Any, x: Any, value: Any, index: Any) -> Any:
    mask = ones(x.shape, bool, data_of(g))
    mask[index] = False
    return g * mask


def _index_put_vjp_value(g: Any, ans: Any, x: Any, value: Any, index: Any) -> Any:
    gv = getitem_p(g, index=index)
    extra = np.ndim(value) - gv.ndim
    if extra > 0:
        # NOTE: a value may carry extra leading size-1 dims (PyTorch drops them to assign):
        # give them back so the engine's sum to the value's shape sees aligned dims.
        gv = reshape_as(gv, (1,) * extra + tuple(gv.shape))
    return gv


index_put_p = defop("index_put", _index_put_impl, vjp=(_index_put_vjp_x, _index_put_vjp_value),
                    jvp=LINEAR, save_inputs=False, promote=None,
                    names=("CopySlices", "IndexPutBackward0"))


def _gather_impl(x: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    if is_lazy(x) or is_lazy(index):
        return along_blocks(_take_along, x, index, dim, x.dtype)
    if index.shape != x.shape:
        # NOTE: PyTorch reads only x[:index.shape] in the other dims; NumPy would broadcast.
        x = x[tuple(slice(None) if k == dim else slice(0, n) for k, n in enumerate(index.shape))]
    return np.take_along_axis(x, index_like(index, x), axis=dim)


def _take_along(x: np.ndarray, index: np.ndarray, dim: int) -> np.ndarray:
    return np.take_along_axis(x, index, axis=dim)


def _gather_vjp(g: Any, ans: Any, x: Any, dim: int, index: Any) -> Any:
    z = zeros(x.shape, g._data.dtype if isinstance(g, Tensor) else g.dtype, data_of(g))
    if isinstance(g, Tensor):
        z = _make(z, False, None)
    return scatter_add_p(z, g, dim=dim, index=index)


# NOTE: sort, topk, cummax and cummin gather their values; the variants give their nodes
# PyTorch's names.
gather_p = defop("gather", _gather_impl, vjp=_gather_vjp, jvp=LINEAR, save_inputs=False,
                 names=("GatherBackward0", "SortBackward0", "TopkBackward0", "CummaxBackward0",
                        "CumminBackward0", "SortBackward1"))


def _scatter_add_impl(x: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    if is_lazy(x) or is_lazy(src) or is_lazy(index):
        src = src[tuple(slice(0, s) for s in index.shape)]
        return along_blocks(_scatter_add_block, x, index, dim, x.dtype, src)
    out = copy(x)
    idx = _scatter_index(index_like(index, x), dim)
    np.add.at(out, idx, src[tuple(slice(0, s) for s in index.shape)])
    return out


def _scatter_add_block(x: np.ndarray, index: np.ndarray, src: np.ndarray, dim: int) -> np.ndarray:
    out = np.array(x, copy=True)
    np.add.at(out, _scatter_index(index, dim), src)
    return out


def _scatter_index(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    grids = [arange(n, index).reshape((1,) * i + (n,) + (1,) * (index.ndim - i - 1))
             for i, n in enumerate(index.shape)]
    grids[dim] = index
    return tuple(grids)


scatter_add_p = defop(
    "scatter_add", _scatter_add_impl,
    vjp=(lambda g, ans, x, src, dim, index: g,
         lambda g, ans, x, src, dim, index: _pad_to(gather_p(g, dim=dim, index=index), src.shape)),
    jvp=LINEAR, save_inputs=False, promote="same")


def _pad_to(g: Any, shape: tuple[int, ...]) -> Any:
    """Zero-pad ``g`` to ``shape`` (scatter's src may be larger than its index)."""
    if tuple(g.shape) == tuple(shape):
        return g
    return index_backward_p(g, shape=tuple(shape), index=tuple(slice(0, s) for s in g.shape))


def _scatter_impl(x: np.ndarray, src: Any, dim: int, index: np.ndarray) -> np.ndarray:
    out = copy(x)
    idx = _scatter_index(index_like(index, x), dim)
    if np.ndim(src) == 0:
        out[idx] = src
    else:
        out[idx] = src[tuple(slice(0, s) for s in index.shape)]
    return out


def _scatter_vjp_x(g: Any, ans: Any, x: Any, src: Any, dim: int, index: Any) -> Any:
    mask = ones(x.shape, bool, data_of(g))
    mask[_scatter_index(index, dim)] = False
    return g * mask


scatter_p = defop(
    "scatter", _scatter_impl,
    vjp=(_scatter_vjp_x,
         lambda g, ans, x, src, dim, index: _pad_to(gather_p(g, dim=dim, index=index), src.shape)),
    jvp=LINEAR, save_inputs=False, names=("ScatterBackward0", "ScatterBackward1"),
    scalar_variants=(1,))


# --- scatter_reduce (ScatterReduceBackward0): ``src`` reduced into ``x`` at ``index`` along
# ``dim`` (``x``'s own values take part when ``include_self``). sum, mean, amax and amin are
# linear in (x, src) with weights that are constant almost everywhere, so the rules are the
# weights times the cotangent (gather for src); amax/amin ties share evenly (PyTorch). prod's
# rules are PyTorch's: the product of the others, exact where inputs are 0 (below).
_SR_UFUNC = {"sum": np.add, "mean": np.add, "amax": np.maximum, "amin": np.minimum,
             "prod": np.multiply}


def _sr_crop(index: np.ndarray) -> tuple[slice, ...]:
    return tuple(slice(0, m) for m in index.shape)


def _sr_init(dt: Any, reduce: str) -> Any:
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dt.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return info.min if reduce == "amax" else info.max
    return reduce == "amin"                               # bool


def _scatter_reduce_impl(x: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray,
                         reduce: str, include_self: bool = True) -> np.ndarray:
    full = _scatter_index(index_like(index, x), dim)
    hit = zeros(x.shape, bool, x)
    hit[full] = True
    out = copy(x) if include_self else np.where(hit, x.dtype.type(_sr_init(x.dtype, reduce)), x)
    _SR_UFUNC[reduce].at(out, full, src[_sr_crop(index)])
    if reduce != "mean":
        return out
    cnt = zeros(x.shape, np.int64, x)
    np.add.at(cnt, full, 1)
    cnt = np.where(hit, cnt + (1 if include_self else 0), 1)
    if x.dtype.kind in "fcV":
        return (out / cnt).astype(x.dtype)
    return np.floor_divide(out, cnt).astype(x.dtype)


def _sr_weights(x: Any, src: Any, ans: Any, dim: int, index: np.ndarray, reduce: str,
                include_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """(weight of each x element, weight of each used src element) in the result."""
    xd, sd, ad = data_of(x), data_of(src), data_of(ans)
    full = _scatter_index(index_like(index, xd), dim)
    hit = zeros(xd.shape, bool, xd)
    hit[full] = True
    dt = xd.dtype
    if reduce == "sum":
        wx = ones(xd.shape, dt, xd) if include_self else (~hit).astype(dt)
        return wx, ones(index.shape, dt, xd)
    if reduce == "mean":
        cnt = zeros(xd.shape, np.int64, xd)
        np.add.at(cnt, full, 1)
        inv = 1.0 / np.where(hit, cnt + (1 if include_self else 0), 1)
        wx = inv.astype(dt) if include_self else (~hit).astype(dt)
        return wx, inv[full].astype(dt)
    # NOTE: as PyTorch, the count of ties includes x's elements equal to the result even when
    # include_self=False (they get no gradient then)
    xsel = (xd == ad).astype(dt)
    ms = (sd[_sr_crop(index)] == ad[full]).astype(dt)
    cnt = xsel.copy()
    np.add.at(cnt, full, ms)
    ws = ms / cnt[full]
    wx = xsel / np.where(cnt == 0, 1, cnt) if include_self else (~hit).astype(dt)
    return wx.astype(dt), ws.astype(dt)


def _nonzero(v: Any, zero: np.ndarray) -> Any:
    """``v`` with 1 where the constant mask ``zero`` is set (PyTorch's ``masked_fill(v == 0, 1)``)."""
    return where(zero, 1.0, v)


def _sr_prod_dx(x: Any, src: Any, ans: Any, dim: int, index: np.ndarray, include_self: bool) -> Any:
    """d result / d x for prod: the product of the others (x's zeros put back to 1 first)."""
    zero = data_of(x) == 0
    mx = _nonzero(x, zero)
    out = scatter_reduce_p(mx, src, dim=dim, index=index, reduce="prod",
                           include_self=include_self) / mx
    if include_self:
        return out
    hit = zeros(tuple(x.shape), bool, data_of(x))
    hit[_scatter_index(index_like(index, hit), dim)] = True
    return where(hit, 0.0, out)


def _sr_prod_src(g: Any, ans: Any, x: Any, src: Any, dim: int, index: np.ndarray,
                 include_self: bool) -> Any:
    """The gradient of the used part of ``src`` for prod (PyTorch's rule): ``g * result / src``,
    and for a src that is the only 0 of its slot the product of the others."""
    s = getitem_p(src, index=_sr_crop(index)) if tuple(src.shape) != index.shape else src
    sz = data_of(s) == 0
    nz = zeros(tuple(x.shape), np.int64, sz)
    np.add.at(nz, _scatter_index(index_like(index, nz), dim), sz)
    zeros_at = np.take_along_axis(nz, index_like(index, nz), dim)
    single = sz & (zeros_at == 1)
    others = scatter_reduce_p(x, _nonzero(s, single), dim=dim, index=index, reduce="prod",
                              include_self=include_self)
    out = where(single, gather_p(g * others, dim=dim, index=index),
                gather_p(g * ans, dim=dim, index=index) / _nonzero(s, sz))
    if isinstance(out, Tensor) and (zeros_at > 1).any():
        # NOTE: two zeros of src in one slot: this rule is right in value but not in its
        # derivative, which PyTorch refuses too
        out = refuse_p(out, msg="scatter_reduce(): Double backward is unsupported for src when "
                                ">1 zeros in src are scattered to the same position in self")
    return out


def _sr_vjp_x(g: Any, ans: Any, x: Any, src: Any, dim: int, index: np.ndarray, reduce: str,
              include_self: bool = True) -> Any:
    if reduce == "prod":
        return g * _sr_prod_dx(x, src, ans, dim, index, include_self)
    return g * _sr_weights(x, src, ans, dim, index, reduce, include_self)[0]


def _sr_vjp_src(g: Any, ans: Any, x: Any, src: Any, dim: int, index: np.ndarray, reduce: str,
                include_self: bool = True) -> Any:
    if reduce == "prod":
        return _pad_to(_sr_prod_src(g, ans, x, src, dim, index, include_self), tuple(src.shape))
    ws = _sr_weights(x, src, ans, dim, index, reduce, include_self)[1]
    return _pad_to(gather_p(g, dim=dim, index=index) * ws, tuple(src.shape))


def _sr_jvp_x(t: Any, ans: Any, x: Any, src: Any, dim: int, index: np.ndarray, reduce: str,
              include_self: bool = True) -> Any:
    if reduce == "prod":
        return t * _sr_prod_dx(x, src, ans, dim, index, include_self)
    return t * _sr_weights(x, src, ans, dim, index, reduce, include_self)[0]


def _sr_jvp_src(t: Any, ans: Any, x: Any, src: Any, dim: int, index: np.ndarray, reduce: str,
                include_self: bool = True) -> Any:
    if tuple(t.shape) != index.shape:
        t = getitem_p(t, index=_sr_crop(index))
    if reduce == "prod":
        # each slot's tangent: the sum of t_j times the product of the others, which is the
        # src rule's product of the others with g = 1
        one = ones(tuple(ans.shape), data_of(ans).dtype, data_of(ans))
        ws = _sr_prod_src(one, ans, x, src, dim, index, include_self)
    else:
        ws = _sr_weights(x, src, ans, dim, index, reduce, include_self)[1]
    z = zeros(tuple(x.shape), data_of(t).dtype, data_of(t))
    if isinstance(t, Tensor):
        z = _make(z, False, None)
    return scatter_add_p(z, t * ws, dim=dim, index=index)


scatter_reduce_p = defop(
    "scatter_reduce", _scatter_reduce_impl, promote="same", save_ans=True,
    names=("ScatterReduceBackward0", "IndexReduceBackward0"), vjp=(_sr_vjp_x, _sr_vjp_src),
    jvp=(_sr_jvp_x, _sr_jvp_src))
not_lazy(scatter_reduce_p, False, "reduces into positions with ufunc.at")


def _refuse(*args: Any, msg: str) -> Any:
    raise RuntimeError(msg)


# A derivative that is right in value but whose own derivative is not: the value passes
# through, differentiating it again raises ``msg`` (PyTorch's DelayedError node).
refuse_p = defop("refuse", lambda x, msg: copy(x), vjp=_refuse, jvp=(_refuse,), save_inputs=False,
                 names="DelayedError", batch="elementwise")


def _masked_fill_impl(x: np.ndarray, mask: np.ndarray, value: Any) -> np.ndarray:
    out = np.where(mask, value, x)
    return out if out.dtype == x.dtype else out.astype(x.dtype)


def _masked_fill_vjp_value(g: Any, ans: Any, x: Any, mask: Any, value: Any) -> Any:
    from .reduction import sum as _sum
    from .elementwise import where
    return _sum(where(mask, g, 0.0))


masked_fill_p = defop(
    "masked_fill", _masked_fill_impl,
    vjp=(lambda g, ans, x, mask, value: _where(mask, 0.0, g), None, _masked_fill_vjp_value),
    jvp=LINEAR, save_inputs=True, batch="elementwise",
    names=("MaskedFillBackward0", "MaskedFillBackward1", "IndexFillBackward0", "IndexFillBackward1"),
    scalar_variants=(0, 2))
#: masked_fill_p's variants: a number or a 0-d tensor value, as masked_fill or index_fill
MASKED_FILL, MASKED_FILL_T, INDEX_FILL, INDEX_FILL_T = range(4)


def _where(c: Any, a: Any, b: Any) -> Any:
    from .elementwise import where
    return where(c, a, b)


def _diagonal_impl(x: np.ndarray, offset: int = 0, dim1: int = 0, dim2: int = 1) -> np.ndarray:
    d = np.diagonal(x, offset, dim1, dim2)
    if type(d) is np.ndarray and x.flags.writeable:
        # NOTE: NumPy's diagonal is a read-only view; PyTorch's may be written in place
        d.setflags(write=True)
    return d


def _diagonal_vjp(g: Any, ans: Any, x: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
    return diagonal_backward_p(g, shape=tuple(x.shape), offset=offset, dim1=dim1, dim2=dim2)


diagonal_p = defop("diagonal", _diagonal_impl, vjp=_diagonal_vjp, jvp=LINEAR, save_inputs=False,
                   names=("DiagonalBackward0", "DiagonalBackward0_copy"), batch="diagonal")


def _diagonal_backward_impl(g: np.ndarray, shape: tuple[int, ...], offset: int, dim1: int,
                            dim2: int) -> np.ndarray:
    if type(g) is not np.ndarray and backend_of(g) is not None:
        # NOTE: other libraries' diagonals are read-only: place g with an index instead
        out = zeros(shape, g.dtype, g)
        moved = np.moveaxis(out, (dim1, dim2), (-2, -1))
        n = g.shape[-1]
        rows = arange(n, g) + max(-offset, 0)
        moved[..., rows, rows + offset] = g
        return np.moveaxis(moved, (-2, -1), (dim1, dim2))
    out = np.zeros(shape, dtype=g.dtype)
    view = np.diagonal(out, offset, dim1, dim2)
    view.setflags(write=True)
    view[...] = g
    return out


diagonal_backward_p = defop(
    "diagonal_backward", _diagonal_backward_impl,
    vjp=lambda g, ans, gin, shape, offset, dim1, dim2: diagonal_p(g, offset=offset, dim1=dim1,
                                                                   dim2=dim2),
    jvp=LINEAR, save_inputs=False, names="DiagEmbedBackward0")


# --- strided views: unfold, as_strided ------------------------------------------------
def _strided(x: np.ndarray, shape: tuple[int, ...], strides: tuple[int, ...],
             overlap: bool) -> np.ndarray:
    """A view of ``x`` with the given shape and strides (in bytes); read-only where its
    elements overlap, so an in-place write through it is refused, never half-applied."""
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=not overlap)


def _unfold_positions(n: int, size: int, step: int) -> np.ndarray:
    """The window starts times ``step`` plus the offsets in a window: shape ``(windows, size)``."""
    windows = (n - size) // step + 1
    return np.arange(windows)[:, None] * step + np.arange(size)[None, :]


def _unfold_impl(x: np.ndarray, dim: int, size: int, step: int) -> np.ndarray:
    n = x.shape[dim]
    windows = (n - size) // step + 1
    shape = x.shape[:dim] + (windows,) + x.shape[dim + 1:] + (size,)
    if type(x) is np.ndarray:
        st = x.strides
        strides = st[:dim] + (st[dim] * step,) + st[dim + 1:] + (st[dim],)
        return _strided(x, shape, strides, overlap=step < size and windows > 1)
    pos = _unfold_positions(n, size, step)            # other libraries: a copy
    out = np.take(x, index_like(pos.reshape(-1), x), axis=dim).reshape(x.shape[:dim] + pos.shape
                                                          + x.shape[dim + 1:])
    return np.moveaxis(out, dim + 1, -1)


def _unfold_backward_impl(g: np.ndarray, shape: tuple[int, ...], dim: int, size: int,
                          step: int) -> np.ndarray:
    out = zeros(shape, g.dtype, g)
    windows = g.shape[dim]
    lead = (slice(None),) * dim
    for k in range(size):
        # the k-th element of every window: positions k, k + step, ... (distinct for one k)
        out[lead + (slice(k, k + step * (windows - 1) + 1, step),)] += g[..., k]
    return out


unfold_p = defop("unfold", _unfold_impl,
                 vjp=lambda g, ans, x, dim, size, step: unfold_backward_p(
                     g, shape=tuple(x.shape), dim=dim, size=size, step=step),
                 jvp=LINEAR, save_inputs=False, names="UnfoldBackward0")
unfold_backward_p = defop(
    "unfold_backward", _unfold_backward_impl,
    vjp=lambda g, ans, gin, shape, dim, size, step: unfold_p(g, dim=dim, size=size, step=step),
    jvp=LINEAR, save_inputs=False, names="UnfoldBackwardBackward0")
not_lazy(unfold_p, "forward", "adds windows into an array in place")
not_lazy(unfold_backward_p, False, "adds windows into an array in place")


def strided_positions(size: tuple[int, ...], stride: tuple[int, ...], offset: int) -> np.ndarray:
    """Flat positions read by ``as_strided(size, stride, offset)`` (row-major storage)."""
    pos = np.full(size, offset, dtype=np.int64)
    for k, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[k] = n
        pos = pos + (np.arange(n, dtype=np.int64) * s).reshape(shape)
    return pos


def _as_strided_impl(x: np.ndarray, size: tuple[int, ...], stride: tuple[int, ...],
                     offset: int) -> np.ndarray:
    pos = strided_positions(size, stride, offset)
    if type(x) is not np.ndarray or not x.flags.c_contiguous:
        # other libraries, and rules' non-contiguous gradients: a copy
        return x.reshape(-1)[index_like(pos.reshape(-1), x)].reshape(size)
    flat = x.reshape(-1)
    overlap = pos.size > 0 and np.unique(pos).size < pos.size
    start = flat[offset:] if offset < flat.size else flat[:0]
    return _strided(start, size, tuple(s * x.itemsize for s in stride), overlap)


def _as_strided_backward_impl(g: np.ndarray, shape: tuple[int, ...], size: tuple[int, ...],
                              stride: tuple[int, ...], offset: int) -> np.ndarray:
    out = zeros((int(np.prod(shape, dtype=np.int64)),), g.dtype, g)
    pos = strided_positions(size, stride, offset).reshape(-1)
    np.add.at(out, index_like(pos, g), g.reshape(-1))
    return out.reshape(shape)


as_strided_p = defop(
    "as_strided", _as_strided_impl,
    vjp=lambda g, ans, x, size, stride, offset: as_strided_backward_p(
        g, shape=tuple(x.shape), size=size, stride=stride, offset=offset),
    jvp=LINEAR, save_inputs=False, names="AsStridedBackward0")
as_strided_backward_p = defop(
    "as_strided_backward", _as_strided_backward_impl,
    vjp=lambda g, ans, gin, shape, size, stride, offset: as_strided_p(
        g, size=size, stride=stride, offset=offset),
    jvp=LINEAR, save_inputs=False, names="AsStridedBackwardBackward0")
not_lazy(as_strided_p, "forward", "scatters into an array in place")
not_lazy(as_strided_backward_p, False, "scatters into an array in place")


def _diag_embed_impl(x: np.ndarray, offset: int = 0) -> np.ndarray:
    return np.diag(x, offset)


diag_embed_p = defop("diag_embed", _diag_embed_impl,
                     vjp=lambda g, ans, x, offset=0: diagonal_p(g, offset=offset),
                     jvp=LINEAR, save_inputs=False, names="DiagEmbedBackward0")


def _trace_impl(x: np.ndarray) -> np.ndarray:
    return np.trace(x)


def _trace_vjp(g: Any, ans: Any, x: Any) -> Any:
    return g * eye(x.shape[0], x.shape[1], x.dtype, data_of(g))


trace_p = defop("trace", _trace_impl, vjp=_trace_vjp, jvp=LINEAR, save_inputs=False)


def sizes_from_split(length: int, split_size_or_sections: Any) -> tuple[int, ...]:
    """Section sizes for ``split``: an int chunk size or an explicit list."""
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(int(s) for s in split_size_or_sections)
        if sum(sizes) != length:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {length} "
                               f"(input tensor's size at dimension), but got split_sizes={list(sizes)}")
        return sizes
    step = int(split_size_or_sections)
    if step <= 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
    if length == 0:
        return (0,)
    return tuple(min(step, length - i) for i in range(0, length, step))


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape all ``shapes`` broadcast to, with PyTorch's error message."""
    out: tuple[int, ...] = ()
    for s in shapes:
        out = _broadcast_pair(out, tuple(s))
    return out


def _broadcast_pair(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    nd = max(len(a), len(b))
    out = [1] * nd
    for i in range(nd - 1, -1, -1):                # from the last dim, as PyTorch checks
        off = nd - 1 - i
        sa = a[len(a) - 1 - off] if len(a) - 1 - off >= 0 else 1
        sb = b[len(b) - 1 - off] if len(b) - 1 - off >= 0 else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b "
                               f"({sb}) at non-singleton dimension {i}")
        out[i] = sb if sa == 1 else sa
    return tuple(out)


# --- on lazy (Dask) arrays: rows that would need the values ---------------------------------
def _getitem_lazy(params: dict[str, Any]) -> Any:
    index = params.get("index")
    items = index if isinstance(index, tuple) else (index,)
    if any(getattr(getattr(i, "dtype", None), "kind", "") == "b" for i in items):
        return False
    if _is_basic(index) and all(i is Ellipsis or isinstance(i, (int, np.integer)) or
                                (isinstance(i, slice) and i.step in (None, 1)) for i in items):
        return True
    return "forward"


not_lazy(getitem_p, _getitem_lazy, "needs values (a boolean mask gives a shape known only "
         "after computing; the gradient of an integer-array index scatters with np.add.at)")
not_lazy(index_backward_p, False, "scatters with np.add.at, which Dask arrays lack")
not_lazy(index_put_p, lambda p: True if _getitem_lazy(p) is True else False,
         "assigns through an index Dask cannot assign through lazily")

not_lazy(scatter_p, False, "assigns through index arrays, which Dask arrays cannot")

not_lazy(diagonal_p, "forward", "writes a diagonal in place, which Dask arrays cannot")
not_lazy(diagonal_backward_p, False, "writes a diagonal in place, which Dask arrays cannot")


# --- pixel shuffles as one node each (PyTorch's PixelShuffleBackward0, PixelUnshuffleBackward0) --
# NOTE: (*, C r^2, H, W) <-> (*, C, H r, W r); each is the other's gradient, so every order works.
def _pixel_shuffle_impl(x: np.ndarray, r: int) -> np.ndarray:
    lead, (c, h, w), n = x.shape[:-3], x.shape[-3:], x.ndim - 3
    y = x.reshape(lead + (c // (r * r), r, r, h, w))
    y = np.transpose(y, tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return y.reshape(lead + (c // (r * r), h * r, w * r))


def _pixel_unshuffle_impl(x: np.ndarray, r: int) -> np.ndarray:
    lead, (c, h, w), n = x.shape[:-3], x.shape[-3:], x.ndim - 3
    y = x.reshape(lead + (c, h // r, r, w // r, r))
    y = np.transpose(y, tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return y.reshape(lead + (c * r * r, h // r, w // r))


pixel_shuffle_p = defop("pixel_shuffle", _pixel_shuffle_impl,
                        vjp=lambda g, ans, x, r: pixel_unshuffle_p(g, r=r), jvp=LINEAR,
                        save_inputs=False, names="PixelShuffleBackward0", batch="trailing")
pixel_unshuffle_p = defop("pixel_unshuffle", _pixel_unshuffle_impl,
                          vjp=lambda g, ans, x, r: pixel_shuffle_p(g, r=r), jvp=LINEAR,
                          save_inputs=False, names="PixelUnshuffleBackward0", batch="trailing")


# --- rot90 as one node (PyTorch's Rot90Backward0): its gradient turns back by -k ------------
rot90_p = defop("rot90", lambda x, k, dims: np.rot90(x, k, axes=dims).copy(),
                vjp=lambda g, ans, x, k, dims: rot90_p(g, k=-k % 4, dims=dims), jvp=LINEAR,
                save_inputs=False, names="Rot90Backward0", batch="dims")


# bfloat16 arrays are moved, viewed and cast as they are (no float32 round trip: a view stays a
# view); rows that add (index_add, scatter_add, the backward rows) or fill with a number run in
# float32 as PyTorch's kernels do.
bf16_native(reshape_p, expand_p, permute_p, flip_p, roll_p, repeat_p, tril_p, triu_p, clone_p, to_p,
            to_device_p, cat_p, stack_p, split_p, unbind_p, getitem_p, index_copy_p, masked_scatter_p,
            gather_p, diagonal_p, unfold_p, as_strided_p, diag_embed_p, pixel_shuffle_p,
            pixel_unshuffle_p, rot90_p)
# PyTorch moves and views uint16/uint32/uint64 tensors (flip it refuses; gather too, but its sort
# gives them back in order, which gradkit's sort does through gather)
uint_rows(gather_p, reshape_p, expand_p, permute_p, roll_p, repeat_p, tril_p, triu_p, clone_p, to_p,
          to_device_p, cat_p, stack_p, split_p, unbind_p, getitem_p, diagonal_p, unfold_p, as_strided_p,
          diag_embed_p, pixel_shuffle_p, pixel_unshuffle_p)
