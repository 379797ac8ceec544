"""Casting a tensor to integers or booleans through NumPy (``np.int64(t)``,
``np.asarray(t, dtype=bool)``): allowed on tensors that require grad, as ``t.long()`` is in
PyTorch, since an integer carries no gradient; a float conversion still refuses."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.func as gf

VALS = np.array([1.7, 2.2, -0.5, 3.9])


@pytest.mark.parametrize("cast", [np.int64, lambda t: np.asarray(t, dtype=np.int32),
                                  lambda t: np.asarray(t, dtype=bool),
                                  lambda t: np.array(t, dtype=np.uint8)])
def test_integer_cast_of_a_tensor_that_requires_grad(cast):
    t = gk.tensor(VALS, requires_grad=True)
    got = cast(t)
    assert isinstance(got, np.ndarray)
    want = cast(VALS.copy())
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_float_conversion_still_refuses():
    t = gk.tensor(VALS, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(t, dtype=np.float64)


def test_indices_cast_inside_grad():
    # the last column, cast to int, picks rows of the others; the gradient counts the picks
    W = np.column_stack([np.arange(12.0).reshape(4, 3), [0.2, 2.7, 2.1, 3.5]])

    def f(W):
        rows = np.int64(W[:, -1])
        return W[rows, :-1].sum()
    got = gf.grad(f)(W)
    counts = np.bincount(np.int64(W[:, -1]), minlength=4).astype(float)
    want = np.zeros_like(W)
    want[:, :-1] = counts[:, None]
    np.testing.assert_array_equal(got, want)
