"""Samples on large draws (fixed seeds): empirical CDFs at a few points and frequencies of
values against the exact distribution (scipy.stats or closed forms), means and covariances
against the exact ones. Every bound is 6 standard errors or more (a false failure has
probability below 1e-8 per check), and the seed is fixed, so the tests are deterministic."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import gradkit as gk
import gradkit.distributions as D

N = 100_000
SIX_SE_HALF = 6 * math.sqrt(0.25 / N)   # 6 standard errors of a frequency, at worst (p = 1/2)


def t(x: Any) -> gk.Tensor:
    return gk.tensor(np.asarray(x, dtype=np.float64))


st = pytest.importorskip("scipy.stats")

CONTINUOUS = [
    ("Normal", lambda: D.Normal(t(0.7), t(1.3)), st.norm(0.7, 1.3)),
    ("Uniform", lambda: D.Uniform(t(-1.0), t(2.5)), st.uniform(-1.0, 3.5)),
    ("Exponential", lambda: D.Exponential(t(2.5)), st.expon(scale=1 / 2.5)),
    ("Laplace", lambda: D.Laplace(t(0.5), t(2.0)), st.laplace(0.5, 2.0)),
    ("Cauchy", lambda: D.Cauchy(t(0.5), t(2.0)), st.cauchy(0.5, 2.0)),
    ("Gamma", lambda: D.Gamma(t(2.5), t(1.5)), st.gamma(2.5, scale=1 / 1.5)),
    ("Gamma-small", lambda: D.Gamma(t(0.3), t(1.0)), st.gamma(0.3)),
    ("Beta", lambda: D.Beta(t(2.5), t(0.8)), st.beta(2.5, 0.8)),
    ("LogNormal", lambda: D.LogNormal(t(0.3), t(0.6)), st.lognorm(0.6, scale=np.exp(0.3))),
    ("HalfNormal", lambda: D.HalfNormal(t(1.7)), st.halfnorm(scale=1.7)),
    ("StudentT", lambda: D.StudentT(t(4.5), t(0.3), t(2.0)), st.t(4.5, 0.3, 2.0)),
    ("Chi2", lambda: D.Chi2(t(3.5)), st.chi2(3.5)),
    ("Gumbel", lambda: D.Gumbel(t(0.5), t(2.0)), st.gumbel_r(0.5, 2.0)),
    ("HalfCauchy", lambda: D.HalfCauchy(t(1.5)), st.halfcauchy(scale=1.5)),
    ("Weibull", lambda: D.Weibull(t(2.0), t(1.7)), st.weibull_min(1.7, scale=2.0)),
    ("Pareto", lambda: D.Pareto(t(1.5), t(3.5)), st.pareto(3.5, scale=1.5)),
    ("InverseGamma", lambda: D.InverseGamma(t(3.5), t(2.0)), st.invgamma(3.5, scale=2.0)),
]


@pytest.mark.parametrize("method", ["sample", "rsample"])
@pytest.mark.parametrize("name,make,ref", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_continuous_empirical_cdf(name: str, make: Any, ref: Any, method: str) -> None:
    gk.manual_seed(2024)
    x = getattr(make(), method)((N,)).detach().numpy()
    assert x.shape == (N,)
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        frac = np.mean(x <= ref.ppf(q))
        assert abs(frac - q) < SIX_SE_HALF, (q, frac)


DISCRETE = [
    ("Poisson", lambda: D.Poisson(t(3.5)), st.poisson(3.5)),
    ("Binomial", lambda: D.Binomial(12, t(0.3)), st.binom(12, 0.3)),
    ("Geometric", lambda: D.Geometric(t(0.3)), st.geom(0.3, loc=-1)),
    ("Bernoulli", lambda: D.Bernoulli(t(0.3)), st.bernoulli(0.3)),
    ("NegativeBinomial", lambda: D.NegativeBinomial(t(2.5), t(0.3)), st.nbinom(2.5, 0.7)),
    ("Categorical", lambda: D.Categorical(t([0.1, 0.6, 0.3])),
     st.rv_discrete(values=([0, 1, 2], [0.1, 0.6, 0.3]))),
]


@pytest.mark.parametrize("name,make,ref", DISCRETE, ids=[c[0] for c in DISCRETE])
def test_discrete_frequencies(name: str, make: Any, ref: Any) -> None:
    gk.manual_seed(2025)
    x = make().sample((N,)).numpy()
    assert np.all(x == np.round(x)) and np.all(x >= 0)
    for k in range(0, 6):
        assert abs(np.mean(x == k) - ref.pmf(k)) < SIX_SE_HALF, k


def test_categorical_batched_rows_use_their_own_probabilities() -> None:
    p = t([[0.7, 0.2, 0.1], [0.0, 0.0, 1.0], [0.25, 0.25, 0.5]])
    gk.manual_seed(1)
    x = D.Categorical(p).sample((N,)).numpy()
    assert x.shape == (N, 3)
    for row in range(3):
        freq = np.bincount(x[:, row].astype(np.int64), minlength=3) / N
        assert np.all(np.abs(freq - p.numpy()[row]) < SIX_SE_HALF)


def test_one_hot_categorical_sample() -> None:
    gk.manual_seed(3)
    x = D.OneHotCategorical(t([0.1, 0.6, 0.3])).sample((N,)).numpy()
    assert np.all(x.sum(-1) == 1)
    assert np.all(np.abs(x.mean(0) - [0.1, 0.6, 0.3]) < SIX_SE_HALF)


@pytest.mark.parametrize("method", ["sample", "rsample"])
def test_multivariate_normal_moments(method: str) -> None:
    mean = np.array([0.5, -1.0, 2.0])
    cov = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])
    gk.manual_seed(4)
    x = getattr(D.MultivariateNormal(t(mean), covariance_matrix=t(cov)), method)((N,)).detach().numpy()
    se_mean = np.sqrt(np.diag(cov) / N)
    assert np.all(np.abs(x.mean(0) - mean) < 6 * se_mean)
    # each covariance entry's standard error is at most sqrt(2 / N) * max variance
    assert np.all(np.abs(np.cov(x.T) - cov) < 6 * math.sqrt(2 / N) * 2.0)


@pytest.mark.parametrize("method", ["sample", "rsample"])
def test_lowrank_multivariate_normal_moments(method: str) -> None:
    W = np.array([[1.0, 0.2], [0.3, -0.5], [0.0, 0.7]])
    diag = np.array([0.5, 1.0, 2.0])
    cov = W @ W.T + np.diag(diag)
    gk.manual_seed(8)
    d = D.LowRankMultivariateNormal(t([0.5, -1.0, 2.0]), t(W), t(diag))
    x = getattr(d, method)((N,)).detach().numpy()
    assert np.all(np.abs(x.mean(0) - [0.5, -1.0, 2.0]) < 6 * np.sqrt(np.diag(cov) / N))
    assert np.all(np.abs(np.cov(x.T) - cov) < 6 * math.sqrt(2 / N) * 3.0)


def test_multinomial_moments() -> None:
    p = np.array([0.1, 0.6, 0.3])
    gk.manual_seed(9)
    x = D.Multinomial(7, t(p)).sample((N,)).numpy()
    assert x.shape == (N, 3) and np.all(x.sum(-1) == 7)
    assert np.all(np.abs(x.mean(0) - 7 * p) < 6 * np.sqrt(7 * p * (1 - p) / N))


@pytest.mark.parametrize("method", ["sample", "rsample"])
def test_dirichlet_moments(method: str) -> None:
    a = np.array([0.5, 2.0, 3.0])
    gk.manual_seed(5)
    x = getattr(D.Dirichlet(t(a)), method)((N,)).detach().numpy()
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-12)
    mean = a / a.sum()
    var = mean * (1 - mean) / (a.sum() + 1)
    assert np.all(np.abs(x.mean(0) - mean) < 6 * np.sqrt(var / N))


def test_mixture_moments() -> None:
    mix = D.MixtureSameFamily(D.Categorical(t([0.3, 0.7])), D.Normal(t([-2.0, 1.0]), t([0.5, 1.0])))
    gk.manual_seed(6)
    x = mix.sample((N,)).numpy()
    m, v = mix.mean.item(), mix.variance.item()
    np.testing.assert_allclose([m, v], [0.3 * -2 + 0.7 * 1, 0.3 * (0.25 + 4) + 0.7 * 2 - 0.1 ** 2])
    assert abs(x.mean() - m) < 6 * math.sqrt(v / N)
    # the fraction below 0: 0.3 P(N(-2, .5) < 0) + 0.7 P(N(1, 1) < 0)
    want = 0.3 * st.norm(-2, 0.5).cdf(0) + 0.7 * st.norm(1, 1).cdf(0)
    assert abs(np.mean(x < 0) - want) < SIX_SE_HALF


def test_relaxed_low_temperature_approaches_the_discrete_one() -> None:
    gk.manual_seed(7)
    x = D.RelaxedBernoulli(t(0.05), probs=t(0.3)).sample((N,)).numpy()
    assert np.all((x > 0) & (x < 1))
    assert abs(np.mean(x > 0.5) - 0.3) < SIX_SE_HALF
    y = D.RelaxedOneHotCategorical(t(0.05), probs=t([0.1, 0.6, 0.3])).rsample((N,)).detach().numpy()
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-10)
    freq = np.bincount(y.argmax(-1), minlength=3) / N
    assert np.all(np.abs(freq - [0.1, 0.6, 0.3]) < SIX_SE_HALF)


def test_manual_seed_reproduces_samples() -> None:
    d = D.Gamma(t([0.5, 3.0]), t(1.0))
    gk.manual_seed(99)
    a = d.sample((5,)), d.rsample((5,)), D.Categorical(t([0.2, 0.8])).sample((5,))
    gk.manual_seed(99)
    b = d.sample((5,)), d.rsample((5,)), D.Categorical(t([0.2, 0.8])).sample((5,))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u.detach().numpy(), v.detach().numpy())


def test_sample_dtype_follows_the_parameters() -> None:
    for d in (D.Normal(gk.zeros(2), 1.0), D.Gamma(gk.ones(2), 1.0), D.Beta(gk.ones(2), gk.ones(2)),
              D.Poisson(gk.ones(2)), D.Dirichlet(gk.ones(3))):
        assert d.sample().dtype == gk.float32
        assert d.log_prob(d.sample()).dtype == gk.float32
    assert D.Categorical(gk.ones(3)).sample().dtype == gk.int64
