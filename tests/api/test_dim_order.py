"""``Tensor.dim_order``: values and refusals recorded from PyTorch 2.13 (its own examples)."""
from __future__ import annotations

import pytest

import gradkit as gk


def test_dim_order_ambiguity_check_follows_pytorch():
    # recorded from PyTorch 2.13 (Tensor.dim_order's own examples)
    assert gk.empty((2, 3, 5, 7)).transpose(1, 2).dim_order() == (0, 2, 1, 3)
    assert gk.empty((2, 3, 5, 7)).dim_order(ambiguity_check=True) == (0, 1, 2, 3)
    with pytest.raises(RuntimeError, match="does not have unique dim order"):
        gk.empty((1, 2, 3, 4)).dim_order(ambiguity_check=True)
    assert gk.empty((1, 2, 3, 4)).dim_order(
        ambiguity_check=[gk.contiguous_format, gk.channels_last]) == (0, 1, 2, 3)
    with pytest.raises(TypeError, match="must be a bool or a list of memory formats"):
        gk.empty((1, 2, 3, 4)).dim_order(ambiguity_check="ILLEGAL")
