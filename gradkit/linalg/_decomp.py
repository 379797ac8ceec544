"""gradkit.linalg: factorizations (Cholesky, QR, eigh, SVD, pinv, ...).

Part of ``gradkit.linalg`` (see its docstring).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit import _api as F
from gradkit._core.tensor import Tensor, _make
from gradkit.ops import linalg as L
from gradkit.linalg._base import _array, _eigh_ret, _matrix, _qr_ret, _square, _svd_ret
from gradkit._core.autocast import autocast_op

# --- factorizations -----------------------------------------------------------------------------
@autocast_op
def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """Cholesky factor of a symmetric positive-definite matrix.

    Parameters
    ----------
    A : Tensor
        Shape ``(*, n, n)``; only the lower triangle is read (the upper with ``upper=True``).
    upper : bool, optional
        Return ``U = L^T`` with ``A = U^T U`` instead of ``L`` with ``A = L L^T``.

    Returns
    -------
    Tensor
        Triangular, shape ``(*, n, n)``.

    Raises
    ------
    LinAlgError
        When ``A`` is not positive-definite (the message names the leading minor).

    Notes
    -----
    Murray (2016), arXiv:1602.07527, as in PyTorch: ``gA = L^-T Phi(L^T gL) L^-1``
    symmetrized, a symmetric gradient (the input is taken to be symmetric).

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.cholesky(gk.tensor([[4.0, 2.0], [2.0, 2.0]]))
    tensor([[2., 0.],
            [1., 1.]])
    """
    a = _square(A, "cholesky", True)
    if upper:                       # U = L^H of A^H's lower triangle (A's upper one)
        return L.cholesky_upper_p(a)
    return L.cholesky_p(a)


@autocast_op
def qr(A: Tensor, mode: str = "reduced") -> Any:
    """QR decomposition ``A = Q R`` (Householder, LAPACK's sign convention).

    Parameters
    ----------
    A : Tensor
        Shape ``(*, m, n)``.
    mode : {"reduced", "complete", "r"}, optional
        ``Q`` of shape ``(*, m, k)`` and ``R`` of ``(*, k, n)`` with ``k = min(m, n)``;
        ``"complete"`` gives ``Q`` of ``(*, m, m)`` and ``R`` of ``(*, m, n)``; ``"r"``
        returns an empty ``Q`` and the reduced ``R``.

    Returns
    -------
    (Q, R) : named tuple of Tensors

    Notes
    -----
    For ``m >= n``: ``M = R gR^H - gQ^H Q`` and ``gA = (gQ + Q copyltu(M)) R^-H``; wide
    inputs split ``A = Q [U | V]`` as PyTorch does. ``mode="complete"`` with ``m > n`` is
    not differentiable (the extra columns of ``Q`` are not unique), and neither is ``mode="r"``
    (its backward raises PyTorch's error, as PyTorch computes no ``Q`` to differentiate with).

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[3.0, 1.0], [4.0, 2.0], [0.0, 1.0]])
    >>> Q, R = gk.linalg.qr(A)
    >>> Q.shape, R.shape, gk.allclose(Q @ R, A)
    (torch.Size([3, 2]), torch.Size([2, 2]), True)
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                           "(default), 'r', or 'complete'")
    a = _matrix(A, "qr", True)
    q, r = L.qr_p(a, mode=mode)
    if mode == "r":
        q = _make(np.empty((0,), dtype=a._data.dtype), False, None)
    return _qr_ret(q, r)


def _uplo(UPLO: str) -> str:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO


@autocast_op
def eigh(A: Tensor, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric (Hermitian) matrix.

    Parameters
    ----------
    A : Tensor
        Shape ``(*, n, n)``, real or complex; only one triangle is read.
    UPLO : {"L", "U"}, optional
        Which triangle.

    Returns
    -------
    (eigenvalues, eigenvectors) : named tuple of Tensors
        Shapes ``(*, n)`` and ``(*, n, n)``, ``A = V diag(w) V^T``. Each eigenvector's
        sign is LAPACK's choice.

    Raises
    ------
    RuntimeError
        In backward, when eigenvalues are repeated and the loss reaches their
        eigenvectors (which are then not unique), or, for complex inputs, when the loss
        depends on the eigenvectors' phases (``v -> v e^{i phi}``).

    Notes
    -----
    ``gA = V (diag(gw) + F o skew(V^H gV)) V^H`` with ``F_ij = 1 / (w_j - w_i)``: a
    symmetric (Hermitian) gradient, as in PyTorch. Losses that do not depend on the
    signs (phases) of the eigenvectors have well-defined gradients. ``numpy.linalg.eigh``
    called on a tensor gives NumPy's one-triangle gradient instead.

    See Also
    --------
    eigvalsh : eigenvalues only (differentiable at repeated eigenvalues).

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.eigh(gk.tensor([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
    tensor([1., 3.])
    """
    w, v = L.eigh_p(_square(A, "eigh", True), UPLO=_uplo(UPLO))
    return _eigh_ret(w, v)


@autocast_op
def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """Eigenvalues of a symmetric matrix, ascending; shape ``(*, n)``.

    The gradient ``V diag(gw) V^T`` is defined at repeated eigenvalues too.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.eigvalsh(gk.tensor([[2.0, 0.0], [0.0, 1.0]]))
    tensor([1., 2.])
    """
    return L.eigh_p(_square(A, "eigh", True), UPLO=_uplo(UPLO))[0]     # PyTorch names eigh


def _no_driver(driver: Any, name: str) -> None:
    if driver is not None:
        raise RuntimeError(f"torch.linalg.{name}: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")


@autocast_op
def svd(A: Tensor, full_matrices: bool = True, *, driver: Any = None) -> Any:
    """Singular value decomposition ``A = U diag(S) Vh``.

    Parameters
    ----------
    A : Tensor
        Shape ``(*, m, n)``, real or complex.
    full_matrices : bool, optional
        ``U`` of ``(*, m, m)`` and ``Vh`` of ``(*, n, n)`` (default), else ``(*, m, k)``
        and ``(*, k, n)`` with ``k = min(m, n)``.
    driver : None
        Only ``None`` (PyTorch accepts others on CUDA only).

    Returns
    -------
    (U, S, Vh) : named tuple of Tensors
        ``S`` descending, shape ``(*, k)``.

    Raises
    ------
    RuntimeError
        In backward, when singular values are repeated and the loss reaches their
        singular vectors; when a non-square matrix has a zero singular value and the
        loss reaches the extra singular vectors; when the loss reaches the columns
        that ``full_matrices=True`` adds; for complex inputs, when the loss depends on
        the joint phase of a ``(u_i, v_i)`` pair.

    Notes
    -----
    PyTorch's rule: ``gA = U [(skew(U^H gU) S + S skew(V^H gV)) / E + diag(gS)] Vh``
    with ``E_ij = s_j^2 - s_i^2``, plus ``i Im(diag(U^H gU)) / S`` on the diagonal for
    complex inputs and the part of ``gU`` (``gVh``) outside the span of ``U`` (``V``)
    for tall (wide) inputs. Losses that do not depend on the joint sign (phase) of each
    ``(u_i, v_i)`` pair have well-defined gradients.

    See Also
    --------
    svdvals : singular values only (differentiable at repeated values).

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.svd(gk.tensor([[3.0, 0.0], [0.0, -2.0]])).S
    tensor([3., 2.])
    """
    _no_driver(driver, "svd")
    u, s, vh = L.svd_p(_matrix(A, "svd", True), full_matrices=bool(full_matrices))
    return _svd_ret(u, s, vh)


@autocast_op
def svdvals(A: Tensor, *, driver: Any = None) -> Tensor:
    """Singular values, descending; shape ``(*, min(m, n))``.

    The gradient ``U diag(gS) Vh`` is defined at repeated singular values too.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.svdvals(gk.tensor([[0.0, 2.0], [1.0, 0.0]]))
    tensor([2., 1.])
    """
    _no_driver(driver, "svdvals")
    return L.svd_p(_matrix(A, "svd", True), full_matrices=False)[1]     # PyTorch names svd


def _tolerances(a: Tensor, atol: Any, rtol: Any) -> tuple[Any, Any]:
    """PyTorch's defaults: ``rtol = eps * max(m, n)`` unless ``atol > 0`` alone is given."""
    default = float(np.finfo(a._data.dtype).eps * max(a.shape[-2:]))
    atol = 0.0 if atol is None else _array(atol)
    if rtol is None:
        rtol = np.where(np.asarray(atol) > 0, 0.0, default) if np.ndim(atol) else \
            (0.0 if atol > 0 else default)
    else:
        rtol = _array(rtol)
    return atol, rtol


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """Moore-Penrose pseudoinverse.

    Parameters
    ----------
    A : Tensor
        Shape ``(*, m, n)``.
    atol, rtol : float, array or Tensor, optional
        Singular values at most ``max(atol, rtol * s_max)`` are treated as zero. By
        default ``rtol = eps * max(m, n)``, or 0 when only ``atol > 0`` is given.
    hermitian : bool, optional
        ``A`` is symmetric (an eigendecomposition of its lower triangle is used).

    Returns
    -------
    Tensor
        Shape ``(*, n, m)``.

    Notes
    -----
    Golub & Pereyra's formula (PyTorch's ``pinv_backward``), exact while the rank does
    not change; it needs no distinct singular values.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.pinv(gk.tensor([[2.0, 0.0], [0.0, 0.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.0000]])
    """
    t = A if isinstance(A, Tensor) else F.as_tensor_arg(A)
    if t.ndim < 2 or t._data.dtype == np.float16:
        raise RuntimeError(f"linalg.pinv({t.dtype._legacy[:-6]}{{{list(t.shape)}}}): expected a tensor "
                           "with 2 or more dimensions of float, double, cfloat or cdouble types")
    a = _matrix(t, "pinv", True)
    atol, rtol = _tolerances(a, atol, rtol)
    return L.pinv_p(a, atol=atol, rtol=rtol, hermitian=bool(hermitian))


@autocast_op
def matrix_rank(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """Numerical rank: the number of singular values above ``max(atol, rtol * s_max)``.

    Tolerances as in :func:`pinv`. Returns an int64 tensor of shape ``(*)``.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.matrix_rank(gk.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor(1)
    """
    t = A if isinstance(A, Tensor) else F.as_tensor_arg(A)
    if t.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 "
                           "dimensions.")
    a = _matrix(t, "matrix_rank", True)
    atol, rtol = _tolerances(a, atol, rtol)
    x = a._data
    s = np.abs(np.linalg.eigvalsh(x)) if hermitian else L._svd_impl(x, full_matrices=False)[1]
    smax = s.max(axis=-1) if s.shape[-1] else np.zeros(s.shape[:-1])
    cutoff = np.maximum(atol, rtol * smax)
    return _make(np.asarray(np.sum(s > cutoff[..., None], axis=-1), dtype=np.int64), False, None)


def _numpy_hermitian(a: Tensor, UPLO: str = "L") -> Tensor:
    """The Hermitian matrix that ``numpy.linalg.eigh(a, UPLO)`` reads: one triangle, mirrored.

    NumPy (LAPACK) reads only the ``UPLO`` triangle (and the real part of the diagonal), so
    NumPy code differentiated through it gets a one-triangle gradient: zero in the other
    strict triangle, twice the Hermitian gradient in the read one. ``gradkit.linalg.eigh``
    keeps PyTorch's Hermitian gradient instead.
    """
    t = _square(a, "eigh", True)
    tri = t.tril(-1) if _uplo(UPLO) == "L" else t.triu(1)
    d = t.diagonal(dim1=-2, dim2=-1)
    return tri + tri.mH + L._diag_embed(d.real if t.is_complex() else d)
