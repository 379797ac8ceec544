"""``FisherSnedecor(df1, df2)``: the F distribution."""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import gradkit as gk

from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import broadcast_all

__all__ = ["FisherSnedecor"]


class FisherSnedecor(Distribution):
    """``(X1 / df1) / (X2 / df2)`` for independent ``X1 ~ Chi2(df1)``, ``X2 ~ Chi2(df2)``: drawn
    as the ratio of ``Gamma(df/2, df)`` draws (``rsample`` through Gamma's implicit
    reparameterization)."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1: Any, df2: Any, validate_args: bool | None = None) -> None:
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        batch_shape = gk.Size() if isinstance(df1, Number) and isinstance(df2, Number) \
            else self.df1.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> FisherSnedecor:
        new = self._get_checked_instance(FisherSnedecor, _instance)
        batch_shape = gk.Size(batch_shape)
        new.df1 = self.df1.expand(batch_shape)
        new.df2 = self.df2.expand(batch_shape)
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Any:
        # undefined (nan) for df2 <= 2
        ok = self.df2 > 2
        df2 = gk.where(ok, self.df2, gk.full_like(self.df2, 3.0))
        return gk.where(ok, df2 / (df2 - 2), gk.full_like(df2, math.nan))

    @property
    def mode(self) -> Any:
        # undefined (nan) for df1 <= 2
        ok = self.df1 > 2
        df1 = gk.where(ok, self.df1, gk.full_like(self.df1, 3.0))
        mode = (df1 - 2) / df1 * self.df2 / (self.df2 + 2)
        return gk.where(ok, mode, gk.full_like(mode, math.nan))

    @property
    def variance(self) -> Any:
        # undefined (nan) for df2 <= 4
        ok = self.df2 > 4
        df2 = gk.where(ok, self.df2, gk.full_like(self.df2, 5.0))
        var = 2 * df2.pow(2) * (self.df1 + df2 - 2) / (self.df1 * (df2 - 2).pow(2) * (df2 - 4))
        return gk.where(ok, var, gk.full_like(var, math.nan))

    def _ratio(self, x1: Any, x2: Any) -> Any:
        tiny = gk.finfo(x2.dtype).tiny
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def rsample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        return self._ratio(self._gamma1.rsample(sample_shape).view(shape),
                           self._gamma2.rsample(sample_shape).view(shape))

    def sample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        with gk.no_grad():
            return self._ratio(self._gamma1.sample(sample_shape).view(shape),
                               self._gamma2.sample(sample_shape).view(shape))

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        h1 = self.df1 * 0.5
        h2 = self.df2 * 0.5
        ratio = self.df1 / self.df2
        log_beta = h1.lgamma() + h2.lgamma() - (h1 + h2).lgamma()
        return (h1 * ratio.log() + (h1 - 1) * gk.log(value) - (h1 + h2) * gk.log1p(ratio * value)
                - log_beta)
