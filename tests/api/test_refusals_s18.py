"""Inputs PyTorch refuses, refused with its error types and words (recorded from PyTorch
2.13): NumPy's own errors (``scale < 0``, ``duplicate value in 'axis'``, ``negative
dimensions are not allowed``) or a silent answer (``bernoulli(1.5)`` drew ones) before."""
from __future__ import annotations

import pytest

import gradkit as gk

CASES = [
    (lambda: gk.normal(0.0, -1.0, (2,)), RuntimeError,
     "normal expects std >= 0.0, but found std -1"),
    (lambda: gk.normal(0.0, float("nan"), (2,)), RuntimeError,
     "normal expects std >= 0.0, but found std nan"),
    (lambda: gk.normal(gk.zeros(2), gk.tensor([1.0, -1.0])), RuntimeError,
     "normal expects all elements of std >= 0.0"),
    (lambda: gk.bernoulli(gk.tensor([1.5])), RuntimeError,
     r"Expected p_in >= 0 && p_in <= 1 to be true, but got false."),
    (lambda: gk.bernoulli(gk.tensor([float("nan")])), RuntimeError, "Expected p_in >= 0"),
    (lambda: gk.randint(5, 3, (2,)), RuntimeError,
     "random_ expects 'from' to be less than 'to', but got from=5 >= to=3"),
    (lambda: gk.randint_like(gk.zeros(2), 5, 5), RuntimeError,
     "random_ expects 'from' to be less than 'to', but got from=5 >= to=5"),
    (lambda: gk.ones(2, 3).sum(dim=(1, -1)), RuntimeError,
     "dim 1 appears multiple times in the list of dims"),
    (lambda: gk.ones(2, 3).amax(dim=(0, 0)), RuntimeError,
     "dim 0 appears multiple times in the list of dims"),
    (lambda: gk.cat([]), ValueError, r"torch.cat\(\): expected a non-empty list of Tensors"),
    (lambda: gk.hstack([]), RuntimeError, "hstack expects a non-empty TensorList"),
    (lambda: gk.vstack([]), RuntimeError, "vstack expects a non-empty TensorList"),
    (lambda: gk.ones(2).repeat(2, -1), RuntimeError,
     r"Trying to create tensor with negative dimension -2: \[2, -2\]"),
    (lambda: gk.ones(2).tile(-1), RuntimeError,
     r"Trying to create tensor with negative dimension -2: \[-2\]"),
    (lambda: gk.ones(2).repeat_interleave(-1), RuntimeError, "Repeats must be non-negative"),
    (lambda: gk.ones(2).repeat_interleave(gk.tensor([1, -1])), RuntimeError,
     "repeats can not be negative"),
]


@pytest.mark.parametrize("k", range(len(CASES)))
def test_refused_as_pytorch_refuses(k):
    fn, exc, words = CASES[k]
    with pytest.raises(exc, match=words):
        fn()


def test_valid_neighbours_still_work():
    assert gk.normal(0.0, 0.0, (3,)).tolist() == [0.0, 0.0, 0.0]
    assert gk.bernoulli(gk.tensor([0.0, 1.0])).tolist() == [0.0, 1.0]
    assert gk.ones(2, 3).sum(dim=(0, 1)).item() == 6.0
    assert gk.ones(2).repeat(2, 0).shape == (2, 0)
