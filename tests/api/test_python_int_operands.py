"""Python ints beyond what PyTorch can unpack are errors, never wrapped to a wrong value;
a scalar branch of ``where`` must fit the result dtype (PyTorch's errors)."""
import pytest

import gradkit as gk


@pytest.mark.parametrize("dtype", [gk.int64, gk.int32, gk.int8, gk.uint8])
@pytest.mark.parametrize("op", [
    lambda t, v: t + v, lambda t, v: t - v, lambda t, v: t * v, lambda t, v: t < v,
    lambda t, v: gk.add(t, v), lambda t, v: gk.lt(t, v), lambda t, v: t // v,
], ids=["add", "sub", "mul", "lt", "gk.add", "gk.lt", "floordiv"])
def test_an_int_beyond_uint64_is_an_error(op, dtype):
    t = gk.tensor([1], dtype=dtype)
    # 2**64 wrapped to 0 gave t + 2**64 == t and t < 2**64 False
    with pytest.raises(OverflowError, match="int too big to convert"):
        op(t, 2 ** 64)
    with pytest.raises(OverflowError, match="can't convert negative int to unsigned"):
        op(t, -2 ** 63 - 1)


def test_ints_torch_wraps_still_wrap():
    # PyTorch unpacks 2**63 as uint64 and wraps it into int64: 1 + 2**63 is -2**63 + 1
    assert (gk.tensor([1]) + 2 ** 63).tolist() == [-2 ** 63 + 1]
    assert (gk.tensor([1], dtype=gk.uint8) + (-3)).tolist() == [254]


def test_where_scalar_branch_must_fit():
    cond = gk.tensor([True, False])
    x = gk.tensor([1], dtype=gk.int8)
    with pytest.raises(RuntimeError, match="value cannot be converted to type int8_t without overflow"):
        gk.where(cond, x, 300)
    assert gk.where(cond, x, -1).tolist() == [1, -1]
    u = gk.tensor([1], dtype=gk.uint8)
    assert gk.where(cond, u, -1).tolist() == [1, 255]      # PyTorch's uint8 rule
    out = gk.where(cond, x, 2.5)
    assert out.dtype == gk.float32 and out.tolist() == [1.0, 2.5]


@pytest.mark.parametrize("op,kernel", [
    (lambda a, b: a // b, "div_floor_cpu"), (lambda a, b: a % b, "remainder_cpu"),
    (lambda a, b: gk.fmod(a, b), "fmod_cpu"), (lambda a, b: gk.floor_divide(a, b), "div_floor_cpu"),
], ids=["floordiv", "mod", "fmod", "floor_divide"])
def test_bool_division_has_no_kernel(op, kernel):
    # NumPy gave int8 (True % False was 0); PyTorch has no bool kernel
    b = gk.tensor([True, False])
    with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for \'Bool\''):
        op(b, b)
    assert op(gk.tensor([3]), gk.tensor([True])).tolist() == [0 if kernel != "div_floor_cpu" else 3]
