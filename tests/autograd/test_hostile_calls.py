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
