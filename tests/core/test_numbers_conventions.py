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
@pytest.mark.parametrize("data", [2 ** 63, [2 ** 63], -2 ** 63 - 1, [[1], [2 ** 70]],
                                  [[1, 2], [2 ** 63, 1]]])     # NumPy made that one float64
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
    (lambda: gk.linspace(0, 300, 4, dtype=gk.uint8), "uint8_t"),       # gave [0, 100, 200, 44]
    (lambda: gk.zeros(2, dtype=gk.uint8).scatter(0, gk.tensor([0]), 300), "uint8_t"),
    (lambda: gk.scalar_tensor(300, dtype=gk.uint8), "uint8_t"),
])
def test_scalar_fills_refuse_values_their_dtype_cannot_hold(make, name):
    with pytest.raises(RuntimeError, match=OVERFLOW.format(name)):
        make()


@pytest.mark.parametrize("make,msg", [
    (lambda: gk.zeros(1).new_tensor([300], dtype=gk.uint8), OVERFLOW.format("uint8")),
    (lambda: gk.randint(0, 300, (2,), dtype=gk.uint8), "to - 1 is out of bounds for unsigned char"),
    (lambda: gk.randint(-1, 10, (2,), dtype=gk.uint8), "from is out of bounds for unsigned char"),
    (lambda: gk.randint(0, 2 ** 40, (2,), dtype=gk.int32), "to - 1 is out of bounds for int"),
    (lambda: gk.randint_like(gk.zeros(2, dtype=gk.int8), 0, 200), "to - 1 is out of bounds for "
                                                                      "signed char"),
])
def test_new_tensor_and_randint_refuse_ranges_their_dtype_cannot_hold(make, msg):
    with pytest.raises(RuntimeError, match=msg):
        make()


def test_randint_over_a_full_unsigned_range_still_works():
    r = gk.randint(0, 256, (1000,), dtype=gk.uint8)
    assert r.dtype is gk.uint8 and r.max().item() > 200


@pytest.mark.parametrize("make", [
    lambda: gk.full((2,), 1e300), lambda: gk.zeros(2).fill_(-1e300),
    lambda: gk.full_like(gk.zeros(1), 1e39),
    lambda: gk.zeros(2).masked_fill(gk.tensor([True, False]), 1e300)])
def test_a_finite_float32_fill_that_would_overflow_to_inf_is_refused(make):
    with pytest.raises(RuntimeError, match=OVERFLOW.format("float")):
        make()


def test_float_fills_that_fit_or_are_meant_to_be_infinite_still_work():
    assert gk.full((1,), float("inf")).tolist() == [float("inf")]
    assert gk.full((1,), 1e300, dtype=gk.float64).tolist() == [1e300]
    assert gk.tensor([1e300], dtype=gk.float32).tolist() == [float("inf")]   # as torch.tensor


@pytest.mark.parametrize("dtype,value,name", [
    (gk.uint8, 300, "uint8_t"), (gk.uint8, 255.9, "uint8_t"), (gk.uint8, -1.0, "uint8_t"),
    (gk.int8, 128, "int8_t"), (gk.float32, 1e300, "float")])
def test_setitem_of_a_python_number_its_dtype_cannot_hold_raises(dtype, value, name):
    t = gk.zeros(2, dtype=dtype)
    with pytest.raises(RuntimeError, match=OVERFLOW.format(name)):
        t[0] = value
    assert t.tolist() == [0, 0]


def test_setitem_wraps_a_negative_int_into_unsigned_as_pytorch():
    t = gk.zeros(2, dtype=gk.uint8)
    t[0] = -1
    assert t.tolist() == [255, 0]


def test_scalar_fills_wrap_negative_ints_into_unsigned_as_pytorch():
    assert gk.full((1,), -1, dtype=gk.uint8).tolist() == [255]
    assert gk.zeros(1, dtype=gk.uint8).fill_(-1).tolist() == [255]
    # arange of a small type wraps, as PyTorch's does
    assert gk.arange(250, 258, 3, dtype=gk.uint8).tolist() == [250, 253, 0]


# --- out-of-range indices: PyTorch refuses them where NumPy would wrap -1 to the end ------
def _x():
    return gk.arange(3.0)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: gk.gather(_x(), 0, gk.tensor([-1])), RuntimeError,
     "index -1 is out of bounds for dimension 0 with size 3"),
    (lambda: gk.gather(_x(), 0, gk.tensor([3])), RuntimeError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: gk.index_select(_x(), 0, gk.tensor([-1])), IndexError, "index out of range in self"),
    (lambda: gk.index_select(_x(), 0, gk.tensor([3])), IndexError, "index out of range in self"),
    (lambda: gk.zeros(3).scatter_add(0, gk.tensor([-1]), gk.ones(1)), RuntimeError,
     "index -1 is out of bounds for dimension 0 with size 3"),
    (lambda: gk.zeros(3).scatter(0, gk.tensor([-1]), gk.ones(1)), RuntimeError,
     "index -1 is out of bounds for dimension 0 with size 3"),
    (lambda: gk.zeros(3).scatter(0, gk.tensor([3]), 1.0), RuntimeError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: gk.zeros(3).scatter_reduce(0, gk.tensor([-1]), gk.ones(1), "sum"), RuntimeError,
     "index -1 is out of bounds for dimension 0 with size 3"),
    (lambda: gk.zeros(3).index_add(0, gk.tensor([-1]), gk.ones(1)), IndexError,
     "index out of range in self"),
    (lambda: gk.zeros(3).index_copy(0, gk.tensor([-1]), gk.ones(1)), IndexError,
     r"index_copy_\(\): index -1 is out of bounds for dimension 0 with size 3"),
    (lambda: gk.take(_x(), gk.tensor([3])), IndexError,
     "out of range: tried to access index 3 on a tensor of 3 elements."),
    (lambda: gk.topk(_x(), 5), RuntimeError, "selected index k out of range"),
    (lambda: gk.topk(_x(), -1), RuntimeError, "selected index k out of range"),
    (lambda: gk.topk(gk.tensor(3.0), 2), RuntimeError, "selected index k out of range"),
    (lambda: gk.gather(gk.ones(3, 4), 0, gk.tensor([1])), RuntimeError,
     "Index tensor must have the same number of dimensions as input tensor"),
    (lambda: gk.gather(gk.ones(3, 4), 0, gk.tensor([[2] * 5])), RuntimeError,
     r"expected index \[1, 5\] to be no larger than self \[3, 4\] apart from dimension 0"),
    (lambda: gk.zeros(3, 4).scatter_add(0, gk.tensor([[1] * 4]), gk.ones(1, 2)), RuntimeError,
     r"to be no larger size than src \[1, 2\]"),
])
def test_out_of_range_indices_raise_as_in_pytorch(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_negative_indices_that_pytorch_accepts_still_work():
    assert gk.take(_x(), gk.tensor([-1])).tolist() == [2.0]
    assert gk.zeros(3).index_fill(0, gk.tensor([-1]), 1.0).tolist() == [0.0, 0.0, 1.0]
    assert gk.zeros(3).put(gk.tensor([-1]), gk.ones(1)).tolist() == [0.0, 0.0, 1.0]
    assert gk.topk(gk.tensor(3.0), 1).values.item() == 3.0


def test_gather_with_an_index_smaller_in_other_dims_reads_only_that_corner():
    x = gk.arange(12.0, dtype=gk.float64).reshape(3, 4).requires_grad_()
    y = gk.gather(x, 0, gk.tensor([[2], [1]]))
    assert y.tolist() == [[8.0], [4.0]]            # PyTorch; NumPy would broadcast to (2, 4)
    y.sum().backward()
    assert x.grad.tolist() == [[0, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]
    assert gk.gather(_x(), 0, gk.tensor(1)).item() == 1.0   # 0-d index of a 1-D input


# --- a forward that succeeds must not make backward crash -------------------------------
def test_scatter_add_backward_with_an_index_smaller_than_src():
    x = gk.zeros(3, 4, dtype=gk.float64, requires_grad=True)
    src = gk.ones(3, 4, dtype=gk.float64, requires_grad=True)
    w = gk.arange(12.0, dtype=gk.float64).reshape(3, 4)
    (x.scatter_add(0, gk.tensor([[0, 1], [2, 0]]), src) * w).sum().backward()
    assert x.grad.tolist() == w.tolist()
    # src[0,0] -> out[0,0] (w 0), src[0,1] -> out[1,1] (5), src[1,0] -> out[2,0] (8),
    # src[1,1] -> out[0,1] (1); the unused part of src gets 0 (PyTorch 2.13 raises here)
    assert src.grad.tolist() == [[0, 5, 0, 0], [8, 1, 0, 0], [0, 0, 0, 0]]


def test_scatter_add_with_a_0d_index_and_src():
    x = gk.zeros(3, dtype=gk.float64, requires_grad=True)
    src = gk.tensor(5.0, dtype=gk.float64, requires_grad=True)
    y = x.scatter_add(0, gk.tensor(1), src)
    assert y.tolist() == [0.0, 5.0, 0.0]
    (y * gk.tensor([1.0, 2.0, 3.0], dtype=gk.float64)).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0] and src.grad.item() == 2.0


@pytest.mark.parametrize("index,vshape,vgrad", [
    (0, (1, 1, 2), [[[0.0, 1.0]]]),
    (0, (1, 1, 1), [[[1.0]]]),                       # broadcast over the row as well
    (slice(0, 2), (1, 2, 1), [[[1.0], [5.0]]]),
])
def test_setitem_of_a_value_with_extra_leading_size1_dims_backpropagates(index, vshape, vgrad):
    base = gk.zeros(3, 2, dtype=gk.float64, requires_grad=True)
    v = gk.ones(*vshape, dtype=gk.float64, requires_grad=True)
    t = base * 1.0
    t[index] = v
    (t * gk.arange(6.0, dtype=gk.float64).reshape(3, 2)).sum().backward()
    assert v.grad.tolist() == vgrad                   # recorded from PyTorch 2.13


def _diag_embed_reference(a, offset, d1, d2):
    n = a.shape[-1] + abs(offset)
    out = np.zeros(a.shape[:-1] + (n, n))
    for i in range(a.shape[-1]):
        r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
        out[..., r, c] = a[..., i]
    return np.moveaxis(out, (-2, -1), (d1, d2))


@pytest.mark.parametrize("shape,offset,d1,d2", [
    ((2, 3, 4), 0, -2, -1), ((2, 3), 1, -2, -1), ((2, 3), -2, 0, 2), ((3,), 0, 1, 0),
    ((2, 3, 4), 1, 1, 3)])
def test_diag_embed_of_nd_input_and_its_gradient(shape, offset, d1, d2):
    a = np.random.default_rng(0).standard_normal(shape)
    x = gk.tensor(a, requires_grad=True)
    y = gk.diag_embed(x, offset, d1, d2)
    want = _diag_embed_reference(a, offset, d1 % (len(shape) + 1), d2 % (len(shape) + 1))
    np.testing.assert_array_equal(y.detach().numpy(), want)
    w = np.arange(want.size, dtype=np.float64).reshape(want.shape)
    (y * gk.tensor(w)).sum().backward()
    # d/dx sum(w * diag_embed(x)) reads w back from the same diagonal positions
    ref = np.zeros(shape)
    for i in np.ndindex(*shape):
        e = np.zeros(shape)
        e[i] = 1.0
        ref[i] = (w * _diag_embed_reference(e, offset, d1 % (len(shape) + 1),
                                            d2 % (len(shape) + 1))).sum()
    np.testing.assert_array_equal(x.grad.numpy(), ref)


# --- NaN and inf conventions (literals recorded from PyTorch 2.13) ----------------------
NAN, INF = float("nan"), float("inf")
F = gk.nn.functional


def _value_and_grad(fn, *vals):
    xs = [gk.tensor(v, dtype=gk.float64, requires_grad=True) for v in vals]
    y = fn(*xs)
    y.sum().backward()
    return y.detach().numpy(), [x.grad.numpy() for x in xs]


def _same(got, want):
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want, dtype=np.float64))


@pytest.mark.parametrize("fn,x,value,grad", [
    (gk.relu, [NAN, 1.0, 0.0, -1.0], [NAN, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]),
    (F.relu, [NAN], [NAN], [1.0]),
    (F.elu, [NAN, -INF], [NAN, -1.0], [1.0, 0.0]),
    (F.selu, [NAN], [NAN], [1.0507009873554805]),
    (F.celu, [NAN], [NAN], [1.0]),
    (F.softplus, [NAN, INF, -INF], [NAN, INF, 0.0], [NAN, 1.0, 0.0]),
    (lambda x: F.threshold(x, 0.5, -1.0), [NAN, 0.5, 1.0], [NAN, -1.0, 1.0], [1.0, 0.0, 1.0]),
    (F.softshrink, [NAN, 0.5, 1.0, -1.0], [NAN, 0.0, 0.5, -0.5], [1.0, 0.0, 1.0, 1.0]),
    (F.hardshrink, [NAN, 0.25, 1.0], [NAN, 0.0, 1.0], [1.0, 0.0, 1.0]),
    (gk.sign, [NAN, -0.0, 2.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]),
    (gk.abs, [NAN, 0.0, -2.0], [NAN, 0.0, 2.0], [0.0, 0.0, -1.0]),
    (gk.lgamma, [-INF, INF], [INF, INF], [NAN, INF]),
    (lambda x: x ** 0.5, [-0.0, -INF, 4.0], [-0.0, NAN, 2.0], [-INF, NAN, 0.25]),
    (lambda x: 0.0 ** x, [INF, -INF, 1.0, -1.0], [0.0, INF, 0.0, INF], [0.0, -INF, 0.0, -INF]),
    (lambda x: gk.softmax(x, 0), [INF, 1.0], [NAN, NAN], [NAN, NAN]),
    (lambda x: gk.log_softmax(x, 0), [INF, 1.0], [NAN, NAN], [NAN, NAN]),
    (lambda x: gk.softmax(x, 0), [-INF, -INF], [NAN, NAN], [NAN, NAN]),
    (lambda x: gk.softmax(x, 0), [-INF, 1.0], [0.0, 1.0], [0.0, 0.0]),
    (lambda x: x.max(), [1.0, NAN, 3.0], NAN, [0.0, 1.0, 0.0]),
    (lambda x: x.min(), [NAN, NAN, 1.0], NAN, [0.5, 0.5, 0.0]),
    (lambda x: x.amax(), [1.0, NAN, 3.0], NAN, [NAN, NAN, NAN]),   # PyTorch's amax: 0/0
    (lambda x: x.median(0).values, [NAN, 1.0, NAN], NAN, [1.0, 0.0, 0.0]),
    (lambda x: x.topk(2).values, [1.0, NAN, 3.0], [NAN, 3.0], [0.0, 1.0, 1.0]),
    (lambda x: x.sort(descending=True).values, [1.0, NAN, 3.0], [NAN, 3.0, 1.0],
     [1.0, 1.0, 1.0]),
    (lambda x: F.l1_loss(x, gk.zeros(2, dtype=gk.float64), reduction="none"), [NAN, -2.0],
     [NAN, 2.0], [0.0, -1.0]),
    (lambda x: F.smooth_l1_loss(x, gk.zeros(3, dtype=gk.float64), reduction="none"),
     [INF, -INF, NAN], [INF, INF, NAN], [1.0, -1.0, NAN]),
    (lambda x: F.huber_loss(x, gk.zeros(2, dtype=gk.float64), reduction="none"), [INF, NAN],
     [INF, NAN], [1.0, NAN]),
])
def test_nan_and_inf_follow_pytorch(fn, x, value, grad):
    v, (g,) = _value_and_grad(fn, x)
    _same(v, value)
    _same(g, grad)


@pytest.mark.parametrize("fn,gx,gy", [
    (gk.maximum, [1.0, 1.0, 0.5], [1.0, 1.0, 0.5]),
    (gk.minimum, [1.0, 1.0, 0.5], [1.0, 1.0, 0.5]),
])
def test_maximum_minimum_with_a_nan_operand_pass_the_gradient_to_both(fn, gx, gy):
    v, (g1, g2) = _value_and_grad(fn, [NAN, 2.0, 1.0], [1.0, NAN, 1.0])
    _same(v, [NAN, NAN, 1.0])
    _same(g1, gx)
    _same(g2, gy)


def test_logaddexp_gives_an_infinite_operand_the_whole_gradient():
    v, (g1, g2) = _value_and_grad(gk.logaddexp, [INF, 0.0, -INF], [-INF, INF, -INF])
    _same(v, [INF, INF, -INF])
    _same(g1, [1.0, 0.0, NAN])
    _same(g2, [0.0, 1.0, NAN])
    v, (g1, g2) = _value_and_grad(gk.logaddexp2, [INF, 1.0], [0.0, 1.0])
    _same(g1, [1.0, 0.5])
    _same(g2, [0.0, 0.5])


def test_remainder_divisor_gradient_is_minus_floor_divide():
    v, (gx, gy) = _value_and_grad(gk.remainder, [-1.5, INF, 7.0], [INF, 1.5, 2.0])
    _same(v, [INF, NAN, 1.0])
    _same(gx, [1.0, 1.0, 1.0])
    _same(gy, [1.0, NAN, -3.0])            # -(-1.5 // inf) = 1, inf // 1.5 = nan, -(7 // 2)


def test_descending_sort_of_unsigned_and_bool_is_right():
    # sorting by -x wrapped uint8 (0 came first) and refused bool
    assert gk.tensor([0, 1, 2], dtype=gk.uint8).sort(descending=True).values.tolist() == [2, 1, 0]
    r = gk.tensor([True, False, True]).sort(descending=True)
    assert r.values.tolist() == [True, True, False] and r.indices.tolist() == [0, 2, 1]
    r = gk.tensor([1.0, 2.0, 1.0, 2.0]).sort(descending=True)        # ties keep their order
    assert r.indices.tolist() == [1, 3, 0, 2]


def test_renorm_leaves_a_slice_with_a_nan_norm_as_is():
    x = gk.tensor([[1.0, NAN], [3.0, 4.0]], dtype=gk.float64)
    _same(x.renorm(2, 0, 1.0), [[1.0, NAN], [0.6 * (5 / (5 + 1e-7)), 0.8 * (5 / (5 + 1e-7))]])


# --- std/var of identical values: exactly 0, and so are their gradient and HVP ----------
@pytest.mark.parametrize("value,n", [(0.1, 3), (0.1, 100), (2.7, 100), (1 / 3, 10), (2.0, 3)])
def test_std_and_var_of_identical_values_are_exactly_zero(value, n):
    for stat in (gk.std, gk.var):
        x = gk.tensor([value] * n, dtype=gk.float64, requires_grad=True)
        y = stat(x)
        assert y.item() == 0.0    # np.var gives ~1e-17 here (PyTorch too for 3 x 0.1)
        y.backward()
        assert np.all(x.grad.numpy() == 0.0)       # PyTorch masks std's 0/0 to 0


def test_std_hessian_vector_product_at_a_constant_column_is_finite():
    a = np.array([[0.1, 1.0], [0.1, 1.5], [0.1, 1.2], [0.1, 1.1]])
    x = gk.tensor(a, requires_grad=True)
    (g,) = gk.autograd.grad(x.std(0).sum(), x, create_graph=True)
    (h,) = gk.autograd.grad(g.sum(), x)
    assert np.all(h.numpy()[:, 0] == 0.0)
    # column 1: sum_j d2 std / dx_i dx_j = 0 (std is shift invariant)
    np.testing.assert_allclose(h.numpy()[:, 1], 0.0, atol=1e-14)


def test_var_of_a_constant_column_along_a_dim_and_with_a_shift():
    a = np.full((4, 3), 0.1) + np.array([0.0, 1e8, -5.0])
    assert gk.tensor(a).var(0).tolist() == [0.0, 0.0, 0.0]
    b = np.array([1e8 + 1.0, 1e8 + 2.0, 1e8 + 3.0])
    assert gk.tensor(b).var().item() == 1.0        # shifted two-pass keeps full accuracy


def test_var_with_an_infinite_first_element_keeps_the_other_gradients():
    x = gk.tensor([[INF, 2.0, 2.0]], dtype=gk.float64, requires_grad=True)
    x.var(1).sum().backward()
    _same(x.grad, [[NAN, -INF, -INF]])                # PyTorch: 2 (x - mean) / (n - 1)


def test_take_along_dim_broadcasts_input_and_indices_as_pytorch():
    x = gk.arange(1.0, 13.0, dtype=gk.float64).reshape(3, 4).requires_grad_()
    y = gk.take_along_dim(x, gk.tensor([[0], [1]]), 0)     # index (2, 1) broadcast to (2, 4)
    assert y.tolist() == [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[1.0] * 4, [1.0] * 4, [0.0] * 4]
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with "
                                           "size 12"):
        gk.take_along_dim(x, gk.tensor([5, -1]))                # flattened: no wrapping


def test_scatter_of_a_0d_src_tensor_fills_and_collects_its_gradient():
    x = gk.zeros(3, dtype=gk.float64, requires_grad=True)
    v = gk.tensor(2.0, dtype=gk.float64, requires_grad=True)
    y = x.scatter(0, gk.tensor([1]), v)
    assert y.tolist() == [0.0, 2.0, 0.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0] and v.grad.item() == 1.0
    with pytest.raises(RuntimeError, match="to be no larger size than src"):
        x.scatter(0, gk.tensor([1, 2]), v)          # a 0-d src is one element


def test_diag_embed_of_a_0d_input_is_refused_as_in_pytorch():
    with pytest.raises(IndexError, match="Dimension out of range"):
        gk.diag_embed(gk.tensor(1.0))


def test_numpy_take_along_axis_keeps_numpy_semantics_on_tensors():
    a = np.arange(6.0).reshape(2, 3)
    x = gk.tensor(a, requires_grad=True)
    for idx, axis in ((np.array([[-1], [0]]), 1), (np.array([[-1, 0, 1]]), 0),
                      (np.array([-1]), None)):
        got = np.take_along_axis(x, idx, axis=axis)
        np.testing.assert_array_equal(got.detach().numpy(), np.take_along_axis(a, idx, axis))
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 1 with size 3"):
        np.take_along_axis(x, np.array([[3]]), axis=1)
