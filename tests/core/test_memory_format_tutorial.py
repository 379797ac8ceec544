"""Memory formats as the channels-last tutorial shows them (intermediate_source/
memory_format_tutorial.py; issue #17): strides recorded from torch 2.13 on CPU."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn

N, C, H, W = 10, 3, 32, 32
CL = (3072, 1, 96, 3)
CONTIG = (3072, 1024, 32, 1)


def test_to_contiguous_format_converts_back():
    x = gk.arange(float(N * C * H * W)).reshape(N, C, H, W)
    y = x.to(memory_format=gk.channels_last)
    assert y.stride() == CL
    z = y.to(memory_format=gk.contiguous_format)
    assert z.stride() == CONTIG and gk.equal(z, x)
    assert x.to(memory_format=gk.contiguous_format) is x          # nothing to do: itself


def test_empty_in_channels_last_and_layout_preserved():
    x = gk.empty(N, C, H, W, memory_format=gk.channels_last)
    assert x.stride() == CL and x.is_contiguous(memory_format=gk.channels_last)
    assert x.clone().stride() == CL
    assert gk.empty_like(x).stride() == CL
    assert (x + gk.empty_like(x)).stride() == CL
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        gk.empty(2, 3, 4, memory_format=gk.channels_last)


def test_module_to_memory_format_relayouts_4d_weights():
    m = nn.Conv2d(8, 4, 3)
    w = m.weight.detach().clone()
    assert m.to(memory_format=gk.channels_last) is m
    assert m.weight.is_contiguous(memory_format=gk.channels_last) and m.weight.stride() == (72, 1, 24, 8)
    np.testing.assert_array_equal(m.weight.detach().numpy(), w.numpy())   # same values
    assert m.bias.stride() == (1,)
    m.to(memory_format=gk.contiguous_format)
    assert m.weight.stride() == (72, 9, 3, 1)
