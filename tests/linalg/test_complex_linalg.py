"""Complex inputs to inv/det/slogdet/solve/cholesky/pinv/cond/matrix_rank (they raised
NotImplementedError): values against NumPy, gradients by finite differences (gradcheck) and,
where PyTorch is installed, against torch 2.13 (its conventions: g * conj(df/dz))."""
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
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_numpy(name):
    f, ref, args = CASES[name]
    out = f(gk, *[gk.tensor(a) for a in args])
    np.testing.assert_allclose(out.numpy(), ref(*args), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
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


@pytest.mark.parametrize("name", sorted(CASES))
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
        grads.append([g.numpy() for g in L.autograd.grad(loss, ts)])
    for gt, gg in zip(*grads):
        np.testing.assert_allclose(gg, gt, rtol=1e-8, atol=1e-10)


def test_matrix_rank_of_complex():
    a = _c(3, 2) @ _c(2, 3)
    assert int(gk.linalg.matrix_rank(gk.tensor(a))) == 2 == np.linalg.matrix_rank(a)


def test_cholesky_upper_grad_fn_is_pytorchs():
    a = gk.tensor([[4.0, 2.0], [2.0, 3.0]], requires_grad=True)
    assert gk.linalg.cholesky(a, upper=True).grad_fn.name() == "LinalgCholeskyExBackward0"


def test_still_refused_complex_inputs_name_the_function_once():
    a = gk.tensor(np.eye(2) * (1 + 1j))
    with pytest.raises(NotImplementedError, match=r"^torch\.lu_factor: complex inputs"):
        gk.linalg.lu_factor(a)
    with pytest.raises(NotImplementedError, match=r"^linalg\.qr: complex inputs"):
        gk.linalg.qr(a)
