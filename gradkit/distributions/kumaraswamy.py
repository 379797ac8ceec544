"""``Kumaraswamy(concentration1, concentration0)``."""

from __future__ import annotations

import math
from typing import Any

import gradkit as gk

from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .uniform import Uniform
from .utils import broadcast_all, euler_constant

__all__ = ["Kumaraswamy"]


def _moment(a: Any, b: Any, n: int) -> Any:
    """``E[X^n] = b B(1 + n/a, b)``."""
    arg = 1 + n / a
    return b * gk.exp(gk.lgamma(arg) + gk.lgamma(b) - gk.lgamma(arg + b))


class Kumaraswamy(TransformedDistribution):
    """Density ``a b x^(a-1) (1 - x^a)^(b-1)`` on [0, 1] (``a`` = ``concentration1``, ``b`` =
    ``concentration0``): ``(1 - U^(1/b))^(1/a)`` for ``U ~ Uniform(0, 1)``."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval  # type: ignore[assignment]
    has_rsample = True  # type: ignore[assignment]

    def __init__(self, concentration1: Any, concentration0: Any,
                 validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base_dist = Uniform(gk.full_like(self.concentration0, 0),
                            gk.full_like(self.concentration0, 1), validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Kumaraswamy:
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = self.concentration1.expand(batch_shape)
        new.concentration0 = self.concentration0.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def mean(self) -> Any:
        return _moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> Any:
        """``((a - 1) / (a b - 1))^(1/a)`` for ``a >= 1`` and ``b >= 1`` (not both 1), else nan.
        (PyTorch 2.13 writes this as ``exp(log1p(-b) / b - log1p(-a b))``, which is nan for
        every valid parameter; gradkit returns the mode.)"""
        a, b = self.concentration1, self.concentration0
        valid = (a >= 1) & (b >= 1) & ((a > 1) | (b > 1))
        one = gk.ones_like(a)
        a_safe = gk.where(valid, a, one * 2)
        b_safe = gk.where(valid, b, one * 2)
        mode = ((a_safe - 1) / (a_safe * b_safe - 1)).pow(a_safe.reciprocal())
        return gk.where(valid, mode, gk.full_like(mode, math.nan))

    @property
    def variance(self) -> Any:
        return _moment(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    def entropy(self) -> Any:
        a, b = self.concentration1, self.concentration0
        harmonic_b = gk.digamma(b + 1) + euler_constant
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic_b - gk.log(a) - gk.log(b)
