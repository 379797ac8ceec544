"""Tensor methods, operators, indexing and in-place operations.

Attached to :class:`gradkit.Tensor` at import time. In-place operations
compute out of place through the derivative table and then write the result
into the tensor's memory, bump its version and take over the new history, so
autograd sees them exactly as PyTorch does.
"""

from __future__ import annotations

import re
import weakref
from typing import Any, Callable

import numpy as np

from gradkit import _api as A
from gradkit._api import special as AM
from gradkit._core import concrete as _cc
from gradkit._core import dtype as _dtype
from gradkit._core.backend import c_contiguous, immutable
from gradkit._core.creation import _fill_value
from gradkit._core.tensor import Tensor, _make
from gradkit._core.sites import bumped, mark
from gradkit._core.grad_mode import _state
from gradkit.ops import elementwise as E
from gradkit.ops import shape as S
from gradkit.ops._registry import REGISTRY, apply, apply1, apply2
from gradkit.autograd import forward_ad as _forward_ad
from gradkit._api import lazy as _lazy  # noqa: F401  (attaches Tensor.compute, Tensor.persist)
from gradkit._core.backend import backend_for_device
from gradkit._core.backend import device as _device
from gradkit._core.backend import placement_of
from gradkit._core.creation import tensor
from gradkit._core.creation import _gen
from gradkit.autograd.engine import run_backward
from gradkit.autograd._explain import grad_explain as _explain
from gradkit._core import creation as F

_LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."


# --- in-place machinery -------------------------------------------------------------
def _check_inplace(self: Tensor) -> None:
    if not _state.grad_enabled:
        return
    if self._rg and self._fn is None:
        raise RuntimeError(_LEAF_INPLACE)
    refused = self.__dict__.get("_inplace_refused")   # a custom Function's output returned as-is
    if refused is not None:
        raise RuntimeError(refused)
    base = self._base
    if base is not None and base._rg and base._fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def _refuse_conj_copy(self: Tensor) -> None:
    """PyTorch's ``conj()`` is a view: writing to it writes the input. gradkit's is a copy,
    which such a write would not reach, so it is refused rather than silently lost."""
    if self._conj_copy or (self._base is not None and self._base._conj_copy):
        raise RuntimeError(
            "an in-place change of the result of conj() (or .mH/.H/.adjoint() of a complex "
            "tensor) would not reach its input: PyTorch's conj() is a view of the input, "
            "gradkit's is a copy. Change the input instead, or call .resolve_conj() (or "
            ".clone()) first to get a tensor of your own.")


class _WRITEABLE:
    writeable = True


_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")


def _alias(self: Tensor) -> Tensor:
    """A snapshot of ``self`` with its history, safe to save while ``self`` is overwritten."""
    t = _make(self._data.copy(), self._rg, self._fn)
    t._oi = self._oi
    if self._fw:                # forward mode: the snapshot keeps the tangents the op reads
        from gradkit.autograd.forward_ad import _set
        for level, tangent in self._fw.items():
            _set(t, level, tangent)
    return t


def _commit(self: Tensor, out: Tensor, name: str = "in-place op") -> Tensor:
    """Write ``out`` into ``self``'s memory, bump the version and adopt ``out``'s history."""
    src = out._data
    if src.shape != self._data.shape:
        try:
            np.broadcast_to(src, self._data.shape)
        except ValueError:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                               f"broadcast shape {list(src.shape)}") from None
    if self._data.dtype.kind in "iub" and src.dtype.kind in "fc" or (
            self._data.dtype.kind == "b" and src.dtype.kind in "iu"):
        names = {np.dtype(k): v for k, v in
                 (("float32", "Float"), ("float64", "Double"), ("float16", "Half"),
                  ("int64", "Long"), ("int32", "Int"), ("int16", "Short"), ("int8", "Char"),
                  ("uint8", "Byte"), ("bool", "Bool"))}
        raise RuntimeError(f"result type {names.get(src.dtype, src.dtype)} can't be cast to the "
                           f"desired output type {names.get(self._data.dtype, self._data.dtype)}")
    if immutable(self._data):
        # NOTE: a Dask array is a value: the tensor takes the new one (tensors that shared the
        # old array, like a detach(), keep the old values).
        self._data = np.broadcast_to(src, self._data.shape).astype(self._data.dtype)
    else:
        if not getattr(self._data, "flags", _WRITEABLE).writeable:
            raise RuntimeError(_OVERLAP)
        np.copyto(self._data, src, casting="unsafe")
    self._vc[0] += 1
    if _state.record_sites:
        bumped(self, name, 5)
    node = out._fn
    if node is not None:
        if _state.record_sites:
            node.inplace = name
            if getattr(node, "site", None) is None:     # linear ops record no site of their own
                from gradkit._core.sites import site
                node.site = site(3)
        self._fn, self._oi, self._rg = node, out._oi, True
        if getattr(node, "ans_vc", None) is not None:
            node.ans_vc = self._vc
            node.ans_v = self._vc[0]
        if "_views" in self.__dict__:
            _refresh_views(self)
    return self


def _inplace(self: Tensor, fn: Callable[..., Tensor], *args: Any, _name: str = "in-place op",
             **kwargs: Any) -> Tensor:
    _refuse_conj_copy(self)
    recording = _state.grad_enabled and (
        self._rg or any(isinstance(a, Tensor) and a._rg for a in args))
    base = self._base
    if self._multi and _state.grad_enabled and (recording or base._rg):
        raise _multi_view_error(self)
    _check_inplace(self)
    if base is not None and _state.grad_enabled and (recording or base._rg):
        return _inplace_view(self, base, fn, args, kwargs, _name)
    src = _alias(self) if recording else _make(self._data, False, None)
    with _no_record(not recording):
        out = fn(src, *args, **kwargs)
    return _commit(self, out, _name)


_MULTI_VIEW = ("This view is the output of a function that returns multiple views. Such "
               "functions do not allow the output views to be modified inplace. You should "
               "replace the inplace operation by an out-of-place one.")


def _multi_view_error(view: Tensor) -> RuntimeError:
    """PyTorch's refusal of an in-place change of an output of ``split``/``unbind``/``chunk``."""
    if view._fn is None:
        return RuntimeError("A view was created in no_grad mode and is being modified inplace "
                            "with grad mode enabled. " + _MULTI_VIEW)
    name = re.sub(r"Backward\d*$", "", view._fn.name())
    return RuntimeError(f"Output {view._oi} of {name} is a view and is being modified inplace. "
                        + _MULTI_VIEW)


def _refresh_views(base: Tensor, skip: Tensor | None = None) -> None:
    """Give every live view of ``base`` the history of a fresh view of its new value.

    After an in-place change of ``base`` (directly or through one of its views) the views
    taken before still see the new values, so their gradient must flow through the new
    history (PyTorch regenerates a view's ``grad_fn`` when its base's version changed).
    """
    views = base.__dict__.get("_views")
    if not views or immutable(base._data):
        return                  # a Dask base takes a new array: its old views keep old values
    for ref in list(views):
        v = ref()
        if v is None or v is skip or v._base is not base:
            continue
        _follow(v, v._view_fn(base))


def _follow(view: Tensor, fresh: Tensor) -> None:
    """``view`` takes the history of ``fresh`` (a new view of its changed base); a
    ``retain_grad()`` moves with it, as in PyTorch (tensor hooks stay with the old history)."""
    view._fn, view._rg = fresh._fn, fresh._rg
    if fresh._fn is not None:
        view._oi = fresh._oi
        if view._retain:
            fresh._fn._retain_output(fresh._oi, weakref.ref(view))


def _inplace_view(view: Tensor, base: Tensor, fn: Callable[..., Tensor], args: Any,
                  kwargs: Any, name: str = "in-place op") -> Tensor:
    """An in-place change through a view, recorded on the base (PyTorch's CopySlices).

    The view's elements are located in the base by applying the view's own
    function to an array of flat positions; the base is rewritten with
    ``index_put`` at those positions and the view takes the history of a fresh
    view of the new base.
    """
    if not getattr(view._data, "flags", _WRITEABLE).writeable:
        raise RuntimeError(_OVERLAP)
    make_view = view._view_fn
    current = make_view(base)
    out = fn(_alias(current), *args, **kwargs)
    new = _write_through(_alias(base), make_view, out, current._data.dtype)
    _commit(base, new, name)
    _follow(view, make_view(base))
    return view


def _write_through(base: Tensor, make_view: Callable[[Tensor], Tensor], out: Tensor,
                   view_dtype: Any) -> Tensor:
    """``base`` with the elements that ``make_view`` selects replaced by ``out`` (differentiable).

    The view's elements are located by applying ``make_view`` to an array of flat positions.
    A real view of a complex base (``.real``, ``.imag``, ``view_as_real``) writes real parts
    (flat positions 0..n-1) and imaginary parts (n..2n-1); a complex view of a real base
    (``view_as_complex``) writes pairs of elements. Also used for forward-mode tangents.
    """
    shape, n = base._data.shape, base._data.size
    parts = base._data.dtype.kind == "c" and view_dtype.kind != "c"
    pairs = base._data.dtype.kind != "c" and view_dtype.kind == "c"
    grid = np.arange(n).reshape(shape)
    if parts:
        grid = grid + 1j * (grid + n)
    elif pairs:
        grid = grid.astype(np.float64)
    positions = make_view(_make(grid, False, None))._data
    target = view_dtype if parts or pairs else base._data.dtype
    if out._data.dtype != target:
        out = out.to(_dtype.FROM_NP[target])
    if out._data.shape != positions.shape:
        out = A.expand(out, positions.shape)
    values = A.reshape(out, (-1,))
    if parts:
        positions = positions.real.astype(np.int64)
    elif pairs:
        positions = np.concatenate([positions.real.reshape(-1), positions.imag.reshape(-1)])
        positions = positions.astype(np.int64)
        values = A.cat([A.reshape(E.real(out), (-1,)), A.reshape(E.imag(out), (-1,))])
    if parts:
        from gradkit._api.complex import complex as _complex
        flat = A.cat([A.reshape(E.real(base), (-1,)), A.reshape(E.imag(base), (-1,))])
        flat = apply(S.index_put_p.prim, (flat, values), {"index": (positions.reshape(-1),)}, 0)
        return A.reshape(_complex(flat[:n], flat[n:]), shape)
    index = np.unravel_index(positions.reshape(-1), shape)
    return apply(S.index_put_p.prim, (base, values), {"index": index}, 0)


class _no_record:
    __slots__ = ("on", "prev")

    def __init__(self, on: bool) -> None:
        self.on = on

    def __enter__(self) -> None:
        if self.on:
            self.prev = _state.grad_enabled
            _state.grad_enabled = False

    def __exit__(self, *exc: object) -> None:
        if self.on:
            _state.grad_enabled = self.prev


def _make_inplace(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    ufunc = _UFUNC_INPLACE.get(fn)

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        _refuse_conj_copy(self)
        if ufunc is not None and len(args) == 1 and not kwargs:
            other = args[0]
            if not (_state.grad_enabled and (self._rg or (isinstance(other, Tensor) and other._rg)
                                             or (self._base is not None and self._base._rg))):
                # NOTE: nothing to record (an optimizer step under no_grad): write in place
                # with NumPy, with no temporary copy; anything unusual takes the general path.
                o = other._data if isinstance(other, Tensor) else other
                try:
                    ufunc(self._data, o, out=self._data, casting="same_kind")
                except (TypeError, ValueError):
                    pass
                else:
                    self._vc[0] += 1
                    if _state.record_sites:
                        bumped(self, name)
                    return self
        return _inplace(self, fn, *args, _name=name, **kwargs)
    name = fn.__name__ + "_"
    method.__name__ = name
    method.__doc__ = f"In-place ``{fn.__name__}``: bumps the version counter, records on the graph."
    return method


_FILL = REGISTRY["fill"]
_UFUNC_INPLACE = {A.add: np.add, A.sub: np.subtract, A.mul: np.multiply, A.div: np.true_divide}


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros in place."""
    _refuse_conj_copy(self)
    if not (_state.grad_enabled and self._rg):
        self._data[...] = 0
        self._vc[0] += 1
        bumped(self, "zero_")
        return self
    zero = _make(np.zeros((), self._data.dtype), False, None)
    return _inplace(self, lambda s: apply(_FILL, (s, zero), None, 2), _name="zero_")


def fill_(self: Tensor, value: Any) -> Tensor:
    """Fill with ``value`` in place."""
    _refuse_conj_copy(self)
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.dim()} dimensions.")
    v = value.item() if isinstance(value, Tensor) and not value._rg else value
    if isinstance(v, (int, float)) and (self._data.dtype.kind in "iu"
                                        or self._data.dtype == np.float32):
        v = _fill_value(v, self._data.dtype)
    if isinstance(v, Tensor):
        return _inplace(self, lambda s, val: apply(_FILL, (s, val)), v, _name="fill_")
    if not (_state.grad_enabled and self._rg):
        self._data[...] = v
        self._vc[0] += 1
        bumped(self, "fill_")
        return self
    value = _make(np.asarray(v, self._data.dtype), False, None)
    return _inplace(self, lambda s: apply(_FILL, (s, value)), _name="fill_")


def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast to this shape) into this tensor in place."""
    _refuse_conj_copy(self)
    src = A.as_tensor_arg(src)
    if not (_state.grad_enabled and (self._rg or src._rg)):
        np.copyto(self._data, np.broadcast_to(src._data, self._data.shape), casting="unsafe")
        self._vc[0] += 1
        bumped(self, "copy_")
        return self

    try:
        np.broadcast_shapes(tuple(src.shape), tuple(self.shape))
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({self.shape[-1] if self.dim() else 1}) must match "
                           f"the size of tensor b ({src.shape[-1] if src.dim() else 1}) at "
                           "non-singleton dimension") from None
    return _inplace(self, lambda s, val: apply(_FILL, (s, val), None, 1), src, _name="copy_")


# --- indexing ---------------------------------------------------------------------
def _convert_index(index: Any) -> Any:
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for i in items:
        if isinstance(i, Tensor):
            arr = i._data
            if arr.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr.item() if arr.ndim == 0 and arr.dtype.kind in "iu" else arr)
        elif isinstance(i, list):
            arr = np.asarray([j._data if isinstance(j, Tensor) else j for j in i])
            if arr.dtype.kind == "f":
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
    _refuse_conj_copy(self)
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
        self._data[idx] = value._data if isinstance(value, Tensor) else value
        self._vc[0] += 1
        bumped(self, "__setitem__")
        return
    if self._rg and self._fn is None:
        # NOTE: PyTorch writes through a view of the leaf, hence its wording.
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    val = value if isinstance(value, Tensor) else A.as_tensor_arg(value)
    if val.dtype is not self.dtype:
        val = val.to(self.dtype)
    _inplace(self, _index_put, val, index=idx, variant=0 if basic else 1, _name="__setitem__")


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
        raise TypeError(f"to() received an invalid combination of arguments - got "
                        f"({', '.join(f'{k}=' for k in sorted(unknown))}), but expected one of: "
                        "(device, dtype, non_blocking, copy, *, memory_format), (dtype, non_blocking, "
                        "copy, *, memory_format), (tensor, non_blocking, copy, *, memory_format)")
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
    if target.np.kind not in "fc":
        res = _make(out._data.astype(target.np), False, None)
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
        return to(self, d)
    cast.__name__ = d.name
    return cast


def type_(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    if dtype is None:
        return f"torch.{self.dtype._legacy}"  # NOTE: PyTorch's text, as dtypes print
    if isinstance(dtype, str):
        for d in _dtype._ALL:
            if dtype in (f"torch.{d._legacy}", f"gradkit.{d._legacy}"):
                return to(self, d)
    return to(self, dtype)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    return to(self, other.dtype)


def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    if c_contiguous(self._data):
        return self
    if self._rg:
        return apply(S.clone_p.prim, (self,), {"contiguous": True})
    d = self._data
    return _make(np.ascontiguousarray(d) if type(d) is np.ndarray else d.copy(), False, None)


def new_tensor(self: Tensor, data: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_factory(name: str) -> Callable[..., Tensor]:
    def method(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kw: Any) -> Tensor:
        d = dtype or self.dtype
        if name == "full":
            return F.full(size[0], size[1], dtype=d, requires_grad=requires_grad)
        return getattr(F, name)(*size, dtype=d, requires_grad=requires_grad)
    method.__name__ = "new_" + name
    return method


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    with _no_record(True):
        self._data[...] = _gen(generator).uniform(a, b, self._data.shape)
    self._vc[0] += 1
    return self


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    self._data[...] = _gen(generator).normal(mean, std, self._data.shape)
    self._vc[0] += 1
    return self


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


# --- operators -----------------------------------------------------------------------
def _rev(fn: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    def method(self: Tensor, other: Any) -> Tensor:
        return fn(A._t(other) if not isinstance(other, Tensor) else other, self)
    return method


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
    if type(other) in _SCALARS and self._data.dtype.kind in "fc":
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
        "contiguous": contiguous, "new_tensor": new_tensor, "zero_": zero_, "fill_": fill_,
        "copy_": copy_, "uniform_": uniform_, "normal_": normal_, "grad_explain": grad_explain,
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
        "__rxor__": _guard(A.bitwise_xor),
    }
    for name, d in (("float", _dtype.float32), ("double", _dtype.float64),
                    ("half", _dtype.float16), ("long", _dtype.int64), ("int", _dtype.int32),
                    ("short", _dtype.int16), ("char", _dtype.int8), ("byte", _dtype.uint8),
                    ("bool", _dtype.bool)):
        methods[name] = _caster(d)
    for name in ("zeros", "ones", "empty", "full"):
        methods["new_" + name] = _new_factory(name)
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
        "bitwise_or", "bitwise_xor", "clamp", "clip", "clamp_min", "clamp_max",
        "sum", "nansum", "mean", "prod", "max", "min", "amax", "amin", "median", "argmax",
        "argmin", "all", "any", "logsumexp", "var", "std", "norm", "dist", "cumsum", "cumprod",
        "reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "permute",
        "transpose", "swapaxes", "swapdims", "t", "movedim", "moveaxis", "expand",
        "broadcast_to", "expand_as", "repeat", "tile", "repeat_interleave", "flip", "fliplr",
        "flipud", "roll", "rot90", "split", "chunk", "tensor_split", "unbind", "narrow",
        "split_with_sizes", "hsplit", "vsplit", "dsplit",
        "index_select", "gather", "scatter", "scatter_add", "masked_fill", "masked_select",
        "take", "take_along_dim", "nonzero", "argwhere", "tril", "triu", "diagonal", "diag",
        "diag_embed", "trace", "clone", "sort", "argsort", "topk", "matmul", "mm", "bmm", "mv",
        "dot", "inner", "vdot", "outer", "ger", "kron", "isclose", "allclose", "equal",
        "var_mean", "std_mean", "rsub", "positive", "kthvalue", "cummax", "cummin", "unique",
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
        "true_divide", "lerp",
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
    for op, name in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "div"),
                     ("floordiv", "floor_divide"), ("mod", "remainder"), ("pow", "pow"),
                     ("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor")):
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
# NOTE: forward mode (floor 2) writes tangents through views and indices with these helpers.
_forward_ad.SURFACE.update(convert_index=_convert_index, write_through=_write_through)
