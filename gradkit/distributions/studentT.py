"""``StudentT(df, loc=0.0, scale=1.0)``."""

from __future__ import annotations

import math
from typing import Any

import gradkit as gk

from . import constraints
from .chi2 import Chi2
from .distribution import Distribution, _expand_params
from .utils import _standard_normal, broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, location ``loc`` and scale ``scale``."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0,
                 validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        batch_shape = self.df.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> StudentT:
        new = _expand_params(self, StudentT, batch_shape, _instance, ("df", "loc", "scale"))
        new._chi2 = self._chi2.expand(gk.Size(batch_shape))
        return new

    @property
    def mean(self) -> Any:
        m = self.loc.clone()
        return gk.where(self.df <= 1, gk.full_like(m, math.nan), m)

    @property
    def mode(self) -> Any:
        return self.loc

    @property
    def variance(self) -> Any:
        df = self.df
        m = self.scale.pow(2) * df / (df - 2)
        m = gk.where(df <= 2, gk.full_like(m, math.inf), m)
        return gk.where(df <= 1, gk.full_like(m, math.nan), m)

    def rsample(self, sample_shape: Any = ()) -> Any:
        # X ~ Normal(0, 1), Z ~ Chi2(df): Y = X / sqrt(Z / df) ~ StudentT(df)
        shape = self._extended_shape(sample_shape)
        X = _standard_normal(shape, self.df.dtype)
        Z = self._chi2.rsample(sample_shape)
        Y = X * gk.rsqrt(Z / self.df)
        return self.loc + self.scale * Y

    def sample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        with gk.no_grad():
            X = _standard_normal(shape, self.df.dtype)
            Z = self._chi2.sample(sample_shape)
            return self.loc + self.scale * X * gk.rsqrt(Z / self.df)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        Z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + gk.lgamma(0.5 * self.df) - gk.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * gk.log1p(y ** 2.0 / self.df) - Z

    def entropy(self) -> Any:
        lbeta = gk.lgamma(0.5 * self.df) + math.lgamma(0.5) - gk.lgamma(0.5 * (self.df + 1))
        return (self.scale.log()
                + 0.5 * (self.df + 1) * (gk.digamma(0.5 * (self.df + 1)) - gk.digamma(0.5 * self.df))
                + 0.5 * self.df.log() + lbeta)

