"""Linear algebra with PyTorch's ``torch.linalg`` names, signatures and return types.

Inverses, determinants, solves and the decompositions (Cholesky, QR,
symmetric eigendecomposition, SVD, pseudoinverse) are fused primitives of the
derivative table (``gradkit/ops/linalg.py``): one LAPACK call forward, a
closed-form rule backward, written in table ops so that ``create_graph=True``
gives second derivatives. Norms, powers, ``lstsq`` and ``cross`` are
compositions of those. Every function accepts leading batch dimensions where
PyTorch does, and float32 stays float32.

Singular inputs raise :class:`LinAlgError` (a ``RuntimeError``) with
PyTorch's message. A gradient that is not defined (eigenvectors of a
repeated eigenvalue, singular vectors of a repeated singular value) raises a
``RuntimeError`` that names the problem instead of returning NaN.
"""

from __future__ import annotations

import operator
from collections import namedtuple
from typing import Any, Sequence

import numpy as np

from . import _api as F
from ._tensor import Tensor, _make
from .ops import linalg as L
from .ops import reduction as R
from .ops import shape as S
from .ops.linalg import LinAlgError

__all__ = ["LinAlgError", "inv", "det", "slogdet", "solve", "cholesky", "qr", "eigh", "eigvalsh",
           "svd", "svdvals", "pinv", "matrix_rank", "norm", "vector_norm", "matrix_norm",
           "matrix_power", "lstsq", "cross", "vecdot", "multi_dot", "matmul", "diagonal",
           "solve_triangular", "matrix_exp", "lu", "lu_factor", "lu_factor_ex", "lu_solve",
           "cholesky_ex", "inv_ex", "solve_ex", "cond", "vander", "householder_product",
           "tensorinv", "tensorsolve", "cholesky_solve", "triangular_solve"]

_INF = float("inf")


def _return_type(name: str, fields: Sequence[str]) -> Any:
    """A named tuple that prints as ``gradkit.return_types.<name>(...)``, like PyTorch's."""
    def __repr__(self: Any) -> str:
        body = ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"gradkit.return_types.{name}(\n{body})"
    base = namedtuple(name, fields)  # type: ignore[misc]
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                                "__module__": "gradkit.return_types"})


_slogdet_ret = _return_type("linalg_slogdet", ["sign", "logabsdet"])
_qr_ret = _return_type("linalg_qr", ["Q", "R"])
_eigh_ret = _return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
_svd_ret = _return_type("linalg_svd", ["U", "S", "Vh"])
_lstsq_ret = _return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


# --- argument checks, with PyTorch's messages -------------------------------------------------
def _float(x: Any, name: str, arg: str = "input") -> Tensor:
    """``x`` as a Tensor; it must hold real floating-point numbers."""
    t = x if isinstance(x, Tensor) else F.as_tensor_arg(x)
    if t.is_complex():
        raise NotImplementedError(f"linalg.{name}: complex inputs are not supported yet; "
                                  "pass a real floating-point tensor")
    if not t.is_floating_point():
        kind = t.dtype._legacy[: -len("Tensor")]
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as {arg}. "
                           f"Got {kind}")
    return t


def _matrix(x: Any, name: str) -> Tensor:
    t = _float(x, name)
    if t.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    return t


def _square(x: Any, name: str) -> Tensor:
    t = _matrix(x, name)
    if t.shape[-1] != t.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{t.shape[-2]} by {t.shape[-1]} matrices")
    return t


def _mT(x: Tensor) -> Tensor:
    return F.transpose(x, -2, -1)


def _array(v: Any) -> Any:
    """A tolerance (number, array or Tensor) as a float or an ndarray (no gradient)."""
    if isinstance(v, Tensor):
        return v._data
    return v if isinstance(v, (int, float)) else np.asarray(v, dtype=np.float64)


# --- inverse, determinants, solve ---------------------------------------------------------------
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
    return L.inv_p(_square(A, "inv"))


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
    return L.det_p(_square(A, "det"))


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
    sign, logabsdet = L.slogdet_p(_square(A, "slogdet"))
    return _slogdet_ret(sign, logabsdet)


def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:
    """PyTorch's rule: ``B`` is a (batch of) vector(s) when 1-D or shaped like ``A[..., 0]``."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


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
    a = _square(A, "solve")
    b = _float(B, "solve", "B")
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


# --- factorizations -----------------------------------------------------------------------------
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
    a = _square(A, "cholesky")
    if upper:
        return _mT(L.cholesky_p(_mT(a)))
    return L.cholesky_p(a)


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
    For ``m >= n``: ``M = R gR^T - gQ^T Q`` and ``gA = (gQ + Q copyltu(M)) R^-T``; wide
    inputs split ``A = Q [U | V]`` as PyTorch does. ``mode="complete"`` with ``m > n`` is
    not differentiable (the extra columns of ``Q`` are not unique); unlike PyTorch,
    ``mode="r"`` is.

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[3.0, 1.0], [4.0, 2.0], [0.0, 1.0]])
    >>> Q, R = gk.linalg.qr(A)
    >>> Q.shape, R.shape, gk.allclose(Q @ R, A)
    (gradkit.Size([3, 2]), gradkit.Size([2, 2]), True)
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                           "(default), 'r', or 'complete'")
    a = _matrix(A, "qr")
    q, r = L.qr_p(a, mode="complete" if mode == "complete" else "reduced")
    if mode == "r":
        q = _make(np.empty((0,), dtype=a._data.dtype), False, None)
    return _qr_ret(q, r)


def _uplo(UPLO: str) -> str:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO


def eigh(A: Tensor, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix.

    Parameters
    ----------
    A : Tensor
        Shape ``(*, n, n)``; only one triangle is read.
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
        eigenvectors (which are then not unique).

    Notes
    -----
    ``gA = V (diag(gw) + F o skew(V^T gV)) V^T`` with ``F_ij = 1 / (w_j - w_i)``: a
    symmetric gradient, as in PyTorch. Losses that do not depend on the signs of
    the eigenvectors have well-defined gradients.

    See Also
    --------
    eigvalsh : eigenvalues only (differentiable at repeated eigenvalues).

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.eigh(gk.tensor([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
    tensor([1., 3.])
    """
    w, v = L.eigh_p(_square(A, "eigh"), UPLO=_uplo(UPLO))
    return _eigh_ret(w, v)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """Eigenvalues of a symmetric matrix, ascending; shape ``(*, n)``.

    The gradient ``V diag(gw) V^T`` is defined at repeated eigenvalues too.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.eigvalsh(gk.tensor([[2.0, 0.0], [0.0, 1.0]]))
    tensor([1., 2.])
    """
    return L.eigh_p(_square(A, "eigvalsh"), UPLO=_uplo(UPLO))[0]


def _no_driver(driver: Any, name: str) -> None:
    if driver is not None:
        raise RuntimeError(f"torch.linalg.{name}: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")


def svd(A: Tensor, full_matrices: bool = True, *, driver: Any = None) -> Any:
    """Singular value decomposition ``A = U diag(S) Vh``.

    Parameters
    ----------
    A : Tensor
        Shape ``(*, m, n)``.
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
        that ``full_matrices=True`` adds.

    Notes
    -----
    PyTorch's rule: ``gA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] Vh``
    with ``E_ij = s_j^2 - s_i^2``, plus the part of ``gU`` (``gVh``) outside the span
    of ``U`` (``V``) for tall (wide) inputs. Losses that do not depend on the joint
    sign of each ``(u_i, v_i)`` pair have well-defined gradients.

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
    u, s, vh = L.svd_p(_matrix(A, "svd"), full_matrices=bool(full_matrices))
    return _svd_ret(u, s, vh)


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
    return L.svd_p(_matrix(A, "svdvals"), full_matrices=False)[1]


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
    a = _matrix(A, "pinv")
    atol, rtol = _tolerances(a, atol, rtol)
    return L.pinv_p(a, atol=atol, rtol=rtol, hermitian=bool(hermitian))


def matrix_rank(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """Numerical rank: the number of singular values above ``max(atol, rtol * s_max)``.

    Tolerances as in :func:`pinv`. Returns an int64 tensor of shape ``(*)``.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.matrix_rank(gk.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor(1)
    """
    a = _matrix(A, "matrix_rank")
    atol, rtol = _tolerances(a, atol, rtol)
    x = a._data
    s = np.abs(np.linalg.eigvalsh(x)) if hermitian else np.linalg.svd(x, compute_uv=False)
    smax = s.max(axis=-1) if s.shape[-1] else np.zeros(s.shape[:-1])
    cutoff = np.maximum(atol, rtol * smax)
    return _make(np.asarray(np.sum(s > cutoff[..., None], axis=-1), dtype=np.int64), False, None)


# --- norms ------------------------------------------------------------------------------------
def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """Vector norm over ``dim`` (all elements by default): ``sum(|x|^ord)^(1/ord)``.

    Parameters
    ----------
    x : Tensor
        Any shape.
    ord : float, optional
        Any real number; ``inf`` (max ``|x|``), ``-inf`` (min ``|x|``), ``0`` (number of
        nonzeros).
    dim : int or tuple of int, optional
        Dims to reduce; ``None`` reduces all.
    keepdim : bool, optional
        Keep the reduced dims with size 1.
    dtype : gradkit dtype, optional
        Cast ``x`` first.

    Notes
    -----
    The 2-norm of a zero vector has gradient 0 (PyTorch's convention); ties in the
    ``inf`` norms share the gradient equally.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.vector_norm(gk.tensor([3.0, -4.0]))
    tensor(5.)
    """
    t = x if isinstance(x, Tensor) else F.as_tensor_arg(x)
    if dtype is not None:
        t = t.to(dtype)
    t = _float(t, "vector_norm")
    if isinstance(ord, str) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, "
                        f"not {type(ord).__name__}")
    return R.norm_p(t, ord=float(ord), dim=S.norm_dims(dim, t.ndim), keepdim=keepdim)


def _drop(x: Tensor, dims: tuple[int, ...]) -> Tensor:
    """Remove the size-1 dims ``dims`` (as a reshape)."""
    return F.reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in dims))


def _insert(x: Tensor, dims: tuple[int, ...]) -> Tensor:
    """Insert size-1 dims at ``dims`` (ascending positions in the result)."""
    for d in sorted(dims):
        x = F.unsqueeze(x, d)
    return x


def _is_matrix_ord(ord: Any) -> bool:
    if isinstance(ord, str):
        return ord in ("fro", "nuc")
    return isinstance(ord, (int, float, np.number)) and not isinstance(ord, bool) and \
        ord in (1, -1, 2, -2, _INF, -_INF)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1), keepdim: bool = False,
                *, dtype: Any = None) -> Tensor:
    """Matrix norm over the two dims ``dim``.

    Parameters
    ----------
    A : Tensor
        Shape ``(*, m, n)`` (with the matrix dims where ``dim`` says).
    ord : {"fro", "nuc", 1, -1, 2, -2, inf, -inf}, optional
        Frobenius; nuclear (sum of singular values); max / min column sum of ``|A|``;
        largest / smallest singular value; max / min row sum of ``|A|``.
    dim : pair of int, optional
        The row and column dims.
    keepdim : bool, optional
        Keep both dims with size 1.
    dtype : gradkit dtype, optional
        Cast ``A`` first.

    Notes
    -----
    ``"nuc"`` and ``+-2`` go through :func:`svdvals`; ``+-1`` and ``+-inf`` through
    ``amax``/``amin`` of absolute sums (ties share the gradient).

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[1.0, -2.0], [3.0, 4.0]])
    >>> gk.linalg.matrix_norm(A, 1), gk.linalg.matrix_norm(A, float("inf"))
    (tensor(6.), tensor(7.))
    """
    a = A if isinstance(A, Tensor) else F.as_tensor_arg(A)
    if dtype is not None:
        a = a.to(dtype)
    a = _matrix(a, "matrix_norm")
    if not _is_matrix_ord(ord):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {tuple(dim)}")
    d0, d1 = (S.norm_dim(int(d), a.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    pair = tuple(sorted((d0, d1)))
    if ord == "fro":
        return R.norm_p(a, ord=2.0, dim=pair, keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(F.movedim(a, (d0, d1), (-2, -1)))
        out = F.sum(s, -1) if ord == "nuc" else (F.amax if ord == 2 else F.amin)(s, -1)
        return _insert(out, pair) if keepdim else out
    inner, outer = (d0, d1) if abs(ord) == 1 else (d1, d0)      # sum over rows, max over columns
    sums = F.sum(F.abs(a), inner, keepdim=True)
    out = (F.amax if ord > 0 else F.amin)(sums, outer, keepdim=True)
    return out if keepdim else _drop(out, pair)


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """Vector or matrix norm, chosen as PyTorch does.

    With ``dim`` an int or 1-tuple: :func:`vector_norm`; a 2-tuple: :func:`matrix_norm`.
    Without ``dim``: the 2-norm of all elements when ``ord`` is None, else a vector
    norm of a 1-D input or a matrix norm of a 2-D input.

    Parameters
    ----------
    A : Tensor
    ord : float or str, optional
        As in :func:`vector_norm` or :func:`matrix_norm`.
    dim : int or tuple of int, optional
    keepdim : bool, optional
    dtype : gradkit dtype, optional

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[3.0, 0.0], [0.0, 4.0]])
    >>> gk.linalg.norm(A), gk.linalg.norm(A, 2), gk.linalg.norm(A, "nuc")
    (tensor(5.), tensor(4.), tensor(7.))
    """
    a = A if isinstance(A, Tensor) else F.as_tensor_arg(A)
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(a, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(a, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if ord is None:
        return vector_norm(a, 2, None, keepdim, dtype=dtype)
    if a.ndim == 1 and not isinstance(ord, str):
        return vector_norm(a, ord, None, keepdim, dtype=dtype)
    if a.ndim == 2:
        return matrix_norm(a, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D "
                       f"(a matrix ord such as {ord!r} needs 2D). Got {a.ndim}D.")


# --- compositions -------------------------------------------------------------------------------
def matrix_power(A: Tensor, n: int) -> Tensor:
    """``A`` multiplied by itself ``n`` times; ``n = 0`` gives the identity, ``n < 0``
    powers of ``inv(A)``. Uses repeated squaring.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.matrix_power(gk.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    a = _square(A, "matrix_power")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, not {type(n).__name__}")
    n = operator.index(n)
    if n == 0:
        # NOTE: the identity, still on the graph (gradient 0, as in PyTorch), even where A holds nan
        eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a._data.dtype), a.shape)
        never = _make(np.zeros(a.shape, dtype=bool), False, None)
        return F.where(never, a, _make(np.ascontiguousarray(eye), False, None))
    if n < 0:
        a, n = inv(a), -n
    result = None
    while True:
        if n & 1:
            result = a if result is None else F.matmul(result, a)
        n >>= 1
        if not n:
            return result
        a = F.matmul(a, a)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> Any:
    """Least-squares solution of ``A X = B`` (the minimum-norm one when ``A`` is rank deficient).

    Parameters
    ----------
    A : Tensor
        Shape ``(*, m, n)``.
    B : Tensor
        Shape ``(*, m, k)`` or ``(*, m)``; batch dims broadcast.
    rcond : float, optional
        Singular values below ``rcond * s_max`` count as zero (default ``eps * max(m, n)``).
    driver : {"gelsy", "gels", "gelsd", "gelss"}, optional
        Which outputs are filled, as in PyTorch on the CPU (default ``"gelsy"``).

    Returns
    -------
    (solution, residuals, rank, singular_values) : named tuple of Tensors
        ``solution`` of shape ``(*, n, k)`` (or ``(*, n)``); ``residuals``, the squared
        residual norms of each column, only when ``m > n``, ``A`` has full rank and the
        driver is not ``"gelsy"`` (else empty); ``rank`` (int64) unless the driver is
        ``"gels"``; ``singular_values`` for ``"gelsd"``/``"gelss"`` only.

    Notes
    -----
    Computed as ``pinv(A) @ B``: ``solution`` and ``residuals`` are differentiable in
    ``A`` and ``B`` while the rank does not change.

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    >>> gk.linalg.lstsq(A, gk.tensor([1.0, 2.0, 3.0])).solution
    tensor([1., 2.])
    """
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of "
                           "(gels, gelsy, gelsd, gelss)")
    a = _matrix(A, "lstsq")
    b = _float(B, "lstsq", "B")
    vector = _is_vector_rhs(a, b)
    if vector:
        b = F.unsqueeze(b, -1)
    m, n = a.shape[-2], a.shape[-1]
    if b.ndim < 2 or b.shape[-2] != m:
        raise RuntimeError(f"linalg.lstsq: input.size(-2) should match other.size(-2) (got {m} and "
                           f"{b.shape[-2] if b.ndim > 1 else b.shape[-1]})")
    rtol = float(np.finfo(a._data.dtype).eps * max(m, n)) if rcond is None or rcond < 0 else rcond
    x = F.matmul(L.pinv_p(a, atol=0.0, rtol=rtol, hermitian=False), b)
    rank = matrix_rank(a, rtol=rtol)
    empty = _make(np.empty((0,), dtype=a._data.dtype), False, None)
    residuals = empty
    if driver != "gelsy" and m > n and bool(np.all(rank._data == n)):
        r = F.matmul(a, x) - b
        residuals = F.sum(r * r, -2)
    if driver == "gels":
        rank = _make(np.empty((0,), dtype=np.int64), False, None)
    svals = svdvals(a).detach() if driver in ("gelsd", "gelss") else empty
    return _lstsq_ret(F.squeeze(x, -1) if vector else x, residuals, rank, svals)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim``; the other dims broadcast.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.cross(gk.tensor([1.0, 0.0, 0.0]), gk.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    x = input if isinstance(input, Tensor) else F.as_tensor_arg(input)
    y = other if isinstance(other, Tensor) else F.as_tensor_arg(other)
    if x.ndim != y.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    x, y = F.broadcast_tensors(x, y)
    d = S.norm_dim(dim, x.ndim)
    if x.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{x.shape[d]} and {y.shape[d]}")
    a0, a1, a2 = F.unbind(x, d)
    b0, b1, b2 = F.unbind(y, d)
    return F.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Dot product of vectors along ``dim`` (the other dims broadcast).

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.vecdot(gk.tensor([1.0, 2.0]), gk.tensor([3.0, 4.0]))
    tensor(11.)
    """
    return F.sum(F.mul(x, y), dim)


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """Chain of matrix products; the first and last may be 1-D (a row and a column vector).

    The products are taken left to right (no reordering by cost).

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.multi_dot([gk.tensor([1.0, 2.0]), gk.eye(2), gk.tensor([3.0, 4.0])])
    tensor(11.)
    """
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    _check_multi_dot(ts)
    out = ts[0]
    for t in ts[1:]:
        out = F.matmul(out, t)
    return out


def _check_multi_dot(ts: list[Any]) -> None:
    """PyTorch's checks: 1-D or 2-D ends, 2-D middles, and chained inner sizes."""
    n = len(ts)
    for i, t in enumerate(ts):
        nd = t.ndim
        if i == 0 and nd not in (1, 2):
            raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {nd}D")
        if i == n - 1 and nd not in (1, 2):
            raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {nd}D")
        if 0 < i < n - 1 and nd != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {nd}D")
    for i in range(n - 1):
        a, b = ts[i], ts[i + 1]
        if a.shape[-1] != b.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(a.shape)} and "
                               f"{list(b.shape)} cannot be multiplied")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Alias of :func:`gradkit.matmul`."""
    return F.matmul(input, other)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Diagonals of the matrices over the last two dims (alias of :func:`gradkit.diagonal`)."""
    return F.diagonal(A, offset, dim1, dim2)


from ._linalg_more import (cholesky_ex, cholesky_solve, cond, householder_product, inv_ex,  # noqa: E402
                           lu, lu_factor, lu_factor_ex, lu_solve, matrix_exp, solve_ex, solve_triangular,
                           tensorinv, tensorsolve, triangular_solve, vander)
