"""gradkit.scipy.signal: SciPy's values and gradients in both inputs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss

import gradkit as gk
from gradkit.autograd import gradcheck, gradgradcheck
from gradkit.scipy import signal as G

RNG = np.random.default_rng(2)


def t(a, grad=True):
    return gk.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


SHAPES = [((5,), (3,)), ((3,), (6,)), ((4,), (4,)), ((4, 3), (2, 2)), ((3, 5), (4, 2)),
          ((2, 3, 4), (2, 2, 3))]


@pytest.mark.parametrize("sa,sb", SHAPES, ids=str)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_values_and_gradients(sa, sb, mode, method, name):
    a, b = RNG.normal(size=sa), RNG.normal(size=sb)
    try:
        ref = getattr(ss, name)(a, b, mode=mode, method=method)
    except ValueError:
        with pytest.raises(ValueError):
            getattr(G, name)(t(a), t(b), mode=mode, method=method)
        return
    fn = getattr(G, name)
    got = fn(t(a), t(b), mode=mode, method=method)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got.detach().numpy(), ref, atol=1e-12)
    assert gradcheck(lambda x, y: fn(x, y, mode=mode, method=method), (t(a), t(b)))


def test_second_order_and_forward_mode():
    a, b = RNG.normal(size=(5,)), RNG.normal(size=(3,))
    assert gradgradcheck(lambda x, y: G.convolve(x, y, mode="same"), (t(a), t(b)))
    _, tangent = gk.func.jvp(lambda x: G.convolve(x, b, method="fft"), (t(a, False),),
                             (t(np.ones(5), False),))
    np.testing.assert_allclose(np.asarray(tangent), np.convolve(np.ones(5), b))


def test_complex_and_auto():
    a = RNG.normal(size=(70,)) + 1j * RNG.normal(size=(70,))
    b = RNG.normal(size=(80,))
    got = G.correlate(gk.tensor(a), t(b), mode="same")
    np.testing.assert_allclose(got.detach().numpy(), ss.correlate(a, b, mode="same"), atol=1e-10)


@pytest.mark.parametrize("sa,sb", [((5, 4), (3, 2)), ((3, 3), (4, 5))], ids=str)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("boundary,fillvalue", [("fill", 0.0), ("fill", 1.5), ("wrap", 0.0)])
@pytest.mark.parametrize("name", ["convolve2d", "correlate2d"])
def test_2d(sa, sb, mode, boundary, fillvalue, name):
    a, b = RNG.normal(size=sa), RNG.normal(size=sb)
    try:
        ref = getattr(ss, name)(a, b, mode=mode, boundary=boundary, fillvalue=fillvalue)
    except ValueError:
        return
    fn = getattr(G, name)
    got = fn(t(a), t(b), mode=mode, boundary=boundary, fillvalue=fillvalue)
    np.testing.assert_allclose(got.detach().numpy(), ref, atol=1e-12)
    assert gradcheck(lambda x, y: fn(x, y, mode=mode, boundary=boundary, fillvalue=fillvalue),
                     (t(a), t(b)))


def test_axes_and_dot_axes():
    """autograd's generalization: convolve some axes, contract others, outer product the rest."""
    a, b = RNG.normal(size=(3, 5)), RNG.normal(size=(3, 4, 2))
    for mode in ["full", "valid", "same"]:
        got = G.convolve(t(a), t(b), axes=([1], [2]), dot_axes=([0], [0]), mode=mode)
        ref = np.stack([sum(ss.convolve(a[i], b[i, j], mode) for i in range(3)) for j in range(4)])
        np.testing.assert_allclose(got.detach().numpy(), ref)
        assert gradcheck(lambda x, y, m=mode: G.convolve(x, y, axes=([1], [2]), dot_axes=([0], [0]),
                                                 mode=m), (t(a), t(b)))
    out = G.convolve(a, b[:, :, 0], axes=([], []), dot_axes=([0], [0]))
    np.testing.assert_allclose(out, np.tensordot(a, b[:, :, 0], axes=([0], [0])))


def test_plain_inputs_give_scipy_results():
    a, b = RNG.normal(size=5), RNG.normal(size=3)
    out = G.convolve(a, b)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, ss.convolve(a, b))
    assert G.lfilter is ss.lfilter                 # the rest of scipy.signal passes through
