"""``ldexp``/``frexp`` over the whole exponent range, against NumPy's exact ``np.ldexp`` and
``np.frexp``: a factor ``2**e`` formed on its own overflows (or is formed in float32) where the
result ``x * 2**e`` is finite or 0."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

_X = [0.0, -0.0, 1e-310, 5e-324, 1e-6, 1.0, -3.0, 2.5e300, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("e", [0, 7, -7, 100, -100, 200, -200, 1000, -1000, 1100, -1100, 2000,
                               -2000, 3000, -3000, 10**9, -10**9])
def test_ldexp_integer_exponent_is_exact(dtype: type, e: int) -> None:
    with np.errstate(over="ignore"):
        x = np.array(_X, dtype=np.float64).astype(dtype)
        want = np.ldexp(x, np.clip(e, -5000, 5000)).astype(dtype)
    got = gk.ldexp(gk.tensor(x), gk.tensor(e))
    assert got.dtype == gk.tensor(x).dtype
    np.testing.assert_array_equal(got.numpy(), want)
    got = gk.ldexp(gk.tensor(x), gk.tensor(np.full(x.shape, e)))
    np.testing.assert_array_equal(got.numpy(), want)


def test_ldexp_float64_above_float32_range() -> None:
    # the exponent was raised to a power in the default dtype: 2**200 was inf for float64 inputs
    got = gk.ldexp(gk.tensor([1.0, 3.0], dtype=gk.float64), gk.tensor([200, -200]))
    np.testing.assert_array_equal(got.numpy(), [2.0**200, 3.0 * 2.0**-200])


def test_ldexp_gradients_unchanged() -> None:
    x = gk.tensor([0.3, -2.0, 1e-300], dtype=gk.float64, requires_grad=True)
    e = gk.tensor([1.5, -0.7, 1500.0], dtype=gk.float64, requires_grad=True)
    gk.ldexp(x, e).sum().backward()
    xd, ed = x.detach().numpy(), e.detach().numpy()
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(x.grad.numpy(), 2.0 ** ed, rtol=1e-12)  # inf at 2**1500
    np.testing.assert_allclose(e.grad.numpy()[:2], xd[:2] * 2.0 ** ed[:2] * np.log(2.0), rtol=1e-12)
    # 1e-300 * 2**1500 * ln 2, formed without overflow
    np.testing.assert_allclose(e.grad.numpy()[2], np.ldexp(1e-300, 1500) * np.log(2.0), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_frexp_subnormal(dtype: type) -> None:
    tiny = np.finfo(dtype).smallest_subnormal
    x = np.array([tiny, 3 * tiny, np.finfo(dtype).tiny / 3, -tiny, 0.75, np.finfo(dtype).max],
                 dtype=dtype)
    m, e = gk.frexp(gk.tensor(x))
    wm, we = np.frexp(x)
    np.testing.assert_array_equal(m.numpy(), wm)
    np.testing.assert_array_equal(e.numpy(), we)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_numpy_ldexp_frexp_dispatch_exact(dtype: type) -> None:
    with np.errstate(over="ignore", under="ignore"):
        x = np.array([0.0, 1e-310, 1e-40, 3.0, -2.5], dtype=np.float64).astype(dtype)
        for e in (2000, -1100, 3, np.array([1, 2, 3, 2000, -3])):
            want = np.ldexp(x, e)
            got = np.ldexp(gk.tensor(x), e)
            assert got.numpy().dtype == want.dtype
            np.testing.assert_array_equal(got.numpy(), want)
    m, e = np.frexp(gk.tensor(x))
    wm, we = np.frexp(x)
    np.testing.assert_array_equal(m.numpy(), wm)
    np.testing.assert_array_equal(e.numpy(), we)
