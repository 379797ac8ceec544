"""Elementwise primitives: unary maths, binary arithmetic, comparisons, clamp and where.

Each row gives the forward (a NumPy function) and one derivative rule per
input. Rules use the functions of this module, which accept ndarrays (plain
backward) and Tensors (``create_graph=True``) alike, so every rule is itself
differentiable.
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Any

import numpy as np

from ..autograd.grad_mode import _state
from ._registry import ELEMENTWISE, LINEAR, ZERO
from ._registry import defop as _defop

# Elementwise forwards also run on NumPy scalars (the 0-d fast path in _registry.apply1/2).
defop = functools.partial(_defop, scalar_ok=True)

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# --- forwards NumPy lacks ------------------------------------------------------
def _erf_impl(x: np.ndarray) -> np.ndarray:
    try:
        from scipy.special import erf as _sp_erf
    except ImportError:  # NOTE: exact to double precision, slower than SciPy's
        return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype if x.dtype.kind == "f" else float)
    return _sp_erf(x)


def _relu_impl(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, x.dtype.type(0))


def _sigmoid_impl(x: np.ndarray) -> np.ndarray:
    # NOTE: split by sign so that exp never overflows.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _logit_impl(x: np.ndarray, eps: float | None = None) -> np.ndarray:
    if eps is not None:
        x = np.clip(x, eps, 1.0 - eps)
    return np.log(x / (1.0 - x))


def _rsqrt_impl(x: np.ndarray) -> np.ndarray:
    return 1.0 / np.sqrt(x)


def _frac_impl(x: np.ndarray) -> np.ndarray:
    return x - np.trunc(x)


def _round_impl(x: np.ndarray, decimals: int = 0) -> np.ndarray:
    return np.round(x, decimals)


def _floor_divide_impl(x: Any, y: Any) -> np.ndarray:
    return np.floor_divide(x, y)


def _clamp_impl(x: np.ndarray, min: Any = None, max: Any = None) -> np.ndarray:
    out = x
    if min is not None:
        out = np.maximum(out, x.dtype.type(min))
    if max is not None:
        out = np.minimum(out, x.dtype.type(max))
    return out if out is not x else x.copy()


def _clamp_tensor_impl(x: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    out = x
    if lo is not None:
        out = np.maximum(out, lo)
    if hi is not None:
        out = np.minimum(out, hi)
    return out if out is not x else x.copy()


def _pow_scalar_impl(x: np.ndarray, exponent: Any) -> np.ndarray:
    if exponent == 2:
        return x * x
    if exponent == 0.5 and x.dtype.kind == "f":
        return np.sqrt(x)
    return np.power(x, exponent)


def _rpow_impl(x: np.ndarray, base: Any) -> np.ndarray:
    return np.power(x.dtype.type(base), x)


def _rsub_impl(x: np.ndarray, other: Any) -> np.ndarray:
    return other - x


def _where_impl(cond: Any, x: Any, y: Any) -> np.ndarray:
    return np.where(cond, x, y)


# --- unary ---------------------------------------------------------------------
neg = defop("neg", np.negative, vjp=lambda g, ans, x: -g, jvp=LINEAR, save_inputs=False)
exp = defop("exp", np.exp, vjp=lambda g, ans, x: g * ans, jvp=ELEMENTWISE,
            save_inputs=False, save_ans=True, promote="float")
exp2 = defop("exp2", np.exp2, vjp=lambda g, ans, x: g * ans * _LN2, jvp=ELEMENTWISE,
             save_inputs=False, save_ans=True, promote="float")
expm1 = defop("expm1", np.expm1, vjp=lambda g, ans, x: g * (ans + 1.0), jvp=ELEMENTWISE,
              save_inputs=False, save_ans=True, promote="float")
log = defop("log", np.log, vjp=lambda g, ans, x: g / x, jvp=ELEMENTWISE, promote="float")
log2 = defop("log2", np.log2, vjp=lambda g, ans, x: g / (x * _LN2), jvp=ELEMENTWISE,
             promote="float")
log10 = defop("log10", np.log10, vjp=lambda g, ans, x: g / (x * _LN10), jvp=ELEMENTWISE,
              promote="float")
log1p = defop("log1p", np.log1p, vjp=lambda g, ans, x: g / (x + 1.0), jvp=ELEMENTWISE,
              promote="float", names="Log1PBackward0")
# NOTE: sqrt'(0) = inf, as in PyTorch.
sqrt = defop("sqrt", np.sqrt, vjp=lambda g, ans, x: g / (ans * 2.0), jvp=ELEMENTWISE,
             save_inputs=False, save_ans=True, promote="float")
rsqrt = defop("rsqrt", _rsqrt_impl, vjp=lambda g, ans, x: g * ans * ans * ans * -0.5,
              jvp=ELEMENTWISE, save_inputs=False, save_ans=True, promote="float")
# NOTE: abs'(0) = 0 and sign'(x) = 0, as in PyTorch.
sign = defop("sign", np.sign, vjp=ZERO, jvp=ELEMENTWISE)
def _abs_vjp(g: Any, ans: Any, x: Any) -> Any:
    # NOTE: abs'(0) = 0 as in PyTorch; JAX's convention gives 1 (set_subgradient_convention).
    if _state.subgradient == "jax":
        return g * where(x >= 0, 1.0, -1.0)
    return g * sign(x)


abs = defop("abs", np.abs, vjp=_abs_vjp, jvp=ELEMENTWISE)  # noqa: A001
sin = defop("sin", np.sin, vjp=lambda g, ans, x: g * cos(x), jvp=ELEMENTWISE, promote="float")
cos = defop("cos", np.cos, vjp=lambda g, ans, x: -(g * sin(x)), jvp=ELEMENTWISE, promote="float")
tan = defop("tan", np.tan, vjp=lambda g, ans, x: g * (ans * ans + 1.0), jvp=ELEMENTWISE,
            save_inputs=False, save_ans=True, promote="float")
asin = defop("asin", np.arcsin, vjp=lambda g, ans, x: g * rsqrt(1.0 - x * x), jvp=ELEMENTWISE,
             promote="float")
acos = defop("acos", np.arccos, vjp=lambda g, ans, x: -(g * rsqrt(1.0 - x * x)),
             jvp=ELEMENTWISE, promote="float")
atan = defop("atan", np.arctan, vjp=lambda g, ans, x: g / (x * x + 1.0), jvp=ELEMENTWISE,
             promote="float")
sinh = defop("sinh", np.sinh, vjp=lambda g, ans, x: g * cosh(x), jvp=ELEMENTWISE,
             promote="float")
cosh = defop("cosh", np.cosh, vjp=lambda g, ans, x: g * sinh(x), jvp=ELEMENTWISE,
             promote="float")
tanh = defop("tanh", np.tanh, vjp=lambda g, ans, x: g * (1.0 - ans * ans), jvp=ELEMENTWISE,
             save_inputs=False, save_ans=True, promote="float")
asinh = defop("asinh", np.arcsinh, vjp=lambda g, ans, x: g * rsqrt(x * x + 1.0),
              jvp=ELEMENTWISE, promote="float")
acosh = defop("acosh", np.arccosh, vjp=lambda g, ans, x: g * rsqrt(x * x - 1.0),
              jvp=ELEMENTWISE, promote="float")
atanh = defop("atanh", np.arctanh, vjp=lambda g, ans, x: g / (1.0 - x * x), jvp=ELEMENTWISE,
              promote="float")
sigmoid = defop("sigmoid", _sigmoid_impl, vjp=lambda g, ans, x: g * ans * (1.0 - ans),
                jvp=ELEMENTWISE, save_inputs=False, save_ans=True, promote="float")
logit = defop("logit", _logit_impl, vjp=lambda g, ans, x, eps=None: _logit_vjp(g, x, eps),
              jvp=ELEMENTWISE, promote="float")
# NOTE: relu'(0) = 0, as in PyTorch.
relu = defop("relu", _relu_impl, vjp=lambda g, ans, x: where(ans > 0, g, 0.0), jvp=ELEMENTWISE,
             save_inputs=False, save_ans=True)
erf = defop("erf", _erf_impl, vjp=lambda g, ans, x: g * exp(-(x * x)) * _TWO_OVER_SQRT_PI,
            jvp=ELEMENTWISE, promote="float")
reciprocal = defop("reciprocal", np.reciprocal, vjp=lambda g, ans, x: -(g * ans * ans),
                   jvp=ELEMENTWISE, save_inputs=False, save_ans=True, promote="float")
floor = defop("floor", np.floor, vjp=ZERO, jvp=ELEMENTWISE)
ceil = defop("ceil", np.ceil, vjp=ZERO, jvp=ELEMENTWISE)
round = defop("round", _round_impl, vjp=ZERO, jvp=ELEMENTWISE)  # noqa: A001
trunc = defop("trunc", np.trunc, vjp=ZERO, jvp=ELEMENTWISE)
# NOTE: frac is not linear (frac(t) != t); its derivative is 1, so the tangent passes.
frac = defop("frac", _frac_impl, vjp=lambda g, ans, x: g, jvp=ELEMENTWISE, save_inputs=False)


def _logit_vjp(g: Any, x: Any, eps: float | None) -> Any:
    out = g / (x * (1.0 - x))
    if eps is None:
        return out
    return where((x < eps) | (x > 1.0 - eps), 0.0, out)


# --- binary --------------------------------------------------------------------
add = defop("add", operator.add, vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: g), jvp=LINEAR,
            save_inputs=False, promote="same")
sub = defop("sub", operator.sub, vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: -g),
            jvp=LINEAR, save_inputs=False, promote="same")
# NOTE: not LINEAR: ``other`` is a parameter, so rsub(t) would add it to the tangent.
rsub = defop("rsub", _rsub_impl, vjp=lambda g, ans, x, other: -g, jvp=ELEMENTWISE,
             save_inputs=False, promote="same", names="RsubBackward1")
mul = defop("mul", operator.mul, vjp=(lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x),
            jvp=ELEMENTWISE, promote="same")
div = defop("div", operator.truediv,
            vjp=(lambda g, ans, x, y: g / y, lambda g, ans, x, y: -(g * x) / (y * y)),
            jvp=ELEMENTWISE, promote="float")
floor_divide = defop("floor_divide", _floor_divide_impl, vjp=None, promote="same")
remainder = defop("remainder", np.remainder,
                  vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: -(g * floor(x / y))),
                  jvp=ELEMENTWISE, promote="same")
fmod = defop("fmod", np.fmod,
             vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: -(g * trunc(x / y))),
             jvp=ELEMENTWISE, promote="same")


def _pow_scalar_vjp(g: Any, ans: Any, x: Any, exponent: Any) -> Any:
    if exponent == 0:
        return g * 0.0
    if exponent == 2:
        return g * x * 2.0
    return g * exponent * pow_scalar(x, exponent=exponent - 1)


def _pow_vjp_base(g: Any, ans: Any, x: Any, y: Any) -> Any:
    # NOTE: d/dx x**y is 0 where y == 0 (so 0**0 gives 0, not nan), as in PyTorch.
    return where(y == 0, 0.0, g * y * pow(x, y - 1.0))


def _pow_vjp_exponent(g: Any, ans: Any, x: Any, y: Any) -> Any:
    # NOTE: 0 where base == 0 and exponent >= 0 (PyTorch), instead of 0 * -inf = nan.
    return where((x == 0) & (y >= 0), 0.0, g * ans * log(x))


def _rpow_vjp(g: Any, ans: Any, x: Any, base: Any) -> Any:
    if base == 0:
        # NOTE: log(0) = -inf, taken as 0 where the exponent is >= 0 (PyTorch). The factor is
        # built from x, so it keeps x's dtype and no 0 * inf reaches a second derivative.
        zero = x * 0.0
        return g * ans * where(x >= 0, zero, zero - np.inf)
    with np.errstate(invalid="ignore"):
        return g * ans * float(np.log(np.float64(base)))


pow_scalar = defop("pow_scalar", _pow_scalar_impl, vjp=_pow_scalar_vjp, jvp=ELEMENTWISE,
                   names="PowBackward0", promote="same")
pow = defop("pow", np.power, vjp=(_pow_vjp_base, _pow_vjp_exponent), jvp=ELEMENTWISE,  # noqa: A001
            names="PowBackward1", save_ans=True, promote="same")
rpow = defop("rpow", _rpow_impl, vjp=_rpow_vjp, jvp=ELEMENTWISE, names="PowBackward2",
             save_ans=True, promote="same")
def _atan2_vjp_y(g: Any, ans: Any, y: Any, x: Any) -> Any:
    # NOTE: at the origin both partials are 0, as in PyTorch (not 0/0 = nan).
    r = x * x + y * y
    return where(r == 0, 0.0, g * x / r)


def _atan2_vjp_x(g: Any, ans: Any, y: Any, x: Any) -> Any:
    r = x * x + y * y
    return where(r == 0, 0.0, -(g * y) / r)


atan2 = defop("atan2", np.arctan2, vjp=(_atan2_vjp_y, _atan2_vjp_x), jvp=ELEMENTWISE, promote="float")


def _max_share(g: Any, x: Any, y: Any) -> Any:
    # NOTE: ties give each side half the gradient, as in PyTorch. Built with where so that
    # the gradient keeps g's dtype (a bool * 0.5 mask would be float64).
    return where(x > y, g, where(x == y, g * 0.5, 0.0))


maximum = defop("maximum", np.maximum,
                vjp=(lambda g, ans, x, y: _max_share(g, x, y),
                     lambda g, ans, x, y: _max_share(g, y, x)),
                jvp=ELEMENTWISE, promote="same")
minimum = defop("minimum", np.minimum,
                vjp=(lambda g, ans, x, y: _max_share(g, y, x),
                     lambda g, ans, x, y: _max_share(g, x, y)),
                jvp=ELEMENTWISE, promote="same")
logaddexp = defop("logaddexp", np.logaddexp,
                  vjp=(lambda g, ans, x, y: g * exp(x - ans), lambda g, ans, x, y: g * exp(y - ans)),
                  jvp=ELEMENTWISE, save_ans=True, promote="float")
hypot = defop("hypot", np.hypot,
              vjp=(lambda g, ans, x, y: g * x / ans, lambda g, ans, x, y: g * y / ans),
              jvp=ELEMENTWISE, save_ans=True, promote="float")

# --- comparisons and logic (no gradient) ---------------------------------------
eq = defop("eq", np.equal)
ne = defop("ne", np.not_equal)
lt = defop("lt", np.less)
le = defop("le", np.less_equal)
gt = defop("gt", np.greater)
ge = defop("ge", np.greater_equal)
logical_and = defop("logical_and", np.logical_and)
logical_or = defop("logical_or", np.logical_or)
logical_xor = defop("logical_xor", np.logical_xor)
logical_not = defop("logical_not", np.logical_not)
bitwise_and = defop("bitwise_and", np.bitwise_and)
bitwise_or = defop("bitwise_or", np.bitwise_or)
bitwise_xor = defop("bitwise_xor", np.bitwise_xor)
bitwise_not = defop("bitwise_not", np.invert)
isnan = defop("isnan", np.isnan)
isinf = defop("isinf", np.isinf)
isfinite = defop("isfinite", np.isfinite)
signbit = defop("signbit", np.signbit)


# --- clamp and where -----------------------------------------------------------
def _clamp_vjp(g: Any, ans: Any, x: Any, min: Any = None, max: Any = None) -> Any:
    # NOTE: the bounds themselves pass the gradient (1 at min and at max), as in PyTorch;
    # JAX gives 0.5 there and the minimum-norm subgradient 0 (set_subgradient_convention).
    convention = _state.subgradient
    if convention != "torch":
        inside = None
        at_bound = None
        for bound, above in ((min, True), (max, False)):
            if bound is None:
                continue
            strict = (x > bound) if above else (x < bound)
            inside = strict if inside is None else inside & strict
            hit = x == bound
            at_bound = hit if at_bound is None else at_bound | hit
        share = 0.5 if convention == "jax" else 0.0
        return g * (where(inside, 1.0, 0.0) + where(at_bound, share, 0.0))
    if min is not None and max is not None:
        return where((x >= min) & (x <= max), g, 0.0)
    if min is not None:
        return where(x >= min, g, 0.0)
    return where(x <= max, g, 0.0)


def _clamp_t_x(g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    keep = None
    if lo is not None:
        keep = x >= lo
    if hi is not None:
        keep = (x <= hi) if keep is None else keep & (x <= hi)
    return where(keep, g, 0.0)


def _clamp_t_lo(g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    below = x < lo
    if hi is not None:
        below = below & (lo <= hi)
    return where(below, g, 0.0)


def _clamp_t_hi(g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    above = x > hi
    if lo is not None:
        above = above | (lo > hi)
    return where(above, g, 0.0)


clamp_scalar = defop("clamp_scalar", _clamp_impl, vjp=_clamp_vjp, jvp=ELEMENTWISE,
                     names="ClampBackward1")
clamp_tensor = defop("clamp_tensor", _clamp_tensor_impl, vjp=(_clamp_t_x, _clamp_t_lo, _clamp_t_hi),
                     jvp=ELEMENTWISE, names="ClampBackward0", promote="same")
where = defop("where", _where_impl,
              vjp=(None, lambda g, ans, c, x, y: where(c, g, 0.0),
                   lambda g, ans, c, x, y: where(c, 0.0, g)),
              jvp=ELEMENTWISE)
