"""Reductions' result dtypes and float16 accumulation (expected values worked out by hand or
in float64 NumPy; PyTorch gives the same, see the comments)."""
import numpy as np
import pytest

import gradkit as gk


@pytest.mark.parametrize("name", ["sum", "prod", "cumsum", "cumprod"])
def test_an_asked_integer_dtype_is_the_result_dtype(name):
    x = gk.tensor([100, 100], dtype=gk.int16)
    args = (0,) if name.startswith("cum") else ()
    out = getattr(x, name)(*args, dtype=gk.int8)
    assert out.dtype == gk.int8
    # int8 arithmetic wraps modulo 256, as PyTorch's accumulation in int8 does:
    # 200 -> -56, 10000 -> 16
    expected = {"sum": -56, "prod": 16, "cumsum": [100, -56], "cumprod": [100, 16]}[name]
    assert out.tolist() == expected


def test_sum_dtype_float_keeps_the_float():
    out = gk.tensor([1.5, 1.25]).sum(dtype=gk.float64)
    assert out.dtype == gk.float64 and out.item() == 2.75


def test_float16_running_sum_and_product_accumulate_in_float32():
    # a float16 running sum sticks at 2048 (2048 + 1 rounds to 2048); PyTorch gives 3000
    assert gk.ones(3000, dtype=gk.float16).cumsum(0)[-1].item() == 3000.0
    x = gk.full((100,), 1.01, dtype=gk.float16)
    got = x.cumprod(0)[-1]
    exact = np.float16(np.prod(np.full(100, np.float16(1.01), dtype=np.float64)))
    assert got.dtype == gk.float16 and got.item() == exact


@pytest.mark.parametrize("name", ["var", "std", "norm"])
def test_float16_spread_does_not_overflow(name):
    # the sum of squares (4 * 200**2 = 160000) is over float16's 65504; the result is not
    data = np.array([200.0, -200.0, 200.0, -200.0], dtype=np.float16)
    got = getattr(gk.tensor(data), name)()
    ref = {"var": np.var(data.astype(np.float64), ddof=1), "std": np.std(data.astype(np.float64), ddof=1),
           "norm": np.linalg.norm(data.astype(np.float64))}[name]
    assert got.dtype == gk.float16
    assert np.isfinite(got.item())
    np.testing.assert_allclose(got.item(), np.float16(ref), rtol=1e-3)


def test_float16_layer_norm_statistics_in_float32():
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((4, 1000)) * 30).astype(np.float16)
    got = gk.nn.functional.layer_norm(gk.tensor(data), (1000,)).numpy()
    d = data.astype(np.float64)
    ref = (d - d.mean(1, keepdims=True)) / np.sqrt(d.var(1, keepdims=True) + 1e-5)
    assert got.dtype == np.float16
    # one float16 rounding of the exact result (a float16 pass is ~3% off here)
    np.testing.assert_allclose(got.astype(np.float64), ref, rtol=2e-3, atol=2e-3)


def _ulps(a, b):
    """Distance in float16 units in the last place (both finite float16 arrays)."""
    ia = a.view(np.int16).astype(np.int64)
    ib = b.view(np.int16).astype(np.int64)
    ia = np.where(ia < 0, -32768 - ia, ia)          # order negative floats monotonically
    ib = np.where(ib < 0, -32768 - ib, ib)
    return np.abs(ia - ib)


_F16_REFS = {
    "sigmoid": (lambda t: t.sigmoid(), lambda v: 1 / (1 + np.exp(-v))),
    "sinc": (lambda t: gk.sinc(t), lambda v: np.sinc(v)),
    "erf": (lambda t: gk.erf(t), lambda v: np.array([__import__("math").erf(u) for u in v])),
    "silu": (lambda t: gk.nn.functional.silu(t), lambda v: v / (1 + np.exp(-v))),
    "softplus": (lambda t: gk.nn.functional.softplus(t), lambda v: np.log1p(np.exp(v))),
    "rsqrt": (lambda t: t.abs().add(0.5).rsqrt(), lambda v: 1 / np.sqrt(np.abs(v) + 0.5)),
}


@pytest.mark.parametrize("name", sorted(_F16_REFS))
def test_float16_elementwise_is_computed_in_float32(name):
    # PyTorch rounds a half op once from float32; rounding at each step was 2 ulp off
    # (sigmoid, silu), SciPy's erf gave float64, and sinc(0) was nan (1e-20 is 0 in half)
    v = np.linspace(-6, 6, 401).astype(np.float16)
    run, ref = _F16_REFS[name]
    got = run(gk.tensor(v)).numpy()
    assert got.dtype == np.float16
    exact = ref(v.astype(np.float64)).astype(np.float16)
    assert _ulps(got, exact).max() <= 1
    if name == "sinc":
        assert gk.sinc(gk.tensor([0.0], dtype=gk.float16)).item() == 1.0
