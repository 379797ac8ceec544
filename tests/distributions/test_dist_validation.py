"""Argument and sample validation (PyTorch's ValueError messages), repr, set_default_validate_args,
expand and the Distribution base class's errors."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import gradkit as gk
import gradkit.distributions as D


def t(x: Any) -> gk.Tensor:
    return gk.tensor(np.asarray(x, dtype=np.float32))


def test_import_paths() -> None:
    import gradkit as torch
    from gradkit.distributions import Categorical
    from gradkit.distributions.categorical import Categorical as C2
    from gradkit.distributions.normal import Normal
    assert Categorical is C2 and torch.distributions.Normal is Normal
    assert torch.distributions.constraints.positive.check(t(1.0)).item()


def test_parameter_out_of_its_constraint() -> None:
    with pytest.raises(ValueError, match=re.escape(
            "Expected parameter scale (Tensor of shape (2,)) of distribution "
            "Normal(loc: torch.Size([2]), scale: torch.Size([2])) to satisfy the constraint "
            "GreaterThan(lower_bound=0.0), but found invalid values:")):
        D.Normal(t([0.0, 0.0]), t([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"Expected parameter probs .* Simplex\(\)"):
        D.Categorical(probs=t([[0.5, -0.5, 1.0]]))
    with pytest.raises(ValueError, match="Uniform is not defined when low>= high"):
        D.Uniform(t(1.0), t(0.0))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Bernoulli(probs=t(0.5), logits=t(0.0))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix"):
        D.MultivariateNormal(t([0.0, 0.0]))
    with pytest.raises(ValueError, match="PositiveDefinite"):
        D.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims <= len"):
        D.Independent(D.Normal(t([0.0]), t([1.0])), 2)


def test_validation_off() -> None:
    d = D.Normal(t(0.0), t(-1.0), validate_args=False)      # no error: asked for
    assert np.isnan(d.log_prob(t(0.0)).item())
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(t(0.0), t(-1.0))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(t(0.0), t(-1.0))
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")  # type: ignore[arg-type]


def test_value_outside_the_support() -> None:
    with pytest.raises(ValueError, match=re.escape(
            "Expected value argument (Tensor of shape (2,)) to be within the support "
            "(GreaterThanEq(lower_bound=0.0)) of the distribution Exponential(rate: 1.0), "
            "but found invalid values:")):
        D.Exponential(t(1.0)).log_prob(t([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"IntegerInterval\(lower_bound=0, upper_bound=2\)"):
        D.Categorical(t([0.2, 0.3, 0.5])).log_prob(gk.tensor(3))
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        D.Normal(t(0.0), t(1.0)).log_prob(0.5)
    with pytest.raises(ValueError, match=re.escape(
            "Value is not broadcastable with batch_shape+event_shape: torch.Size([3]) vs "
            "torch.Size([2]).")):
        D.Normal(t([0.0, 0.0]), t([1.0, 1.0])).log_prob(t([0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="The right-most size of value must match event_shape"):
        D.MultivariateNormal(t([0.0, 0.0]), scale_tril=gk.eye(2)).log_prob(t([0.0, 0.0, 0.0]))


def test_messages_match_torch() -> None:
    torch = pytest.importorskip("torch")
    cases = [
        lambda L: L.distributions.Normal(L.tensor([0.0, 0.0]), L.tensor([1.0, -1.0])),
        lambda L: L.distributions.Gamma(L.tensor(-1.0), L.tensor(1.0)),
        lambda L: L.distributions.Beta(L.tensor([1.0]), L.tensor([0.0])),
        lambda L: L.distributions.Exponential(L.tensor(1.0)).log_prob(L.tensor([1.0, -1.0])),
        lambda L: L.distributions.Poisson(L.tensor(2.0)).log_prob(L.tensor(1.5)),
        lambda L: L.distributions.Dirichlet(L.tensor([1.0, 2.0])).log_prob(L.tensor([0.5, 0.6])),
        lambda L: L.distributions.Bernoulli(probs=L.tensor(0.3)).log_prob(L.tensor(2.0)),
        lambda L: L.distributions.Binomial(5, probs=L.tensor(0.3)).log_prob(L.tensor(6.0)),
        lambda L: L.distributions.Geometric(probs=L.tensor(0.0)),
        lambda L: L.distributions.Independent(L.distributions.Normal(L.zeros(2), 1.0), 2),
        lambda L: L.distributions.MixtureSameFamily(L.distributions.Normal(0.0, 1.0),
                                                    L.distributions.Normal(0.0, 1.0)),
        lambda L: L.distributions.Categorical(L.tensor(0.5)),
        lambda L: L.distributions.MultivariateNormal(L.tensor(0.0), L.eye(1)),
    ]
    for make in cases:
        with pytest.raises(ValueError) as want:
            make(torch)
        with pytest.raises(ValueError) as got:
            make(gk)
        assert str(got.value) == str(want.value)


def test_repr_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    makers = [
        lambda L: L.distributions.Normal(0.0, 1.0),
        lambda L: L.distributions.Normal(L.zeros(1), 1.0),
        lambda L: L.distributions.Normal(L.zeros(3), L.ones(3)),
        lambda L: L.distributions.Categorical(probs=L.tensor([0.2, 0.8])),
        lambda L: L.distributions.Bernoulli(logits=L.tensor(0.5)),
        lambda L: L.distributions.Gamma(L.tensor(2.0), L.tensor(3.0)),
        lambda L: L.distributions.Beta(L.tensor(2.0), L.tensor(3.0)),
        lambda L: L.distributions.Independent(L.distributions.Normal(L.zeros(3), 1.0), 1),
        lambda L: L.distributions.MultivariateNormal(L.zeros(2), scale_tril=L.eye(2)),
        lambda L: L.distributions.MixtureSameFamily(L.distributions.Categorical(L.ones(2)),
                                                    L.distributions.Normal(L.zeros(2), 1.0)),
        lambda L: L.distributions.constraints.interval(0.0, 2.0),
        lambda L: L.distributions.constraints.independent(L.distributions.constraints.positive, 1),
        lambda L: L.distributions.ComposeTransform([L.distributions.ExpTransform(),
                                                    L.distributions.SigmoidTransform()]),
        lambda L: L.distributions.ExpTransform().inv,
    ]
    for make in makers:
        assert repr(make(gk)) == repr(make(torch))


def test_base_class_errors() -> None:
    class Bare(D.Distribution):
        arg_constraints: dict[str, Any] = {}

    d = Bare()
    for fn in (lambda: d.rsample(), lambda: d.sample(), lambda: d.log_prob(t(0.0)), lambda: d.mean,
               lambda: d.variance, lambda: d.entropy(), lambda: d.cdf(t(0.0)), lambda: d.icdf(t(0.0))):
        with pytest.raises(NotImplementedError):
            fn()
    with pytest.raises(NotImplementedError, match="does not implement mode"):
        _ = d.mode

    class Custom(D.Normal):
        def __init__(self, loc: Any) -> None:
            super().__init__(loc, 1.0)

    with pytest.raises(NotImplementedError, match="Subclass Custom of Normal that defines a custom "
                                                  "__init__ method must also define a custom .expand"):
        Custom(t([0.0])).expand((2, 1))


def test_expand_keeps_values_and_shares_parameters() -> None:
    loc = gk.tensor([0.0, 1.0], requires_grad=True)
    d = D.Normal(loc, 1.0).expand((3, 2))
    assert d.batch_shape == gk.Size([3, 2])
    d.log_prob(gk.zeros(3, 2)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [0.0, -3.0])


def test_sample_shapes() -> None:
    d = D.MultivariateNormal(gk.zeros(4, 3), scale_tril=gk.eye(3))
    assert d.sample().shape == gk.Size([4, 3])
    assert d.sample((5, 2)).shape == gk.Size([5, 2, 4, 3])
    assert d.sample(gk.Size([7])).shape == gk.Size([7, 4, 3])
    assert d.log_prob(d.sample((5,))).shape == gk.Size([5, 4])
    e = D.Normal(0.0, 1.0)
    assert e.batch_shape == gk.Size([]) and e.sample().shape == gk.Size([])
    assert D.Bernoulli(t([0.1, 0.9])).enumerate_support().shape == gk.Size([2, 2])
    with pytest.warns(UserWarning, match="sample_n will be deprecated"):
        assert e.sample_n(4).shape == gk.Size([4])


def test_kl_registry() -> None:
    class MyNormal(D.Normal):
        pass

    # a subclass uses its parent's rule
    p, q = MyNormal(t(0.0), t(1.0)), MyNormal(t(1.0), t(2.0))
    base = D.kl_divergence(D.Normal(t(0.0), t(1.0)), D.Normal(t(1.0), t(2.0)))
    np.testing.assert_allclose(D.kl_divergence(p, q).item(), base.item())

    @D.register_kl(MyNormal, MyNormal)
    def _kl(p: Any, q: Any) -> Any:
        return gk.tensor(42.0)

    assert D.kl_divergence(p, q).item() == 42.0
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type "
                                                  "Normal and q type Cauchy"):
        D.kl_divergence(D.Normal(t(0.0), t(1.0)), D.Cauchy(t(0.0), t(1.0)))
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl_divergence(D.Beta(t(1.0), t(1.0)), D.Dirichlet(t([1.0, 2.0])))


def test_kl_infinite_where_supports_differ() -> None:
    assert D.kl_divergence(D.Uniform(t(0.0), t(2.0)), D.Uniform(t(0.5), t(3.0))).item() == float("inf")
    assert D.kl_divergence(D.Bernoulli(t(0.5)), D.Bernoulli(t(0.0))).item() == float("inf")
    assert D.kl_divergence(D.Bernoulli(t(0.0)), D.Bernoulli(t(0.5))).item() == pytest.approx(np.log(2))
    assert D.kl_divergence(D.Categorical(t([0.5, 0.5, 0.0])),
                           D.Categorical(t([0.5, 0.0, 0.5]))).item() == float("inf")
    assert D.kl_divergence(D.Normal(t(0.0), t(1.0)), D.Uniform(t(0.0), t(1.0))).item() == float("inf")
