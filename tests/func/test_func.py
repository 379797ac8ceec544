"""gradkit.func: JAX-style transforms (argnums, has_aux, pytrees, NumPy in/out, nesting, vmap)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.autograd._batched as batched
import gradkit.func as gf

RNG = np.random.default_rng(1)


@pytest.fixture(params=["auto", "double-vjp"])
def fwd_mode(request, monkeypatch):
    if request.param == "double-vjp":
        monkeypatch.setattr(batched, "USE_FORWARD_AD", False)
    return request.param


def fd_jac(f, x, h=1e-6):
    cols = [(np.asarray(f(x + h * e)) - np.asarray(f(x - h * e))) / (2 * h) for e in np.eye(x.size)]
    return np.stack(cols, axis=-1)


def g(x):
    return np.sin(x) * x[::-1] + np.exp(x[0])


def h(x):
    return np.sum(np.exp(x) * x[0]) + np.log(np.sum(x * x))


def test_grad_numpy_in_numpy_out():
    r = gf.grad(lambda x: np.sum(np.sin(x)))(np.array([0.0, np.pi]))
    assert type(r) is np.ndarray
    np.testing.assert_allclose(r, [1.0, -1.0])
    assert isinstance(gf.grad(lambda x: x ** 3)(2.0), float)
    assert gf.grad(lambda x: x ** 3)(2.0) == 12.0


def test_grad_tensor_in_tensor_out():
    r = gf.grad(lambda x: (x ** 2).sum())(gk.tensor([1.0, 2.0]))
    assert isinstance(r, gk.Tensor) and r.tolist() == [2.0, 4.0]


def test_argnums_and_has_aux():
    f = lambda x, y: (np.sum(x ** 2 * y), {"y": y})  # noqa: E731
    (gx, gy), aux = gf.grad(f, argnums=(0, 1), has_aux=True)(np.array([1.0, 2.0]), 3.0)
    np.testing.assert_allclose(gx, [6.0, 12.0])
    assert gy == 5.0 and aux == {"y": 3.0}
    (val, aux), gy = gf.value_and_grad(f, argnums=1, has_aux=True)(np.array([1.0, 2.0]), 3.0)
    assert val == 15.0 and gy == 5.0
    with pytest.raises(TypeError, match="scalar-output"):
        gf.grad(lambda x: x * 2)(np.ones(2))
    # one element in any shape is a scalar output (HIPS autograd; PyTorch's implicit backward)
    np.testing.assert_allclose(gf.grad(lambda x: np.sum(x ** 2).reshape(1, 1))(np.array([1.0, 2.0])),
                               [2.0, 4.0])
    with pytest.raises(TypeError, match="pair"):
        gf.grad(lambda x: x, has_aux=True)(1.0)


def test_pytree_structure_kept():
    params = {"w": np.array([1.0, 2.0]), "b": (0.5, [np.array(3.0)])}
    f = lambda p: np.sum(p["w"] ** 2) * p["b"][0] + p["b"][1][0] ** 3  # noqa: E731
    val, gr = gf.value_and_grad(f)(params)
    assert set(gr) == {"w", "b"} and isinstance(gr["b"], tuple) and isinstance(gr["b"][1], list)
    np.testing.assert_allclose(gr["w"], [1.0, 2.0])
    assert gr["b"][0] == 5.0
    np.testing.assert_allclose(gr["b"][1][0], 27.0)


def test_jacrev_jacfwd_vs_finite_differences(fwd_mode):
    x = RNG.standard_normal(4)
    for jac in (gf.jacrev, gf.jacfwd):
        np.testing.assert_allclose(jac(g)(x), fd_jac(g, x), atol=1e-6)
    val, J = gf.value_and_jacfwd(g)(x)
    np.testing.assert_allclose(val, g(x))
    val, J2 = gf.value_and_jacrev(g)(x)
    np.testing.assert_allclose(J, J2, atol=1e-12)


def test_jacobian_of_pytree_output_and_args():
    f = lambda x, y: {"a": x * y, "b": np.sum(x)}  # noqa: E731
    J = gf.jacrev(f, argnums=(0, 1))(np.ones(3), np.arange(3.0))
    assert J["a"][0].shape == (3, 3) and J["a"][1].shape == (3, 3) and J["b"][0].shape == (3,)
    np.testing.assert_allclose(J["a"][0], np.diag(np.arange(3.0)))
    Jf = gf.jacfwd(f, argnums=(0, 1))(np.ones(3), np.arange(3.0))
    np.testing.assert_allclose(Jf["a"][1], J["a"][1])


def test_hessian_vs_finite_differences_of_gradient(fwd_mode):
    x = RNG.standard_normal(5) + 2.0
    H = gf.hessian(h)(x)
    np.testing.assert_allclose(H, fd_jac(gf.grad(h), x), atol=1e-5)
    val, H2 = gf.value_and_hessian(h)(x)
    assert val == pytest.approx(h(x)) and np.allclose(H, H2)
    np.testing.assert_allclose(gf.jacfwd(gf.jacrev(h))(x), H, atol=1e-10)
    np.testing.assert_allclose(gf.hvp(h, (x,), (np.ones(5),)), H @ np.ones(5), atol=1e-10)


def test_hessian_of_two_arguments():
    f = lambda x, y: np.sum(x ** 2 * y[0]) + y[1] ** 3  # noqa: E731
    H = gf.hessian(f, argnums=(0, 1))(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_allclose(H[0][0], np.diag([6.0, 6.0]))
    np.testing.assert_allclose(H[0][1], [[2.0, 0.0], [4.0, 0.0]])
    np.testing.assert_allclose(H[1][1], [[0.0, 0.0], [0.0, 24.0]])


def test_jvp_vjp_linearize(fwd_mode):
    x, v = RNG.standard_normal(3), RNG.standard_normal(3)
    J = fd_jac(g, x)
    out, tan = gf.jvp(g, (x,), (v,))
    np.testing.assert_allclose(out, g(x))
    np.testing.assert_allclose(tan, J @ v, atol=1e-6)
    out, f_jvp = gf.linearize(g, x)
    np.testing.assert_allclose(f_jvp(v), J @ v, atol=1e-6)
    np.testing.assert_allclose(f_jvp(2 * v), 2 * J @ v, atol=1e-6)
    out, vjp_fn = gf.vjp(g, x)
    np.testing.assert_allclose(vjp_fn(v)[0], v @ J, atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        gf.jvp(g, (x,), (np.ones(2),))


def test_nesting_and_closures():
    assert gf.grad(gf.grad(lambda x: x ** 3))(2.0) == 12.0
    assert gf.grad(lambda x: x * gf.grad(lambda y: x * y)(1.0))(2.0) == 4.0


def test_vmap_matches_loop():
    xs, w = RNG.standard_normal((5, 3)), RNG.standard_normal(3)
    f = lambda x, w: np.tanh(x @ w) * x  # noqa: E731
    np.testing.assert_allclose(gf.vmap(f, in_axes=(0, None))(xs, w), np.stack([f(x, w) for x in xs]))
    np.testing.assert_allclose(gf.vmap(f, in_axes=(1, None), out_axes=1)(xs.T, w),
                               np.stack([f(x, w) for x in xs], axis=1))
    per_ex = gf.vmap(gf.grad(lambda x, w: np.sum(np.sin(x * w))), in_axes=(0, None))(xs, w)
    np.testing.assert_allclose(per_ex, np.stack([np.cos(x * w) * w for x in xs]))
    np.testing.assert_allclose(gf.vmap(np.sin)(xs), np.sin(xs))
    gr = gf.grad(lambda x: gf.vmap(lambda r: np.sum(r ** 2))(x).sum())(xs)
    np.testing.assert_allclose(gr, 2 * xs)


def test_stop_gradient():
    assert gf.grad(lambda x: x * gf.stop_gradient(x))(3.0) == 3.0


def test_integer_input_rejected():
    with pytest.raises(TypeError, match="real- or complex-valued"):
        gf.grad(lambda x: np.sum(x))(np.array([1, 2]))
