"""``gradcheck(check_forward_ad=True, check_backward_ad=False)``: a custom Function's ``jvp``
checked against central differences, as PyTorch's forward-AD tutorial does."""

from __future__ import annotations

import pytest

import gradkit as gk


def _exp_function(factor: float) -> type:
    class Exp(gk.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            ctx.result = gk.exp(x)
            return ctx.result

        @staticmethod
        def jvp(ctx, t):  # type: ignore[no-untyped-def]
            return factor * t * ctx.result     # factor 1 is d exp = exp dx

    return Exp


def _x() -> gk.Tensor:
    return gk.tensor([[0.1, -0.4], [0.7, 1.2]], dtype=gk.float64, requires_grad=True)


def test_a_right_jvp_passes_without_a_backward() -> None:
    fn = _exp_function(1.0).apply
    assert gk.autograd.gradcheck(fn, (_x(),), check_forward_ad=True, check_backward_ad=False,
                                 check_undefined_grad=False, check_batched_grad=False) is True


def test_a_wrong_jvp_fails() -> None:
    fn = _exp_function(1.5).apply
    assert gk.autograd.gradcheck(fn, (_x(),), check_forward_ad=True, check_backward_ad=False,
                                 raise_exception=False) is False
    with pytest.raises(gk.autograd.GradcheckError):
        gk.autograd.gradcheck(fn, (_x(),), check_forward_ad=True, check_backward_ad=False)


def test_forward_check_runs_beside_the_backward_check() -> None:
    x = _x()
    assert gk.autograd.gradcheck(lambda v: (v * v.sin()).sum(1), (x,), check_forward_ad=True)
    # PyTorch 2.13 refuses to check nothing (AssertionError with these words)
    with pytest.raises(AssertionError, match="Expected at least one of check_forward_ad or "
                                             "check_backward_ad to be True"):
        gk.autograd.gradcheck(lambda v: v.exp(), (x,), check_forward_ad=False,
                              check_backward_ad=False)
