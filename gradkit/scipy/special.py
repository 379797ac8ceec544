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
    "gammainccinv", "betaincinv", "softplus", "factorial", "poch", "cosm1", "cosdg", "sindg",
    "tandg", "cotdg", "radian", "exprel", "boxcox", "boxcox1p", "inv_boxcox", "inv_boxcox1p",
    "huber", "pseudo_huber", "powm1", "gdtr", "gdtrc", "chdtr", "chdtrc", "pdtr", "pdtrc", "bdtr",
    "bdtrc", "nbdtr", "nbdtrc", "fdtr", "fdtrc", "stdtr", "kn", "eval_legendre",
    "eval_sh_legendre", "eval_chebyt", "eval_sh_chebyt", "eval_hermite", "eval_hermitenorm",
    "eval_laguerre",
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


# --- compositions: elementary, Box-Cox, losses, distribution functions, polynomials ---------
def _small_series(z: Any, exact: Any, series: Any, cut: float = 1e-4) -> Any:
    """``exact(z)`` where ``|z| >= cut``, ``series(z)`` below: both branches differentiable, so
    the removable singularity at 0 gets its right derivative (not a constant's zero)."""
    small = gk.abs(z.detach()) < cut
    safe = gk.where(small, cut, z)
    return gk.where(small, series(z), exact(safe))


def loggamma(x: Any) -> Any:
    """``scipy.special.loggamma`` for real inputs: ``gammaln`` for x >= 0, NaN for x < 0 (SciPy's
    principal branch is complex there; complex inputs are not supported on tensors)."""
    if not isinstance(x, gk.Tensor):
        return _sp().loggamma(x)
    if x.is_complex():
        raise NotImplementedError("scipy.special.loggamma of complex tensors is not supported")
    return gk.where(x < 0, math.nan, E.lgamma(x))


def cosm1(x: Any) -> Any:
    """``scipy.special.cosm1``: ``cos(x) - 1`` without cancellation (``-2 sin(x/2)**2``)."""
    if not isinstance(x, gk.Tensor):
        return _sp().cosm1(x)
    return gk.sin(x * 0.5) ** 2 * -2.0


def _degrees(name: str, fn: Any) -> Any:
    def f(x: Any) -> Any:
        if not isinstance(x, gk.Tensor):
            return getattr(_sp(), name)(x)
        return fn(x * (math.pi / 180.0))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``scipy.special.{name}``: of an angle in degrees, differentiable."
    return f


cosdg = _degrees("cosdg", gk.cos)
sindg = _degrees("sindg", gk.sin)
tandg = _degrees("tandg", gk.tan)
cotdg = _degrees("cotdg", lambda r: 1.0 / gk.tan(r))


def radian(d: Any, m: Any, s: Any) -> Any:
    """``scipy.special.radian``: degrees, arcminutes and arcseconds to radians."""
    if not any_tensor(d, m, s):
        return _sp().radian(d, m, s)
    d, m, s = as_tensors(d, m, s)
    return (d + m / 60.0 + s / 3600.0) * (math.pi / 180.0)


def exprel(x: Any) -> Any:
    """``scipy.special.exprel``: ``(exp(x) - 1) / x``, 1 at 0 (derivative 1/2 there)."""
    if not isinstance(x, gk.Tensor):
        return _sp().exprel(x)
    return _small_series(x, lambda z: E.expm1(z) / z, lambda z: 1.0 + z * (0.5 + z / 6.0))


def _boxcox_core(logx: Any, lmbda: Any) -> Any:
    """``(exp(lmbda * L) - 1) / lmbda`` with L = log(x) (or log1p), L at lmbda = 0."""
    z = lmbda * logx
    return _small_series(z, lambda w: E.expm1(w) / gk.where(lmbda == 0, 1.0, lmbda),
                         lambda w: logx * (1.0 + w * (0.5 + w / 6.0)))


def boxcox(x: Any, lmbda: Any) -> Any:
    """``scipy.special.boxcox``: ``(x**lmbda - 1) / lmbda`` (``log(x)`` at lmbda = 0)."""
    if not any_tensor(x, lmbda):
        return _sp().boxcox(x, lmbda)
    x, lmbda = as_tensors(x, lmbda)
    return _boxcox_core(gk.log(x), lmbda)


def boxcox1p(x: Any, lmbda: Any) -> Any:
    """``scipy.special.boxcox1p``: ``((1 + x)**lmbda - 1) / lmbda``."""
    if not any_tensor(x, lmbda):
        return _sp().boxcox1p(x, lmbda)
    x, lmbda = as_tensors(x, lmbda)
    return _boxcox_core(gk.log1p(x), lmbda)


def _inv_boxcox_log(y: Any, lmbda: Any) -> Any:
    """``log1p(lmbda * y) / lmbda`` (y at lmbda = 0): the log of the inverse Box-Cox."""
    z = lmbda * y
    return _small_series(z, lambda w: gk.log1p(w) / gk.where(lmbda == 0, 1.0, lmbda),
                         lambda w: y * (1.0 - w * (0.5 - w / 3.0)))


def inv_boxcox(y: Any, lmbda: Any) -> Any:
    """``scipy.special.inv_boxcox``: the x with ``boxcox(x, lmbda) == y``."""
    if not any_tensor(y, lmbda):
        return _sp().inv_boxcox(y, lmbda)
    y, lmbda = as_tensors(y, lmbda)
    return gk.exp(_inv_boxcox_log(y, lmbda))


def inv_boxcox1p(y: Any, lmbda: Any) -> Any:
    """``scipy.special.inv_boxcox1p``: the x with ``boxcox1p(x, lmbda) == y``."""
    if not any_tensor(y, lmbda):
        return _sp().inv_boxcox1p(y, lmbda)
    y, lmbda = as_tensors(y, lmbda)
    return E.expm1(_inv_boxcox_log(y, lmbda))


def huber(delta: Any, r: Any) -> Any:
    """``scipy.special.huber``: ``r**2 / 2`` for ``|r| <= delta``, else
    ``delta * (|r| - delta / 2)``; inf for delta < 0."""
    if not any_tensor(delta, r):
        return _sp().huber(delta, r)
    delta, r = as_tensors(delta, r)
    inner = gk.abs(r) <= delta
    val = gk.where(inner, r * r * 0.5, delta * (gk.abs(r) - delta * 0.5))
    return gk.where(delta < 0, math.inf, val)


def pseudo_huber(delta: Any, r: Any) -> Any:
    """``scipy.special.pseudo_huber``: ``delta**2 (sqrt(1 + (r / delta)**2) - 1)``; 0 at
    delta = 0, inf for delta < 0."""
    if not any_tensor(delta, r):
        return _sp().pseudo_huber(delta, r)
    delta, r = as_tensors(delta, r)
    ok = delta > 0
    d = gk.where(ok, delta, 1.0)
    val = d * d * E.expm1(gk.log1p((r / d) ** 2) * 0.5)
    return gk.where(ok, val, gk.where(delta == 0, 0.0, math.inf))


def powm1(x: Any, y: Any) -> Any:
    """``scipy.special.powm1``: ``x**y - 1`` accurate for y near 0 or x near 1 (x > 0)."""
    if not any_tensor(x, y):
        return _sp().powm1(x, y)
    x, y = as_tensors(x, y)
    pos = x > 0
    safe = gk.where(pos, x, 1.0)
    return gk.where(pos, E.expm1(y * gk.log(safe)), x ** y - 1.0)


def _distribution(name: str, fn: Any, doc: str) -> Any:
    def f(*args: Any) -> Any:
        if not any_tensor(*args):
            return getattr(_sp(), name)(*args)
        return fn(*as_tensors(*args))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``scipy.special.{name}``: {doc} Differentiable where the incomplete gamma/beta "
    "function it is built on is (its x argument)."
    return f


def _floor_count(k: Any) -> Any:
    return gk.floor(k.detach())


gdtr = _distribution("gdtr", lambda a, b, x: gammainc(b, a * x),
                     "the gamma CDF with rate a and shape b, ``gammainc(b, a x)``.")
gdtrc = _distribution("gdtrc", lambda a, b, x: gammaincc(b, a * x),
                      "the gamma survival function, ``gammaincc(b, a x)``.")
chdtr = _distribution("chdtr", lambda v, x: gammainc(v * 0.5, x * 0.5),
                      "the chi-square CDF, ``gammainc(v / 2, x / 2)``.")
chdtrc = _distribution("chdtrc", lambda v, x: gammaincc(v * 0.5, x * 0.5),
                       "the chi-square survival function, ``gammaincc(v / 2, x / 2)``.")
pdtr = _distribution("pdtr", lambda k, m: gk.where(k < 0, math.nan,
                                                    gammaincc(_floor_count(k) + 1.0, m)),
                     "the Poisson CDF, ``gammaincc(floor(k) + 1, m)``.")
pdtrc = _distribution("pdtrc", lambda k, m: gk.where(k < 0, math.nan,
                                                      gammainc(_floor_count(k) + 1.0, m)),
                      "the Poisson survival function, ``gammainc(floor(k) + 1, m)``.")
def _counting(name: str, expr: Any, doc: str) -> Any:
    """A discrete distribution function of (k, n, p): SciPy truncates the count n and floors
    k; inside the domain the value is ``expr`` on the incomplete beta function (differentiable
    in p); on its edges (k >= n, k < 0, n < 1) SciPy's own value, which is constant in p."""
    def fn(k: Any, n: Any, p: Any) -> Any:
        k, n, p = as_tensors(k, n, p)
        kd, nd = np.floor(k.detach().numpy()), np.trunc(n.detach().numpy())
        ref = getattr(_sp(), name)(k.detach().numpy(), n.detach().numpy(), p.detach().numpy())
        inside = (kd >= 0) & (nd >= 1) & (kd < nd)
        kt, nt = gk.as_tensor(np.where(inside, kd, 0.0)), gk.as_tensor(np.where(inside, nd, 1.0))
        return gk.where(gk.as_tensor(inside), expr(kt, nt, p), gk.as_tensor(ref))
    return _distribution(name, fn, doc)


bdtr = _counting("bdtr", lambda k, n, p: betainc(n - k, k + 1.0, 1.0 - p),
                 "the binomial CDF, ``betainc(n - k, k + 1, 1 - p)``.")
bdtrc = _counting("bdtrc", lambda k, n, p: betainc(k + 1.0, n - k, p),
                  "the binomial survival function, ``betainc(k + 1, n - k, p)``.")
nbdtr = _distribution("nbdtr", lambda k, n, p: _nb(k, n, p, "nbdtr"),
                      "the negative binomial CDF, ``betainc(n, k + 1, p)``.")
nbdtrc = _distribution("nbdtrc", lambda k, n, p: _nb(k, n, p, "nbdtrc"),
                       "the negative binomial survival function, ``betainc(k + 1, n, 1 - p)``.")


def _nb(k: Any, n: Any, p: Any, name: str) -> Any:
    kd, nd = np.floor(k.detach().numpy()), np.trunc(n.detach().numpy())
    ref = getattr(_sp(), name)(k.detach().numpy(), n.detach().numpy(), p.detach().numpy())
    inside = (kd >= 0) & (nd >= 1)
    kt, nt = gk.as_tensor(np.where(inside, kd, 0.0)), gk.as_tensor(np.where(inside, nd, 1.0))
    val = betainc(nt, kt + 1.0, p) if name == "nbdtr" else betainc(kt + 1.0, nt, 1.0 - p)
    return gk.where(gk.as_tensor(inside), val, gk.as_tensor(ref))


fdtr = _distribution("fdtr", lambda m, n, x: betainc(m * 0.5, n * 0.5, m * x / (m * x + n)),
                     "the F CDF, ``betainc(m / 2, n / 2, m x / (m x + n))``.")
fdtrc = _distribution("fdtrc", lambda m, n, x: betainc(n * 0.5, m * 0.5, n / (n + m * x)),
                      "the F survival function, ``betainc(n / 2, m / 2, n / (n + m x))``.")


def _stdtr(df: Any, t: Any) -> Any:
    tail = betainc(df * 0.5, gk.full_like(df, 0.5), df / (df + t * t)) * 0.5
    return gk.where(t < 0, tail, 1.0 - tail)


stdtr = _distribution("stdtr", _stdtr, "the Student t CDF, from ``betainc(df/2, 1/2, "
                      "df / (df + t**2))``.")
kn = _binary("kn", lambda n, x: S.kv(gk.as_tensor(np.trunc(n.detach().numpy())), x),
             "``scipy.special.kn`` (integer order, truncated as SciPy does): ``kv``.")


def _orthopoly(name: str, module: str, fn: str, shifted: bool = False) -> Any:
    def f(n: Any, x: Any) -> Any:
        if not isinstance(x, gk.Tensor):
            return getattr(_sp(), name)(n, x)
        if isinstance(n, gk.Tensor):
            n = n.detach().numpy()
        n_arr = np.asarray(n)
        if n_arr.dtype.kind == "f" and np.any(n_arr != np.round(n_arr)):
            raise NotImplementedError(f"scipy.special.{name} of a non-integer degree is not "
                                      "supported on gradkit tensors")
        if np.any(n_arr < 0):
            raise NotImplementedError(f"scipy.special.{name} of a negative degree is not "
                                      "supported on gradkit tensors")
        evaluate = getattr(getattr(np.polynomial, module), fn)
        t = x * 2.0 - 1.0 if shifted else x
        # NOTE: NumPy's Clenshaw recurrence runs on the tensor (one term per degree)
        out = None
        for k in np.unique(n_arr.astype(np.int64)):
            part = evaluate(t, np.eye(int(k) + 1)[-1])
            part = part if isinstance(part, gk.Tensor) else gk.full_like(t, float(part))
            out = part if out is None else gk.where(gk.as_tensor(n_arr == k), part, out)
        return out
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``scipy.special.{name}(n, x)`` for integer degrees n, differentiable in x "
                 f"(``numpy.polynomial.{module}.{fn}``).")
    return f


eval_legendre = _orthopoly("eval_legendre", "legendre", "legval")
eval_sh_legendre = _orthopoly("eval_sh_legendre", "legendre", "legval", shifted=True)
eval_chebyt = _orthopoly("eval_chebyt", "chebyshev", "chebval")
eval_sh_chebyt = _orthopoly("eval_sh_chebyt", "chebyshev", "chebval", shifted=True)
eval_hermite = _orthopoly("eval_hermite", "hermite", "hermval")
eval_hermitenorm = _orthopoly("eval_hermitenorm", "hermite_e", "hermeval")
eval_laguerre = _orthopoly("eval_laguerre", "laguerre", "lagval")


# NOTE: the rest of scipy.special, as SciPy's own (no gradient).
__getattr__ = passthrough("special", __name__)


_UFUNC_NAMES = ("gammaln", "digamma", "psi", "gamma", "rgamma", "gammasgn", "gammainc",
                "gammaincc", "beta", "betaln", "betainc", "erf", "erfc", "erfinv", "erfcinv",
                "erfcx", "expit", "logit", "log_expit", "ndtr", "ndtri", "log_ndtr", "xlogy",
                "xlog1py", "i0", "i1", "i0e", "i1e", "iv", "ive", "jv", "yv", "jn", "yn", "j0",
                "j1", "y0", "y1", "entr", "rel_entr", "kl_div", "exp10", "cbrt", "kv", "kve", "k0",
                "k1", "k0e", "k1e", "expn", "exp1", "expi", "dawsn", "erfi", "spence", "ellipk",
                "ellipe", "hyp1f1", "gammaincinv", "gammainccinv", "betaincinv", "softplus",
                "poch", "expm1", "log1p", "exp2", "loggamma", "cosm1", "cosdg", "sindg", "tandg",
                "cotdg", "radian", "exprel", "boxcox", "boxcox1p", "inv_boxcox", "inv_boxcox1p",
                "huber", "pseudo_huber", "powm1", "gdtr", "gdtrc", "chdtr", "chdtrc", "pdtr",
                "pdtrc", "bdtr", "bdtrc", "nbdtr", "nbdtrc", "fdtr", "fdtrc", "stdtr", "kn",
                "eval_legendre", "eval_sh_legendre", "eval_chebyt", "eval_sh_chebyt",
                "eval_hermite", "eval_hermitenorm", "eval_laguerre")


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
