"""Values against scipy.stats (independent of PyTorch): log densities, CDFs, quantiles,
entropies, means and variances in float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit as gk
import gradkit.distributions as D

st = pytest.importorskip("scipy.stats")


def t(x: Any) -> gk.Tensor:
    return gk.tensor(np.asarray(x, dtype=np.float64))


A = np.array

#: (name, gradkit distribution, scipy frozen distribution, points, continuous?)
SCALAR = [
    ("Normal", lambda: D.Normal(t(0.7), t(1.3)), lambda: st.norm(0.7, 1.3), A([-2.0, 0.1, 3.3]), True),
    ("Uniform", lambda: D.Uniform(t(-1.0), t(2.5)), lambda: st.uniform(-1.0, 3.5), A([-0.5, 0.1, 2.2]), True),
    ("Exponential", lambda: D.Exponential(t(2.5)), lambda: st.expon(scale=1 / 2.5),
     A([0.01, 0.4, 3.0]), True),
    ("Laplace", lambda: D.Laplace(t(0.5), t(2.0)), lambda: st.laplace(0.5, 2.0), A([-3.0, 0.5, 4.0]), True),
    ("Cauchy", lambda: D.Cauchy(t(0.5), t(2.0)), lambda: st.cauchy(0.5, 2.0), A([-3.0, 0.5, 4.0]), True),
    ("Gamma", lambda: D.Gamma(t(2.5), t(1.5)), lambda: st.gamma(2.5, scale=1 / 1.5),
     A([0.1, 1.0, 5.0]), True),
    ("Beta", lambda: D.Beta(t(2.5), t(0.8)), lambda: st.beta(2.5, 0.8), A([0.1, 0.5, 0.97]), True),
    ("LogNormal", lambda: D.LogNormal(t(0.3), t(0.6)), lambda: st.lognorm(0.6, scale=np.exp(0.3)),
     A([0.2, 1.0, 4.0]), True),
    ("HalfNormal", lambda: D.HalfNormal(t(1.7)), lambda: st.halfnorm(scale=1.7), A([0.2, 1.0, 4.0]), True),
    ("StudentT", lambda: D.StudentT(t(4.5), t(0.3), t(2.0)), lambda: st.t(4.5, 0.3, 2.0),
     A([-5.0, 0.0, 2.0]), True),
    ("Chi2", lambda: D.Chi2(t(3.5)), lambda: st.chi2(3.5), A([0.2, 1.0, 7.0]), True),
    ("Poisson", lambda: D.Poisson(t(3.5)), lambda: st.poisson(3.5), A([0.0, 3.0, 11.0]), False),
    ("Binomial", lambda: D.Binomial(12, t(0.3)), lambda: st.binom(12, 0.3), A([0.0, 3.0, 12.0]), False),
    ("Geometric", lambda: D.Geometric(t(0.3)), lambda: st.geom(0.3, loc=-1), A([0.0, 3.0, 12.0]), False),
    ("Bernoulli", lambda: D.Bernoulli(t(0.3)), lambda: st.bernoulli(0.3), A([0.0, 1.0]), False),
]
IDS = [s[0] for s in SCALAR]


@pytest.mark.parametrize("name,make,ref,x,continuous", SCALAR, ids=IDS)
def test_log_prob(name: str, make: Any, ref: Any, x: np.ndarray, continuous: bool) -> None:
    want = ref().logpdf(x) if continuous else ref().logpmf(x)
    np.testing.assert_allclose(make().log_prob(t(x)).numpy(), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,make,ref,x,continuous", SCALAR, ids=IDS)
def test_mean_variance(name: str, make: Any, ref: Any, x: np.ndarray, continuous: bool) -> None:
    d, r = make(), ref()
    if name == "Cauchy":   # undefined: NaN mean and infinite variance (PyTorch's answer)
        assert np.isnan(d.mean.item()) and np.isinf(d.variance.item())
        return
    np.testing.assert_allclose(d.mean.item(), r.mean(), rtol=1e-10)
    np.testing.assert_allclose(d.variance.item(), r.var(), rtol=1e-10)
    np.testing.assert_allclose(d.stddev.item(), r.std(), rtol=1e-10)


ENTROPY = [s for s in SCALAR if s[0] != "Poisson"]


@pytest.mark.parametrize("name,make,ref,x,continuous", ENTROPY, ids=[s[0] for s in ENTROPY])
def test_entropy(name: str, make: Any, ref: Any, x: np.ndarray, continuous: bool) -> None:
    np.testing.assert_allclose(make().entropy().item(), ref().entropy(), rtol=1e-9)


CDF = [s for s in SCALAR if s[0] in ("Normal", "Uniform", "Exponential", "Laplace", "Cauchy",
                                     "Gamma", "LogNormal", "HalfNormal", "Chi2")]


@pytest.mark.parametrize("name,make,ref,x,continuous", CDF, ids=[s[0] for s in CDF])
def test_cdf_icdf(name: str, make: Any, ref: Any, x: np.ndarray, continuous: bool) -> None:
    d, r = make(), ref()
    np.testing.assert_allclose(d.cdf(t(x)).numpy(), r.cdf(x), rtol=1e-10, atol=1e-14)
    q = A([0.05, 0.5, 0.9])
    if name not in ("Gamma", "Chi2"):   # PyTorch's Gamma has no icdf either
        np.testing.assert_allclose(d.icdf(t(q)).numpy(), r.ppf(q), rtol=1e-9)


def test_multivariate_normal() -> None:
    mean = A([0.5, -1.0, 2.0])
    cov = A([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])
    x = A([[0.0, 0.0, 0.0], [1.0, -2.0, 2.5]])
    ref = st.multivariate_normal(mean, cov)
    for d in (D.MultivariateNormal(t(mean), covariance_matrix=t(cov)),
              D.MultivariateNormal(t(mean), precision_matrix=t(np.linalg.inv(cov))),
              D.MultivariateNormal(t(mean), scale_tril=t(np.linalg.cholesky(cov)))):
        np.testing.assert_allclose(d.log_prob(t(x)).numpy(), ref.logpdf(x), rtol=1e-10)
        np.testing.assert_allclose(d.entropy().item(), ref.entropy(), rtol=1e-10)
        np.testing.assert_allclose(d.covariance_matrix.numpy(), cov, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(cov), rtol=1e-9)
        np.testing.assert_allclose(d.variance.numpy(), np.diag(cov), rtol=1e-10)


def test_dirichlet() -> None:
    alpha = A([0.5, 2.0, 3.0])
    x = A([0.2, 0.3, 0.5])
    d, ref = D.Dirichlet(t(alpha)), st.dirichlet(alpha)
    np.testing.assert_allclose(d.log_prob(t(x)).item(), ref.logpdf(x), rtol=1e-10)
    np.testing.assert_allclose(d.entropy().item(), ref.entropy(), rtol=1e-10)
    np.testing.assert_allclose(d.mean.numpy(), ref.mean(), rtol=1e-10)
    np.testing.assert_allclose(d.variance.numpy(), ref.var(), rtol=1e-10)


def test_categorical_and_one_hot() -> None:
    p = A([0.1, 0.6, 0.3])
    ref = st.multinomial(1, p)
    c, o = D.Categorical(t(p)), D.OneHotCategorical(t(p))
    np.testing.assert_allclose(c.log_prob(t([0.0, 1.0, 2.0])).numpy(), np.log(p), rtol=1e-12)
    np.testing.assert_allclose(o.log_prob(t(np.eye(3))).numpy(), ref.logpmf(np.eye(3)), rtol=1e-10)
    np.testing.assert_allclose(c.entropy().item(), ref.entropy(), rtol=1e-10)


def test_multinomial() -> None:
    p = A([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    x = A([[1.0, 2.0, 2.0], [5.0, 0.0, 0.0]])
    d = D.Multinomial(5, t(p))
    for i in range(2):
        ref = st.multinomial(5, p[i])
        np.testing.assert_allclose(d.log_prob(t(x)).numpy()[i], ref.logpmf(x[i]), rtol=1e-12)
        np.testing.assert_allclose(d.entropy().numpy()[i], ref.entropy(), rtol=1e-12)
        np.testing.assert_allclose(d.variance.numpy()[i], np.diag(ref.cov()), rtol=1e-12)


def test_lowrank_multivariate_normal() -> None:
    W = A([[1.0, 0.2], [0.3, -0.5], [0.0, 0.7]])
    diag = A([0.5, 1.0, 2.0])
    mean = A([0.5, -1.0, 2.0])
    cov = W @ W.T + np.diag(diag)
    x = A([[0.0, 0.0, 0.0], [1.0, -2.0, 2.5]])
    d, ref = D.LowRankMultivariateNormal(t(mean), t(W), t(diag)), st.multivariate_normal(mean, cov)
    np.testing.assert_allclose(d.log_prob(t(x)).numpy(), ref.logpdf(x), rtol=1e-12)
    np.testing.assert_allclose(d.entropy().item(), ref.entropy(), rtol=1e-12)
    np.testing.assert_allclose(d.covariance_matrix.numpy(), cov, rtol=1e-12)
    np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(cov), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(d.scale_tril.numpy(), np.linalg.cholesky(cov), rtol=1e-10, atol=1e-13)


MORE = [
    ("NegativeBinomial", lambda: D.NegativeBinomial(t(2.5), t(0.3)), st.nbinom(2.5, 0.7), A([0.0, 2.0, 9.0])),
    ("Gumbel", lambda: D.Gumbel(t(0.5), t(2.0)), st.gumbel_r(0.5, 2.0), A([-1.0, 0.5, 4.0])),
    ("HalfCauchy", lambda: D.HalfCauchy(t(1.5)), st.halfcauchy(scale=1.5), A([0.1, 1.0, 6.0])),
    ("Weibull", lambda: D.Weibull(t(2.0), t(1.7)), st.weibull_min(1.7, scale=2.0), A([0.1, 1.0, 4.0])),
    ("Pareto", lambda: D.Pareto(t(1.5), t(3.5)), st.pareto(3.5, scale=1.5), A([1.6, 2.0, 9.0])),
    ("InverseGamma", lambda: D.InverseGamma(t(3.5), t(2.0)), st.invgamma(3.5, scale=2.0), A([0.1, 1.0, 4.0])),
]


@pytest.mark.parametrize("name,make,ref,x", MORE, ids=[m[0] for m in MORE])
def test_more_families(name: str, make: Any, ref: Any, x: np.ndarray) -> None:
    """PyTorch's NegativeBinomial counts failures with success probability 1 - probs, so it is
    SciPy's nbinom(n, 1 - probs)."""
    d = make()
    logp = ref.logpmf(x) if name == "NegativeBinomial" else ref.logpdf(x)
    np.testing.assert_allclose(d.log_prob(t(x)).numpy(), logp, rtol=1e-10)
    np.testing.assert_allclose(d.mean.item(), ref.mean(), rtol=1e-10)
    np.testing.assert_allclose(d.variance.item(), ref.var(), rtol=1e-10)
    if name != "NegativeBinomial":
        np.testing.assert_allclose(d.entropy().item(), ref.entropy(), rtol=1e-9)
        np.testing.assert_allclose(d.cdf(t(x)).numpy(), ref.cdf(x), rtol=1e-10)


def test_kl_normal_against_quadrature() -> None:
    """KL(N(0.3, 1.2) || N(-0.5, 0.7)) by integrating p log(p / q) numerically."""
    from scipy.integrate import quad
    p, q = st.norm(0.3, 1.2), st.norm(-0.5, 0.7)
    want, _ = quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), -30, 30, epsabs=1e-13)
    got = D.kl_divergence(D.Normal(t(0.3), t(1.2)), D.Normal(t(-0.5), t(0.7)))
    np.testing.assert_allclose(got.item(), want, rtol=1e-8)


def test_kl_gamma_against_quadrature() -> None:
    from scipy.integrate import quad
    p, q = st.gamma(2.5, scale=1 / 1.5), st.gamma(1.3, scale=1 / 0.4)
    want, _ = quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), 0, 80, epsabs=1e-13, limit=200)
    got = D.kl_divergence(D.Gamma(t(2.5), t(1.5)), D.Gamma(t(1.3), t(0.4)))
    np.testing.assert_allclose(got.item(), want, rtol=1e-7)
