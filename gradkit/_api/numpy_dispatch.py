"""NumPy dispatch: plain NumPy code run on gradkit tensors stays on the graph.

``Tensor.__array_ufunc__`` maps ufuncs (called, reduced, accumulated, with
``out=``) and ``Tensor.__array_function__`` maps NumPy functions onto gradkit
operations, which all go through the one derivative table. A NumPy function
that gradkit cannot differentiate raises a ``TypeError`` when a tensor that
requires grad reaches it; nothing silently drops the graph. Tensors that do
not require grad go through NumPy itself and come back as tensors.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable

import numpy as np

from gradkit import _api as A
from gradkit._api import complex as AC
from gradkit._api import special as AM
from gradkit.ops import elementwise as E
from gradkit.ops._registry import REGISTRY, apply1
from gradkit._core.tensor import Tensor, _make
from gradkit._core.grad_mode import _state
from gradkit._core import creation as _factories

__all__ = ["UFUNCS", "FUNCTIONS", "dispatched_functions"]


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
                    out[prim.fwd] = fn
                    break
    return out


#: ufuncs whose table row's forward is not the ufunc itself (a faster or stricter kernel),
#: NumPy's aliases, and ufuncs composed of several rows
_OTHER_UFUNCS: dict[Any, Callable[..., Any]] = {
    np.add: A.add, np.subtract: A.sub, np.multiply: A.mul, np.true_divide: A.div,
    np.floor_divide: A.floor_divide, np.remainder: A.remainder, np.fmod: A.fmod,
    np.float_power: A.pow, np.positive: A.positive, np.fabs: A.abs, np.sign: A.sign,
    np.square: A.square, np.rint: A.round, np.matmul: A.matmul,
    np.deg2rad: AM.deg2rad, np.rad2deg: AM.rad2deg, np.radians: AM.deg2rad,
    np.degrees: AM.rad2deg,
    np.cbrt: lambda x: A.mul(A.sign(x), A.pow(A.abs(x), 1.0 / 3.0)),
}

UFUNCS: dict[Any, Callable[..., Any]] = {**_row_ufuncs(), **_OTHER_UFUNCS}


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
    if method == "__call__" and ufunc in UFUNCS and kwargs.get("where", True) is True:
        args = [_tensorize(x) for x in inputs]
        if not any(isinstance(a, Tensor) for a in args):
            args[0] = A.as_tensor_arg(args[0])
        res = UFUNCS[ufunc](*args)
        return res.to(dtype) if dtype is not None else res
    if method == "reduce" and ufunc in _REDUCE:
        x = _tensorize(inputs[0])
        axis = kwargs.get("axis", 0)
        keep = kwargs.get("keepdims", False)
        if kwargs.get("initial") is not None or kwargs.get("where") is not None:
            if graph:
                raise _unsupported(f"{name}.reduce with initial/where")
            return _plain_numpy(getattr(ufunc, method), inputs, dict(kwargs, dtype=dtype))
        res = getattr(A, _REDUCE[ufunc])(x, _axis_arg(axis, x.ndim), keep)
        return res.to(dtype) if dtype is not None else res
    if method == "accumulate" and ufunc in _ACCUMULATE:
        x = _tensorize(inputs[0])
        res = _ACCUMULATE[ufunc](x, kwargs.get("axis", 0))
        return res.to(dtype) if dtype is not None else res
    if graph:
        raise _unsupported(name if method == "__call__" else f"{name}.{method}")
    if dtype is not None:
        kwargs["dtype"] = dtype
    return _plain_numpy(getattr(ufunc, method) if method != "__call__" else ufunc, inputs, kwargs)


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


def _reduction(name: str) -> Callable[..., Any]:
    fn = {"sum": A.sum, "mean": A.mean, "amax": A.amax, "amin": A.amin,
          "prod": lambda x, axis, keep: _prod_axes(x, axis, keep)}[name]

    def handler(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
                keepdims: bool = False, **kw: Any) -> Any:
        x = _tensorize(a)
        if not isinstance(x, Tensor):
            x = A.as_tensor_arg(x)
        if kw.get("initial") is not None or kw.get("where") is not None:
            if x._rg:
                raise _unsupported(f"{name} with initial/where")
            return _plain_numpy(getattr(np, name), (x,), dict(axis=axis, dtype=dtype,
                                                               keepdims=keepdims, **kw))
        if dtype is not None:
            x = x.to(dtype)
        if name in ("sum", "prod") and x._data.dtype.kind in "biu" and dtype is None:
            x = x.to(np.int64) if x._data.dtype.kind != "u" or x._data.dtype == np.uint8 else x
        res = fn(x, _axis_arg(axis, x.ndim), keepdims)
        return _write_out(out, res) if out is not None else res
    return handler


def _prod_axes(x: Tensor, axis: Any, keepdims: bool) -> Tensor:
    if axis is None:
        return A.prod(x) if not keepdims else A.reshape(A.prod(x), (1,) * x.ndim)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for ax in sorted((a % x.ndim for a in axes), reverse=True):
        x = A.prod(x, ax, keepdims)
    return x


implements(np.sum)(_reduction("sum"))
implements(np.mean)(_reduction("mean"))
implements(np.prod)(_reduction("prod"))
implements(np.max, np.amax)(_reduction("amax"))
implements(np.min, np.amin)(_reduction("amin"))


@implements(np.argmax)
def _argmax(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    return A.argmax(_tensorize(a), axis, keepdims)


@implements(np.argmin)
def _argmin(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    return A.argmin(_tensorize(a), axis, keepdims)


@implements(np.var)
def _var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
         keepdims: bool = False, **kw: Any) -> Any:
    x = _tensorize(a)
    return A.var(x if dtype is None else x.to(dtype), _axis_arg(axis, x.ndim),
                 keepdim=keepdims, correction=ddof)


@implements(np.std)
def _std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
         keepdims: bool = False, **kw: Any) -> Any:
    x = _tensorize(a)
    return A.std(x if dtype is None else x.to(dtype), _axis_arg(axis, x.ndim),
                 keepdim=keepdims, correction=ddof)


@implements(np.where)
def _where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return tuple(A.nonzero(_tensorize(condition), as_tuple=True))
    return A.where(_tensorize(condition), _tensorize(x), _tensorize(y))


@implements(np.clip)
def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **kw: Any) -> Any:
    a_min = kw.pop("min", a_min)
    a_max = kw.pop("max", a_max)
    res = A.clamp(_tensorize(a), _tensorize(a_min), _tensorize(a_max))
    return _write_out(out, res) if out is not None else res


@implements(np.dot)
def _dot(a: Any, b: Any, out: Any = None) -> Any:
    x, y = _tensorize(a), _tensorize(b)
    if not isinstance(x, Tensor) or not isinstance(y, Tensor) or x.ndim == 0 or y.ndim == 0:
        return A.mul(x, y) if isinstance(x, Tensor) else A.mul(y, x)
    if y.ndim <= 2:
        return A.matmul(x, y)
    return A.tensordot(x, y, ([x.ndim - 1], [y.ndim - 2]))


@implements(np.vdot)
def _vdot(a: Any, b: Any) -> Any:
    return A.dot(A.reshape(_tensorize(a), (-1,)), A.reshape(_tensorize(b), (-1,)))


@implements(np.matmul)
def _matmul(a: Any, b: Any, out: Any = None, **kw: Any) -> Any:
    return A.matmul(_tensorize(a), _tensorize(b))


@implements(np.inner)
def _inner(a: Any, b: Any) -> Any:
    x, y = _tensorize(a), _tensorize(b)
    if x.ndim == 0 or y.ndim == 0:
        return A.mul(x, y)
    return A.tensordot(x, y, ([x.ndim - 1], [y.ndim - 1]))


@implements(np.outer)
def _outer(a: Any, b: Any, out: Any = None) -> Any:
    return A.outer(A.reshape(_tensorize(a), (-1,)), A.reshape(_tensorize(b), (-1,)))


@implements(np.einsum)
def _einsum(subscripts: str, *operands: Any, out: Any = None, dtype: Any = None, order: str = "K",
            casting: str = "safe", optimize: Any = False) -> Any:
    # NOTE: ``optimize`` only picks a contraction order (same values); ``order`` a memory layout.
    res = A.einsum(subscripts, *[_tensorize(o) for o in operands])
    if dtype is not None:
        res = res.to(dtype)
    return _write_out(out, res) if out is not None else res


@implements(np.tensordot)
def _tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    return A.tensordot(_tensorize(a), _tensorize(b), axes)


@implements(np.trace)
def _trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
           out: Any = None) -> Any:
    return A.sum(A.diagonal(_tensorize(a), offset, axis1, axis2), -1)


@implements(np.diag)
def _diag(v: Any, k: int = 0) -> Any:
    return A.diag(_tensorize(v), k)


@implements(np.diagonal)
def _diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    return A.diagonal(_tensorize(a), offset, axis1, axis2)


@implements(np.tril)
def _tril(m: Any, k: int = 0) -> Any:
    return A.tril(_tensorize(m), k)


@implements(np.triu)
def _triu(m: Any, k: int = 0) -> Any:
    return A.triu(_tensorize(m), k)


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


@implements(np.sinc)
def _sinc(x: Any) -> Any:
    return AM.sinc(_tensorize(x))


@implements(np.nan_to_num)
def _nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None,
                neginf: Any = None) -> Any:
    return AM.nan_to_num(_tensorize(x), nan=nan, posinf=posinf, neginf=neginf)


@implements(np.count_nonzero)
def _count_nonzero(a: Any, axis: Any = None, *, keepdims: bool = False) -> Any:
    out = AM.count_nonzero(_tensorize(a), dim=axis)
    if keepdims:
        return _plain_numpy(np.count_nonzero, (_tensorize(a),), dict(axis=axis, keepdims=True))
    return out


@implements(np.nanmean)
def _nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False, **kw: Any) -> Any:
    x = _tensorize(a)
    if not isinstance(x, Tensor):
        x = A.as_tensor_arg(x)
    if not x.is_floating_point():
        x = x.to(np.float64)
    res = AM.nanmean(x, axis, keepdims, dtype=dtype)
    return res if out is None else _write_out(out, res)


@implements(np.cumsum)
def _cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    x = _tensorize(a)
    if axis is None:
        x, axis = A.reshape(x, (-1,)), 0
    return A.cumsum(x, axis, dtype=dtype)


@implements(np.cumprod)
def _cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    x = _tensorize(a)
    if axis is None:
        x, axis = A.reshape(x, (-1,)), 0
    return A.cumprod(x, axis, dtype=dtype)


@implements(np.diff)
def _diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    x = _tensorize(a)
    if prepend is not None or append is not None:
        pre = [] if prepend is None else [A.as_tensor_arg(_tensorize(prepend))]
        post = [] if append is None else [A.as_tensor_arg(_tensorize(append))]
        shape = list(x.shape)
        shape[axis] = 1
        pre = [A.expand(p, tuple(shape)) if p.ndim == 0 else p for p in pre]
        post = [A.expand(p, tuple(shape)) if p.ndim == 0 else p for p in post]
        x = A.cat(pre + [x] + post, axis)
    ax = axis % x.ndim
    for _ in range(n):
        hi = (slice(None),) * ax + (slice(1, None),)
        lo = (slice(None),) * ax + (slice(None, -1),)
        x = x[hi] - x[lo]
    return x


@implements(np.sort)
def _sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, **kw: Any) -> Any:
    x = _tensorize(a)
    if axis is None:
        x, axis = A.reshape(x, (-1,)), 0
    return A.sort(x, axis).values


@implements(np.take)
def _take(a: Any, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
    x = _tensorize(a)
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if axis is None:
        return A.reshape(x, (-1,))[idx]
    ax = axis % x.ndim
    return x[(slice(None),) * ax + (idx,)]


@implements(np.take_along_axis)
def _take_along_axis(arr: Any, indices: Any, axis: Any) -> Any:
    x = _tensorize(arr)
    if axis is None:
        x, axis = A.reshape(x, (-1,)), 0
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    ax = axis % max(x.ndim, 1)
    n = x.shape[ax] if x.ndim else 1
    # NOTE: NumPy's semantics here (gradkit's gather and take_along_dim follow PyTorch):
    # negative indices count from the end, and the other dims broadcast.
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].reshape(-1)[0]
        raise IndexError(f"index {bad} is out of bounds for axis {ax} with size {n}")
    return A.take_along_dim(x, np.where(idx < 0, idx + n, idx), ax)


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
        base = A_factories().full(shape, float(np.asarray(value)), dtype=x.dtype)
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


@implements(np.zeros_like)
def _zeros_like(a: Any, dtype: Any = None, **kw: Any) -> Any:
    return A_factories().zeros_like(_tensorize(a), dtype=dtype)


@implements(np.ones_like)
def _ones_like(a: Any, dtype: Any = None, **kw: Any) -> Any:
    return A_factories().ones_like(_tensorize(a), dtype=dtype)


@implements(np.full_like)
def _full_like(a: Any, fill_value: Any, dtype: Any = None, **kw: Any) -> Any:
    return A_factories().full_like(_tensorize(a), fill_value, dtype=dtype)


@implements(np.empty_like)
def _empty_like(a: Any, dtype: Any = None, **kw: Any) -> Any:
    return A_factories().zeros_like(_tensorize(a), dtype=dtype)


def A_factories() -> Any:
    return _factories


@implements(np.shape)
def _shape(a: Any) -> tuple[int, ...]:
    return tuple(_tensorize(a).shape)


@implements(np.ndim)
def _ndim(a: Any) -> int:
    return _tensorize(a).ndim


@implements(np.size)
def _size(a: Any, axis: Any = None) -> int:
    x = _tensorize(a)
    return x.numel() if axis is None else x.shape[axis]


@implements(np.linalg.norm)
def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    t = _tensorize(x)
    if ord in (None, 2, "fro") and (axis is None or isinstance(axis, int)) and \
            (t.ndim == 1 or axis is not None or ord in (None, "fro")):
        return A.norm(t, 2, axis, keepdims)
    if ord is not None and not isinstance(ord, str) and (t.ndim == 1 or isinstance(axis, int)):
        return A.norm(t, ord, axis, keepdims)
    try:
        from gradkit import linalg as L
    except ImportError:
        raise _unsupported("linalg.norm with a matrix ord") from None
    return L.norm(t, ord, axis, keepdims)


def _linalg_handlers() -> None:
    """np.linalg functions that map onto gradkit.linalg (NumPy's return conventions)."""
    from gradkit import linalg as L

    implements(np.linalg.inv)(lambda a: L.inv(_tensorize(a)))
    implements(np.linalg.det)(lambda a: L.det(_tensorize(a)))
    implements(np.linalg.slogdet)(lambda a: tuple(L.slogdet(_tensorize(a))))
    implements(np.linalg.cholesky)(lambda a, upper=False: L.cholesky(_tensorize(a), upper=upper))
    implements(np.linalg.pinv)(lambda a, rcond=None, hermitian=False, **kw:
                               L.pinv(_tensorize(a), rtol=rcond, hermitian=hermitian))
    implements(np.linalg.eigvalsh)(lambda a, UPLO="L": L.eigvalsh(_tensorize(a), UPLO))
    implements(np.linalg.matrix_power)(lambda a, n: L.matrix_power(_tensorize(a), n))

    @implements(np.linalg.solve)
    def _solve(a: Any, b: Any) -> Any:
        A_, B_ = _tensorize(a), _tensorize(b)
        return L.solve(A_, A.as_tensor_arg(B_) if not isinstance(B_, Tensor) else B_)

    @implements(np.linalg.qr)
    def _qr(a: Any, mode: str = "reduced") -> Any:
        return tuple(L.qr(_tensorize(a), mode)) if mode != "r" else L.qr(_tensorize(a), "r")[1]

    @implements(np.linalg.eigh)
    def _eigh(a: Any, UPLO: str = "L") -> Any:
        return tuple(L.eigh(_tensorize(a), UPLO))

    @implements(np.linalg.svd)
    def _svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
        if not compute_uv:
            return L.svdvals(_tensorize(a))
        return tuple(L.svd(_tensorize(a), full_matrices=full_matrices))


#: NumPy functions whose results carry no gradient (bools, indices, counts, dtypes, text):
#: they run on the values even for tensors that require grad, as ``argmax`` and comparisons do
_NO_GRADIENT = {np.result_type, np.iscomplexobj, np.isrealobj, np.can_cast, np.min_scalar_type,
                np.allclose, np.array_equal, np.array_equiv, np.isclose, np.nonzero,
                np.flatnonzero, np.argwhere, np.searchsorted, np.argsort, np.argpartition,
                np.any, np.all, np.shares_memory, np.may_share_memory, np.array_repr,
                np.array_str}


def array_function(self: Tensor, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    """``Tensor.__array_function__``: route NumPy functions to gradkit operations."""
    handler = FUNCTIONS.get(func)
    if handler is not None:
        return handler(*args, **kwargs)
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
    names = {f"numpy.{getattr(f, '__name__', str(f))}" for f in UFUNCS}
    for f in FUNCTIONS:
        mod = getattr(f, "__module__", "numpy") or "numpy"
        prefix = "numpy.linalg." if "linalg" in mod else "numpy.fft." if "fft" in mod else "numpy."
        names.add(prefix + f.__name__)
    return sorted(names)


@implements(np.real)
def _real(val: Any) -> Any:
    x = _tensorize(val)
    return AC.real(x) if x.is_complex() else x


@implements(np.imag)
def _imag(val: Any) -> Any:
    x = _tensorize(val)
    return AC.imag(x) if x.is_complex() else A.mul(x, 0)


@implements(np.angle)
def _angle(z: Any, deg: bool = False) -> Any:
    a = AC.angle(_tensorize(z))
    return AM.rad2deg(a) if deg else a


def _fft_handlers() -> None:
    """np.fft functions: gradkit.fft's rows with NumPy's signatures (gradkit/fft/_numpy.py,
    imported on the first call so that ``import gradkit`` stays fast)."""
    import importlib

    def handler(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(importlib.import_module("gradkit.fft._numpy"), name)(*args, **kwargs)
        return call

    for name in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
                 "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "fftshift", "ifftshift"):
        implements(getattr(np.fft, name))(handler(name))


_linalg_handlers()
_fft_handlers()
Tensor.__array_ufunc__ = array_ufunc  # type: ignore[attr-defined]
Tensor.__array_function__ = array_function  # type: ignore[attr-defined]
from gradkit._api import numpy_routines  # noqa: E402,F401  (more handlers, by NumPy's families)
