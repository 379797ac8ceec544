"""PyTorch-style public functions (``gk.sum(x, dim=0)``), routed to the derivative table.

Every function here validates its arguments and calls a primitive from
``gradkit/ops`` (or composes several); none carries a derivative of its own.
"""

from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from . import _dtype
from . import _backend
from ._backend import backend_of, c_contiguous
from ._tensor import Tensor, _make
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reduction as R
from .ops import shape as S
from .ops._registry import apply, apply1

Dims = Any

class _ValuesIndices(tuple):
    """A ``(values, indices)`` pair that prints as ``gradkit.return_types.max(...)``."""

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
        return (f"gradkit.return_types.{self._name}(\nvalues={self[0]!r},\n"
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
_sort_ret = _return_type("sort")
_topk_ret = _return_type("topk")
_kth_ret = _return_type("kthvalue")
_cummax_ret = _return_type("cummax")
_cummin_ret = _return_type("cummin")


def as_tensor_arg(x: Any) -> Tensor:
    """Turn an argument into a Tensor (Python numbers and arrays become constants)."""
    if isinstance(x, Tensor):
        return x
    from ._factories import tensor
    return tensor(x)


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
    if isinstance(x, (Tensor, int, float, bool)):
        return x
    if isinstance(x, np.generic):
        return x.item()
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
    parent_fn = getattr(x, "_view_fn", None)
    if x._base is not None and parent_fn is not None:
        out._base = x._base
        out._view_fn = lambda b: apply(prim, (parent_fn(b),), params, variant)
    else:
        out._base = x
        out._view_fn = lambda b: apply(prim, (b,), params, variant)
    return out


# --- unary ---------------------------------------------------------------------------
def _unary(prim_fn: Any) -> Any:
    prim = prim_fn.prim

    def fn(input: Tensor) -> Tensor:
        if isinstance(input, Tensor):
            return apply1(prim, input)
        return prim_fn(_t(input))
    fn.__name__ = prim_fn.__name__
    fn.__doc__ = f"Elementwise ``{prim_fn.__name__}``; derivative from the table (ops/elementwise.py)."
    return fn


def _no_bool(fn: Any, name: str) -> Any:
    """Wrap a unary op that PyTorch does not define for bool tensors."""
    def wrapped(input: Tensor) -> Tensor:
        if isinstance(input, Tensor) and input._data.dtype == np.bool_:
            raise NotImplementedError(f'"{name}" not implemented for \'Bool\'')
        return fn(input)
    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


def neg(input: Tensor) -> Tensor:
    """``-input``; not defined for bool tensors (use ``~`` or ``logical_not``)."""
    if isinstance(input, Tensor) and input._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return apply1(E.neg.prim, _t(input))


negative = neg
exp = _unary(E.exp)
exp2 = _unary(E.exp2)
expm1 = _unary(E.expm1)
log = _unary(E.log)
log2 = _unary(E.log2)
log10 = _unary(E.log10)
log1p = _unary(E.log1p)
sqrt = _unary(E.sqrt)
rsqrt = _unary(E.rsqrt)
abs = absolute = _no_bool(_unary(E.abs), "abs_cpu")  # noqa: A001


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (a bool tensor is its own sign)."""
    x = _t(input)
    if x._data.dtype == np.bool_:
        return _make(x._data.copy(), False, None)
    return apply1(E.sign.prim, x)


sgn = sign
sin = _unary(E.sin)
cos = _unary(E.cos)
tan = _unary(E.tan)
asin = arcsin = _unary(E.asin)
acos = arccos = _unary(E.acos)
atan = arctan = _unary(E.atan)
sinh = _unary(E.sinh)
cosh = _unary(E.cosh)
tanh = _unary(E.tanh)
asinh = arcsinh = _unary(E.asinh)
acosh = arccosh = _unary(E.acosh)
atanh = arctanh = _unary(E.atanh)
sigmoid = _unary(E.sigmoid)
relu = _unary(E.relu)
erf = _unary(E.erf)
reciprocal = _unary(E.reciprocal)
floor = _no_bool(_unary(E.floor), "floor_vml_cpu")
ceil = _no_bool(_unary(E.ceil), "ceil_vml_cpu")
trunc = fix = _no_bool(_unary(E.trunc), "trunc_vml_cpu")
frac = _no_bool(_unary(E.frac), "frac_cpu")
isnan = _unary(E.isnan)
isinf = _unary(E.isinf)
isfinite = _unary(E.isfinite)
signbit = _unary(E.signbit)
logical_not = _unary(E.logical_not)
bitwise_not = _unary(E.bitwise_not)


def square(input: Tensor) -> Tensor:
    """``input ** 2`` (recorded as ``PowBackward0``, as in PyTorch); bool gives int64."""
    x = _t(input)
    if x._data.dtype == np.bool_:
        x = x.to(_dtype.int64)
    return E.pow_scalar(x, exponent=2)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even (as PyTorch and NumPy); the gradient is zero."""
    x = _t(input)
    if x._data.dtype == np.bool_:
        raise NotImplementedError('"round_vml_cpu" not implemented for \'Bool\'')
    return E.round(x, decimals=decimals) if decimals else E.round(x)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``; with ``eps`` the input is clamped to ``[eps, 1 - eps]`` first."""
    x = _t(input)
    return E.logit(x, eps=eps) if eps is not None else E.logit(x)


def positive(input: Tensor) -> Tensor:
    return _t(input)


# --- binary --------------------------------------------------------------------------
_SUB_BOOL = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
             "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
_SUB_BOOL2 = ("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
              "`logical_xor()` operator instead.")


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool) or (isinstance(v, Tensor) and v._data.dtype == np.bool_)


def _check_sub_bool(a: Any, b: Any) -> None:
    """PyTorch's refusal of ``-`` on bool operands."""
    ba, bb = _is_bool(a), _is_bool(b)
    if ba or bb:
        raise RuntimeError(_SUB_BOOL2 if ba and bb else _SUB_BOOL)


def _wrap_int(x: Any, v: Any) -> Any:
    """A Python int out of an integer tensor's range, wrapped around as PyTorch does (uint8 -3 -> 253)."""
    if type(v) is not int or not isinstance(x, Tensor) or x._data.dtype.kind not in "iu":
        return v
    info = np.iinfo(x._data.dtype)
    if info.min <= v <= info.max:
        return v
    return (v - int(info.min)) % (int(info.max) - int(info.min) + 1) + int(info.min)


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """``input + alpha * other`` with broadcasting."""
    other = _wrap_int(input, _other(other))
    if alpha != 1:
        other = E.mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    if not isinstance(input, Tensor):
        if isinstance(other, Tensor):
            return E.add(other, input)
        input = _t(input)
    return E.add(input, other)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """``input - alpha * other`` with broadcasting (not on bool tensors, as PyTorch)."""
    _check_sub_bool(input, other)
    other = _wrap_int(input, _other(other))
    if alpha != 1:
        other = E.mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    if not isinstance(input, Tensor):
        if isinstance(other, Tensor):
            return E.rsub(other, other=input)
        input = _t(input)
    return E.sub(input, other)


subtract = sub


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``other - alpha * input``."""
    _check_sub_bool(input, other)
    x = _t(input)
    if alpha != 1:
        x = E.mul(x, alpha)
    other = _other(other)
    return E.sub(other, x) if isinstance(other, Tensor) else E.rsub(x, other=other)


def _binary(prim_fn: Any, name: str) -> Any:
    def fn(input: Any, other: Any) -> Tensor:
        other = _other(other)
        if type(other) is int:
            other = _wrap_int(input, other)
        if not isinstance(input, Tensor):
            input = _t(input) if not isinstance(other, Tensor) else input
        return prim_fn(input, other)
    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}`` with broadcasting."
    return fn


mul = multiply = _binary(E.mul, "mul")
remainder = _binary(E.remainder, "remainder")
fmod = _binary(E.fmod, "fmod")
maximum = _binary(E.maximum, "maximum")
minimum = _binary(E.minimum, "minimum")
logaddexp = _binary(E.logaddexp, "logaddexp")
hypot = _binary(E.hypot, "hypot")
atan2 = arctan2 = _binary(E.atan2, "atan2")
eq = _binary(E.eq, "eq")
ne = not_equal = _binary(E.ne, "ne")
lt = less = _binary(E.lt, "lt")
le = less_equal = _binary(E.le, "le")
gt = greater = _binary(E.gt, "gt")
ge = greater_equal = _binary(E.ge, "ge")
logical_and = _binary(E.logical_and, "logical_and")
logical_or = _binary(E.logical_or, "logical_or")
logical_xor = _binary(E.logical_xor, "logical_xor")
bitwise_and = _binary(E.bitwise_and, "bitwise_and")
bitwise_or = _binary(E.bitwise_or, "bitwise_or")
bitwise_xor = _binary(E.bitwise_xor, "bitwise_xor")


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """True division; ``rounding_mode='floor'`` or ``'trunc'`` rounds the quotient."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        q = _binary(E.div, "div")(input, other)
        return E.trunc(q).to(_dtype.result_type(input, other)) \
            if not q.is_floating_point() or _is_int(input, other) else E.trunc(q)
    if rounding_mode is not None:
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    other = _other(other)
    if not isinstance(input, Tensor):
        if isinstance(other, Tensor):
            return E.mul(E.reciprocal(other), input)
        input = _t(input)
    return E.div(input, other)


def _is_int(*xs: Any) -> bool:
    return not _dtype.result_type(*xs).is_floating_point


divide = true_divide = div


def floor_divide(input: Any, other: Any) -> Tensor:
    """Floor of the quotient (no gradient: PyTorch does not define one)."""
    return _binary(E.floor_divide, "floor_divide")(input, other)


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001
    """``input ** exponent``; either side may be a Python number."""
    if isinstance(input, Tensor):
        if isinstance(exponent, Tensor):
            return E.pow(input, exponent)
        exponent = _other(exponent)
        if isinstance(exponent, Tensor):
            return E.pow(input, exponent)
        return _pow_scalar(input, exponent)
    if isinstance(exponent, Tensor):
        if exponent._data.dtype == np.bool_ and isinstance(input, int):
            exponent = exponent.to(_dtype.int64)          # 2 ** bool_tensor is int64, as PyTorch
        return E.rpow(exponent, base=input)
    return _pow_scalar(_t(input), exponent)


def _pow_scalar(x: Tensor, exponent: Any) -> Tensor:
    kind = x._data.dtype.kind
    if kind in "iub" and isinstance(exponent, int) and not isinstance(exponent, bool):
        if exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if kind == "b":
            x = x.to(_dtype.int64)
    return E.pow_scalar(x, exponent=exponent)


float_power = pow


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit every element to ``[min, max]``.

    Notes
    -----
    The gradient is 1 where ``min <= input <= max``, bounds included (as in
    PyTorch), and 0 elsewhere.
    """
    x = _t(input)
    if min is None and max is None:
        raise RuntimeError("gradkit.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, (Tensor, np.ndarray)) or isinstance(max, (Tensor, np.ndarray)):
        lo = _other(min) if min is not None else None
        hi = _other(max) if max is not None else None
        lo = as_tensor_arg(lo) if lo is not None and not isinstance(lo, Tensor) else lo
        hi = as_tensor_arg(hi) if hi is not None and not isinstance(hi, Tensor) else hi
        return E.clamp_tensor(x, lo, hi)
    if x._data.dtype.kind in "iub" and (isinstance(min, float) or isinstance(max, float)):
        x = x.to(_dtype.get_default_dtype())
    elif x._data.dtype == np.bool_:
        x = x.to(_dtype.int64)
    return E.clamp_scalar(x, min=min, max=max)


clip = clamp


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return clamp(input, max=max)


def where(condition: Any, input: Any = None, other: Any = None, *, safe: bool = False) -> Any:
    """``input`` where ``condition`` holds, else ``other``; with one argument, ``nonzero``.

    With ``safe=True`` the branch that was not selected cannot poison the gradient:
    the elementwise operations that computed ``input`` and ``other`` give a zero
    gradient wherever their incoming gradient is zero, so ``where(x > 0, sqrt(x), 0,
    safe=True)`` has gradient 0 (not nan) at negative ``x``. The default is PyTorch's
    behaviour (nan there).
    """
    cond = _t(condition)
    if input is None and other is None:
        return nonzero(cond, as_tuple=True)
    if cond._data.dtype != np.bool_:
        if cond._data.dtype != np.uint8:        # NOTE: PyTorch still takes uint8 (deprecated)
            raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor "
                               f"with dtype {_scalar_name(cond.dtype)}")
        cond = cond.to(_dtype.bool)
    x, y = _other(input), _other(other)
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = as_tensor_arg(x)
    dt = _dtype.result_type(*(v for v in (x, y)))
    if isinstance(x, Tensor) and x.dtype is not dt:
        x = x.to(dt)
    if isinstance(y, Tensor) and y.dtype is not dt:
        y = y.to(dt)
    out = E.where(cond, x, y)
    if out._data.dtype != dt.np:
        out = out.to(dt)
    if safe:
        _mark_zero_safe([v for v in (x, y) if isinstance(v, Tensor)])
    return out


def _mark_zero_safe(roots: list[Tensor]) -> None:
    """Mark the elementwise nodes that computed ``roots`` (see ``where(..., safe=True)``)."""
    stack = [t._fn for t in roots if t._fn is not None]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        prim = getattr(node, "prim", None)
        if prim is None or not prim.scalar_ok:       # only elementwise rows map g onto inputs
            continue
        node.zero_safe = True
        node.special = True
        stack.extend(edge[0] for edge in node.next if type(edge) is tuple)


# --- reductions ---------------------------------------------------------------------
def _dims(input: Tensor, dim: Any) -> Any:
    return S.norm_dims(dim, input._data.ndim)


def sum(input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dims when None); integer and bool inputs sum as int64."""
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    if dim is None and not keepdim:
        return apply1(R.sum_p.prim, x, _FULL, 0)
    d = _dims(x, dim)
    return apply1(R.sum_p.prim, x, {"dim": d, "keepdim": keepdim}, 0 if dim is None else 1)


_FULL = {"dim": None, "keepdim": False}


def mean(input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Arithmetic mean over ``dim``; needs a floating input as in PyTorch."""
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_scalar_name(x.dtype)}")
    d = _dims(x, dim)
    return apply1(R.mean_p.prim, x, {"dim": d, "keepdim": keepdim}, 0 if dim is None else 1)


def _scalar_name(d: _dtype.dtype) -> str:
    """PyTorch's scalar type name in messages: ``Long``, ``Float``, ``Bool``."""
    return d._legacy[: -len("Tensor")]


def nansum(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """Sum treating nan as zero; nan entries get no gradient."""
    x = _t(input)
    if x.is_floating_point():
        x = where(isnan(x), 0.0, x)
    return apply1(R.sum_p.prim, x, {"dim": _dims(x, dim), "keepdim": keepdim}, 2)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product over one dim (or all); the gradient is exact when the input holds zeros."""
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    d = None if dim is None else (S.norm_dim(dim, x.ndim),)
    return apply(R.prod_p.prim, (x,), {"dim": d, "keepdim": keepdim}, 0 if dim is None else 1)


def _minmax(input: Tensor, dim: Any, keepdim: bool, other: Any, full_prim: Any, dim_prim: Any,
            pair: Any, ret: Any) -> Any:
    x = _t(input)
    if isinstance(dim, Tensor) or (other is not None):
        return pair(x, dim if other is None else other)
    if dim is None:
        return apply(full_prim.prim, (x,), {"dim": None, "keepdim": False}, 1)
    d = S.norm_dim(_int_dim(dim, "max" if dim_prim is R.max_dim_p else "min"), x.ndim)
    R._check_nonempty(x, (d,), "max" if dim_prim is R.max_dim_p else "min")
    values, indices = dim_prim(x, dim=d, keepdim=keepdim)
    return ret(values, indices)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001
    """Full max (ties share the gradient), ``max(dim)`` -> ``(values, indices)``, or ``max(a, b)``."""
    return _minmax(input, dim, keepdim, other, R.amax_p, R.max_dim_p, maximum, _max_ret)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001
    """Full min (ties share the gradient), ``min(dim)`` -> ``(values, indices)``, or ``min(a, b)``."""
    return _minmax(input, dim, keepdim, other, R.amin_p, R.min_dim_p, minimum, _min_ret)


def amax(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:
    """Max over ``dim`` (all when empty); tied elements share the gradient equally."""
    x = _t(input)
    d = _dims(x, dim)
    R._check_nonempty(x, d, "amax")
    return R.amax_p(x, dim=d, keepdim=keepdim)


def amin(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:
    """Min over ``dim`` (all when empty); tied elements share the gradient equally."""
    x = _t(input)
    d = _dims(x, dim)
    R._check_nonempty(x, d, "amin")
    return R.amin_p(x, dim=d, keepdim=keepdim)


def _int_dim(dim: Any, name: str) -> Any:
    """``dim`` for ops that take a single int, with PyTorch's TypeError otherwise."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return dim


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Lower median; with ``dim``, ``(values, indices)``.

    The full median splits its gradient evenly over the elements equal to it; ``median(dim)``
    sends it to the returned index (both as in PyTorch).
    """
    x = _t(input)
    if dim is None:
        return apply(R.median_dim_p.prim, (x,), {"dim": None, "keepdim": False}, R.MEDIAN_ALL)[0]
    d = S.norm_dim(_int_dim(dim, "median"), x.ndim)
    R._check_nonempty(x, (d,), "median")
    v, i = R.median_dim_p(x, dim=d, keepdim=keepdim)
    return _median_ret(v, i)


def _arg_extreme(prim: Any, name: str, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    x = _t(input)
    d = None if dim is None else S.norm_dim(_int_dim(dim, name), x.ndim)
    if x.numel() == 0:
        if d is None or x.ndim == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        if x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return prim(x, dim=d, keepdim=keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg_extreme(R.argmax_p, "argmax", input, dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg_extreme(R.argmin_p, "argmin", input, dim, keepdim)


def all(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    x = _t(input)
    return R.all_p(x, dim=_dims(x, dim), keepdim=keepdim)


def any(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    x = _t(input)
    return R.any_p(x, dim=_dims(x, dim), keepdim=keepdim)


def logsumexp(input: Tensor, dim: Dims, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input), dim))`` computed stably (a fused primitive)."""
    x = _t(input)
    if not x.is_floating_point():
        x = x.to(_dtype.get_default_dtype())
    return R.logsumexp_p(x, dim=_dims(x, dim), keepdim=keepdim)


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None:
        return correction
    if isinstance(unbiased, bool) or unbiased is None:
        return 1 if unbiased in (None, True) else 0
    return 1


def var(input: Tensor, dim: Dims = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (1 unless told otherwise)."""
    x = _t(input)
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return R.var_p(x, dim=_dims(x, dim), correction=_correction(unbiased, correction),
                   keepdim=keepdim)


def std(input: Tensor, dim: Dims = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Standard deviation over ``dim`` with Bessel's ``correction`` (1 unless told otherwise)."""
    x = _t(input)
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return R.std_p(x, dim=_dims(x, dim), correction=_correction(unbiased, correction),
                   keepdim=keepdim)


def var_mean(input: Tensor, dim: Dims = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    return (var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def std_mean(input: Tensor, dim: Dims = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    return (std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def norm(input: Tensor, p: Any = "fro", dim: Dims = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default); the 2-norm of zeros has gradient 0."""
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    if p in ("fro", None):
        p = 2.0
    if p == "nuc":
        raise NotImplementedError("the nuclear norm is not supported yet")
    return R.norm_p(x, ord=float(p), dim=_dims(x, dim), keepdim=keepdim)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    return norm(sub(input, other), p)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    return R.cumsum_p(x, dim=S.norm_dim(_int_dim(dim, "cumsum"), x.ndim))


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    return R.cumprod_p(x, dim=S.norm_dim(_int_dim(dim, "cumprod"), x.ndim))


# --- shapes -----------------------------------------------------------------------------
def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer_shape(shape: tuple[int, ...], numel: int) -> tuple[int, ...]:
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """The same elements with a new shape (one dim may be -1)."""
    x = _t(input)
    target = _infer_shape(_shape_arg(shape), x._data.size)
    variant = S.VIEW if c_contiguous(x._data) else S.UNSAFE_VIEW
    return _view_op(x, S.reshape_p.prim, {"shape": target}, variant)


def view(input: Tensor, *shape: Any) -> Tensor:
    """Like ``reshape``; the tensor must be contiguous, as in PyTorch."""
    x = _t(input)
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        return x.to(shape[0])
    if not c_contiguous(x._data) and x._data.size > 1:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    target = _infer_shape(_shape_arg(shape), x._data.size)
    return _view_op(x, S.reshape_p.prim, {"shape": target}, S.VIEW)


def _reshape_variant(x: Tensor, shape: tuple[int, ...], variant: int) -> Tensor:
    return _view_op(x, S.reshape_p.prim, {"shape": tuple(shape)}, variant)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    x = _t(input)
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = S.norm_dim(start_dim, x.ndim), S.norm_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    shp = x.shape
    new = tuple(shp[:s]) + (int(np.prod(shp[s:e + 1], dtype=np.int64)),) + tuple(shp[e + 1:])
    return reshape(x, new)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    sizes = _infer_shape(tuple(sizes), x.shape[d])
    return reshape(x, tuple(x.shape[:d]) + sizes + tuple(x.shape[d + 1:]))


def squeeze(input: Tensor, dim: Dims = None) -> Tensor:
    """Remove size-1 dims (all, or those in ``dim``)."""
    x = _t(input)
    if dim is None:
        new = tuple(s for s in x.shape if s != 1)
        return _reshape_variant(x, new, S.SQUEEZE)
    dims = _dims(x, dim) or ()
    new = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    return _reshape_variant(x, new, S.SQUEEZE_DIM if isinstance(dim, int) else S.SQUEEZE_DIMS)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim``."""
    x = _t(input)
    d = S.norm_dim(dim, x.ndim + 1)
    new = tuple(x.shape[:d]) + (1,) + tuple(x.shape[d:])
    return _reshape_variant(x, new, S.UNSQUEEZE)


def permute(input: Tensor, *dims: Any) -> Tensor:
    x = _t(input)
    d = _shape_arg(dims)
    if len(d) != x.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(d)}")
    d = tuple(S.norm_dim(i, x.ndim) for i in d)
    if len(set(d)) != len(d):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _view_op(x, S.permute_p.prim, {"dims": d}, S.PERMUTE)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims."""
    x = _t(input)
    if x.ndim == 0:
        return x
    a, b = S.norm_dim(dim0, x.ndim), S.norm_dim(dim1, x.ndim)
    d = list(range(x.ndim))
    d[a], d[b] = d[b], d[a]
    return _view_op(x, S.permute_p.prim, {"dims": tuple(d)}, S.TRANSPOSE)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose a matrix (0-D and 1-D tensors are returned as they are)."""
    x = _t(input)
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    if x.ndim < 2:
        return x
    return _view_op(x, S.permute_p.prim, {"dims": (1, 0)}, S.T)


def movedim(input: Tensor, source: Dims, destination: Dims) -> Tensor:
    x = _t(input)
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    order = _moved(x.ndim, src, dst)
    return _view_op(x, S.permute_p.prim, {"dims": tuple(order)}, S.PERMUTE)


def _moved(ndim: int, src: tuple[int, ...], dst: tuple[int, ...]) -> list[int]:
    src = tuple(S.norm_dim(s, ndim) for s in src)
    dst = tuple(S.norm_dim(d, ndim) for d in dst)
    order = [i for i in range(ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return order


moveaxis = movedim


def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to a larger shape without copying (-1 keeps a dim)."""
    x = _t(input)
    shape = _shape_arg(sizes)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand(gradkit.{x.dtype._legacy}{{{list(x.shape)}}}, size={list(shape)}): "
                           f"the number of sizes provided ({len(shape)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({x.ndim})")
    full = []
    for i, s in enumerate(shape):
        if s == -1:
            if i < lead:
                raise RuntimeError("The expanded size of the tensor (-1) isn't allowed in a "
                                   "leading, non-existing dimension")
            s = x.shape[i - lead]
        elif i >= lead and x.shape[i - lead] != 1 and x.shape[i - lead] != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({x.shape[i - lead]}) at non-singleton dimension {i}.  "
                               f"Target sizes: {list(shape)}.  Tensor sizes: {list(x.shape)}")
        full.append(s)
    return _view_op(x, S.expand_p.prim, {"shape": tuple(full)})


def broadcast_to(input: Tensor, shape: Sequence[int]) -> Tensor:
    return expand(input, tuple(shape))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, tuple(other.shape))


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    shape = S.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    from ._tensor import Size
    return Size(S.broadcast_shapes(*shapes))


def repeat(input: Tensor, *repeats: Any) -> Tensor:
    """Tile the tensor ``repeats`` times along each dim (PyTorch's ``Tensor.repeat``)."""
    x = _t(input)
    reps = _shape_arg(repeats)
    if len(reps) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return S.repeat_p(x, repeats=reps)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    x = _t(input)
    reps = tuple(dims)
    if len(reps) < x.ndim:
        reps = (1,) * (x.ndim - len(reps)) + reps
    return S.repeat_p(x, repeats=reps)


def repeat_interleave(input: Tensor, repeats: Any, dim: int | None = None) -> Tensor:
    x = _t(input)
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    d = S.norm_dim(dim, x.ndim)
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    index = np.repeat(np.arange(x.shape[d]), reps)
    return index_select(x, d, index)


def flip(input: Tensor, dims: Dims) -> Tensor:
    x = _t(input)
    d = (dims,) if isinstance(dims, int) else tuple(dims)
    return S.flip_p(x, dims=tuple(S.norm_dim(i, x.ndim) for i in d))


def fliplr(input: Tensor) -> Tensor:
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    return flip(input, (0,))


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    x = _t(input)
    if dims is None:
        return S.roll_p(x, shifts=shifts if isinstance(shifts, int) else tuple(shifts), dims=None)
    sh = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dm = (dims,) if isinstance(dims, int) else tuple(dims)
    return S.roll_p(x, shifts=sh, dims=tuple(S.norm_dim(d, x.ndim) for d in dm))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    x = _t(input)
    k %= 4
    a, b = dims
    if k == 0:
        return x
    if k == 1:
        return transpose(flip(x, (b,)), a, b)
    if k == 2:
        return flip(x, (a, b))
    return flip(transpose(x, a, b), (b,))


def cat(tensors: Sequence[Tensor], dim: int = 0, *, out: Any = None) -> Tensor:
    """Join tensors along an existing dim."""
    ts = [_t(t) for t in tensors]
    if not ts:
        raise RuntimeError("gradkit.cat(): expected a non-empty list of Tensors")
    ts = [t for t in ts if not (t.ndim == 1 and t.shape[0] == 0)] or ts[:1]
    d = S.norm_dim(dim, ts[0].ndim)
    for i, t in enumerate(ts[1:], start=1):
        if t.ndim != ts[0].ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ts[0].ndim} "
                               f"and {t.ndim}")
        for k, (a, b) in enumerate(zip(ts[0].shape, t.shape)):
            if k != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected "
                                   f"size {a} but got size {b} for tensor number {i} in the list.")
    dt = _dtype.result_type(*ts)
    ts = [t if t.dtype is dt else t.to(dt) for t in ts]
    return S.cat_p(*ts, dim=d)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along a new dim."""
    ts = [_t(t) for t in tensors]
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = ts[0].shape
    for i, t in enumerate(ts):
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t.shape)} at entry {i}")
    d = S.norm_dim(dim, ts[0].ndim + 1)
    dt = _dtype.result_type(*ts)
    ts = [t if t.dtype is dt else t.to(dt) for t in ts]
    return S.stack_p(*ts, dim=d)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    ts = [atleast_1d(_t(t)) for t in tensors]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    return cat([atleast_2d(_t(t)) for t in tensors], 0)


def atleast_1d(input: Tensor) -> Tensor:
    x = _t(input)
    return reshape(x, (1,)) if x.ndim == 0 else x


def atleast_2d(input: Tensor) -> Tensor:
    x = _t(input)
    return reshape(x, (1,) * (2 - x.ndim) + tuple(x.shape)) if x.ndim < 2 else x


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into chunks of a given size (the last may be smaller) or of given sizes."""
    x = _t(tensor)
    d = S.norm_dim(dim, x.ndim)
    sizes = S.sizes_from_split(x.shape[d], split_size_or_sections)
    return tuple(S.split_p(x, sizes=sizes, dim=d))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    x = _t(input)
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: %d" % chunks)
    d = S.norm_dim(dim, x.ndim)
    n = x.shape[d]
    size = -(-n // chunks) if n else 1
    return split(x, builtins.max(size, 1), d)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    else:
        bounds = [0] + [builtins.min(int(i), n) for i in indices_or_sections] + [n]
        sizes = [builtins.max(b - a, 0) for a, b in zip(bounds[:-1], bounds[1:])]
    return tuple(S.split_p(x, sizes=tuple(sizes), dim=d))


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Remove a dim, returning the slices along it."""
    x = _t(input)
    return tuple(S.unbind_p(x, dim=S.norm_dim(dim, x.ndim)))


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    start = int(start)
    if start < 0:
        start += x.shape[d]
    if start < 0 or start + length > x.shape[d]:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({x.shape[d]}).")
    idx = (slice(None),) * d + (slice(start, start + length),)
    return _view_op(x, S.getitem_p.prim, {"index": idx}, S.SLICE)


def _index_array(index: Any) -> np.ndarray:
    arr = index._data if isinstance(index, Tensor) else _backend.as_data(index)
    if arr.dtype.kind not in "iu":
        raise RuntimeError(f"index_select(): Expected dtype int32/int64 for index but got: "
                           f"{arr.dtype}")
    return arr.astype(np.int64, copy=False)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    idx = (slice(None),) * d + (_index_array(index).reshape(-1),)
    return apply(S.getitem_p.prim, (x,), {"index": idx}, S.INDEX_SELECT)


def gather(input: Tensor, dim: int, index: Any) -> Tensor:
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    return S.gather_p(x, dim=d, index=_index_array(index))


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    idx = _index_array(index)
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported yet; use scatter_add")
    src = value if src is None else src
    if isinstance(src, Tensor):
        return apply(S.scatter_p.prim, (x, src), {"dim": d, "index": idx}, 0)
    return apply(S.scatter_p.prim, (x, src), {"dim": d, "index": idx}, 1)


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    x = _t(input)
    return S.scatter_add_p(x, _t(src), dim=S.norm_dim(dim, x.ndim), index=_index_array(index))


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    x = _t(input)
    m = _t(mask)
    if m._data.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{m.dtype.name}")
    return S.masked_fill_p(x, m, _other(value))


def masked_select(input: Tensor, mask: Any) -> Tensor:
    x = _t(input)
    m = _t(mask)._data
    shape = S.broadcast_shapes(tuple(x.shape), m.shape)
    if tuple(x.shape) != shape:
        x = expand(x, shape)
    return apply(S.getitem_p.prim, (x,), {"index": np.broadcast_to(m, shape)}, S.MASKED_SELECT)


def take(input: Tensor, index: Any) -> Tensor:
    x = _t(input)
    flat = reshape(x, (-1,))
    return apply(S.getitem_p.prim, (flat,), {"index": _index_array(index)}, S.TAKE)


def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    x = _t(input)
    if dim is None:
        return take(x, indices)
    return gather(x, dim, indices)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    x = _t(input)
    _not_lazy(x, "nonzero", "has a shape that depends on the values")
    nz = np.nonzero(x._data)
    if as_tuple:
        return tuple(_make(i.astype(np.int64), False, None) for i in nz)
    return _make(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64),
                 False, None)


def argwhere(input: Tensor) -> Tensor:
    return nonzero(input)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    return S.tril_p(_t(input), diagonal=diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    return S.triu_p(_t(input), diagonal=diagonal)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    x = _t(input)
    return _view_op(x, S.diagonal_p.prim, {"offset": offset, "dim1": S.norm_dim(dim1, x.ndim),
                                         "dim2": S.norm_dim(dim2, x.ndim)})


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """The diagonal of a matrix, or a matrix with a vector on its diagonal."""
    x = _t(input)
    if x.ndim == 1:
        return S.diag_embed_p(x, offset=diagonal)
    if x.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got %dD" % x.ndim)
    return apply(S.diagonal_p.prim, (x,), {"offset": diagonal, "dim1": 0, "dim2": 1}, 1)


def diag_embed(input: Tensor, offset: int = 0) -> Tensor:
    x = _t(input)
    if x.ndim != 1:
        raise NotImplementedError("diag_embed is supported for 1-D inputs only")
    return S.diag_embed_p(x, offset=offset)


def trace(input: Tensor) -> Tensor:
    x = _t(input)
    if x.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim %d" % x.ndim)
    return S.trace_p(x)


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy that stays on the graph (gradient passes through unchanged)."""
    return S.clone_p(_t(input))


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    x = _t(input)
    if x.ndim == 0:
        return _sort_ret(x.clone(), _make(np.zeros((), np.int64), False, None))
    d = S.norm_dim(dim, x.ndim)
    _not_lazy(x, "sort", "needs argsort, which Dask arrays lack")
    idx = np.argsort(-x._data if descending else x._data, axis=d, kind="stable")
    return _sort_ret(_gather_as(x, d, idx, 1), _make(idx.astype(np.int64), False, None))


def _gather_as(x: Tensor, d: int, idx: np.ndarray, variant: int) -> Tensor:
    """``gather`` recorded under another PyTorch node name (SortBackward0, TopkBackward0, ...)."""
    return apply(S.gather_p.prim, (x,), {"dim": d, "index": idx}, variant)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(input, dim, descending, stable).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    v, i = sort(x, d, descending=largest)
    sl = (slice(None),) * d + (slice(0, k),)
    idx = i._data[sl]
    return _topk_ret(_gather_as(x, d, np.ascontiguousarray(idx), 2),
                     _make(np.ascontiguousarray(idx), False, None))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The k-th smallest element along ``dim`` (1-based), as ``(values, indices)``."""
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    if not 1 <= k <= (x.shape[d] if x.ndim else 1):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    values, idx = apply(R.median_dim_p.prim, (x,), {"dim": d, "keepdim": keepdim, "k": k}, R.KTHVALUE)
    return _kth_ret(values, idx)


def _cum_extreme(x: Tensor, dim: int, better: Any, ret: Any) -> Any:
    d = S.norm_dim(dim, x.ndim)
    data = np.moveaxis(x._data, d, 0) if x.ndim else x._data.reshape(1)
    idx = np.zeros(data.shape, dtype=np.int64)
    best = data[0].copy()
    for i in range(1, data.shape[0]):
        # NOTE: ties move the index forward, as PyTorch's cummax/cummin do.
        take = better(data[i], best) | (data[i] == best) | np.isnan(data[i])
        best = np.where(take, data[i], best)
        idx[i] = np.where(take, i, idx[i - 1])
    idx = np.moveaxis(idx, 0, d) if x.ndim else idx.reshape(())
    variant = 3 if ret is _cummax_ret else 4
    values = _gather_as(x, d, idx, variant) if x.ndim else _gather_as(
        x.reshape(1), 0, np.zeros(1, np.int64), variant).reshape(())
    return ret(values, _make(np.ascontiguousarray(idx), False, None))


def cummax(input: Tensor, dim: int) -> Any:
    """Running maximum along ``dim`` as ``(values, indices)``; the gradient goes to the index."""
    return _cum_extreme(_t(input), dim, np.greater, _cummax_ret)


def cummin(input: Tensor, dim: int) -> Any:
    """Running minimum along ``dim`` as ``(values, indices)``; the gradient goes to the index."""
    return _cum_extreme(_t(input), dim, np.less, _cummin_ret)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """Distinct elements (no gradient, as in PyTorch)."""
    x = _t(input)
    _not_lazy(x, "unique", "has a shape that depends on the values")
    res = np.unique(x._data, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    if not isinstance(res, tuple):
        return _make(res, False, None)
    out = [_make(res[0], False, None)]
    for extra in res[1:]:
        out.append(_make(np.asarray(extra, dtype=np.int64).reshape(
            x.shape if extra is res[1] and return_inverse and dim is None else -1), False, None))
    return tuple(out)


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """Insertion indices keeping ``sorted_sequence`` sorted (no gradient)."""
    _not_lazy(_t(sorted_sequence), "searchsorted", "needs the sorted values")
    seq = _t(sorted_sequence)._data
    vals = input._data if isinstance(input, Tensor) else np.asarray(input)
    side = side or ("right" if right else "left")
    if seq.ndim <= 1:
        res = np.searchsorted(seq, vals, side=side, sorter=None if sorter is None else
                              np.asarray(getattr(sorter, "_data", sorter)))
    else:
        flat_seq = seq.reshape(-1, seq.shape[-1])
        flat_val = vals.reshape(-1, vals.shape[-1])
        res = np.stack([np.searchsorted(a, b, side=side) for a, b in zip(flat_seq, flat_val)])
        res = res.reshape(vals.shape)
    return _make(np.asarray(res, dtype=np.int32 if out_int32 else np.int64), False, None)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """Bucket index of each element given sorted ``boundaries`` (no gradient)."""
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# --- products ---------------------------------------------------------------------------
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics for 1-D, 2-D and batched operands."""
    x, y = _t(input), _t(other)
    variant = L.matmul_variant(x.ndim, y.ndim)
    return apply(L.matmul_p.prim, (x, y), None, variant)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    x, y = _t(input), _t(mat2)
    if x.ndim != 2 or y.ndim != 2:
        raise RuntimeError(f"{'self' if x.ndim != 2 else 'mat2'} must be a matrix")
    return apply(L.matmul_p.prim, (x, y), None, L.MM)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    x, y = _t(input), _t(mat2)
    if x.ndim != 3 or y.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if x.ndim != 3 else
                           "batch2 must be a 3D tensor")
    if y.shape[:2] != (x.shape[0], x.shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{x.shape[0]}, {x.shape[2]}] but got: [{y.shape[0]}, {y.shape[1]}].")
    return apply(L.matmul_p.prim, (x, y), None, L.BMM)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    x, y = _t(input), _t(vec)
    if x.ndim != 2 or y.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {y.ndim}, {x.ndim}, {y.ndim}")
    if x.shape[1] != y.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({x.shape[0]}), mat ({x.shape[0]}x{x.shape[1]}), "
                           f"vec ({y.shape[0]})")
    return apply(L.matmul_p.prim, (x, y), None, L.MV)


def dot(input: Tensor, other: Tensor) -> Tensor:
    x, y = _t(input), _t(other)
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    return apply(L.matmul_p.prim, (x, y), None, L.DOT)


inner = dot


def vdot(input: Tensor, other: Tensor) -> Tensor:
    return dot(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    x, y = _t(input), _t(vec2)
    return mul(reshape(x, (-1, 1)), y)


ger = outer


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation (NumPy's notation, ``...`` included)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ops = [_t(o) for o in operands]
    return L.einsum_p(*ops, equation=equation)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Contract ``dims`` trailing dims of ``a`` with leading dims of ``b`` (or given dim lists)."""
    x, y = _t(a), _t(b)
    if isinstance(dims, int):
        da = list(range(x.ndim - dims, x.ndim))
        db = list(range(dims))
    else:
        da, db = ([dims[0]] if isinstance(dims[0], int) else list(dims[0]),
                  [dims[1]] if isinstance(dims[1], int) else list(dims[1]))
    da = [S.norm_dim(i, x.ndim) for i in da]
    db = [S.norm_dim(i, y.ndim) for i in db]
    fa = [i for i in range(x.ndim) if i not in da]
    fb = [i for i in range(y.ndim) if i not in db]
    k = int(np.prod([x.shape[i] for i in da], dtype=np.int64))
    xa = reshape(permute(x, fa + da), (-1, k))
    yb = reshape(permute(y, db + fb), (k, -1))
    out = matmul(xa, yb)
    return reshape(out, tuple(x.shape[i] for i in fa) + tuple(y.shape[i] for i in fb))


def kron(input: Tensor, other: Tensor) -> Tensor:
    x, y = _t(input), _t(other)
    if x.ndim != 2 or y.ndim != 2:
        raise NotImplementedError("kron is supported for matrices only")
    out = reshape(x, (x.shape[0], 1, x.shape[1], 1)) * reshape(y, (1, y.shape[0], 1, y.shape[1]))
    return reshape(out, (x.shape[0] * y.shape[0], x.shape[1] * y.shape[1]))


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    a, b = _t(input)._data, _t(other)._data
    return _make(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan), False, None)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    return bool(np.allclose(_t(input)._data, _t(other)._data, rtol=rtol, atol=atol,
                            equal_nan=equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    a, b = _t(input)._data, _t(other)._data
    return a.shape == b.shape and bool(np.array_equal(a, b))


def numel(input: Tensor) -> int:
    return _t(input).numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return _t(input).is_floating_point()


def is_nonzero(input: Tensor) -> bool:
    return bool(_t(input))


__all__ = [n for n, v in list(globals().items())
           if callable(v) and not n.startswith("_") and getattr(v, "__module__", None) == __name__
           and n not in ("as_tensor_arg",)]
