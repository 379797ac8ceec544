"""``torch.special``: PyTorch's special functions under their ``torch.special`` names.

Every function here routes to what gradkit already has: a row of the derivative table
(``gradkit.ops.special``, ``gradkit.ops.elementwise``) or a function of the PyTorch surface
(``gk.lgamma``, ``gk.softmax``, ...), so values and gradients (of any order) come from the one
table. PyTorch's non-differentiable functions (``airy_ai``, the orthogonal polynomials) are
rows whose outputs do not require grad, as in PyTorch; ``bessel_j0`` and the modified Bessel
functions route to the differentiable ``jv``/``yv``/``i0``/``kv`` rows (PyTorch gives them no
gradient; these are exact). Each function takes PyTorch's keyword ``out=``.

Examples
--------
>>> gk.special.expit(gk.tensor([0.0, 2.0]))
tensor([0.5000, 0.8808])
"""

from __future__ import annotations

import math
from typing import Any, Callable

import gradkit as _A
from gradkit._api.base import _accepts_out
from gradkit._core.dtype import get_default_dtype
from gradkit._core.tensor import Tensor
from gradkit.ops import elementwise as _E
from gradkit.ops import special as _S

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma",
    "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
    "gammaln", "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e",
    "laguerre_polynomial_l", "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax", "logit",
    "logsumexp", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
    "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy",
    "zeta",
]


def _tensor(x: Any, fname: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"special_{fname}(): argument '{arg}' (position {pos}) must be Tensor, "
                        f"not {type(x).__name__}")
    return x


def _unary(name: str, fn: Callable[[Tensor], Tensor], doc: str) -> Callable[..., Tensor]:
    def special(input: Tensor) -> Tensor:
        return fn(_tensor(input, name))
    special.__name__ = special.__qualname__ = name
    special.__module__ = __name__
    special.__doc__ = doc
    return _accepts_out(special)


def _binary(name: str, fn: Callable[[Any, Any], Tensor], doc: str) -> Callable[..., Tensor]:
    def special(input: Any, other: Any) -> Tensor:
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            raise TypeError(f"special_{name}() received an invalid combination of arguments - "
                            f"got ({type(input).__name__}, {type(other).__name__}), but expected "
                            "at least one Tensor")
        return fn(input, other)
    special.__name__ = special.__qualname__ = name
    special.__module__ = __name__
    special.__doc__ = doc
    return _accepts_out(special)


def _polynomial(name: str, row: Callable[[Any, Any], Tensor]) -> Callable[..., Tensor]:
    def special(input: Any, n: Any) -> Tensor:
        if not isinstance(input, Tensor):
            if not isinstance(n, Tensor):
                raise TypeError(f"special_{name}() expects a Tensor for input or n")
            dt = n.dtype if n.is_floating_point() else get_default_dtype()
            input = _A.full(n.shape, input, dtype=dt)
        return row(input, n)
    special.__name__ = special.__qualname__ = name
    special.__module__ = __name__
    special.__doc__ = (f"``{name}(input, n)``: the degree-``n`` polynomial at ``input`` (``n`` "
                       "truncated to an integer; 0 for a negative degree). Not differentiable, as "
                       "in PyTorch.")
    return _accepts_out(special)


# --- error functions, gamma family, logistic --------------------------------------------
erf = _unary("erf", _A.erf, "The error function.")
erfc = _unary("erfc", _A.erfc, "The complementary error function ``1 - erf(x)``.")
erfcx = _unary("erfcx", _S.erfcx, "The scaled complementary error function ``exp(x**2) * erfc(x)``.")
erfinv = _unary("erfinv", _A.erfinv, "The inverse error function.")
expit = _unary("expit", _A.sigmoid, "The logistic sigmoid ``1 / (1 + exp(-x))``.")
exp2 = _unary("exp2", _A.exp2, "``2 ** x``.")
expm1 = _unary("expm1", _A.expm1, "``exp(x) - 1``, accurate near 0.")
log1p = _unary("log1p", _A.log1p, "``log(1 + x)``, accurate near 0.")
gammaln = _unary("gammaln", _A.lgamma, "``log|Gamma(x)|``.")
digamma = _unary("digamma", _A.digamma, "The logarithmic derivative of Gamma.")
psi = _unary("psi", _A.digamma, "Alias of ``digamma``.")
entr = _unary("entr", _S.entr, "Elementwise entropy ``-x log x`` (0 at 0, -inf below).")
sinc = _unary("sinc", _A.sinc, "The normalized sinc ``sin(pi x) / (pi x)``.")
ndtri = _unary("ndtri", _S.ndtri, "The inverse of the standard normal CDF.")
log_ndtr = _unary("log_ndtr", _S.log_ndtr, "The log of the standard normal CDF.")


def _ndtr(x: Tensor) -> Tensor:
    from gradkit.scipy.special import ndtr
    return ndtr(x)


ndtr = _unary("ndtr", _ndtr, "The standard normal CDF.")

# --- Bessel functions -----------------------------------------------------------------------
i0 = _unary("i0", _S.i0, "The modified Bessel function of the first kind, order 0.")
i0e = _unary("i0e", _S.i0e, "``exp(-|x|) * i0(x)``.")
i1 = _unary("i1", _S.i1, "The modified Bessel function of the first kind, order 1.")
i1e = _unary("i1e", _S.i1e, "``exp(-|x|) * i1(x)``.")
modified_bessel_i0 = _unary("modified_bessel_i0", _S.i0, "Same as ``i0``.")
modified_bessel_i1 = _unary("modified_bessel_i1", _S.i1, "Same as ``i1``.")
modified_bessel_k0 = _unary("modified_bessel_k0", lambda x: _S.kv(0.0, x),
                            "The modified Bessel function of the second kind, order 0.")
modified_bessel_k1 = _unary("modified_bessel_k1", lambda x: _S.kv(1.0, x),
                            "The modified Bessel function of the second kind, order 1.")


def _kve_at_inf(v: float) -> Callable[[Tensor], Tensor]:
    # SciPy's kve gives NaN at x = +inf; the limit (PyTorch's value) is 0
    def fn(x: Tensor) -> Tensor:
        y = _S.kve(v, x)
        return _A.where(x == math.inf, _A.zeros_like(y), y)
    return fn


scaled_modified_bessel_k0 = _unary("scaled_modified_bessel_k0", _kve_at_inf(0.0),
                                   "``exp(x) * modified_bessel_k0(x)``.")
scaled_modified_bessel_k1 = _unary("scaled_modified_bessel_k1", _kve_at_inf(1.0),
                                   "``exp(x) * modified_bessel_k1(x)``.")
bessel_j0 = _unary("bessel_j0", lambda x: _S.jv(0.0, x), "The Bessel function of the first kind, order 0.")
bessel_j1 = _unary("bessel_j1", lambda x: _S.jv(1.0, x), "The Bessel function of the first kind, order 1.")
bessel_y0 = _unary("bessel_y0", lambda x: _S.yv(0.0, x), "The Bessel function of the second kind, order 0.")
bessel_y1 = _unary("bessel_y1", lambda x: _S.yv(1.0, x), "The Bessel function of the second kind, order 1.")


def _spherical_j0(x: Tensor) -> Tensor:
    # sin(x)/x; near 0 its Taylor polynomial (exact to float64 for |x| < 1e-3, and right in
    # its derivatives at 0, where sin(x)/x cannot be evaluated)
    if not x.is_floating_point():
        x = x.to(get_default_dtype())
    small = _A.abs(x) < 1e-3
    safe = _A.where(small, _A.ones_like(x), x)
    xs = _A.where(small, x, _A.zeros_like(x))  # keeps huge x out of the polynomial's gradient
    x2 = xs * xs
    # sin(+-inf) is NaN; the limit sin(x)/x at +-inf is 0 (PyTorch's value)
    inf = _A.isinf(x)
    safe = _A.where(inf, _A.ones_like(x), safe)
    far = _A.where(inf, _A.zeros_like(x), _A.sin(safe) / safe)
    return _A.where(small, 1.0 - x2 / 6.0 + x2 * x2 / 120.0, far)


spherical_bessel_j0 = _unary("spherical_bessel_j0", _spherical_j0,
                             "The spherical Bessel function of the first kind, order 0: "
                             "``sin(x) / x``.")
airy_ai = _unary("airy_ai", _S.airy_ai, "The Airy function Ai (not differentiable, as in PyTorch).")

# --- two arguments --------------------------------------------------------------------------
xlogy = _binary("xlogy", _A.xlogy, "``x * log(y)``, 0 where ``x == 0``.")
xlog1py = _binary("xlog1py", _S.xlog1py, "``x * log1p(y)``, 0 where ``x == 0``.")
gammainc = _binary("gammainc", _S.gammainc,
                   "The regularized lower incomplete gamma function ``P(input, other)``; "
                   "differentiable in ``other`` only (as in PyTorch).")
gammaincc = _binary("gammaincc", _S.gammaincc,
                    "The regularized upper incomplete gamma function ``Q(input, other)``; "
                    "differentiable in ``other`` only (as in PyTorch).")
zeta = _binary("zeta", _S.zeta, "The Hurwitz zeta function ``zeta(input, other)``.")

# --- polynomials (PyTorch gives them no gradient) -------------------------------------------
chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", _S.chebyshev_polynomial_t)
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", _S.chebyshev_polynomial_u)
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", _S.chebyshev_polynomial_v)
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", _S.chebyshev_polynomial_w)
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t",
                                             _S.shifted_chebyshev_polynomial_t)
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u",
                                             _S.shifted_chebyshev_polynomial_u)
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v",
                                             _S.shifted_chebyshev_polynomial_v)
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w",
                                             _S.shifted_chebyshev_polynomial_w)
hermite_polynomial_h = _polynomial("hermite_polynomial_h", _S.hermite_polynomial_h)
hermite_polynomial_he = _polynomial("hermite_polynomial_he", _S.hermite_polynomial_he)
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", _S.laguerre_polynomial_l)
legendre_polynomial_p = _polynomial("legendre_polynomial_p", _S.legendre_polynomial_p)


# --- functions with more parameters ---------------------------------------------------------
@_accepts_out
def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``; with ``eps`` the input is clamped to ``[eps, 1 - eps]`` first."""
    return _A.logit(_tensor(input, "logit"), eps)


@_accepts_out
def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of ``digamma``."""
    return _A.polygamma(n, _tensor(input, "polygamma", pos=2))


@_accepts_out
def multigammaln(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``:
    ``p(p-1)/4 log(pi) + sum_{j<p} gammaln(input - j/2)``."""
    x = _tensor(input, "multigammaln")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if not x.is_floating_point():
        x = x.to(get_default_dtype())
    out = _E.lgamma(x) + p * (p - 1) / 4.0 * math.log(math.pi)
    for j in range(1, p):
        out = out + _E.lgamma(x - j / 2.0)
    return out


@_accepts_out
def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even (``decimals`` places); the gradient is zero."""
    return _A.round(_tensor(input, "round"), decimals=decimals)


@_accepts_out
def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input), dim))``, computed stably."""
    return _A.logsumexp(_tensor(input, "logsumexp"), dim, keepdim)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)`` (``dtype``: cast the input first)."""
    return _A.softmax(_tensor(input, "softmax"), dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """``log(softmax(input, dim))``, computed stably."""
    return _A.log_softmax(_tensor(input, "log_softmax"), dim, dtype=dtype)

# the public functions dispatch through __torch_function__ (gradkit/_core/torch_function.py)
from gradkit._core import torch_function as _torch_function  # noqa: E402
_torch_function.wrap_namespace(globals(), __all__, "gradkit.special", prefix="special_")
