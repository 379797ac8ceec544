"""More of ``torch.linalg``: triangular solves, LU, the matrix exponential, the ``*_ex``
variants, condition numbers, Vandermonde and Householder products, tensor inverses.

Re-exported by :mod:`gradkit.linalg`. ``solve_triangular``, ``lu`` and ``matrix_exp``
are primitives of the derivative table (``gradkit/ops/linalg.py``); the rest are
compositions, so gradients of every order come from the table.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gradkit import _api as F
from gradkit._core.backend import backend_of
from gradkit._core.tensor import Tensor, _make
from gradkit.linalg._base import _float, _matrix, _mT, _return_type, _same_dtype, _square
from gradkit.linalg._decomp import cholesky, svdvals
from gradkit.linalg._norms import matrix_norm
from gradkit.linalg._solve import inv, solve
from gradkit.ops import linalg as OL
from gradkit.ops.linalg import LinAlgError
from gradkit._core.autocast import autocast_op

__all__ = ["solve_triangular", "matrix_exp", "lu", "lu_factor", "lu_factor_ex", "lu_solve",
           "cholesky_ex", "inv_ex", "solve_ex", "cond", "vander", "householder_product",
           "tensorinv", "tensorsolve", "cholesky_solve", "triangular_solve", "ldl_factor",
           "ldl_factor_ex", "ldl_solve"]

_lu_ret = _return_type("linalg_lu", ["P", "L", "U"])
_lu_factor_ret = _return_type("linalg_lu_factor", ["LU", "pivots"])
_lu_factor_ex_ret = _return_type("linalg_lu_factor_ex", ["LU", "pivots", "info"])
_cholesky_ex_ret = _return_type("linalg_cholesky_ex", ["L", "info"])
_inv_ex_ret = _return_type("linalg_inv_ex", ["inverse", "info"])
_solve_ex_ret = _return_type("linalg_solve_ex", ["result", "info"])
_triangular_solve_ret = _return_type("triangular_solve", ["solution", "cloned_coefficient"])
_ldl_factor_ret = _return_type("linalg_ldl_factor", ["LD", "pivots"])
_ldl_factor_ex_ret = _return_type("linalg_ldl_factor_ex", ["LD", "pivots", "info"])


def _const(arr: Any, like: Any = None) -> Tensor:
    """A constant Tensor; a host array moves to the device (library) of Tensor ``like``."""
    if like is not None and backend_of(like._data) is not None and backend_of(arr) is None:
        arr = np.asarray(arr, like=like._data)
    return _make(arr, False, None)


def _eye_like(a: Tensor) -> Tensor:
    n = a.shape[-1]
    return _const(np.broadcast_to(np.eye(n, dtype=a._data.dtype), tuple(a.shape)), a)


def _info(data: np.ndarray, test: Any) -> np.ndarray:
    """int32 LAPACK ``info`` per matrix of ``data`` (``test``: matrix -> int, 0 = fine)."""
    count = int(np.prod(data.shape[:-2], dtype=np.int64))
    mats = np.asarray(data).reshape((count,) + data.shape[-2:])
    return np.array([test(m) for m in mats], dtype=np.int32).reshape(data.shape[:-2])


def _mask(bad: np.ndarray) -> Tensor:
    return _const(np.asarray(bad)[..., None, None])


# --- triangular solves ----------------------------------------------------------------------
def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """Solve ``A X = B`` (``X A = B`` with ``left=False``) for triangular ``A``.

    Only the triangle named by ``upper`` is read (without its diagonal, taken as ones,
    when ``unitriangular``). Batch dims broadcast. A zero on the diagonal gives
    inf/nan, as in PyTorch, not an error.

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[2.0, 1.0], [0.0, 4.0]])
    >>> gk.linalg.solve_triangular(A, gk.tensor([[3.0], [4.0]]), upper=True)
    tensor([[1.],
            [1.]])
    """
    a = _square(A, "solve_triangular", True)
    b = _float(B, "solve_triangular", "B", complex_ok=True)
    if b.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    n = a.shape[-1]
    k = b.shape[-2] if left else b.shape[-1]
    if k != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{eq} ({n}x{n} and {b.shape[-2]}x{b.shape[-1]})")
    if left:
        return OL.trisolve_p(a, b, upper=bool(upper), unitriangular=bool(unitriangular))
    x = OL.trisolve_p(_mT(a), _mT(b), upper=not upper, unitriangular=bool(unitriangular))
    return _mT(x)


@autocast_op
def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """``A^-1 B`` for ``A = L L^T`` (``U^T U`` with ``upper``), from its Cholesky factor
    (``torch.cholesky_solve``).

    Examples
    --------
    >>> import gradkit as gk
    >>> Lf = gk.tensor([[2.0, 0.0], [1.0, 1.0]])
    >>> gk.linalg.cholesky_solve(gk.tensor([[4.0], [2.0]]), Lf)
    tensor([[1.],
            [0.]])
    """
    for x, arg in ((B, "b"), (L, "u")):
        t = x if isinstance(x, Tensor) else F.as_tensor_arg(x)
        if t.ndim < 2:
            raise RuntimeError(f"{arg} should have at least 2 dimensions, but has {t.ndim} dimensions "
                               f"instead")
    lf = _float(L, "cholesky_solve", complex_ok=True)
    if lf.shape[-1] != lf.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {lf.shape[-2]} by "
                           f"{lf.shape[-1]} matrices")
    b = _matrix(B, "cholesky_solve", complex_ok=True)
    if lf.is_complex() != b.is_complex() or (isinstance(B, Tensor) and isinstance(L, Tensor)
                                              and lf.dtype is not b.dtype):
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{b.dtype._legacy[:-6]} and A of type {lf.dtype._legacy[:-6]} instead.")
    if b.shape[-2] != lf.shape[-1]:
        n = lf.shape[-1]
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is {n} by {n} "
                           f"but each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    low = lf.mH if upper else lf                     # A = L L^H: only L's triangle is read
    y = OL.trisolve_p(low, b, upper=False)
    return OL.trisolve_p(low.mH, y, upper=True)


@autocast_op
def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> Any:
    """PyTorch's deprecated ``torch.triangular_solve``: ``(solution, cloned_coefficient)`` of
    ``A X = b`` (``A^T X = b`` with ``transpose``)."""
    a = _square(A, "triangular_solve", True)
    if transpose:
        x = solve_triangular(_mT(a), b, upper=not upper, unitriangular=unitriangular)
    else:
        x = solve_triangular(a, b, upper=upper, unitriangular=unitriangular)
    return _triangular_solve_ret(x, F.clone(a))


# --- LU -------------------------------------------------------------------------------------
def _lu_arg(A: Any, name: str) -> Tensor:
    t = _float(A, name, complex_ok=True)
    if t.ndim < 2:
        raise RuntimeError(f"{name}: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(t.shape)} instead")
    return t


def _pivot(pivot: bool) -> None:
    # PyTorch names the kernel whichever LU function was called (linalg.lu, lu_factor_ex, torch.lu)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


@autocast_op
def lu(A: Tensor, *, pivot: bool = True) -> Any:
    """LU decomposition with partial pivoting: ``A = P L U``.

    Returns ``(P, L, U)``: ``P`` a permutation matrix ``(*, m, m)``, ``L`` unit lower
    ``(*, m, k)``, ``U`` upper ``(*, k, n)``, ``k = min(m, n)``. Pivots as LAPACK's getrf.
    Differentiable (PyTorch's ``linalg_lu_backward``, all shapes).

    Examples
    --------
    >>> import gradkit as gk
    >>> P, L, U = gk.linalg.lu(gk.tensor([[1.0, 2.0], [3.0, 4.0]]))
    >>> U
    tensor([[3.0000, 4.0000],
            [0.0000, 0.6667]])
    """
    _pivot(pivot)
    p, low, up = OL.lu_p(_lu_arg(A, "linalg.lu"))
    return _lu_ret(p, low, up)


def _perm_of(p: np.ndarray) -> np.ndarray:
    """The row order ``perm`` with ``A[perm] = L U`` from ``P`` (``A = P L U``)."""
    if not p.shape[-1]:                              # no rows
        return np.zeros(p.shape[:-1], dtype=np.int64)
    return np.argmax(p, axis=-2)


def _pivots_of(perm: np.ndarray, k: int) -> np.ndarray:
    """LAPACK's 1-based pivots (row swaps) that put rows in the order ``perm``."""
    cur = np.array(perm.shape[-1:] and np.broadcast_to(np.arange(perm.shape[-1]), perm.shape))
    cur = cur.copy()
    out = []
    for j in range(k):
        pos = np.argmax(cur == perm[..., j:j + 1], axis=-1)            # where row perm[j] is now
        out.append(pos + 1)
        cj = cur[..., j].copy()
        np.put_along_axis(cur, pos[..., None], cj[..., None], axis=-1)
        cur[..., j] = perm[..., j]
    return (np.stack(out, -1) if out else np.zeros(perm.shape[:-1] + (0,))).astype(np.int32)


def _packed(low: Tensor, up: Tensor) -> Tensor:
    m, k = low.shape[-2], low.shape[-1]
    n = up.shape[-1]
    lo = F.tril(low, -1)
    if m > k:                                       # tall: U sits on top of L's strict part
        up = F.cat([up, _const(np.zeros(tuple(up.shape[:-2]) + (m - k, n), up._data.dtype), up)], -2)
    elif n > k:                                     # wide: U runs past L's columns
        lo = F.cat([lo, _const(np.zeros(tuple(lo.shape[:-2]) + (m, n - k), lo._data.dtype), lo)], -1)
    return lo + up


def lu_factor(A: Tensor, *, pivot: bool = True) -> Any:
    """Compact LU: ``(LU, pivots)``, ``L``'s strict lower part and ``U`` in one matrix and
    LAPACK's 1-based int32 row swaps (``torch.linalg.lu_factor``). Differentiable in ``LU``.
    A zero on ``U``'s diagonal (a singular matrix) raises a RuntimeError, as in PyTorch;
    :func:`lu_factor_ex` returns the factors with ``info`` instead.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.lu_factor(gk.tensor([[1.0, 2.0], [3.0, 4.0]])).pivots
    tensor([2, 2], dtype=torch.int32)
    """
    _pivot(pivot)
    lu_, piv, info = _lu_factor(_lu_arg(A, "torch.lu_factor"))
    _check_lu(info, "torch.linalg.lu_factor")
    return _lu_factor_ret(lu_, piv)


def _lu_factor(a: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    p, low, up = OL.lu_p(a)
    k = min(a.shape[-2:])
    piv = _pivots_of(_perm_of(np.asarray(p._data)), k)
    diag = np.diagonal(np.asarray(up._data), axis1=-2, axis2=-1)
    zero = diag == 0
    if not k:                                        # empty matrices: nothing can fail
        info = np.zeros(zero.shape[:-1], dtype=np.int32)
    else:
        info = np.where(zero.any(-1), np.argmax(zero, -1) + 1, 0).astype(np.int32)
    return _packed(low, up), _const(piv), _const(info)


def _check_lu(info: Tensor, name: str) -> None:
    """PyTorch's error for a zero pivot (a RuntimeError, not a LinAlgError, as PyTorch's)."""
    flat = np.asarray(info._data).reshape(-1)
    bad = np.flatnonzero(flat)
    if bad.size:
        i = int(bad[0])
        k = int(flat[i])
        batch = f"(Batch element {i}): " if info.ndim else ""
        raise RuntimeError(f"{name}: {batch}U[{k},{k}] is zero and using it on lu_solve would result in "
                           f"a division by zero. If you still want to perform the factorization, "
                           f"consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> Any:
    """:func:`lu_factor` with ``info``: the 1-based index of the first zero pivot (0 when none).

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.lu_factor_ex(gk.tensor([[1.0, 2.0], [2.0, 4.0]])).info
    tensor(2, dtype=torch.int32)
    """
    _pivot(pivot)
    lu_, piv, info = _lu_factor(_lu_arg(A, "torch.lu_factor"))       # PyTorch's name for both
    if check_errors:
        _check_lu(info, "torch.linalg.lu_factor_ex")
    return _lu_factor_ex_ret(lu_, piv, info)


def _perm_from_pivots(piv: np.ndarray, m: int) -> np.ndarray:
    perm = np.broadcast_to(np.arange(m), piv.shape[:-1] + (m,)).copy()
    for j in range(piv.shape[-1]):
        p = piv[..., j:j + 1].astype(np.int64) - 1
        pj = np.take_along_axis(perm, p, -1)
        old = perm[..., j:j + 1].copy()
        np.put_along_axis(perm, p, old, -1)
        perm[..., j:j + 1] = pj
    return perm


@autocast_op
def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False) -> Tensor:
    """Solve ``A X = B`` from :func:`lu_factor`'s output (``X A = B`` with ``left=False``;
    ``A^T`` with ``adjoint``). Differentiable in ``LU`` and ``B``.

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> LU, piv = gk.linalg.lu_factor(A)
    >>> gk.linalg.lu_solve(LU, piv, gk.tensor([[5.0], [11.0]]))
    tensor([[1.],
            [2.]])
    """
    lu_ = _float(LU, "torch.linalg.lu_solve", complex_ok=True)
    if lu_.ndim < 2 or lu_.shape[-1] != lu_.shape[-2]:
        raise RuntimeError(f"torch.linalg.lu_solve: A must be batches of square matrices, but they "
                           f"are {lu_.shape[-2]} by {lu_.shape[-1]} matrices")
    b = _matrix(B, "lu_solve", True)
    if isinstance(LU, Tensor) and isinstance(B, Tensor):
        _same_dtype("lu_solve", lu_, b, "LU")
    n = lu_.shape[-1]
    piv = np.asarray(pivots._data if isinstance(pivots, Tensor) else pivots)
    perm = _perm_from_pivots(piv, n)
    pt = _const(np.eye(n, dtype=lu_._data.dtype)[perm], lu_)               # P^T
    low, up = lu_, lu_
    if not left:                                     # X A = B  <=>  A^H X^H = B^H
        b = b.mH
        adjoint = not adjoint
    if (b.shape[-2]) != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    if not adjoint:                                  # A = P L U: X = U^-1 L^-1 P^T B
        y = OL.trisolve_p(low, F.matmul(pt, b), upper=False, unitriangular=True)
        x = OL.trisolve_p(up, y, upper=True)
    else:                                            # A^H = U^H L^H P^T: X = P L^-H U^-H B
        y = OL.trisolve_p(up.mH, b, upper=False)
        x = F.matmul(_mT(pt), OL.trisolve_p(low.mH, y, upper=True, unitriangular=True))
    return x if left else x.mH


# --- LDL (Bunch-Kaufman) ----------------------------------------------------------------------
def _ldl_arg(A: Any, name: str, arg: str = "A") -> Tensor:
    """A (batch of) square floating-point matri(x/ces), checked with PyTorch's messages."""
    t = A if isinstance(A, Tensor) else F.as_tensor_arg(A)
    if not (t.is_floating_point() or t.is_complex()):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {t.dtype._legacy[:-6]}")
    if t.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    if t.shape[-1] != t.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{t.shape[-2]} by {t.shape[-1]} matrices")
    if t._data.dtype.itemsize < 4:             # float16: LAPACK has no half precision
        kernel = "ldl_factor_kernel_cpu" if "factor" in name else "ldl_solve_kernel_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{t.dtype._legacy[:-6]}\'')
    return t


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False) -> Any:
    """:func:`ldl_factor` with ``info`` (int32, per matrix): 0, or the 1-based index of the
    first exactly zero diagonal element of ``D`` (the factorization is then complete but ``D``
    is singular). With ``check_errors`` such a matrix raises :class:`LinAlgError` instead.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.ldl_factor_ex(gk.tensor([[1.0, 1.0], [1.0, 1.0]])).info
    tensor(2, dtype=torch.int32)
    """
    return _ldl(A, hermitian, check_errors, "torch.linalg.ldl_factor_ex", True)


def ldl_factor(A: Tensor, *, hermitian: bool = False) -> Any:
    """LDL factorization with Bunch-Kaufman pivoting of a symmetric (``hermitian=True``:
    Hermitian) matrix, as LAPACK's ``?sytrf`` (``?hetrf``) returns it: ``(LD, pivots)``.

    Only the lower triangle of ``A`` is read. ``LD`` holds ``L`` below the diagonal and the
    block-diagonal ``D`` on it (its 2x2 blocks' off-diagonal entries below it); its strict upper
    triangle is zero. ``pivots`` (int32) are LAPACK's: ``pivots[i] = k > 0`` swapped rows ``i``
    and ``k - 1`` for a 1x1 block, a negative pair marks a 2x2 block. Raises
    :class:`LinAlgError` when ``D`` is singular (use :func:`ldl_factor_ex` to get ``info``).
    Needs SciPy (``pip install gradkit[scipy]``). Not differentiable, as in PyTorch.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.ldl_factor(gk.tensor([[4.0, 2.0], [2.0, 3.0]])).LD
    tensor([[4.0000, 0.0000],
            [0.5000, 2.0000]])
    """
    ld, piv, _ = _ldl(A, hermitian, True, "torch.linalg.ldl_factor", False)
    return _ldl_factor_ret(ld, piv)


def _ldl(A: Any, hermitian: bool, check: bool, name: str, ex: bool) -> Any:
    a = _ldl_arg(A, "torch.linalg.ldl_factor_ex")
    ld, piv, info = OL.ldl_factor_p(a, hermitian=bool(hermitian))
    if check:
        bad = np.flatnonzero(np.asarray(info._data).reshape(-1))
        if bad.size:
            i = int(bad[0])
            k = int(np.asarray(info._data).reshape(-1)[i])
            batch = f"(Batch element {i}): " if info.ndim else ""
            raise LinAlgError(f"{name}: {batch}The input is singular: D[{k}, {k}] of its factorization "
                              f"is exactly zero, so ldl_solve would divide by zero. Use "
                              f"torch.linalg.ldl_factor_ex(A) to get the factors and info.")
    return _ldl_factor_ex_ret(ld, piv, info) if ex else (ld, piv, info)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """Solve ``A X = B`` from :func:`ldl_factor`'s ``(LD, pivots)`` (LAPACK's ``?sytrs``;
    ``?hetrs`` with ``hermitian=True``). Batch dimensions broadcast. Needs SciPy. Not
    differentiable, as in PyTorch.

    Examples
    --------
    >>> import gradkit as gk
    >>> LD, piv = gk.linalg.ldl_factor(gk.tensor([[4.0, 2.0], [2.0, 3.0]]))
    >>> gk.linalg.ldl_solve(LD, piv, gk.tensor([[6.0], [5.0]]))
    tensor([[1.],
            [1.]])
    """
    name = "torch.linalg.ldl_solve"
    ld = _ldl_arg(LD, name)
    b = B if isinstance(B, Tensor) else F.as_tensor_arg(B)
    p = pivots if isinstance(pivots, Tensor) else F.as_tensor_arg(pivots)
    if tuple(p.shape) != tuple(ld.shape[:-1]):
        raise RuntimeError(f"{name}: Expected LD.shape[:-1] and pivots.shape to be the same, but got "
                           f"pivots with shape {list(p.shape)} instead")
    if p.is_floating_point() or p.is_complex() or p._data.dtype.kind == "b":
        raise RuntimeError(f"{name}: Expected pivots to be integers. Got {p.dtype._legacy[:-6]}")
    if b.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(b.ndim, 1)}, "
                         f"{max(b.ndim, 1) - 1}], but got -2)")
    if b.dtype != ld.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{b.dtype._legacy[:-6]} and A of type {ld.dtype._legacy[:-6]} instead.")
    n = ld.shape[-1]
    if b.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for {name}: each A matrix is {n} by {n} but "
                           f"each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    pv = np.asarray(p._data)
    if pv.size and int(np.abs(pv).min()) < 1:
        raise RuntimeError("Pivots given to ldl_solve must all satisfy |pivot| >= 1. Did you properly "
                           "pass the result of ldl_factor?")
    if pv.size and int(np.abs(pv).max()) > n:
        raise RuntimeError("Pivots given to ldl_solve must all satisfy |pivot| <= LD.size(-2). Did you "
                           "properly pass the result of ldl_factor?")
    return OL.ldl_solve_p(ld, p, b, hermitian=bool(hermitian))


# --- the *_ex variants ------------------------------------------------------------------------
def _raise_first(info: np.ndarray, name: str, what: str) -> None:
    bad = np.flatnonzero(info.reshape(-1))
    if not bad.size:
        return
    i = int(bad[0])
    k = int(info.reshape(-1)[i])
    batch = f"(Batch element {i}): " if info.ndim else ""
    if what == "cholesky":
        raise LinAlgError(f"linalg.{name}: {batch}The factorization could not be completed because the "
                          f"input is not positive-definite (the leading minor of order {k} is not "
                          f"positive-definite).")
    if what == "inv":
        raise LinAlgError(f"linalg.{name}: {batch}The diagonal element {k} is zero, the inversion "
                          f"could not be completed because the input matrix is singular.")
    raise LinAlgError(f"torch.linalg.{name}: {batch}The solver failed because the input matrix is "
                      f"singular.")


@autocast_op
def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> Any:
    """Cholesky factor and ``info`` (int32, per matrix): 0, or the order of the first leading
    minor that is not positive-definite. Where ``info > 0``, ``L`` holds the input's
    triangle (not a factor); with ``check_errors`` such a matrix raises instead.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.cholesky_ex(gk.tensor([[-1.0, 0.0], [0.0, 1.0]])).info
    tensor(1, dtype=torch.int32)
    """
    a = _square(A, "cholesky", True)                 # PyTorch's messages name cholesky
    data = np.asarray(F.transpose(a, -2, -1)._data if upper else a._data)
    try:
        ok = not OL._nan_pivot(np.linalg.cholesky(data))
    except np.linalg.LinAlgError:
        ok = False
    info = np.zeros(data.shape[:-2], dtype=np.int32) if ok else _info(data, OL._not_pd_order)
    if check_errors:
        _raise_first(info, "cholesky_ex", "cholesky")
    bad = info > 0
    if not bad.any():
        return _cholesky_ex_ret(cholesky(a, upper=upper), _const(info))
    m = _mask(bad)
    fac = cholesky(F.where(m, _eye_like(a), a), upper=upper)
    tri = F.triu(a) if upper else F.tril(a)
    return _cholesky_ex_ret(F.where(m, tri, fac), _const(info))


def _raw_lu_solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``A^-1 B`` through LU without checks (inf/nan at a zero pivot, as LAPACK's getrs)."""
    packed, perm, _ = OL._lu_steps(a)
    pb = np.take_along_axis(np.broadcast_to(b, a.shape[:-2] + b.shape[-2:]), perm[..., None], -2)
    y = OL._trisolve_impl(packed, pb, upper=False, unitriangular=True)
    return OL._trisolve_impl(packed, y, upper=True)


def _lu_info(data: np.ndarray) -> np.ndarray:
    return _info(data, OL._zero_pivot)


@autocast_op
def inv_ex(A: Tensor, *, check_errors: bool = False) -> Any:
    """Inverse and ``info`` (int32, per matrix: 0, or the first zero pivot of LU). Where
    ``info > 0`` the inverse holds LAPACK-style inf/nan values.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.inv_ex(gk.tensor([[2.0, 0.0], [0.0, 4.0]])).info
    tensor(0, dtype=torch.int32)
    """
    a = _square(A, "inv", True)
    data = np.asarray(a._data)
    info = _lu_info(data)
    if check_errors:
        _raise_first(info, "inv_ex", "inv")
    bad = info > 0
    if not bad.any():
        return _inv_ex_ret(inv(a), _const(info))
    m = _mask(bad)
    with np.errstate(all="ignore"):
        raw = _raw_lu_solve(data, np.eye(data.shape[-1], dtype=data.dtype))
    return _inv_ex_ret(F.where(m, _const(raw), inv(F.where(m, _eye_like(a), a))), _const(info))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> Any:
    """:func:`~gradkit.linalg.solve` and ``info`` (int32, per matrix of ``A``: 0, or the first
    zero pivot of LU). Where ``info > 0`` the result holds LAPACK-style inf/nan values.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.solve_ex(gk.tensor([[2.0, 0.0], [0.0, 4.0]]), gk.tensor([2.0, 4.0])).result
    tensor([1., 1.])
    """
    a = _square(A, "solve", True)                    # PyTorch's messages name solve
    data = np.asarray(a._data)
    info = _lu_info(data)
    if check_errors:
        _raise_first(info, "solve_ex", "solve")
    bad = info > 0
    if not bad.any():
        return _solve_ex_ret(solve(a, B, left=left), _const(info))
    m = _mask(bad)
    x = solve(F.where(m, _eye_like(a), a), B, left=left)
    b = B if isinstance(B, Tensor) else F.as_tensor_arg(B)
    with np.errstate(all="ignore"):
        bad_x = _bad_solve(data, np.asarray(b._data), left, tuple(x.shape))
    mx = _const(np.broadcast_to(bad.reshape(bad.shape + (1,) * (x.ndim - bad.ndim)), tuple(x.shape)))
    return _solve_ex_ret(F.where(mx, _const(bad_x), x), _const(info))


def _bad_solve(a: np.ndarray, b: np.ndarray, left: bool, shape: tuple[int, ...]) -> np.ndarray:
    """The unchecked LU solve (inf/nan where singular), shaped as the result."""
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    bm = b[..., None] if vector else b
    if not left:
        a, bm = np.swapaxes(a, -1, -2), (np.swapaxes(b[..., None, :], -1, -2) if vector
                                         else np.swapaxes(bm, -1, -2))
    batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
    x = _raw_lu_solve(np.broadcast_to(a, batch + a.shape[-2:]), bm)
    if not left and not vector:
        x = np.swapaxes(x, -1, -2)
    return np.reshape(x, shape)


# --- matrix functions -------------------------------------------------------------------------
def matrix_exp(A: Tensor) -> Tensor:
    """Matrix exponential ``sum_k A^k / k!`` by scaling and squaring with a [13/13] Pade
    approximant (Higham 2005; float32 inputs are computed in float64).

    The gradient is the top-right block of ``exp([[A^T, G], [0, A^T]])`` (Mathias 1996),
    itself a ``matrix_exp``, so derivatives of every order are exact.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.matrix_exp(gk.tensor([[0.0, 1.0], [0.0, 0.0]]))
    tensor([[1., 1.],
            [0., 1.]])
    """
    return OL.expm_p(_square(A, "matrix_exp", True))


@autocast_op
def cond(A: Tensor, p: Any = None) -> Tensor:
    """Condition number ``norm(A, p) * norm(inv(A), p)``; for ``p`` None/2/-2 the ratio of
    extreme singular values (any shape), else square ``A`` only (inf where singular).

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.cond(gk.tensor([[4.0, 0.0], [0.0, 2.0]]))
    tensor(2.)
    """
    t = A if isinstance(A, Tensor) else F.as_tensor_arg(A)
    if t.ndim < 2:
        if isinstance(p, str):                       # PyTorch's wording differs by ord
            raise RuntimeError(f"linalg.cond(ord={p}): The input tensor A must have at least 2 "
                               f"dimensions.")
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    a = _matrix(t, "cond", True)
    if p is None or (not isinstance(p, str) and p in (2, -2)):
        s = svdvals(a)
        if not s.shape[-1]:                          # 0x0 matrices: 0, as in PyTorch
            return F.sum(s, -1)
        big, small = s[..., 0], s[..., -1]
        return small / big if p == -2 else big / small
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    data = np.asarray(a._data)
    if not data.shape[-1]:                           # 0x0 matrices: 0, as in PyTorch
        return F.sum(F.sum(F.abs(a), -1), -1)
    bad = _lu_info(data) > 0
    m = _mask(bad)
    safe = F.where(m, _eye_like(a), a) if bad.any() else a
    out = matrix_norm(a, p) * matrix_norm(inv(safe), p)
    bad = bad | np.isnan(np.asarray(out._data))      # PyTorch: a NaN condition number is inf
    if not bad.any():
        return out
    return F.where(_const(bad), _const(np.array(np.inf, dtype=out._data.dtype)), out)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """Vandermonde matrix ``x[..., :, None] ** arange(N)`` (increasing powers; ``N`` defaults
    to ``x.shape[-1]``), through a cumulative product.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.vander(gk.tensor([1.0, 2.0, 3.0]))
    tensor([[1., 1., 1.],
            [1., 2., 4.],
            [1., 3., 9.]])
    """
    t = x if isinstance(x, Tensor) else F.as_tensor_arg(x)
    if t.ndim == 0:
        raise RuntimeError("N must be greater than 1.")
    n = t.shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    col = F.unsqueeze(t, -1)
    ones = _const(np.ones(tuple(col.shape), dtype=t._data.dtype), t)
    reps = F.expand(col, tuple(col.shape[:-1]) + (n - 1,))
    return F.cumprod(F.cat([ones, reps], -1), -1)


@autocast_op
def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first ``n`` columns of ``H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^H`` with ``v_i``
    the ``i``-th column of ``A`` below the diagonal and a 1 on it (LAPACK's orgqr).

    Examples
    --------
    >>> import gradkit as gk
    >>> Q = gk.linalg.householder_product(gk.tensor([[1.0], [1.0]]), gk.tensor([1.0]))
    >>> Q
    tensor([[ 0.],
            [-1.]])
    """
    name = "torch.linalg.householder_product"
    a = _float(A, "householder_product", complex_ok=True)
    t = _float(tau, "householder_product", "tau", complex_ok=True)
    if a.dtype != t.dtype:
        raise RuntimeError(f"{name}: tau dtype {t.dtype._legacy[:-6]} does not match input "
                           f"dtype {a.dtype._legacy[:-6]}")
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    m, n = a.shape[-2], a.shape[-1]
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    k = t.shape[-1] if t.ndim else 0
    if k > n:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    dtype = a._data.dtype
    x = _const(np.broadcast_to(np.eye(m, n, dtype=dtype), tuple(a.shape[:-2]) + (m, n)), a)
    for i in range(k - 1, -1, -1):
        below = a[..., i + 1:, i]
        head = _const(np.broadcast_to(np.eye(1, i + 1, i, dtype=dtype)[0],
                                      tuple(below.shape[:-1]) + (i + 1,)), a)
        v = F.cat([head, below], -1)                                  # (..., m)
        vh = v.conj() if a.is_complex() else v
        w = F.matmul(F.unsqueeze(vh, -2), x)                          # v^H X: (..., 1, n)
        x = x - F.unsqueeze(t[..., i], -1)[..., None] * F.unsqueeze(v, -1) * w
    return x


@autocast_op
def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of ``A`` read as a linear map from its first ``ind`` dims to the rest:
    shape ``A.shape[ind:] + A.shape[:ind]``.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.tensorinv(gk.eye(4).reshape(4, 2, 2), ind=1).shape
    torch.Size([2, 2, 4])
    """
    a = _float(A, "tensorinv", complex_ok=True)
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape, in_shape = tuple(a.shape[:ind]), tuple(a.shape[ind:])
    p, q = int(np.prod(out_shape, dtype=np.int64)), int(np.prod(in_shape, dtype=np.int64))
    if p != q:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {q} != {p}")
    try:
        square_inv = inv(F.reshape(a, (p, q)))
    except LinAlgError as e:                     # PyTorch's message names the inverse "inv"
        raise LinAlgError(str(e).replace("linalg.inv: ", "inv: ", 1)) from None
    return F.reshape(square_inv, in_shape + out_shape)


@autocast_op
def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None) -> Tensor:
    """The ``X`` with ``tensordot(A, X, X.ndim) = B``; ``dims`` of ``A`` move to the end first.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.tensorsolve(gk.eye(6).reshape(6, 2, 3), gk.ones(6)).shape
    torch.Size([2, 3])
    """
    a = _float(A, "tensorsolve", complex_ok=True)
    b = _float(B, "tensorsolve", "B", complex_ok=True)
    if dims is not None:
        src = [int(d) % a.ndim for d in dims]
        a = F.movedim(a, src, list(range(a.ndim - len(src), a.ndim)))
    x_shape = tuple(a.shape[b.ndim:])
    p = int(np.prod(tuple(a.shape[:b.ndim]), dtype=np.int64))
    q = int(np.prod(x_shape, dtype=np.int64))
    if p != q:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {q} != {p}")
    x = solve(F.reshape(a, (p, q)), F.reshape(b, (p,)))
    return F.reshape(x, x_shape)
