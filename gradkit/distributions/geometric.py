"""``Geometric(probs=None, logits=None)``: failures before the first success."""

from __future__ import annotations

from numbers import Number
from typing import Any

import gradkit as gk
import gradkit.nn.functional as F

from . import constraints
from ._sampling import uniform_open
from .distribution import Distribution, _expand_params
from .utils import _BinaryParams, broadcast_all

__all__ = ["Geometric"]


class Geometric(_BinaryParams, Distribution):
    """``P(k) = (1 - p)^k p`` for ``k = 0, 1, 2, ...``."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        probs_or_logits = probs if probs is not None else logits
        batch_shape = gk.Size() if isinstance(probs_or_logits, Number) \
            else (self.probs if probs is not None else self.logits).size()
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            # PyTorch's extra check: p = 0 has no distribution
            value = self.probs
            valid = value > 0
            if not bool(valid.all()):
                invalid_value = value.detach()[~valid]
                raise ValueError(
                    "Expected parameter probs "
                    f"({type(value).__name__} of shape {tuple(value.shape)}) "
                    f"of distribution {repr(self)} "
                    f"to be positive but found invalid values:\n{invalid_value}")

    def expand(self, batch_shape: Any, _instance: Any = None) -> Geometric:
        return _expand_params(self, Geometric, batch_shape, _instance, ("probs", "logits"))

    @property
    def mean(self) -> Any:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Any:
        return gk.zeros_like(self.probs)

    @property
    def variance(self) -> Any:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        with gk.no_grad():
            u = uniform_open(shape, self.probs.dtype)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # p = 1 puts all mass on 0: 0 * log(0) counts as 0 there
        fail = gk.where((probs == 1) & (value == 0), gk.zeros_like(probs),
                        value * (-probs).log1p())
        return fail + self.probs.log()

    def entropy(self) -> Any:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs
