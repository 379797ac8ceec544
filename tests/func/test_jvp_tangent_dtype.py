"""``gradkit.func.jvp`` with a tangent of another dtype than its primal, as ``torch.func.jvp``
(behaviour recorded from PyTorch 2.13; values analytic)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def test_a_float64_tangent_of_a_float32_primal_gives_a_float64_jvp() -> None:
    x = gk.tensor([1.0, 2.0])
    t = gk.tensor([0.1, 1 / 3], dtype=gk.float64)
    p, jv = gk.func.jvp(lambda v: v.exp(), (x,), (t,))
    assert p.dtype == gk.float32 and jv.dtype == gk.float64
    np.testing.assert_allclose(jv.numpy(), np.exp(np.float32([1.0, 2.0])) * np.array([0.1, 1 / 3]),
                               rtol=1e-12)


def test_a_float16_tangent_promotes_with_the_float32_primal() -> None:
    p, jv = gk.func.jvp(lambda v: v.exp(), (gk.tensor([1.0, 2.0]),),
                        (gk.tensor([1.0, 1.0], dtype=gk.float16),))
    assert jv.dtype == gk.float32
    np.testing.assert_allclose(jv.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)


def test_an_integer_tangent_is_refused_with_pytorchs_words() -> None:
    with pytest.raises(ValueError, match="Expected tangent to be floating point or complex, but "
                                         "got: torch.int64"):
        gk.func.jvp(lambda v: v.exp(), (gk.tensor([1.0, 2.0]),), (gk.tensor([1, 1]),))


def test_jvp_dtypes_match_live_torch_func() -> None:
    torch = pytest.importorskip("torch")
    _, theirs = torch.func.jvp(lambda v: v.sin() * v, (torch.tensor([1.0, 2.0]),),
                               (torch.tensor([0.5, -1.0], dtype=torch.float64),))
    _, ours = gk.func.jvp(lambda v: v.sin() * v, (gk.tensor([1.0, 2.0]),),
                          (gk.tensor([0.5, -1.0], dtype=gk.float64),))
    assert str(ours.dtype) == str(theirs.dtype) == "torch.float64"
    # float32 primal values (sin, cos) round differently: agree to float32 precision
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-6)
