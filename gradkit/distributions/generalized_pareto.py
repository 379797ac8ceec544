"""``GeneralizedPareto(loc, scale, concentration)``."""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import gradkit as gk

from . import constraints
from .distribution import Distribution, _expand_params
from .utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Survival function ``(1 + c z)^(-1/c)`` of ``z = (x - loc) / scale`` (``exp(-z)`` at
    ``c = 0``); support ``[loc, inf)`` for ``c >= 0``, ``[loc, loc - scale / c]`` for ``c < 0``.
    A concentration within 1e-8 of 0 (PyTorch's ``isclose``) takes the exponential case plus
    its first-order term in the concentration, so derivatives in the concentration are right
    there too (PyTorch's are 0 at ``c = 0``)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, concentration: Any,
                 validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        scalar = all(isinstance(v, Number) for v in (loc, scale, concentration))
        batch_shape = gk.Size() if scalar else self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> GeneralizedPareto:
        return _expand_params(self, GeneralizedPareto, batch_shape, _instance,
                              ("loc", "scale", "concentration"))

    def _zero_and_safe(self) -> tuple[Any, Any]:
        """Where the concentration counts as 0, and the concentration with 1 there."""
        c = self.concentration
        eq_zero = gk.isclose(c, gk.zeros_like(c))
        return eq_zero, gk.where(eq_zero, gk.ones_like(c), c)

    def _z(self, x: Any) -> Any:
        return (x - self.loc) / self.scale

    def rsample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        u = gk.rand(*shape, dtype=self.loc.dtype)
        return self.icdf(u)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, c = self._zero_and_safe()
        y = 1 / c + gk.ones_like(z)
        nonzero = gk.where(y == 0, y, y * gk.log1p(c * z))
        # (1/c + 1) log1p(c z) = z + c (z - z^2/2) + O(c^2)
        zero = z + self.concentration * (z - z * z / 2)
        return -self.scale.log() - gk.where(eq_zero, zero, nonzero)

    def log_survival_function(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, c = self._zero_and_safe()
        # -log1p(c z) / c = -z + c z^2/2 + O(c^2)
        return gk.where(eq_zero, -z + self.concentration * z * z / 2, -gk.log1p(c * z) / c)

    def log_cdf(self, value: Any) -> Any:
        return gk.log1p(-gk.exp(self.log_survival_function(value)))

    def cdf(self, value: Any) -> Any:
        return gk.exp(self.log_cdf(value))

    def icdf(self, value: Any) -> Any:
        eq_zero, c = self._zero_and_safe()
        log_u = gk.log1p(-value)
        nonzero = self.loc + self.scale / c * gk.expm1(-c * log_u)
        # expm1(-c log u) / c = -log u + c (log u)^2/2 + O(c^2)
        zero = self.loc - self.scale * log_u * (1 - self.concentration * log_u / 2)
        return gk.where(eq_zero, zero, nonzero)

    @property
    def mean(self) -> Any:
        # infinite mean for concentration >= 1: nan, as PyTorch
        valid = self.concentration < 1
        c = gk.where(valid, self.concentration, gk.full_like(self.concentration, 0.5))
        return gk.where(valid, self.loc + self.scale / (1 - c), gk.full_like(c, math.nan))

    @property
    def variance(self) -> Any:
        valid = self.concentration < 0.5
        c = gk.where(valid, self.concentration, gk.full_like(self.concentration, 0.25))
        var = self.scale.pow(2) / ((1 - c).pow(2) * (1 - 2 * c))
        return gk.where(valid, var, gk.full_like(var, math.nan))

    @property
    def mode(self) -> Any:
        return self.loc

    def entropy(self) -> Any:
        return gk.broadcast_to(gk.log(self.scale) + self.concentration + 1, self._batch_shape)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> Any:
        lower = self.loc
        upper = gk.where(self.concentration < 0, lower - self.scale / self.concentration,
                         gk.full_like(lower, math.inf))
        return constraints.interval(lower, upper)
