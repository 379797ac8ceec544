"""PyTorch-style elementwise functions (unary and binary), routed to ops/elementwise.py.

Part of ``gradkit._api`` (see its docstring); none carries a derivative of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._core import backend as _backend
from gradkit._core import dtype as _dtype
from gradkit._core.tensor import Tensor, _make
from gradkit.ops import elementwise as E
from gradkit.ops._registry import apply, apply1
from gradkit._api.base import _accepts_out, _other, _scalar_name, _store_out, _t, as_tensor_arg
from gradkit._api.base import _vmap_dynamic

# --- unary ---------------------------------------------------------------------------
def _unary(prim_fn: Any) -> Any:
    prim = prim_fn.prim

    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return _store_out(prim_fn.__name__, fn(input), out)
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
    wrapped.__name__ = wrapped.__qualname__ = fn.__name__
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
    if x._data.dtype.kind == "c":               # NumPy's sign (np.sign dispatches here): z / |z|
        return sgn(x)
    return apply1(E.sign.prim, x)


def sgn(input: Tensor) -> Tensor:
    """``sign`` for real tensors (``x / |x|`` for complex ones), recorded as SgnBackward0."""
    x = _t(input)
    if x._data.dtype == np.bool_:
        return _make(x._data.copy(), False, None)
    if x._data.dtype.kind == "c" and (x.requires_grad or x._fw):
        # NOTE: z / |z| is not holomorphic and its derivative is not 0: differentiate the
        # composition (0 at z = 0, as PyTorch's sgn_backward).
        zero = x._data == 0
        return E.where(zero, 0.0, x / E.where(zero, 1.0, E.abs(x)))
    return apply1(E.sign.prim, x, None, 1)


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
    # NOTE: PyTorch unpacks a Python int as int64 or uint64 and wraps that; beyond both it
    # refuses (2**64 would otherwise wrap to 0: x + 2**64 == x, x < 2**64 False)
    if v >= 2 ** 64:
        raise OverflowError("int too big to convert")
    if v < -2 ** 63:
        raise OverflowError("can't convert negative int to unsigned")
    return (v - int(info.min)) % (int(info.max) - int(info.min) + 1) + int(info.min)


def _floating_pair(a: Any, b: Any) -> bool:
    """Both Tensors of a floating or complex dtype (alpha then rides on one node)."""
    return isinstance(a, Tensor) and isinstance(b, Tensor) and \
        a._data.dtype.kind in "fcV" and b._data.dtype.kind in "fcV"


def _alpha_check(input: Any, other: Any, alpha: Any) -> Any:
    """PyTorch's checks of ``alpha`` against the result's dtype (a float alpha on integer
    tensors gave a float result; a bool result became int64). Returns the alpha to use."""
    if isinstance(alpha, Tensor):
        alpha = alpha.item()
    if alpha == 1 and not isinstance(alpha, (float, complex)):
        return alpha
    res = _dtype.result_type(input, other)
    if isinstance(alpha, bool) and res is not _dtype.bool:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if not (res.is_floating_point or res.is_complex) and not isinstance(alpha, (bool, int, np.integer)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point "
                           "number.")
    if not res.is_complex and isinstance(alpha, (complex, np.complexfloating)):
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex "
                           "number.")
    if res is _dtype.bool:                     # bool results: alpha * other stays bool
        return bool(alpha)
    return alpha


@_accepts_out
def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """``input + alpha * other`` with broadcasting."""
    alpha = _alpha_check(input, other, alpha)
    other = _wrap_int(input, _other(other))
    if alpha != 1 and _floating_pair(input, other):
        return E.add_alpha(input, other, alpha=alpha)       # one node, as PyTorch
    if alpha != 1:
        other = E.mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    if not isinstance(input, Tensor):
        if isinstance(other, Tensor):
            return E.add(other, input)
        input = _t(input)
    return E.add(input, other)


@_accepts_out
def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """``input - alpha * other`` with broadcasting (not on bool tensors, as PyTorch)."""
    _check_sub_bool(input, other)
    alpha = _alpha_check(input, other, alpha)
    other = _wrap_int(input, _other(other))
    if alpha != 1 and _floating_pair(input, other):
        return apply(E.add_alpha.prim, (input, other), {"alpha": -alpha}, 1)   # SubBackward0
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
    alpha = _alpha_check(input, other, alpha)
    x = _t(input)
    if alpha != 1:
        x = E.mul(x, alpha)
    other = _other(other)
    return E.sub(other, x) if isinstance(other, Tensor) else E.rsub(x, other=other)


def _binary(prim_fn: Any, name: str) -> Any:
    def fn(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return _store_out(name, fn(input, other), out)
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
def _tensor_variant(prim_fn: Any, name: str) -> Any:
    """A binary op whose node is ``...Backward1`` when ``other`` is a Tensor (PyTorch's
    Tensor overload) and ``...Backward0`` for a Python scalar."""
    scalar = _binary(prim_fn, name)

    def fn(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return _store_out(name, fn(input, other), out)
        if isinstance(other, Tensor) and isinstance(input, Tensor):
            return apply(prim_fn.prim, (input, other), None, 1)
        return scalar(input, other)
    fn.__name__ = name
    fn.__doc__ = scalar.__doc__
    return fn


remainder = _tensor_variant(E.remainder, "remainder")
fmod = _tensor_variant(E.fmod, "fmod")
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


def _integer_only(kernel: str, input: Any, other: Any) -> None:
    """PyTorch's NotImplementedError for a float/complex (or, for gcd/lcm, bool) operation type."""
    kind = _dtype.result_type(input, other)
    if kind.is_floating_point or kind.is_complex or (kind is _dtype.bool and kernel != "shift"):
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{_scalar_name(kind)}\'')


def _shift(prim_fn: Any, kernel: str, name: str) -> Any:
    binary = _binary(prim_fn, name)

    def fn(input: Any, other: Any) -> Tensor:
        _integer_only(kernel, input, other)
        if _dtype.result_type(input, other) is _dtype.bool:
            raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'Bool\'')
        if not isinstance(input, Tensor) and isinstance(other, Tensor):
            # a number shifted by a tensor: the number in the tensor's integer dtype
            dt = other._data.dtype if other._data.dtype.kind in "iu" else np.dtype(np.int64)
            input = _make(np.asarray(_wrap_int(other, input) if dt == other._data.dtype else input,
                                     dt), False, None)
        return binary(input, other)
    fn.__name__ = name
    fn.__doc__ = (f"Elementwise ``{name}`` of integers (PyTorch's: a count below 0 or not under "
                  "the width gives 0, or -1 for a right shift of a negative value).")
    return fn


bitwise_left_shift = _shift(E.bitwise_left_shift, "lshift", "bitwise_left_shift")
bitwise_right_shift = _shift(E.bitwise_right_shift, "rshift", "bitwise_right_shift")


def _gcd_like(prim_fn: Any, name: str) -> Any:
    def fn(input: Tensor, other: Tensor) -> Tensor:
        for k, (arg, pos) in enumerate(((input, "input"), (other, "other"))):
            if not isinstance(arg, Tensor):
                raise TypeError(f"{name}(): argument '{pos}' (position {k + 1}) must be Tensor, "
                                f"not {type(arg).__name__}")
        _integer_only(name, input, other)
        return prim_fn(input, other)
    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}`` of integer tensors (non-negative results)."
    return fn


gcd = _gcd_like(E.gcd, "gcd")
lcm = _gcd_like(E.lcm, "lcm")


@_accepts_out
def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """True division; ``rounding_mode='floor'`` or ``'trunc'`` rounds the quotient."""
    if rounding_mode == "floor":
        # NOTE: no NotImplemented node here (PyTorch's DivBackward2 gives zeros): the quotient
        # of the detached inputs, a constant as before
        return floor_divide(*(v.detach() if isinstance(v, Tensor) else v for v in (input, other)))
    if rounding_mode == "trunc":
        if _is_int(input, other):
            dt = _dtype.result_type(input, other)
            if dt is _dtype.bool:
                raise NotImplementedError('"div_trunc_cpu" not implemented for \'Bool\'')
            input, other = (v.to(dt) if isinstance(v, Tensor) and v.dtype is not dt else v
                            for v in (input, other))
            # NOTE: exact in integers: x - fmod(x, y) is a multiple of y, so floor division of
            # it truncates (a float quotient loses int64's low bits, and x / 0 became -2**63;
            # fmod refuses a zero divisor as PyTorch does)
            r = fmod(input, other)
            return floor_divide(sub(input, r).detach(), other)
        q = _binary(E.div, "div")(input, other)
        return E.trunc(q).to(_dtype.result_type(input, other)) \
            if not q.is_floating_point() or _is_int(input, other) else E.trunc(q)
    if rounding_mode is not None:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
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
        if not isinstance(exponent, Tensor):
            exponent = _other(exponent)
        if isinstance(exponent, Tensor):
            return _int_negative_powers(input, exponent, E.pow(input, exponent.clamp(min=0))) \
                if _negative_int_exponents(input, exponent) else E.pow(input, exponent)
        return _pow_scalar(input, exponent)
    if isinstance(exponent, Tensor):
        if exponent._data.dtype == np.bool_ and isinstance(input, int):
            exponent = exponent.to(_dtype.int64)          # 2 ** bool_tensor is int64, as PyTorch
        if isinstance(input, int) and _negative_int_exponents(exponent, exponent):
            return _int_negative_powers(input, exponent, E.rpow(exponent.clamp(min=0), base=input))
        return E.rpow(exponent, base=input)
    return _pow_scalar(_t(input), exponent)


def _negative_int_exponents(input: Tensor, exponent: Tensor) -> bool:
    return (input._data.dtype.kind in "iu" and exponent._data.dtype.kind in "iu"
            and bool((exponent._data < 0).any()))


def _int_negative_powers(base: Any, exponent: Tensor, out: Tensor) -> Tensor:
    """PyTorch's integer powers with negative exponents in a tensor (NumPy raises): ``1 ** -n``
    is 1, ``(-1) ** -n`` is 1 or -1 by the parity of n, any other base gives 0 (``1 // b**n``)."""
    b = _backend.to_numpy(base._data) if isinstance(base, Tensor) else np.asarray(base)
    e = _backend.to_numpy(exponent._data)
    neg = np.where(b == 1, 1, np.where(b == -1, np.where(e % 2 == 0, 1, -1), 0))
    data = np.where(e < 0, neg, _backend.to_numpy(out._data)).astype(out._data.dtype)
    return _make(_backend.move(data, _backend.placement_of(out._data)), False, None)


def _pow_scalar(x: Tensor, exponent: Any) -> Tensor:
    kind = x._data.dtype.kind
    if kind in "iub" and isinstance(exponent, int) and not isinstance(exponent, bool):
        if exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if kind == "b":
            x = x.to(_dtype.int64)
    return E.pow_scalar(x, exponent=exponent)


def float_power(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent`` computed in double precision: the result is float64 (complex128
    when either side is complex), whatever the inputs' dtypes, as PyTorch's ``float_power``."""
    def wide(v: Any) -> Any:
        if isinstance(v, Tensor):
            return v.to(_dtype.complex128 if v.is_complex() else _dtype.float64)
        return complex(v) if isinstance(v, complex) else float(v)
    complex_ = any(isinstance(v, complex) or isinstance(v, Tensor) and v.is_complex()
                   for v in (input, exponent))
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        input = _t(input)
    base, expo = wide(input), wide(exponent)
    if complex_:
        base = base.to(_dtype.complex128) if isinstance(base, Tensor) else complex(base)
        expo = expo.to(_dtype.complex128) if isinstance(expo, Tensor) else complex(expo)
    return pow(base, expo)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit every element to ``[min, max]``.

    Notes
    -----
    The gradient is 1 where ``min <= input <= max``, bounds included (as in
    PyTorch), and 0 elsewhere.
    """
    return _clamp(input, min, max, 0)


def _clamp(input: Tensor, min: Any, max: Any, variant: int) -> Tensor:  # noqa: A002
    """``clamp`` with the node name of ``variant`` for number bounds (ClampBackward1,
    ClampMinBackward0, ClampMaxBackward0)."""
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
    if variant:
        return apply(E.clamp_scalar.prim, (x,), {"min": min, "max": max}, variant)
    return E.clamp_scalar(x, min=min, max=max)


clip = clamp


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return _clamp(input, min, None, 1)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return _clamp(input, None, max, 2)


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
        from gradkit._api.indexing import _nonzero
        _vmap_dynamic(cond, "where")
        return _nonzero(cond, True)
    if cond._data.dtype != np.bool_:
        if cond._data.dtype != np.uint8:        # NOTE: PyTorch still takes uint8 (deprecated)
            raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor "
                               f"with dtype {_scalar_name(cond.dtype)}")
        cond = cond.to(_dtype.bool)
    x, y = _other(input), _other(other)
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = as_tensor_arg(x)
    dt = _dtype.result_type(*(v for v in (x, y)))
    for v in (x, y):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            # NOTE: a scalar branch must fit the result (PyTorch: where(c, int8, 300) is an
            # error, NumPy would wrap 300 to 44)
            _dtype.check_int_range(v, dt.np, scalar=True)
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


def isposinf(input: Tensor) -> Tensor:
    """Where ``input`` is +inf (always False for integer and bool tensors)."""
    x = _t(input)
    if x._data.dtype.kind not in "fcV":
        return isinf(x)
    return logical_and(isinf(x), gt(x, 0))


def isneginf(input: Tensor) -> Tensor:
    """Where ``input`` is -inf (always False for integer and bool tensors)."""
    x = _t(input)
    if x._data.dtype.kind not in "fcV":
        return isinf(x)
    return logical_and(isinf(x), lt(x, 0))


def isreal(input: Tensor) -> Tensor:
    """Where the imaginary part is zero (everywhere for a real tensor)."""
    x = _t(input)
    if x._data.dtype.kind != "c":
        return _make(np.ones(x._data.shape, dtype=np.bool_), False, None)
    return _make(np.asarray(x._data.imag == 0), False, None)




# --- PyTorch's refusals by dtype (its words) ------------------------------------------------
def _refusing() -> None:
    from gradkit._api.base import _no_kernel, _refuse_kinds
    g = globals()
    for name in ("maximum", "minimum"):
        g[name] = _refuse_kinds(g[name], {"c": (RuntimeError, f"{name} not implemented for complex "
                                                             "tensors.")}, binary=True)
    for names in (("lt", "less"), ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal")):
        fn = _refuse_kinds(g[names[0]], {"c": _no_kernel(names[0] + "_cpu")}, binary=True)
        for name in names:
            g[name] = fn
    for name in ("hypot", "logaddexp"):
        g[name] = _refuse_kinds(g[name], {"i": _no_kernel(name + "_cpu"),
                                          "b": _no_kernel(name + "_cpu")}, binary=True)
    g["frac"] = _refuse_kinds(g["frac"], {"i": _no_kernel("frac_cpu")})
    clamp_c = {"c": (NotImplementedError, "clamp is not supported for complex types")}
    g["clamp"] = g["clip"] = _refuse_kinds(clamp, clamp_c)
    g["clamp_min"] = _refuse_kinds(clamp_min, {"c": _no_kernel("maximum_cpu")})
    g["clamp_max"] = _refuse_kinds(clamp_max, {"c": _no_kernel("minimum_cpu")})
    g["relu"] = _refuse_kinds(relu, {**clamp_c, "b": (RuntimeError,
                                                      "Boolean inputs not supported for relu")})
    g["sign"] = _refuse_kinds(sign, {"c": (NotImplementedError, "Unlike NumPy, torch.sign is not "
                                           "intended to support complex numbers. Please use "
                                           "torch.sgn instead.")})
    for name in ("isposinf", "isneginf"):
        g[name] = _refuse_kinds(g[name], {"c": (RuntimeError,
                                                f"{name} does not support complex inputs.")})
    # NOTE: erf and erfc of complex numbers are gradkit's own (SciPy's), beyond PyTorch's kernels
    for name, kernel in (("round", "round_vml_cpu"), ("logit", "logit_cpu")):
        g[name] = _refuse_kinds(g[name], {"c": _no_kernel(kernel)})


_refusing()
