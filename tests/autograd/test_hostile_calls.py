"""Calls PyTorch refuses with an error: detach_() of a view, empty ``inputs``."""
import pytest

import gradkit as gk


@pytest.mark.parametrize("make", [lambda x: x[1:], lambda x: x.view(4), lambda x: x[None]],
                         ids=["slice", "view", "unsqueeze"])
def test_detach_in_place_of_a_view_is_refused(make):
    x = gk.arange(4.0)
    v = make(x)
    with pytest.raises(RuntimeError, match="Can't detach views in-place. Use detach\\(\\) instead."):
        v.detach_()
    with gk.no_grad(), pytest.raises(RuntimeError, match="Can't detach views in-place"):
        v.detach_()


def test_detach_in_place_of_a_non_view_still_works():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_empty_inputs_are_refused():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="`inputs` argument to `backward\\(\\)` cannot be empty."):
        (x * 2).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match="`inputs` argument to `grad\\(\\)` cannot be empty."):
        gk.autograd.grad((x * 2).sum(), [])
    assert x.grad is None


def test_complex_scalar_needs_an_explicit_gradient():
    x = gk.tensor([1 + 1j, 2.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar "
                                           "outputs but got torch.complex64"):
        y.backward(retain_graph=True)
    y.backward(gk.tensor(1 + 0j))
    # PyTorch's convention: the conjugate of d(sum x^2)/dx = 2x
    assert x.grad.tolist() == [2 - 2j, 4 + 0j]
