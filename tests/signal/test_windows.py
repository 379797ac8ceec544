"""``gk.signal.windows`` (``torch.signal.windows``; its docstring examples are in the survey of
PyTorch's documentation, issue #17). Expected values are SciPy's ``scipy.signal.windows``
(same definitions: ``sym=False`` is SciPy's periodic window); messages are PyTorch 2.13's."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.signal import windows as W

sw = pytest.importorskip("scipy.signal.windows")


@pytest.mark.parametrize("M", [0, 1, 2, 7, 10])
@pytest.mark.parametrize("sym", [True, False])
def test_windows_match_scipy(M, sym):
    cases = [
        (W.bartlett(M, sym=sym, dtype=gk.float64), sw.bartlett(M, sym=sym)),
        (W.blackman(M, sym=sym, dtype=gk.float64), sw.blackman(M, sym=sym)),
        (W.cosine(M, sym=sym, dtype=gk.float64), sw.cosine(M, sym=sym)),
        (W.gaussian(M, std=1.7, sym=sym, dtype=gk.float64), sw.gaussian(M, 1.7, sym=sym)),
        (W.general_cosine(M, a=[0.5, 0.3, 0.2], sym=sym, dtype=gk.float64),
         sw.general_cosine(M, [0.5, 0.3, 0.2], sym=sym)),
        (W.general_hamming(M, alpha=0.6, sym=sym, dtype=gk.float64), sw.general_hamming(M, 0.6, sym=sym)),
        (W.hamming(M, sym=sym, dtype=gk.float64), sw.hamming(M, sym=sym)),
        (W.hann(M, sym=sym, dtype=gk.float64), sw.hann(M, sym=sym)),
        (W.kaiser(M, beta=8.0, sym=sym, dtype=gk.float64), sw.kaiser(M, 8.0, sym=sym)),
        (W.nuttall(M, sym=sym, dtype=gk.float64), sw.nuttall(M, sym=sym)),
    ]
    for got, want in cases:
        np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
    if not sym or M < 2:
        return
    np.testing.assert_allclose(W.exponential(M, tau=2.0, dtype=gk.float64).numpy(),
                               sw.exponential(M, None, 2.0, sym=True), atol=1e-12)


def test_dtype_default_and_requires_grad():
    w = W.hann(4)
    assert w.dtype == gk.float32 and not w.requires_grad
    assert W.hann(4, requires_grad=True).requires_grad


def test_errors_are_pytorchs():
    with pytest.raises(ValueError, match="hann|general_cosine"):
        W.hann(-1)
    with pytest.raises(ValueError, match="bartlett requires non-negative window length, got M=-2"):
        W.bartlett(-2)
    with pytest.raises(ValueError, match="gaussian expects float32 or float64 dtypes, got: torch.int64"):
        W.gaussian(3, dtype=gk.int64)
    with pytest.raises(ValueError, match="Standard deviation must be positive, got: 0 instead."):
        W.gaussian(3, std=0)
    with pytest.raises(ValueError, match="Center must be None for symmetric windows"):
        W.exponential(3, center=1.0)
    with pytest.raises(ValueError, match="Coefficients cannot be empty"):
        W.general_cosine(3, a=[])
    assert gk.signal.windows is W


def test_device_argument_is_honoured():
    # the device= argument was accepted and dropped (a CPU tensor came back)
    import gradkit as gk
    for fn in (gk.signal.windows.hann, gk.signal.windows.kaiser, gk.signal.windows.bartlett):
        t = fn(4, device="meta")
        assert t.device.type == "meta" and tuple(t.shape) == (4,)
