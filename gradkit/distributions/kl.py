"""``kl_divergence(p, q)`` and ``register_kl`` (``torch.distributions.kl``)."""

from __future__ import annotations

import math
import warnings
from functools import total_ordering
from typing import Any, Callable

import gradkit as gk
import gradkit.nn.functional as F

from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_normal import HalfNormal
from .independent import Independent
from .laplace import Laplace
from .lowrank_multivariate_normal import (LowRankMultivariateNormal, _batch_lowrank_logdet,
                                          _batch_lowrank_mahalanobis)
from .multivariate_normal import MultivariateNormal, _batch_mahalanobis
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .pareto import Pareto
from .poisson import Poisson
from .transformed_distribution import TransformedDistribution
from .uniform import Uniform
from .utils import _sum_rightmost, euler_constant

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict[tuple[type, type], Callable[..., Any]] = {}
_KL_MEMOIZE: dict[tuple[type, type], Any] = {}


def register_kl(type_p: type, type_q: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering a pairwise KL function ``fn(p, q)`` for ``(type_p, type_q)``;
    ``kl_divergence`` picks the most specific registered pair by the classes' MROs."""
    if not isinstance(type_p, type) and issubclass(type_p, Distribution):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not isinstance(type_q, type) and issubclass(type_q, Distribution):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fun: Callable[..., Any]) -> Callable[..., Any]:
        _KL_REGISTRY[type_p, type_q] = fun
        _KL_MEMOIZE.clear()  # reset since lookup order may have changed
        return fun

    return decorator


@total_ordering
class _Match:
    __slots__ = ["types"]

    def __init__(self, *types: type) -> None:
        self.types = types

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Match) and self.types == other.types

    def __le__(self, other: _Match) -> bool:
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch_kl(type_p: type, type_q: type) -> Any:
    """The most specific registered implementation for the pair, or NotImplemented."""
    matches = [(super_p, super_q) for super_p, super_q in _KL_REGISTRY
               if issubclass(type_p, super_p) and issubclass(type_q, super_q)]
    if not matches:
        return NotImplemented
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left_fun = _KL_REGISTRY[left_p, left_q]
    right_fun = _KL_REGISTRY[right_p, right_q]
    if left_fun is not right_fun:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). Please "
                      f"register_kl({left_p.__name__}, {right_q.__name__})", RuntimeWarning,
                      stacklevel=3)
    return left_fun


def _infinite_like(tensor: Any) -> Any:
    return gk.full_like(tensor, math.inf)


def kl_divergence(p: Distribution, q: Distribution) -> Any:
    """``KL(p || q) = E_p[log p(x) - log q(x)]``, batched over the distributions' batch shape."""
    try:
        fun = _KL_MEMOIZE[type(p), type(q)]
    except KeyError:
        fun = _dispatch_kl(type(p), type(q))
        _KL_MEMOIZE[type(p), type(q)] = fun
    if fun is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {p.__class__.__name__} "
                                  f"and q type {q.__class__.__name__}")
    return fun(p, q)


def _where(cond: Any, value: float, other: Any) -> Any:
    return gk.where(cond, gk.full_like(other, value), other)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Any, q: Any) -> Any:
    t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    t1 = _where(p.probs == 0, 0.0, _where(q.probs == 0, math.inf, t1))
    t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    t2 = _where(p.probs == 1, 0.0, _where(q.probs == 1, math.inf, t2))
    return t1 + t2


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Any, q: Any) -> Any:
    sum_params_p = p.concentration1 + p.concentration0
    sum_params_q = q.concentration1 + q.concentration0
    t1 = q.concentration1.lgamma() + q.concentration0.lgamma() + sum_params_p.lgamma()
    t2 = p.concentration1.lgamma() + p.concentration0.lgamma() + sum_params_q.lgamma()
    t3 = (p.concentration1 - q.concentration1) * gk.digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * gk.digamma(p.concentration0)
    t5 = (sum_params_q - sum_params_p) * gk.digamma(sum_params_p)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Any, q: Any) -> Any:
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count "
                                  "is not implemented")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return _where(p.total_count > q.total_count, math.inf, kl)


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Any, q: Any) -> Any:
    t = p.probs * (p.logits - q.logits)
    t = _where((q.probs == 0).expand_as(t), math.inf, t)
    t = _where((p.probs == 0).expand_as(t), 0.0, t)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p: Any, q: Any) -> Any:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Any, q: Any) -> Any:
    sum_p_concentration = p.concentration.sum(-1)
    sum_q_concentration = q.concentration.sum(-1)
    t1 = sum_p_concentration.lgamma() - sum_q_concentration.lgamma()
    t2 = (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = p.concentration.digamma() - sum_p_concentration.digamma().unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Any, q: Any) -> Any:
    rate_ratio = q.rate / p.rate
    t1 = -rate_ratio.log()
    return t1 + rate_ratio - 1


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p: Any, q: Any) -> Any:
    # the Bregman divergence of the log-normalizer
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential "
                                  "families cannot be computed using Bregman divergences")
    # p's natural parameters stay on their graph (only constants get a fresh leaf), so the
    # divergence is differentiable in p's parameters: detaching them, as PyTorch 2.13 does, makes
    # that gradient 0
    p_nparams = [np_ if np_.requires_grad else np_.detach().requires_grad_()
                 for np_ in p._natural_params]
    q_nparams = q._natural_params
    lg_normal = p._log_normalizer(*p_nparams)
    gradients = gk.autograd.grad(lg_normal.sum(), p_nparams, create_graph=True)
    result = q._log_normalizer(*q_nparams) - lg_normal
    for pnp, qnp, g in zip(p_nparams, q_nparams, gradients):
        term = (qnp - pnp) * g
        result = result - _sum_rightmost(term, len(q.event_shape))
    return result


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Any, q: Any) -> Any:
    t1 = q.concentration * gk.log(p.rate / q.rate)
    t2 = gk.lgamma(q.concentration) - gk.lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * gk.digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Any, q: Any) -> Any:
    return -p.entropy() - gk.log1p(-q.probs) / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p: Any, q: Any) -> Any:
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Any, q: Any) -> Any:
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    t1 = -scale_ratio.log()
    t2 = loc_abs_diff / q.scale
    t3 = scale_ratio * gk.exp(-loc_abs_diff / p.scale)
    return t1 + t2 + t3 - 1


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(p: Any, q: Any) -> Any:
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event "
                         "shapes cannot be computed")
    pL, qL = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = (qL.diagonal(dim1=-2, dim2=-1).log().sum(-1)
                  - pL.diagonal(dim1=-2, dim2=-1).log().sum(-1))
    combined_batch_shape = gk.broadcast_shapes(qL.shape[:-2], pL.shape[:-2])
    n = p.event_shape[0]
    q_scale_tril = qL.expand(combined_batch_shape + (n, n))
    p_scale_tril = pL.expand(combined_batch_shape + (n, n))
    term2 = gk.linalg.solve_triangular(q_scale_tril, p_scale_tril, upper=False).pow(2).sum((-2, -1))
    term3 = _batch_mahalanobis(qL, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - n)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Any, q: Any) -> Any:
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Any, q: Any) -> Any:
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p: Any, q: Any) -> Any:
    if p.transforms != q.transforms:
        raise NotImplementedError
    if p.event_shape != q.event_shape:
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Any, q: Any) -> Any:
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _where((q.low > p.low) | (q.high < p.high), math.inf, result)


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Any, q: Any) -> Any:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    result = kl_divergence(p.base_dist, q.base_dist)
    return _sum_rightmost(result, p.reinterpreted_batch_ndims)


@register_kl(Normal, Uniform)
def _kl_normal_uniform(p: Any, q: Any) -> Any:
    # a Normal has unbounded support: infinite divergence from any Uniform
    return _infinite_like(p.loc)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p: Any, q: Any) -> Any:
    common_term = p.high - p.low
    t1 = (math.sqrt(math.pi * 2) * q.scale / common_term).log()
    t2 = (common_term).pow(2) / 12
    t3 = ((p.high + p.low - 2 * q.loc) / 2).pow(2)
    return t1 + 0.5 * (t2 + t3) / q.scale.pow(2)


# --- pairs within one more family, and across families ------------------------------------------
# Each is E_p[log p(x) - log q(x)] in closed form: -H(p) minus E_p[log q(x)], the second from
# p's moments (E[x], E[x^2], E[log x], E[exp(-x / b)]). Where p's support reaches outside q's
# the divergence is infinite.

def _x_log_x(x: Any) -> Any:
    return gk.xlogy(x, x)


def _trace_xxt(m: Any) -> Any:
    """``trace(M M^T)``, the squared Frobenius norm over the last two dims."""
    return m.pow(2).reshape(m.shape[:-2] + (-1,)).sum(-1)


def _safe(cond: Any, x: Any, fill: float) -> Any:
    """``x`` where ``cond``, ``fill`` elsewhere (keeps the unused branch finite for gradients)."""
    return gk.where(cond, x, gk.full_like(x, fill))


def _neg_log_normal(q: Any, mean: Any, second_moment: Any) -> Any:
    """``-E[log q(x)]`` for a Normal ``q`` and a law with the given ``E[x]`` and ``E[x^2]``."""
    var = q.scale.pow(2)
    return (0.5 * gk.log(2 * math.pi * var)
            + (second_moment - 2 * q.loc * mean + q.loc.pow(2)) / (2 * var))


def _neg_log_gamma(q: Any, mean: Any, mean_log: Any) -> Any:
    """``-E[log q(x)]`` for a Gamma ``q`` and a law on (0, inf) with ``E[x]``, ``E[log x]``."""
    return (gk.lgamma(q.concentration) - q.concentration * gk.log(q.rate)
            - (q.concentration - 1) * mean_log + q.rate * mean)


def _neg_log_gumbel(q: Any, mean: Any, mean_exp: Any) -> Any:
    """``-E[log q(x)]`` for a Gumbel ``q`` given ``E[x]`` and ``E[exp(-(x - loc_q) / scale_q)]``."""
    return gk.log(q.scale) + (mean - q.loc) / q.scale + mean_exp


def _neg_log_continuous_bernoulli(q: Any, mean: Any) -> Any:
    """``-E[log q(x)]`` for a ContinuousBernoulli ``q``: ``log q(x) = x logits + log(1 - probs)
    + log C``."""
    return -mean * q.logits - gk.log1p(-q.probs) - q._log_norm_probs()


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Any, q: Any) -> Any:
    num = (p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)
    return gk.log(num) - gk.log(4 * p.scale * q.scale)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p: Any, q: Any) -> Any:
    return (p.mean * (p.logits - q.logits) + p._log_norm_probs() + gk.log1p(-p.probs)
            - q._log_norm_probs() - gk.log1p(-q.probs))


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p: Any, q: Any) -> Any:
    # E_p[exp(-x / b)] = exp(-loc_p / b) Gamma(1 + scale_p / b)
    mean_exp = gk.exp((q.loc - p.loc) / q.scale + gk.lgamma(1 + p.scale / q.scale))
    return -p.entropy() + _neg_log_gumbel(q, p.mean, mean_exp)


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p: Any, q: Any) -> Any:
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * gk.log(p.scale / q.scale) - gk.log(alpha_ratio) + alpha_ratio - 1
    return _where(p.scale < q.scale, math.inf, result)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_lowrank(p: Any, q: Any) -> Any:
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Low Rank Multivariate Normals with "
                         "different event shapes cannot be computed")
    pW, pD = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag
    logdet_p = _batch_lowrank_logdet(pW, pD, p._capacitance_tril)
    trace = _lowrank_q_trace(q, pW, pD)
    return _gaussian_kl(p, q, logdet_p, _lowrank_logdet(q), trace, _lowrank_mahalanobis(q, p))


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_multivariatenormal_lowrank(p: Any, q: Any) -> Any:
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two (Low Rank) Multivariate Normals with "
                         "different event shapes cannot be computed")
    pL = p._unbroadcasted_scale_tril
    logdet_p = 2 * pL.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    trace = _lowrank_q_trace(q, pL)
    return _gaussian_kl(p, q, logdet_p, _lowrank_logdet(q), trace, _lowrank_mahalanobis(q, p))


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrank_multivariatenormal(p: Any, q: Any) -> Any:
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two (Low Rank) Multivariate Normals with "
                         "different event shapes cannot be computed")
    pW, pD = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag
    qL = q._unbroadcasted_scale_tril
    n = p.event_shape[0]
    batch = gk.broadcast_shapes(qL.shape[:-2], pW.shape[:-2], pD.shape[:-1])
    qL_b = qL.expand(batch + (n, n))
    trace = sum(_trace_xxt(gk.linalg.solve_triangular(qL_b, s.expand(batch + s.shape[-2:]), upper=False))
                for s in (pW, gk.diag_embed(pD.sqrt())))
    logdet_q = 2 * qL.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    logdet_p = _batch_lowrank_logdet(pW, pD, p._capacitance_tril)
    return _gaussian_kl(p, q, logdet_p, logdet_q, trace, _batch_mahalanobis(qL, q.loc - p.loc))


def _lowrank_logdet(q: Any) -> Any:
    return _batch_lowrank_logdet(q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag,
                                 q._capacitance_tril)


def _lowrank_mahalanobis(q: Any, p: Any) -> Any:
    return _batch_lowrank_mahalanobis(q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag,
                                      q.loc - p.loc, q._capacitance_tril)


def _lowrank_q_trace(q: Any, factor: Any, diag: Any = None) -> Any:
    """``trace(Sigma_q^-1 Sigma_p)`` for a low-rank ``q`` and ``Sigma_p = S S^T (+ diag(d))``
    (``S`` = ``factor``, ``d`` = ``diag``), by Woodbury: ``Sigma_q^-1 = D^-1 - A^T A`` with
    ``A = L_c^-1 W^T D^-1``, ``L_c`` the Cholesky factor of q's capacitance matrix."""
    qW, qD = q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag
    A = gk.linalg.solve_triangular(q._capacitance_tril, qW.mT / qD.unsqueeze(-2), upper=False)
    trace = _trace_xxt(factor * qD.rsqrt().unsqueeze(-1)) - _trace_xxt(A @ factor)
    if diag is not None:
        trace = trace + (diag / qD).sum(-1) - _trace_xxt(A * diag.sqrt().unsqueeze(-2))
    return trace


def _gaussian_kl(p: Any, q: Any, logdet_p: Any, logdet_q: Any, trace: Any, mahalanobis: Any) -> Any:
    return 0.5 * (logdet_q - logdet_p + trace + mahalanobis - p.event_shape[0])


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p: Any, q: Any) -> Any:
    # log q(k) = k log(rate) - rate for k in {0, 1}
    return -p.entropy() - (p.probs * gk.log(q.rate) - q.rate)


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p: Any, q: Any) -> Any:
    return -p.entropy() + _neg_log_continuous_bernoulli(q, p.mean)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p: Any, q: Any) -> Any:
    return -p.entropy() - gk.log(q.rate) + q.rate * p.mean


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p: Any, q: Any) -> Any:
    mean_log = gk.digamma(p.concentration1) - gk.digamma(p.concentration1 + p.concentration0)
    return -p.entropy() + _neg_log_gamma(q, p.mean, mean_log)


@register_kl(Beta, Normal)
def _kl_beta_normal(p: Any, q: Any) -> Any:
    return -p.entropy() + _neg_log_normal(q, p.mean, p.variance + p.mean.pow(2))


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p: Any, q: Any) -> Any:
    result = -p.entropy() + gk.log(q.high - q.low)
    return _where((q.low > 0) | (q.high < 1), math.inf, result)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p: Any, q: Any) -> Any:
    return -p.entropy() - gk.log(q.rate) + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p: Any, q: Any) -> Any:
    return -p.entropy() + _neg_log_normal(q, p.mean, p.variance + p.mean.pow(2))


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p: Any, q: Any) -> Any:
    # finite when [0, 1] lies inside [low, high] (PyTorch 2.13 gives inf when an end touches)
    result = -p.entropy() + gk.log(q.high - q.low)
    return _where((q.low > 0) | (q.high < 1), math.inf, result)


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p: Any, q: Any) -> Any:
    # E[log x] = -(euler + log rate)
    return -p.entropy() + _neg_log_gamma(q, p.mean, -(euler_constant + gk.log(p.rate)))


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p: Any, q: Any) -> Any:
    rs = p.rate * q.scale
    mean_exp = gk.exp(q.loc / q.scale) * rs / (rs + 1)
    return -p.entropy() + _neg_log_gumbel(q, p.mean, mean_exp)


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p: Any, q: Any) -> Any:
    return -p.entropy() + _neg_log_normal(q, p.mean, 2 * p.rate.pow(-2))


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p: Any, q: Any) -> Any:
    return -p.entropy() - gk.log(q.rate) + q.rate * p.mean


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p: Any, q: Any) -> Any:
    # E[exp(-x / b)] = (1 + 1 / (rate b))^-concentration
    mean_exp = (gk.exp(q.loc / q.scale)
                * (1 + (p.rate * q.scale).reciprocal()).pow(-p.concentration))
    return -p.entropy() + _neg_log_gumbel(q, p.mean, mean_exp)


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p: Any, q: Any) -> Any:
    second = (p.concentration.pow(2) + p.concentration) / p.rate.pow(2)
    return -p.entropy() + _neg_log_normal(q, p.mean, second)


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p: Any, q: Any) -> Any:
    return -p.entropy() + _neg_log_normal(q, p.mean, p.variance + p.mean.pow(2))


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p: Any, q: Any) -> Any:
    return -p.entropy() + _neg_log_normal(q, p.loc, 2 * p.scale.pow(2) + p.loc.pow(2))


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p: Any, q: Any) -> Any:
    # E[exp(-x / b)] = exp(-loc / b + scale^2 / (2 b^2))
    mean_exp = gk.exp((q.loc - p.loc) / q.scale + 0.5 * (p.scale / q.scale).pow(2))
    return -p.entropy() + _neg_log_gumbel(q, p.loc, mean_exp)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p: Any, q: Any) -> Any:
    # E|x - loc_q| for x ~ N(m, s), d = m - loc_q: s sqrt(2/pi) exp(-d^2 / 2s^2) + d erf(d / s sqrt 2)
    d = p.loc - q.loc
    mean_abs = (math.sqrt(2 / math.pi) * p.scale * gk.exp(-0.5 * (d / p.scale).pow(2))
                + d * gk.erf(d / (p.scale * math.sqrt(2))))
    return -p.entropy() + gk.log(2 * q.scale) + mean_abs / q.scale


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p: Any, q: Any) -> Any:
    # infinite mean (so divergence) for alpha <= 1
    ok = p.alpha > 1
    a = _safe(ok, p.alpha, 2.0)
    result = -p.entropy() - gk.log(q.rate) + q.rate * a * p.scale / (a - 1)
    return _where(~ok, math.inf, result)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p: Any, q: Any) -> Any:
    ok = p.alpha > 1
    a = _safe(ok, p.alpha, 2.0)
    result = -p.entropy() + _neg_log_gamma(q, a * p.scale / (a - 1),
                                           gk.log(p.scale) + p.alpha.reciprocal())
    return _where(~ok, math.inf, result)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p: Any, q: Any) -> Any:
    ok = p.alpha > 2
    a = _safe(ok, p.alpha, 3.0)
    mean = a * p.scale / (a - 1)
    second = a * p.scale.pow(2) / (a - 2)
    result = -p.entropy() + _neg_log_normal(q, mean, second)
    return _where(~ok, math.inf, result)


def _uniform_mean_log(low: Any, high: Any) -> Any:
    """``E[log x]`` for ``x ~ Uniform(low, high)``, ``low >= 0``."""
    return (_x_log_x(high) - _x_log_x(low)) / (high - low) - 1


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p: Any, q: Any) -> Any:
    a, b = q.concentration1, q.concentration0
    inside = (p.low >= 0) & (p.high <= 1)
    low = _safe(inside, p.low, 0.25)
    high = _safe(inside, p.high, 0.75)
    mean_log = _uniform_mean_log(low, high)
    mean_log1m = _uniform_mean_log(1 - high, 1 - low)
    log_beta = gk.lgamma(a) + gk.lgamma(b) - gk.lgamma(a + b)
    result = -p.entropy() - (a - 1) * mean_log - (b - 1) * mean_log1m + log_beta
    return _where(~inside, math.inf, result)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p: Any, q: Any) -> Any:
    # finite when [low, high] lies inside [0, 1] (PyTorch 2.13 gives inf when an end touches)
    result = -p.entropy() + _neg_log_continuous_bernoulli(q, p.mean)
    return _where((p.low < 0) | (p.high > 1), math.inf, result)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p: Any, q: Any) -> Any:
    result = -p.entropy() - gk.log(q.rate) + q.rate * p.mean
    return _where(p.low < 0, math.inf, result)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p: Any, q: Any) -> Any:
    ok = p.low >= 0
    low = _safe(ok, p.low, 0.0)
    high = _safe(ok, p.high, 1.0)
    result = -p.entropy() + _neg_log_gamma(q, p.mean, _uniform_mean_log(low, high))
    return _where(~ok, math.inf, result)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p: Any, q: Any) -> Any:
    # E[exp(-(x - loc) / b)] = b / (high - low) (exp(-(low - loc) / b) - exp(-(high - loc) / b))
    z_low = (p.low - q.loc) / q.scale
    z_high = (p.high - q.loc) / q.scale
    mean_exp = q.scale / (p.high - p.low) * (gk.exp(-z_low) - gk.exp(-z_high))
    return -p.entropy() + _neg_log_gumbel(q, p.mean, mean_exp)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p: Any, q: Any) -> Any:
    ok = p.low >= q.scale
    low = _safe(ok, p.low, 1.0)
    high = _safe(ok, p.high, 2.0)
    # log q(x) = log alpha + alpha log scale - (alpha + 1) log x
    result = (-p.entropy() - gk.log(q.alpha) - q.alpha * gk.log(q.scale)
              + (q.alpha + 1) * _uniform_mean_log(low, high))
    return _where(~ok, math.inf, result)


def _kl_infinite(p: Any, q: Any) -> Any:
    """The support of ``p`` reaches where ``q``'s density is 0: infinite divergence."""
    return _infinite_like(p.mean)


for _p, _qs in [(Beta, (Pareto,)), (ContinuousBernoulli, (Pareto,)),
                (Exponential, (Beta, ContinuousBernoulli, Pareto, Uniform)),
                (Gamma, (Beta, ContinuousBernoulli, Pareto, Uniform)),
                (Gumbel, (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)),
                (Laplace, (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)),
                (Normal, (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)),
                (Pareto, (Beta, ContinuousBernoulli, Uniform)),
                (Poisson, (Bernoulli, Binomial))]:
    for _q in _qs:
        register_kl(_p, _q)(_kl_infinite)
