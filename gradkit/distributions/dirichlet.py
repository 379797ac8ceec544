"""``Dirichlet(concentration)``."""

from __future__ import annotations

from typing import Any

import gradkit as gk
import gradkit.nn.functional as F

from . import constraints
from .distribution import _expand_params
from .exp_family import ExponentialFamily
from .gamma import _standard_gamma_rsample, _standard_gamma_sample

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """Distribution on the simplex with density proportional to ``prod x_i^(a_i - 1)``.

    ``rsample`` normalizes implicitly reparameterized Gamma draws (``x = g / sum(g)``), an
    unbiased reparameterization gradient; PyTorch differentiates the marginal Beta CDFs
    instead, so a single sample's gradient differs from PyTorch's while its expectation
    agrees."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Any, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Dirichlet:
        return _expand_params(self, Dirichlet, batch_shape, _instance, ("concentration",))

    def rsample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        g = _standard_gamma_rsample(self.concentration, shape)
        x = g / g.sum(-1, keepdim=True)
        return x.clamp(min=gk.finfo(x.dtype).tiny)

    def sample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        with gk.no_grad():
            g = _standard_gamma_sample(self.concentration, shape)
            x = g / g.sum(-1, keepdim=True)
            return x.clamp(min=gk.finfo(x.dtype).tiny)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        return (gk.xlogy(self.concentration - 1.0, value).sum(-1)
                + gk.lgamma(self.concentration.sum(-1)) - gk.lgamma(self.concentration).sum(-1))

    @property
    def mean(self) -> Any:
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self) -> Any:
        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, True)
        # all concentrations below 1: the density is unbounded at every vertex; PyTorch's
        # answer, kept here, is the first vertex
        mask = (self.concentration < 1).all(dim=-1, keepdim=True)
        vertex = F.one_hot(gk.zeros(mode.shape[:-1], dtype=gk.long), mode.shape[-1])
        return gk.where(mask, vertex.to(mode.dtype), mode)

    @property
    def variance(self) -> Any:
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self) -> Any:
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (gk.lgamma(self.concentration).sum(-1) - gk.lgamma(a0)
                - (k - a0) * gk.digamma(a0)
                - ((self.concentration - 1.0) * gk.digamma(self.concentration)).sum(-1))

    @property
    def _natural_params(self) -> tuple[Any]:
        return (self.concentration,)

    def _log_normalizer(self, x: Any) -> Any:  # type: ignore[override]
        return x.lgamma().sum(-1) - gk.lgamma(x.sum(-1))
