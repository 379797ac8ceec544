"""``torch.sin_(t)`` & co. (PyTorch's top-level in-place functions), ``torch.svd`` (the older
``(U, S, V)`` form) and the in-place shape changes ``unsqueeze_``/``squeeze_``/``t_``/
``transpose_``/``swapdims_``. Expected values recorded from PyTorch 2.13 (or computed with NumPy)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import gradkit as gk


def test_sin_writes_into_its_argument_and_returns_it() -> None:
    b = gk.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
    out = gk.sin_(b)
    assert out is b
    np.testing.assert_allclose(b.numpy(), [0.0, 0.70710677, 1.0, 0.70710677], rtol=1e-6, atol=1e-7)
    assert b._version == 1


def test_inplace_functions_take_the_methods_arguments() -> None:
    t = gk.tensor([-1.0, 0.25, 2.0])
    assert gk.clamp_(t, 0, 1) is t
    np.testing.assert_array_equal(t.numpy(), [0.0, 0.25, 1.0])
    gk.clamp_min_(t, 0.5)
    np.testing.assert_array_equal(t.numpy(), [0.5, 0.5, 1.0])
    gk.fill_(t, 3.0)
    np.testing.assert_array_equal(t.numpy(), [3.0, 3.0, 3.0])
    gk.zero_(t)
    np.testing.assert_array_equal(t.numpy(), [0.0, 0.0, 0.0])


def test_inplace_function_records_on_the_graph() -> None:
    x = gk.tensor([0.5, 1.0], dtype=gk.float64, requires_grad=True)
    y = x * 2
    gk.exp_(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]))


def test_inplace_function_errors_are_pytorchs() -> None:
    a = gk.linspace(0.0, 1.0, 5, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation."):
        gk.sin_(a)
    with pytest.raises(TypeError, match=r"sin_\(\): argument 'input' \(position 1\) must be "
                                        "Tensor, not float"):
        gk.sin_(1.0)


def test_inplace_functions_are_in_all() -> None:
    assert {"sin_", "clamp_", "zero_", "relu_"} <= set(gk.__all__)


A = [[2.0, 0.0, 1.0], [0.0, 1.0, 3.0]]


def test_svd_returns_u_s_v() -> None:
    a = gk.tensor(A, dtype=gk.float64)
    r = gk.svd(a)
    assert type(r).__name__ == "svd" and r._fields == ("U", "S", "V")
    assert repr(r).startswith("torch.return_types.svd(\nU=tensor(")
    assert tuple(r.U.shape) == (2, 2) and tuple(r.V.shape) == (3, 2)
    np.testing.assert_allclose(r.S.numpy(), [3.3771, 1.8960], atol=1e-4)   # recorded from torch
    u, s, v = (t.numpy() for t in r)
    np.testing.assert_allclose(u @ np.diag(s) @ v.T, np.array(A), atol=1e-12)
    np.testing.assert_allclose(v.T @ v, np.eye(2), atol=1e-12)
    assert a.svd().S.shape == r.S.shape


def test_svd_some_false_and_compute_uv_false() -> None:
    a = gk.tensor(A, dtype=gk.float64)
    r = gk.svd(a, some=False)
    assert tuple(r.U.shape) == (2, 2) and tuple(r.V.shape) == (3, 3)
    r = gk.svd(gk.ones(2, 3, 4), compute_uv=False)
    assert tuple(r.U.shape) == (2, 3, 3) and tuple(r.V.shape) == (2, 4, 4)
    assert not r.U.numpy().any() and not r.V.numpy().any()
    assert tuple(r.S.shape) == (2, 3)


def test_svd_gradient_of_singular_values() -> None:
    x = gk.tensor(A, dtype=gk.float64, requires_grad=True)
    gk.svd(x).S.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.9716, -0.0889, 0.2193],
                                                [-0.1777, 0.3377, 0.9243]], atol=1e-4)


def test_svd_of_a_vector_raises() -> None:
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        gk.svd(gk.ones(3))


def test_unsqueeze_and_squeeze_in_place() -> None:
    t = gk.rand(3, 4)
    data = t.numpy().copy()
    assert t.unsqueeze_(0) is t
    assert tuple(t.shape) == (1, 3, 4) and t._version == 1
    np.testing.assert_array_equal(t.numpy()[0], data)
    t.squeeze_()
    assert tuple(t.shape) == (3, 4)
    d = gk.zeros(1, 3, 1)
    d.squeeze_(2)
    assert tuple(d.shape) == (1, 3)


def test_t_and_transpose_in_place() -> None:
    c = gk.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    c.t_()
    np.testing.assert_array_equal(c.numpy(), [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])
    assert not c.is_contiguous()
    c.transpose_(0, 1)
    np.testing.assert_array_equal(c.numpy(), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    c.swapdims_(1, 0)
    assert tuple(c.shape) == (3, 2)


def test_shape_in_place_gradients() -> None:
    # values recorded from PyTorch 2.13
    a = gk.tensor(A, dtype=gk.float64, requires_grad=True)
    b = a * 1
    w = b[1]
    w.unsqueeze_(0)
    w.mul_(gk.tensor([[2.0, 3.0, 4.0]], dtype=gk.float64))
    assert tuple(w.shape) == (1, 3)
    np.testing.assert_array_equal(b.detach().numpy(), [[2.0, 0.0, 1.0], [0.0, 3.0, 12.0]])
    (b * b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[4.0, 0.0, 2.0], [0.0, 18.0, 96.0]])
    a.grad = None
    c = a * 1
    c.t_()
    (c * gk.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]])


def test_shape_in_place_errors() -> None:
    leaf = gk.rand(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        leaf.unsqueeze_(0)
    y = leaf * 2
    v = y[:2]  # noqa: F841  (a live view)
    with pytest.raises(RuntimeError, match="views of it are alive"):
        y.unsqueeze_(0)


@pytest.mark.parametrize("args, kwargs, got", [
    ((), {"requires_grad": True}, "(requires_grad=bool, )"),
    ((), {"copy": True, "foo": "x"}, "(foo=str, copy=bool, )"),
    (("cpu",), {"requires_grad": True}, "(str, requires_grad=bool)"),
])
def test_to_with_an_unknown_keyword_names_what_it_got(args: tuple, kwargs: dict, got: str) -> None:
    # PyTorch 2.13's first line (the former_torchies autograd tutorial's a.to(requires_grad=True))
    with pytest.raises(TypeError, match=r"^to\(\) received an invalid combination of arguments - "
                                        r"got " + re.escape(got) + ", but expected one of:"):
        gk.ones(2).to(*args, **kwargs)
