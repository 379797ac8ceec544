"""PyTorch's top-level linear-algebra names (``torch.det``, ``torch.inverse``, ...) and the
matching Tensor methods, routed to :mod:`gradkit.linalg`."""

from __future__ import annotations

from typing import Any

from . import _api as A
from . import linalg as L
from ._tensor import Tensor

__all__ = ["det", "inverse", "logdet", "slogdet", "pinverse", "matrix_power"]


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


for _name in __all__:
    setattr(Tensor, _name, globals()[_name])
Tensor.inverse = inverse  # type: ignore[attr-defined]
