"""In-place Tensor operations: compute out of place through the derivative table, then write the
result into the tensor's memory, bump its version and take over the new history, so autograd
sees them exactly as PyTorch does (views write through to their base). ``zero_``, ``fill_`` and
``copy_``; ``_make_inplace`` turns a function into its in-place method.
"""

from __future__ import annotations

import functools
import re
import threading
import weakref
from typing import Any, Callable

import numpy as np

from gradkit import _api as A
from gradkit._core import dtype as _dtype
from gradkit._core.backend import immutable
from gradkit._core.creation import _fill_value
from gradkit._core.tensor import Tensor, _INFERENCE_VC, _make, check_inplace_inference
from gradkit._core.sites import bumped
from gradkit._core.grad_mode import _state
from gradkit.ops import elementwise as E
from gradkit.ops import shape as S
from gradkit.ops import _registry as _R
from gradkit.ops._registry import apply
from gradkit.autograd import forward_ad as _fw
from gradkit._api.base import SCALAR_NAMES
from gradkit._api import lazy as _lazy  # noqa: F401  (attaches Tensor.compute, Tensor.persist)

_LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."


_INFERENCE_VIEW = (
    "A view was created in inference mode and is being modified inplace in normal mode. Given "
    "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code "
    "by moving both the view and the inplace either both inside the inference_mode block (if "
    "you don't want the inplace to be tracked) or both outside (if you want the inplace to be "
    "tracked).")


# --- in-place machinery -------------------------------------------------------------
def _check_inplace(self: Tensor) -> None:
    if self._vc is _INFERENCE_VC:
        check_inplace_inference(self)
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
    if base is not None and base._rg and "_inference_view" in self.__dict__:
        raise RuntimeError(_INFERENCE_VIEW)


def _refuse_conj_copy(self: Tensor) -> None:
    """Refuse an in-place change before anything is written: of an inference tensor outside
    inference mode (PyTorch's error), and of a ``conj()`` result. PyTorch's ``conj()`` is a
    view: writing to it writes the input. gradkit's is a copy, which such a write would not
    reach, so it is refused rather than silently lost."""
    if self._vc is _INFERENCE_VC:
        if _state.grad_enabled and self._rg and self._fn is None:
            raise RuntimeError(_LEAF_INPLACE)           # PyTorch's first complaint
        check_inplace_inference(self)
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


def _check_writable(t: Tensor, fill: bool = False) -> None:
    """Refuse writing into memory NumPy will not write or whose elements overlap (a broadcast,
    a zero stride: PyTorch's error), and say which; a read-only array (``from_numpy`` of a
    non-writeable NumPy array) is named as such. A ``fill`` (``zero_``, ``fill_``, item
    assignment) may write overlapping elements that NumPy lets it write, as PyTorch's may."""
    d = t._data
    if getattr(d, "flags", _WRITEABLE).writeable:
        if not fill and 0 in getattr(d, "strides", ()) and any(st == 0 and n > 1 for st, n in
                                                   zip(d.strides, d.shape)):
            raise RuntimeError(_OVERLAP)
        return
    alias = _writable_alias(d)
    if alias is not None and (fill or not _overlapping(d)):
        # NOTE: an expanded tensor (NumPy's read-only broadcast) of writeable memory: PyTorch
        # fills it, or writes a part of it whose elements do not repeat (``e[0].mul_(2)``).
        t._data = alias
        return
    owner = t._base if t._base is not None else t
    if owner is not t and getattr(owner._data, "flags", _WRITEABLE).writeable:
        raise RuntimeError(_OVERLAP)      # a view NumPy made read-only: its elements overlap
    if any(st == 0 and n > 1 for st, n in zip(d.strides, d.shape)):
        raise RuntimeError(_OVERLAP)
    raise RuntimeError("unsupported operation: the tensor's memory is read-only (a non-writeable "
                       "NumPy array given to from_numpy() or as_tensor()). Please clone() the "
                       "tensor before performing the operation.")


def _overlapping(d: Any) -> bool:
    """Whether two elements of the strided array ``d`` share one memory location (a zero
    stride on a dim of size > 1, or strides too short for the dims under them)."""
    dims = sorted((abs(st), n) for st, n in zip(getattr(d, "strides", ()), d.shape) if n > 1)
    span = d.itemsize if dims else 0
    for st, n in dims:
        if st < span:
            return True
        span = st * n
    return False


def _writable_alias(d: Any) -> Any:
    """A writeable array over the same memory as the read-only NumPy view ``d``, where the
    array owning that memory is writeable (NumPy makes broadcasts read-only); else None."""
    if not isinstance(d, np.ndarray) or d.flags.writeable:
        return None
    root = d
    while True:
        b = root.base
        if not isinstance(b, np.ndarray):
            # NOTE: as_strided (unfold) holds its input through NumPy's DummyArray
            b = getattr(b, "base", None)
            if not isinstance(b, np.ndarray):
                break
        root = b
    if root is d or not (root.flags.writeable and root.flags.owndata and root.flags.c_contiguous):
        return None
    off = d.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return np.ndarray(d.shape, d.dtype, buffer=root, offset=off, strides=d.strides)


def _alias(self: Tensor) -> Tensor:
    """A snapshot of ``self`` with its history, safe to save while ``self`` is overwritten."""
    t = _make(self._data.copy(), self._rg, self._fn)
    t._oi = self._oi
    if self._fw:                # forward mode: the snapshot keeps the tangents the op reads
        from gradkit.autograd.forward_ad import _set
        for level, tangent in self._fw.items():
            _set(t, level, tangent)
    return t


def _batched_write_error(msg: str) -> RuntimeError:
    """Inside ``vmap``, an in-place write of a batched value into a tensor that is not batched
    (one made outside the function, or an unbatched one made inside). PyTorch refuses it (a
    ``RuntimeError``); a per-example loop would write every example into the same memory, so
    ``vmap`` raises it as it is (the mark ``_vmap_final``) instead of falling back to the loop."""
    exc = RuntimeError(msg)
    exc._vmap_final = True  # type: ignore[attr-defined]
    return exc


def _batched_op_message(op: str) -> str:
    return (f"vmap: {op}(self, *extra_args) is not possible because there exists a "
            "Tensor `other` in extra_args that has more elements than `self`. This happened due "
            "to `other` being vmapped over but `self` not being vmapped over in a vmap. Please "
            "try to use out-of-place operators instead of inplace arithmetic. If said operator is "
            "being called inside the PyTorch framework, please file a bug report instead.")


#: ``UNBATCHED_WRITE.note``, set by ``gradkit.func`` while a vmap runs in this thread: called
#: with each tensor that is not batched before an in-place write into it (vmap keeps what it
#: held, so that a function it runs again per example writes once, as the one batched call
#: PyTorch makes does)
UNBATCHED_WRITE = threading.local()


def _refuse_batched_write(self: Tensor, src: Any, copy: bool = False,
                          op: str = "inplace arithmetic") -> None:
    # NOTE: batched tensors exist only while a vmap's hook is set (``_fw_on``): one global read
    # on the hot path of every in-place op otherwise
    if not _R._fw_on:
        return
    note = getattr(UNBATCHED_WRITE, "note", None)
    if note is not None and getattr(self, "_level", None) is None and \
            not getattr(self, "_vmap_example", False):
        note(self)
    if getattr(src, "_level", None) is not None:
        if getattr(self, "_level", None) is not None:
            return
        n = src._value.shape[0]
    elif getattr(src, "_vmap_example", False) and not getattr(self, "_vmap_example", False) \
            and src._refusing():
        n = src._vmap_batch         # vmap's per-example loop: an example written into shared memory
    else:
        return
    if not copy:                # PyTorch's words for arithmetic: the broadcast shape's batch dim
        batch = [n] + list(src.shape)
        raise _batched_write_error(f"output with shape {list(self.shape)} doesn't match the "
                                   f"broadcast shape {batch}")
    raise _batched_write_error(_batched_op_message(op))


def _refusing_batched(fn: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    """``fn`` for an in-place op on an unbatched tensor with a batched argument: where the op
    has no batching rule (it fails), vmap would fall back to its per-example loop and write
    every example into the same memory (index_add_ summed them, scatter_ kept the last): the
    failure becomes PyTorch's refusal instead. An op that runs batched reaches ``_commit``,
    which refuses its batched result in PyTorch's words for arithmetic."""
    def run(*args: Any, **kwargs: Any) -> Tensor:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if getattr(exc, "_vmap_final", False):
                raise
            raise _batched_write_error(_batched_op_message(name)) from None
    return run


def _commit(self: Tensor, out: Tensor, name: str = "in-place op") -> Tensor:
    """Write ``out`` into ``self``'s memory, bump the version and adopt ``out``'s history."""
    _refuse_batched_write(self, out)
    src = out._data
    if src.shape != self._data.shape:
        try:
            np.broadcast_to(src, self._data.shape)
        except ValueError:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                               f"broadcast shape {list(src.shape)}") from None
    if self._data.dtype.kind in "iub" and src.dtype.kind in "fcV" or (
            self._data.dtype.kind == "b" and src.dtype.kind in "iu") or (
            self._data.dtype.kind in "fV" and src.dtype.kind == "c"):
        names = SCALAR_NAMES
        raise RuntimeError(f"result type {names.get(src.dtype, src.dtype)} can't be cast to the "
                           f"desired output type {names.get(self._data.dtype, self._data.dtype)}")
    if immutable(self._data):
        # NOTE: a Dask array is a value: the tensor takes the new one (tensors that shared the
        # old array, like a detach(), keep the old values).
        self._data = np.broadcast_to(src, self._data.shape).astype(self._data.dtype)
    else:
        _check_writable(self)
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
    if _R._fw_on and getattr(self, "_level", None) is None and any(
            getattr(a, "_level", None) is not None for a in (*args, *kwargs.values())):
        fn = _refusing_batched(fn, _name)
    recording = _state.grad_enabled and (
        self._rg or any(isinstance(a, Tensor) and a._rg for a in args))
    base = self._base
    if base is not None and "_nograd_view" in self.__dict__ and _state.grad_enabled and (
            recording or base._rg):
        raise _nograd_view_error(self)
    if self._multi and _state.grad_enabled and (recording or base._rg):
        raise _multi_view_error(self)
    _check_inplace(self)
    if base is not None and _state.grad_enabled and (recording or base._rg):
        return _inplace_view(self, base, fn, args, kwargs, _name)
    src = _alias(self) if recording else _make(self._data, False, None)
    with _no_record(not recording):
        out = fn(src, *args, **kwargs)
    return _commit(self, out, _name)


_NO_GRAD_VIEW = ("was created in no_grad mode and is being modified inplace with grad mode "
                 "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. "
                 "You can clarify your code by moving both the view and the inplace either both "
                 "inside the no_grad block (if you don't want the inplace to be tracked) or both "
                 "outside (if you want the inplace to be tracked).")


def _check_nograd_view(view: Tensor, other_rg: bool) -> None:
    """The no_grad-view refusal for the fast paths of ``zero_``/``fill_``/``copy_``."""
    base = view._base
    if base is not None and _state.grad_enabled and (view._rg or other_rg or base._rg):
        raise _nograd_view_error(view)


def _nograd_view_error(view: Tensor, op: str | None = None) -> RuntimeError:
    """PyTorch's refusal of a recorded in-place change of a view made in no_grad mode (or of a
    view of one, which PyTorch names by its op when the base requires grad). ``op``: the node
    name of the view a write by index makes first (``SelectBackward0`` for ``v[0] = ...``)."""
    flag = op or view.__dict__.get("_nograd_view")
    if isinstance(flag, str) and view._base is not None and view._base._rg:
        name = re.sub(r"Backward\d*$", "", flag)
        return RuntimeError(f"Output 0 of {name} is a view of a view which {_NO_GRAD_VIEW}")
    return RuntimeError(f"A view {_NO_GRAD_VIEW}")


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
    _check_writable(view, fill=name in ("fill_", "zero_"))
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


def _inplace_as(fn: Callable[..., Tensor], name: str, self: Tensor, *args: Any,
                **kwargs: Any) -> Tensor:
    return _inplace(self, fn, *args, _name=name, **kwargs)


def _make_inplace(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    ufunc = _UFUNC_INPLACE.get(fn)

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if "out" in kwargs:         # the function takes out= (_accepts_out); PyTorch's x_() does not
            raise TypeError(f"{name}() got an unexpected keyword argument 'out'")
        if _R._fw_on and _fw._dual_call(self, args, kwargs):
            return _fw._inplace_dual(self, general, fn, args, kwargs)
        _refuse_conj_copy(self)
        # NOTE: not while a transform's hook is set (vmap's loop checks the write in _commit)
        if ufunc is not None and len(args) == 1 and not kwargs and not _R._fw_on:
            other = args[0]
            if not (_state.grad_enabled and (self._rg or (isinstance(other, Tensor) and other._rg)
                                             or (self._base is not None and self._base._rg))) \
                    and 0 not in getattr(self._data, "strides", ()):
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
    # NOTE: a partial, not a closure: the stub generator reads the one function a method wraps
    general = functools.partial(_inplace_as, fn, name)
    method.__name__ = name
    method.__doc__ = f"In-place ``{fn.__name__}``: bumps the version counter, records on the graph."
    return method


_FILL = _R.REGISTRY["fill"]
_UFUNC_INPLACE = {A.add: np.add, A.sub: np.subtract, A.mul: np.multiply, A.div: np.true_divide}


def _zero_tangent(s: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    return s * 0.0


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros in place."""
    if _R._fw_on and _fw._dual_call(self, (), {}):
        return _fw._inplace_dual(self, _zero, _zero_tangent, (), {})
    return _zero(self)


def _zero(self: Tensor) -> Tensor:
    _refuse_conj_copy(self)
    if "_nograd_view" in self.__dict__:
        _check_nograd_view(self, False)
    if not (_state.grad_enabled and self._rg):
        _check_writable(self, fill=True)
        self._data[...] = 0
        self._vc[0] += 1
        bumped(self, "zero_")
        return self
    zero = _make(np.zeros((), self._data.dtype), False, None)
    return _inplace(self, lambda s: apply(_FILL, (s, zero), None, 2), _name="zero_")


def fill_(self: Tensor, value: Any) -> Tensor:
    """Fill with ``value`` in place."""
    if _R._fw_on and _fw._dual_call(self, (value,), {}):
        return _fw._inplace_dual(self, _fill, lambda s, v: s * 0.0 + v, (value,), {})
    return _fill(self, value)


def _fill(self: Tensor, value: Any) -> Tensor:
    _refuse_conj_copy(self)
    _refuse_batched_write(self, value, copy=True, op="fill_")  # before .item(): one example's
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.dim()} dimensions.")
    if isinstance(value, Tensor) and _overlapping(self._data):
        raise RuntimeError(_OVERLAP)        # PyTorch's fill_ with a tensor value checks this
    v = value.item() if isinstance(value, Tensor) and not value._rg else value
    if isinstance(v, (int, float)) and (self._data.dtype.kind in "iu"
                                        or self._data.dtype == np.float32):
        v = _fill_value(v, self._data.dtype)
    if isinstance(v, Tensor):
        return _inplace(self, lambda s, val: apply(_FILL, (s, val)), v, _name="fill_")
    if "_nograd_view" in self.__dict__:
        _check_nograd_view(self, False)
    if not (_state.grad_enabled and self._rg):
        _check_writable(self, fill=True)
        self._data[...] = v
        self._vc[0] += 1
        bumped(self, "fill_")
        return self
    value = _make(np.asarray(v, self._data.dtype), False, None)
    return _inplace(self, lambda s: apply(_FILL, (s, value)), _name="fill_")


def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast to this shape) into this tensor in place."""
    if _R._fw_on and _fw._dual_call(self, (src,), {"non_blocking": non_blocking}):
        return _fw._inplace_dual(self, _copy, lambda s, src, non_blocking=False: s * 0.0 + src,
                                 (src,), {"non_blocking": non_blocking})
    return _copy(self, src, non_blocking)


def _copy(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    _refuse_conj_copy(self)
    src = A.as_tensor_arg(src)
    _refuse_batched_write(self, src, copy=True)
    if "_nograd_view" in self.__dict__:
        _check_nograd_view(self, src._rg)
    if not (_state.grad_enabled and (self._rg or src._rg)):
        _check_writable(self)
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


# --- in-place changes of shape: unsqueeze_, squeeze_, t_, transpose_, swapdims_ ----------------
_RESHAPE_VIEWED = ("{name}: gradkit cannot change the shape of a tensor in place while views of "
                   "it are alive and autograd records it (their histories would refer to the old "
                   "shape); call the out-of-place {op}() and use its result instead.")


def _reshape_inplace(self: Tensor, name: str, view: Callable[..., Tensor], *args: Any) -> Tensor:
    """``self`` takes the shape of ``view(self, *args)`` (a view of its own memory), its
    history, and a bumped version, as PyTorch's ``unsqueeze_`` & co. do."""
    op = name[:-1]
    if self._fw:
        raise RuntimeError(f"{name}: not supported on a tensor with forward-mode tangents in "
                           f"gradkit; call the out-of-place {op}() instead.")
    _refuse_conj_copy(self)
    _check_inplace(self)
    grad = _state.grad_enabled and (self._rg or (self._base is not None and self._base._rg))
    if grad and any(r() is not None for r in self.__dict__.get("_views", ())):
        raise RuntimeError(_RESHAPE_VIEWED.format(name=name, op=op))
    out = view(self, *args)
    self._data = out._data
    if out._fn is not None:
        self._fn, self._oi, self._rg = out._fn, out._oi, True
    if self._base is not None and "_view_fn" in out.__dict__:
        self._view_fn = out._view_fn          # rebuilt from the same base, through the new view
    self._vc[0] += 1
    if _state.record_sites:
        bumped(self, name)
    return self


def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    """In-place ``unsqueeze``: this tensor gains a dimension of size 1 at ``dim``."""
    return _reshape_inplace(self, "unsqueeze_", A.unsqueeze, dim)


def squeeze_(self: Tensor, dim: Any = None) -> Tensor:
    """In-place ``squeeze``: drops dimensions of size 1 (all of them, or those in ``dim``)."""
    if dim is None:
        return _reshape_inplace(self, "squeeze_", A.squeeze)
    return _reshape_inplace(self, "squeeze_", A.squeeze, dim)


def t_(self: Tensor) -> Tensor:
    """In-place ``t``: a matrix becomes its transpose (0-D and 1-D tensors stay as they are)."""
    return _reshape_inplace(self, "t_", A.t)


def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """In-place ``transpose``: dimensions ``dim0`` and ``dim1`` swap."""
    return _reshape_inplace(self, "transpose_", A.transpose, dim0, dim1)


def swapdims_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """In-place ``swapdims`` (``transpose_``)."""
    return _reshape_inplace(self, "swapdims_", A.transpose, dim0, dim1)


def swapaxes_(self: Tensor, axis0: int, axis1: int) -> Tensor:
    """In-place ``swapaxes`` (``transpose_``)."""
    return _reshape_inplace(self, "swapaxes_", A.transpose, axis0, axis1)
