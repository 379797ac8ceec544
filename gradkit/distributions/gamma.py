"""``Gamma(concentration, rate)``, with implicitly reparameterized samples."""

from __future__ import annotations

from numbers import Number
from typing import Any

import gradkit as gk
from gradkit.ops import special as _S

from . import constraints
from ._sampling import as_dtype, np_of, rng, uniform_open
from .distribution import _expand_params
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Gamma"]


def _standard_gamma_rsample(concentration: Any, shape: Any) -> Any:
    """Standard Gamma(concentration) draws of ``shape`` whose gradient in ``concentration`` is
    the implicit reparameterization one: x = P^-1(concentration, u) with u ~ U(0, 1), so
    dx/da = -(dP/da) / (dP/dx) at the drawn point (``ops.special.gamma_reparam``, SciPy)."""
    u = uniform_open(shape, concentration.dtype)
    x = _S.gamma_reparam(concentration.expand(shape), u)
    return x.clamp(min=gk.finfo(x.dtype).tiny)


def _standard_gamma_sample(concentration: Any, shape: Any) -> Any:
    """Standard Gamma(concentration) draws of ``shape`` without gradient (NumPy's sampler)."""
    a = np_of(concentration.expand(shape))
    x = rng().standard_gamma(a)
    out = as_dtype(x, concentration.dtype)
    return out.clamp(min=gk.finfo(out.dtype).tiny)


class Gamma(ExponentialFamily):
    """Density ``rate^a x^(a-1) exp(-rate x) / Gamma(a)`` (``a`` = ``concentration``).

    ``rsample`` is differentiable in both parameters (implicit reparameterization, through
    SciPy's incomplete gamma function); ``sample`` needs only NumPy."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        batch_shape = gk.Size() if isinstance(concentration, Number) and isinstance(rate, Number) \
            else self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Gamma:
        return _expand_params(self, Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self) -> Any:
        return self.concentration / self.rate

    @property
    def mode(self) -> Any:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Any:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma_rsample(self.concentration, shape) / self.rate.expand(shape)
        return value.clamp(min=gk.finfo(value.dtype).tiny)

    def sample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        with gk.no_grad():
            value = _standard_gamma_sample(self.concentration, shape) / self.rate.expand(shape)
            return value.clamp(min=gk.finfo(value.dtype).tiny)

    def log_prob(self, value: Any) -> Any:
        value = gk.as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (gk.xlogy(self.concentration, self.rate) + gk.xlogy(self.concentration - 1, value)
                - self.rate * value - gk.lgamma(self.concentration))

    def entropy(self) -> Any:
        return (self.concentration - gk.log(self.rate) + gk.lgamma(self.concentration)
                + (1.0 - self.concentration) * gk.digamma(self.concentration))

    @property
    def _natural_params(self) -> tuple[Any, Any]:
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return gk.lgamma(x + 1) + (x + 1) * gk.log(-y.reciprocal())

    def cdf(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        return _S.gammainc(self.concentration, self.rate * value)
