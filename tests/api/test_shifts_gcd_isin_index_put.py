"""Shifts, gcd/lcm, isin, index_put and bfloat16 never a stand-in (values and errors recorded from
PyTorch 2.13 CPU; the live comparison runs where torch is installed)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def test_shift_values_as_pytorch() -> None:
    a = gk.tensor([1, -8, 5])
    assert (a << 2).tolist() == [4, -32, 20]
    assert (a >> 1).tolist() == [0, -4, 2]
    assert (a << 64).tolist() == [0, 0, 0]              # a count not under the width: 0
    assert (a >> 70).tolist() == [0, -1, 0]             # ... or -1 for a negative value
    assert (a << -1).tolist() == [0, 0, 0]
    assert (a >> -1).tolist() == [0, -1, 0]
    assert (a << 63).tolist() == [-2 ** 63, 0, -2 ** 63]
    assert (2 << a).tolist() == [4, 0, 64]
    assert (64 >> a).tolist() == [32, 0, 2]
    i8 = gk.tensor([1, 64], dtype=gk.int8) << 1
    assert i8.dtype == gk.int8 and i8.tolist() == [2, -128]
    assert (gk.tensor([1], dtype=gk.int32) << 33).dtype == gk.int32
    assert (gk.tensor([True]) << 1).dtype == gk.int64
    assert (gk.tensor([1], dtype=gk.int8) << gk.tensor([1])).dtype == gk.int64
    assert gk.bitwise_left_shift(2, gk.tensor([1], dtype=gk.int8)).dtype == gk.int8
    u8 = gk.tensor([200], dtype=gk.uint8)
    assert gk.bitwise_right_shift(u8, gk.tensor([9], dtype=gk.uint8)).tolist() == [0]


def test_shift_in_place() -> None:
    t = gk.tensor([1, -8, 5])
    t <<= 1
    assert t.tolist() == [2, -16, 10]
    t >>= 2
    assert t.tolist() == [0, -4, 2]
    assert t.bitwise_left_shift_(3).tolist() == [0, -32, 16]
    assert t.bitwise_right_shift(1).tolist() == [0, -16, 8]


@pytest.mark.parametrize("call, msg", [
    (lambda: gk.tensor([1.5]) << 1, "\"lshift_cpu\" not implemented for 'Float'"),
    (lambda: gk.tensor([1]) >> 1.5, "\"rshift_cpu\" not implemented for 'Float'"),
    (lambda: gk.tensor([True]) << gk.tensor([True]), "\"lshift_cpu\" not implemented for 'Bool'"),
    (lambda: gk.gcd(gk.tensor([1.0]), gk.tensor([2.0])), "\"gcd_cpu\" not implemented for 'Float'"),
    (lambda: gk.lcm(gk.tensor([True]), gk.tensor([True])), "\"lcm_cpu\" not implemented for 'Bool'"),
])
def test_non_integer_kernels_are_refused(call, msg: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotImplementedError) as info:
        call()
    assert str(info.value) == msg


def test_gcd_lcm() -> None:
    assert gk.gcd(gk.tensor([12, -18, 0, 0]), gk.tensor([8, 12, 5, 0])).tolist() == [4, 6, 5, 0]
    assert gk.lcm(gk.tensor([4, -6, 0]), gk.tensor([6, 4, 3])).tolist() == [12, 12, 0]
    assert gk.gcd(gk.tensor([4], dtype=gk.int8), gk.tensor([6])).dtype == gk.int64
    assert gk.tensor([4]).lcm_(gk.tensor([6])).tolist() == [12]
    with pytest.raises(TypeError, match=r"^gcd\(\): argument 'other' \(position 2\) must be Tensor, not int"):
        gk.gcd(gk.tensor([4]), 2)
    assert not gk.gcd(gk.tensor([4]), gk.tensor([2])).requires_grad


def test_isin() -> None:
    assert gk.isin(gk.tensor([1, 2, 3]), gk.tensor([2, 5])).tolist() == [False, True, False]
    assert gk.isin(gk.tensor([1, 2, 3]), gk.tensor([2, 5]), invert=True).tolist() == [True, False, True]
    assert gk.isin(gk.tensor([1, 2]), 2).tolist() == [False, True]
    r = gk.isin(2, gk.tensor([1, 2]))
    assert r.shape == () and r.item() is True
    assert gk.isin(gk.tensor([1.0, 2.5]), gk.tensor([1, 2])).tolist() == [True, False]
    assert gk.isin(gk.tensor([float("nan")]), gk.tensor([float("nan")])).tolist() == [False]
    out = gk.isin(gk.tensor([[1.0, 2.0]], requires_grad=True), gk.tensor([1.0]))
    assert out.dtype == gk.bool and out.shape == (1, 2) and not out.requires_grad


def test_index_put_values_and_gradients() -> None:
    x = gk.zeros(3, 2)
    x.index_put_((gk.tensor([0, 0, 2]),), gk.tensor([1.0, 2.0]), accumulate=True)
    np.testing.assert_array_equal(x.numpy(), [[2.0, 4.0], [0.0, 0.0], [1.0, 2.0]])
    y = gk.index_put(gk.zeros(3, 2), (gk.tensor([1]),), gk.tensor(5.0))
    np.testing.assert_array_equal(y.numpy(), [[0.0, 0.0], [5.0, 5.0], [0.0, 0.0]])
    z = gk.zeros(3, 2).index_put((gk.tensor([True, False, True]),), gk.tensor(5.0), accumulate=True)
    np.testing.assert_array_equal(z.numpy(), [[5.0, 5.0], [0.0, 0.0], [5.0, 5.0]])
    # gradients: accumulate keeps every old value (d/da = w); a plain put drops the written ones
    w = gk.tensor([1.0, 2.0, 3.0])
    a = gk.zeros(3, requires_grad=True)
    v = gk.tensor([1.0, 2.0], requires_grad=True)
    (gk.index_put(a * 1, (gk.tensor([0, 0]),), v, accumulate=True) * w).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(v.grad.numpy(), [1.0, 1.0])
    a.grad = None
    v.grad = None
    ((a * 1).index_put_((gk.tensor([0, 2]),), v) * w).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(v.grad.numpy(), [1.0, 3.0])


@pytest.mark.parametrize("call, exc, msg", [
    (lambda x: x.index_put_(gk.tensor([1]), gk.tensor(5.0)), TypeError,
     "index_put_(): argument 'indices' (position 1) must be tuple of Tensors, not Tensor"),
    (lambda x: x.index_put_((gk.tensor([1]),), 5.0), TypeError,
     "index_put_(): argument 'values' (position 2) must be Tensor, not float"),
    (lambda x: x.index_put_((gk.tensor([1]),), gk.tensor(5.0, dtype=gk.float64)), RuntimeError,
     "Index put requires the source and destination dtypes match, got Float for the destination "
     "and Double for the source."),
    (lambda x: x.index_put_((gk.tensor([1.0]),), gk.tensor(5.0)), IndexError,
     "tensors used as indices must be long, int, byte or bool tensors"),
    (lambda x: x.index_put_((gk.tensor([5]),), gk.tensor(5.0)), IndexError,
     "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda x: x.index_put_((None, gk.tensor([1])), gk.tensor(5.0)), TypeError,
     "expected Tensor as element 0 in argument 0, but got NoneType"),
])
def test_index_put_errors(call, exc, msg: str) -> None:  # type: ignore[no-untyped-def]
    x = gk.zeros(3, 2)
    with pytest.raises(exc) as info:
        call(x)
    assert str(info.value) == msg
    assert not x.numpy().any()


def test_bfloat16_is_never_a_stand_in() -> None:
    # with ml_dtypes a real bfloat16 (tests/core/test_bfloat16.py); without it, the refusal
    try:
        b = gk.bfloat16
    except AttributeError as e:
        assert "pip install ml_dtypes" in str(e)
        for spec in ("bfloat16", "torch.bfloat16"):
            with pytest.raises(TypeError, match="pip install ml_dtypes"):
                gk.zeros(2, dtype=spec)
        return
    for spec in ("bfloat16", "torch.bfloat16", b):
        t = gk.zeros(2, dtype=spec)
        assert t.dtype is b and t.numpy().dtype.name == "bfloat16" and t.numpy().itemsize == 2
    assert gk.zeros(2).to("bfloat16").dtype is b


def test_matches_live_torch() -> None:
    torch = pytest.importorskip("torch")
    assert isinstance(torch.bfloat16, torch.dtype)          # torch has it; gradkit says why not
    for lib in (torch, gk):
        a = lib.tensor([1, -8, 5])
        assert (a << 64).tolist() == [0, 0, 0] and (a >> 70).tolist() == [0, -1, 0]
        assert lib.gcd(lib.tensor([12, -18]), lib.tensor([8, 12])).tolist() == [4, 6]
        assert lib.isin(lib.tensor([1, 2, 3]), lib.tensor([2, 5])).tolist() == [False, True, False]
        x = lib.zeros(3, 2)
        x.index_put_((lib.tensor([0, 0, 2]),), lib.tensor([1.0, 2.0]), accumulate=True)
        assert x.tolist() == [[2.0, 4.0], [0.0, 0.0], [1.0, 2.0]]
