"""``LKJCholesky(dim, concentration=1.0)``."""

from __future__ import annotations

import math
from typing import Any

import gradkit as gk

from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """Lower Cholesky factors ``L`` of ``dim x dim`` correlation matrices whose ``L L^T`` has
    density proportional to ``det(L L^T)^(eta - 1)`` (``eta`` = ``concentration``; 1 is uniform
    over correlation matrices). Sampled by the onion method (Lewandowski, Kurowicka and Joe,
    2009, section 3.2); no ``rsample``, as in PyTorch."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Any = 1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        self._beta = self._row_betas(self.concentration)
        super().__init__(self.concentration.size(), gk.Size((dim, dim)), validate_args)

    def _row_betas(self, concentration: Any) -> Beta:
        """The onion method's laws of the squared norms of the rows' off-diagonal parts: row
        ``i >= 1`` (``i`` entries) has ``Beta(i/2, eta + (dim - 2)/2 - (i - 1)/2)``; row 0's is
        a dummy, its draw unused. (PyTorch 2.13 takes ``Beta(i - 1/2, ...)``, the same for row
        1 only: its samples for ``dim >= 3`` do not follow the LKJ law, whose correlations have
        the marginal ``2 Beta(eta - 1 + dim/2, same) - 1``; test_dist_more_families checks it.)"""
        k = gk.arange(self.dim - 1, dtype=concentration.dtype)
        k = gk.cat([gk.zeros(1, dtype=concentration.dtype), k])
        marginal = concentration + 0.5 * (self.dim - 2)
        return Beta(0.5 * k + 0.5, marginal.unsqueeze(-1) - 0.5 * k)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LKJCholesky:
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = gk.Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape: Any = ()) -> Any:
        with gk.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            # row i: a uniform direction in its first i coordinates, scaled to norm sqrt(y_i);
            # the diagonal entry completes the row to unit norm
            normal = gk.randn(*self._extended_shape(sample_shape), dtype=y.dtype).tril(-1)
            norms = gk.linalg.norm(normal, dim=-1, keepdim=True)
            direction = normal / gk.where(norms > 0, norms, gk.ones_like(norms))
            w = gk.sqrt(y) * direction
            tiny = gk.finfo(w.dtype).tiny
            diag = (1 - w.pow(2).sum(-1)).clamp(min=tiny).sqrt()
            return w + gk.diag_embed(diag)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        diag = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = gk.arange(2, self.dim + 1, dtype=self.concentration.dtype)
        exponents = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (exponents * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        log_normalizer = (0.5 * dm1 * math.log(math.pi) + gk.mvlgamma(alpha - 0.5, dm1)
                          - gk.lgamma(alpha) * dm1)
        return unnormalized - log_normalizer
