"""gradkit.linalg: inverses, determinants and solves.

Part of ``gradkit.linalg`` (see its docstring).
"""

from __future__ import annotations

from typing import Any


from gradkit import _api as F
from gradkit._core.tensor import Tensor
from gradkit.ops import linalg as L
from gradkit.linalg._base import _float, _mT, _same_dtype, _slogdet_ret, _square
from gradkit._core.autocast import autocast_op

# --- inverse, determinants, solve ---------------------------------------------------------------
@autocast_op
def inv(A: Tensor) -> Tensor:
    """Inverse of a square matrix (or of each matrix in a batch).

    Parameters
    ----------
    A : Tensor
        Shape ``(*, n, n)``, real floating point.

    Returns
    -------
    Tensor
        ``A^-1``, same shape and dtype.

    Raises
    ------
    LinAlgError
        When a matrix is singular: "linalg.inv: The diagonal element 2 is zero, the
        inversion could not be completed because the input matrix is singular."

    Notes
    -----
    ``d inv(A) = -A^-T g A^-T``.

    See Also
    --------
    solve : ``inv(A) @ B`` without forming the inverse.
    pinv : for singular or non-square matrices.

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[2.0, 0.0], [0.0, 4.0]], requires_grad=True)
    >>> gk.linalg.inv(A)
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]], grad_fn=<LinalgInvExBackward0>)
    """
    return L.inv_p(_square(A, "inv", True))


def det(A: Tensor) -> Tensor:
    """Determinant of a square matrix (or of each matrix in a batch).

    Parameters
    ----------
    A : Tensor
        Shape ``(*, n, n)``.

    Returns
    -------
    Tensor
        Shape ``(*)``.

    Notes
    -----
    ``d det(A) = det(A) A^-T``, the cofactor matrix; at a singular matrix it is
    computed through the SVD, so the gradient is defined there too (as in PyTorch).

    See Also
    --------
    slogdet : the logarithm, without overflow.

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> d = gk.linalg.det(A)
    >>> d.backward()
    >>> A.grad
    tensor([[ 4., -3.],
            [-2.,  1.]])
    """
    return L.det_p(_square(A, "det", True))


def slogdet(A: Tensor) -> Any:
    """Sign and log of the absolute value of the determinant.

    Parameters
    ----------
    A : Tensor
        Shape ``(*, n, n)``.

    Returns
    -------
    (sign, logabsdet) : named tuple of Tensors
        Both of shape ``(*)``; ``det(A) = sign * exp(logabsdet)``. A singular
        matrix gives ``sign = 0`` and ``logabsdet = -inf``.

    Notes
    -----
    ``d logabsdet = A^-T``; ``sign`` is piecewise constant (gradient 0).

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.slogdet(gk.tensor([[0.0, 2.0], [1.0, 0.0]])).sign
    tensor(-1.)
    """
    sign, logabsdet = L.slogdet_p(_square(A, "slogdet", True))
    return _slogdet_ret(sign, logabsdet)


def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:
    """PyTorch's rule: ``B`` is a (batch of) vector(s) when 1-D or shaped like ``A[..., 0]``."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


@autocast_op
def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """Solve ``A X = B`` (or ``X A = B`` with ``left=False``) for square ``A``.

    Parameters
    ----------
    A : Tensor
        Shape ``(*, n, n)``.
    B : Tensor
        Shape ``(*, n, k)``, or ``(*, n)`` (a batch of vectors: 1-D, or ``A``'s shape
        without its last dimension). Batch dimensions broadcast.
    left : bool, optional
        Solve ``A X = B`` (default) or ``X A = B``.

    Returns
    -------
    Tensor
        ``X``, shaped like ``B`` after broadcasting.

    Raises
    ------
    LinAlgError
        When ``A`` is singular.

    Notes
    -----
    ``gB = solve(A^T, g)`` and ``gA = -gB X^T``.

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[2.0, 0.0], [0.0, 4.0]])
    >>> gk.linalg.solve(A, gk.tensor([1.0, 1.0]))
    tensor([0.5000, 0.2500])
    """
    a = _square(A, "solve", True)
    b = _float(B, "solve", "B", complex_ok=True)
    if isinstance(A, Tensor) and isinstance(B, Tensor):
        _same_dtype("solve", a, b)
    vector = _is_vector_rhs(a, b)
    if vector and left:
        if b.shape[-1] != a.shape[-1]:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                               f"({a.shape[-2]}x{a.shape[-1]} and {b.shape[-1]}x1)")
        return L.solve_p(a, b, vec=True)
    if vector:
        b = F.unsqueeze(b, -2)
    if not left:
        a, b = _mT(a), _mT(b)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        k = b.shape[-1] if b.ndim >= 2 else 1
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eq} "
                           f"({a.shape[-2]}x{a.shape[-1]} and {b.shape[-2] if b.ndim > 1 else b.shape[-1]}"
                           f"x{k})")
    x = L.solve_p(a, b)
    if not left:
        x = _mT(x)
    if vector:
        x = F.squeeze(x, -1 if left else -2)
    return x
