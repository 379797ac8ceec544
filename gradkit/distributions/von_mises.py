"""``VonMises(loc, concentration)``: the circular normal distribution."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import gradkit as gk

from . import constraints
from ._sampling import as_dtype, np_of, rng
from .distribution import Distribution, _expand_params
from .utils import broadcast_all

__all__ = ["VonMises"]


def _log_i0(x: Any) -> Any:
    """``log I0(x)`` for ``x >= 0``, from the exponentially scaled Bessel row (no overflow)."""
    return gk.log(gk.special.i0e(x)) + x


def _best_fisher(loc: np.ndarray, kappa: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    """Von Mises draws by Best and Fisher's rejection sampler (Applied Statistics 28, 1979),
    in float64, on ``loc``'s shape; the result is wrapped into [-pi, pi)."""
    # the wrapped-Cauchy envelope's parameter r (Taylor 1/kappa + kappa for tiny kappa, where
    # the closed form cancels)
    tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
        r = np.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))
    shape = loc.shape
    kappa, r = kappa.ravel(), r.ravel()
    out = np.zeros(kappa.shape)
    todo = np.arange(kappa.size)
    while todo.size:
        k, rr = kappa[todo], r[todo]
        u1, u2, u3 = gen.random((3, todo.size))
        z = np.cos(math.pi * u1)
        f = (1 + rr * z) / (rr + z)
        c = k * (rr - f)
        with np.errstate(divide="ignore"):
            accept = (c * (2 - c) - u2 > 0) | (np.log(c / u2) + 1 - c >= 0)
        out[todo[accept]] = (np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1.0, 1.0)))[accept]
        todo = todo[~accept]
    wrapped = np.mod(out.reshape(shape) + math.pi + loc, 2 * math.pi) - math.pi
    # np.mod can round up to 2 pi exactly
    return np.where(wrapped >= math.pi, wrapped - 2 * math.pi, wrapped)


class VonMises(Distribution):
    """Density ``exp(kappa cos(x - loc)) / (2 pi I0(kappa))``; ``loc`` and values are angles
    (any real, read modulo 2 pi), samples lie in [-pi, pi). ``mean`` and ``variance`` are the
    circular ones. No ``rsample`` (the sampler rejects), as in PyTorch.

    ``log I0`` is SciPy-accurate here (``special.i0e``); PyTorch 2.13 uses a polynomial
    approximation good to about 1e-7, so the two differ in the last digits."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, gk.Size(), validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> VonMises:
        return _expand_params(self, VonMises, batch_shape, _instance, ("loc", "concentration"))

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        return (self.concentration * gk.cos(value - self.loc) - math.log(2 * math.pi)
                - _log_i0(self.concentration))

    def sample(self, sample_shape: Any = ()) -> Any:
        shape = self._extended_shape(sample_shape)
        with gk.no_grad():
            loc = np.broadcast_to(np_of(self.loc), shape)
            kappa = np.broadcast_to(np_of(self.concentration), shape)
            return as_dtype(_best_fisher(loc, kappa, rng()), self.loc.dtype)

    @property
    def mean(self) -> Any:
        return self.loc

    @property
    def mode(self) -> Any:
        return self.loc

    @property
    def variance(self) -> Any:
        """The circular variance ``1 - I1(kappa) / I0(kappa)``."""
        k = self.concentration
        return 1 - gk.special.i1e(k) / gk.special.i0e(k)
