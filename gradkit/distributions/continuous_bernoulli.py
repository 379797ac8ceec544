"""``ContinuousBernoulli(probs=None, logits=None, lims=(0.499, 0.501))``."""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import gradkit as gk
import gradkit.nn.functional as F

from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """Density ``C(p) p^x (1-p)^(1-x)`` on [0, 1] (Loaiza-Ganem and Cunningham, 2019), with the
    normalizer ``C(p) = 2 artanh(1 - 2p) / (1 - 2p)``. ``probs`` is not a probability nor
    ``logits`` log-odds; the names follow :class:`Bernoulli`. Inside ``lims`` (around
    ``p = 1/2``, where the closed forms lose precision) PyTorch's Taylor expansions in
    ``p - 1/2`` are used for the normalizer, mean and variance, and forms in the natural
    parameter for ``cdf`` and ``icdf`` (hence ``rsample``), where PyTorch 2.13 takes the uniform
    law's."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs: Any = None, logits: Any = None, lims: tuple[float, float] = (0.499, 0.501),
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, Number)
            (self.probs,) = broadcast_all(probs)
            # checked before the clamp below, which would make any value pass
            if validate_args is not None and not bool(
                    self.arg_constraints["probs"].check(self.probs).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
        else:
            is_scalar = isinstance(logits, Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = gk.Size() if is_scalar else self._param.size()
        self._lims = lims
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> ContinuousBernoulli:
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        new._lims = self._lims
        batch_shape = gk.Size(batch_shape)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(batch_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(batch_shape)
            new._param = new.logits
        ExponentialFamily.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def logits(self) -> Any:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Any:
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self) -> gk.Size:
        return self._param.size()

    def _stable(self) -> Any:
        """Where ``probs`` is outside ``lims`` (the closed forms are used there)."""
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Any:
        """``probs`` with the values inside ``lims`` replaced by ``lims[0]`` (so the closed
        forms, evaluated everywhere, never divide by ``1 - 2p = 0``)."""
        return gk.where(self._stable(), self.probs, gk.full_like(self.probs, self._lims[0]))

    def _log_norm_probs(self) -> Any:
        """``log C(p)``."""
        p = self._cut_probs()
        below = p <= 0.5
        p_low = gk.where(below, p, gk.zeros_like(p))
        p_high = gk.where(p >= 0.5, p, gk.ones_like(p))
        exact = (gk.log(gk.abs(gk.log1p(-p) - gk.log(p)))
                 - gk.where(below, gk.log1p(-2.0 * p_low), gk.log(2.0 * p_high - 1.0)))
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return gk.where(self._stable(), exact, taylor)

    @property
    def mean(self) -> Any:
        p = self._cut_probs()
        exact = p / (2.0 * p - 1.0) + 1.0 / (gk.log1p(-p) - gk.log(p))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return gk.where(self._stable(), exact, taylor)

    @property
    def variance(self) -> Any:
        p = self._cut_probs()
        exact = (p * (p - 1.0) / (1.0 - 2.0 * p).pow(2)
                 + 1.0 / (gk.log1p(-p) - gk.log(p)).pow(2))
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return gk.where(self._stable(), exact, taylor)

    @property
    def stddev(self) -> Any:
        return gk.sqrt(self.variance)

    def sample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        u = gk.rand(*shape, dtype=self.probs.dtype)
        with gk.no_grad():
            return self.icdf(u)

    def rsample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        u = gk.rand(*shape, dtype=self.probs.dtype)
        return self.icdf(u)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return (-F.binary_cross_entropy_with_logits(logits, value, reduction="none")
                + self._log_norm_probs())

    def _near_half_logits(self) -> tuple[Any, Any]:
        """``logits`` (``lambda``) and the same with 1 where it is exactly 0, for the forms in
        ``lambda`` used inside ``lims``: there the density is ``lambda e^(lambda x) /
        expm1(lambda)``, whose ``expm1`` forms stay accurate as ``lambda -> 0``."""
        lam = self.logits
        zero = lam == 0
        return lam, gk.where(zero, gk.ones_like(lam), lam)

    def cdf(self, value: Any) -> Any:
        """``(p^x (1-p)^(1-x) + p - 1) / (2p - 1)``; inside ``lims`` the same function written
        ``expm1(lambda x) / expm1(lambda)`` (PyTorch returns ``x`` there, off by up to
        ``|lambda| / 8``)."""
        if self._validate_args:
            self._validate_sample(value)
        p = self._cut_probs()
        exact = (p.pow(value) * (1.0 - p).pow(1.0 - value) + p - 1.0) / (2.0 * p - 1.0)
        lam, safe = self._near_half_logits()
        near = gk.where(lam == 0, value + lam * value * (value - 1) / 2,
                        gk.expm1(safe * value) / gk.expm1(safe))
        inner = gk.where(self._stable(), exact, near)
        return gk.where(value <= 0.0, gk.zeros_like(value),
                        gk.where(value >= 1.0, gk.ones_like(value), inner))

    def icdf(self, value: Any) -> Any:
        """The inverse of :meth:`cdf`; inside ``lims`` ``log1p(u expm1(lambda)) / lambda``
        (PyTorch returns ``u`` there)."""
        p = self._cut_probs()
        exact = ((gk.log1p(-p + value * (2.0 * p - 1.0)) - gk.log1p(-p))
                 / (gk.log(p) - gk.log1p(-p)))
        lam, safe = self._near_half_logits()
        near = gk.where(lam == 0, value + lam * value * (1 - value) / 2,
                        gk.log1p(value * gk.expm1(safe)) / safe)
        return gk.where(self._stable(), exact, near)

    def entropy(self) -> Any:
        log_q = gk.log1p(-self.probs)
        log_p = gk.log(self.probs)
        return self.mean * (log_q - log_p) - self._log_norm_probs() - log_q

    @property
    def _natural_params(self) -> tuple[Any]:
        return (self.logits,)

    def _log_normalizer(self, x: Any) -> Any:  # type: ignore[override]
        """``log((e^x - 1) / x)`` in the natural parameter ``x``, with PyTorch's Taylor series
        where ``x`` is inside ``lims - 1/2``."""
        stable = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = gk.where(stable, x, gk.full_like(x, self._lims[0] - 0.5))
        exact = gk.log(gk.abs(gk.expm1(cut))) - gk.log(gk.abs(cut))
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return gk.where(stable, exact, taylor)
