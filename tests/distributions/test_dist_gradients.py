"""Gradients by finite differences in float64 (gradkit's gradcheck: central differences
against the backward pass), for log_prob, cdf, entropy and kl_divergence in every parameter,
and the reparameterization gradients of rsample."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit as gk
import gradkit.distributions as D
from dist_cases import CASES, Case
from gradkit.autograd import gradcheck

IDS = [c.name for c in CASES]


def _params(case: Case) -> tuple[list[str], list[Any]]:
    names = list(case.grad_params)
    return names, [gk.tensor(case.params[n], dtype=gk.float64, requires_grad=True) for n in names]


def _dist(case: Case, names: list[str], ts: tuple[Any, ...]) -> Any:
    kw = {k: gk.tensor(v, dtype=gk.float64) for k, v in case.params.items()}
    kw.update(dict(zip(names, ts)))
    if case.name.endswith(("-cov", "-prec")):   # MultivariateNormal, Wishart
        # a symmetric parameterization: finite differences must stay on symmetric matrices
        key = "cov" if "cov" in kw else "P"
        kw[key] = (kw[key] + kw[key].mT) / 2
    if "L" in kw:
        kw["L"] = kw["L"].tril()
    return case.make(D, **kw)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob_gradcheck(case: Case) -> None:
    names, ts = _params(case)
    value = gk.tensor(case.values, dtype=gk.float64)
    assert gradcheck(lambda *p: _dist(case, names, p).log_prob(value), ts)


#: no closed-form entropy, in PyTorch either (its entropy() raises NotImplementedError too)
NO_ENTROPY = {"Poisson", "MixtureSameFamily", "RelaxedBernoulli", "RelaxedOneHotCategorical",
              "TransformedDistribution-affine-tanh", "TransformedDistribution-sigmoid",
              "NegativeBinomial", "NegativeBinomial-logits", "FisherSnedecor", "LogisticNormal",
              "VonMises", "LKJCholesky"}
ENTROPY_CASES = [c for c in CASES if c.name not in NO_ENTROPY]


@pytest.mark.parametrize("case", ENTROPY_CASES, ids=[c.name for c in ENTROPY_CASES])
def test_entropy_gradcheck(case: Case) -> None:
    names, ts = _params(case)
    assert gradcheck(lambda *p: _dist(case, names, p).entropy(), ts)


@pytest.mark.parametrize("name", sorted(NO_ENTROPY))
def test_no_entropy_raises(name: str) -> None:
    case = next(c for c in CASES if c.name == name)
    names, ts = _params(case)
    with pytest.raises(NotImplementedError):
        _dist(case, names, ts).entropy()


CDF_CASES = [c for c in CASES if c.name in ("Normal", "Uniform", "Exponential", "Laplace", "Cauchy",
                                            "Gamma", "LogNormal", "HalfNormal",
                                            "ContinuousBernoulli-probs", "ContinuousBernoulli-logits",
                                            "GeneralizedPareto", "Kumaraswamy")]


@pytest.mark.parametrize("case", CDF_CASES, ids=[c.name for c in CDF_CASES])
def test_cdf_gradcheck(case: Case) -> None:
    names, ts = _params(case)
    if case.name == "Gamma":
        # PyTorch too: the incomplete gamma function's derivative in the shape is not implemented
        names, ts = ["rate"], [gk.tensor(case.params["rate"], dtype=gk.float64, requires_grad=True)]
    value = gk.tensor(case.values, dtype=gk.float64)
    assert gradcheck(lambda *p: _dist(case, names, p).cdf(value), ts)


def _seeded_rsample(make: Any, shape: tuple[int, ...] = (5,)) -> Any:
    def fn(*params: Any) -> Any:
        gk.manual_seed(1234)  # the same draws for every evaluation: a deterministic function
        return make(*params).rsample(shape)
    return fn


RSAMPLE = [
    ("Normal", lambda loc, scale: D.Normal(loc, scale), [[0.5, -1.0], [1.0, 2.0]]),
    ("LogNormal", lambda loc, scale: D.LogNormal(loc, scale), [[0.5, -1.0], [1.0, 0.3]]),
    ("Uniform", lambda lo, hi: D.Uniform(lo, hi), [[0.5, -1.0], [1.0, 2.0]]),
    ("Exponential", lambda rate: D.Exponential(rate), [[0.5, 3.0]]),
    ("Laplace", lambda loc, scale: D.Laplace(loc, scale), [[0.5, -1.0], [1.0, 2.0]]),
    ("Cauchy", lambda loc, scale: D.Cauchy(loc, scale), [[0.5, -1.0], [1.0, 2.0]]),
    ("HalfNormal", lambda scale: D.HalfNormal(scale), [[1.0, 2.0]]),
    ("MultivariateNormal", lambda loc, L: D.MultivariateNormal(loc, scale_tril=L.tril()),
     [[0.5, -1.0], [[1.0, 0.0], [0.4, 2.0]]]),
    ("Gamma", lambda a, rate: D.Gamma(a, rate), [[0.7, 4.0], [1.0, 2.5]]),
    ("Beta", lambda a, b: D.Beta(a, b), [[0.7, 4.0], [1.5, 2.5]]),
    ("Dirichlet", lambda a: D.Dirichlet(a), [[0.7, 4.0, 2.0]]),
    ("StudentT", lambda df, loc, scale: D.StudentT(df, loc, scale), [[3.0, 6.0], [0.0, 1.0], [1.0, 2.0]]),
    ("Chi2", lambda df: D.Chi2(df), [[3.0, 6.0]]),
    ("LowRankMultivariateNormal", lambda m, W, d: D.LowRankMultivariateNormal(m, W, d),
     [[0.5, -1.0], [[1.0], [0.4]], [0.5, 2.0]]),
    ("Gumbel", lambda loc, scale: D.Gumbel(loc, scale), [[0.5, -1.0], [1.0, 2.0]]),
    ("HalfCauchy", lambda scale: D.HalfCauchy(scale), [[1.0, 2.0]]),
    ("Weibull", lambda scale, k: D.Weibull(scale, k), [[1.0, 2.0], [0.8, 3.0]]),
    ("Pareto", lambda scale, a: D.Pareto(scale, a), [[1.0, 2.0], [0.8, 3.0]]),
    ("InverseGamma", lambda a, rate: D.InverseGamma(a, rate), [[1.5, 4.0], [1.0, 2.5]]),
    ("RelaxedBernoulli", lambda t, p: D.RelaxedBernoulli(t, probs=p), [0.5, [0.3, 0.8]]),
    ("RelaxedOneHotCategorical", lambda t, p: D.RelaxedOneHotCategorical(t, probs=p),
     [0.5, [0.3, 0.2, 0.5]]),
    ("ContinuousBernoulli", lambda p: D.ContinuousBernoulli(p), [[0.2, 0.4995, 0.8]]),
    ("ContinuousBernoulli-logits", lambda lg: D.ContinuousBernoulli(logits=lg), [[-2.0, 0.5]]),
    ("FisherSnedecor", lambda d1, d2: D.FisherSnedecor(d1, d2), [[2.0, 7.0], [3.0, 12.0]]),
    ("GeneralizedPareto", lambda loc, s, c: D.GeneralizedPareto(loc, s, c),
     [[0.5, -1.0, 0.0], [1.0, 2.0, 0.5], [0.3, 0.0, -0.4]]),
    ("Kumaraswamy", lambda a, b: D.Kumaraswamy(a, b), [[0.7, 4.0], [1.5, 2.5]]),
    ("LogisticNormal", lambda loc, s: D.LogisticNormal(loc, s), [[0.5, -1.0], [1.0, 0.3]]),
    ("Wishart", lambda df, L: D.Wishart(df, scale_tril=L.tril()),
     [[4.5], [[1.0, 0.0], [0.4, 2.0]]]),
]


@pytest.mark.parametrize("name,make,params", RSAMPLE, ids=[r[0] for r in RSAMPLE])
def test_rsample_gradcheck(name: str, make: Any, params: list[Any]) -> None:
    """The sample as a function of the parameters at fixed noise: its derivative (the
    reparameterization gradient, implicit for Gamma/Beta/Dirichlet) against central
    differences of the same function."""
    ts = [gk.tensor(p, dtype=gk.float64, requires_grad=True) for p in params]
    assert make(*ts).has_rsample
    assert gradcheck(_seeded_rsample(make), ts, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name,make,params", RSAMPLE, ids=[r[0] for r in RSAMPLE])
def test_rsample_flows_and_sample_does_not(name: str, make: Any, params: list[Any]) -> None:
    ts = [gk.tensor(p, dtype=gk.float64, requires_grad=True) for p in params]
    d = make(*ts)
    assert d.rsample((3,)).requires_grad
    assert not d.sample((3,)).requires_grad


def test_normal_rsample_gradient_is_the_noise() -> None:
    loc = gk.tensor([0.5, -1.0], dtype=gk.float64, requires_grad=True)
    scale = gk.tensor([1.0, 2.0], dtype=gk.float64, requires_grad=True)
    gk.manual_seed(7)
    x = D.Normal(loc, scale).rsample((1000,))
    x.sum().backward()
    eps = (x.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(loc.grad.numpy(), [1000.0, 1000.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-12)


def test_gamma_implicit_gradient_against_the_quantile_function() -> None:
    """dx/da at fixed u = P(a, x): central differences of SciPy's inverse incomplete gamma."""
    sps = pytest.importorskip("scipy.special")
    a = np.array([0.05, 0.5, 1.0, 3.0, 30.0, 300.0])
    for u in [1e-6, 0.01, 0.3, 0.7, 0.99, 1 - 1e-7]:
        at = gk.tensor(a, requires_grad=True)
        from gradkit.ops import special as S
        S.gamma_reparam(at, gk.tensor(np.full(6, u))).sum().backward()
        h = 1e-6 * a
        fd = (sps.gammaincinv(a + h, u) - sps.gammaincinv(a - h, u)) / (2 * h)
        np.testing.assert_allclose(at.grad.numpy(), fd, rtol=1e-6)


def test_gamma_implicit_gradient_against_torch() -> None:
    """PyTorch's _standard_gamma_grad (an approximation: agreement to its accuracy, 1e-2)."""
    torch = pytest.importorskip("torch")
    gk.manual_seed(3)
    a = gk.tensor([0.1, 0.9, 2.0, 11.0], dtype=gk.float64, requires_grad=True)
    x = D.Gamma(a, gk.ones(4, dtype=gk.float64)).rsample((200,))
    x.sum().backward()
    want = torch._standard_gamma_grad(torch.tensor(a.detach().numpy()).expand(200, 4),
                                      torch.tensor(x.detach().numpy())).sum(0)
    np.testing.assert_allclose(a.grad.numpy(), want.numpy(), rtol=1e-2)


def test_second_derivative_in_the_gamma_shape_is_refused() -> None:
    a = gk.tensor([2.0], dtype=gk.float64, requires_grad=True)
    x = D.Gamma(a, 1.0).rsample()
    (g,) = gk.autograd.grad(x.sum(), a, create_graph=True)
    with pytest.raises(NotImplementedError, match="gammainc_da"):
        g.sum().backward()


def test_dirichlet_rsample_gradient_is_unbiased() -> None:
    """E[x_0] = a_0 / sum(a): the mean of the reparameterization gradients of x_0 against the
    analytic gradient (Monte Carlo over 40000 draws; the bound is about 10 standard errors)."""
    a = gk.tensor([0.7, 4.0, 2.0], dtype=gk.float64, requires_grad=True)
    gk.manual_seed(11)
    x = D.Dirichlet(a).rsample((40000,))
    (g,) = gk.autograd.grad(x[:, 0].mean(), a)
    s = 6.7
    want = np.array([1 / s - 0.7 / s ** 2, -0.7 / s ** 2, -0.7 / s ** 2])
    np.testing.assert_allclose(g.numpy(), want, atol=4e-3)


def test_beta_rsample_gradient_is_unbiased() -> None:
    a = gk.tensor(2.0, dtype=gk.float64, requires_grad=True)
    b = gk.tensor(3.0, dtype=gk.float64, requires_grad=True)
    gk.manual_seed(12)
    x = D.Beta(a, b).rsample((40000,))
    ga, gb = gk.autograd.grad(x.mean(), (a, b))
    # E[x] = a / (a + b)
    np.testing.assert_allclose([ga.item(), gb.item()], [3 / 25, -2 / 25], atol=4e-3)


KL_PAIRS = [
    ("Normal", lambda a, b: D.Normal(a, b), [[0.5, -1.0], [1.0, 2.0]], [[0.0, 1.0], [2.0, 0.5]]),
    ("Bernoulli", lambda p: D.Bernoulli(p), [[0.3, 0.9]], [[0.5, 0.2]]),
    ("Categorical", lambda p: D.Categorical(p), [[0.2, 0.3, 0.5]], [[0.4, 0.4, 0.2]]),
    ("Uniform", lambda lo, hi: D.Uniform(lo, hi), [[0.0, 1.0], [1.0, 2.0]], [[-1.0, 0.5], [2.0, 3.0]]),
    ("Beta", lambda a, b: D.Beta(a, b), [[0.5, 2.0], [1.0, 3.0]], [[2.0, 1.0], [1.5, 0.7]]),
    ("Gamma", lambda a, r: D.Gamma(a, r), [[0.5, 2.0], [1.0, 3.0]], [[2.0, 1.0], [1.5, 0.7]]),
    ("Dirichlet", lambda a: D.Dirichlet(a), [[0.5, 2.0, 1.0]], [[2.0, 1.0, 3.0]]),
    ("Exponential", lambda r: D.Exponential(r), [[0.5, 2.0]], [[2.0, 1.0]]),
    ("Laplace", lambda a, b: D.Laplace(a, b), [[0.5, -1.0], [1.0, 2.0]], [[0.0, 1.0], [2.0, 0.5]]),
    ("Poisson", lambda r: D.Poisson(r), [[0.5, 2.0]], [[2.0, 1.0]]),
    ("Geometric", lambda p: D.Geometric(p), [[0.3, 0.9]], [[0.5, 0.2]]),
    ("MultivariateNormal", lambda m, L: D.MultivariateNormal(m, scale_tril=L.tril()),
     [[0.5, -1.0], [[1.0, 0.0], [0.4, 2.0]]], [[0.0, 1.0], [[2.0, 0.0], [-0.3, 0.5]]]),
    ("Independent", lambda a, b: D.Independent(D.Normal(a, b), 1), [[0.5, -1.0], [1.0, 2.0]],
     [[0.0, 1.0], [2.0, 0.5]]),
    ("LogNormal", lambda a, b: D.LogNormal(a, b), [[0.5, -1.0], [1.0, 2.0]], [[0.0, 1.0], [2.0, 0.5]]),
    ("HalfNormal", lambda s: D.HalfNormal(s), [[0.5, 2.0]], [[2.0, 1.0]]),
    # no registered pair: the exponential-family (Bregman) divergence, as in PyTorch
    ("Wishart", lambda df, L: D.Wishart(df, scale_tril=L.tril()), [[4.5], [[1.0, 0.0], [0.4, 2.0]]],
     [[3.5], [[2.0, 0.0], [-0.3, 0.5]]]),
]


@pytest.mark.parametrize("name,make,p,q", KL_PAIRS, ids=[k[0] for k in KL_PAIRS])
def test_kl_gradcheck(name: str, make: Any, p: list[Any], q: list[Any]) -> None:
    tp = [gk.tensor(v, dtype=gk.float64, requires_grad=True) for v in p]
    tq = [gk.tensor(v, dtype=gk.float64, requires_grad=True) for v in q]
    n = len(tp)
    if name == "Uniform":   # the bounds' inequalities are steps: differentiate in q's width only
        assert gradcheck(lambda *t: D.kl_divergence(make(*tp), make(*t)), tq)
        return
    assert gradcheck(lambda *t: D.kl_divergence(make(*t[:n]), make(*t[n:])), tp + tq)


@pytest.mark.parametrize("name,make,p,q", KL_PAIRS, ids=[k[0] for k in KL_PAIRS])
def test_kl_against_torch(name: str, make: Any, p: list[Any], q: list[Any]) -> None:
    torch = pytest.importorskip("torch")
    got = D.kl_divergence(make(*[gk.tensor(v, dtype=gk.float64) for v in p]),
                          make(*[gk.tensor(v, dtype=gk.float64) for v in q]))
    # the same constructor text, evaluated on PyTorch's namespace
    import types
    tD = types.SimpleNamespace(**{k: getattr(torch.distributions, k) for k in dir(torch.distributions)})
    g = dict(make.__globals__)
    g["D"] = tD
    tmake = types.FunctionType(make.__code__, g)
    want = torch.distributions.kl_divergence(tmake(*[torch.tensor(v, dtype=torch.float64) for v in p]),
                                             tmake(*[torch.tensor(v, dtype=torch.float64) for v in q]))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10)
    assert tuple(got.shape) == tuple(want.shape)
