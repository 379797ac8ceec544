"""set_complex_convention: PyTorch's gradients of complex values by default, JAX's on request.

For a real loss L(z), z = x + iy: PyTorch's gradient is dL/dx + i dL/dy, JAX's (and HIPS
autograd's) its conjugate. Expected values below are worked out by hand from that definition.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gradkit as gk
from gradkit import func

C = 2.0 + 3.0j


def _loss(z):
    return (C * z).real          # dL/dx = Re C = 2, dL/dy = -Im C = -3


def test_default_is_pytorchs() -> None:
    assert gk.autograd.get_complex_convention() == "torch"
    assert complex(func.grad(_loss)(gk.tensor(1 + 0j))) == 2 - 3j


@pytest.mark.parametrize("how", ["call", "context", "decorator"])
def test_jax_convention_in_every_api(how: str) -> None:
    def run():
        z = gk.tensor(0.5 - 1j, requires_grad=True)
        _loss(z).backward()
        (g,) = gk.autograd.grad(_loss(z), [z])
        return (complex(z.grad), complex(g), complex(func.grad(_loss)(gk.tensor(1 + 0j))),
                complex(np.asarray(func.jacrev(_loss)(gk.tensor(1 + 0j)))))

    if how == "call":
        gk.autograd.set_complex_convention("jax")
        try:
            got = run()
        finally:
            gk.autograd.set_complex_convention("torch")
    elif how == "context":
        with gk.autograd.set_complex_convention("jax"):
            got = run()
    else:
        got = gk.autograd.set_complex_convention("jax")(run)()
    assert got == (2 + 3j,) * 4
    assert gk.autograd.get_complex_convention() == "torch"


def test_vjp_with_a_complex_cotangent() -> None:
    """JAX: the VJP of a holomorphic f with cotangent v is v * f'(z); PyTorch's is v * conj(f'(z))."""
    z0, v = 1 + 1j, 0.5 - 2j
    fprime = 2 * C * z0                          # f(z) = C z^2
    _, vjp = func.vjp(lambda z: C * z * z, gk.tensor(z0))
    assert complex(vjp(gk.tensor(v))[0]) == pytest.approx(v * np.conj(fprime))
    with gk.autograd.set_complex_convention("jax"):
        _, vjp = func.vjp(lambda z: C * z * z, gk.tensor(z0))
        assert complex(vjp(gk.tensor(v))[0]) == pytest.approx(v * fprime)
        jac = np.asarray(func.jacrev(lambda z: C * z)(gk.tensor([1 + 0j, 2j])))
        np.testing.assert_allclose(jac, np.diag([C, C]))


def test_real_inputs_and_second_derivatives_are_unchanged() -> None:
    def f(x):
        return (gk.exp(1j * x) * C).real.sum()

    x = gk.tensor([0.3, -1.2], dtype=gk.float64)
    g, h = func.grad(f)(x), func.hessian(f)(x)
    with gk.autograd.set_complex_convention("jax"):
        np.testing.assert_allclose(np.asarray(func.grad(f)(x)), np.asarray(g))
        np.testing.assert_allclose(np.asarray(func.hessian(f)(x)), np.asarray(h))


def test_the_switch_is_per_thread() -> None:
    seen = {}
    started, done = threading.Event(), threading.Event()

    def other():
        started.wait()
        seen["other"] = complex(func.grad(_loss)(gk.tensor(1 + 0j)))
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with gk.autograd.set_complex_convention("jax"):
        started.set()
        done.wait()
        seen["main"] = complex(func.grad(_loss)(gk.tensor(1 + 0j)))
    t.join()
    assert seen == {"other": 2 - 3j, "main": 2 + 3j}


def test_unknown_convention() -> None:
    with pytest.raises(ValueError, match="unknown complex convention"):
        gk.autograd.set_complex_convention("numpy")


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_of_complex_input_matches_finite_differences(name: str) -> None:
    """PyTorch's convention: dL/dx + i dL/dy for a real loss (erf's rule conjugates its factor)."""
    sp = pytest.importorskip("scipy.special")
    z0 = np.array([0.3 + 0.2j, -0.5 + 0.7j])
    w = 1.3 - 0.4j

    def loss(v):
        return (getattr(sp, name)(v) * w).real.sum()

    z = gk.tensor(z0, requires_grad=True)
    (getattr(gk, name)(z) * w).real.sum().backward()
    h = 1e-6
    re = [(loss(z0 + h * e) - loss(z0 - h * e)) / (2 * h) for e in np.eye(2)]
    im = [(loss(z0 + 1j * h * e) - loss(z0 - 1j * h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(z.grad.numpy(), np.array(re) + 1j * np.array(im), rtol=1e-7)
