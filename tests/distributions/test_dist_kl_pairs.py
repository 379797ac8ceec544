"""The registered KL divergences across families (and within Cauchy, ContinuousBernoulli,
Gumbel, Pareto, the low-rank Gaussians): against PyTorch's (importorskip), against numerical
integration of p log(p / q) (scipy.integrate, independent of both), and their gradients against
finite differences."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk
import gradkit.distributions as D
from gradkit.autograd import gradcheck


def t(x: Any) -> gk.Tensor:
    return gk.tensor(np.asarray(x, dtype=np.float64))


#: (name, p maker, p params, q maker, q params): makers take a distributions module and tensors
PAIRS: list[tuple[str, Callable[..., Any], list[Any], Callable[..., Any], list[Any]]] = [
    ("Cauchy-Cauchy", lambda M, a, b: M.Cauchy(a, b), [[0.5, -1.0], [1.0, 2.0]],
     lambda M, a, b: M.Cauchy(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("CB-CB", lambda M, a: M.ContinuousBernoulli(a), [[0.2, 0.7, 0.4995]],
     lambda M, a: M.ContinuousBernoulli(a), [[0.6, 0.1, 0.9]]),
    ("Gumbel-Gumbel", lambda M, a, b: M.Gumbel(a, b), [[0.5, -1.0], [1.0, 2.0]],
     lambda M, a, b: M.Gumbel(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Pareto-Pareto", lambda M, a, b: M.Pareto(a, b), [[1.5, 2.0], [1.0, 3.0]],
     lambda M, a, b: M.Pareto(a, b), [[1.0, 0.5], [2.0, 0.7]]),
    ("LowRank-LowRank", lambda M, m, W, d: M.LowRankMultivariateNormal(m, W, d),
     [[0.5, -1.0, 0.2], [[1.0, 0.1], [0.3, -0.5], [0.0, 0.7]], [0.5, 1.0, 2.0]],
     lambda M, m, W, d: M.LowRankMultivariateNormal(m, W, d),
     [[0.0, 1.0, 0.0], [[0.2], [0.4], [-1.0]], [1.0, 0.3, 0.8]]),
    ("MVN-LowRank", lambda M, m, L: M.MultivariateNormal(m, scale_tril=L.tril()),
     [[0.5, -1.0, 0.2], [[1.0, 0.0, 0.0], [0.3, 2.0, 0.0], [0.1, -0.4, 0.7]]],
     lambda M, m, W, d: M.LowRankMultivariateNormal(m, W, d),
     [[0.0, 1.0, 0.0], [[0.2], [0.4], [-1.0]], [1.0, 0.3, 0.8]]),
    ("LowRank-MVN", lambda M, m, W, d: M.LowRankMultivariateNormal(m, W, d),
     [[0.5, -1.0, 0.2], [[1.0, 0.1], [0.3, -0.5], [0.0, 0.7]], [0.5, 1.0, 2.0]],
     lambda M, m, L: M.MultivariateNormal(m, scale_tril=L.tril()),
     [[0.0, 1.0, 0.0], [[1.0, 0.0, 0.0], [0.3, 2.0, 0.0], [0.1, -0.4, 0.7]]]),
    ("Bernoulli-Poisson", lambda M, a: M.Bernoulli(a), [[0.3, 0.9]],
     lambda M, r: M.Poisson(r), [[0.5, 2.0]]),
    ("Beta-CB", lambda M, a, b: M.Beta(a, b), [[0.5, 2.0], [1.0, 3.0]],
     lambda M, a: M.ContinuousBernoulli(a), [[0.3, 0.8]]),
    ("Beta-Exponential", lambda M, a, b: M.Beta(a, b), [[0.5, 2.0], [1.0, 3.0]],
     lambda M, r: M.Exponential(r), [[0.5, 2.0]]),
    ("Beta-Gamma", lambda M, a, b: M.Beta(a, b), [[0.5, 2.0], [1.0, 3.0]],
     lambda M, a, r: M.Gamma(a, r), [[2.0, 0.7], [1.5, 0.4]]),
    ("Beta-Normal", lambda M, a, b: M.Beta(a, b), [[0.5, 2.0], [1.0, 3.0]],
     lambda M, a, b: M.Normal(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Beta-Uniform", lambda M, a, b: M.Beta(a, b), [[0.5, 2.0], [1.0, 3.0]],
     lambda M, lo, hi: M.Uniform(lo, hi), [[-1.0, -0.5], [1.5, 2.0]]),
    ("CB-Exponential", lambda M, a: M.ContinuousBernoulli(a), [[0.2, 0.7]],
     lambda M, r: M.Exponential(r), [[0.5, 2.0]]),
    ("CB-Normal", lambda M, a: M.ContinuousBernoulli(a), [[0.2, 0.7]],
     lambda M, a, b: M.Normal(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("CB-Uniform", lambda M, a: M.ContinuousBernoulli(a), [[0.2, 0.7]],
     lambda M, lo, hi: M.Uniform(lo, hi), [[-1.0, -0.5], [1.5, 2.0]]),
    ("Exponential-Gamma", lambda M, r: M.Exponential(r), [[0.5, 2.0]],
     lambda M, a, r: M.Gamma(a, r), [[2.0, 0.7], [1.5, 0.4]]),
    ("Exponential-Gumbel", lambda M, r: M.Exponential(r), [[0.5, 2.0]],
     lambda M, a, b: M.Gumbel(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Exponential-Normal", lambda M, r: M.Exponential(r), [[0.5, 2.0]],
     lambda M, a, b: M.Normal(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Gamma-Exponential", lambda M, a, r: M.Gamma(a, r), [[2.0, 0.7], [1.5, 0.4]],
     lambda M, r: M.Exponential(r), [[0.5, 2.0]]),
    ("Gamma-Gumbel", lambda M, a, r: M.Gamma(a, r), [[2.0, 0.7], [1.5, 0.4]],
     lambda M, a, b: M.Gumbel(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Gamma-Normal", lambda M, a, r: M.Gamma(a, r), [[2.0, 0.7], [1.5, 0.4]],
     lambda M, a, b: M.Normal(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Gumbel-Normal", lambda M, a, b: M.Gumbel(a, b), [[0.5, -1.0], [1.0, 2.0]],
     lambda M, a, b: M.Normal(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Laplace-Normal", lambda M, a, b: M.Laplace(a, b), [[0.5, -1.0], [1.0, 2.0]],
     lambda M, a, b: M.Normal(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Normal-Gumbel", lambda M, a, b: M.Normal(a, b), [[0.5, -1.0], [1.0, 2.0]],
     lambda M, a, b: M.Gumbel(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Normal-Laplace", lambda M, a, b: M.Normal(a, b), [[0.5, -1.0], [1.0, 2.0]],
     lambda M, a, b: M.Laplace(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Pareto-Exponential", lambda M, s, a: M.Pareto(s, a), [[1.5, 2.0], [1.5, 3.0]],
     lambda M, r: M.Exponential(r), [[0.5, 2.0]]),
    ("Pareto-Gamma", lambda M, s, a: M.Pareto(s, a), [[1.5, 2.0], [1.5, 3.0]],
     lambda M, a, r: M.Gamma(a, r), [[2.0, 0.7], [1.5, 0.4]]),
    ("Pareto-Normal", lambda M, s, a: M.Pareto(s, a), [[1.5, 2.0], [2.5, 3.0]],
     lambda M, a, b: M.Normal(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Uniform-Beta", lambda M, lo, hi: M.Uniform(lo, hi), [[0.1, 0.0], [0.5, 0.8]],
     lambda M, a, b: M.Beta(a, b), [[0.5, 2.0], [1.0, 3.0]]),
    ("Uniform-CB", lambda M, lo, hi: M.Uniform(lo, hi), [[0.1, 0.2], [0.5, 0.8]],
     lambda M, a: M.ContinuousBernoulli(a), [[0.3, 0.8]]),
    ("Uniform-Exponential", lambda M, lo, hi: M.Uniform(lo, hi), [[0.1, 1.0], [0.5, 3.0]],
     lambda M, r: M.Exponential(r), [[0.5, 2.0]]),
    ("Uniform-Gamma", lambda M, lo, hi: M.Uniform(lo, hi), [[0.1, 1.0], [0.5, 3.0]],
     lambda M, a, r: M.Gamma(a, r), [[2.0, 0.7], [1.5, 0.4]]),
    ("Uniform-Gumbel", lambda M, lo, hi: M.Uniform(lo, hi), [[0.1, -1.0], [0.5, 3.0]],
     lambda M, a, b: M.Gumbel(a, b), [[0.0, 1.0], [2.0, 0.5]]),
    ("Uniform-Pareto", lambda M, lo, hi: M.Uniform(lo, hi), [[1.1, 2.0], [1.5, 3.0]],
     lambda M, s, a: M.Pareto(s, a), [[1.0, 0.5], [2.0, 0.7]]),
]
IDS = [p[0] for p in PAIRS]


def _kl(pmake: Any, pp: list[Any], qmake: Any, qp: list[Any]) -> Any:
    return D.kl_divergence(pmake(D, *pp), qmake(D, *qp))


@pytest.mark.parametrize("name,pmake,pp,qmake,qp", PAIRS, ids=IDS)
def test_against_torch(name: str, pmake: Any, pp: list[Any], qmake: Any, qp: list[Any]) -> None:
    torch = pytest.importorskip("torch")
    got = _kl(pmake, [t(v) for v in pp], qmake, [t(v) for v in qp])
    T = torch.distributions
    want = T.kl_divergence(pmake(T, *[torch.tensor(v, dtype=torch.float64) for v in pp]),
                           qmake(T, *[torch.tensor(v, dtype=torch.float64) for v in qp]))
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,pmake,pp,qmake,qp", PAIRS, ids=IDS)
def test_gradcheck(name: str, pmake: Any, pp: list[Any], qmake: Any, qp: list[Any]) -> None:
    tp = [gk.tensor(v, dtype=gk.float64, requires_grad=True) for v in pp]
    tq = [gk.tensor(v, dtype=gk.float64, requires_grad=True) for v in qp]
    if name.startswith("Uniform-"):   # p's bounds enter through steps too: q's parameters only
        assert gradcheck(lambda *q: _kl(pmake, tp, qmake, list(q)), tq)
        return
    n = len(tp)
    assert gradcheck(lambda *a: _kl(pmake, list(a[:n]), qmake, list(a[n:])), tp + tq)


# --- against quadrature: KL = integral of p (log p - log q) ---------------------------------------

st = pytest.importorskip("scipy.stats")


def _quad_kl(p: Any, q: Any, lo: float, hi: float) -> float:
    from scipy.integrate import quad

    def f(x: float) -> float:
        lp = p.log_prob(t(x)).item()
        return math.exp(lp) * (lp - q.log_prob(t(x)).item())
    return quad(f, lo, hi, epsabs=1e-12, epsrel=1e-11, limit=400)[0]


QUAD = [
    (lambda: D.Cauchy(t(0.5), t(1.0)), lambda: D.Cauchy(t(-1.0), t(2.0)), -np.inf, np.inf),
    (lambda: D.ContinuousBernoulli(t(0.2)), lambda: D.ContinuousBernoulli(t(0.9)), 0.0, 1.0),
    (lambda: D.Gumbel(t(0.5), t(1.0)), lambda: D.Gumbel(t(-1.0), t(2.0)), -20.0, 60.0),
    (lambda: D.Pareto(t(1.5), t(3.0)), lambda: D.Pareto(t(1.0), t(0.7)), 1.5, np.inf),
    (lambda: D.Beta(t(2.0), t(3.0)), lambda: D.ContinuousBernoulli(t(0.3)), 0.0, 1.0),
    (lambda: D.ContinuousBernoulli(t(0.7)), lambda: D.Normal(t(0.2), t(0.5)), 0.0, 1.0),
    (lambda: D.Exponential(t(2.0)), lambda: D.Gumbel(t(1.0), t(0.5)), 0.0, 60.0),
    (lambda: D.Gamma(t(2.0), t(1.5)), lambda: D.Gumbel(t(1.0), t(2.0)), 0.0, 80.0),
    (lambda: D.Normal(t(0.5), t(1.0)), lambda: D.Gumbel(t(-1.0), t(2.0)), -30.0, 30.0),
    (lambda: D.Normal(t(0.5), t(1.3)), lambda: D.Laplace(t(-1.0), t(2.0)), -30.0, 30.0),
    (lambda: D.Pareto(t(1.5), t(3.5)), lambda: D.Normal(t(1.0), t(2.0)), 1.5, np.inf),
    (lambda: D.Uniform(t(0.1), t(0.6)), lambda: D.Beta(t(0.5), t(3.0)), 0.1, 0.6),
    (lambda: D.Uniform(t(0.5), t(3.0)), lambda: D.Gumbel(t(1.0), t(0.7)), 0.5, 3.0),
    (lambda: D.Uniform(t(1.5), t(3.0)), lambda: D.Pareto(t(1.2), t(0.7)), 1.5, 3.0),
    (lambda: D.Uniform(t(0.0), t(1.0)), lambda: D.ContinuousBernoulli(t(0.8)), 0.0, 1.0),
    (lambda: D.ContinuousBernoulli(t(0.8)), lambda: D.Uniform(t(0.0), t(1.0)), 0.0, 1.0),
]


@pytest.mark.parametrize("i", range(len(QUAD)))
def test_against_quadrature(i: int) -> None:
    """The last two touch the support's ends: finite, where PyTorch 2.13 returns inf."""
    pm, qm, lo, hi = QUAD[i]
    p, q = pm(), qm()
    np.testing.assert_allclose(D.kl_divergence(p, q).item(), _quad_kl(p, q, lo, hi), rtol=1e-7,
                               atol=1e-10)


def test_lowrank_against_dense_formula() -> None:
    """The low-rank pairs against the dense Gaussian KL computed in NumPy."""
    rng = np.random.default_rng(0)
    m1, m2 = rng.normal(size=4), rng.normal(size=4)
    W1, W2 = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    d1, d2 = rng.uniform(0.5, 2, 4), rng.uniform(0.5, 2, 4)
    S1, S2 = W1 @ W1.T + np.diag(d1), W2 @ W2.T + np.diag(d2)

    def dense(m1: Any, S1: Any, m2: Any, S2: Any) -> float:
        inv = np.linalg.inv(S2)
        dm = m2 - m1
        return 0.5 * (np.trace(inv @ S1) + dm @ inv @ dm - 4 + np.linalg.slogdet(S2)[1]
                      - np.linalg.slogdet(S1)[1])
    lr1 = D.LowRankMultivariateNormal(t(m1), t(W1), t(d1))
    lr2 = D.LowRankMultivariateNormal(t(m2), t(W2), t(d2))
    mvn1 = D.MultivariateNormal(t(m1), covariance_matrix=t(S1))
    mvn2 = D.MultivariateNormal(t(m2), covariance_matrix=t(S2))
    want = dense(m1, S1, m2, S2)
    for p, q in [(lr1, lr2), (mvn1, lr2), (lr1, mvn2)]:
        np.testing.assert_allclose(D.kl_divergence(p, q).item(), want, rtol=1e-10)


def test_infinite_pairs() -> None:
    cases = [(D.Normal(t([0.0, 1.0]), t(1.0)), D.Exponential(t(1.0))),
             (D.Gamma(t([2.0]), t(1.0)), D.Uniform(t(0.0), t(10.0))),
             (D.Poisson(t([2.0, 3.0])), D.Binomial(5, t(0.5))),
             (D.Beta(t(2.0), t(2.0)), D.Pareto(t(0.1), t(1.0))),
             (D.Pareto(t([1.0]), t([0.8])), D.Exponential(t(1.0))),   # alpha <= 1: no mean
             (D.Pareto(t(1.0), t(2.0)), D.Pareto(t(1.5), t(2.0))),     # q's support starts later
             (D.Uniform(t(-0.1), t(0.5)), D.Beta(t(2.0), t(2.0))),
             (D.Uniform(t(0.5), t(1.5)), D.Pareto(t(1.0), t(2.0))),
             (D.ContinuousBernoulli(t(0.3)), D.Uniform(t(0.1), t(2.0)))]
    for p, q in cases:
        kl = D.kl_divergence(p, q)
        assert np.isinf(kl.numpy()).all() and (kl.numpy() > 0).all(), (p, q)


def test_pareto_kl_gradient_finite_at_the_alpha_edge() -> None:
    """alpha = 1 exactly: infinite divergence, and a zero (not nan) gradient in alpha."""
    a = gk.tensor([1.0, 3.0], dtype=gk.float64, requires_grad=True)
    kl = D.kl_divergence(D.Pareto(t([1.5, 1.5]), a), D.Exponential(t(0.5)))
    assert np.isinf(kl.detach().numpy()[0])
    kl[1].backward()
    assert np.isfinite(a.grad.numpy()).all()


def test_exponential_family_fallbacks_are_differentiable_in_p() -> None:
    """The Bregman KL and the log-normalizer entropy of a family with no closed forms of its
    own (an Exponential in natural parameters): values and gradients in p's parameter against
    the analytic ones, KL = log(r_p / r_q) + r_q / r_p - 1 and H = 1 - log r."""
    from gradkit.distributions.exp_family import ExponentialFamily

    class Exp(ExponentialFamily):
        arg_constraints: dict[str, Any] = {}
        _mean_carrier_measure = 0

        def __init__(self, rate: Any) -> None:
            self.rate = rate
            super().__init__(rate.shape, validate_args=False)

        @property
        def _natural_params(self) -> tuple[Any]:
            return (-self.rate,)

        def _log_normalizer(self, x: Any) -> Any:  # type: ignore[override]
            return -gk.log(-x)

    rp = gk.tensor([0.5, 2.0], dtype=gk.float64, requires_grad=True)
    rq = gk.tensor([1.5, 0.7], dtype=gk.float64, requires_grad=True)
    kl = D.kl_divergence(Exp(rp), Exp(rq))
    a, b = rp.detach().numpy(), rq.detach().numpy()
    np.testing.assert_allclose(kl.detach().numpy(), np.log(a / b) + b / a - 1, rtol=1e-12)
    kl.sum().backward()
    np.testing.assert_allclose(rp.grad.numpy(), 1 / a - b / a ** 2, rtol=1e-12)
    np.testing.assert_allclose(rq.grad.numpy(), -1 / b + 1 / a, rtol=1e-12)
    r = gk.tensor([0.5, 2.0], dtype=gk.float64, requires_grad=True)
    h = Exp(r).entropy()
    np.testing.assert_allclose(h.detach().numpy(), 1 - np.log(a), rtol=1e-12)
    h.sum().backward()
    np.testing.assert_allclose(r.grad.numpy(), -1 / a, rtol=1e-12)


def test_lowrank_pairs_broadcast_batches() -> None:
    """Batched loc/diag with an unbatched factor, against a batch-broadcast factor and a plain
    MultivariateNormal: the dense Gaussian KL in NumPy, element by element. (PyTorch 2.13's
    LowRank/MVN pair fails on the first: it broadcasts the diagonal by the factor's batch.)"""
    rng = np.random.default_rng(1)
    m1, W1, d1 = rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), rng.uniform(0.5, 2, (2, 3))
    m2, W2, d2 = rng.normal(size=3), rng.normal(size=(2, 1, 3, 1)), rng.uniform(0.5, 2, 3)
    L = np.linalg.cholesky(np.eye(3) * 2 + 0.3)
    ds = [D.LowRankMultivariateNormal(t(m1), t(W1), t(d1)),
          D.LowRankMultivariateNormal(t(m2), t(W2), t(d2)),
          D.MultivariateNormal(t(m2), scale_tril=t(L))]

    def dense(p: Any, q: Any) -> np.ndarray:
        S1, S2 = np.broadcast_arrays(p.covariance_matrix.numpy(), q.covariance_matrix.numpy())
        inv = np.linalg.inv(S2)
        dm = np.broadcast_to(q.loc.numpy() - p.loc.numpy(), S1.shape[:-1])
        return 0.5 * (np.einsum("...ii", inv @ S1) + np.einsum("...i,...ij,...j", dm, inv, dm) - 3
                      + np.linalg.slogdet(S2)[1] - np.linalg.slogdet(S1)[1])
    for i, j in [(0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)]:
        got = D.kl_divergence(ds[i], ds[j]).numpy()
        want = dense(ds[i], ds[j])
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
