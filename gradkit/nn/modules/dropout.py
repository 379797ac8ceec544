"""Channel and alpha dropouts (``Dropout`` itself is in ``linear.py``)."""

from __future__ import annotations

from gradkit._core.tensor import Tensor
from gradkit.nn import functional as F

from .linear import Dropout  # noqa: F401  (PyTorch's path: torch.nn.modules.dropout.Dropout)
from .module import Module

__all__ = [
    "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
]


class _DropoutNd(Module):
    _fn = "dropout"

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._fn)(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` in training mode."""

    _fn = "dropout1d"


class Dropout2d(_DropoutNd):
    """Zero whole channels of ``(N, C, H, W)`` in training mode."""

    _fn = "dropout2d"


class Dropout3d(_DropoutNd):
    """Zero whole channels of ``(N, C, D, H, W)`` in training mode."""

    _fn = "dropout3d"


class AlphaDropout(_DropoutNd):
    """Alpha dropout (keeps SELU's self-normalizing statistics) in training mode."""

    _fn = "alpha_dropout"


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels in training mode."""

    _fn = "feature_alpha_dropout"
