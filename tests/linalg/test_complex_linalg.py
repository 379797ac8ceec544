"""Complex inputs to inv/det/slogdet/solve/cholesky/pinv/cond/matrix_rank, and to qr, lstsq,
matrix_exp, the LU family, solve_triangular, triangular_solve, vecdot and logdet (they raised
NotImplementedError or gave real numbers): values against NumPy/SciPy, gradients by finite
differences (gradcheck) and, where PyTorch is installed, against torch 2.13 (its conventions:
g * conj(df/dz))."""
import numpy as np
import pytest

import gradkit as gk

rng = np.random.default_rng(7)


def _c(n, m=None, pd=False):
    a = rng.standard_normal((n, m or n)) + 1j * rng.standard_normal((n, m or n))
    if pd:
        a = a @ a.conj().T + n * np.eye(n)
        a = (a + a.conj().T) / 2
    return a


def _tri(n, upper=True):
    """A well-conditioned triangular matrix (with noise in the other triangle, which is not read)."""
    return _c(n) + 3 * np.eye(n)


def _lu_ref(a):
    """SciPy's getrf: (P, L, U) with A = P L U."""
    import scipy.linalg
    return scipy.linalg.lu(a)


def _tri_ref(a, b, upper, left=True, unit=False):
    t = np.triu(a) if upper else np.tril(a)
    if unit:
        np.fill_diagonal(t, 1)
    return np.linalg.solve(t, b) if left else np.linalg.solve(t.T, b.T).T


def _lstsq_ref(a, b):
    return np.linalg.lstsq(a, b, rcond=None)[0]


def _vecdot_ref(x, y):
    return np.sum(np.conj(x) * y, -1)


CASES = {
    "inv": (lambda L, a: L.linalg.inv(a), lambda a: np.linalg.inv(a), [_c(3)]),
    "det": (lambda L, a: L.linalg.det(a), lambda a: np.linalg.det(a), [_c(3)]),
    "slogdet_sign": (lambda L, a: L.linalg.slogdet(a)[0], lambda a: np.linalg.slogdet(a)[0], [_c(3)]),
    "slogdet_abs": (lambda L, a: L.linalg.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1], [_c(3)]),
    "cholesky": (lambda L, a: L.linalg.cholesky(a), lambda a: np.linalg.cholesky(a), [_c(3, pd=True)]),
    "cholesky_upper": (lambda L, a: L.linalg.cholesky(a, upper=True),
                       lambda a: np.linalg.cholesky(a).conj().T, [_c(3, pd=True)]),
    "solve": (lambda L, a, b: L.linalg.solve(a, b), np.linalg.solve, [_c(3), _c(3, 2)]),
    "pinv_wide": (lambda L, a: L.linalg.pinv(a), np.linalg.pinv, [_c(2, 4)]),
    "pinv_tall": (lambda L, a: L.linalg.pinv(a), np.linalg.pinv, [_c(4, 2)]),
    "pinv_herm": (lambda L, a: L.linalg.pinv(a, hermitian=True), np.linalg.pinv, [_c(3, pd=True)]),
    "cond": (lambda L, a: L.linalg.cond(a), np.linalg.cond, [_c(3)]),
    "matrix_power3": (lambda L, a: L.linalg.matrix_power(a, 3),
                      lambda a: np.linalg.matrix_power(a, 3), [_c(3)]),
    "matrix_power-2": (lambda L, a: L.linalg.matrix_power(a, -2),
                       lambda a: np.linalg.matrix_power(a, -2), [_c(3)]),
    "tensorinv": (lambda L, a: L.linalg.tensorinv(a.reshape(2, 2, 4), ind=2),
                  lambda a: np.linalg.tensorinv(a.reshape(2, 2, 4), ind=2), [_c(4)]),
    "tensorsolve": (lambda L, a, b: L.linalg.tensorsolve(a.reshape(2, 2, 4), b.reshape(2, 2)),
                    lambda a, b: np.linalg.tensorsolve(a.reshape(2, 2, 4), b.reshape(2, 2)),
                    [_c(4), _c(4, 1)]),
    # QR: LAPACK's R has a real diagonal (the same Householder convention in NumPy and PyTorch)
    "qr_Q": (lambda L, a: L.linalg.qr(a)[0], lambda a: np.linalg.qr(a)[0], [_c(3)]),
    "qr_R": (lambda L, a: L.linalg.qr(a)[1], lambda a: np.linalg.qr(a)[1], [_c(3)]),
    "qr_tall_Q": (lambda L, a: L.linalg.qr(a)[0], lambda a: np.linalg.qr(a)[0], [_c(4, 2)]),
    "qr_tall_R": (lambda L, a: L.linalg.qr(a)[1], lambda a: np.linalg.qr(a)[1], [_c(4, 2)]),
    "qr_wide_Q": (lambda L, a: L.linalg.qr(a)[0], lambda a: np.linalg.qr(a)[0], [_c(2, 4)]),
    "qr_wide_R": (lambda L, a: L.linalg.qr(a)[1], lambda a: np.linalg.qr(a)[1], [_c(2, 4)]),
    "qr_complete_wide_R": (lambda L, a: L.linalg.qr(a, "complete")[1],
                           lambda a: np.linalg.qr(a, "complete")[1], [_c(2, 3)]),
    "lstsq": (lambda L, a, b: L.linalg.lstsq(a, b).solution, _lstsq_ref, [_c(4, 2), _c(4, 3)]),
    "lstsq_wide": (lambda L, a, b: L.linalg.lstsq(a, b, driver="gelsd").solution, _lstsq_ref,
                   [_c(2, 3), _c(2, 2)]),
    "lstsq_residuals": (lambda L, a, b: L.linalg.lstsq(a, b, driver="gelsd").residuals,
                        lambda a, b: np.linalg.lstsq(a, b, rcond=None)[1], [_c(4, 2), _c(4, 3)]),
    "matrix_exp": (lambda L, a: L.linalg.matrix_exp(a), lambda a: __import__("scipy.linalg").linalg.expm(a),
                   [_c(3) * 0.7]),
    "lu_L": (lambda L, a: L.linalg.lu(a).L, lambda a: _lu_ref(a)[1], [_c(3)]),
    "lu_U": (lambda L, a: L.linalg.lu(a).U, lambda a: _lu_ref(a)[2], [_c(3)]),
    "lu_P": (lambda L, a: L.linalg.lu(a).P, lambda a: _lu_ref(a)[0], [_c(3)]),
    "lu_tall_L": (lambda L, a: L.linalg.lu(a).L, lambda a: _lu_ref(a)[1], [_c(4, 2)]),
    "lu_tall_U": (lambda L, a: L.linalg.lu(a).U, lambda a: _lu_ref(a)[2], [_c(4, 2)]),
    "lu_wide_L": (lambda L, a: L.linalg.lu(a).L, lambda a: _lu_ref(a)[1], [_c(2, 4)]),
    "lu_wide_U": (lambda L, a: L.linalg.lu(a).U, lambda a: _lu_ref(a)[2], [_c(2, 4)]),
    "lu_factor": (lambda L, a: L.linalg.lu_factor(a).LU,
                  lambda a: __import__("scipy.linalg").linalg.lu_factor(a)[0], [_c(3)]),
    "lu_unpack_U": (lambda L, a: L.lu_unpack(*L.linalg.lu_factor(a))[2], lambda a: _lu_ref(a)[2], [_c(3)]),
    "lu_solve": (lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b), np.linalg.solve,
                 [_c(3), _c(3, 2)]),
    "lu_solve_adjoint": (lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b, adjoint=True),
                         lambda a, b: np.linalg.solve(a.conj().T, b), [_c(3), _c(3, 2)]),
    "lu_solve_right": (lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b, left=False),
                       lambda a, b: np.linalg.solve(a.T, b.T).T, [_c(3), _c(2, 3)]),
    "lu_solve_right_adjoint": (lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b, left=False,
                                                                 adjoint=True),
                               lambda a, b: np.linalg.solve(a.conj(), b.T).T, [_c(3), _c(2, 3)]),
    "solve_triangular_upper": (lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True),
                               lambda a, b: _tri_ref(a, b, True), [_tri(3), _c(3, 2)]),
    "solve_triangular_lower_right": (lambda L, a, b: L.linalg.solve_triangular(a, b, upper=False,
                                                                               left=False),
                                     lambda a, b: _tri_ref(a, b, False, left=False), [_tri(3), _c(2, 3)]),
    "solve_triangular_unit": (lambda L, a, b: L.linalg.solve_triangular(a, b, upper=False,
                                                                        unitriangular=True),
                              lambda a, b: _tri_ref(a, b, False, unit=True), [_tri(3), _c(3, 2)]),
    "triangular_solve_transpose": (lambda L, a, b: L.triangular_solve(b, a, transpose=True).solution,
                                   lambda a, b: np.linalg.solve(np.triu(a).T, b), [_tri(3), _c(3, 2)]),
    "vecdot": (lambda L, x, y: L.linalg.vecdot(x, y), _vecdot_ref, [_c(2, 3), _c(2, 3)]),
    "logdet": (lambda L, a: L.logdet(a), lambda a: np.log(np.linalg.det(a)), [_c(3)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_numpy(name):
    f, ref, args = CASES[name]
    out = f(gk, *[gk.tensor(a) for a in args])
    np.testing.assert_allclose(out.numpy(), ref(*args), rtol=1e-10, atol=1e-12)


#: P is a constant (no gradient, as in PyTorch)
GRAD_CASES = sorted(set(CASES) - {"lu_P"})


@pytest.mark.parametrize("name", GRAD_CASES)
def test_gradients_by_finite_differences(name):
    f, _, args = CASES[name]
    ts = tuple(gk.tensor(a, requires_grad=True) for a in args)
    if name.startswith("cholesky") or name == "pinv_herm":
        # the function reads one triangle: differentiate along Hermitian matrices only
        def wrap(x):
            return f(gk, (x + x.mH) / 2)
        assert gk.autograd.gradcheck(wrap, ts)
    else:
        assert gk.autograd.gradcheck(lambda *xs: f(gk, *xs), ts)


@pytest.mark.parametrize("name", GRAD_CASES)
def test_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    f, _, args = CASES[name]
    y0 = f(torch, *[torch.tensor(a) for a in args])
    w = rng.standard_normal(tuple(y0.shape)) + (1j * rng.standard_normal(tuple(y0.shape))
                                                if y0.is_complex() else 0)
    grads = []
    for L in (torch, gk):
        ts = [L.tensor(a, requires_grad=True) for a in args]
        y = f(L, *ts)
        weight = L.tensor(np.conj(w) if y.is_complex() else w)
        loss = (y * weight).real.sum() if y.is_complex() else (y * weight).sum()
        gs = L.autograd.grad(loss, ts)
        grads.append([g.resolve_conj().numpy() if L is torch else g.numpy() for g in gs])
    for gt, gg in zip(*grads):
        np.testing.assert_allclose(gg, gt, rtol=1e-8, atol=1e-10)


def test_matrix_rank_of_complex():
    a = _c(3, 2) @ _c(2, 3)
    assert int(gk.linalg.matrix_rank(gk.tensor(a))) == 2 == np.linalg.matrix_rank(a)


def test_cholesky_upper_grad_fn_is_pytorchs():
    a = gk.tensor([[4.0, 2.0], [2.0, 3.0]], requires_grad=True)
    assert gk.linalg.cholesky(a, upper=True).grad_fn.name() == "LinalgCholeskyExBackward0"


def test_logdet_of_singular_complex_is_pytorchs():
    # recorded from PyTorch 2.13: torch.logdet(torch.zeros(2, 2, dtype=torch.complex128))
    out = gk.logdet(gk.zeros(2, 2, dtype=gk.complex128)).item()
    assert out.real == -np.inf and np.isnan(out.imag)


def test_lstsq_of_complex_has_real_residuals_and_singular_values():
    a, b = gk.tensor(_c(4, 2)), gk.tensor(_c(4, 3))
    for driver in ("gels", "gelsy", "gelsd", "gelss"):
        r = gk.linalg.lstsq(a, b, driver=driver)
        assert r.residuals.dtype is gk.float64 and r.singular_values.dtype is gk.float64


SECOND_ORDER = ["qr_Q", "qr_wide_R", "lu_U", "lu_tall_L", "matrix_exp", "solve_triangular_upper",
                "lu_solve_right_adjoint", "lstsq", "logdet"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives_by_finite_differences(name):
    f, _, args = CASES[name]
    ts = tuple(gk.tensor(a, requires_grad=True) for a in args)
    assert gk.autograd.gradgradcheck(lambda *xs: f(gk, *xs), ts)


@pytest.mark.parametrize("name", ["qr_Q", "qr_R", "lu_U", "lu_wide_L", "matrix_exp",
                                  "solve_triangular_upper", "lu_solve_adjoint", "lstsq", "vecdot",
                                  "logdet"])
def test_forward_mode_matches_torch(name):
    torch = pytest.importorskip("torch")
    f, _, args = CASES[name]
    r = np.random.default_rng(3)
    tans = [r.standard_normal(a.shape) + 1j * r.standard_normal(a.shape) for a in args]
    _, want = torch.func.jvp(lambda *xs: f(torch, *xs), tuple(torch.tensor(a) for a in args),
                             tuple(torch.tensor(t) for t in tans))
    _, got = gk.func.jvp(lambda *xs: f(gk, *xs), tuple(gk.tensor(a) for a in args),
                         tuple(gk.tensor(t) for t in tans))
    np.testing.assert_allclose(got.numpy(), want.resolve_conj().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fn", [lambda x: gk.linalg.qr(x).Q, lambda x: gk.linalg.lu(x).U,
                                gk.linalg.matrix_exp], ids=["qr", "lu", "matrix_exp"])
def test_batched_complex_gradients(fn):
    a = np.random.default_rng(0).standard_normal((2, 3, 3, 2)) @ np.array([1, 1j])
    assert gk.autograd.gradcheck(fn, (gk.tensor(a, requires_grad=True),))
