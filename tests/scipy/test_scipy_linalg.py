"""gradkit.scipy.linalg: SciPy's values and conventions; derivatives against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

import gradkit as gk
from gradkit.autograd import gradcheck, gradgradcheck
from gradkit.scipy import linalg as G

RNG = np.random.default_rng(3)


def t(a, grad=True):
    return gk.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


A = RNG.normal(size=(4, 4)) + 3 * np.eye(4)
SPD = A @ A.T + np.eye(4)
B = RNG.normal(size=(4, 3))
b = RNG.normal(size=4)


def sym(m):
    return 0.5 * (m + m.transpose(-2, -1))


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("trans", [0, 1, "T"])
@pytest.mark.parametrize("rhs", [B, b], ids=["matrix", "vector"])
def test_solve_triangular(lower, trans, rhs):
    ref = sl.solve_triangular(A, rhs, trans=trans, lower=lower)
    fn = lambda a, y: G.solve_triangular(a, y, trans=trans, lower=lower)  # noqa: E731
    np.testing.assert_allclose(fn(t(A), rhs).detach().numpy(), ref)
    assert gradcheck(fn, (t(A), t(rhs)))


@pytest.mark.parametrize("lower", [True, False])
def test_cholesky_family(lower):
    np.testing.assert_allclose(G.cholesky(t(SPD), lower=lower).detach().numpy(),
                               sl.cholesky(SPD, lower=lower))
    c = G.cho_factor(t(SPD), lower=lower)
    assert c[1] is lower
    np.testing.assert_allclose(G.cho_solve(c, B).detach().numpy(),
                               sl.cho_solve(sl.cho_factor(SPD, lower=lower), B))
    # SciPy's factor (other triangle holding leftovers) with a tensor right-hand side
    np.testing.assert_allclose(G.cho_solve(sl.cho_factor(SPD, lower=lower), t(b)).detach().numpy(),
                               sl.cho_solve(sl.cho_factor(SPD, lower=lower), b))
    assert gradcheck(lambda m, y: G.cho_solve(G.cho_factor(sym(m), lower=lower), y), (t(SPD), t(B)))


@pytest.mark.parametrize("trans", [0, 1])
def test_lu(trans):
    lu, piv = G.lu_factor(t(A))
    ref_lu, ref_piv = sl.lu_factor(A)
    np.testing.assert_allclose(lu.detach().numpy(), ref_lu)
    np.testing.assert_array_equal(piv, ref_piv)
    np.testing.assert_allclose(G.lu_solve((lu, piv), B, trans=trans).detach().numpy(),
                               sl.lu_solve((ref_lu, ref_piv), B, trans=trans))
    assert gradcheck(lambda m, y: G.lu_solve(G.lu_factor(m), y, trans=trans), (t(A), t(b)))


def test_lu_factor_of_singular_matrix_warns_as_scipy():
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.warns(sl.LinAlgWarning, match="Diagonal number 2 is exactly zero. Singular matrix."):
        lu, piv = G.lu_factor(t(s, grad=False))
    ref_lu, ref_piv = sl.lu_factor(s)
    np.testing.assert_array_equal(lu.numpy(), ref_lu)
    np.testing.assert_array_equal(piv, ref_piv)


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_of_complex(trans):
    a = A + 1j * RNG.normal(size=(4, 4))
    rhs = B + 1j * RNG.normal(size=(4, 3))
    lu, piv = G.lu_factor(gk.tensor(a))
    ref = sl.lu_factor(a)
    np.testing.assert_allclose(lu.numpy(), ref[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(piv, ref[1])
    np.testing.assert_allclose(G.lu_solve((lu, piv), gk.tensor(rhs), trans=trans).numpy(),
                               sl.lu_solve(ref, rhs, trans=trans), rtol=1e-10)


@pytest.mark.parametrize("lu", [(1, 1), (2, 1), (0, 2)])
def test_solve_banded(lu):
    n = 6
    ab = RNG.normal(size=(sum(lu) + 1, n))
    ab[lu[1]] += 4.0                                 # a dominant diagonal
    y = RNG.normal(size=(n, 2))
    np.testing.assert_allclose(G.solve_banded(lu, t(ab), y).detach().numpy(),
                               sl.solve_banded(lu, ab, y))
    assert gradcheck(lambda m, r: G.solve_banded(lu, m, r), (t(ab), t(y[:, 0])))


def test_solve_sylvester():
    a, bb, q = RNG.normal(size=(3, 3)), RNG.normal(size=(2, 2)), RNG.normal(size=(3, 2))
    np.testing.assert_allclose(G.solve_sylvester(t(a), bb, q).detach().numpy(),
                               sl.solve_sylvester(a, bb, q))
    assert gradcheck(G.solve_sylvester, (t(a), t(bb), t(q)))
    assert gradgradcheck(G.solve_sylvester, (t(a), t(bb), t(q)))


def test_sqrtm_value_and_derivatives():
    np.testing.assert_allclose(G.sqrtm(t(SPD)).detach().numpy(), sl.sqrtm(SPD))
    f = lambda m: G.sqrtm(sym(m))  # noqa: E731
    assert gradcheck(f, (t(SPD),))
    assert gradgradcheck(f, (t(SPD),))
    g = RNG.normal(size=(3, 3))
    assert gradcheck(G.sqrtm, (t(g @ g.T + 3 * np.eye(3) + 0.3 * RNG.normal(size=(3, 3))),))
    _, tangent = gk.func.jvp(G.sqrtm, (t(SPD, False),), (t(np.eye(4), False),))
    root = sl.sqrtm(SPD)                            # X dX + dX X = I
    np.testing.assert_allclose(root @ np.asarray(tangent) + np.asarray(tangent) @ root, np.eye(4),
                               atol=1e-10)


def test_sqrtm_of_a_matrix_with_negative_eigenvalues_is_complex():
    m = np.diag([4.0, -1.0, 2.0]) + 0.1
    got = G.sqrtm(t(m))
    assert got.is_complex()
    np.testing.assert_allclose(got.detach().numpy(), sl.sqrtm(m))


def test_passthroughs():
    np.testing.assert_allclose(G.expm(t(A)).detach().numpy(), sl.expm(A))
    np.testing.assert_allclose(G.det(t(A)).detach().numpy(), sl.det(A))
    np.testing.assert_allclose(G.inv(t(A)).detach().numpy(), sl.inv(A))
    np.testing.assert_allclose(G.solve(t(A), b).detach().numpy(), sl.solve(A, b))
    w, v = G.eigh(t(SPD))
    np.testing.assert_allclose(w.detach().numpy(), sl.eigh(SPD)[0])
    np.testing.assert_allclose(G.eigvalsh(t(SPD)).detach().numpy(), sl.eigvalsh(SPD))
    assert gradcheck(lambda m: G.expm(m), (t(A * 0.3),))
    assert isinstance(G.expm(A), np.ndarray)
    assert G.hadamard is sl.hadamard
