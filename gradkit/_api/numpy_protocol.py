"""NumPy's dispatch protocols on gradkit tensors: ``Tensor.__array_ufunc__`` and
``Tensor.__array_function__``, the ``UFUNCS`` map and the ``FUNCTIONS`` registry (``implements``).

The handlers that fill ``FUNCTIONS`` live by NumPy family in ``numpy_functions``,
``numpy_shape`` and ``numpy_routines``; :mod:`gradkit._api.numpy_dispatch` loads them all.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable

import numpy as np

from gradkit import _api as A
from gradkit._api.base import _numpy_rules
from gradkit._api import complex as AC
from gradkit._api import special as AM
from gradkit.ops import elementwise as E
from gradkit.ops._registry import REGISTRY, apply1
from gradkit._core.tensor import Tensor, _make
from gradkit._core.grad_mode import _state
from gradkit._core import dtype as _dtype

__all__ = ["UFUNCS", "FUNCTIONS", "implements", "array_ufunc", "array_function",
           "dispatched_functions"]


def _tensorize(x: Any) -> Any:
    """ndarrays and nested lists become constant tensors; tensors and numbers pass."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return _make(x, False, None)
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (list, tuple)):
        return A.as_tensor_arg(np.asarray(x))
    return x


# --- ufuncs --------------------------------------------------------------------------
def _row_ufuncs() -> dict[Any, Callable[..., Any]]:
    """``np.<ufunc>`` -> gradkit's function, for every table row whose forward is that ufunc.

    Derived from the table: a row ``defop("sin", np.sin, ...)`` makes ``np.sin(t)`` call
    ``gradkit.sin(t)`` (the function of the same name, with PyTorch's argument handling).
    """
    out: dict[Any, Callable[..., Any]] = {}
    for prim in REGISTRY.values():
        if isinstance(prim.fwd, np.ufunc):
            for space in (A, AM, AC):
                fn = getattr(space, prim.name, None)
                if callable(fn):
                    # NOTE: NumPy's semantics for NumPy's ufuncs: np.maximum and np.less order
                    # complex numbers, np.sign(z) is z / |z| (PyTorch's refusals stay on gk.*)
                    out[prim.fwd] = getattr(fn, "_unrefused", fn)
                    break
    return out


def _as_arg(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else A.as_tensor_arg(np.asarray(x))


def _vecdot(x1: Any, x2: Any, axis: int = -1) -> Tensor:
    """NumPy's vecdot: the sum over ``axis`` of conj(x1) * x2 (broadcast)."""
    a, b = _as_arg(_tensorize(x1)), _as_arg(_tensorize(x2))
    if a.shape[axis] != b.shape[axis]:
        raise ValueError("vecdot: the vectors along the axis must have the same length, got "
                         f"{a.shape[axis]} and {b.shape[axis]}")
    return A.sum(A.mul(AC.conj(a) if a.is_complex() else a, b), axis)


def _matvec(m: Any, v: Any) -> Tensor:
    """NumPy's matvec: matrix (last two axes) times vector (last axis), broadcast."""
    return A.squeeze(A.matmul(_as_arg(m), A.unsqueeze(_as_arg(v), -1)), -1)


def _vecmat(v: Any, m: Any) -> Tensor:
    """NumPy's vecmat: conj(vector) times matrix, broadcast."""
    v = _as_arg(v)
    return A.squeeze(A.matmul(A.unsqueeze(AC.conj(v) if v.is_complex() else v, -2), _as_arg(m)), -2)


def _common_pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Two operands as tensors of NumPy's common dtype: NumPy's products promote (float with
    complex, int with float) where gradkit's, as PyTorch's, insist on one dtype."""
    a, b = _as_arg(_tensorize(a)), _as_arg(_tensorize(b))
    dt = np.result_type(a._data, b._data)
    return a if a._data.dtype == dt else a.to(dt), b if b._data.dtype == dt else b.to(dt)


def _promoted(fn: Callable[..., Tensor], a: Any, b: Any) -> Tensor:
    """``fn`` on two operands cast to NumPy's common dtype (see ``_common_pair``)."""
    return fn(*_common_pair(a, b))


def _heaviside(x1: Tensor, x2: Tensor) -> Tensor:
    """NumPy's heaviside as a selection, so that the gradient reaches ``x2`` where x1 == 0
    (gradkit.heaviside, as PyTorch's, has no derivative); the step's derivative is zero."""
    step = np.heaviside(x1._data, np.zeros((), dtype=x1._data.dtype))
    return A.where(_make(x1._data == 0, False, None), x2, _make(step, False, None))


def _floor_quotient(a: Any, b: Any) -> Tensor:
    """``np.floor_divide``: the quotient as a constant, its derivative zero almost everywhere
    (gradkit.floor_divide, as PyTorch's, records a node whose backward refuses)."""
    return A.div(a, b, rounding_mode="floor")


def _divmod(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    return _floor_quotient(a, b), A.remainder(a, b)


def _modf(x: Any) -> tuple[Tensor, Tensor]:
    whole = A.trunc(x)
    return A.sub(x, whole), whole


def _frexp(x: Any) -> tuple[Tensor, Tensor]:
    """Mantissa and exponent: the exponent is an integer (no gradient), the mantissa is
    x * 2**-e, so its derivative is 2**-e."""
    if x.is_floating_point():
        # torch.frexp's path: 2**-e in two factors (one overflows for subnormal x)
        from gradkit._api.floating import frexp
        m, e = frexp(x)
        return m, e
    _, e = np.frexp(x._data)
    return A.mul(x, _make(np.ldexp(np.ones_like(x._data), -e), False, None)), _make(e, False, None)


def _ldexp(x: Any, e: Any) -> Tensor:
    ed = e._data if isinstance(e, Tensor) else np.asarray(e)
    if isinstance(e, Tensor) and e._rg:
        raise _unsupported("ldexp with an exponent that requires grad (it is an integer)")
    x = _as_arg(x)
    dt = np.result_type(x._data.dtype, np.float16)
    if np.asarray(ed).dtype.kind in "iub" and dt.kind == "f":
        # torch.ldexp's path: exact where one factor 2**e would overflow (0 * 2**2000 is 0)
        from gradkit._api.floating import ldexp
        if x._data.dtype != dt:
            x = x.to(_dtype.as_dtype(dt))
        return ldexp(x, _make(np.asarray(ed).astype(np.int64), False, None))
    return A.mul(x, _make(np.ldexp(np.ones((), dtype=dt), ed), False, None))


#: ufuncs whose table row's forward is not the ufunc itself (a faster or stricter kernel),
#: NumPy's aliases, and ufuncs composed of several rows
_OTHER_UFUNCS: dict[Any, Callable[..., Any]] = {
    np.add: A.add, np.subtract: A.sub, np.multiply: A.mul, np.true_divide: A.div,
    np.floor_divide: _floor_quotient, np.remainder: A.remainder, np.fmod: A.fmod,
    np.float_power: A.pow, np.positive: A.positive, np.fabs: A.abs, np.sign: A.sign,
    np.square: A.square, np.rint: A.round,
    np.matmul: lambda x1, x2: _promoted(A.matmul, x1, x2),
    np.deg2rad: AM.deg2rad, np.rad2deg: AM.rad2deg, np.radians: AM.deg2rad,
    np.degrees: AM.rad2deg,
    np.cbrt: lambda x: A.mul(A.sign(x), A.pow(A.abs(x), 1.0 / 3.0)),
    np.divmod: _divmod, np.modf: _modf, np.frexp: _frexp, np.ldexp: _ldexp,
    np.heaviside: lambda x1, x2: _promoted(_heaviside, x1, x2),
    **{u: f for u, f in ((getattr(np, "vecdot", None), _vecdot),
                         (getattr(np, "matvec", None), lambda x1, x2: _promoted(_matvec, x1, x2)),
                         (getattr(np, "vecmat", None), lambda x1, x2: _promoted(_vecmat, x1, x2)))
       if u is not None},
}

#: generalized ufuncs whose ``axes``/``axis``/``keepdims`` are honoured (by moving core axes)
_GUFUNCS = {u for u in (np.matmul, getattr(np, "vecdot", None), getattr(np, "matvec", None),
                        getattr(np, "vecmat", None)) if u is not None}

UFUNCS: dict[Any, Callable[..., Any]] = {
    **_row_ufuncs(), **{u: getattr(f, "_unrefused", f) for u, f in _OTHER_UFUNCS.items()}}
_GUFUNC_DEFAULT: dict[Any, Callable[..., Any]] = {u: UFUNCS[u] for u in _GUFUNCS}


#: unary float ufuncs that map straight onto a table row (the dispatch fast path)
_UNARY_PRIMS = {u: getattr(E, name).prim for u, name in (
    (np.exp, "exp"), (np.exp2, "exp2"), (np.expm1, "expm1"), (np.log, "log"), (np.log2, "log2"),
    (np.log10, "log10"), (np.log1p, "log1p"), (np.sqrt, "sqrt"), (np.sin, "sin"), (np.cos, "cos"),
    (np.tan, "tan"), (np.arcsin, "asin"), (np.arccos, "acos"), (np.arctan, "atan"),
    (np.sinh, "sinh"), (np.cosh, "cosh"), (np.tanh, "tanh"), (np.arcsinh, "asinh"),
    (np.arccosh, "acosh"), (np.arctanh, "atanh"), (np.reciprocal, "reciprocal"))}

_REDUCE = {np.add: "sum", np.multiply: "prod", np.maximum: "amax", np.minimum: "amin",
           np.fmax: "amax", np.fmin: "amin", np.logical_and: "all", np.logical_or: "any"}
_ACCUMULATE = {np.add: A.cumsum, np.multiply: A.cumprod}


def _needs_graph(*xs: Any) -> bool:
    """Whether any tensor among ``xs`` (searched one list level deep) requires grad, or carries
    a forward-mode tangent (``forward_ad``: the tangent would be lost as silently)."""
    ge = _state.grad_enabled
    for x in xs:
        if isinstance(x, Tensor):
            if (x._rg and ge) or x._fw:
                return True
        elif isinstance(x, (list, tuple)):
            for y in x:
                if isinstance(y, Tensor) and ((y._rg and ge) or y._fw):
                    return True
    return False


def _unsupported(name: str) -> TypeError:
    return TypeError(
        f"gradkit cannot differentiate numpy.{name}: a tensor that requires grad (or carries a "
        "forward-mode tangent) was passed to it, and converting it to an ndarray would silently "
        "drop the graph. Use a gradkit operation "
        f"instead, or pass tensor.detach() if no gradient should flow through numpy.{name}.")


def _to_numpy(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, list):
        return [_to_numpy(y) for y in x]
    if isinstance(x, tuple):
        return tuple(_to_numpy(y) for y in x)
    if isinstance(x, dict):
        return {k: _to_numpy(v) for k, v in x.items()}
    return x


def _wrap(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return _make(x, False, None)
    if isinstance(x, tuple) and any(isinstance(y, np.ndarray) for y in x):
        return type(x)(*(_wrap(y) for y in x)) if hasattr(x, "_fields") else \
            tuple(_wrap(y) for y in x)
    if isinstance(x, list):
        return [_wrap(y) for y in x]
    return x


def _plain_numpy(func: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """Run a NumPy callable on the tensors' arrays (none of them needs a gradient)."""
    return _wrap(func(*_to_numpy(args), **_to_numpy(kwargs)))


def _write_out(out: Any, result: Any) -> Any:
    """Honour ``out=``: a tensor target is updated in place (recorded on the graph)."""
    target = out[0] if isinstance(out, tuple) else out
    if isinstance(target, Tensor):
        target.copy_(result)
        return target
    if isinstance(target, np.ndarray):
        if isinstance(result, Tensor) and result._rg and _state.grad_enabled:
            raise TypeError("out= is an ndarray but the result requires grad: writing it there "
                            "would drop the graph; pass a gradkit tensor as out, or detach")
        np.copyto(target, result._data if isinstance(result, Tensor) else result)
        return target
    raise TypeError(f"out must be a tensor or an ndarray, not {type(target).__name__}")


def array_ufunc(self: Tensor, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """``Tensor.__array_ufunc__``: route NumPy ufuncs to gradkit operations."""
    if method == "__call__" and not kwargs:                    # the common case, kept short
        prim = _UNARY_PRIMS.get(ufunc)
        if prim is not None:
            return apply1(prim, self)
        fn = UFUNCS.get(ufunc)
        if fn is not None:
            if len(inputs) == 1:
                return fn(self)
            if len(inputs) == 2:
                a, b = inputs
                if isinstance(a, Tensor) and (isinstance(b, Tensor) or type(b) in (float, int)):
                    return fn(a, b)
    out = kwargs.pop("out", None)
    if out is not None and all(o is None for o in (out if isinstance(out, tuple) else (out,))):
        out = None
    name = getattr(ufunc, "__name__", str(ufunc))
    result = _ufunc_result(ufunc, method, name, inputs, kwargs)
    if result is NotImplemented:
        return NotImplemented
    return _write_out(out, result) if out is not None else result


_scipy_hooked = False


def _hook_scipy() -> bool:
    """SciPy's special functions are ufuncs too: the first time one reaches the dispatch with
    SciPy loaded, add gradkit.scipy.special's table (so ``import gradkit`` never imports SciPy)."""
    global _scipy_hooked
    if _scipy_hooked or "scipy.special" not in sys.modules:
        return False
    _scipy_hooked = True
    # NOTE: gradkit.scipy sits above this floor: it is loaded by name, as a plug-in
    UFUNCS.update(importlib.import_module("gradkit.scipy.special").ufunc_table())
    return True


def _ufunc_result(ufunc: Any, method: str, name: str, inputs: Any, kwargs: Any) -> Any:
    if ufunc not in UFUNCS and not _scipy_hooked:
        _hook_scipy()
    graph = _needs_graph(*inputs)
    kwargs.pop("casting", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("order", None)                     # a memory layout: the values are the same
    kwargs.pop("subok", None)
    gu = {k: kwargs.pop(k) for k in ("axes", "axis", "keepdims") if k in kwargs} \
        if method == "__call__" else {}
    if gu:
        if ufunc not in _GUFUNCS:
            raise TypeError(f"{name}() got unsupported keyword argument(s) {sorted(gu)} on "
                            "gradkit tensors")
        res = _gufunc_axes(ufunc, [_as_arg(_tensorize(x)) for x in inputs], **gu)
        return res.to(dtype) if dtype is not None else res
    if method == "__call__" and ufunc in UFUNCS and kwargs.get("where", True) is True:
        if kwargs.get("signature") is not None:
            raise TypeError(f"{name}(): signature= is not supported on gradkit tensors; cast "
                            "the inputs (dtype=) instead")
        args = [_tensorize(x) for x in inputs]
        if not any(isinstance(a, Tensor) for a in args):
            args[0] = A.as_tensor_arg(args[0])
        res = UFUNCS[ufunc](*args)
        return res.to(dtype) if dtype is not None else res
    if method == "reduce" and ufunc in _REDUCE:
        return _numpy_rules(_ufunc_reduce, ufunc, inputs, kwargs, graph, name, method, dtype)
    if method == "accumulate" and ufunc in _ACCUMULATE:
        x = _tensorize(inputs[0])
        res = _ACCUMULATE[ufunc](x, kwargs.get("axis", 0))
        return res.to(dtype) if dtype is not None else res
    if graph:
        raise _unsupported(name if method == "__call__" else f"{name}.{method}")
    if dtype is not None:
        kwargs["dtype"] = dtype
    return _plain_numpy(getattr(ufunc, method) if method != "__call__" else ufunc, inputs, kwargs)


def _ufunc_reduce(ufunc: Any, inputs: Any, kwargs: Any, graph: bool, name: str, method: str,
                  dtype: Any) -> Any:
    """``np.add.reduce(t)``, ``np.maximum.reduce(t)``, ... as gradkit reductions."""
    x = _tensorize(inputs[0])
    axis = kwargs.get("axis", 0)
    keep = kwargs.get("keepdims", False)
    if kwargs.get("initial") is not None or kwargs.get("where") is not None:
        if graph:
            raise _unsupported(f"{name}.reduce with initial/where")
        return _plain_numpy(getattr(ufunc, method), inputs, dict(kwargs, dtype=dtype))
    res = getattr(A, _REDUCE[ufunc])(x, _axis_arg(axis, x.ndim), keep)
    return res.to(dtype) if dtype is not None else res


def _gufunc_axes(ufunc: Any, xs: list[Tensor], axes: Any = None, axis: Any = None,
                 keepdims: bool = False) -> Tensor:
    """A generalized ufunc (matmul, vecdot, matvec, vecmat) with NumPy's ``axes``, ``axis`` and
    ``keepdims``: each operand's core axes are moved to the end, the default call runs, and
    the output's core axes go where ``axes`` puts them."""
    name = ufunc.__name__
    ins_sig, out_sig = ufunc.signature.split("->")
    groups = [[d.strip() for d in g.split(",") if d.strip()]
              for g in ins_sig.replace(")", "").split("(") if g.strip(", ")]
    out_core = len([d for d in out_sig.strip("() ").split(",") if d.strip()])
    cores = [len(g) for g in groups]
    if any(x.ndim < c for x, c in zip(xs, cores)):
        raise NotImplementedError(f"{name} with axes= on operands with fewer dimensions than "
                                  "its core dimensions is not supported on gradkit tensors")
    if axis is not None:
        if axes is not None:
            raise TypeError("cannot specify both 'axis' and 'axes'")
        if any(c != 1 for c in cores) or out_core:
            raise TypeError(f"{name}: 'axis' can only be used with a single shared core "
                            "dimension; use 'axes'")
        axes = [(axis,)] * len(xs) + ([(axis,)] if keepdims else [])
    if axes is None:
        axes = [tuple(range(-c, 0)) for c in cores]
    axes = [tuple(a) if isinstance(a, (tuple, list)) else (a,) for a in axes]
    if len(axes) not in (len(xs), len(xs) + 1) or \
            any(len(a) != c for a, c in zip(axes, cores)):
        raise ValueError(f"{name}: axes= needs one entry per operand (and the output), each "
                         "with as many axes as its core dimensions")
    moved = [A.movedim(x, tuple(a), tuple(range(-len(a), 0))) if a else x
             for x, a in zip(xs, axes)]
    res = _GUFUNC_DEFAULT[ufunc](*moved)
    if keepdims:
        if out_core:
            raise TypeError(f"{name}: keepdims=True needs outputs without core dimensions")
        res = A.unsqueeze(res, -1)
        out_axes = axes[len(xs)] if len(axes) > len(xs) else axes[0]
        return A.movedim(res, -1, out_axes[0])
    if len(axes) > len(xs) and out_core:
        return A.movedim(res, tuple(range(-out_core, 0)), axes[len(xs)])
    return res


def _axis_arg(axis: Any, ndim: int) -> Any:
    """NumPy's axis (None = all) as gradkit's dim argument."""
    if axis is None:
        return None
    if isinstance(axis, tuple) and len(axis) == 0:
        return ()
    return axis


# --- functions -------------------------------------------------------------------------
FUNCTIONS: dict[Any, Callable[..., Any]] = {}


def implements(*funcs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        for f in funcs:
            FUNCTIONS[f] = handler
        return handler
    return register


#: NumPy functions whose results carry no gradient (bools, indices, counts, dtypes, text):
#: they run on the values even for tensors that require grad, as ``argmax`` and comparisons do
_NO_GRADIENT = {np.result_type, np.iscomplexobj, np.isrealobj, np.can_cast, np.min_scalar_type,
                np.allclose, np.array_equal, np.array_equiv, np.isclose, np.nonzero,
                np.flatnonzero, np.argwhere, np.searchsorted, np.argsort, np.argpartition,
                np.any, np.all, np.shares_memory, np.may_share_memory, np.array_repr,
                np.array_str, np.nanargmax, np.nanargmin, np.isneginf, np.isposinf,
                np.digitize, np.isin, np.lexsort, np.tril_indices_from, np.triu_indices_from,
                np.diag_indices_from, np.ravel_multi_index, np.unravel_index, np.common_type,
                np.einsum_path, np.array2string, np.linalg.matrix_rank}


def array_function(self: Tensor, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    """``Tensor.__array_function__``: route NumPy functions to gradkit operations."""
    handler = FUNCTIONS.get(func)
    if handler is not None:
        return _numpy_rules(handler, *args, **kwargs)
    if func in _NO_GRADIENT:
        return _plain_numpy(func, args, kwargs)
    if _needs_graph(*args, *kwargs.values()):
        if _state.numerical_fallback:
            from gradkit.autograd.numerical import dispatch_fallback
            return dispatch_fallback(func, args, kwargs)
        raise _unsupported(getattr(func, "__name__", str(func)))
    return _plain_numpy(func, args, kwargs)


def dispatched_functions() -> list[str]:
    """Names of the NumPy functions and ufuncs that keep gradkit tensors on the graph."""
    # NumPy's own ufuncs (SciPy's, registered once gradkit.scipy.special is imported, are listed
    # with SciPy's coverage)
    names = {f"numpy.{getattr(f, '__name__', str(f))}" for f in UFUNCS
             if getattr(np, getattr(f, "__name__", ""), None) is f}
    for f in FUNCTIONS:
        mod = getattr(f, "__module__", "numpy") or "numpy"
        prefix = "numpy.linalg." if "linalg" in mod else "numpy.fft." if "fft" in mod else "numpy."
        names.add(prefix + f.__name__)
    return sorted(names)
