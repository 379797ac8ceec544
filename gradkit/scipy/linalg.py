"""``scipy.linalg`` with gradients: SciPy's signatures over ``gradkit.linalg``.

With a Tensor among the arguments the result is a Tensor on the graph; without one the call
is SciPy's own. Every function here is differentiable in reverse and forward mode, to any
order:

- ``solve_triangular``, ``cho_factor``/``cho_solve``, ``cholesky``, ``lu_factor``/``lu_solve``,
  ``expm``, ``det``, ``inv``, ``solve``, ``eigh``, ``eigvalsh``, ``pinv`` are ``gradkit.linalg``'s
  rows under SciPy's conventions (``cholesky`` upper by default, 0-based ``lu_factor`` pivots);
- ``solve_banded`` expands the band into the dense matrix (a constant scatter) and solves it;
- ``solve_sylvester`` solves the Kronecker form ``(A (x) I + I (x) B^T) vec X = vec Q``: exact
  derivatives of every order, but O((n m)^3) time: meant for small systems (n m up to a few
  hundred);
- ``sqrtm`` takes SciPy's value ``X0`` and refines it with two chord-Newton steps
  ``X <- X + L0^{-1}(A - X^2)`` whose operator ``L0: Y -> X0 Y + Y X0`` is a constant. Each step
  keeps the value (the residual is at rounding level) and the derivatives of ``A -> X`` come out
  exact to second order (the Frechet derivative is ``L0^{-1}``; the second follows from
  ``X d2X + d2X X = -2 dX dX``); higher orders are not exact. O(n^6) setup (the Kronecker
  inverse), for small matrices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import gradkit as gk

from ._util import any_tensor, as_tensors, passthrough, scipy_module

__all__ = ["solve_triangular", "solve_banded", "solve_sylvester", "sqrtm", "cho_factor",
           "cho_solve", "cholesky", "lu_factor", "lu_solve", "expm", "det", "inv", "solve",
           "eigh", "eigvalsh", "pinv"]


def _sla() -> Any:
    return scipy_module("linalg")


def _mT(x: Any) -> Any:
    return x.transpose(-2, -1)


def _as_matrix_rhs(b: Any) -> tuple[Any, bool]:
    return (b.unsqueeze(-1), True) if b.ndim == 1 else (b, False)


def solve_triangular(a: Any, b: Any, trans: Any = 0, lower: bool = False,
                     unit_diagonal: bool = False, overwrite_b: bool = False,
                     check_finite: bool = True) -> Any:
    """``scipy.linalg.solve_triangular``: ``a x = b`` (``trans`` 0/'N', 1/'T', 2/'C')."""
    if not any_tensor(a, b):
        return _sla().solve_triangular(a, b, trans=trans, lower=lower,
                                       unit_diagonal=unit_diagonal, check_finite=check_finite)
    a, b = as_tensors(a, b)
    trans = {"N": 0, "T": 1, "C": 2}.get(trans, trans)
    upper = not lower
    if trans:
        a = _mT(a)
        if trans == 2 and a.is_complex():
            a = gk.conj(a)
        upper = not upper
    rhs, vec = _as_matrix_rhs(b)
    x = gk.linalg.solve_triangular(a, rhs, upper=upper, unitriangular=unit_diagonal)
    return x.squeeze(-1) if vec else x


def solve_banded(l_and_u: tuple[int, int], ab: Any, b: Any, overwrite_ab: bool = False,
                 overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.solve_banded((l, u), ab, b)``, with ``a[i, j] = ab[u + i - j, j]``."""
    if not any_tensor(ab, b):
        return _sla().solve_banded(l_and_u, ab, b, check_finite=check_finite)
    ab, b = as_tensors(ab, b)
    lo, up = (int(v) for v in l_and_u)
    rows, n = ab.shape
    if rows != lo + up + 1:
        raise ValueError(f"invalid values for the number of lower and upper diagonals: "
                         f"l+u+1 ({lo + up + 1}) does not equal ab.shape[0] ({rows})")
    # NOTE: the dense matrix is a constant 0/1 scatter of the band, applied with a matmul.
    scatter = np.zeros((n * n, rows * n))
    for j in range(n):
        for i in range(max(0, j - up), min(n, j + lo + 1)):
            scatter[i * n + j, (up + i - j) * n + j] = 1.0
    dense = (gk.as_tensor(scatter, dtype=ab.dtype) @ ab.reshape(-1)).reshape(n, n)
    rhs, vec = _as_matrix_rhs(b)
    x = gk.linalg.solve(dense, rhs)
    return x.squeeze(-1) if vec else x


def solve_sylvester(a: Any, b: Any, q: Any) -> Any:
    """``scipy.linalg.solve_sylvester``: ``X`` with ``a X + X b = q`` (Kronecker form; small)."""
    if not any_tensor(a, b, q):
        return _sla().solve_sylvester(a, b, q)
    a, b, q = as_tensors(a, b, q)
    n, m = q.shape
    eye_n = gk.eye(n, dtype=a.dtype)
    eye_m = gk.eye(m, dtype=b.dtype)
    # NOTE: row-major vec: vec(A X) = (A (x) I_m) vec X, vec(X B) = (I_n (x) B^T) vec X.
    big = gk.kron(a, eye_m) + gk.kron(eye_n, _mT(b))
    return gk.linalg.solve(big, q.reshape(n * m, 1)).reshape(n, m)


def sqrtm(A: Any, disp: bool = True, blocksize: int = 64) -> Any:
    """``scipy.linalg.sqrtm``: the principal square root (SciPy's value, derivatives exact to
    second order; see the module's notes). Complex when ``A`` has negative eigenvalues."""
    if not isinstance(A, gk.Tensor):
        return _sla().sqrtm(A) if disp else _sla().sqrtm(A, disp=False)
    x0 = np.asarray(_sla().sqrtm(A.detach().numpy()))
    if x0.dtype.kind == "c" and np.allclose(x0.imag, 0.0, atol=1e-13 * max(1.0, abs(x0).max())):
        x0 = x0.real
    n = x0.shape[0]
    op = np.kron(x0, np.eye(n)) + np.kron(np.eye(n), x0.T)
    op_inv = gk.as_tensor(np.linalg.inv(op))
    target = A if x0.dtype.kind != "c" else A.to(gk.complex128)
    x = gk.as_tensor(x0)
    if x0.dtype.kind != "c":
        x = x.to(A.dtype)
        op_inv = op_inv.to(A.dtype)
    for _ in range(2):
        resid = (target - x @ x).reshape(n * n, 1)
        x = x + (op_inv @ resid).reshape(n, n)
    return x


def cholesky(a: Any, lower: bool = False, overwrite_a: bool = False,
             check_finite: bool = True) -> Any:
    """``scipy.linalg.cholesky`` (upper factor by default, as SciPy)."""
    if not isinstance(a, gk.Tensor):
        return _sla().cholesky(a, lower=lower, check_finite=check_finite)
    return gk.linalg.cholesky(a, upper=not lower)


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False,
               check_finite: bool = True) -> Any:
    """``scipy.linalg.cho_factor``: ``(c, lower)``; on tensors the other triangle of ``c`` is 0."""
    if not isinstance(a, gk.Tensor):
        return _sla().cho_factor(a, lower=lower, check_finite=check_finite)
    return gk.linalg.cholesky(a, upper=not lower), lower


def cho_solve(c_and_lower: tuple[Any, bool], b: Any, overwrite_b: bool = False,
              check_finite: bool = True) -> Any:
    """``scipy.linalg.cho_solve((c, lower), b)``: reads only ``c``'s ``lower`` (or upper) triangle."""
    c, lower = c_and_lower
    if not any_tensor(c, b):
        return _sla().cho_solve((c, lower), b, check_finite=check_finite)
    c, b = as_tensors(c, b)
    factor = gk.tril(c) if lower else _mT(gk.triu(c))
    rhs, vec = _as_matrix_rhs(b)
    x = gk.cholesky_solve(rhs, factor, upper=False)
    return x.squeeze(-1) if vec else x


def lu_factor(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.lu_factor``: ``(lu, piv)`` with 0-based pivots."""
    if not isinstance(a, gk.Tensor):
        return _sla().lu_factor(a, check_finite=check_finite)
    # NOTE: SciPy factors a singular matrix too, with a LinAlgWarning (lu_factor would raise)
    lu, piv, info = gk.linalg.lu_factor_ex(a)
    if info.ndim == 0 and int(info) > 0:
        import warnings
        try:
            from scipy.linalg import LinAlgWarning
        except ImportError:  # pragma: no cover - SciPy is installed in the test environment
            LinAlgWarning = RuntimeWarning  # noqa: N806
        warnings.warn(f"Diagonal number {int(info)} is exactly zero. Singular matrix.", LinAlgWarning,
                      stacklevel=2)
    return lu, piv.numpy().astype(np.int32) - 1


def lu_solve(lu_and_piv: tuple[Any, Any], b: Any, trans: int = 0, overwrite_b: bool = False,
             check_finite: bool = True) -> Any:
    """``scipy.linalg.lu_solve((lu, piv), b, trans=0)``."""
    lu, piv = lu_and_piv
    if not any_tensor(lu, b):
        return _sla().lu_solve((lu, piv), b, trans=trans, check_finite=check_finite)
    lu, b = as_tensors(lu, b)
    piv = np.asarray(piv.numpy() if isinstance(piv, gk.Tensor) else piv) + 1
    rhs, vec = _as_matrix_rhs(b)
    pivots = gk.as_tensor(piv.astype(np.int32))
    if trans == 1 and lu.is_complex():
        rhs = gk.conj(rhs)
        x = gk.conj(gk.linalg.lu_solve(lu, pivots, rhs, adjoint=True))
    else:
        x = gk.linalg.lu_solve(lu, pivots, rhs, adjoint=bool(trans))
    return x.squeeze(-1) if vec else x


def expm(A: Any) -> Any:
    """``scipy.linalg.expm``: ``gradkit.linalg.matrix_exp``."""
    if not isinstance(A, gk.Tensor):
        return _sla().expm(A)
    return gk.linalg.matrix_exp(A)


def det(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.det``."""
    if not isinstance(a, gk.Tensor):
        return _sla().det(a, check_finite=check_finite)
    return gk.linalg.det(a)


def inv(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.inv``."""
    if not isinstance(a, gk.Tensor):
        return _sla().inv(a, check_finite=check_finite)
    return gk.linalg.inv(a)


def solve(a: Any, b: Any, lower: bool = False, overwrite_a: bool = False,
          overwrite_b: bool = False, check_finite: bool = True, assume_a: str = "gen",
          transposed: bool = False) -> Any:
    """``scipy.linalg.solve`` (``assume_a`` is a hint: every kind is solved as general)."""
    if not any_tensor(a, b):
        return _sla().solve(a, b, lower=lower, check_finite=check_finite, assume_a=assume_a,
                            transposed=transposed)
    a, b = as_tensors(a, b)
    if transposed:
        a = _mT(a)
    rhs, vec = _as_matrix_rhs(b)
    x = gk.linalg.solve(a, rhs)
    return x.squeeze(-1) if vec else x


def eigh(a: Any, b: Any = None, lower: bool = True, eigvals_only: bool = False, **kwargs: Any) -> Any:
    """``scipy.linalg.eigh`` for the standard problem (``b=None``): ``(w, v)`` or ``w``."""
    if not isinstance(a, gk.Tensor):
        return _sla().eigh(a, b, lower=lower, eigvals_only=eigvals_only, **kwargs)
    if b is not None or kwargs:
        raise NotImplementedError("gradkit.scipy.linalg.eigh: only the standard problem "
                                  "(b=None) without subset options")
    w, v = gk.linalg.eigh(a, UPLO="L" if lower else "U")
    return w if eigvals_only else (w, v)


def eigvalsh(a: Any, b: Any = None, lower: bool = True, **kwargs: Any) -> Any:
    """``scipy.linalg.eigvalsh`` for the standard problem."""
    return eigh(a, b, lower=lower, eigvals_only=True, **kwargs)


def pinv(a: Any, **kwargs: Any) -> Any:
    """``scipy.linalg.pinv``."""
    if not isinstance(a, gk.Tensor):
        return _sla().pinv(a, **kwargs)
    return gk.linalg.pinv(a)


# NOTE: the rest of scipy.linalg, as SciPy's own (no gradient).
__getattr__ = passthrough("linalg", __name__)
