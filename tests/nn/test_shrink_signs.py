"""Softshrink keeps the sign of a shrunk negative input (-0.), as PyTorch's kernel (``x * 0``)
does; found running the nn module docstrings with ``import gradkit as torch`` (issue #17).
Expected signs are IEEE's for ``x * 0``; a live comparison imports torch (importorskip)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F

X = [-0.3, 0.2, -0.7, 0.9, float("nan"), 0.0, -0.0]


def test_softshrink_values_and_zero_signs():
    out = F.softshrink(gk.tensor(X), 0.5).numpy()
    np.testing.assert_allclose(out, [0.0, 0.0, -0.2, 0.4, np.nan, 0.0, 0.0], atol=1e-7)
    assert np.signbit(out).tolist() == [True, False, True, False, False, False, True]
    assert gk.nn.Softshrink()(gk.tensor([-0.1])).numpy().tobytes() == np.float32(-0.0).tobytes()


def test_softshrink_matches_torch_bitwise():
    torch = pytest.importorskip("torch")
    want = torch.nn.functional.softshrink(torch.tensor(X), 0.5).numpy()
    got = F.softshrink(gk.tensor(X), 0.5).numpy()
    assert np.signbit(got).tolist() == np.signbit(want).tolist()
    np.testing.assert_array_equal(got, want)
