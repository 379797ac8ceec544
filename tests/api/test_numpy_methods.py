"""NumPy's keywords on Tensor methods follow NumPy; PyTorch's spelling stays PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import func

A = np.array([[1.0, 5.0, -2.0], [3.0, 2.0, 0.5]])

CALLS = ["sum(axis=0)", "sum(axis=0, keepdims=True)", "sum(axis=(0, 1))", "mean(axis=1, keepdims=True)",
         "max(axis=1)", "min(axis=0)", "max(axis=None)", "std(axis=0)", "var(axis=1, ddof=1)",
         "var(ddof=1)", "prod(axis=0)", "prod(axis=(0, 1))", "argmax(axis=1)", "argmin(axis=0)",
         "cumsum(axis=0)", "cumprod(axis=1)", "any(axis=0)", "all(axis=1)", "round(1)",
         "transpose()", "transpose((1, 0))", "repeat(2, axis=0)", "astype(np.float32)", "astype(int)",
         "astype(float)", "copy()", "dot(A.T)"]


@pytest.mark.parametrize("call", CALLS)
def test_same_as_numpy(call: str) -> None:
    want = eval("A." + call)
    got = eval("gk.tensor(A)." + call)
    assert isinstance(got, gk.Tensor)
    assert got.numpy().dtype == want.dtype and got.numpy().shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("call", ["sum(axis=0)", "max(axis=1)", "var(axis=0)", "std(axis=1, ddof=1)",
                                  "mean(axis=(0, 1), keepdims=True)", "prod(axis=1)", "cumsum(axis=1)"])
def test_gradients_match_finite_differences(call: str) -> None:
    def f(x):
        return np.sum(eval("x." + call) ** 2)

    g = np.asarray(func.grad(f)(A))
    fd = np.zeros_like(A)
    for i in np.ndindex(A.shape):
        e = np.zeros_like(A)
        e[i] = 1e-6
        fd[i] = (f(A + e) - f(A - e)) / 2e-6
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


def test_pytorch_spelling_is_unchanged() -> None:
    t = gk.tensor(A)
    values, indices = t.max(1)                       # PyTorch: (values, indices)
    np.testing.assert_array_equal(values.numpy(), A.max(1))
    np.testing.assert_array_equal(indices.numpy(), A.argmax(1))
    np.testing.assert_allclose(t.var().item(), A.var(ddof=1))     # PyTorch's correction=1
    np.testing.assert_allclose(t.sum(dim=0).numpy(), A.sum(0))
    assert t.repeat(2, 1).shape == (4, 3)            # PyTorch's repeat tiles
    assert t.transpose(0, 1).shape == (3, 2)
