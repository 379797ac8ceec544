"""Field operators on sampled grids, checked against analytic derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import numeric
from gradkit.autograd.gradcheck import gradcheck

X1, X2 = np.linspace(-1, 1, 9), np.cumsum(np.linspace(0.5, 1.0, 8)) / 4
G0, G1 = np.meshgrid(X1, X2, indexing="ij")


def test_divergence_curl_2d_quadratic_exact() -> None:
    # u = (x0^2 + x1, x0 x1): quadratics, so edge_order=2 is exact everywhere.
    u = [G0 ** 2 + G1, G0 * G1]
    div = numeric.divergence(u, X1, X2, edge_order=2)
    np.testing.assert_allclose(div, 2 * G0 + G0, atol=1e-12)
    cur = numeric.curl(u, X1, X2, edge_order=2)
    np.testing.assert_allclose(cur, G1 - 1.0, atol=1e-12)
    np.testing.assert_allclose(numeric.divergence(np.stack(u), X1, X2, edge_order=2), div)


def test_curl_3d_and_div_of_curl() -> None:
    x = np.linspace(0, 1, 7)
    a, b, c = np.meshgrid(x, x, x, indexing="ij")
    u = [b * c, a ** 2, a * b]     # curl = (a - 0, b - b, 2a - c)
    cur = numeric.curl(u, x, x, x, edge_order=2)
    assert cur.shape == (3, 7, 7, 7)
    np.testing.assert_allclose(cur[0], a, atol=1e-12)
    np.testing.assert_allclose(cur[1], 0 * a, atol=1e-12)
    np.testing.assert_allclose(cur[2], 2 * a - c, atol=1e-12)
    with pytest.raises(ValueError, match="2-D and 3-D"):
        numeric.curl([np.ones(4)], 1.0)


@pytest.mark.parametrize("accuracy", [2, 4, 6])
def test_laplacian_and_hessian(accuracy: int) -> None:
    x = np.linspace(0, 1, 41)
    y = np.linspace(0, 2, 43)
    X, Y = np.meshgrid(x, y, indexing="ij")
    f = np.sin(2 * X) * np.exp(Y)
    lap = numeric.laplacian(f, x, y, accuracy=accuracy, edge_order=accuracy)
    exact = -4 * f + f
    tol = {2: 5e-2, 4: 1e-4, 6: 1e-6}[accuracy]
    np.testing.assert_allclose(lap, exact, atol=tol * np.abs(exact).max())
    H = numeric.hessian(f, x, y, accuracy=accuracy, edge_order=accuracy)
    assert H.shape == (2, 2) + f.shape
    np.testing.assert_allclose(H[0, 0] + H[1, 1], lap, atol=1e-10)
    np.testing.assert_array_equal(H[0, 1], H[1, 0])
    np.testing.assert_allclose(H[0, 1], 2 * np.cos(2 * X) * np.exp(Y), atol=20 * tol * np.abs(f).max())


def test_laplacian_interior_formula_and_periodic() -> None:
    f = np.random.default_rng(0).standard_normal(10)
    lap = numeric.laplacian(f, 0.5)
    np.testing.assert_allclose(lap[1:-1], (f[2:] - 2 * f[1:-1] + f[:-2]) / 0.25, rtol=1e-12)
    n = 32
    x = np.arange(n) * 2 * np.pi / n
    lap = numeric.laplacian(np.sin(x), 2 * np.pi / n, boundary="periodic", accuracy=6)
    np.testing.assert_allclose(lap, -np.sin(x), atol=1e-6)


def test_jacobian_field_strain_spin() -> None:
    u = [G0 ** 2 + 3 * G1, -G0 + G1 ** 2]
    L = numeric.jacobian_field(u, X1, X2, edge_order=2)
    assert L.shape == (2, 2) + G0.shape
    exact = np.array([[2 * G0, 3 + 0 * G0], [-1 + 0 * G0, 2 * G1]])
    np.testing.assert_allclose(L, exact, atol=1e-12)
    D, W = numeric.strain_rate(L), numeric.spin(L)
    np.testing.assert_allclose(D + W, L, atol=1e-15)
    np.testing.assert_allclose(D, D.swapaxes(0, 1))
    np.testing.assert_allclose(W, -W.swapaxes(0, 1))
    np.testing.assert_allclose(W[0, 1], 2.0, atol=1e-12)            # (3 - (-1)) / 2
    np.testing.assert_allclose(L[0, 0] + L[1, 1], numeric.divergence(u, X1, X2, edge_order=2))


def test_directional_derivative() -> None:
    f = G0 ** 2 + 3 * G1
    dd = numeric.directional_derivative(f, [3, 4], X1, X2, edge_order=2)
    np.testing.assert_allclose(dd, (2 * G0 * 3 + 3 * 4) / 5, atol=1e-12)
    field = np.stack([np.ones_like(G0), np.zeros_like(G0)])
    np.testing.assert_allclose(numeric.directional_derivative(f, field, X1, X2, edge_order=2), 2 * G0,
                               atol=1e-12)
    r = numeric.directional_derivative(lambda p: np.sin(p[0]) * p[1], [1.0, 1.0], x=[0.3, 2.0])
    exact = (np.cos(0.3) * 2.0 + np.sin(0.3)) / np.sqrt(2)
    assert abs(r.value - exact) <= r.error < 1e-9


def test_field_operators_on_tensors_are_differentiable() -> None:
    rng = np.random.default_rng(2)
    u = gk.tensor(rng.standard_normal((2, 6, 5)), requires_grad=True)
    f = gk.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    assert gradcheck(lambda u: numeric.divergence(u, X1[:6], 0.3, accuracy=4, edge_order=2), (u,))
    assert gradcheck(lambda u: numeric.curl(u, 0.5, edge_order=2), (u,))
    assert gradcheck(lambda f: numeric.laplacian(f, 0.5, 0.25, edge_order=2), (f,))
    assert gradcheck(lambda u: numeric.strain_rate(numeric.jacobian_field(u, 0.5)), (u,))
    assert gradcheck(lambda f: numeric.hessian(f, 0.5), (f,))
    np.testing.assert_allclose(numeric.laplacian(f, 0.5, 0.25).detach().numpy(),
                               numeric.laplacian(f.detach().numpy(), 0.5, 0.25), rtol=1e-13)
