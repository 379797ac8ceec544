"""gradcheck on complex inputs and outputs checks the imaginary directions too (PyTorch does);
before, the imaginary parts were cast away and a wrong complex rule passed."""

from __future__ import annotations

import pytest

import importlib

import gradkit as gk

_gc = importlib.import_module("gradkit.autograd.gradcheck")   # the module (the package exports the function)


class RealPartOnly(gk.autograd.Function):
    """|t|^2 with a wrong backward: it drops the imaginary part of the gradient 2t."""

    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        return (t * t.conj()).real

    @staticmethod
    def backward(ctx, g):
        (t,) = ctx.saved_tensors
        return g * 2 * t.real.to(t.dtype)


class Right(RealPartOnly):
    @staticmethod
    def backward(ctx, g):
        (t,) = ctx.saved_tensors
        return g * 2 * t


@pytest.mark.parametrize("dtype", [gk.complex128, gk.complex64])
def test_wrong_imaginary_gradient_is_caught(dtype):
    x = gk.tensor([1 + 2j, 0.5 - 1j], dtype=dtype, requires_grad=True)
    with pytest.raises(gk.autograd.GradcheckError, match="Jacobian mismatch"):
        gk.autograd.gradcheck(lambda t: RealPartOnly.apply(t).sum(), (x,))
    assert gk.autograd.gradcheck(lambda t: Right.apply(t).sum(), (x,))
    assert gk.autograd.gradcheck(lambda t: RealPartOnly.apply(t).sum(), (x,),
                                 raise_exception=False) is False


def test_complex_outputs_and_mixed_inputs():
    z = gk.tensor([1 + 2j, 0.5 - 1j], dtype=gk.complex128, requires_grad=True)
    r = gk.tensor([0.3, 0.7], dtype=gk.float64, requires_grad=True)
    assert gk.autograd.gradcheck(lambda a, b: a * a * a.conj() + gk.exp(1j * b) * a, (z, r))
    assert gk.autograd.gradgradcheck(lambda a: a * a * a.conj(), (z,))


def test_layout_two_columns_per_complex_element():
    z = gk.tensor([1 + 2j], dtype=gk.complex128, requires_grad=True)
    # |z|^2 = a^2 + b^2: d/da = 2a = 2, d/db = 2b = 4
    (num,) = _gc.numerical_jacobian(lambda t: (t * t.conj()).real, (z,))[0]
    assert num.shape == (1, 2)
    assert abs(num[0, 0] - 2.0) < 1e-6 and abs(num[0, 1] - 4.0) < 1e-6
    # z^2 = (a^2 - b^2) + 2ab i: rows (re, im), columns (a, b)
    (ana,) = _gc.analytical_jacobian(lambda t: t * t, (z,))[0]
    assert ana.tolist() == [[2.0, -4.0], [4.0, 2.0]]


def test_agrees_with_torch_verdicts():
    torch = pytest.importorskip("torch")

    class TorchRealPartOnly(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return (t * t.conj()).real

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * 2 * t.real.to(t.dtype)

    tx = torch.tensor([1 + 2j, 0.5 - 1j], dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: TorchRealPartOnly.apply(t).sum(), (tx,),
                                    raise_exception=False) is False
    gx = gk.tensor([1 + 2j, 0.5 - 1j], dtype=gk.complex128, requires_grad=True)
    assert gk.autograd.gradcheck(lambda t: RealPartOnly.apply(t).sum(), (gx,),
                                 raise_exception=False) is False
