"""``NegativeBinomial(total_count, probs=None, logits=None)``."""

from __future__ import annotations

from typing import Any

import gradkit as gk
import gradkit.nn.functional as F

from . import constraints
from ._sampling import as_dtype, rng
from .distribution import Distribution, _expand_params
from .utils import _BinaryParamsShaped, broadcast_all

__all__ = ["NegativeBinomial"]


class NegativeBinomial(_BinaryParamsShaped, Distribution):
    """Failures before ``total_count`` successes, each trial succeeding with ``probs``
    (PyTorch's convention: mean ``total_count * exp(logits)``)."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.type_as(self.probs)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.type_as(self.logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> NegativeBinomial:
        new = _expand_params(self, NegativeBinomial, batch_shape, _instance,
                             ("total_count", "probs", "logits"))
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        return new

    @property
    def mean(self) -> Any:
        return self.total_count * gk.exp(self.logits)

    @property
    def mode(self) -> Any:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Any:
        return self.mean / gk.sigmoid(-self.logits)

    def sample(self, sample_shape: Any = ()) -> Any:
        # a Gamma-Poisson mixture: rate ~ Gamma(total_count, exp(-logits)), k ~ Poisson(rate)
        shape = self._extended_shape(sample_shape)
        with gk.no_grad():
            n = self.total_count.expand(shape).numpy().astype("float64")
            odds = gk.exp(self.logits).expand(shape).numpy().astype("float64")
            rate = rng().standard_gamma(n) * odds
            return as_dtype(rng().poisson(rate), self._param.dtype)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = (self.total_count * F.logsigmoid(-self.logits)
                                 + value * F.logsigmoid(self.logits))
        log_normalization = (-gk.lgamma(self.total_count + value) + gk.lgamma(1.0 + value)
                             + gk.lgamma(self.total_count))
        # total_count = value = 0 is the point mass at 0: log 1
        log_normalization = gk.where(self.total_count + value == 0.0,
                                     gk.zeros_like(log_normalization), log_normalization)
        return log_unnormalized_prob - log_normalization
