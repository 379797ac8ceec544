"""NumPy's array-manipulation routines on gradkit tensors: joining, splitting, reshaping,
transposing, tiling, flipping, ``atleast_*d``, ``meshgrid``, ``pad``; registered with ``implements``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit import _api as A
from gradkit._core import creation as _factories
from gradkit._core.tensor import Tensor
from gradkit._api.numpy_protocol import _tensorize, implements


def _tensors(seq: Any) -> list[Tensor]:
    return [A.as_tensor_arg(_tensorize(s)) if not isinstance(s, Tensor) else s for s in seq]


@implements(np.concatenate)
def _concatenate(arrays: Any, axis: Any = 0, out: Any = None, dtype: Any = None,
                 casting: Any = None) -> Any:
    ts = _tensors(arrays)
    if axis is None:
        ts, axis = [A.reshape(t, (-1,)) for t in ts], 0
    res = A.cat(ts, axis)
    return res.to(dtype) if dtype is not None else res


@implements(np.stack)
def _stack(arrays: Any, axis: int = 0, out: Any = None, dtype: Any = None, **kw: Any) -> Any:
    res = A.stack(_tensors(arrays), axis)
    return res.to(dtype) if dtype is not None else res


@implements(np.hstack)
def _hstack(tup: Any, **kw: Any) -> Any:
    return A.hstack(_tensors(tup))


@implements(np.vstack)
def _vstack(tup: Any, **kw: Any) -> Any:
    return A.vstack(_tensors(tup))


@implements(np.split)
def _split(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
    # NOTE: NumPy's pieces are plain views (slices), so they may be written in place: the
    # slices of tensor_split, not the multi-output views of torch.split
    x = _tensorize(ary)
    n = x.shape[axis]
    if isinstance(indices_or_sections, int) and n % indices_or_sections:
        raise ValueError("array split does not result in an equal division")
    return _array_split(x, indices_or_sections, axis)


@implements(np.array_split)
def _array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
    x = _tensorize(ary)
    if not isinstance(indices_or_sections, int):
        indices_or_sections = list(indices_or_sections)
    return list(A.tensor_split(x, indices_or_sections, axis))


@implements(np.hsplit)
def _hsplit(ary: Any, indices_or_sections: Any) -> Any:
    x = _tensorize(ary)
    if x.ndim == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return _split(x, indices_or_sections, 1 if x.ndim > 1 else 0)


@implements(np.vsplit)
def _vsplit(ary: Any, indices_or_sections: Any) -> Any:
    x = _tensorize(ary)
    if x.ndim < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return _split(x, indices_or_sections, 0)


@implements(np.dsplit)
def _dsplit(ary: Any, indices_or_sections: Any) -> Any:
    x = _tensorize(ary)
    if x.ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return _split(x, indices_or_sections, 2)


@implements(np.reshape)
def _reshape(a: Any, *args: Any, **kw: Any) -> Any:
    shape = kw.get("newshape", kw.get("shape", args[0] if args else None))
    if kw.get("order", "C") != "C":
        raise NotImplementedError("gradkit reshapes in C order only")
    return A.reshape(_tensorize(a), (shape,) if isinstance(shape, int) else tuple(shape))


@implements(np.ravel)
def _ravel(a: Any, order: str = "C") -> Any:
    return A.reshape(_tensorize(a), (-1,))


@implements(np.transpose)
def _transpose(a: Any, axes: Any = None) -> Any:
    x = _tensorize(a)
    return A.permute(x, tuple(range(x.ndim - 1, -1, -1)) if axes is None else tuple(axes))


@implements(np.swapaxes)
def _swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    return A.transpose(_tensorize(a), axis1, axis2)


@implements(np.moveaxis)
def _moveaxis(a: Any, source: Any, destination: Any) -> Any:
    return A.movedim(_tensorize(a), source, destination)


@implements(np.squeeze)
def _squeeze(a: Any, axis: Any = None) -> Any:
    return A.squeeze(_tensorize(a), axis)


@implements(np.expand_dims)
def _expand_dims(a: Any, axis: Any) -> Any:
    x = _tensorize(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    nd = x.ndim + len(axes)
    for ax in sorted(ax % nd for ax in axes):
        x = A.unsqueeze(x, ax)
    return x


@implements(np.broadcast_to)
def _broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    return A.expand(_tensorize(array), (shape,) if isinstance(shape, int) else tuple(shape))


@implements(np.tile)
def _tile(A_: Any, reps: Any) -> Any:
    return A.tile(_tensorize(A_), (reps,) if isinstance(reps, int) else tuple(reps))


@implements(np.repeat)
def _repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    return A.repeat_interleave(_tensorize(a), repeats, axis)


@implements(np.flip)
def _flip(m: Any, axis: Any = None) -> Any:
    x = _tensorize(m)
    return A.flip(x, tuple(range(x.ndim)) if axis is None else axis)


@implements(np.roll)
def _roll(a: Any, shift: Any, axis: Any = None) -> Any:
    return A.roll(_tensorize(a), shift, axis)


@implements(np.atleast_1d)
def _atleast_1d(*arys: Any) -> Any:
    res = [A.atleast_1d(_tensorize(a)) for a in arys]
    return res[0] if len(res) == 1 else res


@implements(np.atleast_2d)
def _atleast_2d(*arys: Any) -> Any:
    res = [A.atleast_2d(_tensorize(a)) for a in arys]
    return res[0] if len(res) == 1 else res


@implements(np.meshgrid)
def _meshgrid(*xi: Any, indexing: str = "xy", sparse: bool = False, copy: bool = True) -> Any:
    ts = [A.reshape(_tensorize(x), (-1,)) for x in xi]
    n = len(ts)
    shapes = [t.shape[0] for t in ts]
    if indexing == "xy" and n >= 2:
        shapes[0], shapes[1] = shapes[1], shapes[0]
    out = []
    for i, t in enumerate(ts):
        view = [1] * n
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        view[pos] = t.shape[0]
        v = A.reshape(t, tuple(view))
        out.append(v if sparse else A.expand(v, tuple(shapes)))
    return out


@implements(np.pad)
def _pad(array: Any, pad_width: Any, mode: str = "constant", **kw: Any) -> Any:
    x = _tensorize(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    if mode == "constant":
        value = kw.get("constant_values", 0)
        shape = tuple(int(s + a + b) for s, (a, b) in zip(x.shape, widths))
        base = _factories.full(shape, float(np.asarray(value)), dtype=x.dtype)
        idx = tuple(slice(int(a), int(a) + s) for s, (a, _) in zip(x.shape, widths))
        out = base.clone()
        out[idx] = x
        return out
    modes = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric", "wrap": "wrap"}
    if mode not in modes:
        raise NotImplementedError(f"np.pad mode {mode!r} is not supported on gradkit tensors yet")
    for ax in range(x.ndim):
        a, b = (int(w) for w in widths[ax])
        if a == 0 and b == 0:
            continue
        idx = np.pad(np.arange(x.shape[ax]), (a, b), mode=mode)
        x = x[(slice(None),) * ax + (idx,)]
    return x


# --- adding, removing and picking elements: NumPy's routine run on element positions -------
def _as_t(x: Any) -> Tensor:
    t = _tensorize(x)
    return t if isinstance(t, Tensor) else A.as_tensor_arg(np.asarray(t))


def _data(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _positions(*ts: Tensor) -> tuple[Tensor, list[np.ndarray]]:
    """The tensors raveled into one, and for each an int array of its elements' positions in
    it (shaped like the tensor): NumPy's own routine run on the positions says where every
    element of its result comes from, so the result is one gather (its gradient a scatter-add)."""
    flat, ids, start = [], [], 0
    for t in ts:
        n = t.numel()
        ids.append(np.arange(start, start + n, dtype=np.int64).reshape(tuple(t.shape)))
        flat.append(A.reshape(t, (-1,)))
        start += n
    return (flat[0] if len(flat) == 1 else A.cat(flat, 0)), ids


def _gather(flat: Tensor, pos: np.ndarray) -> Tensor:
    return flat[np.asarray(pos, dtype=np.int64)]


@implements(np.copy)
def _copy(a: Any, order: str = "K", subok: bool = False) -> Any:
    return A.clone(_as_t(a))


if hasattr(np, "astype"):
    @implements(np.astype)
    def _astype(x: Any, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Any:
        t = _as_t(x)
        if t._data.dtype == np.dtype(dtype):
            return A.clone(t) if copy else t
        return t.to(np.dtype(dtype))


@implements(np.insert)
def _insert(arr: Any, obj: Any, values: Any, axis: Any = None) -> Any:
    x = _as_t(arr)
    v = _as_t(values)
    v = v if v._data.dtype == x._data.dtype else v.to(x._data.dtype)   # NumPy casts values
    flat, (ix, iv) = _positions(x, v)
    return _gather(flat, np.insert(ix, _data(obj), iv, axis=axis))


@implements(np.delete)
def _delete(arr: Any, obj: Any, axis: Any = None) -> Any:
    flat, (ix,) = _positions(_as_t(arr))
    return _gather(flat, np.delete(ix, _data(obj), axis=axis))


@implements(np.resize)
def _resize(a: Any, new_shape: Any) -> Any:
    flat, (ix,) = _positions(_as_t(a))
    return _gather(flat, np.resize(ix, new_shape))


@implements(np.compress)
def _compress(condition: Any, a: Any, axis: Any = None, out: Any = None) -> Any:
    flat, (ix,) = _positions(_as_t(a))
    return _gather(flat, np.compress(_data(condition), ix, axis=axis))


@implements(np.extract)
def _extract(condition: Any, arr: Any) -> Any:
    flat, (ix,) = _positions(_as_t(arr))
    return _gather(flat, np.extract(_data(condition), ix))


@implements(np.choose)
def _choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    cs = [_as_t(c) for c in (choices if isinstance(choices, (list, tuple)) else list(choices))]
    dt = np.result_type(*[c._data for c in cs])
    cs = [c if c._data.dtype == dt else c.to(dt) for c in cs]
    flat, ids = _positions(*cs)
    return _gather(flat, np.choose(_data(a), ids, mode=mode))


@implements(np.trim_zeros)
def _trim_zeros(filt: Any, trim: str = "fb", **kw: Any) -> Any:
    x = _as_t(filt)
    d = np.asarray(x._data)
    # the positions (plus one) of the nonzeros, zeros kept: NumPy trims them exactly as the data
    marks = np.where(d != 0, np.arange(1, d.size + 1).reshape(d.shape), 0)
    kept = np.trim_zeros(marks, trim, **kw)
    if not np.any(kept):
        return x[tuple(slice(0, n) for n in kept.shape)]
    first = np.argwhere(kept)[0]
    origin = np.unravel_index(int(kept[tuple(first)]) - 1, d.shape)
    start = [int(o) - int(f) for o, f in zip(origin, first)]
    return x[tuple(slice(s, s + n) for s, n in zip(start, kept.shape))]


@implements(np.ediff1d)
def _ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    x = A.reshape(_as_t(ary), (-1,))
    parts = [A.sub(x[1:], x[:-1])]
    for extra, front in ((to_begin, True), (to_end, False)):
        if extra is not None:
            e = A.reshape(_as_t(extra), (-1,))
            if not np.can_cast(e._data.dtype, x._data.dtype, casting="same_kind"):
                raise TypeError(f"dtype of `{'to_begin' if front else 'to_end'}` must be "
                                f"compatible with input `ary` under the `same_kind` rule.")
            e = e if e._data.dtype == x._data.dtype else e.to(x._data.dtype)
            parts.insert(0, e) if front else parts.append(e)
    return parts[0] if len(parts) == 1 else A.cat(parts, 0)


@implements(np.broadcast_arrays)
def _broadcast_arrays(*args: Any, subok: bool = False) -> Any:
    ts = [_as_t(a) for a in args]
    shape = np.broadcast_shapes(*[tuple(t.shape) for t in ts])
    return tuple(t if tuple(t.shape) == shape else A.expand(t, shape) for t in ts)


@implements(np.block)
def _block(arrays: Any) -> Any:
    def depth(x: Any) -> int:
        return 1 + depth(x[0]) if isinstance(x, list) and x else int(isinstance(x, list))

    def deepest_ndim(x: Any) -> int:
        return max(deepest_ndim(e) for e in x) if isinstance(x, list) else _as_t(x).ndim

    if isinstance(arrays, tuple):
        raise TypeError("arrays is a tuple. Only lists can be used to arrange blocks, and "
                        "np.block does not allow implicit conversion from tuple to ndarray.")
    levels = depth(arrays)
    nd = max(levels, deepest_ndim(arrays))

    def build(x: Any, level: int) -> Tensor:
        if isinstance(x, list):
            return A.cat([build(e, level + 1) for e in x], level - levels)
        t = _as_t(x)
        return t if t.ndim == nd else A.reshape(t, (1,) * (nd - t.ndim) + tuple(t.shape))
    parts = build(arrays, 0)
    return parts


if hasattr(np, "unstack"):
    @implements(np.unstack)
    def _unstack(x: Any, /, *, axis: int = 0) -> Any:
        t = _as_t(x)
        moved = A.movedim(t, axis, 0)
        return tuple(moved[i] for i in range(moved.shape[0]))


def _cumulative(name: str) -> Any:
    def handler(x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
                include_initial: bool = False) -> Any:
        t = _as_t(x)
        if axis is None:
            if t.ndim > 1:
                raise ValueError("axis must be specified for multi-dimensional arrays.")
            t, axis = A.reshape(t, (-1,)), 0
        res = getattr(np, "cumsum" if name == "sum" else "cumprod")(t, axis=axis, dtype=dtype)
        if include_initial:
            shape = list(res.shape)
            shape[axis] = 1
            first = _factories.full(tuple(shape), 0 if name == "sum" else 1, dtype=res._data.dtype)
            res = A.cat([first, res], axis)
        return res
    return handler


for _name in ("sum", "prod"):
    if hasattr(np, f"cumulative_{_name}"):
        implements(getattr(np, f"cumulative_{_name}"))(_cumulative(_name))
