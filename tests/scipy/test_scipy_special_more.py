"""More of scipy.special on tensors: plain ``scipy.special.f(t)`` (NumPy's ufunc dispatch) gives
SciPy's values and a gradient that matches central finite differences of SciPy's own function
in float64; removable singularities get their analytic derivative."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradkit as gk
import gradkit.func as gf

sps = pytest.importorskip("scipy.special")

RNG = np.random.default_rng(21)
X = RNG.uniform(0.2, 0.9, 5)
LAMS = np.array([0.0, 1e-7, 0.3, -1e-5, 1.0])
COUNTS = np.array([0.0, 1.0, 2.5, 3.0, 4.0])

CASES = {
    "expm1": lambda a: sps.expm1(a),
    "log1p": lambda a: sps.log1p(a),
    "exp2": lambda a: sps.exp2(a),
    "loggamma": lambda a: sps.loggamma(3 * a),
    "cosm1": lambda a: sps.cosm1(a),
    "cosdg": lambda a: sps.cosdg(100 * a),
    "sindg": lambda a: sps.sindg(100 * a),
    "tandg": lambda a: sps.tandg(50 * a),
    "cotdg": lambda a: sps.cotdg(50 * a),
    "radian": lambda a: sps.radian(30 * a, 10 * a, 5.0),
    "exprel": lambda a: sps.exprel(a - 0.5),
    "boxcox": lambda a: sps.boxcox(a + 1, a - 0.5),
    "boxcox_small_lambda": lambda a: sps.boxcox(a + 1, LAMS),
    "boxcox1p": lambda a: sps.boxcox1p(a, a - 0.3),
    "inv_boxcox": lambda a: sps.inv_boxcox(a, a - 0.5),
    "inv_boxcox_small_lambda": lambda a: sps.inv_boxcox(a, LAMS),
    "inv_boxcox1p": lambda a: sps.inv_boxcox1p(a, a - 0.5),
    "huber": lambda a: sps.huber(0.5, 2 * a - 1),
    "huber_delta": lambda a: sps.huber(a, np.array([0.1, 2.0, -0.3, 0.7, -5.0])),
    "pseudo_huber": lambda a: sps.pseudo_huber(a, 3 * a - 1),
    "powm1": lambda a: sps.powm1(a + 0.5, a - 0.4),
    "gdtr": lambda a: sps.gdtr(2.0, 3.0, 3 * a),
    "gdtrc_rate": lambda a: sps.gdtrc(a + 1, 3.0, 2.0),
    "chdtr": lambda a: sps.chdtr(3.0, 4 * a),
    "chdtrc": lambda a: sps.chdtrc(3.0, 4 * a),
    "pdtr": lambda a: sps.pdtr(COUNTS, 3 * a),
    "pdtrc": lambda a: sps.pdtrc(COUNTS, 3 * a),
    "bdtr": lambda a: sps.bdtr(COUNTS, 6, a),
    "bdtrc": lambda a: sps.bdtrc(COUNTS, 6, a),
    "nbdtr": lambda a: sps.nbdtr(np.arange(5.0), 3, a),
    "nbdtrc": lambda a: sps.nbdtrc(np.arange(5.0), 3, a),
    "fdtr": lambda a: sps.fdtr(3.0, 5.0, 3 * a),
    "fdtrc": lambda a: sps.fdtrc(3.0, 5.0, 3 * a),
    "stdtr": lambda a: sps.stdtr(4.0, 4 * a - 2),
    "kn": lambda a: sps.kn(2, 3 * a),
    "eval_legendre": lambda a: sps.eval_legendre(3, 2 * a - 1),
    "eval_legendre_degrees": lambda a: sps.eval_legendre(np.array([0, 1, 2, 5, 3]), 2 * a - 1),
    "eval_sh_legendre": lambda a: sps.eval_sh_legendre(4, a),
    "eval_chebyt": lambda a: sps.eval_chebyt(5, a),
    "eval_sh_chebyt": lambda a: sps.eval_sh_chebyt(3, a),
    "eval_hermite": lambda a: sps.eval_hermite(4, a),
    "eval_hermitenorm": lambda a: sps.eval_hermitenorm(4, a),
    "eval_laguerre": lambda a: sps.eval_laguerre(3, a),
}


def fd_grad(f, x, w, h=1e-6):
    return np.array([(np.sum(f(x + h * e) * w) - np.sum(f(x - h * e) * w)) / (2 * h)
                     for e in np.eye(x.size)])


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradient(name):
    f = CASES[name]
    want = np.asarray(f(X.copy()))
    got = f(gk.tensor(X.copy()))
    assert isinstance(got, gk.Tensor)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)
    w = RNG.standard_normal(want.shape)
    g = gf.grad(lambda a: np.sum(f(a) * w))(X.copy())
    np.testing.assert_allclose(g, fd_grad(f, X, w), rtol=1e-5, atol=1e-6)


def test_derivatives_at_the_removable_singularities():
    # d/dx exprel(x) at 0 = 1/2; d/dlambda boxcox(x, lambda) at 0 = log(x)**2 / 2;
    # d/dlambda inv_boxcox(y, lambda) at 0 = -exp(y) y**2 / 2
    assert gf.grad(lambda x: sps.exprel(x))(0.0) == pytest.approx(0.5, rel=1e-12)
    assert gf.grad(lambda lam: sps.boxcox(2.5, lam))(0.0) == \
        pytest.approx(math.log(2.5) ** 2 / 2, rel=1e-12)
    assert gf.grad(lambda lam: sps.inv_boxcox(0.7, lam))(0.0) == \
        pytest.approx(-math.exp(0.7) * 0.49 / 2, rel=1e-12)


def test_loggamma_of_negative_reals_is_nan_as_scipy():
    x = np.array([-0.5, -2.5, 0.0, 2.0])
    got = sps.loggamma(gk.tensor(x, requires_grad=True))
    np.testing.assert_array_equal(np.isnan(got.detach().numpy()), np.isnan(sps.loggamma(x)))
    np.testing.assert_allclose(got.detach().numpy()[2:], sps.loggamma(x)[2:])


def test_orthogonal_polynomials_refuse_non_integer_degrees():
    with pytest.raises(NotImplementedError, match="non-integer degree"):
        sps.eval_legendre(2.5, gk.tensor(X, requires_grad=True))


def test_counting_distributions_follow_scipys_truncation_and_edges():
    k = np.array([0.0, 1.0, 2.5, 3.0, 4.0, 7.0, -1.0])
    n = np.array([6.0, 6.7, 6.0, 2.0, 4.0, 9.0, 5.0])
    for name in ("bdtr", "bdtrc", "nbdtr", "nbdtrc"):
        fn = getattr(sps, name)
        got = fn(gk.tensor(k), n, gk.tensor(np.full(7, 0.3), requires_grad=True))
        np.testing.assert_allclose(got.detach().numpy(), fn(k, n, 0.3), rtol=1e-12,
                                   equal_nan=True, err_msg=name)
    np.testing.assert_allclose(sps.kn(gk.tensor(np.array([1.7, 2.2])), 2.0).numpy(),
                               sps.kn([1.7, 2.2], 2.0),
                               rtol=1e-12)
