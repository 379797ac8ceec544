"""gradkit.func.vjp: the returned vjp_fn is a differentiable function of its cotangent.

Differentiating ``g -> vjp_fn(g)`` transposes the VJP back into a JVP (the linear-transpose
trick behind Gauss-Newton products). Expected values are the analytic Jacobians of the test
functions, written out here in NumPy, and JAX's results where JAX is installed.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.func as gf

RNG = np.random.default_rng(7)
A = RNG.standard_normal((5, 4))
X = RNG.standard_normal(4)
V = RNG.standard_normal(4)


def lin(x):
    return np.dot(A, x)


def squashed(x):
    return np.tanh(np.dot(A, x))


def jac(fun_name, x):
    """The Jacobians by hand: A, and diag(1 - tanh(Ax)^2) A."""
    if fun_name == "lin":
        return A
    return (1.0 - np.tanh(A @ x) ** 2)[:, None] * A


FUNS = {"lin": lin, "squashed": squashed}


@pytest.mark.parametrize("name", ["lin", "squashed"])
def test_vjp_of_vjp_fn_is_the_jvp(name):
    _, vjp_fn = gf.vjp(FUNS[name], X)
    out, transpose = gf.vjp(lambda g: vjp_fn(g)[0], np.zeros(5))
    np.testing.assert_allclose(out, np.zeros(4), atol=0)
    (jv,) = transpose(V)
    np.testing.assert_allclose(jv, jac(name, X) @ V, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["lin", "squashed"])
def test_gauss_newton_product(name):
    # G v = J^T H_g J v with g(y) = sum(2 y^2 + y^4): H_g = diag(4 + 12 y^2)
    fun = FUNS[name]
    y, f_vjp = gf.vjp(fun, X)
    g_loss = lambda y: np.sum(2.0 * y ** 2 + y ** 4)  # noqa: E731
    grad_g_y, g_hvp = gf.vjp(gf.grad(g_loss), y)
    _, f_jvp = gf.vjp(lambda c: f_vjp(c)[0], np.zeros_like(grad_g_y))
    got = f_vjp(g_hvp(f_jvp(V)[0])[0])[0]
    J = jac(name, X)
    want = J.T @ ((4.0 + 12.0 * (A @ X if name == "lin" else np.tanh(A @ X)) ** 2) * (J @ V))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_gauss_newton_product_matches_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    Aj = jnp.asarray(A)

    def fj(x):
        return jnp.tanh(Aj @ x)
    _, f_vjp = jax.vjp(fj, jnp.asarray(X))
    _, f_jvp = jax.vjp(lambda c: f_vjp(c)[0], jnp.zeros(5))
    want = np.asarray(f_vjp(f_jvp(jnp.asarray(V))[0])[0])        # J^T J v

    _, g_vjp = gf.vjp(squashed, X)
    _, g_jvp = gf.vjp(lambda c: g_vjp(c)[0], np.zeros(5))
    got = g_vjp(g_jvp(V)[0])[0]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_cotangent_that_requires_grad_stays_on_the_graph():
    _, vjp_fn = gf.vjp(squashed, X)
    c = gk.tensor(RNG.standard_normal(5), requires_grad=True)
    (r,) = vjp_fn(c)
    assert isinstance(r, gk.Tensor) and r.requires_grad
    w = RNG.standard_normal(4)
    (r * gk.tensor(w)).sum().backward()
    # d/dc <w, J^T c> = J w
    np.testing.assert_allclose(c.grad.numpy(), jac("squashed", X) @ w, rtol=1e-12)


def test_plain_cotangent_outside_transforms_gives_numpy():
    _, vjp_fn = gf.vjp(squashed, X)
    (r,) = vjp_fn(np.ones(5))
    assert type(r) is np.ndarray
    np.testing.assert_allclose(r, jac("squashed", X).T @ np.ones(5), rtol=1e-12)


@pytest.mark.parametrize("fun", [lambda x: np.allclose(x, x * 3.0 / 3.0),
                                 lambda x: np.sum(x) > 0.0])
def test_grad_of_a_boolean_output_raises(fun):
    with pytest.raises(TypeError, match="real-valued outputs.*got bool"):
        gf.grad(fun)(np.array([1.0, 2.0, 3.0]))
