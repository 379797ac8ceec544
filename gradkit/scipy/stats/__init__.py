"""``scipy.stats`` distributions with gradients in every continuous parameter.

(A package, as SciPy's is, so that ``import gradkit.scipy.stats`` and imports of names below it
behave as they do for ``scipy.stats``.)

Each distribution is an object with SciPy's methods and argument names
(``norm.logpdf(x, loc=0, scale=1)``, ``gamma.cdf(x, a, loc=0, scale=1)``,
``poisson.logpmf(k, mu, loc=0)``, ...). With a gradkit Tensor among the arguments the result
is a Tensor on the graph, written with gradkit operations (``lgamma``, ``log_ndtr``,
``betainc``, ...), so reverse and forward mode work to any order; without one the call is
``scipy.stats``'s own. Methods not written here (``rvs``, ``mean``, ``fit``, ...) are SciPy's,
on detached values.

Gradients reach ``x``, ``loc``, ``scale`` and the shape parameters of every ``logpdf``/``pdf``
/``logpmf``/``pmf``. The CDFs built on the incomplete gamma and beta functions (``gamma``,
``chi2``, ``beta``, ``t``, ``binom``, ``nbinom``, ``poisson``) are differentiable in ``x``,
``loc``, ``scale`` and in the parameter that enters as the incomplete function's argument
(poisson's ``mu``, binom's ``p``). Of the shape parameters, those that enter the incomplete
gamma function (``gamma``'s ``a``, ``chi2``'s ``df``) are differentiable to first order, as in
JAX; those of the incomplete beta function (``beta``'s ``a``/``b``, ``t``'s ``df``, ``binom``'s
``n``) are not: asking for them raises NotImplementedError.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import gradkit as gk
from gradkit.ops import elementwise as E
from gradkit.ops import special as S

from .._util import any_tensor, as_tensors, passthrough, detached, scipy_module

__all__ = ["norm", "t", "gamma", "beta", "chi2", "expon", "laplace", "logistic", "cauchy",
           "uniform", "lognorm", "poisson", "binom", "nbinom", "bernoulli", "geom",
           "dirichlet", "multivariate_normal"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_NINF = -math.inf


def _ndtr(z: Any) -> Any:
    return E.erfc(z * -math.sqrt(0.5)) * 0.5


def _log1mexp(x: Any) -> Any:
    """``log(1 - exp(x))`` for x <= 0, accurate near 0 and for very negative x."""
    return gk.where(x > -_LN2, gk.log(-gk.expm1(gk.where(x > -_LN2, x, -1.0))),
                    gk.log1p(-gk.exp(gk.where(x > -_LN2, -1.0, x))))


_LN2 = math.log(2.0)


class _Dist:
    """A distribution: differentiable methods on tensors, SciPy's own otherwise."""

    name = ""
    #: the methods written here, as (name, number of leading positional arguments)
    _methods: tuple[str, ...] = ()

    def _scipy(self) -> Any:
        return getattr(scipy_module("stats"), self.name)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        fn = getattr(self._scipy(), attr)
        if not callable(fn):
            return fn

        def plain(*args: Any, **kwargs: Any) -> Any:
            return fn(*detached(args), **{k: detached(v) for k, v in kwargs.items()})
        plain.__name__ = attr
        return plain

    def __repr__(self) -> str:
        return f"<gradkit.scipy.stats.{self.name}>"


def _method(impl: Any, name: str) -> Any:
    """A method: SciPy's when no argument is a Tensor, ``impl`` (on Tensors) otherwise."""
    def method(self: _Dist, *args: Any, **kwargs: Any) -> Any:
        if not any_tensor(*args, *kwargs.values()):
            return getattr(self._scipy(), name)(*args, **kwargs)
        # NOTE: log(0) = -inf outside the support is a value here, as in SciPy: no warning.
        with np.errstate(divide="ignore", invalid="ignore"):
            return impl(self, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = f"``scipy.stats.<dist>.{name}``, differentiable on gradkit tensors."
    return method


# --- continuous, location-scale --------------------------------------------------------
class _Continuous(_Dist):
    """``logpdf`` written once, in the standardized variable ``z = (x - loc) / scale``.

    Subclasses give ``_logpdf(z, *shape)``, and may give ``_cdf``, ``_logcdf``, ``_sf``,
    ``_logsf`` and ``_ppf`` in the standardized variable.
    """

    n_shapes = 0

    def _split(self, args: Any, kwargs: Any) -> tuple[Any, list[Any], Any, Any]:
        args = list(args)
        names = self._shape_names
        shapes = []
        for nm in names:
            if args:
                shapes.append(args.pop(0))
            elif nm in kwargs:
                shapes.append(kwargs.pop(nm))
            else:
                raise TypeError(f"{self.name}: missing the shape parameter {nm!r}")
        loc = args.pop(0) if args else kwargs.pop("loc", 0.0)
        scale = args.pop(0) if args else kwargs.pop("scale", 1.0)
        if args or kwargs:
            raise TypeError(f"{self.name}: unexpected arguments {args or ''} {kwargs or ''}")
        return shapes, loc, scale

    _shape_names: tuple[str, ...] = ()

    def _prep(self, x: Any, args: Any, kwargs: Any) -> tuple[Any, list[Any], Any]:
        shapes, loc, scale = self._split(args, kwargs)
        x, loc, scale, *shapes = as_tensors(x, loc, scale, *shapes)
        return (x - loc) / scale, shapes, scale

    def _logpdf_t(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        z, shapes, scale = self._prep(x, args, kwargs)
        return self._logpdf(z, *shapes) - gk.log(scale)

    def _pdf_t(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        return gk.exp(self._logpdf_t(x, *args, **kwargs))

    def _cdf_t(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        z, shapes, _ = self._prep(x, args, kwargs)
        return self._cdf(z, *shapes)

    def _logcdf_t(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        z, shapes, _ = self._prep(x, args, kwargs)
        return self._logcdf(z, *shapes)

    def _sf_t(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        z, shapes, _ = self._prep(x, args, kwargs)
        return self._sf(z, *shapes)

    def _logsf_t(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        z, shapes, _ = self._prep(x, args, kwargs)
        return self._logsf(z, *shapes)

    def _ppf_t(self, q: Any, *args: Any, **kwargs: Any) -> Any:
        shapes, loc, scale = self._split(args, kwargs)
        q, loc, scale, *shapes = as_tensors(q, loc, scale, *shapes)
        return self._ppf(q, *shapes) * scale + loc

    def _isf_t(self, q: Any, *args: Any, **kwargs: Any) -> Any:
        (q,) = as_tensors(q)
        return self._ppf_t(1.0 - q, *args, **kwargs)

    # defaults in terms of one another
    def _logcdf(self, z: Any, *s: Any) -> Any:
        return gk.log(self._cdf(z, *s))

    def _sf(self, z: Any, *s: Any) -> Any:
        return 1.0 - self._cdf(z, *s)

    def _logsf(self, z: Any, *s: Any) -> Any:
        return gk.log(self._sf(z, *s))

    def _cdf(self, z: Any, *s: Any) -> Any:
        raise NotImplementedError(f"gradkit.scipy.stats.{self.name}.cdf on tensors")

    def _ppf(self, q: Any, *s: Any) -> Any:
        raise NotImplementedError(f"gradkit.scipy.stats.{self.name}.ppf on tensors")

    logpdf = _method(_logpdf_t, "logpdf")
    pdf = _method(_pdf_t, "pdf")
    cdf = _method(_cdf_t, "cdf")
    logcdf = _method(_logcdf_t, "logcdf")
    sf = _method(_sf_t, "sf")
    logsf = _method(_logsf_t, "logsf")
    ppf = _method(_ppf_t, "ppf")
    isf = _method(_isf_t, "isf")


class _Norm(_Continuous):
    name = "norm"

    def _logpdf(self, z: Any) -> Any:
        return z * z * -0.5 - _LOG_SQRT_2PI

    def _cdf(self, z: Any) -> Any:
        return _ndtr(z)

    def _logcdf(self, z: Any) -> Any:
        return S.log_ndtr(z)

    def _sf(self, z: Any) -> Any:
        return _ndtr(-z)

    def _logsf(self, z: Any) -> Any:
        return S.log_ndtr(-z)

    def _ppf(self, q: Any) -> Any:
        return S.ndtri(q)


class _T(_Continuous):
    name = "t"
    _shape_names = ("df",)

    def _logpdf(self, z: Any, df: Any) -> Any:
        return (E.lgamma((df + 1.0) * 0.5) - E.lgamma(df * 0.5) - 0.5 * gk.log(df * math.pi)
                - (df + 1.0) * 0.5 * gk.log1p(z * z / df))

    def _tail(self, z: Any, df: Any) -> Any:
        # NOTE: P(T < -|z|) = betainc(df/2, 1/2, df / (df + z^2)) / 2
        return S.betainc(df * 0.5, gk.full_like(df, 0.5), df / (df + z * z)) * 0.5

    def _cdf(self, z: Any, df: Any) -> Any:
        tail = self._tail(z, df)
        return gk.where(z < 0, tail, 1.0 - tail)

    def _sf(self, z: Any, df: Any) -> Any:
        return self._cdf(-z, df)

    def _ppf(self, q: Any, df: Any) -> Any:
        low = q < 0.5
        p = gk.where(low, q, 1.0 - q)
        x2 = S.betaincinv(df * 0.5, gk.full_like(df, 0.5), p * 2.0)
        val = gk.sqrt(df * (1.0 / x2 - 1.0))
        return gk.where(low, -val, val)


class _Gamma(_Continuous):
    name = "gamma"
    _shape_names = ("a",)

    def _logpdf(self, z: Any, a: Any) -> Any:
        pos = z > 0
        zs = gk.where(pos, z, 1.0)
        val = E.xlogy(a - 1.0, zs) - zs - E.lgamma(a)
        return gk.where(pos, val, gk.where(z == 0, E.xlogy(a - 1.0, z) - E.lgamma(a), _NINF))

    def _cdf(self, z: Any, a: Any) -> Any:
        return S.gammainc(a, gk.clamp(z, min=0.0))

    def _sf(self, z: Any, a: Any) -> Any:
        return S.gammaincc(a, gk.clamp(z, min=0.0))

    def _ppf(self, q: Any, a: Any) -> Any:
        return S.gammaincinv(a, q)


class _Chi2(_Gamma):
    name = "chi2"
    _shape_names = ("df",)

    def _logpdf(self, z: Any, df: Any) -> Any:
        return super()._logpdf(z * 0.5, df * 0.5) - _LN2

    def _cdf(self, z: Any, df: Any) -> Any:
        return super()._cdf(z * 0.5, df * 0.5)

    def _sf(self, z: Any, df: Any) -> Any:
        return super()._sf(z * 0.5, df * 0.5)

    def _ppf(self, q: Any, df: Any) -> Any:
        return super()._ppf(q, df * 0.5) * 2.0


class _Beta(_Continuous):
    name = "beta"
    _shape_names = ("a", "b")

    def _logpdf(self, z: Any, a: Any, b: Any) -> Any:
        inside = (z >= 0) & (z <= 1)
        zs = gk.where(inside, z, 0.5)
        val = (E.xlogy(a - 1.0, zs) + S.xlog1py(b - 1.0, -zs)
               - (E.lgamma(a) + E.lgamma(b) - E.lgamma(a + b)))
        return gk.where(inside, val, _NINF)

    def _cdf(self, z: Any, a: Any, b: Any) -> Any:
        return S.betainc(a, b, gk.clamp(z, 0.0, 1.0))

    def _ppf(self, q: Any, a: Any, b: Any) -> Any:
        return S.betaincinv(a, b, q)


class _Expon(_Continuous):
    name = "expon"

    def _logpdf(self, z: Any) -> Any:
        return gk.where(z >= 0, -z, _NINF)

    def _cdf(self, z: Any) -> Any:
        return -gk.expm1(-gk.clamp(z, min=0.0))

    def _logcdf(self, z: Any) -> Any:
        return _log1mexp(-gk.clamp(z, min=0.0))

    def _sf(self, z: Any) -> Any:
        return gk.exp(-gk.clamp(z, min=0.0))

    def _logsf(self, z: Any) -> Any:
        return -gk.clamp(z, min=0.0)

    def _ppf(self, q: Any) -> Any:
        return -gk.log1p(-q)


class _Laplace(_Continuous):
    name = "laplace"

    def _logpdf(self, z: Any) -> Any:
        return -gk.abs(z) - _LN2

    def _cdf(self, z: Any) -> Any:
        return gk.where(z < 0, 0.5 * gk.exp(gk.clamp(z, max=0.0)),
                        1.0 - 0.5 * gk.exp(-gk.clamp(z, min=0.0)))

    def _sf(self, z: Any) -> Any:
        return self._cdf(-z)

    def _ppf(self, q: Any) -> Any:
        return gk.where(q < 0.5, gk.log(2.0 * q), -gk.log(2.0 - 2.0 * q))


class _Logistic(_Continuous):
    name = "logistic"

    def _logpdf(self, z: Any) -> Any:
        a = -gk.abs(z)
        return a - 2.0 * gk.log1p(gk.exp(a))

    def _cdf(self, z: Any) -> Any:
        return E.sigmoid(z)

    def _logcdf(self, z: Any) -> Any:
        return gk.minimum(z, 0.0) - gk.log1p(gk.exp(-gk.abs(z)))

    def _sf(self, z: Any) -> Any:
        return E.sigmoid(-z)

    def _logsf(self, z: Any) -> Any:
        return self._logcdf(-z)

    def _ppf(self, q: Any) -> Any:
        return E.logit(q)


class _Cauchy(_Continuous):
    name = "cauchy"

    def _logpdf(self, z: Any) -> Any:
        return -gk.log1p(z * z) - math.log(math.pi)

    def _cdf(self, z: Any) -> Any:
        return 0.5 + gk.atan(z) / math.pi

    def _sf(self, z: Any) -> Any:
        return 0.5 - gk.atan(z) / math.pi

    def _ppf(self, q: Any) -> Any:
        return gk.tan(math.pi * (q - 0.5))


class _Uniform(_Continuous):
    name = "uniform"

    def _logpdf(self, z: Any) -> Any:
        return gk.where((z >= 0) & (z <= 1), z * 0.0, _NINF)

    def _cdf(self, z: Any) -> Any:
        return gk.clamp(z, 0.0, 1.0)

    def _ppf(self, q: Any) -> Any:
        return q


class _Lognorm(_Continuous):
    name = "lognorm"
    _shape_names = ("s",)

    def _logpdf(self, z: Any, s: Any) -> Any:
        pos = z > 0
        lz = gk.log(gk.where(pos, z, 1.0))
        val = -lz - gk.log(s) - _LOG_SQRT_2PI - lz * lz / (s * s * 2.0)
        return gk.where(pos, val, _NINF)

    def _cdf(self, z: Any, s: Any) -> Any:
        pos = z > 0
        return gk.where(pos, _ndtr(gk.log(gk.where(pos, z, 1.0)) / s), 0.0)

    def _ppf(self, q: Any, s: Any) -> Any:
        return gk.exp(S.ndtri(q) * s)


# --- discrete --------------------------------------------------------------------------
class _Discrete(_Dist):
    """``logpmf`` in ``k - loc``; ``cdf``/``sf`` at ``floor(k - loc)``."""

    _shape_names: tuple[str, ...] = ()

    def _prep(self, k: Any, args: Any, kwargs: Any) -> tuple[Any, list[Any]]:
        args = list(args)
        shapes = []
        for nm in self._shape_names:
            if args:
                shapes.append(args.pop(0))
            elif nm in kwargs:
                shapes.append(kwargs.pop(nm))
            else:
                raise TypeError(f"{self.name}: missing the shape parameter {nm!r}")
        loc = args.pop(0) if args else kwargs.pop("loc", 0)
        if args or kwargs:
            raise TypeError(f"{self.name}: unexpected arguments {args or ''} {kwargs or ''}")
        k, loc, *shapes = as_tensors(k, loc, *shapes)
        return (k - loc).detach(), shapes

    def _logpmf_t(self, k: Any, *args: Any, **kwargs: Any) -> Any:
        k, shapes = self._prep(k, args, kwargs)
        ok = (k == gk.floor(k)) & self._support(k, *shapes)
        ks = gk.where(ok, k, self._inside(*shapes))
        return gk.where(ok, self._logpmf(ks, *shapes), _NINF)

    def _pmf_t(self, k: Any, *args: Any, **kwargs: Any) -> Any:
        return gk.exp(self._logpmf_t(k, *args, **kwargs))

    def _cdf_t(self, k: Any, *args: Any, **kwargs: Any) -> Any:
        k, shapes = self._prep(k, args, kwargs)
        return self._cdf(gk.floor(k), *shapes)

    def _logcdf_t(self, k: Any, *args: Any, **kwargs: Any) -> Any:
        return gk.log(self._cdf_t(k, *args, **kwargs))

    def _sf_t(self, k: Any, *args: Any, **kwargs: Any) -> Any:
        k, shapes = self._prep(k, args, kwargs)
        return self._sf(gk.floor(k), *shapes)

    def _logsf_t(self, k: Any, *args: Any, **kwargs: Any) -> Any:
        return gk.log(self._sf_t(k, *args, **kwargs))

    def _support(self, k: Any, *s: Any) -> Any:
        return k >= 0

    def _inside(self, *s: Any) -> Any:
        return 0.0

    def _sf(self, k: Any, *s: Any) -> Any:
        return 1.0 - self._cdf(k, *s)

    logpmf = _method(_logpmf_t, "logpmf")
    pmf = _method(_pmf_t, "pmf")
    cdf = _method(_cdf_t, "cdf")
    logcdf = _method(_logcdf_t, "logcdf")
    sf = _method(_sf_t, "sf")
    logsf = _method(_logsf_t, "logsf")


class _Poisson(_Discrete):
    name = "poisson"
    _shape_names = ("mu",)

    def _logpmf(self, k: Any, mu: Any) -> Any:
        return E.xlogy(k, mu) - mu - E.lgamma(k + 1.0)

    def _cdf(self, k: Any, mu: Any) -> Any:
        ok = k >= 0
        return gk.where(ok, S.gammaincc(gk.where(ok, k, 0.0) + 1.0, mu), 0.0)

    def _sf(self, k: Any, mu: Any) -> Any:
        ok = k >= 0
        return gk.where(ok, S.gammainc(gk.where(ok, k, 0.0) + 1.0, mu), 1.0)


class _Binom(_Discrete):
    name = "binom"
    _shape_names = ("n", "p")

    def _support(self, k: Any, n: Any, p: Any) -> Any:
        return (k >= 0) & (k <= n)

    def _logpmf(self, k: Any, n: Any, p: Any) -> Any:
        return (E.lgamma(n + 1.0) - E.lgamma(k + 1.0) - E.lgamma(n - k + 1.0)
                + E.xlogy(k, p) + S.xlog1py(n - k, -p))

    def _cdf(self, k: Any, n: Any, p: Any) -> Any:
        inside = (k >= 0) & (k < n)
        kk = gk.where(inside, k, 0.0)
        val = S.betainc(gk.where(inside, n - kk, 1.0), kk + 1.0, 1.0 - p)
        return gk.where(inside, val, gk.where(k < 0, 0.0, 1.0))


class _Nbinom(_Discrete):
    name = "nbinom"
    _shape_names = ("n", "p")

    def _logpmf(self, k: Any, n: Any, p: Any) -> Any:
        return (E.lgamma(k + n) - E.lgamma(k + 1.0) - E.lgamma(n) + E.xlogy(n, p)
                + S.xlog1py(k, -p))

    def _cdf(self, k: Any, n: Any, p: Any) -> Any:
        ok = k >= 0
        return gk.where(ok, S.betainc(n, gk.where(ok, k, 0.0) + 1.0, p), 0.0)


class _Bernoulli(_Discrete):
    name = "bernoulli"
    _shape_names = ("p",)

    def _support(self, k: Any, p: Any) -> Any:
        return (k == 0) | (k == 1)

    def _logpmf(self, k: Any, p: Any) -> Any:
        return E.xlogy(k, p) + S.xlog1py(1.0 - k, -p)

    def _cdf(self, k: Any, p: Any) -> Any:
        return gk.where(k < 0, p * 0.0, gk.where(k < 1, 1.0 - p, p * 0.0 + 1.0))


class _Geom(_Discrete):
    name = "geom"
    _shape_names = ("p",)

    def _support(self, k: Any, p: Any) -> Any:
        return k >= 1

    def _inside(self, p: Any) -> Any:
        return 1.0

    def _logpmf(self, k: Any, p: Any) -> Any:
        return S.xlog1py(k - 1.0, -p) + gk.log(p)

    def _cdf(self, k: Any, p: Any) -> Any:
        ok = k >= 1
        return gk.where(ok, -gk.expm1(gk.where(ok, k, 1.0) * gk.log1p(-p)), 0.0)

    def _sf(self, k: Any, p: Any) -> Any:
        ok = k >= 1
        return gk.where(ok, gk.exp(gk.where(ok, k, 0.0) * gk.log1p(-p)), 1.0)


# --- multivariate ----------------------------------------------------------------------
class _Dirichlet(_Dist):
    """``dirichlet.logpdf(x, alpha)``: the components along x's FIRST axis, as in SciPy."""

    name = "dirichlet"

    def _logpdf_t(self, x: Any, alpha: Any) -> Any:
        x, alpha = as_tensors(x, alpha)
        if x.shape[0] != alpha.shape[-1]:
            raise ValueError(f"dirichlet: x has {x.shape[0]} components along axis 0, alpha "
                             f"has {alpha.shape[-1]}")
        lnb = gk.sum(E.lgamma(alpha), dim=-1) - E.lgamma(gk.sum(alpha, dim=-1))
        xt = gk.movedim(x, 0, -1)
        return gk.sum(E.xlogy(alpha - 1.0, xt), dim=-1) - lnb

    def _pdf_t(self, x: Any, alpha: Any) -> Any:
        return gk.exp(self._logpdf_t(x, alpha))

    logpdf = _method(_logpdf_t, "logpdf")
    pdf = _method(_pdf_t, "pdf")


class _MultivariateNormal(_Dist):
    """``multivariate_normal.logpdf(x, mean=None, cov=1, allow_singular=False)``.

    The Cholesky factor of ``cov`` (or, with ``allow_singular=True``, its eigendecomposition
    and pseudo-determinant, as SciPy) carries the gradient to ``cov``; x's last axis is the
    dimension, and length-1 axes of the result are squeezed as SciPy does.
    """

    name = "multivariate_normal"

    def _args(self, x: Any, mean: Any, cov: Any) -> tuple[Any, Any, Any, int]:
        x, mean, cov = as_tensors(x, mean, cov)
        if mean is None:
            d = x.shape[-1] if x.ndim else 1
            mean = gk.zeros(d, dtype=x.dtype)
        d = mean.shape[-1] if mean.ndim else 1
        if mean.ndim == 0:
            mean = mean.reshape(1)
        if cov.ndim == 0:
            cov = gk.eye(d, dtype=cov.dtype) * cov
        elif cov.ndim == 1:
            cov = gk.diag(cov)
        if d == 1 and (x.ndim == 0 or x.shape[-1] != 1):
            x = x.reshape(*x.shape, 1)
        return x, mean, cov, d

    def _logpdf_t(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        x, mean, cov, d = self._args(x, mean, cov)
        dev = x - mean
        if not allow_singular:
            chol = gk.linalg.cholesky(cov)
            z = gk.linalg.solve_triangular(chol, dev.unsqueeze(-1), upper=False).squeeze(-1)
            maha = gk.sum(z * z, dim=-1)
            logdet = 2.0 * gk.sum(gk.log(gk.diagonal(chol, dim1=-2, dim2=-1)), dim=-1)
            rank = d
        else:
            s, u = gk.linalg.eigh(cov)
            sd = s.detach().numpy()
            eps = 1e6 * np.finfo(sd.dtype).eps * np.max(np.abs(sd))
            keep = sd > eps
            rank = int(keep.sum())
            s_k = s[gk.as_tensor(np.nonzero(keep)[0])]
            u_k = u[:, gk.as_tensor(np.nonzero(keep)[0])]
            proj = dev @ u_k
            maha = gk.sum(proj * proj / s_k, dim=-1)
            logdet = gk.sum(gk.log(s_k))
        out = -0.5 * (rank * 2.0 * _LOG_SQRT_2PI + logdet + maha)
        return _squeeze(out)

    def _pdf_t(self, *args: Any, **kwargs: Any) -> Any:
        return gk.exp(self._logpdf_t(*args, **kwargs))

    def _entropy_t(self, mean: Any = None, cov: Any = 1) -> Any:
        mean, cov = as_tensors(mean, cov)
        if cov.ndim < 2:
            d = mean.shape[-1] if mean is not None and mean.ndim else 1
            cov = gk.eye(d, dtype=cov.dtype) * cov if cov.ndim == 0 else gk.diag(cov)
        d = cov.shape[-1]
        _, logdet = gk.linalg.slogdet(cov)
        return 0.5 * (d * (1.0 + 2.0 * _LOG_SQRT_2PI) + logdet)

    logpdf = _method(_logpdf_t, "logpdf")
    pdf = _method(_pdf_t, "pdf")
    entropy = _method(_entropy_t, "entropy")


def _squeeze(x: Any) -> Any:
    shape = [n for n in x.shape if n != 1]
    return x.reshape(shape) if list(x.shape) != shape else x


norm = _Norm()
t = _T()
gamma = _Gamma()
chi2 = _Chi2()
beta = _Beta()
expon = _Expon()
laplace = _Laplace()
logistic = _Logistic()
cauchy = _Cauchy()
uniform = _Uniform()
lognorm = _Lognorm()
poisson = _Poisson()
binom = _Binom()
nbinom = _Nbinom()
bernoulli = _Bernoulli()
geom = _Geom()
dirichlet = _Dirichlet()
multivariate_normal = _MultivariateNormal()


# NOTE: the rest of scipy.stats, as SciPy's own (no gradient).
__getattr__ = passthrough("stats", __name__)
