"""Elementwise primitives: unary maths, binary arithmetic, comparisons, clamp and where.

Each row gives the forward (a NumPy function) and one derivative rule per
input. Rules use the functions of this module, which accept ndarrays (plain
backward) and Tensors (``create_graph=True``) alike, so every rule is itself
differentiable.
"""

from __future__ import annotations

import builtins
import functools
import math
import operator
from typing import Any

import numpy as np

from gradkit._core.grad_mode import _state
from gradkit._core.tensor import Tensor as _Tensor
from ._registry import ELEMENTWISE, LINEAR, ZERO, bf16_rules, half_in_float32, uint_rows
from ._registry import round_bf16 as _round_bf16
from ._registry import defop as _defop

# Elementwise forwards also run on NumPy scalars (the 0-d fast path in _registry.apply1/2).
defop = functools.partial(_defop, scalar_ok=True)

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


# --- forwards NumPy lacks ------------------------------------------------------
@half_in_float32
def _erf_impl(x: np.ndarray) -> np.ndarray:
    try:
        from scipy.special import erf as _sp_erf
    except ImportError:  # NOTE: exact to double precision, slower than SciPy's
        return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype if x.dtype.kind == "f" else float)
    return _sp_erf(x)


def _special(name: str, fallback: Any) -> Any:
    """SciPy's ``scipy.special.<name>`` (a ufunc, dispatched on any array type), else ``fallback``."""
    try:
        import scipy.special as sp
    except ImportError:  # NOTE: NumPy is the only hard dependency; the fallbacks are exact but slower
        return fallback
    return getattr(sp, name)


def _pyfunc(f: Any) -> Any:
    """A scalar Python function applied elementwise, keeping a floating input's dtype."""
    uf = np.frompyfunc(f, 1, 1)

    def run(x: Any) -> Any:
        return uf(x).astype(x.dtype if x.dtype.kind == "f" else float)
    return run


def _lgamma1(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:                     # poles: 0, -1, -2, ...
        return math.inf


def _erfinv1(y: float) -> float:
    if math.isnan(y) or builtins.abs(y) > 1.0:
        return math.nan
    if builtins.abs(y) == 1.0:
        return math.copysign(math.inf, y)
    if builtins.abs(y) < 1e-3:
        x = y * math.sqrt(math.pi) / 2.0
    else:
        from statistics import NormalDist
        x = NormalDist().inv_cdf((1.0 + y) / 2.0) / math.sqrt(2.0)
    for _ in range(2):                     # Newton steps on erf(x) = y
        d = _TWO_OVER_SQRT_PI * math.exp(-x * x)
        if d == 0.0:
            break
        x -= (math.erf(x) - y) / d
    return x


def _hurwitz1(s: int, q: float) -> float:
    """Hurwitz zeta(s, q) for integer s >= 2 (direct sum, then Euler-Maclaurin)."""
    if q <= 0 and q == math.floor(q):
        return math.inf
    total = 0.0
    while q < 12.0:
        total += q ** -s
        q += 1.0
    total += q ** (1 - s) / (s - 1) + 0.5 * q ** -s
    fact = s * q ** (-s - 1)               # s (s+1) ... (s+2j-2) q^(-s-2j+1) / (2j)!
    for j, b in enumerate((1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730), start=1):
        total += b * fact / math.factorial(2 * j)
        fact *= (s + 2 * j - 1) * (s + 2 * j) / (q * q)
    return total


def _digamma1(x: float) -> float:
    if math.isnan(x):
        return x
    if x == 0.0:
        return -math.copysign(math.inf, x)  # digamma(+0) = -inf, digamma(-0) = +inf
    if x < 0 and x == math.floor(x):
        return math.nan
    r = 0.0
    if x < 0.5:
        r = -math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    while x < 6.0:
        r -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    return r + math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))




@half_in_float32
def _erfc_impl(x: Any) -> Any:
    return _special("erfc", _pyfunc(math.erfc))(x)


@half_in_float32
def _erfinv_impl(x: Any) -> Any:
    return _special("erfinv", _pyfunc(_erfinv1))(x)


@half_in_float32
def _lgamma_impl(x: Any) -> Any:
    out = _special("gammaln", _pyfunc(_lgamma1))(x)
    # NOTE: lgamma(-inf) = inf (C's lgamma, PyTorch); SciPy's gammaln gives -inf.
    return np.where(x == -np.inf, np.inf, out).astype(out.dtype, copy=False)


@half_in_float32
def _digamma_impl(x: Any) -> Any:
    return _special("psi", _pyfunc(_digamma1))(x)


def _polygamma_impl(x: Any, n: int) -> Any:
    if n == 0:
        return _digamma_impl(x)
    c = (-1.0) ** (n + 1) * math.factorial(n)
    zeta = _special("zeta", None)
    if zeta is None:
        return _pyfunc(lambda v: c * _hurwitz1(n + 1, v))(x)
    return (zeta(x.dtype.type(n + 1), x) * x.dtype.type(c)).astype(x.dtype, copy=False)


@half_in_float32
def _sinc_impl(x: Any) -> Any:
    y = np.where(x == 0, x.dtype.type(1e-20), x) * x.dtype.type(math.pi)
    return np.sin(y) / y


def _xlogy_impl(x: Any, y: Any) -> Any:
    if type(y) in (int, float):
        y = x.dtype.type(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(y)
    return np.where((x == 0) & ~np.isnan(y), out.dtype.type(0), out)


def _int_zero(x: Any, y: Any, kernel: str = "") -> None:
    """PyTorch refuses integer division by zero (NumPy gives 0 with a warning), and has no
    bool kernel for it (NumPy gives int8, True % False is 0)."""
    if getattr(x, "dtype", None) == np.bool_ and (type(y) is bool or getattr(y, "dtype", None) == np.bool_):
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if getattr(x, "dtype", np.dtype(float)).kind in "iu" and (
            (type(y) is int and y == 0) or
            (type(y) in (np.ndarray, ) and y.dtype.kind in "iub" and not y.all()) or
            (isinstance(y, np.integer) and y == 0)):
        raise RuntimeError("ZeroDivisionError")


def _remainder_impl(x: Any, y: Any) -> Any:
    _int_zero(x, y, "remainder_cpu")
    r = np.remainder(x, y)
    if getattr(r, "dtype", None) is not None and r.dtype.kind == "f":
        # NOTE: PyTorch's remainder is fmod(x, y), plus y when the signs differ; a zero result
        # keeps x's sign (NumPy gives 0 the divisor's sign: remainder(3., -3.) is -0.0).
        r = np.where(r == 0, np.copysign(r, x), r)
    return r


def _fmod_impl(x: Any, y: Any) -> Any:
    _int_zero(x, y, "fmod_cpu")
    return np.fmod(x, y)


def _relu_impl(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, x.dtype.type(0))


@half_in_float32
def _sigmoid_impl(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "c":
        return 1.0 / (1.0 + np.exp(-x))
    # NOTE: split by sign so that exp never overflows.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _logit_impl(x: np.ndarray, eps: float | None = None) -> np.ndarray:
    if eps is not None:
        x = np.clip(x, eps, 1.0 - eps)
    return np.log(x / (1.0 - x))


@half_in_float32
def _rsqrt_impl(x: np.ndarray) -> np.ndarray:
    return 1.0 / np.sqrt(x)


def _frac_impl(x: np.ndarray) -> np.ndarray:
    return x - np.trunc(x)


@half_in_float32
def _round_impl(x: np.ndarray, decimals: int = 0) -> np.ndarray:
    """PyTorch's steps: ``rint(x * 10**d) / 10**d``, for d < 0 ``rint(x / 10**-d) * 10**-d``,
    in the float's own precision (float32 for float16: in float16, 1200.1 * 1000 overflowed to
    inf and 0.0025 * 1000 rounded to 2.5, then to 2)."""
    if not decimals or getattr(x, "dtype", None) is None or x.dtype.kind != "f":
        return np.round(x, decimals)
    scale = x.dtype.type(10.0 ** abs(decimals))
    return np.rint(x * scale) / scale if decimals > 0 else np.rint(x / scale) * scale


def _floor_divide_impl(x: Any, y: Any) -> np.ndarray:
    _int_zero(x, y, "div_floor_cpu")
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


# --- complex parts ---------------------------------------------------------------
_REAL_SCALARS = frozenset((float, int, np.float64, np.float32, np.float16))


def _cj(v: Any) -> Any:
    """``conj(v)`` for complex values, ``v`` itself otherwise (one dtype check on real inputs).

    PyTorch's gradients of complex inputs are ``g * conj(f'(z))``; rules apply this to their
    derivative factor, so real dtypes keep their results and their speed.
    """
    t = type(v)
    if t in _REAL_SCALARS:                      # a plain backward of 0-d values: the common case
        return v
    if t is np.ndarray:
        return np.conjugate(v) if v.dtype.kind == "c" else v
    if isinstance(v, _Tensor):
        return conj(v) if v._data.dtype.kind == "c" else v
    d = getattr(v, "dtype", None)
    if d is None:
        return v.conjugate() if isinstance(v, complex) else v
    return conj(v) if getattr(d, "kind", "") == "c" else v


def _real_impl(x: Any, view: bool = False) -> Any:
    # NOTE: ``view=True`` is ``Tensor.real``: a view sharing memory with a complex input (in
    # place writes reach it); rules get a copy they may own.
    return np.real(x) if view and type(x) is np.ndarray else np.real(x).copy()


def _imag_impl(x: Any, view: bool = False) -> Any:
    return np.imag(x) if view and type(x) is np.ndarray else np.imag(x).copy()


def _angle_impl(x: Any) -> Any:
    if x.dtype.kind == "c":
        return np.arctan2(np.imag(x), np.real(x))
    # NOTE: a real angle is pi below 0, else 0 (also at -0.0), nan kept (PyTorch).
    out = np.where(x < 0, x.dtype.type(math.pi), x.dtype.type(0))
    return np.where(x != x, x, out)


def _angle_vjp(g: Any, ans: Any, x: Any) -> Any:
    # NOTE: d angle = (x dy - y dx) / |z|^2, i.e. g * i z / |z|^2; 0 at the origin (PyTorch).
    # A real input's angle is piecewise constant (0 or pi): zero gradient.
    if not _is_complex(x):
        return g * 0.0
    r2 = real(x * conj(x))
    return where(r2 == 0, 0.0, g * x * 1j / where(r2 == 0, 1.0, r2))


def _angle_jvp(t: Any, ans: Any, x: Any) -> Any:
    # NOTE: d angle = Im(conj(z) dz) / |z|^2 (0 at the origin); a real input's angle is constant.
    if not _is_complex(x):
        return real(t) * 0.0 if _is_complex(t) else t * 0.0
    r2 = real(x * conj(x))
    return where(r2 == 0, 0.0, imag(conj(x) * t) / where(r2 == 0, 1.0, r2))


def _is_complex(v: Any) -> bool:
    if type(v) is np.ndarray:
        return v.dtype.kind == "c"
    if isinstance(v, _Tensor):
        return v._data.dtype.kind == "c"
    return getattr(getattr(v, "dtype", None), "kind", "") == "c"


def _complex_impl(re: Any, im: Any) -> Any:
    ctype = np.result_type(re.dtype, np.complex64)
    if type(re) is np.ndarray and type(im) is np.ndarray:
        out = np.empty(np.broadcast_shapes(re.shape, im.shape), ctype)
        out.real = re
        out.imag = im                      # exact, also for inf parts (1j * inf would give nan)
        return out
    # NOTE: other backends (Dask, CuPy) and scalars: exact for finite parts.
    return re.astype(ctype) + im.astype(ctype) * ctype.type(1j)


def _polar_impl(r: Any, theta: Any) -> Any:
    return _complex_impl(r * np.cos(theta), r * np.sin(theta))


def _view_as_real_impl(x: Any, view: bool = False) -> Any:
    if view and type(x) is np.ndarray:
        # a view: each complex element read as its two floats (any strides)
        return x[..., None].view(x.real.dtype)
    return np.stack([np.real(x), np.imag(x)], axis=-1)


def _view_as_complex_impl(x: Any, view: bool = False) -> Any:
    if view and type(x) is np.ndarray and x.strides[-1] == x.itemsize:
        # a view: each pair of floats read as one complex element
        return x.view(np.result_type(x.dtype, np.complex64))[..., 0]
    return _complex_impl(x[..., 0], x[..., 1])


conj = defop("conj", np.conjugate, vjp=lambda g, ans, x: conj(g), jvp=LINEAR, save_inputs=False,
             names=("ConjBackward0", "ConjPhysicalBackward0"))
real = defop("real", _real_impl, vjp=lambda g, ans, x, view=False: g, jvp=LINEAR, save_inputs=False,
             names="SelectBackward0")
# NOTE: imag(z) = Im z: a real g flows back as g * 1j (the derivative along the imaginary axis).
imag = defop("imag", _imag_impl, vjp=lambda g, ans, x, view=False: g * 1j, jvp=LINEAR,
             save_inputs=False,
             names="SelectBackward0")
angle = defop("angle", _angle_impl, vjp=_angle_vjp, jvp=(_angle_jvp,), promote="float")
complex_ = defop("complex", _complex_impl, vjp=(lambda g, ans, re, im: real(g),
                                                lambda g, ans, re, im: imag(g)),
                 jvp=LINEAR, save_inputs=False, names="ComplexBackward0")


def _polar_vjp_abs(g: Any, ans: Any, r: Any, theta: Any) -> Any:
    # NOTE: Re(conj(g) * sgn(out)) as in PyTorch, which flips the sign where abs < 0.
    return (real(g) * cos(theta) + imag(g) * sin(theta)) * sign(r)


def _polar_vjp_angle(g: Any, ans: Any, r: Any, theta: Any) -> Any:
    return imag(g) * real(ans) - real(g) * imag(ans)


polar = defop("polar", _polar_impl, vjp=(_polar_vjp_abs, _polar_vjp_angle), save_ans=True,
              names="PolarBackward0")
view_as_real = defop("view_as_real", _view_as_real_impl,
                     vjp=lambda g, ans, x, view=False: view_as_complex(g), jvp=LINEAR,
                     save_inputs=False,
                     names="ViewAsRealBackward0")
view_as_complex = defop("view_as_complex", _view_as_complex_impl,
                        vjp=lambda g, ans, x, view=False: view_as_real(g), jvp=LINEAR,
                        save_inputs=False,
                        names="ViewAsComplexBackward0")


# --- unary ---------------------------------------------------------------------
neg = defop("neg", np.negative, vjp=lambda g, ans, x: -g, jvp=LINEAR, save_inputs=False,
            batch="elementwise", batched_vjp="broadcast")
exp = defop("exp", np.exp, vjp=lambda g, ans, x: g * _cj(ans), jvp=ELEMENTWISE,
            save_inputs=False, save_ans=True, promote="float")
exp2 = defop("exp2", np.exp2, vjp=lambda g, ans, x: g * _cj(ans) * _LN2, jvp=ELEMENTWISE,
             save_inputs=False, save_ans=True, promote="float")
expm1 = defop("expm1", np.expm1, vjp=lambda g, ans, x: g * _cj(ans + 1.0), jvp=ELEMENTWISE,
              save_inputs=False, save_ans=True, promote="float")
log = defop("log", np.log, vjp=lambda g, ans, x: g / _cj(x), jvp=ELEMENTWISE, promote="float")
log2 = defop("log2", np.log2, vjp=lambda g, ans, x: g / (_cj(x) * _LN2), jvp=ELEMENTWISE,
             promote="float")
log10 = defop("log10", np.log10, vjp=lambda g, ans, x: g / (_cj(x) * _LN10), jvp=ELEMENTWISE,
              promote="float")
log1p = defop("log1p", np.log1p, vjp=lambda g, ans, x: g / _cj(x + 1.0), jvp=ELEMENTWISE,
              promote="float", names="Log1PBackward0")
# NOTE: sqrt'(0) = inf, as in PyTorch.
sqrt = defop("sqrt", np.sqrt, vjp=lambda g, ans, x: g / (_cj(ans) * 2.0), jvp=ELEMENTWISE,
             save_inputs=False, save_ans=True, promote="float")
rsqrt = defop("rsqrt", _rsqrt_impl, vjp=lambda g, ans, x: g * _cj(ans * ans * ans) * -0.5,
              jvp=ELEMENTWISE, save_inputs=False, save_ans=True, promote="float")
def _sign_impl(x: Any) -> Any:
    out = np.sign(x)
    if getattr(x, "dtype", None) is not None and x.dtype.kind == "f":
        # NOTE: sign(nan) = 0, as in PyTorch ((0 < x) - (x < 0)); NumPy gives nan.
        out = np.where(x != x, x.dtype.type(0), out)
    return out


# NOTE: abs'(0) = 0 and sign'(x) = 0, as in PyTorch; so abs'(nan) = 0 too.
sign = defop("sign", _sign_impl, vjp=ZERO, jvp=ELEMENTWISE, names=("SignBackward0", "SgnBackward0"))
def _abs_vjp(g: Any, ans: Any, x: Any) -> Any:
    # NOTE: abs'(0) = 0 as in PyTorch; JAX's convention gives 1 (set_subgradient_convention).
    if _is_complex(x):
        # NOTE: g * sgn(x) = g * x / |x| (0 at 0), written out so that it has a second derivative.
        a = abs(x)
        return where(a == 0, 0.0, g * x / where(a == 0, 1.0, a))
    if _state.subgradient == "jax":
        return g * where(x >= 0, 1.0, -1.0)
    return g * sign(x)


abs = defop("abs", np.abs, vjp=_abs_vjp, jvp=ELEMENTWISE)  # noqa: A001
sin = defop("sin", np.sin, vjp=lambda g, ans, x: g * _cj(cos(x)), jvp=ELEMENTWISE, promote="float")
cos = defop("cos", np.cos, vjp=lambda g, ans, x: -(g * _cj(sin(x))), jvp=ELEMENTWISE, promote="float")
tan = defop("tan", np.tan, vjp=lambda g, ans, x: g * _cj(ans * ans + 1.0), jvp=ELEMENTWISE,
            save_inputs=False, save_ans=True, promote="float")
asin = defop("asin", np.arcsin, vjp=lambda g, ans, x: g * _cj(rsqrt(1.0 - x * x)), jvp=ELEMENTWISE,
             promote="float")
acos = defop("acos", np.arccos, vjp=lambda g, ans, x: -(g * _cj(rsqrt(1.0 - x * x))),
             jvp=ELEMENTWISE, promote="float")
atan = defop("atan", np.arctan, vjp=lambda g, ans, x: g / _cj(x * x + 1.0), jvp=ELEMENTWISE,
             promote="float")
sinh = defop("sinh", np.sinh, vjp=lambda g, ans, x: g * _cj(cosh(x)), jvp=ELEMENTWISE,
             promote="float")
cosh = defop("cosh", np.cosh, vjp=lambda g, ans, x: g * _cj(sinh(x)), jvp=ELEMENTWISE,
             promote="float")
tanh = defop("tanh", np.tanh, vjp=lambda g, ans, x: g * _cj(1.0 - ans * ans), jvp=ELEMENTWISE,
             save_inputs=False, save_ans=True, promote="float")
def _acosh_vjp(g: Any, ans: Any, x: Any) -> Any:
    # NOTE: arccosh(z) = log(z + sqrt(z + 1) sqrt(z - 1)), so f'(z) = 1 / (sqrt(z - 1) sqrt(z + 1));
    # for complex z off the right half-plane this is not rsqrt(z^2 - 1) (the other sign).
    if _is_complex(x):
        return g / _cj(sqrt(x - 1.0) * sqrt(x + 1.0))
    return g * rsqrt(x * x - 1.0)


asinh = defop("asinh", np.arcsinh, vjp=lambda g, ans, x: g * _cj(rsqrt(x * x + 1.0)),
              jvp=ELEMENTWISE, promote="float")
acosh = defop("acosh", np.arccosh, vjp=_acosh_vjp,
              jvp=ELEMENTWISE, promote="float")
atanh = defop("atanh", np.arctanh, vjp=lambda g, ans, x: g / _cj(1.0 - x * x), jvp=ELEMENTWISE,
              promote="float")
sigmoid = defop("sigmoid", _sigmoid_impl, vjp=lambda g, ans, x: g * _cj(ans * (1.0 - ans)),
                jvp=ELEMENTWISE, save_inputs=False, save_ans=True, promote="float")
logit = defop("logit", _logit_impl, vjp=lambda g, ans, x, eps=None: _logit_vjp(g, x, eps),
              jvp=ELEMENTWISE, promote="float")
# NOTE: relu'(0) = 0 and relu'(nan) = 1, as in PyTorch (it zeroes where the result is <= 0).
relu = defop("relu", _relu_impl, vjp=lambda g, ans, x: grad_link(where(ans <= 0, 0.0, g), ans),
             jvp=ELEMENTWISE,
             save_inputs=False, save_ans=True)
erf = defop("erf", _erf_impl, vjp=lambda g, ans, x: g * _cj(exp(-(x * x))) * _TWO_OVER_SQRT_PI,
            jvp=ELEMENTWISE, promote="float")
reciprocal = defop("reciprocal", np.reciprocal, vjp=lambda g, ans, x: -(g * _cj(ans * ans)),
                   jvp=ELEMENTWISE, save_inputs=False, save_ans=True, promote="float")
floor = defop("floor", np.floor, vjp=ZERO, jvp=ELEMENTWISE)
ceil = defop("ceil", np.ceil, vjp=ZERO, jvp=ELEMENTWISE)
round = defop("round", _round_impl, vjp=ZERO, jvp=ELEMENTWISE)  # noqa: A001
trunc = defop("trunc", np.trunc, vjp=ZERO, jvp=ELEMENTWISE)
# NOTE: frac is not linear (frac(t) != t); its derivative is 1, so the tangent passes.
frac = defop("frac", _frac_impl, vjp=lambda g, ans, x: g, jvp=ELEMENTWISE, save_inputs=False)
erfc = defop("erfc", _erfc_impl, vjp=lambda g, ans, x: -(g * _cj(exp(-(x * x))) * _TWO_OVER_SQRT_PI),
             jvp=ELEMENTWISE, promote="float")
erfinv = defop("erfinv", _erfinv_impl,
               vjp=lambda g, ans, x: g * exp(ans * ans) * _SQRT_PI_OVER_TWO, jvp=ELEMENTWISE,
               save_inputs=False, save_ans=True, promote="float")
lgamma = defop("lgamma", _lgamma_impl, vjp=lambda g, ans, x: g * digamma(x), jvp=ELEMENTWISE,
               promote="float")
digamma = defop("digamma", _digamma_impl, vjp=lambda g, ans, x: g * polygamma(x, n=1),
                jvp=ELEMENTWISE, promote="float")
polygamma = defop("polygamma", _polygamma_impl,
                  vjp=lambda g, ans, x, n: g * polygamma(x, n=n + 1), jvp=ELEMENTWISE,
                  promote="float")


def _sinc_vjp(g: Any, ans: Any, x: Any) -> Any:
    # NOTE: 0 at x = 0 (PyTorch), where the formula is 0/0.
    px = x * math.pi
    return where(x == 0, 0.0, g * _cj((cos(px) * px - sin(px)) / (px * x)))


sinc = defop("sinc", _sinc_impl, vjp=_sinc_vjp, jvp=ELEMENTWISE, promote="float")


def _logit_vjp(g: Any, x: Any, eps: float | None) -> Any:
    out = g / (x * (1.0 - x))
    if eps is None:
        # NOTE: nan outside [0, 1], as in PyTorch (the formula alone would be finite there).
        return where((x < 0.0) | (x > 1.0), math.nan, out)
    return where((x < eps) | (x > 1.0 - eps), 0.0, out)


# --- binary --------------------------------------------------------------------
add = defop("add", operator.add, vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: g), jvp=LINEAR,
            save_inputs=False, promote="same", batch="elementwise", batched_vjp="broadcast",
            names=("AddBackward0", "AddBackward1"), scalar_variants=(1,))
sub = defop("sub", operator.sub, vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: -g),
            jvp=LINEAR, save_inputs=False, promote="same", batch="elementwise", batched_vjp="broadcast")
# NOTE: not LINEAR: ``other`` is a parameter, so rsub(t) would add it to the tangent.
rsub = defop("rsub", _rsub_impl, vjp=lambda g, ans, x, other: -g, jvp=ELEMENTWISE,
             save_inputs=False, promote="same", names="RsubBackward1", batched_vjp="broadcast")
# PyTorch rounds a number added to (or subtracted from) bfloat16 to bfloat16 first: x + 0.1 adds
# 0.10009765625 (x * 0.1 multiplies by 0.1 in float32)
for _f in (add, sub, rsub):
    bf16_rules(_f, round_numbers=True)
mul = defop("mul", operator.mul, vjp=(lambda g, ans, x, y: g * _cj(y), lambda g, ans, x, y: g * _cj(x)),
            jvp=ELEMENTWISE, promote="same", names=("MulBackward0", "MulBackward1"),
            scalar_variants=(1,))
div = defop("div", operator.truediv,
            vjp=(lambda g, ans, x, y: g / _cj(y), lambda g, ans, x, y: -(g * _cj(x)) / _cj(y * y)),
            jvp=ELEMENTWISE, promote="float", names=("DivBackward0", "DivBackward1"),
            scalar_variants=(1,))
# PyTorch's bfloat16 formula for the divisor: -g * ((x / y) / y), each quotient rounded
bf16_rules(div, vjp=(lambda g, ans, x, y: g / y,
                     lambda g, ans, x, y: -g * _round_bf16(_round_bf16(x / y) / y)))
def _floor_divide_refused(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("derivative for aten::floor_divide is not implemented")


def _floor_divide_no_forward(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("Trying to use forward AD with aten::floor_divide that does not "
                              "support it.")


# NOTE: PyTorch records a NotImplemented node whose backward refuses (its quotient's derivative
# is zero almost everywhere, but PyTorch does not define it); div(rounding_mode="floor") and
# remainder's rule take the quotient of detached inputs (_floor_quotient) instead.
floor_divide = defop("floor_divide", _floor_divide_impl, promote="same", batch="elementwise",
                     vjp=(_floor_divide_refused, _floor_divide_refused),
                     jvp=(_floor_divide_no_forward, _floor_divide_no_forward), save_inputs=False,
                     names="NotImplemented")


def _floor_quotient(x: Any, y: Any) -> Any:
    """``floor_divide`` of ``x`` and ``y`` as a constant (no node)."""
    return floor_divide(x.detach() if isinstance(x, _Tensor) else x,
                        y.detach() if isinstance(y, _Tensor) else y)


# NOTE: d/dy is -floor_divide(x, y) (Python's //, as PyTorch): -1.5 // inf is -1, inf // 1.5
# is nan, where floor(x / y) gives -0 and inf.
remainder = defop("remainder", _remainder_impl,
                  vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: -(g * _floor_quotient(x, y))),
                  jvp=ELEMENTWISE, promote="same", names=("RemainderBackward0", "RemainderBackward1"),
                  scalar_variants=(0,))
fmod = defop("fmod", _fmod_impl,
             vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: -(g * trunc(x / y))),
             jvp=ELEMENTWISE, promote="same", names=("FmodBackward0", "FmodBackward1"),
             scalar_variants=(0,))


def _pow_scalar_vjp(g: Any, ans: Any, x: Any, exponent: Any) -> Any:
    if exponent == 0:
        return g * 0.0
    if exponent == 2:
        if isinstance(x, _Tensor):
            # NOTE: on the graph (create_graph=True) PyTorch's 2 * x ** 1: its derivative
            # 2 * x ** 0 stays on x, so a Hessian of x ** 2 has a grad_fn as PyTorch's has
            return g * (_cj(pow_scalar(x, exponent=1)) * 2.0)
        return g * (_cj(x) * 2.0)
    if exponent == 0.5 and not _is_complex(x):
        # NOTE: x ** 0.5 is sqrt (as in PyTorch): g / (2 sqrt(x)), so -0.0 gives -inf and
        # -inf gives nan, not 0.5 * (-inf) ** -0.5 = 0.
        return g / (pow_scalar(x, exponent=0.5) * 2.0)
    return g * _cj(pow_scalar(x, exponent=exponent - 1) * exponent)


def _pow_vjp_base(g: Any, ans: Any, x: Any, y: Any) -> Any:
    # NOTE: d/dx x**y is 0 where y == 0 (so 0**0 gives 0, not nan), as in PyTorch.
    return where(y == 0, 0.0, g * _cj(y * pow(x, y - 1.0)))


def _pow_vjp_exponent(g: Any, ans: Any, x: Any, y: Any) -> Any:
    # NOTE: 0 where base == 0 and exponent >= 0 (PyTorch), instead of 0 * -inf = nan.
    return where((x == 0) & (y >= 0), 0.0, g * _cj(ans * log(x)))


def _rpow_vjp(g: Any, ans: Any, x: Any, base: Any) -> Any:
    if base == 0:
        # NOTE: log(0) = -inf, taken as 0 where the exponent is >= 0 (PyTorch). The factor is
        # built from x, so it keeps x's dtype and no 0 * inf reaches a second derivative.
        # (x * 0.0 is nan at x = +-inf: those take a plain 0, so 0 ** inf gives 0 and
        # 0 ** -inf gives -inf, as PyTorch.)
        zero = where(isfinite(x), x * 0.0, 0.0)
        return g * ans * where(x >= 0, zero, zero - np.inf)
    with np.errstate(invalid="ignore"):
        return g * ans * float(np.log(np.float64(base)))


pow_scalar = defop("pow_scalar", _pow_scalar_impl, vjp=_pow_scalar_vjp, jvp=ELEMENTWISE,
                   names="PowBackward0", promote="same")
pow = defop("pow", np.power, vjp=(_pow_vjp_base, _pow_vjp_exponent), jvp=ELEMENTWISE,  # noqa: A001
            names="PowBackward1", save_ans=True, promote="same")
rpow = defop("rpow", _rpow_impl, vjp=_rpow_vjp, jvp=ELEMENTWISE, names="PowBackward2",
             save_ans=True, promote="same")


def _pow_bf16(x: np.ndarray, exponent: Any) -> np.ndarray:
    """``x ** exponent`` (float32 values of a bfloat16 tensor) as PyTorch's bfloat16 kernel:
    x * x * x and 1 / (x * x) with each product rounded, another exponent rounded to bfloat16
    first (x ** 2.7 is x ** 2.703125)."""
    if exponent == 3:
        return _round_bf16(x * x) * x
    if exponent == -2:
        return 1.0 / _round_bf16(x * x)
    if exponent in (2, 0.5, -1, -0.5):
        return _pow_scalar_impl(x, exponent)
    return np.power(x, np.float32(_round_bf16(float(exponent))))


def _pow_scalar_vjp_bf16(g: Any, ans: Any, x: Any, exponent: Any) -> Any:
    """PyTorch's ``g * (exponent * x ** (exponent - 1))`` on bfloat16, each step rounded."""
    if exponent == 0:
        return g * 0.0
    return g * _round_bf16(exponent * _round_bf16(_pow_bf16(x, exponent - 1)))


def _rpow_vjp_bf16(g: Any, ans: Any, x: Any, base: Any) -> Any:
    if base == 0:
        return _rpow_vjp(g, ans, x, base)
    return g * _round_bf16(ans * np.float32(np.log(np.float64(base))))


bf16_rules(pow_scalar, fwd=_pow_bf16, vjp=(_pow_scalar_vjp_bf16,))
bf16_rules(rpow, vjp=(_rpow_vjp_bf16,), round_numbers=True)
def _atan2_vjp_y(g: Any, ans: Any, y: Any, x: Any) -> Any:
    # NOTE: at the origin both partials are 0, as in PyTorch (not 0/0 = nan).
    r = x * x + y * y
    return where(r == 0, 0.0, g * x / r)


def _atan2_vjp_x(g: Any, ans: Any, y: Any, x: Any) -> Any:
    r = x * x + y * y
    return where(r == 0, 0.0, -(g * y) / r)


atan2 = defop("atan2", np.arctan2, vjp=(_atan2_vjp_y, _atan2_vjp_x), jvp=ELEMENTWISE, promote="float")


def _max_share(g: Any, x: Any, y: Any) -> Any:
    # NOTE: ties give each side half the gradient, as in PyTorch. A nan on either side gives
    # both sides the whole gradient (PyTorch zeroes only where x < y). Built with where so
    # that the gradient keeps g's dtype (a bool * 0.5 mask would be float64).
    return where(x < y, 0.0, where(x == y, g * 0.5, g))


maximum = defop("maximum", np.maximum,
                vjp=(lambda g, ans, x, y: _max_share(g, x, y),
                     lambda g, ans, x, y: _max_share(g, y, x)),
                jvp=ELEMENTWISE, promote="same")
minimum = defop("minimum", np.minimum,
                vjp=(lambda g, ans, x, y: _max_share(g, y, x),
                     lambda g, ans, x, y: _max_share(g, x, y)),
                jvp=ELEMENTWISE, promote="same")
# NOTE: written as g / (1 + exp(other - self)), as PyTorch does, so an infinite side gets the
# whole gradient (exp(x - ans) is exp(inf - inf) = nan there).
logaddexp = defop("logaddexp", np.logaddexp,
                  vjp=(lambda g, ans, x, y: g / (exp(y - x) + 1.0),
                       lambda g, ans, x, y: g / (exp(x - y) + 1.0)),
                  jvp=ELEMENTWISE, promote="float")
hypot = defop("hypot", np.hypot,
              vjp=(lambda g, ans, x, y: g * x / ans, lambda g, ans, x, y: g * y / ans),
              jvp=ELEMENTWISE, save_ans=True, promote="float")

logaddexp2 = defop("logaddexp2", np.logaddexp2,
                   vjp=(lambda g, ans, x, y: g / (exp2(y - x) + 1.0),
                        lambda g, ans, x, y: g / (exp2(x - y) + 1.0)),
                   jvp=ELEMENTWISE, promote="float")


def _fmax_self(x: Any, y: Any) -> Any:
    # NOTE: ties and a nan ``other`` send the whole gradient to ``input`` (PyTorch).
    return (x >= y) | isnan(y)


def _fmin_self(x: Any, y: Any) -> Any:
    return (x <= y) | isnan(y)


fmax = defop("fmax", np.fmax,
             vjp=(lambda g, ans, x, y: where(_fmax_self(x, y), g, 0.0),
                  lambda g, ans, x, y: where(_fmax_self(x, y), 0.0, g)),
             jvp=ELEMENTWISE, promote="same")
fmin = defop("fmin", np.fmin,
             vjp=(lambda g, ans, x, y: where(_fmin_self(x, y), g, 0.0),
                  lambda g, ans, x, y: where(_fmin_self(x, y), 0.0, g)),
             jvp=ELEMENTWISE, promote="same")
# NOTE: 0 * log(0) = 0; d/dx is 0 where x == 0 and y <= 0, d/dy = x / y (nan at 0/0), as PyTorch.
xlogy = defop("xlogy", _xlogy_impl,
              vjp=(lambda g, ans, x, y: where((x == 0) & (y <= 0), 0.0, xlogy(g, y)),
                   lambda g, ans, x, y: g * x / y),
              jvp=ELEMENTWISE, promote="float")
# NOTE: d/dx is sign(result / x), 0 at x == 0; nothing flows to the sign source (PyTorch).
copysign = defop("copysign", np.copysign,
                 vjp=(lambda g, ans, x, y: where(x == 0, 0.0, g * ans / x), ZERO),
                 jvp=ELEMENTWISE, save_ans=True, promote="float")


def _heaviside_impl(x: Any, v: Any, nan_zero: bool = False) -> Any:
    # NOTE: PyTorch's rule is x == 0 ? v : x > 0, so a nan input gives 0; NumPy's gives nan
    out = np.heaviside(x, v)
    if nan_zero and x.dtype.kind in "fc":
        out = np.where(np.isnan(x), out.dtype.type(0), out)
    return out.astype(x.dtype, copy=False)


heaviside = defop("heaviside", _heaviside_impl)

# --- comparisons and logic (no gradient) ---------------------------------------
eq = defop("eq", np.equal, batch="elementwise")
ne = defop("ne", np.not_equal, batch="elementwise")
lt = defop("lt", np.less, batch="elementwise")
le = defop("le", np.less_equal, batch="elementwise")
gt = defop("gt", np.greater, batch="elementwise")
ge = defop("ge", np.greater_equal, batch="elementwise")
logical_and = defop("logical_and", np.logical_and, batch="elementwise")
logical_or = defop("logical_or", np.logical_or, batch="elementwise")
logical_xor = defop("logical_xor", np.logical_xor, batch="elementwise")
logical_not = defop("logical_not", np.logical_not, batch="elementwise")
bitwise_and = defop("bitwise_and", np.bitwise_and, batch="elementwise")
bitwise_or = defop("bitwise_or", np.bitwise_or, batch="elementwise")
bitwise_xor = defop("bitwise_xor", np.bitwise_xor, batch="elementwise")
bitwise_not = defop("bitwise_not", np.invert, batch="elementwise")
isnan = defop("isnan", np.isnan, batch="elementwise")
isinf = defop("isinf", np.isinf, batch="elementwise")
isfinite = defop("isfinite", np.isfinite, batch="elementwise")
signbit = defop("signbit", np.signbit, batch="elementwise")


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
                     names=("ClampBackward1", "ClampMinBackward0", "ClampMaxBackward0"))
clamp_tensor = defop("clamp_tensor", _clamp_tensor_impl, vjp=(_clamp_t_x, _clamp_t_lo, _clamp_t_hi),
                     jvp=ELEMENTWISE, names="ClampBackward0", promote="same")
def _fill_impl(x: Any, value: Any) -> Any:
    return np.broadcast_to(value, x.shape).astype(x.dtype, copy=True)


#: ``x`` overwritten by ``value`` (broadcast, cast to ``x``'s dtype): ``fill_``, ``copy_``,
#: ``zero_`` on a tensor with history. The old values get a zero gradient; nothing is saved,
#: so the in-place change of ``x`` itself cannot trip a version check.
fill = defop("fill", _fill_impl, vjp=(ZERO, lambda g, ans, x, value: g), jvp=LINEAR,
             names=("FillBackward0", "CopyBackwards", "ZeroBackward0"), save_inputs=False)
where = defop("where", _where_impl,
              vjp=(None, lambda g, ans, c, x, y: where(c, g, 0.0),
                   lambda g, ans, c, x, y: where(c, 0.0, g)),
              jvp=ELEMENTWISE)


# --- fused pointwise rows (PyTorch's nodes: LerpBackward0/1, AddcmulBackward0, ...) ----------
# NOTE: fused for PyTorch's node names; each rule is written in table ops, so every order of
# derivative works. Complex inputs take the conjugated partials, as ``mul``.
def _lerp_impl(x: Any, y: Any, w: Any) -> Any:
    # NOTE: PyTorch's two-sided formula: exact at w = 0 and at w = 1
    d = y - x
    return np.where(np.abs(w) < 0.5, x + w * d, y - d * (1 - w))


lerp = defop("lerp", _lerp_impl,
             vjp=(lambda g, ans, x, y, w: g * _cj(1.0 - w), lambda g, ans, x, y, w: g * _cj(w),
                  lambda g, ans, x, y, w: g * _cj(y - x)),
             jvp=ELEMENTWISE, promote="same", names="LerpBackward1")
lerp_scalar = defop(
    "lerp_scalar", lambda x, y, weight: _lerp_impl(x, y, x.dtype.type(weight)).astype(
        np.result_type(x, y), copy=False),
    vjp=(lambda g, ans, x, y, weight: g * (1.0 - weight), lambda g, ans, x, y, weight: g * weight),
    jvp=ELEMENTWISE, promote="same", names="LerpBackward0")
addcmul = defop(
    "addcmul", lambda x, a, b, value: x + (a * b if value == 1 else (a * b) * value),
    vjp=(lambda g, ans, x, a, b, value: g, lambda g, ans, x, a, b, value: g * _cj(b * value),
         lambda g, ans, x, a, b, value: g * _cj(a * value)),
    jvp=ELEMENTWISE, promote="same", names="AddcmulBackward0")
addcdiv = defop(
    "addcdiv", lambda x, a, b, value: x + (a / b if value == 1 else (a / b) * value),
    vjp=(lambda g, ans, x, a, b, value: g, lambda g, ans, x, a, b, value: g * _cj(value / b),
         lambda g, ans, x, a, b, value: -(g * _cj(a * value / (b * b)))),
    jvp=ELEMENTWISE, promote="same", names="AddcdivBackward0")
deg2rad = defop("deg2rad", half_in_float32(lambda x: x * x.dtype.type(math.pi / 180.0)),
                vjp=lambda g, ans, x: g * (math.pi / 180.0), jvp=ELEMENTWISE, promote="float",
                save_inputs=False, names="Deg2RadBackward0")
rad2deg = defop("rad2deg", half_in_float32(lambda x: x * x.dtype.type(180.0 / math.pi)),
                vjp=lambda g, ans, x: g * (180.0 / math.pi), jvp=ELEMENTWISE, promote="float",
                save_inputs=False, names="Rad2DegBackward0")
# NOTE: the gradient passes where x is finite and is 0 at the replaced values (PyTorch)
def _nan_to_num_impl(x: Any, nan: float, posinf: float, neginf: float) -> Any:
    if type(x) is np.ndarray or x.dtype.kind == "c":
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    # NOTE: other array libraries (Dask) may not take nan_to_num's keywords
    t = x.dtype.type
    out = np.where(np.isnan(x), t(nan), x)
    return np.where(x == np.inf, t(posinf), np.where(x == -np.inf, t(neginf), out))


nan_to_num = defop("nan_to_num", _nan_to_num_impl, vjp=lambda g, ans, x, nan, posinf, neginf:
    where(isfinite(x), g, 0.0), jvp=ELEMENTWISE, names="NanToNumBackward0")

# NOTE: add/sub with alpha as one node (PyTorch's AddBackward0/SubBackward0 keep alpha on the
# node): ``x + alpha * y``; sub passes -alpha (exact), its own name as variant 1
add_alpha = defop("add_alpha", lambda x, y, alpha: x + y * alpha,
                  vjp=(lambda g, ans, x, y, alpha: g, lambda g, ans, x, y, alpha: g * np.conj(alpha)),
                  jvp=ELEMENTWISE, promote="same", save_inputs=False,
                  names=("AddBackward0", "SubBackward0"))
def _grad_link_impl(g: Any, x: Any) -> Any:
    return g


#: The gradient of a kinked op (``relu``, ``hardtanh``, ``threshold``, ...): ``g`` passed on,
#: with ``x`` (the op's input or result) as a second input whose derivative is zero. PyTorch's
#: nodes for these (``threshold_backward``, ``hardtanh_backward``, ...) take the input too, so
#: a gradient made with ``create_graph=True`` requires grad even from a constant ``g`` and its
#: derivative with respect to ``x`` is zeros, not an error.
grad_link = defop("grad_link", _grad_link_impl, vjp=(lambda g, ans, y, x: g, ZERO),
                  jvp=ELEMENTWISE, save_inputs=False, names="KinkBackwardBackward0")


# --- shifts, gcd and lcm (integer-only, no gradient) -----------------------------------
def _shift_impl(x: Any, y: Any, left: bool) -> Any:
    # NOTE: PyTorch's kernels: a shift by a negative count or by at least the width gives 0
    # (a right shift of a negative signed value gives -1); NumPy's is undefined there. Written
    # with ufuncs only, so device and lazy arrays stay on their backend.
    if x.dtype == np.bool_:
        x = x.astype(np.int64)          # bool << int: PyTorch's int64
    bits = x.dtype.itemsize * 8
    if isinstance(y, (int, np.integer)):
        count = int(min(max(int(y), 0), bits - 1))      # a Python int keeps x's dtype
        out = np.left_shift(x, count) if left else np.right_shift(x, count)
        if 0 <= int(y) < bits:
            return out
        return out * 0 if left or x.dtype.kind != "i" else np.where(x < 0, -1, 0).astype(x.dtype)
    count = np.clip(y, 0, bits - 1).astype(x.dtype)
    out = np.left_shift(x, count) if left else np.right_shift(x, count)
    wide = (y < 0) | (y >= bits)
    fill = 0 if left or x.dtype.kind != "i" else np.where(x < 0, -1, 0)
    return np.where(wide, fill, out).astype(out.dtype)


bitwise_left_shift = defop("bitwise_left_shift", lambda x, y: _shift_impl(x, y, True),
                           promote="same", batch="elementwise")
bitwise_right_shift = defop("bitwise_right_shift", lambda x, y: _shift_impl(x, y, False),
                            promote="same", batch="elementwise")
gcd = defop("gcd", np.gcd, promote="same", batch="elementwise")
lcm = defop("lcm", np.lcm, promote="same", batch="elementwise")


# the rows PyTorch 2.13 runs on uint16/uint32/uint64 (others raise its "not implemented for
# 'UInt32'"): div turns them into floats first
uint_rows(mul, div, eq, ne, bitwise_and, bitwise_or, bitwise_xor, where)
