"""Products, arg-reductions and index puts refuse dtypes PyTorch 2.13 refuses (messages recorded
from torch 2.13 CPU), instead of promoting or casting silently."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

SHAPES = {1: (2,), 2: (2, 2), 3: (1, 2, 2)}
# (ndim of the int64 left operand, ndim of the float32 right one) -> torch 2.13's message
MATMUL_LONG_FLOAT = {
    (1, 1): "dot : expected both vectors to have same dtype, but found Long and Float",
    (1, 2): "expected m1 and m2 to have the same dtype, but got: long int != float",
    (1, 3): "expected scalar type Long but found Float",
    (2, 1): "addmv input tensors must have the same dtype, but got Float, Long, and Float",
    (2, 2): "expected m1 and m2 to have the same dtype, but got: long int != float",
    (2, 3): "expected scalar type Long but found Float",
    (3, 1): "addmv input tensors must have the same dtype, but got Float, Long, and Float",
    (3, 2): "expected m1 and m2 to have the same dtype, but got: long int != float",
    (3, 3): "expected scalar type Long but found Float",
}


@pytest.mark.parametrize("ranks", sorted(MATMUL_LONG_FLOAT))
def test_matmul_of_two_dtypes_is_pytorchs_error(ranks: tuple[int, int]) -> None:
    a = gk.ones(SHAPES[ranks[0]], dtype=gk.int64)
    b = gk.ones(SHAPES[ranks[1]], dtype=gk.float32)
    with pytest.raises(RuntimeError) as info:
        a @ b
    assert str(info.value) == MATMUL_LONG_FLOAT[ranks]


def test_named_products_refuse_two_dtypes() -> None:
    f32, f64 = gk.float32, gk.float64
    cases = [
        (lambda: gk.mm(gk.ones(2, 2, dtype=f32), gk.ones(2, 2, dtype=f64)),
         "expected m1 and m2 to have the same dtype, but got: float != double"),
        (lambda: gk.mv(gk.ones(2, 2, dtype=f32), gk.ones(2, dtype=f64)),
         "addmv input tensors must have the same dtype, but got Double, Float, and Double"),
        (lambda: gk.bmm(gk.ones(1, 2, 2, dtype=f32), gk.ones(1, 2, 2, dtype=f64)),
         "expected scalar type Float but found Double"),
        (lambda: gk.dot(gk.ones(2, dtype=f32), gk.ones(2, dtype=f64)),
         "dot : expected both vectors to have same dtype, but found Float and Double"),
        (lambda: gk.ones(2, 2) @ gk.ones(2, 2, dtype=gk.complex64),
         "expected m1 and m2 to have the same dtype, but got: float != c10::complex<float>"),
    ]
    for call, msg in cases:
        with pytest.raises(RuntimeError) as info:
            call()
        assert str(info.value) == msg


def test_same_dtype_products_still_work() -> None:
    a = gk.tensor([[1, 2], [3, 4]])
    np.testing.assert_array_equal((a @ a).numpy(), [[7, 10], [15, 22]])
    assert (a @ a).dtype == gk.int64


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_reductions_refuse_bool(name: str) -> None:
    t = gk.tensor([True, False])
    with pytest.raises(RuntimeError, match=rf"^{name}\(\): does not support bool input$"):
        getattr(gk, name)(t)
    with pytest.raises(RuntimeError, match=rf"^{name}\(\): does not support bool input$"):
        getattr(t, name)(dim=0)
    # max of bool stays allowed (torch: tensor(True))
    assert t.max().item() is True


INDEX_PUT = [[0], gk.tensor([0]), (slice(None), [0]), (0, [0]), ([0], [0]), (Ellipsis, [0]),
             (None, [0]), (gk.tensor([True, False, False]), gk.tensor([True, False, False])),
             gk.tensor(True)]
MASKED_OR_BASIC = [gk.tensor([True, False, False]), [True, False, False], gk.ones(3, 3, dtype=gk.bool),
                   0, slice(0, 1), (gk.tensor([True, False, False]), 0), gk.tensor(0)]


@pytest.mark.parametrize("k", range(len(INDEX_PUT)))
def test_advanced_index_put_wants_the_same_dtype(k: int) -> None:
    t = gk.zeros(3, 3, dtype=gk.int64)
    with pytest.raises(RuntimeError) as info:
        t[INDEX_PUT[k]] = gk.tensor([1.5])
    assert str(info.value) == ("Index put requires the source and destination dtypes match, got Long "
                               "for the destination and Float for the source.")
    np.testing.assert_array_equal(t.numpy(), np.zeros((3, 3)))
    f = gk.zeros(3, 3)
    with pytest.raises(RuntimeError, match="got Float for the destination and Double for the source"):
        f[INDEX_PUT[k]] = gk.tensor([1.5], dtype=gk.float64)


@pytest.mark.parametrize("k", range(len(MASKED_OR_BASIC)))
def test_masks_basic_indices_and_numbers_still_cast(k: int) -> None:
    t = gk.zeros(3, 3, dtype=gk.int64)
    t[MASKED_OR_BASIC[k]] = gk.tensor(1.5)
    assert t.dtype == gk.int64 and t.numpy().max() == 1
    u = gk.zeros(3, dtype=gk.int64)
    u[[0]] = 1.5                       # a Python number is fine (torch: tensor([1, 0, 0]))
    np.testing.assert_array_equal(u.numpy(), [1, 0, 0])
