"""In-place writes that PyTorch refuses, and integer division that must stay exact."""
import numpy as np
import pytest

import gradkit as gk


def test_complex_into_float_in_place_is_refused():
    # the imaginary part was dropped silently; PyTorch's message
    t = gk.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="result type ComplexFloat can't be cast to the "
                                           "desired output type Float"):
        t.add_(1j)
    assert t.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("write", [
    lambda t: t.add_(1.0), lambda t: t.mul_(2.0), lambda t: t.zero_(), lambda t: t.fill_(3.0),
    lambda t: t.copy_(gk.ones(3, dtype=gk.float64)), lambda t: t.__setitem__(0, 5.0),
    lambda t: t[1:].mul_(2.0),
], ids=["add_", "mul_", "zero_", "fill_", "copy_", "setitem", "view_mul_"])
def test_read_only_numpy_memory_is_named(write):
    a = np.arange(3.0)
    a.setflags(write=False)
    t = gk.from_numpy(a)
    with pytest.raises(RuntimeError, match="memory is read-only"):
        write(t)
    np.testing.assert_array_equal(a, [0.0, 1.0, 2.0])


def test_overlapping_memory_keeps_pytorch_message():
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        gk.zeros(3).expand(2, 3).add_(1.0)
    # a writeable NumPy array with a zero stride overlaps too (PyTorch refuses add_)
    a = np.lib.stride_tricks.as_strided(np.zeros(4), (3,), (0,), writeable=True)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        gk.from_numpy(a).add_(1.0)


@pytest.mark.parametrize("a,b,dtype,expected", [
    (-7, 2, gk.int64, -3), (7, -2, gk.int64, -3), (-7, -2, gk.int8, 3), (7, 2, gk.uint8, 3),
    # 2**62 + 1 is not a float64: a float quotient gives ...298, the integer one ...301
    (2 ** 62 + 1, 3, gk.int64, (2 ** 62 + 1) // 3),
])
def test_trunc_division_of_integers_is_exact(a, b, dtype, expected):
    out = gk.div(gk.tensor([a], dtype=dtype), b, rounding_mode="trunc")
    assert out.dtype == dtype and out.tolist() == [expected]


def test_trunc_division_by_integer_zero_is_refused():
    # it gave -2**63; PyTorch raises
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        gk.div(gk.tensor([5]), 0, rounding_mode="trunc")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        gk.div(gk.tensor([5, 6]), gk.tensor([1, 0]), rounding_mode="trunc")


def test_trunc_division_dtypes():
    assert gk.div(gk.tensor([True]), 2, rounding_mode="trunc").tolist() == [0]
    with pytest.raises(NotImplementedError, match="div_trunc_cpu"):
        gk.div(gk.tensor([True]), gk.tensor([True]), rounding_mode="trunc")
    out = gk.div(gk.tensor([-7, 7], dtype=gk.int8), 2.5, rounding_mode="trunc")
    assert out.dtype == gk.float32 and out.tolist() == [-2.0, 2.0]


@pytest.mark.parametrize("write,message", [
    (lambda t: t.scatter_(0, gk.tensor([0]), gk.tensor([2.5])), "scatter\\(\\): Expected self.dtype"),
    (lambda t: t.scatter(0, gk.tensor([0]), gk.tensor([2.5])), "scatter\\(\\): Expected self.dtype"),
    (lambda t: t.scatter_add_(0, gk.tensor([0]), gk.tensor([2.5])), "scatter\\(\\): Expected self.dtype"),
    (lambda t: t.index_add_(0, gk.tensor([0]), gk.tensor([2.5])),
     "index_add_\\(\\): self \\(Long\\) and source \\(Float\\) must have the same scalar type"),
    (lambda t: t.index_copy_(0, gk.tensor([0]), gk.tensor([2.5])),
     "index_copy_\\(\\): self and source expected to have the same dtype, but got \\(self\\) Long "
     "and \\(source\\) Float"),
], ids=["scatter_", "scatter", "scatter_add_", "index_add_", "index_copy_"])
def test_sources_of_another_dtype_are_refused(write, message):
    # NumPy casting wrote 2.5 into the long tensor as 2; PyTorch refuses
    t = gk.tensor([1, 2])
    with pytest.raises(RuntimeError, match=message):
        write(t)
    assert t.tolist() == [1, 2]
    # a Python number is cast, as in PyTorch
    assert gk.tensor([1, 2]).scatter_(0, gk.tensor([0]), 2.5).tolist() == [2, 2]
