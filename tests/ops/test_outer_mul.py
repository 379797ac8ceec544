"""The matrix-vector backward's outer product (the ``outer_mul`` row) under the transforms:
analytic expected values (f = sum(tanh(A x)): df/dA = outer(1 - tanh(A x)^2, x))."""

from __future__ import annotations

import numpy as np

import gradkit as gk


def _f(A, x):
    return (A @ x).tanh().sum()


def _grad_A(A, x):
    t = np.tanh(A @ x)
    return np.outer(1.0 - t * t, x)


def test_vmap_of_grad_over_inputs_and_over_both():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 3))
    X = rng.normal(size=(5, 3))
    ref = np.stack([_grad_A(A, x) for x in X])
    g = gk.func.vmap(gk.func.grad(_f), in_dims=(None, 0))(gk.tensor(A), gk.tensor(X))
    np.testing.assert_allclose(g.numpy(), ref, rtol=1e-13, atol=1e-15)
    As = A[None] * np.arange(1.0, 6.0)[:, None, None]
    ref2 = np.stack([_grad_A(a, x) for a, x in zip(As, X)])
    g2 = gk.func.vmap(gk.func.grad(_f))(gk.tensor(As), gk.tensor(X))
    np.testing.assert_allclose(g2.numpy(), ref2, rtol=1e-13, atol=1e-15)
    # the vector batched, the matrix not: vmap over the second operand only
    ref3 = np.stack([np.outer(1.0 - np.tanh(A @ x) ** 2, x) for x in X])
    g3 = gk.func.vmap(lambda x: gk.func.grad(_f)(gk.tensor(A), x))(gk.tensor(X))
    np.testing.assert_allclose(g3.numpy(), ref3, rtol=1e-13, atol=1e-15)


def test_second_derivatives_through_the_outer_product():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(3, 2))
    x = rng.normal(size=2)
    # d/dx of df/dA: central differences in float64 of the analytic gradient
    eps = 1e-6
    ref = np.stack([(_grad_A(A, x + eps * e) - _grad_A(A, x - eps * e)) / (2 * eps)
                    for e in np.eye(2)], axis=-1)
    for jac in (gk.func.jacrev, gk.func.jacfwd):
        h = jac(gk.func.grad(_f), argnums=1)(gk.tensor(A), gk.tensor(x))
        np.testing.assert_allclose(h.numpy(), ref, rtol=1e-7, atol=1e-8)
