"""uint16/uint32/uint64: PyTorch 2.13's "limited support" types. gradkit keeps them (never a
widened stand-in), runs the rows PyTorch runs on them and raises PyTorch's errors elsewhere.
Expected values and messages were recorded from PyTorch 2.13 (CPU); the live comparison runs
where torch is installed."""
import numpy as np
import pytest

import gradkit as gk

U = [("uint16", 65535, "UInt16"), ("uint32", 2**32 - 1, "UInt32"), ("uint64", 2**64 - 1, "UInt64")]


@pytest.mark.parametrize("name, top, scalar", U)
def test_kept_by_every_constructor(name, top, scalar):
    d = getattr(gk, name)
    assert repr(d) == f"torch.{name}" and not d.is_signed and d.itemsize == np.dtype(name).itemsize
    arr = np.array([1, 2, top], dtype=name)
    for t in (gk.tensor(arr), gk.as_tensor(arr), gk.from_numpy(arr),
              gk.tensor([1, 2, top], dtype=d), gk.tensor([1.0, 2.0, 3.0]).to(d)):
        assert t.dtype is d and t.numpy().dtype == np.dtype(name)
    shared = gk.from_numpy(arr)
    arr[0] = 7                                           # from_numpy shares memory
    assert shared.tolist() == [7, 2, top] and type(shared[2].item()) is int
    assert gk.zeros(2, dtype=d).dtype is d and gk.full((2,), 7, dtype=d).tolist() == [7, 7]
    assert gk.zeros(2, dtype=d).type() == f"torch.{scalar}Tensor"


def test_printing_and_conversions_as_pytorch():
    # recorded from PyTorch
    assert repr(gk.tensor([1, 2, 65535], dtype=gk.uint16)) == \
        "tensor([    1,     2, 65535], dtype=torch.uint16)"
    assert repr(gk.tensor([2**64 - 1], dtype=gk.uint64)) == \
        "tensor([18446744073709551615], dtype=torch.uint64)"
    assert gk.tensor([-1, 5]).to(gk.uint32).tolist() == [4294967295, 5]
    assert gk.tensor([-1], dtype=gk.uint16).tolist() == [65535]
    assert gk.tensor([1.5, 3.0]).to(gk.uint16).tolist() == [1, 3]
    assert gk.tensor([1, 2, 65535], dtype=gk.uint32).float().tolist() == [1.0, 2.0, 65535.0]
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint16 without overflow"):
        gk.tensor([65536], dtype=gk.uint16)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint32 without overflow"):
        gk.tensor([2**32], dtype=gk.uint32)
    with pytest.raises(OverflowError, match="can't convert negative int to unsigned"):
        gk.tensor([-1], dtype=gk.uint64)


@pytest.mark.parametrize("name, top, scalar", U)
def test_supported_rows_and_results_as_pytorch(name, top, scalar):
    d = getattr(gk, name)
    a = gk.tensor([1, 2, 65535], dtype=d)
    b = gk.tensor([3, 1, 1], dtype=d)
    assert (a * b).dtype is d and (a * b).tolist() == [3, 2, 65535]
    assert (a * 2).dtype is d
    assert (a / b).dtype is gk.float32 and (a + 1.5).tolist() == [2.5, 3.5, 65536.5]
    assert (a == b).tolist() == [False, False, False] and (a != b).tolist() == [True, True, True]
    assert (a & b).tolist() == [1, 0, 1] and (a & b).dtype is d
    assert a.sum().dtype is gk.int64 and a.sum().item() == 65538
    assert a.prod().item() == 131070 and a.cumsum(0).tolist() == [1, 3, 65538]
    assert a.cumsum(0).dtype is gk.int64 and a.all().item() is True
    assert gk.cat([a, b]).dtype is d and a[[0, 2]].tolist() == [1, 65535]
    assert a.reshape(3, 1).dtype is d and a.clone().dtype is d
    assert a.sort().values.tolist() == [1, 2, 65535]
    assert gk.promote_types(d, gk.float32) is gk.float32
    assert gk.promote_types(d, d) is d


@pytest.mark.parametrize("name, top, scalar", U)
def test_unsupported_rows_raise_pytorchs_errors(name, top, scalar):
    d = getattr(gk, name)
    a = gk.tensor([1, 2, 3], dtype=d)
    cases = [(lambda: a + a, "add_stub"), (lambda: a + 1, "add_stub"), (lambda: a - a, "add_stub"),
             (lambda: -a, "neg_cpu"), (lambda: a < a, "lt_cpu"), (lambda: a > 1, "gt_cpu"),
             (lambda: a.max(), "max_all"), (lambda: a.min(), "min_all"),
             (lambda: a.argmax(), "argmax_cpu"), (lambda: a.abs(), "abs_cpu"),
             (lambda: a ** 2, "pow"), (lambda: a // a, "div_floor_cpu"),
             (lambda: a % a, "remainder_cpu"), (lambda: a << 1, "lshift_cpu"),
             (lambda: a.clamp(0, 2), "clamp_scalar_cpu"), (lambda: gk.maximum(a, a), "maximum_cpu"),
             (lambda: gk.arange(3, dtype=d), "arange_cpu"), (lambda: a.flip(0), "flip_cpu")]
    for call, kernel in cases:
        with pytest.raises(NotImplementedError) as info:
            call()
        assert str(info.value) == f"\"{kernel}\" not implemented for '{scalar}'"
    for other, oname in ((gk.tensor([1, 1, 1]), "Long"), (gk.tensor([1, 1, 1], dtype=gk.uint8), "Byte"),
                         (gk.tensor([True, False, True]), "Bool")):
        with pytest.raises(RuntimeError) as info:
            a * other
        assert str(info.value) == ("Promotion for uint16, uint32, uint64 types is not supported, "
                                   f"attempted to promote {scalar} and {oname}")


def test_two_unsigned_types_do_not_promote():
    with pytest.raises(RuntimeError, match="attempted to promote UInt32 and UInt16"):
        gk.promote_types(gk.uint32, gk.uint16)


def test_matches_live_torch():
    torch = pytest.importorskip("torch")
    for name, _, _ in U:
        a_t = torch.tensor([1, 2, 65535], dtype=getattr(torch, name))
        a_g = gk.tensor([1, 2, 65535], dtype=getattr(gk, name))
        assert repr(a_g) == repr(a_t)
        for f in (lambda a: a * a, lambda a: a.sum(), lambda a: a.cumsum(0), lambda a: a / 2,
                  lambda a: a == 2, lambda a: a.to(a.dtype)):
            rt, rg = f(a_t), f(a_g)
            assert repr(rg) == repr(rt)
        for f in (lambda a: a + a, lambda a: -a, lambda a: a < a, lambda a: a.max()):
            with pytest.raises(NotImplementedError) as et:
                f(a_t)
            with pytest.raises(NotImplementedError) as eg:
                f(a_g)
            assert str(eg.value) == str(et.value)
