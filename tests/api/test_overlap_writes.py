"""Writes into views whose elements overlap: a fill (``fill_``, ``zero_``, item assignment of a
part whose own elements do not repeat) is well defined and PyTorch allows it, also through
``unfold``; arithmetic in place is refused (PyTorch's words). Values recorded from PyTorch 2.13."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def _unfolded():
    base = gk.arange(6.0)
    return base, base.unfold(0, 2, 1)


def test_fill_and_zero_through_unfold_reach_the_base():
    base, v = _unfolded()
    v.fill_(2.0)
    np.testing.assert_array_equal(base.numpy(), [2.0] * 6)
    base, v = _unfolded()
    v.zero_()
    np.testing.assert_array_equal(base.numpy(), [0.0] * 6)


def test_item_assignment_of_a_window_through_unfold():
    base, v = _unfolded()
    v[0] = 5.0
    np.testing.assert_array_equal(base.numpy(), [5.0, 5.0, 2.0, 3.0, 4.0, 5.0])


def test_fill_of_an_expanded_tensor():
    base = gk.arange(2.0).reshape(2, 1)
    base.expand(2, 3).fill_(2.0)
    np.testing.assert_array_equal(base.numpy(), [[2.0], [2.0]])


def test_arithmetic_on_an_expanded_tensor_is_refused():
    e = gk.arange(2.0).reshape(2, 1).expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        e.add_(1.0)


def test_is_view():
    x = gk.arange(6.0)
    assert x.view(2, 3)._is_view() and x[1:]._is_view() and x.unfold(0, 2, 1)._is_view()
    assert not x._is_view() and not x[[0, 1]]._is_view() and not x.clone()._is_view()
