"""``scipy.special`` with gradients: SciPy's names and signatures on gradkit tensors.

With a Tensor among the arguments the result is a Tensor on the graph (reverse and forward
mode, any order); without one the call is ``scipy.special``'s own. Values are SciPy's: each
function is a table row whose forward is the SciPy ufunc (``gradkit.ops.special`` and
``gradkit.ops.elementwise``), or a composite of such rows (``beta``, ``multigammaln``,
``logsumexp``, ``softmax``, ...).

Gradients flow to every floating argument except the orders and shape parameters that have no
closed-form derivative in SciPy's functions: ``v`` of ``iv``/``ive``/``jv``/``yv``, ``n`` of
``polygamma``/``jn``/``yn``, ``a`` of ``gammainc``/``gammaincc``, ``a``/``b`` of ``betainc``,
``x`` of ``zeta``. Asking for those raises NotImplementedError (PyTorch and JAX do the same).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import gradkit as gk
from gradkit.ops import elementwise as E
from gradkit.ops import special as S

from ._util import any_tensor, as_tensors, passthrough, axis_dims, scipy_module

__all__ = [
    "gammaln", "loggamma", "digamma", "psi", "polygamma", "multigammaln", "gamma", "rgamma",
    "gammasgn", "gammainc", "gammaincc", "beta", "betaln", "betainc", "zeta", "erf", "erfc",
    "erfinv", "erfcinv", "erfcx", "expit", "logit", "log_expit", "ndtr", "ndtri", "log_ndtr",
    "xlogy", "xlog1py", "i0", "i1", "i0e", "i1e", "iv", "ive", "jv", "yv", "jn", "yn", "j0", "j1",
    "y0", "y1", "entr", "rel_entr", "kl_div", "sinc", "logsumexp", "softmax", "log_softmax",
    "expm1", "log1p", "exp2", "exp10", "cbrt", "kv", "kve", "k0", "k1", "k0e", "k1e", "expn",
    "exp1", "expi", "dawsn", "erfi", "spence", "ellipk", "ellipe", "hyp1f1", "gammaincinv",
    "gammainccinv", "betaincinv", "softplus", "factorial", "poch",
]


def _sp() -> Any:
    return scipy_module("special")


def _unary(name: str, row: Any, doc: str = "") -> Any:
    def fn(x: Any) -> Any:
        if not isinstance(x, gk.Tensor):
            return getattr(_sp(), name)(x)
        return row(x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"``scipy.special.{name}``, differentiable on gradkit tensors."
    return fn


def _binary(name: str, row: Any, doc: str = "") -> Any:
    def fn(x: Any, y: Any) -> Any:
        if not any_tensor(x, y):
            return getattr(_sp(), name)(x, y)
        x, y = as_tensors(x, y)
        return row(x, y)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"``scipy.special.{name}``, differentiable on gradkit tensors."
    return fn


gammaln = _unary("gammaln", E.lgamma)
loggamma = _unary("loggamma", E.lgamma, "``scipy.special.loggamma`` for real inputs (= gammaln "
                  "where gamma > 0).")
digamma = _unary("digamma", E.digamma)
psi = _unary("psi", E.digamma)
gamma = _unary("gamma", S.gamma)
rgamma = _unary("rgamma", S.rgamma)
gammasgn = _unary("gammasgn", S.gammasgn)
erf = _unary("erf", E.erf)
erfc = _unary("erfc", E.erfc)
erfinv = _unary("erfinv", E.erfinv)
erfcinv = _unary("erfcinv", S.erfcinv)
erfcx = _unary("erfcx", S.erfcx)
expit = _unary("expit", E.sigmoid)
logit = _unary("logit", E.logit)
ndtri = _unary("ndtri", S.ndtri)
log_ndtr = _unary("log_ndtr", S.log_ndtr)
i0 = _unary("i0", S.i0)
i1 = _unary("i1", S.i1)
i0e = _unary("i0e", S.i0e)
i1e = _unary("i1e", S.i1e)
entr = _unary("entr", S.entr)
expm1 = _unary("expm1", E.expm1)
log1p = _unary("log1p", E.log1p)
exp2 = _unary("exp2", E.exp2)
xlogy = _binary("xlogy", E.xlogy)
xlog1py = _binary("xlog1py", S.xlog1py)
gammainc = _binary("gammainc", S.gammainc)
gammaincc = _binary("gammaincc", S.gammaincc)
iv = _binary("iv", S.iv)
ive = _binary("ive", S.ive)
jv = _binary("jv", S.jv)
yv = _binary("yv", S.yv)
jn = _binary("jn", S.jv, "``scipy.special.jn`` (integer order): ``jv``.")
kv = _binary("kv", S.kv)
kve = _binary("kve", S.kve)
expn = _binary("expn", S.expn)
gammaincinv = _binary("gammaincinv", S.gammaincinv)
gammainccinv = _binary("gammainccinv", S.gammainccinv)
exp1 = _unary("exp1", S.exp1)
expi = _unary("expi", S.expi)
dawsn = _unary("dawsn", S.dawsn)
erfi = _unary("erfi", S.erfi)
spence = _unary("spence", S.spence)
ellipk = _unary("ellipk", S.ellipk)
ellipe = _unary("ellipe", S.ellipe)
yn = _binary("yn", S.yv, "``scipy.special.yn`` (integer order): ``yv``.")


def _order(name: str, v: float, row: Any) -> Any:
    def fn(x: Any) -> Any:
        if not isinstance(x, gk.Tensor):
            return getattr(_sp(), name)(x)
        return row(v, x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``scipy.special.{name}``: ``{row.__name__}({v}, x)``, differentiable in x."
    return fn


j0 = _order("j0", 0.0, S.jv)
j1 = _order("j1", 1.0, S.jv)
y0 = _order("y0", 0.0, S.yv)
y1 = _order("y1", 1.0, S.yv)
k0 = _order("k0", 0.0, S.kv)
k1 = _order("k1", 1.0, S.kv)
k0e = _order("k0e", 0.0, S.kve)
k1e = _order("k1e", 1.0, S.kve)


def _ternary(name: str, row: Any) -> Any:
    def fn(a: Any, b: Any, x: Any) -> Any:
        if not any_tensor(a, b, x):
            return getattr(_sp(), name)(a, b, x)
        a, b, x = as_tensors(a, b, x)
        return row(a, b, x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``scipy.special.{name}``, differentiable in its last argument."
    return fn


betaincinv = _ternary("betaincinv", S.betaincinv)
hyp1f1 = _ternary("hyp1f1", S.hyp1f1)


def softplus(x: Any) -> Any:
    """``scipy.special.softplus``: ``log(1 + exp(x))``, stable for large |x|."""
    if not isinstance(x, gk.Tensor):
        return _sp().softplus(x)
    return gk.maximum(x, 0.0 * x) + gk.log1p(gk.exp(-gk.abs(x)))


def factorial(n: Any, exact: bool = False) -> Any:
    """``scipy.special.factorial`` (``exact=False``): ``gamma(n + 1)``, 0 for n < 0."""
    if not isinstance(n, gk.Tensor):
        return _sp().factorial(n, exact=exact)
    return gk.where(n < 0, 0.0, S.gamma(gk.where(n < 0, 0.0, n) + 1.0))


def poch(z: Any, m: Any) -> Any:
    """``scipy.special.poch``: the rising factorial ``gamma(z + m) / gamma(z)``."""
    if not any_tensor(z, m):
        return _sp().poch(z, m)
    z, m = as_tensors(z, m)
    sgn = S.gammasgn(z + m) * S.gammasgn(z)
    return sgn * gk.exp(E.lgamma(z + m) - E.lgamma(z))


def ndtr(x: Any) -> Any:
    """``scipy.special.ndtr``, the standard normal CDF: ``erfc(-x / sqrt(2)) / 2``."""
    if not isinstance(x, gk.Tensor):
        return _sp().ndtr(x)
    return E.erfc(x * -math.sqrt(0.5)) * 0.5


def log_expit(x: Any) -> Any:
    """``scipy.special.log_expit``: ``log(expit(x)) = -softplus(-x)``, stable for large |x|."""
    if not isinstance(x, gk.Tensor):
        return _sp().log_expit(x)
    return gk.minimum(x, 0.0) - gk.log1p(gk.exp(-gk.abs(x)))


def exp10(x: Any) -> Any:
    """``scipy.special.exp10``."""
    if not isinstance(x, gk.Tensor):
        return _sp().exp10(x)
    return gk.exp(x * math.log(10.0))


def cbrt(x: Any) -> Any:
    """``scipy.special.cbrt`` (real cube root)."""
    if not isinstance(x, gk.Tensor):
        return _sp().cbrt(x)
    return gk.sign(x) * gk.abs(x) ** (1.0 / 3.0)


def sinc(x: Any) -> Any:
    """Normalized sinc ``sin(pi x) / (pi x)`` (``numpy.sinc``; SciPy has no ``special.sinc``)."""
    if not isinstance(x, gk.Tensor):
        return np.sinc(x)
    return E.sinc(x)


def polygamma(n: Any, x: Any) -> Any:
    """``scipy.special.polygamma(n, x)``, differentiable in x (n: a non-negative integer)."""
    if not isinstance(x, gk.Tensor):
        return _sp().polygamma(n, x)
    if isinstance(n, gk.Tensor):
        n = n.detach().numpy()
    n_arr = np.asarray(n)
    if n_arr.ndim == 0:
        return E.polygamma(x, n=int(n_arr))
    # NOTE: an array of orders: one row call per distinct order, joined with where.
    x_b, n_b = gk.broadcast_tensors(x, gk.as_tensor(n_arr))
    out = None
    for k in np.unique(n_arr):
        part = E.polygamma(x_b, n=int(k))
        out = part if out is None else gk.where(n_b == int(k), part, out)
    return out


def multigammaln(a: Any, d: int) -> Any:
    """``scipy.special.multigammaln(a, d)``: log of the multivariate gamma function."""
    if not isinstance(a, gk.Tensor):
        return _sp().multigammaln(a, d)
    d = int(d)
    out = E.lgamma(a) + d * (d - 1) / 4.0 * math.log(math.pi)
    for j in range(2, d + 1):
        out = out + E.lgamma(a + (1 - j) / 2.0)
    return out


def betaln(a: Any, b: Any) -> Any:
    """``scipy.special.betaln``: ``log|B(a, b)|``."""
    if not any_tensor(a, b):
        return _sp().betaln(a, b)
    a, b = as_tensors(a, b)
    return E.lgamma(a) + E.lgamma(b) - E.lgamma(a + b)


def beta(a: Any, b: Any) -> Any:
    """``scipy.special.beta``: ``gamma(a) gamma(b) / gamma(a + b)`` (computed in logs)."""
    if not any_tensor(a, b):
        return _sp().beta(a, b)
    a, b = as_tensors(a, b)
    sgn = S.gammasgn(a) * S.gammasgn(b) * S.gammasgn(a + b)
    return sgn * gk.exp(betaln(a, b))


betainc = _ternary("betainc", S.betainc)


def zeta(x: Any, q: Any = None) -> Any:
    """``scipy.special.zeta(x, q=None)`` (Hurwitz; Riemann when q is None), differentiable in q."""
    if not any_tensor(x, q):
        return _sp().zeta(x, q) if q is not None else _sp().zeta(x)
    x, q = as_tensors(x, 1.0 if q is None else q)
    return S.zeta(x, q)


def rel_entr(x: Any, y: Any) -> Any:
    """``scipy.special.rel_entr``: ``x log(x / y)`` (0 at x = 0, inf where not both positive)."""
    if not any_tensor(x, y):
        return _sp().rel_entr(x, y)
    x, y = as_tensors(x, y)
    ok = (x > 0) & (y > 0)
    safe_y = gk.where(ok, y, 1.0)
    val = E.xlogy(x, gk.where(ok, x, 1.0)) - E.xlogy(x, safe_y)
    return gk.where(ok, val, gk.where((x == 0) & (y >= 0), 0.0, math.inf))


def kl_div(x: Any, y: Any) -> Any:
    """``scipy.special.kl_div``: ``x log(x / y) - x + y`` (y at x = 0, inf where not valid)."""
    if not any_tensor(x, y):
        return _sp().kl_div(x, y)
    x, y = as_tensors(x, y)
    return rel_entr(x, y) - x + y


# --- reductions -------------------------------------------------------------------------
def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """``scipy.special.logsumexp``: ``log(sum(b * exp(a)))`` over ``axis``, computed stably.

    With ``return_sign=True`` returns ``(log|s|, sign(s))`` for a sum ``s`` that may be
    negative (weights ``b`` of either sign). Differentiable in ``a`` and ``b``.
    """
    if not any_tensor(a, b):
        return _sp().logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    a, b = as_tensors(a, b)
    if b is not None:
        a, b = gk.broadcast_tensors(a, b)
    dims = axis_dims(axis, a.ndim)
    if a.ndim == 0:
        m = a.detach()
    else:
        m = gk.amax(a.detach(), dim=dims, keepdim=True) if dims else a.detach()
    m = gk.where(gk.isfinite(m), m, 0.0)
    e = gk.exp(a - m)
    if b is not None:
        e = e * b
    s = gk.sum(e, dim=dims, keepdim=True) if dims else e
    if return_sign:
        sgn = gk.sign(s)
        out = gk.log(gk.abs(s)) + m
    else:
        sgn = None
        out = gk.log(s) + m
    if not keepdims and dims:
        out = gk.squeeze(out, dims) if len(dims) == 1 else out.reshape(
            [n for i, n in enumerate(out.shape) if i not in dims])
        if sgn is not None:
            sgn = sgn.reshape(out.shape)
    return (out, sgn.detach()) if return_sign else out


def log_softmax(x: Any, axis: Any = None) -> Any:
    """``scipy.special.log_softmax(x, axis=None)`` (``axis=None``: over every element)."""
    if not isinstance(x, gk.Tensor):
        return _sp().log_softmax(x, axis=axis)
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x: Any, axis: Any = None) -> Any:
    """``scipy.special.softmax(x, axis=None)`` (``axis=None``: over every element)."""
    if not isinstance(x, gk.Tensor):
        return _sp().softmax(x, axis=axis)
    return gk.exp(log_softmax(x, axis=axis))


# NOTE: the rest of scipy.special, as SciPy's own (no gradient).
__getattr__ = passthrough("special", __name__)


_UFUNC_NAMES = ("gammaln", "digamma", "psi", "gamma", "rgamma", "gammasgn", "gammainc",
                "gammaincc", "beta", "betaln", "betainc", "erf", "erfc", "erfinv", "erfcinv",
                "erfcx", "expit", "logit", "log_expit", "ndtr", "ndtri", "log_ndtr", "xlogy",
                "xlog1py", "i0", "i1", "i0e", "i1e", "iv", "ive", "jv", "yv", "jn", "yn", "j0",
                "j1", "y0", "y1", "entr", "rel_entr", "kl_div", "exp10", "cbrt", "kv", "kve", "k0",
                "k1", "k0e", "k1e", "expn", "exp1", "expi", "dawsn", "erfi", "spence", "ellipk",
                "ellipe", "hyp1f1", "gammaincinv", "gammainccinv", "betaincinv", "softplus",
                "poch")


def ufunc_table() -> dict[Any, Any]:
    """``{scipy.special ufunc: its gradkit function}`` for NumPy's dispatch.

    SciPy's special functions are NumPy ufuncs, so ``scipy.special.erf(t)`` on a tensor reaches
    ``Tensor.__array_ufunc__``; this table tells the dispatch which differentiable function
    answers each of them (the functions take the ufunc's positional arguments). Empty without
    SciPy.
    """
    try:
        sp = _sp()
    except ImportError:
        return {}
    table = {}
    for name in _UFUNC_NAMES:
        uf = getattr(sp, name, None)
        if isinstance(uf, np.ufunc):
            table[uf] = globals()[name]
    return table
