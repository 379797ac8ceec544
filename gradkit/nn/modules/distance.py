"""Distance layers: ``CosineSimilarity``, ``PairwiseDistance``."""

from __future__ import annotations

from typing import Any

from gradkit.nn import functional as F

from .activation import _Fn

__all__ = [
    "CosineSimilarity", "PairwiseDistance",
]


class CosineSimilarity(_Fn):
    _name, _keys = "cosine_similarity", ("dim", "eps")

    def extra_repr(self) -> str:   # PyTorch shows no arguments
        return ""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps


class PairwiseDistance(_Fn):
    _name, _keys = "pairwise_distance", ("norm", "eps", "keepdim")

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Any, x2: Any) -> Any:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

    def extra_repr(self) -> str:   # PyTorch shows no arguments
        return ""
