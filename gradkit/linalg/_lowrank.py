"""``torch.svd_lowrank`` and ``torch.pca_lowrank``: randomized low-rank SVD (Halko, Martinsson
and Tropp 2009, algorithms 4.4 and 5.1), made of differentiable gradkit operations.

The sketch is drawn from gradkit's generator (``gk.manual_seed`` makes it repeatable); PyTorch
draws from its own, so the bases differ between the libraries while the singular values of a
matrix of rank at most ``q`` agree.
"""

from __future__ import annotations

from typing import Any

from gradkit._core.tensor import Tensor

__all__ = ["svd_lowrank", "pca_lowrank"]


def _floating(A: Tensor) -> Any:
    from gradkit._core.dtype import float32
    return A.dtype if A.dtype.is_floating_point or A.dtype.is_complex else float32


def _approximate_basis(A: Tensor, q: int, niter: int = 2, M: Tensor | None = None) -> Tensor:
    """An orthonormal ``Q`` (``n x q``) with ``Q Q^H (A - M)`` close to ``A - M``: a Gaussian
    sketch of the range, refined by ``niter`` subspace iterations."""
    from gradkit import linalg
    from gradkit._core.creation import randn
    R = randn(A.shape[-1], q, dtype=_floating(A))
    X = A @ R if M is None else A @ R - M @ R
    Q = linalg.qr(X).Q
    for _ in range(niter):
        X = A.mH @ Q if M is None else A.mH @ Q - M.mH @ Q
        Q = linalg.qr(X).Q
        X = A @ Q if M is None else A @ Q - M @ Q
        Q = linalg.qr(X).Q
    return Q


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2,
                M: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """``(U, S, V)`` with ``A - M ~ U diag(S) V^H``, ``U`` ``m x q``, ``S`` ``q``, ``V`` ``n x q``
    (batches too), from a randomized range finder with ``niter`` subspace iterations."""
    from gradkit import linalg
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    if m < n:
        A = A.mH
        M = None if M is None else M.mH
    Q = _approximate_basis(A, q, niter=niter, M=M)
    B = Q.mH @ A if M is None else Q.mH @ A - Q.mH @ M
    U, S, Vh = linalg.svd(B, full_matrices=False)
    V = Vh.mH
    U = Q @ U
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True,
                niter: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """``svd_lowrank`` of the column-centered ``A`` (``center=True``): ``V``'s columns are the
    principal directions, ``S**2 / (m - 1)`` the variances along them; ``q`` defaults to
    ``min(6, m, n)``."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter, M=None)
    C = A.mean(dim=(-2,), keepdim=True)
    return svd_lowrank(A - C, q, niter=niter, M=None)
