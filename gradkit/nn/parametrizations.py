"""``nn.utils.parametrizations``: parametrizations built on ``nn.utils.parametrize``."""

from __future__ import annotations


from gradkit._core.tensor import Tensor

from .modules.module import Module
from .parametrize import register_parametrization

__all__ = ["weight_norm"]


class _WeightNorm(Module):
    """``weight = v * g / ||v||`` (norm over every dimension but ``dim``; -1: over all)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        from .utils import _norm_except_dim
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        from .utils import _norm_except_dim
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as a magnitude ``original0`` (g) and a direction
    ``original1`` (v), under ``module.parametrizations.<name>``."""
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module
