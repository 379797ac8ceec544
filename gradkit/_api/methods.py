"""Tensor methods, operators and indexing, attached to :class:`gradkit.Tensor` at import time.

The in-place machinery (version bumps, leaf checks, views writing through) is in
:mod:`gradkit._api.inplace`; more method variants in ``method_variants`` and
``random_sampling``.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from gradkit import _api as A
from gradkit._api import special as AM
from gradkit._core import concrete as _cc
from gradkit._core import dtype as _dtype
from gradkit._core import formats as _formats
from gradkit._core.backend import c_contiguous
from gradkit._core.creation import _fill_value
from gradkit._core.tensor import Tensor, _INFERENCE_DETACHED, _INPLACE_INFERENCE, _make
from gradkit._core.sites import bumped, mark
from gradkit._core.grad_mode import _state
from gradkit.ops import elementwise as E
from gradkit.ops import shape as S
from gradkit.ops import _registry as _R
from gradkit.ops._registry import apply, apply1, apply2
from gradkit.autograd import forward_ad as _forward_ad
from gradkit._api import lazy as _lazy  # noqa: F401  (attaches Tensor.compute, Tensor.persist)
from gradkit._api.base import _vmap_batched, _vmap_error
from gradkit._core.backend import backend_for_device
from gradkit._core.backend import device as _device
from gradkit._core.backend import placement_of
from gradkit.autograd.engine import run_backward
from gradkit.autograd._explain import grad_explain as _explain
from gradkit._api.inplace import (_check_writable, _inplace, _make_inplace, _nograd_view_error,
                                  _refuse_batched_write,
                                  _overlapping, _refuse_conj_copy, _write_through, copy_, fill_,
                                  squeeze_, swapaxes_, swapdims_, t_, transpose_, unsqueeze_, zero_)


# --- indexing ---------------------------------------------------------------------
def _convert_index(index: Any) -> Any:
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for i in items:
        if isinstance(i, Tensor):
            arr = i._data
            if arr.dtype.kind == "b" and _vmap_batched(i):
                raise _vmap_error("vmap: We do not support batching operators that can support "
                                  "dynamic shape. Attempting to batch over indexing with a "
                                  "boolean mask.")
            if arr.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr.item() if arr.ndim == 0 and arr.dtype.kind in "iu" else arr)
        elif isinstance(i, list):
            arr = np.asarray([j._data if isinstance(j, Tensor) else j for j in i])
            if arr.size == 0 and arr.dtype.kind == "f":
                arr = arr.astype(np.int64)           # x[[]]: no rows, as PyTorch and NumPy
            if arr.dtype.kind in "fV":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr)
        elif isinstance(i, np.ndarray):
            out.append(i)
        elif isinstance(i, (float, str)):
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                             "byte Variables are valid indices (got %s)" % type(i).__name__)
        else:
            out.append(i)
    return tuple(out) if isinstance(index, tuple) or len(out) != 1 else out[0]


def _basic_variant(index: Any) -> int:
    items = index if isinstance(index, tuple) else (index,)
    variant = S.GI_ALIAS
    for i in items:
        if i is None:
            variant = S.GI_UNSQUEEZE
        elif isinstance(i, slice):
            if i != slice(None):
                variant = S.SLICE
        elif i is not Ellipsis:
            variant = S.SELECT
    return variant


def _check_bounds(shape: tuple[int, ...], index: Any) -> None:
    items = index if isinstance(index, tuple) else (index,)
    dim = 0
    for i in items:
        if i is None:
            continue
        if i is Ellipsis:
            dim = len(shape) - sum(1 for j in items if j is not None and j is not Ellipsis)
            continue
        if dim >= len(shape):
            raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
        if isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            if not -shape[dim] <= i < shape[dim]:
                raise IndexError(f"index {i} is out of bounds for dimension {dim} with size "
                                 f"{shape[dim]}")
        dim += 1


def __getitem__(self: Tensor, index: Any) -> Tensor:
    idx = _convert_index(index)
    if S._is_basic(idx):
        _check_bounds(self._data.shape, idx)
        variant = _basic_variant(idx)
        # NOTE: a trailing Ellipsis keeps NumPy returning a view (not a scalar) for x[0], so
        # basic indexing shares memory with the base as in PyTorch.
        items = idx if isinstance(idx, tuple) else (idx,)
        if not any(i is Ellipsis for i in items):
            idx = items + (Ellipsis,)
        return A._view_op(self, S.getitem_p.prim, {"index": idx}, variant)
    try:
        return apply(S.getitem_p.prim, (self,), {"index": idx}, S.INDEX)
    except IndexError as exc:
        raise IndexError(str(exc).replace("axis", "dimension")) from None


def __setitem__(self: Tensor, index: Any, value: Any) -> None:
    if _R._fw_on and (self._fw or isinstance(value, Tensor) and value._fw):
        return _forward_ad._setitem_dual(self, index, value, _setitem, _convert_index)
    try:
        _setitem(self, index, value)
    except ValueError as exc:
        if "could not broadcast" in str(exc):      # PyTorch's messages, not NumPy's
            target = self._data[_convert_index(index)].shape
            A.expand(A.as_tensor_arg(value), target)
        elif "could not be broadcast to indexing result" in str(exc):
            target = self._data[_convert_index(index)].shape
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(value))} "
                               f"cannot be broadcast to indexing result of shape {list(target)}"
                               ) from None
        raise


def _setitem(self: Tensor, index: Any, value: Any) -> None:
    _refuse_conj_copy(self)
    _refuse_batched_write(self, value, copy=True)
    if self._vc is _INFERENCE_DETACHED and not _state.inference:
        raise RuntimeError(_INPLACE_INFERENCE)     # PyTorch writes through a view: refused
    if isinstance(value, Tensor) and value._data.dtype != self._data.dtype and _is_index_put(index):
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{A._scalar_name(self.dtype)} for the destination and "
                           f"{A._scalar_name(value.dtype)} for the source.")
    idx = _convert_index(index)
    basic = S._is_basic(idx)
    if basic:
        _check_bounds(self._data.shape, idx)
    if type(value) in (int, float) and (self._data.dtype.kind in "iu"
                                        or self._data.dtype == np.float32):
        value = _fill_value(value, self._data.dtype)    # PyTorch's overflow error, not a wrap
    vrg = isinstance(value, Tensor) and value._rg
    recording = _state.grad_enabled and (self._rg or vrg or (
        self._base is not None and self._base._rg))
    if not recording:
        _check_writable(self, fill=not basic or not _overlapping(self._data[idx]))
        self._data[idx] = value._data if isinstance(value, Tensor) else value
        self._vc[0] += 1
        bumped(self, "__setitem__")
        return
    if "_nograd_view" in self.__dict__ and self._base is not None:
        # NOTE: PyTorch writes through a view of this view for a basic index (named in its
        # message), straight into it otherwise.
        raise _nograd_view_error(
            self, S.getitem_p.prim.node_classes[_basic_variant(idx)].__name__ if basic else None)
    if self._rg and self._fn is None:
        # NOTE: PyTorch writes through a view of the leaf, hence its wording.
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    val = value if isinstance(value, Tensor) else A.as_tensor_arg(value)
    if val.dtype is not self.dtype:
        val = val.to(self.dtype)
    _inplace(self, _index_put, val, index=idx, variant=0 if basic else 1, _name="__setitem__")


def _is_mask(i: Any) -> bool:
    if isinstance(i, (Tensor, np.ndarray)):
        return i.ndim > 0 and i.dtype == bool
    return isinstance(i, list) and len(i) > 0 and all(type(e) is bool for e in i)


def _is_index_put(index: Any) -> bool:
    """Whether PyTorch's ``t[index] = tensor`` runs ``index_put_`` (which wants the value in
    ``t``'s dtype): an advanced index other than one boolean mask (that one is ``masked_fill``).
    A 0-d integer tensor is a plain int; a 0-d boolean one is advanced."""
    items = index if isinstance(index, tuple) else (index,)
    adv = [i for i in items if isinstance(i, (list, np.ndarray)) or isinstance(i, Tensor)
           and not (i.ndim == 0 and i._data.dtype.kind in "iu")]
    return bool(adv) and not (len(adv) == 1 and _is_mask(adv[0]))


def _index_put(x: Tensor, value: Tensor, index: Any, variant: int) -> Tensor:
    return apply(S.index_put_p.prim, (x, value), {"index": index}, variant)


# --- conversions ---------------------------------------------------------------------
def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Convert dtype and/or device (``to(gk.float64)``, ``to(other)``, ``to('cuda')``,
    ``to('cpu', gk.float32)``); returns self if nothing changes. Device copies are recorded
    (``ToCopyBackward0``): the gradient goes back to the source device."""
    unknown = set(kwargs) - {"dtype", "copy", "device", "non_blocking", "memory_format"}
    if unknown:
        # NOTE: PyTorch refuses to(requires_grad=True) too (it used to be ignored silently here)
        # PyTorch lists what it got: positional types, then the keywords (the unknown ones
        # first) as name=type, with a trailing ", " where there is no positional argument
        names = [k for k in kwargs if k in unknown] + [k for k in kwargs if k not in unknown]
        got = [type(a).__name__ for a in args] + [f"{k}={type(kwargs[k]).__name__}" for k in names]
        got_text = ", ".join(got) + ("" if args else ", ")
        raise TypeError(f"to() received an invalid combination of arguments - got "
                        f"({got_text}), but expected one of:\n"
                        " * (torch.device device = None, torch.dtype dtype = None, bool "
                        "non_blocking = False, bool copy = False, *, torch.memory_format "
                        "memory_format = None)\n"
                        " * (torch.dtype dtype, bool non_blocking = False, bool copy = False, *, "
                        "torch.memory_format memory_format = None)\n"
                        " * (Tensor tensor, bool non_blocking = False, bool copy = False, *, "
                        "torch.memory_format memory_format = None)\n")
    fmt = _formats.check(kwargs.get("memory_format"))
    if fmt in _formats.CHANNELS_LAST:
        return _lay_out(to(self, *args, **{k: v for k, v in kwargs.items()
                                            if k != "memory_format"}), fmt)
    if fmt is _formats.contiguous_format:        # back to C order (a copy only if needed)
        return contiguous(to(self, *args, **{k: v for k, v in kwargs.items() if k != "memory_format"}))
    dtype = kwargs.get("dtype")
    copy = kwargs.get("copy", False)
    device = kwargs.get("device")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
            device = a.device
        elif isinstance(a, (_dtype.dtype, type)) or (isinstance(a, str) and not _is_device(a)):
            dtype = a
        elif isinstance(a, np.dtype):
            dtype = a
        else:
            device = a
    out = self
    if device is not None:
        out = _to_device(self, device)
        if out is not self:
            copy = False
    if dtype is None:
        return A.clone(out) if copy else out
    target = _dtype.as_dtype(dtype)
    if target.np == out._data.dtype and not copy:
        return out
    if target.np.kind not in "fcV":
        res = _make(_dtype.astype(out._data, target.np), False, None)
        if type(out) is not Tensor and getattr(type(out), "_vmap_example", False):
            res.__class__ = type(out)       # vmap's per-example loop: still the example's
        if out._rg:
            mark(res, "cast", f"to({target.name})", out)
        elif out._why is not None:
            res._why = out._why
        return res
    return S.to_p(out, dtype=target.np)


def _to_device(self: Tensor, device: Any) -> Tensor:
    dev = device if isinstance(device, _device) else _device(device)
    backend, index = backend_for_device(dev)
    source = placement_of(self._data)
    if backend is None:
        if source[0] is None or source[0].lazy:
            return self                     # NOTE: a Dask-backed tensor is on the CPU already
        target = (None, None)
    else:
        target = (backend, index if index is not None else (source[1] or 0)
                  if source[0] is backend else index)
        if source == target or (source[0] is backend and index is None):
            return self
    return apply(S.to_device_p.prim, (self,), {"target": target, "source": source})


def _is_device(s: str) -> bool:
    return s.split(":")[0] in ("cpu", "cuda", "mps", "meta", "xla")


def _caster(d: _dtype.dtype) -> Callable[[Tensor], Tensor]:
    def cast(self: Tensor, memory_format: Any = None) -> Tensor:
        return self.to(d)           # a batched tensor's own to() (vmap) where it has one
    cast.__name__ = d.name
    return cast


def bfloat16(self: Tensor, memory_format: Any = None) -> Tensor:
    """This tensor in bfloat16 (``to(torch.bfloat16)``); needs ml_dtypes (an optional extra)."""
    return to(self, _dtype.load_bfloat16())


def type_(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    if dtype is None:
        # NOTE: PyTorch's text, as dtypes print ('torch.meta.FloatTensor' off the CPU)
        kind = self.device.type
        return f"torch.{self.dtype._legacy}" if kind == "cpu" else f"torch.{kind}.{self.dtype._legacy}"
    if isinstance(dtype, str):
        for d in _dtype._ALL:
            if dtype in (f"torch.{d._legacy}", f"gradkit.{d._legacy}"):
                return to(self, d)
    return to(self, dtype)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    return to(self, other.dtype)


def _lay_out(self: Tensor, memory_format: Any) -> Tensor:
    """``self`` laid out in memory as a channels-last ``memory_format`` asks (PyTorch's
    strides, same values); ``self`` when it is already. The copy is a permute, a contiguous
    copy and the inverse permute, so its gradient is the identity as for ``contiguous()``."""
    order = _formats.order_of(memory_format, self.ndim)
    if order is None or _formats.is_laid_out(self._data, order):
        return self
    inverse = tuple(int(i) for i in np.argsort(order))
    return A.permute(contiguous(A.permute(self, order)), inverse)


def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    """A C-contiguous tensor with the same values (``self`` if it is one already); with
    ``memory_format=gk.channels_last`` (``channels_last_3d``) one laid out NHWC (NDHWC)."""
    if _formats.check(memory_format) in _formats.CHANNELS_LAST:
        return _lay_out(self, memory_format)
    if c_contiguous(self._data):
        return self
    if self._rg:
        return apply(S.clone_p.prim, (self,), {"contiguous": True})
    d = self._data
    return _make(np.ascontiguousarray(d) if type(d) is np.ndarray else d.copy(), False, None)


def backward(self: Tensor, gradient: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """Compute the gradient of this tensor with respect to the graph's leaves.

    Gradients accumulate into ``.grad`` of every leaf that requires grad (or
    of ``inputs`` only). A non-scalar tensor needs ``gradient``, the vector
    of the vector-Jacobian product. The graph's saved values are freed
    unless ``retain_graph=True``.
    """
    run_backward([self], None if gradient is None else [gradient], retain_graph, create_graph,
                 inputs=inputs)


def grad_explain(self: Tensor) -> Any:
    """Why this tensor's gradient from the last ``backward()`` is None, zero or NaN.

    See :func:`gradkit.autograd.explain`; the graph must still hold its saved values
    (``retain_graph=True``) for the NaN/zero analysis to name the operation.
    """
    return _explain(self)


def __array__(self: Tensor, dtype: Any = None, copy: Any = None) -> np.ndarray:
    if dtype is not None and np.dtype(dtype).kind in "biu":
        # NOTE: an explicit cast to integers or booleans (np.int64(t), np.asarray(t, dtype=int))
        # carries no gradient, as t.long() in PyTorch: nothing is dropped, so it is allowed
        return _int_array(self, dtype, copy)
    if _cc._local.depth:
        _cc.check(self, "np.asarray() (NumPy converting the tensor to an ndarray)")
    if self._rg and _state.grad_enabled:
        # NOTE: PyTorch's first sentence; its advice (.detach().numpy()) would kill the gradient
        # of the common case, np.array([t1, t2]), so the advice here keeps it
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. NumPy is converting "
                           "it to an ndarray (np.array/np.asarray/np.zeros-and-assign), which "
                           "would drop its gradient: build arrays from tensors with "
                           "np.stack([...]) or gradkit.stack([...]) instead of np.array([...]), "
                           "and call NumPy functions on the tensor itself. Only if no gradient "
                           "should flow through it, pass tensor.detach().")
    arr = self._data
    if type(arr) is not np.ndarray:
        arr = self.numpy(force=False) if not self._rg else self.detach().numpy()
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return arr.copy() if copy else arr


def _int_array(self: Tensor, dtype: Any, copy: Any) -> np.ndarray:
    arr = self._data if type(self._data) is np.ndarray else self.detach().numpy()
    return arr.astype(dtype, copy=bool(copy) or arr.dtype != np.dtype(dtype))


# --- operators -----------------------------------------------------------------------
def _rev(fn: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    def method(self: Tensor, other: Any) -> Tensor:
        return fn(A._t(other) if not isinstance(other, Tensor) else other, self)
    return method


def _no_out(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """The method form of a function that takes ``out=`` (or any keyword): PyTorch's Tensor
    methods take no ``out=``, ``x.mul(y, out=z)`` is a TypeError in PyTorch's words, while
    ``gk.mul(x, y, out=z)`` keeps it."""
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.name != "out"]
    # NOTE: PyTorch's unary methods (one signature, no other arguments) say it their way
    lone = len(params) == 1 and params[0].kind is not inspect.Parameter.VAR_POSITIONAL
    msg = (f"Tensor.{name}() takes no keyword arguments" if lone else
           f"{name}() got an unexpected keyword argument 'out'")

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        if "out" in kwargs:
            raise TypeError(msg)
        return fn(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = fn.__doc__
    method.__wrapped__ = fn  # type: ignore[attr-defined]
    method.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    return method


def _takes_out(fn: Any) -> bool:
    try:
        ps = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "out" or p.kind is inspect.Parameter.VAR_KEYWORD for p in ps)


def _guard(fn: Callable[[Tensor, Any], Any]) -> Callable[[Tensor, Any], Any]:
    def method(self: Tensor, other: Any) -> Any:
        if other is None or not isinstance(other, (Tensor, int, float, bool, complex,
                                                    np.ndarray, np.generic, list, tuple)):
            return NotImplemented
        return fn(self, other)
    return method


_SCALARS = (float, int, bool)


def _fast(prim_fn: Any, slow: Callable[[Tensor, Any], Any]) -> Callable[[Tensor, Any], Any]:
    """Operator for Tensor (op) Tensor/number that goes straight to the table's fast path."""
    prim = prim_fn.prim
    slow = _guard(slow)

    def method(self: Tensor, other: Any) -> Any:
        if isinstance(other, Tensor) or type(other) in _SCALARS:
            try:
                return apply2(prim, self, other)
            except OverflowError:                  # uint8 + -3 wraps around, as in PyTorch
                return apply2(prim, self, A._wrap_int(self, other))
        return slow(self, other)
    return method


def _sub_op(self: Tensor, other: Any) -> Any:
    if self._data.dtype.kind == "b" or (isinstance(other, Tensor) and other._data.dtype.kind == "b") \
            or type(other) is bool:
        A._check_sub_bool(self, other)
    return _sub_fast(self, other)


def _rsub_op(self: Tensor, other: Any) -> Any:
    if self._data.dtype.kind == "b" or type(other) is bool:
        A._check_sub_bool(self, other)
    if type(other) in _SCALARS:
        return apply1(E.rsub.prim, self, {"other": other})
    return _guard(lambda s, o: A.rsub(s, o))(self, other)


def _rdiv_op(self: Tensor, other: Any) -> Any:
    if type(other) in _SCALARS:
        return apply2(E.mul.prim, apply1(E.reciprocal.prim, self), other)
    return _guard(lambda s, o: A.div(o, s))(self, other)


def _pow_op(self: Tensor, other: Any) -> Any:
    if type(other) in _SCALARS and self._data.dtype.kind in "fcV":
        return apply1(E.pow_scalar.prim, self, {"exponent": other})
    return _guard(A.pow)(self, other)


def _eq(self: Tensor, other: Any) -> Any:
    if other is None:
        return False
    return _guard(A.eq)(self, other)


def _ne(self: Tensor, other: Any) -> Any:
    if other is None:
        return True
    return _guard(A.ne)(self, other)


def _invert(self: Tensor) -> Tensor:
    return A.logical_not(self) if self._data.dtype == np.bool_ else A.bitwise_not(self)


_sub_fast = _fast(E.sub, A.sub)


def _flip(self: Tensor, *dims: Any) -> Tensor:
    """``flip(0, 1)`` or ``flip((0, 1))``."""
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = dims[0]
    return A.flip(self, dims)


def _index_add_m(self: Tensor, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
    return AM.index_add(self, dim, index, source, alpha=alpha)


def _polygamma_m(self: Tensor, n: int) -> Tensor:
    return AM.polygamma(n, self)


def _attach() -> None:
    T = Tensor
    methods: dict[str, Any] = {
        "__getitem__": __getitem__, "__setitem__": __setitem__, "backward": backward,
        "__array__": __array__, "to": to, "type": type_, "type_as": type_as,
        "contiguous": contiguous, "zero_": zero_, "fill_": fill_,
        "copy_": copy_, "grad_explain": grad_explain, "unsqueeze_": unsqueeze_,
        "squeeze_": squeeze_, "t_": t_, "transpose_": transpose_, "swapdims_": swapdims_,
        "swapaxes_": swapaxes_,
        "__add__": _fast(E.add, A.add), "__radd__": _fast(E.add, A.add),
        "__sub__": _sub_op, "__rsub__": _rsub_op, "__mul__": _fast(E.mul, A.mul),
        "__rmul__": _fast(E.mul, A.mul), "__truediv__": _fast(E.div, A.div),
        "__rtruediv__": _rdiv_op, "__floordiv__": _guard(A.floor_divide),
        "__rfloordiv__": _guard(_rev(A.floor_divide)), "__mod__": _guard(A.remainder),
        "__rmod__": _guard(_rev(A.remainder)), "__pow__": _pow_op,
        "__rpow__": _guard(lambda s, o: A.pow(o, s)), "__matmul__": _guard(A.matmul),
        "__rmatmul__": _guard(_rev(A.matmul)), "__neg__": A.neg, "__pos__": A.positive,
        "__abs__": A.abs, "__invert__": _invert, "__eq__": _eq, "__ne__": _ne,
        "__lt__": _guard(A.lt), "__le__": _guard(A.le), "__gt__": _guard(A.gt),
        "__ge__": _guard(A.ge), "__and__": _guard(A.bitwise_and),
        "__rand__": _guard(A.bitwise_and), "__or__": _guard(A.bitwise_or),
        "__ror__": _guard(A.bitwise_or), "__xor__": _guard(A.bitwise_xor),
        "__rxor__": _guard(A.bitwise_xor), "__lshift__": _guard(A.bitwise_left_shift),
        "__rlshift__": _guard(_rev(A.bitwise_left_shift)), "__rshift__": _guard(A.bitwise_right_shift),
        "__rrshift__": _guard(_rev(A.bitwise_right_shift)),
    }
    for name, d in (("float", _dtype.float32), ("double", _dtype.float64),
                    ("half", _dtype.float16), ("long", _dtype.int64), ("int", _dtype.int32),
                    ("short", _dtype.int16), ("char", _dtype.int8), ("byte", _dtype.uint8),
                    ("bool", _dtype.bool), ("cfloat", _dtype.complex64),
                    ("cdouble", _dtype.complex128)):
        methods[name] = _caster(d)
    methods["bfloat16"] = bfloat16
    plain = [
        "neg", "negative", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
        "rsqrt", "square", "abs", "absolute", "sign", "sgn", "sin", "cos", "tan", "asin",
        "arcsin", "acos", "arccos", "atan", "arctan", "sinh", "cosh", "tanh", "asinh", "arcsinh",
        "acosh", "arccosh", "atanh", "arctanh", "sigmoid", "logit", "relu", "erf", "reciprocal",
        "floor", "ceil", "round", "trunc", "fix", "frac", "isnan", "isinf", "isfinite",
        "signbit", "logical_not", "bitwise_not", "add", "sub", "subtract", "mul", "multiply",
        "div", "divide", "true_divide", "floor_divide", "remainder", "fmod", "pow",
        "float_power", "maximum", "minimum", "logaddexp", "hypot", "atan2", "arctan2", "eq",
        "ne", "lt", "le", "gt", "ge", "not_equal", "less", "less_equal", "greater",
        "greater_equal", "logical_and", "logical_or", "logical_xor", "bitwise_and",
        "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "gcd", "lcm",
        "clamp", "clip", "clamp_min", "clamp_max",
        "sum", "nansum", "mean", "prod", "max", "min", "amax", "amin", "median", "argmax",
        "argmin", "all", "any", "logsumexp", "var", "std", "norm", "dist", "cumsum", "cumprod",
        "reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "permute",
        "transpose", "swapaxes", "swapdims", "t", "movedim", "moveaxis", "expand",
        "broadcast_to", "expand_as", "repeat", "tile", "repeat_interleave", "flip", "fliplr",
        "flipud", "roll", "rot90", "split", "chunk", "tensor_split", "unbind", "narrow",
        "split_with_sizes", "hsplit", "vsplit", "dsplit",
        "index_select", "gather", "scatter", "scatter_add", "masked_fill", "masked_select",
        "take", "take_along_dim", "nonzero", "nonzero_static", "argwhere", "tril", "triu", "diagonal", "diag",
        "diag_embed", "trace", "clone", "sort", "argsort", "topk", "matmul", "mm", "bmm", "mv",
        "dot", "inner", "vdot", "outer", "ger", "kron", "isclose", "allclose", "equal",
        "var_mean", "std_mean", "rsub", "positive", "kthvalue", "cummax", "cummin", "unique",
        "quantile", "nanquantile", "nanmedian", "mode",
        "unique_consecutive", "cov", "corrcoef",
    ]
    for name in plain:
        methods[name] = getattr(A, name)
    inplace = [
        "neg", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
        "square", "abs", "sign", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
        "tanh", "asinh", "acosh", "atanh", "sigmoid", "logit", "relu", "erf", "reciprocal",
        "floor", "ceil", "round", "trunc", "frac", "add", "sub", "mul", "div", "floor_divide",
        "remainder", "fmod", "pow", "maximum", "minimum", "atan2", "clamp", "clip", "clamp_min",
        "clamp_max", "masked_fill", "scatter", "scatter_add", "tril", "triu", "hypot",
        "logaddexp", "subtract", "multiply", "divide",
        "true_divide", "lerp", "bitwise_left_shift", "bitwise_right_shift", "gcd", "lcm",
    ]
    for name in inplace:
        if hasattr(A, name):
            methods[name + "_"] = _make_inplace(getattr(A, name))
    more = ["erfc", "erfinv", "lgamma", "digamma", "sinc", "deg2rad", "rad2deg", "nan_to_num",
            "lerp", "addcmul", "addcdiv", "fmax", "fmin", "xlogy", "copysign", "heaviside",
            "logaddexp2", "logcumsumexp", "count_nonzero", "aminmax", "nanmean"]
    for name in more:
        methods[name] = getattr(AM, name)
    for name in ("erfc", "erfinv", "lgamma", "digamma", "sinc", "deg2rad", "rad2deg",
                 "nan_to_num", "lerp", "addcmul", "addcdiv", "xlogy", "copysign", "heaviside"):
        methods[name + "_"] = _make_inplace(getattr(AM, name))
    methods["index_add"] = _index_add_m
    methods["index_add_"] = _make_inplace(_index_add_m)
    methods["index_add_"].__name__ = "index_add_"
    methods["polygamma"] = _polygamma_m
    methods["polygamma_"] = _make_inplace(_polygamma_m)
    methods["flip"] = _flip
    for name in plain + more + ["index_add", "polygamma"]:
        if name not in ("flip",) and _takes_out(methods[name]):
            methods[name] = _no_out(methods[name], name)
    for op, name in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "div"),
                     ("floordiv", "floor_divide"), ("mod", "remainder"), ("pow", "pow"),
                     ("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor"),
                     ("lshift", "bitwise_left_shift"), ("rshift", "bitwise_right_shift")):
        methods[f"__i{op}__"] = _make_inplace(getattr(A, name))
    for name, fn in methods.items():
        setattr(T, name, fn)
    T.T = property(lambda self: A.permute(self, tuple(range(self.ndim - 1, -1, -1)))
                   if self.ndim >= 2 else self)
    T.mT = property(lambda self: A.transpose(self, -2, -1))
    T.H = T.T
    T.mH = T.mT
    T.view_as = lambda self, other: A.view(self, tuple(other.shape))
    # NOTE: Tensor.where(condition, other) is where(condition, self, other), as in PyTorch.
    T.where = lambda self, condition, other: A.where(condition, self, other)
    T.reshape_as = lambda self, other: A.reshape(self, tuple(other.shape))
    T.ndimension = lambda self: self._data.ndim
    T.apply_ = None


_attach()
del Tensor.apply_


def as_subclass(self: Tensor, cls: type) -> Tensor:
    """``self`` as an instance of the Tensor subclass ``cls``: the same data, and (as in
    PyTorch) attached to the graph through an alias (``grad_fn=<AliasBackward0>``) when
    ``self`` requires grad."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError("Creating a Tensor subclass from a class that does not inherit from "
                        "Tensor is not possible. Make sure your class inherits from Tensor.")
    out = A._view_op(self, S.reshape_p.prim, {"shape": tuple(self._data.shape)}, S.ALIAS)
    if type(out) is not cls:
        try:
            out.__class__ = cls
        except TypeError:            # a subclass with its own __slots__: a new object
            new = object.__new__(cls)
            for slot in ("_data", "_rg", "_fn", "_vc"):
                setattr(new, slot, getattr(out, slot))
            new.__dict__.update(out.__dict__)
            out = new
    return out


Tensor.as_subclass = as_subclass  # type: ignore[attr-defined]
# NOTE: forward mode (floor 2) writes tangents through views and indices with these helpers.
_forward_ad.SURFACE.update(write_through=_write_through)
