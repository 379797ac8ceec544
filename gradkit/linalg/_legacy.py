"""PyTorch's pre-``torch.linalg`` functions still found in scripts: ``torch.qr``, ``torch.lu``,
``torch.lu_solve``, ``torch.lu_unpack``, ``torch.cholesky``, ``torch.cholesky_inverse`` (and their
Tensor methods), each routed to its ``gradkit.linalg`` replacement with PyTorch's deprecation
warning; and the removed ones (``torch.eig``, ``symeig``, ``lstsq``, ``solve``, ``matrix_rank``)
raising PyTorch's removal errors, which say what replaces them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradkit._core.concrete import user_stacklevel
from gradkit._core.tensor import Tensor, _make
from gradkit.linalg._base import _return_type
from gradkit._core.autocast import autocast_op

__all__ = ["qr", "lu", "lu_solve", "lu_unpack", "cholesky", "cholesky_inverse", "eig", "symeig",
           "lstsq", "solve", "matrix_rank", "frobenius_norm", "nuclear_norm", "geqrf", "ormqr",
           "orgqr"]

_qr_ret = _return_type("qr", ["Q", "R"])
_lu_unpack_ret = _return_type("lu_unpack", ["P", "L", "U"])
_geqrf_ret = _return_type("geqrf", ["a", "tau"])

_REMOVED = "This function was deprecated since version 1.9 and is now removed."


def _deprecated(text: str) -> None:
    warnings.warn(text, UserWarning, stacklevel=user_stacklevel())


@autocast_op
def qr(input: Tensor, some: bool = True) -> Any:
    """``(Q, R)``: ``gk.linalg.qr(input, 'reduced' if some else 'complete')``."""
    from gradkit import linalg
    _deprecated("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future "
                "PyTorch release.\nThe boolean parameter 'some' has been replaced with a string "
                "parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced with\nQ, R = "
                "torch.linalg.qr(A, 'reduced' if some else 'complete')")
    q, r = linalg.qr(input, "reduced" if some else "complete")
    return _qr_ret(q, r)


@autocast_op
def geqrf(input: Tensor) -> Any:
    """``(a, tau)``: LAPACK's geqrf, ``R`` on and above the diagonal of ``a`` and the Householder
    vectors below it (``gk.linalg.householder_product(a, tau)`` is ``Q``). Not differentiable:
    backward raises, as PyTorch's."""
    from gradkit.linalg._base import _float
    from gradkit.ops import linalg as OL
    x = _float(input, "torch.geqrf", complex_ok=True)
    if x.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    a, tau = OL.geqrf_p(x)
    return _geqrf_ret(a, tau)


@autocast_op
def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """``torch.orgqr``: an alias of ``gk.linalg.householder_product``."""
    from gradkit import linalg
    return linalg.householder_product(input, tau)


@autocast_op
def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True,
          transpose: bool = False) -> Tensor:
    """``op(Q) @ other`` (``left``) or ``other @ op(Q)``, ``Q = H_1 ... H_k`` the product of the
    Householder reflectors ``(input, tau)`` that ``geqrf`` returns (square: ``m x m`` with ``m =
    input.shape[-2]``), ``op`` the conjugate transpose when ``transpose`` (LAPACK's ormqr).

    Differentiable in ``input``, ``tau`` and ``other`` (through ``householder_product``), as
    PyTorch's ``OrmqrBackward0`` is; only the reflectors (below the diagonal of the first
    ``tau.shape[-1]`` columns) get a gradient.
    """
    from gradkit import _api as A
    from gradkit import linalg
    from gradkit._api.base import _t
    a, t, c = _t(input), _t(tau, "tau"), _t(other, "other")
    name = "torch.ormqr"
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if c.ndim < 2:
        raise RuntimeError(f"{name}: other must have at least 2 dimensions.")
    cond = -2 if left else -1
    if c.shape[cond] != a.shape[-2]:
        raise RuntimeError(f"{name}: other.shape[{cond}] must be equal to input.shape[-2]")
    if t.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if t.shape[-1] != min(c.shape[cond], a.shape[-1]):
        raise RuntimeError(f"{name}: tau.shape[-1] must be equal to min(other.shape[{cond}], "
                           "input.shape[-1])")
    if a.ndim - t.ndim != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {t.ndim} and input.ndim is equal to {a.ndim}")
    if a.ndim != c.ndim:
        raise RuntimeError(f"{name}: Expected other to have the same number of dimensions as "
                           f"input, but got other.ndim equal to {c.ndim} and input.ndim is equal "
                           f"to {a.ndim}")
    if a.ndim > 2:
        for what, shape in (("tau", tuple(t.shape[:-1])), ("other", tuple(c.shape[:-2]))):
            if shape != tuple(a.shape[:-2]):
                raise RuntimeError(f"{name}: Expected batch dimensions of {what} to be equal to "
                                   f"input.shape[:-2], but got {list(shape)}")
    for what, x in (("tau", t), ("other", c)):
        if x.dtype != a.dtype:
            raise RuntimeError(f"{name}: Expected input and {what} to have the same dtype, but "
                               f"input has dtype{a.dtype._legacy[:-6]} and {what} has dtype "
                               f"{x.dtype._legacy[:-6]}")
    if not (a.dtype.is_floating_point or a.dtype.is_complex):
        raise NotImplementedError(f'"ormqr_cpu" not implemented for \'{a.dtype._legacy[:-6]}\'')
    m, k = a.shape[-2], t.shape[-1]
    # the reflectors are the first k columns; zero columns after them make Q square (m x m)
    v = a[..., :k]
    if k < m:
        v = A.cat([v, a.new_zeros((*a.shape[:-2], m, m - k))], -1)
    q = linalg.householder_product(v, t)
    if transpose:
        q = q.mH
    return A.matmul(q, c) if left else A.matmul(c, q)


@autocast_op
def lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> Any:
    """``(LU, pivots)`` or ``(LU, pivots, infos)``: ``gk.linalg.lu_factor(_ex)``."""
    from gradkit import linalg
    _deprecated("torch.lu is deprecated in favor of torch.linalg.lu_factor / "
                "torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.")
    if get_infos:
        return tuple(linalg.lu_factor_ex(A, pivot=pivot))
    return tuple(linalg.lu_factor(A, pivot=pivot))


@autocast_op
def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """``A^-1 b`` from ``torch.lu``'s factors (``gk.linalg.lu_solve`` with the arguments reversed)."""
    from gradkit import linalg
    _deprecated("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed "
                "in a future PyTorch release.\nNote that torch.linalg.lu_solve has its arguments "
                "reversed.\nX = torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = "
                "torch.linalg.lu_solve(LU, pivots, B)")
    return linalg.lu_solve(LU_data, LU_pivots, b)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True) -> Any:
    """``(P, L, U)`` with ``A = P L U`` from ``torch.lu``'s compact factors: ``L`` the unit lower
    triangle, ``U`` the upper triangle (both differentiable in ``LU_data``), ``P`` the
    permutation of the 1-based row swaps ``LU_pivots``. A part not unpacked is empty."""
    from gradkit import _api as A
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = min(m, n)
    empty = _make(np.empty((0,), LU_data._data.dtype), False, None)
    if unpack_data:
        eye = _make(np.eye(m, k, dtype=LU_data._data.dtype), False, None)
        L = A.add(A.tril(A.narrow(LU_data, -1, 0, k), -1), eye)
        U = A.triu(A.narrow(LU_data, -2, 0, k))
    else:
        L = U = empty
    if unpack_pivots:
        piv = np.asarray(LU_pivots._data).astype(np.int64) - 1
        if piv.size and (piv.min() < 0 or piv.max() >= m):
            raise RuntimeError("lu_unpack: pivots must be between 1 and LU.size(-2) inclusive")
        lead = piv.shape[:-1]
        perm = np.broadcast_to(np.arange(m), lead + (m,)).copy()
        for idx in np.ndindex(*lead):
            row = perm[idx]
            for i, j in enumerate(piv[idx]):
                row[i], row[j] = row[j], row[i]
        # NOTE: P's column i is the unit vector at perm[i], so that A = P @ L @ U
        P = np.zeros(lead + (m, m), dtype=LU_data._data.dtype)
        for idx in np.ndindex(*lead):
            P[idx][perm[idx], np.arange(m)] = 1
        Pt = _make(P, False, None)
    else:
        Pt = empty
    return _lu_unpack_ret(Pt, L, U)


@autocast_op
def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """The Cholesky factor ``L`` (``U = L^H`` with ``upper``): ``gk.linalg.cholesky``."""
    from gradkit import linalg
    _deprecated("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed "
                "in a future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = "
                "torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, upper=True)\nshould be "
                "replaced with\nU = torch.linalg.cholesky(A).mH\nThis transform will produce "
                "equivalent results for all valid (symmetric positive definite) inputs.")
    return linalg.cholesky(input, upper=upper)


@autocast_op
def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """``A^-1`` for ``A = L L^H`` (``U^H U`` with ``upper``), from its Cholesky factor. A zero on
    the factor's diagonal raises :class:`~gradkit.linalg.LinAlgError`, as in PyTorch."""
    from gradkit import linalg
    from gradkit import _api as A
    from gradkit.linalg._base import _square
    t = L if isinstance(L, Tensor) else A.as_tensor_arg(L)
    if not (t.is_floating_point() or t.is_complex()) or t._data.dtype.itemsize < 4:
        raise NotImplementedError(f'"cholesky_inverse_out_cpu" not implemented for '
                                  f"'{t.dtype._legacy[:-6]}'")
    L = _square(t, "cholesky_inverse:", True)
    diag = np.diagonal(np.asarray(L._data), axis1=-2, axis2=-1)
    zero = (diag == 0).reshape((-1, diag.shape[-1])) if diag.size else np.zeros((0, 1), bool)
    bad = np.flatnonzero(zero.any(-1))
    if bad.size:
        i = int(bad[0])
        k = int(np.argmax(zero[i])) + 1
        batch = f"(Batch element {i}): " if L.ndim > 2 else ""
        raise linalg.LinAlgError(f"cholesky_inverse: {batch}The diagonal element {k} is zero, the "
                                 f"inversion could not be completed because the input matrix is "
                                 f"singular.")
    n = L.shape[-1]
    eye = _make(np.broadcast_to(np.eye(n, dtype=L._data.dtype), tuple(L.shape)).copy(), False,
                None)
    return linalg.cholesky_solve(eye, L, upper)


def frobenius_norm(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``gk.linalg.vector_norm(input, 2, dim, keepdim)`` (kept in PyTorch for TorchScript)."""
    from gradkit import linalg
    _deprecated("at::frobenius_norm is deprecated and it is just left for JIT compatibility. It "
                "will be removed in a future PyTorch release. Please use "
                "`linalg.vector_norm(A, 2., dim, keepdim)` instead")
    return linalg.vector_norm(input, 2.0, dim, keepdim)


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """``gk.linalg.matrix_norm(input, 'nuc', dim, keepdim)``; ``dim`` defaults to the last two."""
    from gradkit import linalg
    _deprecated("at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will "
                "be removed in a future PyTorch release. Please use "
                "`linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead")
    return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def eig(input: Tensor, eigenvectors: bool = False) -> Any:
    raise RuntimeError(
        f"{_REMOVED} `torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` "
        "rather than real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be "
        "replaced with:\nL_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, "
        "eigenvectors=True) should be replaced with:\nL_complex, V_complex = torch.linalg.eig(A)")


def symeig(input: Tensor, eigenvectors: bool = False, upper: bool = True) -> Any:
    raise RuntimeError(
        f"{_REMOVED} The default behavior has changed from using the upper triangular portion of "
        "the matrix by default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, "
        "upper=upper) should be replaced with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper "
        "else 'L')\n\nand\n\nL, V = torch.symeig(A, eigenvectors=True) should be replaced with:\n"
        "L, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')")


def lstsq(input: Tensor, A: Tensor) -> Any:
    raise RuntimeError(
        f"{_REMOVED} `torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
        "`torch.linalg.lstsq` has reversed arguments and does not return the QR decomposition in "
        "the returned tuple (although it returns other information about the problem).\n\nTo get "
        "the QR decomposition consider using `torch.linalg.qr`.\n\nThe returned solution in "
        "`torch.lstsq` stored the residuals of the solution in the last m - n columns of the "
        "returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field "
        "'residuals' of the returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = "
        "torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\nX = "
        "torch.linalg.lstsq(A, B).solution")


def solve(input: Tensor, A: Tensor) -> Any:
    raise RuntimeError(
        f"{_REMOVED} `torch.solve` is deprecated in favor of `torch.linalg.solve`. "
        "`torch.linalg.solve` has its arguments reversed and does not return the LU factorization."
        "\n\nTo get the LU factorization see `torch.lu`, which can be used with `torch.lu_solve` "
        "or `torch.lu_unpack`.\nX = torch.solve(B, A).solution should be replaced with:\nX = "
        "torch.linalg.solve(A, B)")


def matrix_rank(input: Tensor, tol: Any = None, symmetric: bool = False) -> Any:
    raise RuntimeError(
        f"{_REMOVED}\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter "
        "'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'.")


def _attach() -> None:
    for name in ("qr", "geqrf", "cholesky", "cholesky_inverse", "lu_solve", "eig", "symeig", "lstsq",
                 "solve", "ormqr", "orgqr"):
        setattr(Tensor, name, globals()[name])

    def lu_method(self: Tensor, pivot: bool = True, get_infos: bool = False) -> Any:
        return lu(self, pivot, get_infos)
    lu_method.__name__ = "lu"
    Tensor.lu = lu_method


_attach()
