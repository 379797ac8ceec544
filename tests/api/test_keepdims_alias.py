"""PyTorch's reductions take NumPy's ``keepdims`` beside ``dim=`` (d2l's probability chapter:
``cum_counts.sum(dim=1, keepdims=True)``); shapes recorded from torch 2.13."""
import pytest

import gradkit as gk


@pytest.mark.parametrize("call,shape", [
    (lambda t: t.sum(dim=1, keepdims=True), (3, 1)),
    (lambda t: t.mean(dim=0, keepdims=True), (1, 2)),
    (lambda t: t.amax(dim=1, keepdims=True), (3, 1)),
    (lambda t: t.std(dim=1, keepdims=True), (3, 1)),
    (lambda t: t.sum(axis=1, keepdims=True), (3, 1)),
    (lambda t: t.sum(0, keepdims=True), (1, 2)),
])
def test_keepdims_beside_dim(call, shape):
    t = gk.arange(6.0).reshape(3, 2)
    assert tuple(call(t).shape) == shape


def test_values_unchanged():
    t = gk.arange(6.0).reshape(3, 2)
    assert t.sum(dim=1, keepdims=True).tolist() == [[1.0], [5.0], [9.0]]
