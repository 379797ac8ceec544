"""Generation of ``gradkit.numpy`` from NumPy itself.

Every public name of a NumPy module is copied into the namespace. Callables that take arrays
are wrapped in one cheap check: when no argument (searched through lists and tuples) is a
gradkit Tensor, NumPy's own function runs with the caller's arguments untouched. When a tensor
is present, the places NumPy offers no hook for are handled here (sequences holding tensors are
built into a tensor first); everything else is NumPy's own function again, which reaches
gradkit through ``__array_function__`` / ``__array_ufunc__``.

Only gradkit's public API is used.
"""

from __future__ import annotations

import functools
import types
from typing import Any, Callable

import numpy as _np

import gradkit as _gk
from gradkit import Tensor

_SEQ = (list, tuple)

#: argument types that are never, and never hold, a tensor (the one cheap check's fast path)
_PLAIN = frozenset({_np.ndarray, int, float, bool, complex, str, bytes, type(None), slice,
                    type(Ellipsis), range, type, _np.float64, _np.float32, _np.float16,
                    _np.int64, _np.int32, _np.int16, _np.int8, _np.uint8, _np.uint16,
                    _np.uint32, _np.uint64, _np.bool_, _np.complex128, _np.complex64,
                    _np.dtype, *(type(_np.dtype(c)) for c in "?bhilqBHILQefdgFDGSUVOMm")})


def has_tensor(seq: Any) -> bool:
    """Whether the list/tuple ``seq`` holds a Tensor, at any depth of lists and tuples."""
    if len(seq) > 8:
        if _PLAIN.issuperset(map(type, seq)):
            return False
        kinds = set(map(type, seq))
        if any(issubclass(k, Tensor) for k in kinds):
            return True
        return any(isinstance(v, _SEQ) and has_tensor(v) for v in seq)
    for v in seq:
        k = type(v)
        if k in _PLAIN:
            continue
        if k is tuple or k is list:
            if has_tensor(v):
                return True
        elif isinstance(v, Tensor) or (isinstance(v, _SEQ) and has_tensor(v)):
            return True
    return False


def holds_tensor(v: Any) -> bool:
    """Whether ``v`` is a Tensor or a list/tuple holding one."""
    k = type(v)
    if k in _PLAIN:
        return False
    if k is tuple or k is list:
        return has_tensor(v)
    return isinstance(v, Tensor) or (isinstance(v, _SEQ) and has_tensor(v))


# --- dtypes ----------------------------------------------------------------------------
def np_dtype(dtype: Any) -> _np.dtype:
    """NumPy's dtype for ``dtype`` (NumPy's spelling, a Python type or a gradkit dtype)."""
    if isinstance(dtype, _gk.dtype):
        return _np.dtype(dtype.np)
    return _np.dtype(dtype)


def _leaf_dtype(x: Any) -> Any:
    """What NumPy's array coercion sees for ``x``: a dtype, or the Python scalar itself."""
    if isinstance(x, Tensor):
        return _np.dtype(x.dtype.np)
    if isinstance(x, (_np.ndarray, _np.generic)):
        return x.dtype
    return _np.asarray(x).dtype


def cast(t: Tensor, dtype: _np.dtype) -> Tensor:
    """``t`` in ``dtype`` (a differentiable cast between floating types; a no-op if equal)."""
    return t if _np.dtype(t.dtype.np) == dtype else t.to(dtype)


# --- building arrays from sequences holding tensors -------------------------------------
def _leaves(obj: Any, out: list[Any]) -> None:
    if isinstance(obj, _SEQ):
        for v in obj:
            _leaves(v, out)
    else:
        out.append(obj)


def _stack_tree(obj: Any, dtype: _np.dtype) -> Tensor:
    if isinstance(obj, Tensor):
        return cast(obj, dtype)
    if isinstance(obj, _SEQ) and has_tensor(obj):
        if len(obj) == 0:
            return _gk.as_tensor(_np.zeros((0,), dtype))
        return _gk.stack([_stack_tree(v, dtype) for v in obj])
    return _gk.as_tensor(_np.asarray(obj, dtype=dtype))


def build(obj: Any, dtype: Any = None, copy: Any = True, ndmin: int = 0) -> Any:
    """``numpy.array`` for an object that holds tensors: a tensor on the graph.

    Nested lists/tuples are stacked with ``gradkit.stack``; the dtype is NumPy's (the
    result type of every leaf, so integers beside float tensors give floats) unless given.
    """
    if isinstance(obj, Tensor):
        out = obj if dtype is None else cast(obj, np_dtype(dtype))
        if copy and out is obj:
            out = obj.clone()
    else:
        if dtype is None:
            leaves: list[Any] = []
            _leaves(obj, leaves)
            dt = _np.result_type(*[_leaf_dtype(v) for v in leaves]) if leaves else \
                _np.dtype(_np.float64)
        else:
            dt = np_dtype(dtype)
        out = _stack_tree(obj, dt)
    if ndmin and out.ndim < ndmin:
        out = out.reshape((1,) * (ndmin - out.ndim) + tuple(out.shape))
    return out


def to_value(x: Any) -> Any:
    """``x`` with every tensor (through lists/tuples) replaced by its NumPy value."""
    if isinstance(x, Tensor):
        return x.detach().numpy()
    if isinstance(x, _SEQ) and has_tensor(x):
        return type(x)(to_value(v) for v in x) if type(x) in _SEQ else [to_value(v) for v in x]
    return x


# --- the wrappers ----------------------------------------------------------------------
#: functions whose array arguments are sequences of arrays (NumPy's dispatch looks inside)
SEQUENCE_FUNCTIONS = {"stack", "concatenate", "concat", "hstack", "vstack", "dstack",
                      "column_stack", "row_stack", "block", "select", "piecewise", "multi_dot",
                      "broadcast_arrays", "meshgrid", "einsum", "einsum_path", "ix_", "savez",
                      "savez_compressed", "lexsort", "choose", "unstack"}

#: functions kept as NumPy's own objects, at no cost: they take shapes, not arrays (``block``:
#: NumPy's dispatch looks through its nested lists itself)
RAW_FUNCTIONS = {"zeros", "ones", "empty", "eye", "identity", "tri", "indices", "block",
                 "seterr", "geterr", "seterrcall", "geterrcall", "set_printoptions",
                 "get_printoptions", "printoptions", "getbufsize", "setbufsize", "get_include",
                 "show_config", "show_runtime"}

#: functions whose results carry no gradient (booleans, indices, counts): on tensors that
#: NumPy's dispatch does not accept, they run on the tensors' values
NO_GRADIENT = {"allclose", "isclose", "array_equal", "array_equiv", "iscomplex", "isreal",
               "iscomplexobj", "isrealobj", "argmax", "argmin", "argsort", "argwhere", "nonzero",
               "flatnonzero", "count_nonzero", "searchsorted", "digitize", "result_type",
               "can_cast", "min_scalar_type", "shares_memory", "may_share_memory", "array_repr",
               "array_str", "array2string", "isfortran", "iterable", "ravel_multi_index",
               "unravel_index", "shape", "ndim", "size", "argpartition", "histogram",
               "histogram_bin_edges", "isneginf", "isposinf", "packbits",
               "unpackbits", "matrix_rank"}


def _convert_args(args: tuple[Any, ...], kwargs: dict[str, Any], sequence: bool) -> Any:
    if sequence:
        # the elements of a sequence argument may themselves be lists holding tensors
        def conv(a: Any) -> Any:
            if isinstance(a, _SEQ) and has_tensor(a):
                return type(a)(build(e, copy=False) if isinstance(e, _SEQ) and has_tensor(e)
                               else e for e in a) if type(a) in _SEQ else a
            return a
    else:
        def conv(a: Any) -> Any:
            return build(a, copy=False) if isinstance(a, _SEQ) and has_tensor(a) else a
    return tuple(conv(a) for a in args), {k: conv(v) for k, v in kwargs.items()}


def _no_gradient_call(func: Callable[..., Any], args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
    """A function whose result carries no gradient, called with tensors: NumPy's dispatch,
    else NumPy's function on the tensors' values."""
    try:
        args, kwargs = _convert_args(args, kwargs, False)
        return func(*args, **kwargs)
    except (TypeError, RuntimeError, ValueError):
        return func(*to_value(args), **{k: to_value(v) for k, v in kwargs.items()})


def _list_call(func: Callable[..., Any], sequence: bool, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Any:
    """NumPy's ``func`` called with lists holding tensors: those lists are built into tensors
    first (for functions taking a sequence of arrays, the lists nested in the sequence)."""
    if sequence and not any(isinstance(e, _SEQ) and has_tensor(e)
                            for a in (*args, *kwargs.values()) if isinstance(a, _SEQ)
                            for e in a):
        return func(*args, **kwargs)       # NumPy's dispatch looks inside the sequence
    args, kwargs = _convert_args(args, kwargs, sequence)
    return func(*args, **kwargs)


def wrap(func: Callable[..., Any], name: str,
         tensor_call: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """NumPy's ``func``, unless a list/tuple among the arguments holds a tensor (then the
    lists are built into tensors first) or, for ``tensor_call`` and the functions without a
    gradient, a tensor is among them (then ``tensor_call``/the values). A tensor argument
    itself reaches gradkit through NumPy's own ``__array_function__`` dispatch."""
    if tensor_call is not None:
        slow, top = tensor_call, True
    elif name in NO_GRADIENT:
        slow, top = functools.partial(_no_gradient_call, func), True
    else:
        slow, top = functools.partial(_list_call, func, name in SEQUENCE_FUNCTIONS), False
    plain, holds, ndarray = _PLAIN, holds_tensor, _np.ndarray

    def check(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        for a in args:
            k = type(a)
            if k in plain:
                continue
            if k is tuple or k is list:
                if len(a) < 16:                # shapes, axes, a few arrays
                    for v in a:
                        if type(v) not in plain and holds(v):
                            return slow(args, kwargs)
                elif has_tensor(a):
                    return slow(args, kwargs)
            elif isinstance(a, Tensor):
                if top:
                    return slow(args, kwargs)
            elif isinstance(a, _SEQ) and has_tensor(a):
                return slow(args, kwargs)
        for a in kwargs.values():
            if type(a) in plain:
                continue
            if isinstance(a, Tensor):
                if top:
                    return slow(args, kwargs)
            elif isinstance(a, _SEQ) and has_tensor(a):
                return slow(args, kwargs)
        return func(*args, **kwargs)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # the one cheap check: arrays, numbers, strings, None, dtypes go straight to NumPy (an
        # inline loop: a Python call or a C iterator costs more); anything else is looked at
        for a in args:
            if type(a) is not ndarray and type(a) not in plain:
                return check(args, kwargs)
        if kwargs:
            for a in kwargs.values():
                if type(a) not in plain:
                    return check(args, kwargs)
            return func(*args, **kwargs)
        return func(*args)

    try:
        # NOTE: NumPy's name, docstring and __module__ (so NumPy's docstring examples stay
        # NumPy's: doctest collects them under numpy, not gradkit.numpy)
        functools.update_wrapper(wrapper, func)
    except (AttributeError, TypeError):
        pass
    return wrapper


# --- NumPy's integer scalar types: np.int64(t) casts a tensor -------------------------
class _ScalarMeta(type):
    """Metaclass of the integer scalar types: instances and subclasses are NumPy's."""

    _np_type: type

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls._np_type)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, cls._np_type)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], Tensor):
            return cast(args[0].detach(), _np.dtype(cls._np_type))
        if args and isinstance(args[0], _SEQ) and has_tensor(args[0]):
            return build(args[0], dtype=cls._np_type)
        return cls._np_type(*args, **kwargs)

    def __repr__(cls) -> str:
        return repr(cls._np_type)


_INT_TYPES: dict[type, type] = {}


def int_scalar_type(t: type) -> type:
    """A stand-in for NumPy's integer scalar type ``t``: ``np.dtype`` of it is ``t``'s,
    ``isinstance``/``issubclass`` answer as for ``t``; called on a tensor it casts."""
    if t not in _INT_TYPES:
        cls = _ScalarMeta(t.__name__, (t,), {"__module__": "gradkit.numpy", "__doc__": t.__doc__})
        cls._np_type = t
        _INT_TYPES[t] = cls
    return _INT_TYPES[t]


_CONCRETE_INTS = {_np.int8, _np.int16, _np.int32, _np.int64, _np.uint8, _np.uint16, _np.uint32,
                  _np.uint64, _np.intp, _np.uintp, _np.intc, _np.uintc, _np.longlong,
                  _np.ulonglong, _np.short, _np.ushort, _np.byte, _np.ubyte}


# --- the namespace ---------------------------------------------------------------------
def populate(namespace: dict[str, Any], module: types.ModuleType,
             special: dict[str, Any] | None = None) -> list[str]:
    """Fill ``namespace`` with every public name of ``module`` (already loaded ones: NumPy's
    lazily imported submodules are left to the namespace's ``__getattr__``)."""
    special = special or {}
    names = []
    for name, obj in list(vars(module).items()):
        if name.startswith("_") or name in namespace:
            continue
        if name in special:
            namespace[name] = special[name]
        elif isinstance(obj, types.ModuleType):
            continue
        elif isinstance(obj, _np.ufunc):
            namespace[name] = obj      # ufuncs: __array_ufunc__ reaches gradkit, at no cost
        elif isinstance(obj, type):
            namespace[name] = int_scalar_type(obj) if obj in _CONCRETE_INTS else obj
        elif name in RAW_FUNCTIONS:
            namespace[name] = obj      # NumPy's own: no array input, or dispatch suffices
        elif callable(obj):
            namespace[name] = wrap(obj, name)
        else:
            namespace[name] = obj
        names.append(name)
    for name, obj in special.items():
        if name not in namespace:
            namespace[name] = obj
            names.append(name)
    return names
