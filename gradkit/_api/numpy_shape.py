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
