"""The few NumPy entry points that no dispatch protocol reaches, over gradkit tensors.

``array``/``asarray``/... of sequences holding tensors, the ``r_``/``c_`` index tricks and
``isscalar``. Each one is NumPy's own object when no tensor is involved.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as _np

import gradkit as _gk
from gradkit import Tensor

from ._generate import build, cast, has_tensor, np_dtype, wrap

_SEQ = (list, tuple)


def _array_like(name: str, copy_default: Any) -> Callable[..., Any]:
    func = getattr(_np, name)

    def tensor_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        obj = args[0] if args else kwargs.pop("a", kwargs.pop("object", None))
        rest = list(args[1:])
        dtype = rest.pop(0) if rest else kwargs.pop("dtype", None)
        copy = kwargs.pop("copy", copy_default)
        ndmin = kwargs.pop("ndmin", 0)
        return build(obj, dtype=dtype, copy=copy if copy is not None else False, ndmin=ndmin)

    return wrap(func, name, tensor_call)


def _isscalar(element: Any) -> bool:
    # a 0-d tensor is a scalar (as a traced scalar is in JAX and autograd)
    if isinstance(element, Tensor):
        return element.ndim == 0
    return _np.isscalar(element)


def _value_dtype(x: Any) -> Any:
    if isinstance(x, Tensor):
        return _np.dtype(x.dtype.np)
    return _np.asarray(x).dtype


def _as_tensor(x: Any, dtype: _np.dtype) -> Tensor:
    if isinstance(x, Tensor):
        return cast(x, dtype)
    return _gk.as_tensor(_np.asarray(x, dtype=dtype))


class AxisConcatenator:
    """NumPy's ``r_``/``c_`` (``numpy.lib.index_tricks.AxisConcatenator``) over tensors.

    Without tensors in the index it is NumPy's own object's result; with tensors, NumPy's
    algorithm (slices, scalars, ``'r'``/``'c'``/``'axis,ndmin,trans1d'`` directives) with
    ``gradkit.cat``, so the result is on the graph. ``'r'``/``'c'`` give a 2-D row/column
    tensor where NumPy gives ``np.matrix``.
    """

    def __init__(self, numpy_obj: Any, axis: int = 0, ndmin: int = 1, trans1d: int = -1) -> None:
        self._numpy = numpy_obj
        self.axis, self.ndmin, self.trans1d = axis, ndmin, trans1d

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        if not any(isinstance(v, Tensor) or (isinstance(v, _SEQ) and has_tensor(v))
                   for v in items):
            return self._numpy[key]
        trans1d, ndmin, axis = self.trans1d, self.ndmin, self.axis
        matrix = col = False
        objs: list[Any] = []
        rtypes: list[Any] = []
        for k, item in enumerate(items):
            scalar = False
            if isinstance(item, slice):
                start = 0 if item.start is None else item.start
                step = 1 if item.step is None else item.step
                if isinstance(step, (complex, _np.complexfloating)):
                    newobj: Any = _np.linspace(start, item.stop, num=int(abs(step)))
                else:
                    newobj = _np.arange(start, item.stop, step)
                if ndmin > 1:
                    newobj = _np.array(newobj, copy=None, ndmin=ndmin)
                    if trans1d != -1:
                        newobj = newobj.swapaxes(-1, trans1d)
            elif isinstance(item, str):
                if k != 0:
                    raise ValueError("special directives must be the first entry.")
                if item in ("r", "c"):
                    matrix, col = True, item == "c"
                    continue
                try:
                    if "," in item:
                        vec = item.split(",")
                        axis, ndmin = (int(x) for x in vec[:2])
                        if len(vec) == 3:
                            trans1d = int(vec[2])
                    else:
                        axis = int(item)
                except (ValueError, TypeError) as e:
                    raise ValueError(f"unknown special directive {item!r}") from e
                continue
            elif type(item) in _np.ScalarType:
                scalar = True
                newobj = item
            else:
                item_ndim = item.ndim if isinstance(item, Tensor) else _np.ndim(item)
                newobj = build(item, copy=False, ndmin=ndmin) if isinstance(item, Tensor) or (
                    isinstance(item, _SEQ) and has_tensor(item)) else \
                    _np.array(item, copy=None, subok=True, ndmin=ndmin)
                if trans1d != -1 and item_ndim < ndmin:
                    k2 = ndmin - item_ndim
                    k1 = trans1d + (k2 + 1 if trans1d < 0 else 0)
                    defaxes = list(range(ndmin))
                    axes = defaxes[:k1] + defaxes[k2:] + defaxes[k1:k2]
                    newobj = newobj.permute(axes) if isinstance(newobj, Tensor) else \
                        newobj.transpose(axes)
            objs.append(newobj)
            rtypes.append(item if scalar else _value_dtype(newobj))
        dtype = _np.result_type(*rtypes)
        parts = []
        for obj in objs:
            t = _as_tensor(obj, dtype)
            if t.ndim < ndmin:
                t = t.reshape((1,) * (ndmin - t.ndim) + tuple(t.shape))
            parts.append(t)
        res = _gk.cat(parts, axis)
        if matrix:
            res = res.reshape(1, -1) if res.ndim == 1 else res
            if col and len(objs) and res.shape[0] == 1:
                res = res.T
        return res

    def __len__(self) -> int:
        return 0


r_ = AxisConcatenator(_np.r_, 0)
c_ = AxisConcatenator(_np.c_, -1, ndmin=2, trans1d=0)

SPECIAL: dict[str, Any] = {
    "array": _array_like("array", True),
    "asarray": _array_like("asarray", None),
    "asanyarray": _array_like("asanyarray", None),
    "ascontiguousarray": _array_like("ascontiguousarray", None),
    "asfortranarray": _array_like("asfortranarray", None),
    "asarray_chkfinite": _array_like("asarray_chkfinite", None),
    "isscalar": _isscalar,
    "r_": r_,
    "c_": c_,
}

__all__ = ["SPECIAL", "AxisConcatenator", "np_dtype"]
