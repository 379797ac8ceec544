"""Shared helpers of the PyTorch-style functions: argument conversion, return types, views.

Part of ``gradkit._api`` (see its docstring); none carries a derivative of its own.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from typing import Any, Callable

import numpy as np

from gradkit._core.concrete import user_stacklevel
from gradkit._core import dtype as _dtype
from gradkit._core.backend import backend_of
from gradkit._core.backend import zeros as _zeros
from gradkit._core.tensor import Tensor, _INFERENCE_DETACHED, _INFERENCE_VC
from gradkit.ops import shape as S
from gradkit._core.grad_mode import _state
from gradkit.ops._registry import apply
from gradkit._core.creation import tensor

Dims = Any
_ref = weakref.ref


class _ValuesIndices(tuple):
    """A ``(values, indices)`` pair that prints as ``torch.return_types.max(...)``, PyTorch's text."""

    __slots__ = ()
    _name = "values_indices"

    def __new__(cls, values: Any, indices: Any) -> Any:
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self) -> Any:
        return self[0]

    @property
    def indices(self) -> Any:
        return self[1]

    def __repr__(self) -> str:
        return (f"torch.return_types.{self._name}(\nvalues={self[0]!r},\n"
                f"indices={self[1]!r})")

    def __reduce__(self) -> Any:
        return (tuple, (tuple(self),))


def _return_type(name: str) -> Any:
    """A ``(values, indices)`` tuple type named like PyTorch's ``torch.return_types.max``.

    (A plain tuple subclass: ``collections.namedtuple`` would compile code at import time.)
    """
    return type(name, (_ValuesIndices,), {"__slots__": (), "_name": name,
                                         "__module__": "gradkit.return_types"})


_max_ret = _return_type("max")
_min_ret = _return_type("min")
_median_ret = _return_type("median")
_nanmedian_ret = _return_type("nanmedian")
_mode_ret = _return_type("mode")
_sort_ret = _return_type("sort")
_topk_ret = _return_type("topk")
_kth_ret = _return_type("kthvalue")
_cummax_ret = _return_type("cummax")
_cummin_ret = _return_type("cummin")


def as_tensor_arg(x: Any) -> Tensor:
    """Turn an argument into a Tensor (Python numbers and arrays become constants)."""
    if isinstance(x, Tensor):
        return x
    return tensor(x)


def _vmap_batched(x: Any) -> bool:
    """Whether ``x`` is a tensor batched by a running ``vmap`` (its values are a stand-in that
    ``gradkit.func`` marks ``_vmap_refuse``); a class-attribute read, nothing on plain tensors."""
    return getattr(type(getattr(x, "_data", None)), "_vmap_refuse", False)


def _vmap_error(msg: str) -> RuntimeError:
    """PyTorch's refusal inside ``vmap``, marked ``_vmap_final``: vmap raises it as it is
    instead of running the function once per example."""
    exc = RuntimeError(msg)
    exc._vmap_final = True  # type: ignore[attr-defined]
    return exc


def _vmap_dynamic(x: Any, aten: str) -> None:
    """Refuse an op whose output shape depends on the values of a batched ``x`` (PyTorch's
    words, naming its ATen op ``aten``)."""
    if _vmap_batched(x):
        raise _vmap_error(f"vmap: We do not support batching operators that can output dynamic "
                          f"shape. Attempted to vmap over aten::{aten}. Please file an issue at "
                          f"https://github.com/pytorch/pytorch/issues if you need this feature.")


def _not_lazy(x: Tensor, name: str, why: str) -> None:
    """Refuse (naming the op) to work on a lazy tensor when that would compute it."""
    b = backend_of(x._data)
    if b is not None and b.lazy:
        raise NotImplementedError(f"{name} cannot run lazily on a {b.label}-backed tensor: it "
                                  f"{why}. Compute the input first (tensor.compute(), or "
                                  f"gradkit.compute(...) for several) and work on the "
                                  f"NumPy-backed result.")


def _t(x: Any, name: str = "input") -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple, int, float, bool, np.generic)) or \
            backend_of(x) is not None:
        return as_tensor_arg(x)
    raise TypeError(f"{name} must be a Tensor, not {type(x).__name__}")


def _other(x: Any) -> Any:
    """A binary op's second operand: Tensors and Python numbers pass, arrays become Tensors."""
    if isinstance(x, np.generic):
        # NOTE: first: np.float64 is a float subclass, and NumPy would keep it float64
        # (float32 tensor * np.float64(2) is float32 in PyTorch, as with a Python float)
        return x.item()
    if isinstance(x, (Tensor, int, float, bool)):
        return x
    if isinstance(x, (np.ndarray, list, tuple)) or backend_of(x) is not None:
        return as_tensor_arg(x)
    if isinstance(x, complex):
        return x
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


def _view_op(x: Tensor, prim: Any, params: dict[str, Any], variant: int = 0) -> Tensor:
    """Apply a view primitive; the result shares memory (and version counter) with ``x``.

    The result remembers how to rebuild itself from its base, so an in-place change
    through it can be recorded on the base (see ``_methods._inplace_view``).
    """
    out = apply(prim, (x,), params, variant)
    if getattr(out._data, "base", None) is None or not np.may_share_memory(out._data, x._data):
        return out
    out._vc = x._vc
    if out._vc is _INFERENCE_DETACHED:
        out._vc = _INFERENCE_VC         # PyTorch: a view of a detached inference tensor is frozen
    elif _state.inference and x._vc is not _INFERENCE_VC:
        # a view of a normal tensor made in inference mode: normal, but PyTorch refuses
        # recording an in-place change through it later (``inplace._check_inplace``)
        out._inference_view = True
    if not _state.grad_enabled and not _state.inference:
        out._nograd_view = True         # PyTorch refuses a recorded in-place change through it
    elif "_nograd_view" in x.__dict__:
        out._nograd_view = prim.node_classes[variant].__name__   # its error names this op
    parent_fn = getattr(x, "_view_fn", None)
    if x._base is not None and parent_fn is not None:
        out._base = x._base
        out._view_fn = lambda b: apply(prim, (parent_fn(b),), params, variant)
        if x._multi:
            out._multi = True           # a view of a multi-output view inherits its restriction
    else:
        out._base = x
        out._view_fn = lambda b: apply(prim, (b,), params, variant)
    if _state.grad_enabled or out._rg:
        # NOTE: inline _register_view (a view op's only added cost)
        d = out._base.__dict__
        views = d.get("_views")
        if views is None:
            d["_views"] = [_ref(out)]
        else:
            n = len(views)
            if n >= 16 and not n & (n - 1):
                views[:] = [r for r in views if r() is not None]
            views.append(_ref(out))
    return out


def _multi_view(x: Tensor, prim: Any, params: dict[str, Any], variant: int = 0,
                indices: Any = None) -> tuple[Tensor, ...]:
    """Apply a primitive returning several views of ``x`` (``split``, ``unbind``).

    Each output shares memory and the version counter with ``x``, so an in-place change of
    ``x`` after it was saved for backward is detected through any of them; as in PyTorch,
    an in-place change of such an output while grad mode records is refused
    (``_methods._multi_view_error``). ``indices`` gives each output as a basic index of
    ``x``: how it is rebuilt, alone, after ``x`` changes in place.
    """
    outs = apply(prim, (x,), params, variant)
    parent_fn = getattr(x, "_view_fn", None)
    chained = x._base is not None and parent_fn is not None
    base = x._base if chained else x
    for out, index in zip(outs, indices):
        if getattr(out._data, "base", None) is None or not np.may_share_memory(out._data, x._data):
            continue
        out._vc = x._vc if x._vc is not _INFERENCE_DETACHED else _INFERENCE_VC
        out._base = base
        kind = S.SELECT if any(isinstance(i, int) for i in index) else S.SLICE
        if chained:
            out._view_fn = (lambda b, index=index, kind=kind:
                            apply(S.getitem_p.prim, (parent_fn(b),), {"index": index}, kind))
        else:
            out._view_fn = (lambda b, index=index, kind=kind:
                            apply(S.getitem_p.prim, (b,), {"index": index}, kind))
        out._multi = True
        if not _state.grad_enabled and not _state.inference:
            out._nograd_view = True
        _register_view(out)
    return outs


def _register_view(view: Tensor) -> None:
    """Remember ``view`` on its base, so an in-place change of the base refreshes its history.

    Only views made while grad mode is on (or that require grad) are tracked: a later
    in-place op may give the base a new history they must follow.
    """
    if not (_state.grad_enabled or view._rg):
        return
    d = view._base.__dict__
    views = d.get("_views")
    if views is None:
        d["_views"] = [_ref(view)]
        return
    n = len(views)
    if n >= 16 and not n & (n - 1):
        views[:] = [r for r in views if r() is not None]     # amortized pruning of dead views
    views.append(_ref(view))


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _store_out(name: str, result: Tensor, out: Tensor) -> Tensor:
    """Write ``result`` into ``out`` as PyTorch's ``out=`` does, and return ``out``.

    ``out`` takes the result cast to its dtype (a cast to a lower category, float to integer
    or anything to bool, is refused), and is resized when its shape differs (with PyTorch's
    warning unless it was empty). No graph is recorded through ``out=``: an input that
    requires grad (with grad mode on) is PyTorch's error.
    """
    import warnings
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if result._rg and _state.grad_enabled:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    src, dst = result._data.dtype, out._data.dtype
    if _CATEGORY.get(src.kind, 3) > _CATEGORY.get(dst.kind, 3):
        raise RuntimeError(f"result type {_scalar_name(result.dtype)} can't be cast to the desired "
                           f"output type {_scalar_name(out.dtype)}")
    from gradkit._core.grad_mode import no_grad
    with no_grad():
        if tuple(out.shape) != tuple(result.shape):
            if out._base is not None:
                raise RuntimeError(f"{name}(): the out= tensor is a view of shape {list(out.shape)} "
                                   f"and cannot be resized to {list(result.shape)}")
            if out._data.size:
                warnings.warn(f"An output with one or more elements was resized since it had shape "
                              f"{list(out.shape)}, which does not match the required output shape "
                              f"{list(result.shape)}. This behavior is deprecated, and in a future "
                              "PyTorch release outputs will not be resized unless they have zero "
                              "elements. You can explicitly reuse an out tensor t by resizing it, "
                              "inplace, to zero elements with t.resize_(0).", UserWarning,
                              stacklevel=user_stacklevel())
            out._data = _zeros(tuple(result.shape), dst, out._data)
        out.copy_(result)
    return out


def _dims(input: Tensor, dim: Any) -> Any:
    return S.norm_dims(dim, input._data.ndim)


def _scalar_name(d: _dtype.dtype) -> str:
    """PyTorch's scalar type name in messages: ``Long``, ``Float``, ``Bool``."""
    return d._legacy[: -len("Tensor")]


def _dim(dim: int, ndim: int) -> int:
    """``dim`` wrapped into ``range(ndim)`` (a 0-d tensor has one), or PyTorch's IndexError."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


# --- out= ---------------------------------------------------------------------------------
#: PyTorch's names of the scalar types, for its casting errors
SCALAR_NAMES = {np.dtype(k): v for k, v in
                (("float32", "Float"), ("float64", "Double"), ("float16", "Half"),
                 ("complex64", "ComplexFloat"), ("complex128", "ComplexDouble"),
                 ("int64", "Long"), ("int32", "Int"), ("int16", "Short"), ("int8", "Char"),
                 ("uint8", "Byte"), ("bool", "Bool"))}


def _requires_grad(args: Any) -> bool:
    for a in args:
        if isinstance(a, Tensor) and a._rg:
            return True
        if isinstance(a, (list, tuple)) and _requires_grad(a):
            return True
    return False


def _accepts_out(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``fn`` with PyTorch's keyword ``out=`` (written by ``_store_out``)."""
    name = fn.__name__

    @functools.wraps(fn)
    def with_out(*args: Any, out: Any = None, **kwargs: Any) -> Tensor:
        if out is None:
            return fn(*args, **kwargs)
        if _state.grad_enabled and _requires_grad(args):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires "
                               "grad.")
        return _store_out(name, fn(*args, **kwargs), out)

    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    at = len(params) - (params and params[-1].kind is inspect.Parameter.VAR_KEYWORD)
    params.insert(at, inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation="Any"))
    with_out.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    return with_out


# --- PyTorch's refusals by dtype -----------------------------------------------------------
#: set (a depth) while a NumPy function or ufunc runs on tensors through NumPy's dispatch: the
#: refusals PyTorch makes (ordering complex numbers) do not apply to NumPy's own functions
_NUMPY_RULES = threading.local()


def _numpy_rules(handler: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``handler(*args, **kwargs)`` with NumPy's rules in force (``_NUMPY_RULES``)."""
    ns = _NUMPY_RULES
    depth = getattr(ns, "on", 0)
    ns.on = depth + 1
    try:
        return handler(*args, **kwargs)
    finally:
        ns.on = depth


def _refuse_kinds(fn: Callable[..., Any], refusals: dict[str, tuple[type, str]],
                 binary: bool = False) -> Callable[..., Any]:
    """``fn`` raising PyTorch's error for the dtypes PyTorch has no kernel for.

    ``refusals`` maps a kind (``"c"`` complex, ``"i"`` integer, ``"b"`` bool) to the exception
    class and message (``{name}``: PyTorch's scalar name, ``'Long'``, ``'ComplexFloat'``). The
    kind is the input's, or for ``binary`` the operands' promoted type's (``hypot`` of an
    integer tensor and a float tensor runs in float)."""
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        a = args[0] if args else None
        if type(a) is Tensor and a._data.dtype.kind == "f":      # the common case, first
            if not binary or len(args) < 2:
                return fn(*args, **kwargs)
            o = args[1]
            to = type(o)
            if to is float or to is int or to is Tensor and o._data.dtype.kind == "f":
                return fn(*args, **kwargs)
        if args:
            # NOTE: the promoted type's category is the highest operand's (bool < integer <
            # floating < complex); the dtype itself is worked out only to word a refusal
            kind = _CATEGORY.get(_operand_kind(args[0]), 0)
            if binary and len(args) > 1:
                kind = max(kind, _CATEGORY.get(_operand_kind(args[1]), 0))
            hit = refusals.get("_bifc"[kind]) if kind else None
            if hit is not None and getattr(_NUMPY_RULES, "on", 0):
                hit = None          # a NumPy function on tensors: NumPy's rules (sorts complex)
            if hit is not None and (isinstance(args[0], Tensor) or
                                    binary and len(args) > 1 and isinstance(args[1], Tensor)):
                d = _dtype.result_type(*args[:2]) if binary and len(args) > 1 else args[0].dtype
                raise hit[0](hit[1].format(name=_scalar_name(d)))
        return fn(*args, **kwargs)
    out = _like(wrapped, fn)
    out._unrefused = getattr(fn, "_unrefused", fn)   # type: ignore[attr-defined]  # NumPy's ufuncs
    return out


#: NumPy dtype kinds (and Python number types) by PyTorch's category, 1 bool ... 4 complex
_CATEGORY = {"b": 1, "i": 2, "u": 2, "f": 3, "V": 3, "c": 4}


def _operand_kind(a: Any) -> str:
    if isinstance(a, Tensor):
        return a._data.dtype.kind
    t = type(a)
    return "b" if t is bool else "i" if t is int else "f" if t is float else \
        "c" if t is complex else ""


def _like(wrapped: Callable[..., Any], fn: Callable[..., Any]) -> Callable[..., Any]:
    """``wrapped`` named, documented and signed as ``fn`` (no ``__wrapped__``: the method table
    reads that as the function a method stands for)."""
    functools.update_wrapper(wrapped, fn)
    del wrapped.__wrapped__
    try:
        wrapped.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        pass
    return wrapped


def _no_kernel(kernel: str) -> tuple[type, str]:
    """PyTorch's ``"<kernel>" not implemented for '<dtype>'`` (a NotImplementedError)."""
    from gradkit.ops._registry import KernelDtypeError
    return KernelDtypeError, f'"{kernel}" not implemented for ' + "'{name}'"
