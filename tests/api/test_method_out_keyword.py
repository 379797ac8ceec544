"""Tensor methods take no ``out=`` (#17): PyTorch 2.13 raises TypeError for ``x.mul(y, out=z)``
(``mul() got an unexpected keyword argument 'out'``) and ``x.exp(out=z)`` (``Tensor.exp() takes
no keyword arguments``), while the functions ``torch.mul(x, y, out=z)`` keep it."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

#: (method, positional arguments after self); PyTorch 2.13 raised TypeError for each with out=
CALLS = [("mul", (2.0,)), ("add", (1.0,)), ("sub", (1.0,)), ("div", (2.0,)), ("matmul", ("m",)),
         ("mm", ("m",)), ("maximum", ("x",)), ("pow", (2,)), ("atan2", ("x",)), ("exp", ()),
         ("sin", ()), ("sqrt", ()), ("abs", ()), ("sum", ()), ("mean", ()), ("prod", ()),
         ("cumsum", (0,)), ("max", ()), ("var", ()), ("clamp", (0, 1)), ("eq", ("x",))]


def _args(lib, args, x, m):
    return [x if a == "x" else m if a == "m" else a for a in args]


@pytest.mark.parametrize("name,args", CALLS, ids=[c[0] for c in CALLS])
def test_method_with_out_is_a_type_error(name: str, args: tuple) -> None:
    x = gk.tensor([[1.0, 2.0], [3.0, 4.0]])
    z = gk.zeros(2, 2)
    with pytest.raises(TypeError, match="keyword"):
        getattr(x, name)(*_args(gk, args, x, x), out=z)
    np.testing.assert_array_equal(z.numpy(), np.zeros((2, 2)))      # nothing was written


def test_messages_are_pytorchs() -> None:
    x, z = gk.ones(2), gk.zeros(2)
    with pytest.raises(TypeError, match=r"^mul\(\) got an unexpected keyword argument 'out'$"):
        x.mul(x, out=z)
    with pytest.raises(TypeError, match=r"^Tensor\.exp\(\) takes no keyword arguments$"):
        x.exp(out=z)


@pytest.mark.parametrize("name,args", CALLS, ids=[c[0] for c in CALLS])
def test_torch_refuses_the_same_calls(name: str, args: tuple) -> None:
    torch = pytest.importorskip("torch")
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TypeError):
        getattr(x, name)(*_args(torch, args, x, x), out=torch.zeros(2, 2))


def test_functions_keep_out() -> None:
    x = gk.tensor([1.0, 2.0])
    z = gk.zeros(2)
    r = gk.mul(x, x, out=z)
    assert r is z
    np.testing.assert_array_equal(z.numpy(), [1.0, 4.0])
    gk.add(x, 1.0, out=z)
    np.testing.assert_array_equal(z.numpy(), [2.0, 3.0])
    gk.exp(gk.zeros(2), out=z)
    np.testing.assert_array_equal(z.numpy(), [1.0, 1.0])


def test_methods_without_out_are_unchanged() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x.mul(x).add(1.0, alpha=2.0).exp().sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0]) * np.exp([3.0, 6.0]))
    # NumPy's keywords on a reduction method keep NumPy's out= beside them
    a = gk.tensor([[1.0, 2.0], [3.0, 4.0]])
    o = gk.zeros(2)
    a.sum(axis=0, out=o)
    np.testing.assert_array_equal(o.numpy(), [4.0, 6.0])
