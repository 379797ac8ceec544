"""``gradkit.func`` serves JAX's and torch.func's users: its refusals keep JAX's words and
type (TypeError, ValueError) and are also RuntimeErrors, as torch.func raises them, so code
written for either library catches them."""

import pytest

import gradkit as gk
from gradkit import func


@pytest.mark.parametrize("call, jax_type", [
    (lambda: func.grad(lambda a: a ** 2)(gk.ones(3)), TypeError),
    (lambda: func.grad(lambda a: (a ** 2).sum())(gk.tensor(3)), TypeError),
    (lambda: func.jvp(lambda a: a ** 2, (gk.ones(3),), (gk.ones(2),)), ValueError),
])
def test_refusals_are_both_kinds(call, jax_type):
    with pytest.raises(jax_type):
        call()
    with pytest.raises(RuntimeError):
        call()
