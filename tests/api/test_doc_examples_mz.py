"""What running the `>>>` examples of PyTorch's docstrings (the torch functions m..z,
torch.distributions, torch.nn.init, torch.nn.utils.rnn, torch.autograd.forward_ad,
torch.utils.data) with ``import gradkit as torch`` found, and gradkit now does as PyTorch does.
Each test names the docstring whose example showed the difference; expected errors and values
come from live PyTorch (skipped only where torch is absent), SciPy, or closed forms."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gradkit as gk


def _raised(fn: object, *args: object, **kwargs: object) -> tuple[str, str]:
    try:
        fn(*args, **kwargs)  # type: ignore[operator]
    except Exception as e:  # noqa: BLE001  (the type is what is compared)
        return type(e).__name__, str(e)
    return "", ""


CLOSE_CASES = [
    # torch.qr's example: allclose(q.mT @ q, eye(5)) with q of shape (3, 4, 4)
    ((3, 4, 4), "float32", (5, 5), "float32", {}),
    ((3, 4, 4), "float32", (3, 4, 4), "float64", {}),
    ((4,), "float32", (4,), "int64", {}),
    ((4,), "float32", (2,), "int64", {}),
    ((4,), "float32", (4,), "float32", {"rtol": -1.0}),
    ((4,), "float32", (4,), "float32", {"atol": -0.5}),
]


@pytest.mark.parametrize("name", ["allclose", "isclose"])
@pytest.mark.parametrize("sa,da,sb,db,kw", CLOSE_CASES)
def test_close_refuses_what_pytorch_refuses(name: str, sa: tuple, da: str, sb: tuple, db: str,
                                            kw: dict) -> None:  # torch.qr
    torch = pytest.importorskip("torch")
    want = _raised(getattr(torch, name), torch.ones(sa, dtype=getattr(torch, da)),
                   torch.ones(sb, dtype=getattr(torch, db)), **kw)
    got = _raised(getattr(gk, name), gk.ones(sa, dtype=getattr(gk, da)),
                  gk.ones(sb, dtype=getattr(gk, db)), **kw)
    assert want[0] == "RuntimeError"            # each case is one PyTorch refuses
    assert got == want


def test_close_still_compares_what_broadcasts() -> None:
    a = gk.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = gk.tensor([1.0, 2.0 + 1e-7])
    assert gk.isclose(a, b).tolist() == [[True, True], [False, False]]
    assert not gk.allclose(a, b)
    assert gk.allclose(a[:1], b)
    assert a.allclose(a + 1e-7) and not a.allclose(a + 1e-3)


def test_thread_safe_generator_is_none_outside_thread_workers() -> None:  # torch.thread_safe_generator
    from gradkit.random import thread_safe_generator
    assert thread_safe_generator() is None and gk.thread_safe_generator() is None
    gen = gk.thread_safe_generator()
    assert gk.randint(0, 10, (5,), generator=gen).shape == (5,)


def test_poisson_distribution_refuses_integer_rates() -> None:  # torch.distributions.Poisson
    # PyTorch's example `Poisson(torch.tensor([4])).sample()` raises (recorded from 2.13)
    with pytest.raises(NotImplementedError, match="\"poisson_cpu\" not implemented for 'Long'"):
        gk.distributions.Poisson(gk.tensor([4])).sample()
    gk.manual_seed(0)
    draws = gk.distributions.Poisson(gk.tensor([4.0])).sample((20000,))
    assert draws.dtype == gk.float32 and draws.shape == (20000, 1)
    assert abs(draws.mean().item() - 4.0) < 0.1 and abs(draws.var().item() - 4.0) < 0.2


def _truncnorm_mean_std(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """The truncated normal's mean and standard deviation, closed form."""
    al, be = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))  # noqa: E731  (exact in the lower tail)
    z = cdf(be) - cdf(al)
    m = (pdf(al) - pdf(be)) / z
    v = 1 + (al * pdf(al) - be * pdf(be)) / z - m * m
    return mean + std * m, std * math.sqrt(v)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (1.0, 2.0, -1.0, 2.0),
                                          (0.0, 1.0, 5.0, 6.0), (0.0, 1.0, -8.0, -7.5),
                                          (0.0, 100.0, -10.0, 10.0)])
def test_trunc_normal_draws_the_truncated_normal(mean: float, std: float, a: float, b: float) -> None:
    # torch.nn.init.trunc_normal_: an interval far in a tail (a=5, b=6) used to redraw normals
    # until each fell inside (millions of rounds); now uniform candidates with rejection
    gk.manual_seed(0)
    w = gk.empty(200, 500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gk.nn.init.trunc_normal_(w, mean=mean, std=std, a=a, b=b)
    vals = w.numpy().astype(np.float64)
    assert vals.min() >= a and vals.max() <= b
    want_m, want_s = _truncnorm_mean_std(mean, std, a, b)
    n = vals.size
    assert abs(vals.mean() - want_m) < 5 * want_s / math.sqrt(n)
    assert abs(vals.std() - want_s) < 0.02 * want_s


def test_trunc_normal_warns_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning) as want:
        torch.nn.init.trunc_normal_(torch.empty(3), mean=0.0, std=1.0, a=5.0, b=6.0)
    with pytest.warns(UserWarning) as got:
        gk.nn.init.trunc_normal_(gk.empty(3), mean=0.0, std=1.0, a=5.0, b=6.0)
    assert str(got[0].message) == str(want[0].message)


def test_trunc_normal_bounds_hold_after_rounding_to_the_dtype() -> None:
    gk.manual_seed(0)
    for dtype in (gk.float16, gk.float32):
        w = gk.empty(100000, dtype=dtype)
        gk.nn.init.trunc_normal_(w, a=-0.1, b=0.1)
        vals = w.numpy().astype(np.float64)
        assert vals.min() >= -0.1 and vals.max() <= 0.1


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("decimals", [-3, -1, 1, 2, 3, 4])
def test_round_with_decimals_as_pytorch(dtype: str, decimals: int) -> None:  # torch.round
    # the example `round(tensor([0.1234567]), decimals=3)` in float16 gave 0.1240 (0.1230 in
    # PyTorch, which scales in float32); 1200.1 * 1000 overflowed float16 to inf
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    vals = np.concatenate([rng.normal(0, 1, 200), rng.normal(0, 1000, 200),
                           [0.1234567, 1200.1234567, 2.5e-3, -0.0455, 1.0005, 65504.0, 0.0]])
    want = torch.round(torch.tensor(vals).to(getattr(torch, dtype)), decimals=decimals)
    got = gk.round(gk.tensor(vals).to(getattr(gk, dtype)), decimals=decimals)
    assert got.dtype == getattr(gk, dtype)
    np.testing.assert_array_equal(got.float().numpy(), want.float().numpy())


@pytest.mark.parametrize("shape,dim", [((64, 33), 0), ((64, 33), 1), ((33, 64), 1), ((4, 7, 5), 0),
                                       ((4, 7, 5), 1), ((4, 7, 5), 2), ((100,), 0)])
def test_float16_softmax_rounds_as_pytorch(shape: tuple, dim: int) -> None:  # torch.vmap (float16)
    # float16 softmax/log_softmax ran in float16 (most elements off by 1-4 ulp); PyTorch runs
    # them in float32 with the kernel's roundings to float16
    torch = pytest.importorskip("torch")
    a = (np.random.default_rng(sum(shape) + dim).standard_normal(shape) * 3).astype(np.float16)
    for name in ("softmax", "log_softmax"):
        want = getattr(torch, name)(torch.tensor(a), dim).numpy()
        got = getattr(gk, name)(gk.tensor(a), dim)
        assert got.dtype == gk.float16
        np.testing.assert_array_equal(got.numpy(), want)


TENSORDOT_CASES = [
    ((2, 3), (3, 2), ([0, 1], [0, 1])),      # sizes 2/3 paired: was a silent sum over 6 values
    ((2, 3), (3, 2), ([-2, -1], [0, 1])),
    ((2, 3), (3, 2), ([0, 1], [1, 0])),
    ((2, 3), (3, 2), ([0], [0, 1])),
    ((2, 3), (3, 2), -1),                    # was an outer product
    ((2, 3), (3, 2), 3),
    ((2, 3), (3, 2), 1),
    ((2, 3), (3, 2), 0),
    ((2, 1), (3, 2), ([1], [0])),            # a size-1 dim pairs with any size (summed)
    ((2, 3), (1, 2), ([1], [0])),
    ((2, 3), (3, 2), ([0, 0], [1, 1])),
    ((3, 4, 5), (4, 3, 2), 2),               # torch.tensordot's example without its CUDA lines
]


@pytest.mark.parametrize("sa,sb,dims", TENSORDOT_CASES)
def test_tensordot_checks_as_pytorch(sa: tuple, sb: tuple, dims: object) -> None:  # torch.tensordot
    torch = pytest.importorskip("torch")
    a = np.arange(np.prod(sa), dtype=np.float64).reshape(sa)
    b = np.arange(np.prod(sb), dtype=np.float64).reshape(sb) - 2.0
    try:
        want = torch.tensordot(torch.tensor(a), torch.tensor(b), dims=dims)
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as got:
            gk.tensordot(gk.tensor(a), gk.tensor(b), dims=dims)
        assert str(got.value) == str(e)
        return
    got = gk.tensordot(gk.tensor(a), gk.tensor(b), dims=dims)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy())
    assert gk.tensordot(gk.tensor(a), gk.tensor(b), dims=gk.tensor(1)).shape == \
        torch.tensordot(torch.tensor(a), torch.tensor(b), dims=torch.tensor(1)).shape


@pytest.mark.parametrize("sa,sb,axes", [((2, 1), (3, 2), 1), ((2, 3), (3, 2), ([0], [0, 1])),
                                        ((2, 3), (3, 2), -1), ((2, 3), (3, 2), 0),
                                        ((2, 3), (3, 2), 1), ((2, 3), (3, 2), ([0, 1], [1, 0]))])
def test_numpy_tensordot_keeps_numpys_rules(sa: tuple, sb: tuple, axes: object) -> None:
    # np.tensordot on tensors: NumPy's axes and refusals, not PyTorch's size-1 broadcasting
    a = np.arange(np.prod(sa), dtype=np.float64).reshape(sa)
    b = np.arange(np.prod(sb), dtype=np.float64).reshape(sb) + 1.0
    try:
        want = np.tensordot(a, b, axes)
    except ValueError as e:
        with pytest.raises(ValueError, match=str(e)):
            np.tensordot(gk.tensor(a), gk.tensor(b), axes)
        return
    np.testing.assert_allclose(np.tensordot(gk.tensor(a), gk.tensor(b), axes).numpy(), want)


def test_numpy_inner_and_dot_refuse_unaligned_shapes() -> None:
    for fn, sa, sb in ((np.inner, (2, 1), (3,)), (np.dot, (2, 1), (4, 3, 2))):
        with pytest.raises(ValueError) as want:
            fn(np.ones(sa), np.ones(sb))
        with pytest.raises(ValueError) as got:
            fn(gk.ones(sa), gk.ones(sb))
        assert str(got.value) == str(want.value)


REFUSED = {   # calls PyTorch 2.13 refuses that gradkit answered (mostly silently wrong)
    "masked_select_int_mask": lambda L: L.masked_select(L.arange(4.0), L.tensor([1, 0, 1, 0])),
    "rand_int": lambda L: L.rand(2, dtype=L.int64),
    "randn_bool": lambda L: L.randn(2, dtype=L.bool),
    "rand_like_int": lambda L: L.rand_like(L.ones(2, dtype=L.int32)),
    "randn_like_int": lambda L: L.randn_like(L.ones(2, dtype=L.int64)),
    "randperm_neg": lambda L: L.randperm(-2),
    "narrow_neg_len": lambda L: L.narrow(L.ones(3), 0, 1, -1),
    "narrow_start_oob": lambda L: L.narrow(L.ones(3), 0, 4, 0),
    "narrow_neg_start_oob": lambda L: L.narrow(L.ones(3), 0, -4, 1),
    "outer_2d": lambda L: L.outer(L.ones(2), L.ones(2, 2)),
    "outer_0d": lambda L: L.outer(L.ones(()), L.ones(2)),
    "add_int_float_alpha": lambda L: L.add(L.tensor([1]), L.tensor([1]), alpha=0.5),
    "sub_int_float_alpha": lambda L: L.sub(L.tensor([1]), 1, alpha=2.0),
    "rsub_int_float_alpha": lambda L: L.rsub(L.tensor([1]), 2, alpha=0.5),
    "add_complex_alpha": lambda L: L.add(L.tensor([1.0]), L.tensor([1.0]), alpha=1j),
    "trace_bool": lambda L: L.trace(L.ones(2, 2, dtype=L.bool)),
    "tril_indices_float": lambda L: L.tril_indices(3, 3, dtype=L.float64),
    "triu_indices_float": lambda L: L.triu_indices(3, 3, dtype=L.float32),
    "trapezoid_x_len": lambda L: L.trapezoid(L.ones(3), L.ones(2)),
    "cumulative_trapezoid_x_len": lambda L: L.cumulative_trapezoid(L.ones(3), L.ones(2)),
    "sum_repeated_dim": lambda L: L.sum(L.ones(2, 3), (0, 0)),
    "std_repeated_dim": lambda L: L.std(L.ones(2, 3), (1, -1)),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_as_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    want = _raised(REFUSED[name], torch)
    assert want[0]                                  # PyTorch refuses each
    assert _raised(REFUSED[name], gk) == want


AGREED = {    # what PyTorch answers, gradkit now answers the same (value and dtype)
    "add_bool_int_alpha": lambda L: L.add(L.tensor([True]), L.tensor([True]), alpha=2),
    "add_bool_zero_alpha": lambda L: L.add(L.tensor([True]), L.tensor([False]), alpha=0),
    "add_int_int_alpha": lambda L: L.add(L.tensor([1, 2]), 2, alpha=3),
    "add_int_floatscalar": lambda L: L.add(L.tensor([1]), 2.5, alpha=3),
    "add_mixed_float_alpha": lambda L: L.add(L.tensor([1]), L.tensor([1.0]), alpha=0.5),
    "sub_int_alpha": lambda L: L.tensor([1, 2]).sub(1, alpha=2),
    "masked_select_bcast": lambda L: L.masked_select(L.arange(12.0).reshape(3, 4),
                                                     L.tensor([True, False, True, False])),
    "narrow_end": lambda L: L.narrow(L.ones(3), 0, 3, 0),
    "narrow_neg_start": lambda L: L.narrow(L.arange(5), 0, -2, 2),
    "trapezoid_x": lambda L: L.trapezoid(L.tensor([1.0, 4.0, 9.0]), L.tensor([0.0, 1.0, 3.0])),
    "tril_indices_int32": lambda L: L.tril_indices(3, 3, dtype=L.int32),
}


@pytest.mark.parametrize("name", sorted(AGREED))
def test_answers_as_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    want, got = AGREED[name](torch), AGREED[name](gk)
    assert str(got.dtype) == str(want.dtype) and tuple(got.shape) == tuple(want.shape)
    assert got.tolist() == want.tolist()


def test_complex_rand_and_randn_draw_both_parts() -> None:
    # a complex rand/randn had an imaginary part of 0; PyTorch: real and imaginary parts each
    # U[0, 1) (rand), each N(0, 1/2) (randn, E|z|^2 = 1)
    gk.manual_seed(0)
    u = gk.rand(40000, dtype=gk.complex64).numpy()
    z = gk.randn(40000, dtype=gk.complex128).numpy()
    assert 0 <= u.real.min() and u.real.max() < 1 and 0 <= u.imag.min() and u.imag.max() < 1
    assert abs(u.imag.mean() - 0.5) < 0.01 and abs(u.imag.var() - 1 / 12) < 0.005
    assert abs(z.real.var() - 0.5) < 0.02 and abs(z.imag.var() - 0.5) < 0.02
    assert abs(np.mean(np.abs(z) ** 2) - 1.0) < 0.03
    assert gk.rand_like(gk.ones(3, dtype=gk.complex64)).imag.abs().sum().item() > 0


@pytest.mark.parametrize("kw", [{}, {"nan": 1.0, "posinf": 2.0}, {"neginf": -3.0}])
def test_nan_to_num_of_complex_replaces_both_parts(kw: dict) -> None:
    # complex tensors came back unchanged (nan kept); PyTorch treats each part
    torch = pytest.importorskip("torch")
    vals = [complex(math.nan, math.inf), complex(-math.inf, 1.0), complex(2.0, math.nan)]
    want = torch.nan_to_num(torch.tensor(vals), **kw)
    got = gk.nan_to_num(gk.tensor(vals), **kw)
    assert got.dtype == gk.complex64 and got.tolist() == want.tolist()


def test_nansum_takes_dtype() -> None:  # torch.nansum
    torch = pytest.importorskip("torch")
    for dtype in ("int64", "float64"):
        want = torch.nansum(torch.tensor([1.5, math.nan, 2.5]), dtype=getattr(torch, dtype))
        got = gk.nansum(gk.tensor([1.5, math.nan, 2.5]), dtype=getattr(gk, dtype))
        assert str(got.dtype) == str(want.dtype) and got.item() == want.item()
