"""OpSpecs for the gradkit.linalg primitives (inv, det, solve, ...).

Inputs are well conditioned: square matrices are diagonally dominant, symmetric
ones have eigenvalues at least 0.5 apart, and SVD inputs have singular values
at least 0.5 apart, so that finite differences are accurate and no gradient
meets a repeated eigenvalue. Decompositions whose vectors have a sign chosen by
LAPACK are checked through a sign-fixed version (first row made positive), which
is smooth where LAPACK's choice may flip. Symmetric-input functions (cholesky,
eigh, hermitian pinv) are applied to ``(A + A^T) / 2`` so that gradients with
respect to both triangles are checked.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import gradkit as gk
import gradkit.linalg as LA
from op_specs import OpSpec

__all__ = ["LINALG_EXTRA_SPECS"]

Shape = tuple[int, ...]
Maker = Callable[[np.random.Generator], list[np.ndarray]]


# --- samplers --------------------------------------------------------------------------------

def _geqrf_ref(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Householder QR column by column, LAPACK's convention (beta = -sign(alpha) |x|,
    v = x / (alpha - beta) below the diagonal, tau = (beta - alpha) / beta)."""
    a = np.array(a, dtype=np.float64)
    if a.ndim > 2:
        outs = [_geqrf_ref(m) for m in a]
        return np.stack([o[0] for o in outs]), np.stack([o[1] for o in outs])
    m, n = a.shape
    tau = np.zeros(min(m, n))
    for j in range(min(m, n)):
        alpha, x = a[j, j], a[j + 1:, j]
        if not np.any(x):
            continue
        beta = -np.copysign(np.hypot(alpha, np.linalg.norm(x)), alpha)
        tau[j] = (beta - alpha) / beta
        v = np.concatenate([[1.0], x / (alpha - beta)])
        a[j:, j + 1:] -= tau[j] * np.outer(v, v @ a[j:, j + 1:])
        a[j, j], a[j + 1:, j] = beta, v[1:]
    return a, tau

def _dominant_sym(*shapes: Shape) -> Maker:
    """Symmetric matrices with a diagonal that dominates each column by far: Bunch-Kaufman
    takes every pivot in place as a 1x1 block, so the LDL factors are Cholesky's rescaled."""
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        out = []
        for s in shapes:
            a = rng.uniform(-1.0, 1.0, s)
            out.append(a + _mT(a) + 4.0 * s[-1] * np.eye(s[-1]) if len(s) > 1 and s[-1] == s[-2] else a)
        return out
    return make


def _ldl_ref(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LD from Cholesky (``A = C C^T = L D L^T``, ``L = C / diag(C)``, ``D = diag(C)^2``), pivots
    1..n (no interchanges on a dominant diagonal)."""
    c = np.linalg.cholesky(np.tril(a) + _mT(np.tril(a, -1)))
    d = np.diagonal(c, axis1=-2, axis2=-1)
    ld = np.tril(c / d[..., None, :], -1) + d[..., None, :] ** 2 * np.eye(a.shape[-1])
    piv = np.broadcast_to(np.arange(1, a.shape[-1] + 1, dtype=np.int32), a.shape[:-1])
    return ld, piv


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def square(*shapes: Shape, shift: float = 3.0) -> Maker:
    """Diagonally dominant matrices ``U(-1, 1) + shift I`` with a random sign per row."""
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        out = []
        for s in shapes:
            n = s[-1]
            signs = rng.choice([-1.0, 1.0], s[:-1] + (1,))
            out.append((rng.uniform(-1.0, 1.0, s) + shift * np.eye(n)) * signs)
        return out
    return make


def _spectrum(rng: np.random.Generator, k: int, low: float, gap: float = 0.5) -> np.ndarray:
    """``k`` descending values, at least ``gap`` apart, the smallest about ``low``."""
    return (low + gap * np.arange(k)[::-1] + rng.uniform(0.0, gap / 4, k))


def symmetric(shape: Shape, low: float = -1.5, *extra: Shape) -> Maker:
    """Symmetric matrices ``Q diag(w) Q^T`` with eigenvalues ``w`` at least 0.5 apart."""
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        n = shape[-1]
        mats = []
        for _ in range(int(np.prod(shape[:-2], dtype=np.int64))):
            q = _orthogonal(rng, n)
            m = q @ np.diag(_spectrum(rng, n, low)) @ q.T
            mats.append((m + m.T) / 2)
        return [np.reshape(mats, shape)] + [rng.uniform(-1.0, 1.0, e) for e in extra]
    return make


def spd(shape: Shape) -> Maker:
    """Symmetric positive-definite matrices (eigenvalues from 0.5 up, 0.5 apart)."""
    return symmetric(shape, low=0.5)


def spread(shape: Shape, low: float = 0.5, rank: int | None = None) -> Maker:
    """``U diag(s) V^T`` with singular values ``s`` at least 0.5 apart (the last ``k - rank``
    of them zero when ``rank`` is given)."""
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        m, n = shape[-2:]
        k = min(m, n)
        mats = []
        for _ in range(int(np.prod(shape[:-2], dtype=np.int64))):
            s = _spectrum(rng, k, low)
            if rank is not None:
                s[rank:] = 0.0
            mats.append(_orthogonal(rng, m)[:, :k] @ np.diag(s) @ _orthogonal(rng, n)[:k])
        return [np.reshape(mats, shape)]
    return make


def _then(*makers: Maker) -> Maker:
    return lambda rng: [a for mk in makers for a in mk(rng)]


def _uniform(*shapes: Shape) -> Maker:
    return lambda rng: [rng.uniform(-1.0, 1.0, s) for s in shapes]


def _repeated_row(rng: np.random.Generator) -> list[np.ndarray]:
    """An exactly singular 3x3 matrix (two equal rows) with distinct nonzero singular values."""
    a = rng.uniform(-2.0, 2.0, (3, 3))
    a[1] = a[0]
    return [a]


# --- sign-fixed decompositions (the same on Tensors and on ndarrays) ---------------------------
def _mT(a: Any) -> Any:
    return a.mT if isinstance(a, gk.Tensor) else np.swapaxes(a, -1, -2)


def _sign(a: Any) -> Any:
    return gk.sign(a) if isinstance(a, gk.Tensor) else np.sign(a)


def _sym(a: Any) -> Any:
    return (a + _mT(a)) / 2


def _fix_cols(v: Any) -> Any:
    """Flip each column so that its first entry is positive."""
    return v * _sign(v[..., :1, :])


def _fix_svd(u: Any, s: Any, vh: Any) -> tuple[Any, Any, Any]:
    k = s.shape[-1]
    sign = _sign(u[..., :1, :k])
    return u[..., :k] * sign, s, vh[..., :k, :] * _mT(sign)


def _eigh(uplo: str = "L") -> tuple[Callable[..., Any], Callable[..., Any]]:
    def fn(a: Any) -> Any:
        w, v = LA.eigh(_sym(a), UPLO=uplo)
        return w, _fix_cols(v)

    def ref(a: np.ndarray) -> Any:
        w, v = np.linalg.eigh(_sym(a), UPLO=uplo)
        return w, _fix_cols(v)
    return fn, ref


def _eig_parts(eig: Callable[..., Any]) -> Callable[..., Any]:
    """Real, phase-free parts of ``eig``: Re and Im of the eigenvalues and ``|V|^2``."""
    def f(a: Any) -> tuple[Any, Any, Any]:
        w, v = eig(a)
        return w.real, w.imag, abs(v) ** 2
    return f


def _svd(full: bool) -> tuple[Callable[..., Any], Callable[..., Any]]:
    return (lambda a: _fix_svd(*LA.svd(a, full_matrices=full)),
            lambda a: _fix_svd(*np.linalg.svd(a, full_matrices=full)))


def _vec_solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.solve(a, b[..., None])[..., 0]


def _cross_ref(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.cross(x, y)


def _matrix_norm_ref(ord: Any) -> Callable[[np.ndarray], np.ndarray]:
    return lambda a: np.linalg.norm(a, ord, axis=(-2, -1))


def _lstsq_ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(a, b, rcond=None)[0]


def _pinv_sym_ref(a: np.ndarray) -> np.ndarray:
    return np.linalg.pinv(_sym(a), hermitian=True)


def _lu_ref(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L and U of LU with partial pivoting (scipy-free: the pivots come from gradkit's own
    forward, checked against PyTorch in test_oracle_linalg.py; here ``P L U = A``)."""
    p, low, up = (t.numpy() for t in LA.lu(gk.tensor(a)))
    assert np.allclose(p @ low @ up, a)
    return low, up


def _tall_lu(rng: np.random.Generator) -> list[np.ndarray]:
    a = rng.uniform(-1.0, 1.0, (4, 3))
    a[:3] += 3.0 * np.eye(3)                        # the pivots stay put: smooth in A
    return [a]


def _wide_lu(rng: np.random.Generator) -> list[np.ndarray]:
    a = rng.uniform(-1.0, 1.0, (3, 4))
    a[:, :3] += 3.0 * np.eye(3)
    return [a]


def _expm_ref(a: np.ndarray) -> np.ndarray:
    """Taylor series with scaling and squaring, in float64 (independent of gradkit's Pade)."""
    a = np.asarray(a, dtype=np.float64)
    s = 6
    x = a / 2.0 ** s
    term = np.broadcast_to(np.eye(a.shape[-1]), a.shape).copy()
    out = term.copy()
    for k in range(1, 25):
        term = term @ x / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


_EIGH, _EIGH_U = _eigh(), _eigh("U")
_SVD_REDUCED, _SVD_FULL = _svd(False), _svd(True)
_INF = float("inf")

LINALG_EXTRA_SPECS: list[OpSpec] = [
    # --- inverse, determinants ---
    OpSpec("inv", LA.inv, np.linalg.inv, make=square((3, 3))),
    OpSpec("inv", LA.inv, np.linalg.inv, make=square((2, 3, 3)), label="batch"),
    OpSpec("inv", lambda a: LA.matrix_power(a, -2), lambda a: np.linalg.matrix_power(a, -2),
           make=square((3, 3)), label="matrix_power-neg"),
    OpSpec("det", LA.det, np.linalg.det, make=square((3, 3))),
    OpSpec("det", LA.det, np.linalg.det, make=square((2, 3, 3)), label="batch"),
    OpSpec("det", LA.det, np.linalg.det, make=_repeated_row, label="singular"),
    OpSpec("slogdet", lambda a: tuple(LA.slogdet(a)), lambda a: tuple(np.linalg.slogdet(a)),
           make=square((3, 3))),
    OpSpec("slogdet", lambda a: tuple(LA.slogdet(a)), lambda a: tuple(np.linalg.slogdet(a)),
           make=square((2, 3, 3)), label="batch"),
    # --- solve ---
    OpSpec("solve", LA.solve, np.linalg.solve, make=_then(square((3, 3)), _uniform((3, 2)))),
    OpSpec("solve", LA.solve, _vec_solve, make=_then(square((3, 3)), _uniform((3,))), label="vector"),
    OpSpec("solve", LA.solve, np.linalg.solve, make=_then(square((2, 3, 3)), _uniform((3, 2))),
           label="broadcast-A"),
    OpSpec("solve", LA.solve, np.linalg.solve, make=_then(square((3, 3)), _uniform((2, 3, 1))),
           label="broadcast-B"),
    OpSpec("solve", lambda a, b: LA.solve(a, b, left=False), lambda a, b: b @ np.linalg.inv(a),
           make=_then(square((3, 3)), _uniform((2, 3))), label="right"),
    # --- factorizations ---
    OpSpec("cholesky", lambda a: LA.cholesky(_sym(a)), lambda a: np.linalg.cholesky(_sym(a)),
           make=spd((3, 3))),
    OpSpec("cholesky", lambda a: LA.cholesky(_sym(a)), lambda a: np.linalg.cholesky(_sym(a)),
           make=spd((2, 3, 3)), label="batch"),
    OpSpec("cholesky_upper", lambda a: LA.cholesky(_sym(a), upper=True),
           lambda a: _mT(np.linalg.cholesky(_sym(a))), make=spd((3, 3)), label="upper"),
    OpSpec("cholesky_upper", lambda a: LA.cholesky(_sym(a), upper=True),
           lambda a: _mT(np.linalg.cholesky(_sym(a))), make=spd((2, 3, 3)), label="upper-batch"),
    OpSpec("qr", lambda a: tuple(LA.qr(a)), lambda a: tuple(np.linalg.qr(a)), shapes=[(4, 3)]),
    OpSpec("qr", lambda a: tuple(LA.qr(a)), lambda a: tuple(np.linalg.qr(a)), make=square((3, 3)),
           label="square"),
    OpSpec("qr", lambda a: tuple(LA.qr(a)), lambda a: tuple(np.linalg.qr(a)), shapes=[(3, 4)],
           label="wide"),
    OpSpec("qr", lambda a: tuple(LA.qr(a, "complete")), lambda a: tuple(np.linalg.qr(a, "complete")),
           shapes=[(2, 3)], label="complete-wide"),
    OpSpec("qr", lambda a: tuple(LA.qr(a)), lambda a: tuple(np.linalg.qr(a)), shapes=[(2, 4, 2)],
           label="batch"),
    OpSpec("qr", lambda a: LA.qr(a, "r").R, lambda a: np.linalg.qr(a, "r"), shapes=[(4, 3)],
           label="mode-r", refused="The derivative of linalg.qr depends on Q, which is not "
                                   "computed when mode='r'"),
    OpSpec("geqrf", lambda a: tuple(gk.geqrf(a)), _geqrf_ref, shapes=[(4, 3)],
           refused="the derivative for 'geqrf' is not implemented"),
    OpSpec("geqrf", lambda a: tuple(gk.geqrf(a)), _geqrf_ref, shapes=[(2, 3, 4)], label="wide-batch",
           refused="the derivative for 'geqrf' is not implemented"),
    OpSpec("ldl_factor", lambda a: tuple(LA.ldl_factor(a)), _ldl_ref, make=_dominant_sym((4, 4)),
           refused="derivative for aten::linalg_ldl_factor_ex is not implemented"),
    OpSpec("ldl_factor", lambda a: tuple(LA.ldl_factor(a)), _ldl_ref, make=_dominant_sym((2, 3, 3)),
           label="batch", refused="derivative for aten::linalg_ldl_factor_ex is not implemented"),
    OpSpec("ldl_solve", lambda a, b: LA.ldl_solve(*LA.ldl_factor(a), b),
           lambda a, b: np.linalg.solve(np.tril(a) + _mT(np.tril(a, -1)), b),
           make=_dominant_sym((3, 3), (3, 2)),
           refused="derivative for aten::linalg_ldl_solve is not implemented"),
    OpSpec("eigh", _EIGH[0], _EIGH[1], make=symmetric((4, 4))),
    OpSpec("eigh", _EIGH[0], _EIGH[1], make=symmetric((2, 3, 3)), label="batch"),
    OpSpec("eigh", _EIGH_U[0], _EIGH_U[1], make=symmetric((3, 3)), label="upper"),
    OpSpec("eigh", lambda a: LA.eigvalsh(_sym(a)), lambda a: np.linalg.eigvalsh(_sym(a)),
           make=symmetric((3, 3)), label="eigvalsh"),
    OpSpec("eig", _eig_parts(LA.eig), _eig_parts(np.linalg.eig),
           make=lambda rng: [np.diag([1.0, 2.5, 4.0]) + rng.uniform(-0.4, 0.4, (3, 3))]),
    OpSpec("eig", _eig_parts(LA.eig), _eig_parts(np.linalg.eig), label="complex-pair",
           make=lambda rng: [np.array([[1.0, -2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 4.0]])
                             + rng.uniform(-0.3, 0.3, (3, 3))]),
    OpSpec("svd", _SVD_REDUCED[0], _SVD_REDUCED[1], make=spread((4, 3))),
    OpSpec("svd", _SVD_REDUCED[0], _SVD_REDUCED[1], make=spread((3, 4)), label="wide"),
    OpSpec("svd", _SVD_FULL[0], _SVD_FULL[1], make=spread((3, 3)), label="full-square"),
    OpSpec("svd", _SVD_FULL[0], _SVD_FULL[1], make=spread((4, 2)), label="full-tall"),
    OpSpec("svd", _SVD_REDUCED[0], _SVD_REDUCED[1], make=spread((2, 2, 3)), label="batch"),
    OpSpec("svd", LA.svdvals, lambda a: np.linalg.svd(a, compute_uv=False), make=spread((3, 4)),
           label="svdvals"),
    OpSpec("svd", lambda a: LA.matrix_norm(a, "nuc"), _matrix_norm_ref("nuc"), make=spread((2, 4, 3)),
           label="matrix_norm-nuc"),
    OpSpec("svd", lambda a: LA.matrix_norm(a, 2), _matrix_norm_ref(2), make=spread((4, 3)),
           label="matrix_norm-2"),
    OpSpec("svd", lambda a: LA.matrix_norm(a, -2), _matrix_norm_ref(-2), make=spread((3, 3)),
           label="matrix_norm-neg2"),
    # --- pseudoinverse and least squares ---
    OpSpec("pinv", LA.pinv, np.linalg.pinv, make=spread((3, 4))),
    OpSpec("pinv", LA.pinv, np.linalg.pinv, make=spread((4, 3)), label="tall"),
    OpSpec("pinv", LA.pinv, np.linalg.pinv, make=spread((2, 3, 2)), label="batch"),
    OpSpec("pinv", lambda a: LA.pinv(_sym(a), hermitian=True), _pinv_sym_ref, make=symmetric((3, 3)),
           label="hermitian"),
    OpSpec("lstsq", lambda a, b: LA.lstsq(a, b).solution, _lstsq_ref,
           make=_then(spread((4, 3)), _uniform((4, 2)))),
    OpSpec("lstsq", lambda a, b: LA.lstsq(a, b).solution, _lstsq_ref,
           make=_then(spread((4, 3)), _uniform((4,))), label="vector"),
    OpSpec("lstsq", lambda a, b: LA.lstsq(a, b).solution, lambda a, b: np.linalg.pinv(a) @ b,
           make=_then(spread((2, 3, 4)), _uniform((2, 3, 2))), label="wide-batch"),
    OpSpec("lstsq", lambda a, b: LA.lstsq(a, b, driver="gelsd").residuals,
           lambda a, b: np.linalg.lstsq(a, b, rcond=None)[1],
           make=_then(spread((4, 2)), _uniform((4, 2))), label="residuals"),
    # --- compositions of other primitives ---
    OpSpec("matmul", lambda a: LA.matrix_power(a, 3), lambda a: np.linalg.matrix_power(a, 3),
           shapes=[(3, 3)], label="matrix_power-3"),
    OpSpec("matmul", lambda a: LA.matrix_power(a, 6), lambda a: np.linalg.matrix_power(a, 6),
           shapes=[(2, 2, 2)], low=-1.0, high=1.0, label="matrix_power-batch"),
    OpSpec("norm", lambda a: LA.matrix_norm(a), _matrix_norm_ref("fro"), shapes=[(2, 3, 4)],
           label="matrix_norm-fro"),
    OpSpec("norm", lambda a: LA.vector_norm(a, 3, dim=(0, 2)), lambda a: np.sum(np.abs(a) ** 3, (0, 2))
           ** (1 / 3), shapes=[(2, 3, 2)], label="vector_norm-3"),
    OpSpec("norm", lambda a: LA.norm(a, -_INF), lambda a: np.linalg.norm(a, -np.inf),
           make=lambda rng: [np.array([0.5, -2.0, 1.25, 3.0])], label="linalg.norm-neg-inf"),
    OpSpec("amax", lambda a: LA.matrix_norm(a, 1), _matrix_norm_ref(1), shapes=[(3, 4)],
           label="matrix_norm-1"),
    OpSpec("amax", lambda a: LA.norm(a, _INF), lambda a: np.linalg.norm(a, np.inf), shapes=[(3, 4)],
           label="matrix_norm-inf"),
    OpSpec("amin", lambda a: LA.matrix_norm(a, -1, dim=(0, 2), keepdim=True),
           lambda a: np.linalg.norm(np.moveaxis(a, 1, 0), -1, axis=(-2, -1))[None, :, None],
           shapes=[(3, 2, 4)], label="matrix_norm-neg1-dims"),
    OpSpec("linalg_cross", LA.cross, _cross_ref, shapes=[(2, 3), (1, 3)]),  # same ndim (PyTorch)
    OpSpec("vdot", gk.vdot, np.vdot, shapes=[(4,), (4,)]),
    OpSpec("linalg_cross", lambda x, y: gk.cross(x, y, dim=0), lambda x, y: np.cross(x, y, axis=0),
           shapes=[(3, 4), (3, 1)], label="dim0"),
    # --- triangular solves, LU, matrix exponential ---
    OpSpec("solve_triangular", lambda a, b: LA.solve_triangular(a, b, upper=True),
           lambda a, b: np.linalg.solve(np.triu(a), b), make=_then(square((3, 3)), _uniform((3, 2)))),
    OpSpec("solve_triangular", lambda a, b: LA.solve_triangular(a, b, upper=False, unitriangular=True),
           lambda a, b: np.linalg.solve(np.tril(a, -1) + np.eye(3), b),
           make=_then(square((2, 3, 3)), _uniform((3, 2))), label="lower-unit-broadcast"),
    OpSpec("solve_triangular", lambda a, b: LA.solve_triangular(a, b, upper=True, left=False),
           lambda a, b: b @ np.linalg.inv(np.triu(a)), make=_then(square((3, 3)), _uniform((2, 3))),
           label="right"),
    OpSpec("solve_triangular", lambda b, a: LA.cholesky_solve(b, LA.cholesky(_sym(a))),
           lambda b, a: np.linalg.solve(_sym(a), b), make=_then(_uniform((3, 2)), spd((3, 3))),
           label="cholesky_solve"),
    OpSpec("lu", lambda a: tuple(LA.lu(a))[1:], _lu_ref, make=square((3, 3))),
    OpSpec("lu", lambda a: tuple(LA.lu(a))[1:], _lu_ref, make=square((2, 3, 3)), label="batch"),
    OpSpec("lu", lambda a: tuple(LA.lu(a))[1:], _lu_ref, make=_tall_lu, label="tall"),
    OpSpec("lu", lambda a: tuple(LA.lu(a))[1:], _lu_ref, make=_wide_lu, label="wide"),
    OpSpec("lu", lambda a, b: LA.lu_solve(*LA.lu_factor(a), b), np.linalg.solve,
           make=_then(square((3, 3)), _uniform((3, 2))), label="lu_solve"),
    OpSpec("matrix_exp", LA.matrix_exp, _expm_ref, shapes=[(3, 3)], low=-1.0, high=1.0),
    OpSpec("matrix_exp", LA.matrix_exp, _expm_ref, shapes=[(2, 2, 2)], low=-3.0, high=3.0,
           label="batch-scaled"),
]
