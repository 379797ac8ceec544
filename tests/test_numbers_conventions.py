"""Numbers that must not be silently wrong: integer ranges, out-of-range indices, NaN/inf
conventions, float64 precision and the backward of forwards PyTorch accepts.

Every expectation is a literal recorded from PyTorch 2.13 (or an analytic value); none needs
torch installed. The live comparisons are in test_oracle_torch_nan.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

OVERFLOW = "value cannot be converted to type {} without overflow"


# --- integer ranges ---------------------------------------------------------------------
@pytest.mark.parametrize("data", [2 ** 63, [2 ** 63], -2 ** 63 - 1, [[1], [2 ** 70]]])
def test_tensor_of_an_int_beyond_int64_raises_instead_of_wrapping(data):
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        gk.tensor(data)


def test_tensor_int64_limits_and_big_ints_among_floats_are_kept():
    assert gk.tensor(2 ** 63 - 1).item() == 2 ** 63 - 1
    assert gk.tensor(-2 ** 63).item() == -2 ** 63
    assert gk.tensor([2 ** 64, 1.5]).tolist() == [2.0 ** 64, 1.5]
    assert gk.tensor([2 ** 70], dtype=gk.float64).tolist() == [2.0 ** 70]


@pytest.mark.parametrize("value,dtype,name", [
    ([300], gk.uint8, "uint8"), (300, gk.uint8, "uint8"), ([256], gk.uint8, "uint8"),
    ([-256], gk.uint8, "uint8"), ([-0.5], gk.uint8, "uint8"), ([255.9], gk.uint8, "uint8"),
    ([float("nan")], gk.uint8, "uint8"), ([float("inf")], gk.int64, "int64"),
    ([200], gk.int8, "int8"), ([-129], gk.int8, "int8"), ([2 ** 40], gk.int32, "int32"),
    ([40000], gk.int16, "int16"), ([1e19], gk.int64, "int64"),
])
def test_tensor_refuses_a_python_number_its_integer_dtype_cannot_hold(value, dtype, name):
    with pytest.raises(RuntimeError, match=OVERFLOW.format(name)):
        gk.tensor(value, dtype=dtype)


def test_tensor_keeps_what_pytorch_keeps():
    # negative ints wrap into unsigned types (two's complement), floats truncate, bools fit
    assert gk.tensor([-1, -255, 255], dtype=gk.uint8).tolist() == [255, 1, 255]
    assert gk.tensor([127.5, -0.0], dtype=gk.uint8).tolist() == [127, 0]
    assert gk.tensor([-128, 127], dtype=gk.int8).tolist() == [-128, 127]
    assert gk.tensor([True, 2], dtype=gk.bool).tolist() == [True, True]
    # an ndarray is cast as NumPy casts (PyTorch too), and so are casts of tensors
    assert gk.tensor(np.array([300]), dtype=gk.uint8).tolist() == [44]
    assert gk.tensor([300, -1]).to(gk.uint8).tolist() == [44, 255]


@pytest.mark.parametrize("make,name", [
    (lambda: gk.full((2,), 300, dtype=gk.uint8), "uint8_t"),
    (lambda: gk.full((2,), 300.5, dtype=gk.uint8), "uint8_t"),
    (lambda: gk.full((2,), 200, dtype=gk.int8), "int8_t"),
    (lambda: gk.full((2,), 2 ** 40, dtype=gk.int32), "int"),
    (lambda: gk.full((2,), 2 ** 63), "int64_t"),
    (lambda: gk.full_like(gk.zeros(1, dtype=gk.uint8), 300), "uint8_t"),
    (lambda: gk.zeros(1, dtype=gk.uint8).new_full((1,), 300), "uint8_t"),
    (lambda: gk.zeros(2, dtype=gk.uint8).fill_(300), "uint8_t"),
    (lambda: gk.zeros(2, dtype=gk.int64).fill_(2 ** 63), "int64_t"),
    (lambda: gk.zeros(2, dtype=gk.uint8).masked_fill(gk.tensor([True, False]), 300), "uint8_t"),
    (lambda: gk.arange(2 ** 63 - 2, 2 ** 63 + 1), "int64_t"),
])
def test_scalar_fills_refuse_values_their_dtype_cannot_hold(make, name):
    with pytest.raises(RuntimeError, match=OVERFLOW.format(name)):
        make()


def test_scalar_fills_wrap_negative_ints_into_unsigned_as_pytorch():
    assert gk.full((1,), -1, dtype=gk.uint8).tolist() == [255]
    assert gk.zeros(1, dtype=gk.uint8).fill_(-1).tolist() == [255]
    # arange of a small type wraps, as PyTorch's does
    assert gk.arange(250, 258, 3, dtype=gk.uint8).tolist() == [250, 253, 0]
