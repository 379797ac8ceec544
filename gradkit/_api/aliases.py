"""PyTorch's top-level names for functions that live in submodules (``torch.det``,
``torch.inverse``, ``torch.softmax``, ...) and the matching Tensor methods."""

from __future__ import annotations

from typing import Any

from gradkit import _api as A
from gradkit import linalg as L
from gradkit._core.creation import zeros as _zeros
from gradkit._core.tensor import Tensor
from gradkit.linalg._base import _return_type, _square
from gradkit._core.autocast import autocast_op

_LA = L                                  # NOTE: cholesky_solve's argument is named L, as in torch

__all__ = ["det", "inverse", "logdet", "slogdet", "pinverse", "matrix_power", "softmax",
           "log_softmax", "cholesky_solve", "triangular_solve", "matrix_exp", "svd"]

_svd_ret = _return_type("svd", ["U", "S", "V"])


def det(input: Tensor) -> Tensor:
    """Determinant of a square matrix (or a batch of them)."""
    return L.det(input)


@autocast_op
def inverse(input: Tensor) -> Tensor:
    """Inverse of a square matrix (or a batch); a singular input raises a clear error."""
    return L.inv(input)


@autocast_op
def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """Solve ``A X = B`` given the Cholesky factor of ``A`` (``torch.cholesky_solve``)."""
    return _LA.cholesky_solve(B, L, upper)


@autocast_op
def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> Any:
    """``(solution, cloned_coefficient)`` of a triangular system (``torch.triangular_solve``)."""
    return L.triangular_solve(b, A, upper, transpose, unitriangular)


def matrix_exp(input: Tensor) -> Tensor:
    """The matrix exponential (``torch.matrix_exp``)."""
    return L.matrix_exp(input)


@autocast_op
def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> Any:
    """``(U, S, V)`` with ``input = U diag(S) V^H`` (``torch.svd``, the older form of
    ``torch.linalg.svd``: ``V`` rather than ``Vh``; ``some=False`` gives full ``U`` and ``V``).

    With ``compute_uv=False`` only ``S`` is computed; ``U`` and ``V`` are zero matrices of
    shapes ``(*, m, m)`` and ``(*, n, n)``, as in PyTorch.
    """
    if compute_uv:
        u, s, vh = L.svd(input, full_matrices=not some)
        return _svd_ret(u, s, vh.mH)
    s = L.svdvals(input)
    *batch, m, n = input.shape
    return _svd_ret(_zeros(*batch, m, m, dtype=input.dtype), s,
                    _zeros(*batch, n, n, dtype=input.dtype))


def slogdet(input: Tensor) -> Any:
    """``(sign, logabsdet)`` of the determinant."""
    return L.slogdet(input)


def logdet(input: Tensor) -> Tensor:
    """``log(det(input))``: nan for a negative determinant, -inf for a zero one (as PyTorch);
    complex for a complex input (``logabsdet + i angle(det)``; ``-inf+nanj`` where singular)."""
    sign, logabs = L.slogdet(_square(input, "logdet:", True))
    if sign.is_complex():
        out = A.add(logabs, A.log(sign))
        return A.where(sign == 0, complex(float("-inf"), float("nan")), out)
    return A.where(sign < 0, float("nan"), logabs)


@autocast_op
def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """Moore-Penrose pseudo-inverse."""
    return L.pinv(input, rtol=rcond)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``input`` multiplied by itself ``n`` times (negative ``n`` uses the inverse)."""
    return L.matrix_power(input, n)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``, computed stably (see gradkit.nn.functional.softmax)."""
    from gradkit.nn import functional as F
    return F.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``x - logsumexp(x, dim)``, computed stably (see gradkit.nn.functional.log_softmax)."""
    from gradkit.nn import functional as F
    return F.log_softmax(input, dim, dtype=dtype)


for _name in __all__:
    setattr(Tensor, _name, globals()[_name])
Tensor.inverse = inverse  # type: ignore[attr-defined]
