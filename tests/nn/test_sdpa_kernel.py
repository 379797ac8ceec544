"""``torch.nn.attention.sdpa_kernel`` / ``SDPBackend`` and ``torch.utils.deterministic``
(PyTorch's reproducibility notes, issue #17). Messages and values recorded from torch 2.13 on
CPU; the attention result is PyTorch's reference formula written in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.nn.attention import SDPBackend, sdpa_kernel


def _reference(q, k, v):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    w = np.exp(s - s.max(-1, keepdims=True))
    return (w / w.sum(-1, keepdims=True)) @ v


def test_backends_values_and_cpu_availability():
    assert [int(b) for b in (SDPBackend.ERROR, SDPBackend.MATH, SDPBackend.FLASH_ATTENTION,
                             SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION,
                             SDPBackend.OVERRIDEABLE)] == [-1, 0, 1, 2, 3, 4]
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 2, 3, 4)) for _ in range(3))
    for allowed in (SDPBackend.MATH, [SDPBackend.FLASH_ATTENTION], [SDPBackend.EFFICIENT_ATTENTION,
                                                                     SDPBackend.MATH]):
        with sdpa_kernel(allowed):
            out = F.scaled_dot_product_attention(gk.tensor(q), gk.tensor(k), gk.tensor(v))
        np.testing.assert_allclose(out.numpy(), _reference(q, k, v), rtol=1e-10)
    with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION]):
        with pytest.raises(RuntimeError, match="No viable backend for scaled_dot_product_attention"):
            F.scaled_dot_product_attention(gk.tensor(q), gk.tensor(k), gk.tensor(v))
    F.scaled_dot_product_attention(gk.tensor(q), gk.tensor(k), gk.tensor(v))      # restored
    with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
        with sdpa_kernel("math"):
            pass


def test_fill_uninitialized_memory_under_deterministic_algorithms():
    det = gk.utils.deterministic
    assert det.fill_uninitialized_memory is True
    gk.use_deterministic_algorithms(True)
    try:
        assert np.isnan(gk.empty(3).numpy()).all()
        assert (gk.empty(2, dtype=gk.int32).numpy() == 2 ** 31 - 1).all()
        assert gk.empty(2, dtype=gk.bool).numpy().all()
        assert np.isnan(gk.empty_like(gk.ones(2)).numpy()).all()
        assert np.isnan(gk.ones(2).new_empty(2).numpy()).all()
        det.fill_uninitialized_memory = False
        assert det.fill_uninitialized_memory is False
        with pytest.raises(RuntimeError, match="expected a bool, but got int"):
            det.fill_uninitialized_memory = 1
    finally:
        det.fill_uninitialized_memory = True
        gk.use_deterministic_algorithms(False)
