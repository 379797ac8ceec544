"""``Categorical(probs=None, logits=None)``."""

from __future__ import annotations

from typing import Any

import numpy as np

import gradkit as gk

from . import constraints
from ._sampling import rng
from .distribution import Distribution, _expand_params
from .utils import lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Categorical"]


def _draw_categories(probs: Any, n: int) -> np.ndarray:
    """``n`` category indices per row of ``probs`` (shape ``(rows, K)``), by inverse CDF: the
    index is the number of cumulative probabilities at or below a uniform draw (vectorized,
    in chunks of about a million comparisons)."""
    p = np.asarray(probs.detach().numpy(), dtype=np.float64)
    p = p / p.sum(-1, keepdims=True)
    cdf = np.cumsum(p, axis=-1)
    cdf[:, -1] = 1.0
    rows, k = p.shape
    u = rng().random((n, rows))
    out = np.empty((n, rows), dtype=np.int64)
    step = max(1, 2 ** 20 // max(1, rows * k))
    for start in range(0, n, step):
        chunk = u[start:start + step]
        out[start:start + step] = (cdf[None, :, :] <= chunk[:, :, None]).sum(-1)
    # u < 1 = the last cumulative probability, so the index is at most k - 1
    return out


class Categorical(Distribution):
    """One of ``K`` categories with probabilities ``probs`` (rows normalized) or
    ``softmax(logits)`` along the last dimension."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.ndimension() > 1 else gk.Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Categorical:
        new = _expand_params(self, type(self) if _instance is None else Categorical, batch_shape,
                             _instance, ("probs", "logits"))
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> Any:
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self) -> Any:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Any:
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> gk.Size:
        return self._param.size()

    @property
    def mean(self) -> Any:
        return gk.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self) -> Any:
        return self.probs.argmax(dim=-1)

    @property
    def variance(self) -> Any:
        return gk.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape: Any = ()) -> Any:
        if not isinstance(sample_shape, gk.Size):
            sample_shape = gk.Size(sample_shape)
        probs_2d = self.probs.reshape(-1, self._num_events)
        n = int(np.prod(tuple(sample_shape), dtype=np.int64))
        draws = _draw_categories(probs_2d, n)
        return gk.as_tensor(draws).reshape(self._extended_shape(sample_shape))

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = gk.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self) -> Any:
        min_real = gk.finfo(self.logits.dtype).min
        logits = gk.clamp(self.logits, min=min_real)
        p_log_p = logits * self.probs
        return -p_log_p.sum(-1)

    def enumerate_support(self, expand: bool = True) -> Any:
        num_events = self._num_events
        values = gk.arange(num_events, dtype=gk.long)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
