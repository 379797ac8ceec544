"""PyTorch's top-level names for functions that live in submodules (``torch.det``,
``torch.inverse``, ``torch.softmax``, ...) and the matching Tensor methods."""

from __future__ import annotations

from typing import Any

from . import _api as A
from . import linalg as L
from ._tensor import Tensor

__all__ = ["det", "inverse", "logdet", "slogdet", "pinverse", "matrix_power", "softmax",
           "log_softmax"]


def det(input: Tensor) -> Tensor:
    """Determinant of a square matrix (or a batch of them)."""
    return L.det(input)


def inverse(input: Tensor) -> Tensor:
    """Inverse of a square matrix (or a batch); a singular input raises a clear error."""
    return L.inv(input)


def slogdet(input: Tensor) -> Any:
    """``(sign, logabsdet)`` of the determinant."""
    return L.slogdet(input)


def logdet(input: Tensor) -> Tensor:
    """``log(det(input))``: nan for a negative determinant, -inf for a zero one (as PyTorch)."""
    sign, logabs = L.slogdet(input)
    return A.where(sign < 0, float("nan"), logabs)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """Moore-Penrose pseudo-inverse."""
    return L.pinv(input, rtol=rcond)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``input`` multiplied by itself ``n`` times (negative ``n`` uses the inverse)."""
    return L.matrix_power(input, n)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``, computed stably (see gradkit.nn.functional.softmax)."""
    from .nn import functional as F
    return F.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``x - logsumexp(x, dim)``, computed stably (see gradkit.nn.functional.log_softmax)."""
    from .nn import functional as F
    return F.log_softmax(input, dim, dtype=dtype)


for _name in __all__:
    setattr(Tensor, _name, globals()[_name])
Tensor.inverse = inverse  # type: ignore[attr-defined]
