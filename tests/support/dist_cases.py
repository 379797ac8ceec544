"""The distributions the tests build, each with parameters, values inside its support, and
how to build it from a ``distributions`` module (gradkit's or PyTorch's: same API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

A = np.array


@dataclass
class Case:
    name: str
    make: Callable[..., Any]          # make(D, **params) -> distribution
    params: dict[str, np.ndarray]
    values: np.ndarray                # points in the support, broadcastable to the batch
    grad_params: tuple[str, ...] = ()  # parameters log_prob is differentiable in
    probs: np.ndarray | None = None   # points in (0, 1) for icdf
    extra: dict[str, Any] = field(default_factory=dict)


MAT = A([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])
TRIL = np.linalg.cholesky(MAT)
P3 = A([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])

CASES = [
    Case("Normal", lambda D, loc, scale: D.Normal(loc, scale),
         {"loc": A([0.0, 1.5, -2.0]), "scale": A([1.0, 0.5, 3.0])},
         A([[0.3, 1.0, -5.0], [-1.2, 2.2, 0.0]]), ("loc", "scale"), A([0.1, 0.5, 0.93])),
    Case("Bernoulli-probs", lambda D, probs: D.Bernoulli(probs=probs), {"probs": A([0.2, 0.5, 0.9])},
         A([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), ("probs",)),
    Case("Bernoulli-logits", lambda D, logits: D.Bernoulli(logits=logits),
         {"logits": A([-1.0, 0.0, 2.5])}, A([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), ("logits",)),
    Case("Categorical-probs", lambda D, probs: D.Categorical(probs=probs), {"probs": P3},
         A([[0.0, 2.0], [1.0, 1.0]]), ("probs",)),
    Case("Categorical-logits", lambda D, logits: D.Categorical(logits=logits),
         {"logits": A([[0.5, -1.0, 2.0, 0.0]])}, A([[3.0], [0.0], [2.0]]), ("logits",)),
    Case("OneHotCategorical", lambda D, probs: D.OneHotCategorical(probs=probs), {"probs": P3},
         A([[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]]), ("probs",)),
    Case("Uniform", lambda D, low, high: D.Uniform(low, high),
         {"low": A([0.0, -1.0, 2.0]), "high": A([1.0, 3.0, 2.5])}, A([[0.5, 0.0, 2.1]]),
         ("low", "high"), A([0.1, 0.5, 0.93])),
    Case("Exponential", lambda D, rate: D.Exponential(rate), {"rate": A([0.5, 1.0, 4.0])},
         A([[0.1, 2.0, 0.7]]), ("rate",), A([0.1, 0.5, 0.93])),
    Case("Laplace", lambda D, loc, scale: D.Laplace(loc, scale),
         {"loc": A([0.0, 1.0, -1.0]), "scale": A([1.0, 0.3, 2.0])}, A([[0.4, 0.2, -4.0]]),
         ("loc", "scale"), A([0.1, 0.5, 0.93])),
    Case("Cauchy", lambda D, loc, scale: D.Cauchy(loc, scale),
         {"loc": A([0.0, 1.0, -1.0]), "scale": A([1.0, 0.3, 2.0])}, A([[0.4, 0.2, -4.0]]),
         ("loc", "scale"), A([0.1, 0.5, 0.93])),
    Case("Gamma", lambda D, concentration, rate: D.Gamma(concentration, rate),
         {"concentration": A([0.5, 2.0, 7.5]), "rate": A([1.0, 0.5, 3.0])}, A([[0.3, 4.0, 2.2]]),
         ("concentration", "rate")),
    Case("Beta", lambda D, a, b: D.Beta(a, b), {"a": A([0.5, 2.0, 5.0]), "b": A([0.7, 2.0, 1.5])},
         A([[0.3, 0.5, 0.9]]), ("a", "b")),
    Case("Dirichlet", lambda D, concentration: D.Dirichlet(concentration),
         {"concentration": A([[0.5, 2.0, 3.0], [1.0, 1.0, 1.0]])},
         A([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]), ("concentration",)),
    Case("Poisson", lambda D, rate: D.Poisson(rate), {"rate": A([0.5, 3.0, 10.0])},
         A([[0.0, 2.0, 12.0]]), ("rate",)),
    Case("Binomial", lambda D, probs: D.Binomial(10, probs=probs), {"probs": A([0.1, 0.5, 0.8])},
         A([[0.0, 5.0, 10.0], [3.0, 4.0, 7.0]]), ("probs",)),
    Case("Binomial-logits", lambda D, logits: D.Binomial(7, logits=logits),
         {"logits": A([-2.0, 0.0, 1.0])}, A([[0.0, 5.0, 7.0]]), ("logits",)),
    Case("Geometric", lambda D, probs: D.Geometric(probs=probs), {"probs": A([0.1, 0.5, 0.8])},
         A([[0.0, 3.0, 1.0]]), ("probs",)),
    Case("LogNormal", lambda D, loc, scale: D.LogNormal(loc, scale),
         {"loc": A([0.0, 1.0, -0.5]), "scale": A([1.0, 0.5, 2.0])}, A([[0.3, 2.0, 1.1]]),
         ("loc", "scale"), A([0.1, 0.5, 0.93])),
    Case("HalfNormal", lambda D, scale: D.HalfNormal(scale), {"scale": A([1.0, 0.5, 2.0])},
         A([[0.3, 2.0, 1.1]]), ("scale",), A([0.1, 0.5, 0.93])),
    Case("StudentT", lambda D, df, loc, scale: D.StudentT(df, loc, scale),
         {"df": A([0.8, 1.5, 6.0]), "loc": A([0.0, 1.0, -1.0]), "scale": A([1.0, 0.5, 2.0])},
         A([[0.3, 2.0, -1.1]]), ("df", "loc", "scale")),
    Case("Chi2", lambda D, df: D.Chi2(df), {"df": A([1.0, 2.5, 7.0])}, A([[0.3, 2.0, 6.0]]),
         ("df",)),
    Case("MultivariateNormal-cov", lambda D, loc, cov: D.MultivariateNormal(loc, covariance_matrix=cov),
         {"loc": A([0.5, -1.0, 2.0]), "cov": MAT}, A([[0.0, 0.0, 0.0], [1.0, -2.0, 2.5]]),
         ("loc", "cov")),
    Case("MultivariateNormal-tril", lambda D, loc, L: D.MultivariateNormal(loc, scale_tril=L),
         {"loc": A([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]), "L": TRIL},
         A([[0.0, 0.0, 0.0], [1.0, -2.0, 2.5]]), ("loc", "L")),
    Case("MultivariateNormal-prec", lambda D, loc, P: D.MultivariateNormal(loc, precision_matrix=P),
         {"loc": A([0.5, -1.0, 2.0]), "P": MAT}, A([[0.0, 0.0, 0.0], [1.0, -2.0, 2.5]]),
         ("loc", "P")),
    Case("Independent", lambda D, loc, scale: D.Independent(D.Normal(loc, scale), 1),
         {"loc": A([[0.0, 1.5], [-2.0, 0.1]]), "scale": A([[1.0, 0.5], [3.0, 0.2]])},
         A([[0.3, 1.0], [-5.0, 0.0]]), ("loc", "scale")),
    Case("MixtureSameFamily",
         lambda D, logits, loc, scale: D.MixtureSameFamily(D.Categorical(logits=logits),
                                                           D.Normal(loc, scale)),
         {"logits": A([[0.3, -1.0, 0.2], [0.0, 0.0, 1.0]]),
          "loc": A([[-1.0, 0.5, 3.0], [0.0, 1.0, -2.0]]), "scale": A([[0.5, 1.0, 2.0], [1.0, 0.3, 0.7]])},
         A([[0.3, 1.0], [-2.0, 0.0], [4.0, 1.5]]), ("logits", "loc", "scale")),
    Case("RelaxedBernoulli", lambda D, t, probs: D.RelaxedBernoulli(t, probs=probs),
         {"t": A(0.7), "probs": A([0.2, 0.5, 0.9])}, A([[0.3, 0.05, 0.99]]), ("t", "probs")),
    Case("RelaxedOneHotCategorical", lambda D, t, probs: D.RelaxedOneHotCategorical(t, probs=probs),
         {"t": A(0.5), "probs": P3}, A([[0.2, 0.3, 0.5], [0.05, 0.9, 0.05]]), ("t", "probs")),
    Case("TransformedDistribution-affine-tanh",
         lambda D, loc, scale: D.TransformedDistribution(
             D.Normal(loc, scale), [D.AffineTransform(0.5, 2.0), D.TanhTransform()]),
         {"loc": A([0.0, 0.3]), "scale": A([1.0, 0.5])}, A([[0.3, -0.7]]), ("loc", "scale"),
         A([0.2, 0.7])),
    Case("TransformedDistribution-sigmoid",
         lambda D, loc, scale: D.TransformedDistribution(D.Normal(loc, scale), D.SigmoidTransform()),
         {"loc": A([0.0, 0.3]), "scale": A([1.0, 0.5])}, A([[0.3, 0.9]]), ("loc", "scale"),
         A([0.2, 0.7])),
    Case("LowRankMultivariateNormal", lambda D, loc, W, d: D.LowRankMultivariateNormal(loc, W, d),
         {"loc": A([[0.5, -1.0, 2.0], [0.0, 0.1, 0.2]]), "W": A([[1.0, 0.2], [0.3, -0.5], [0.0, 0.7]]),
          "d": A([0.5, 1.0, 2.0])}, A([[0.0, 0.0, 0.0], [1.0, -2.0, 2.5]]), ("loc", "W", "d")),
    Case("Multinomial", lambda D, probs: D.Multinomial(5, probs), {"probs": P3},
         A([[1.0, 2.0, 2.0], [5.0, 0.0, 0.0]]), ("probs",)),
    Case("NegativeBinomial", lambda D, n, probs: D.NegativeBinomial(n, probs),
         {"n": A([1.0, 2.5, 7.0]), "probs": A([0.2, 0.5, 0.8])}, A([[0.0, 3.0, 12.0]]), ("n", "probs")),
    Case("NegativeBinomial-logits", lambda D, n, logits: D.NegativeBinomial(n, logits=logits),
         {"n": A([1.0, 2.5, 7.0]), "logits": A([-1.0, 0.0, 1.5])}, A([[0.0, 3.0, 12.0]]),
         ("n", "logits")),
    Case("Gumbel", lambda D, loc, scale: D.Gumbel(loc, scale),
         {"loc": A([0.0, 1.0, -1.0]), "scale": A([1.0, 0.3, 2.0])}, A([[0.4, 0.2, -4.0]]),
         ("loc", "scale"), A([0.1, 0.5, 0.93])),
    Case("HalfCauchy", lambda D, scale: D.HalfCauchy(scale), {"scale": A([1.0, 0.5, 2.0])},
         A([[0.3, 2.0, 1.1]]), ("scale",), A([0.1, 0.5, 0.93])),
    Case("Weibull", lambda D, scale, k: D.Weibull(scale, k),
         {"scale": A([1.0, 0.5, 2.0]), "k": A([0.7, 1.5, 4.0])}, A([[0.3, 2.0, 1.1]]),
         ("scale", "k"), A([0.1, 0.5, 0.93])),
    Case("Pareto", lambda D, scale, alpha: D.Pareto(scale, alpha),
         {"scale": A([1.0, 0.5, 2.0]), "alpha": A([0.7, 1.5, 4.0])}, A([[1.3, 2.0, 2.1]]),
         ("scale", "alpha"), A([0.1, 0.5, 0.93])),
    Case("InverseGamma", lambda D, a, rate: D.InverseGamma(a, rate),
         {"a": A([0.7, 2.5, 4.0]), "rate": A([1.0, 0.5, 2.0])}, A([[0.3, 2.0, 1.1]]), ("a", "rate")),
]
