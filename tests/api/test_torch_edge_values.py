"""Values where NumPy's rule and PyTorch's differ at the edges (nan, float16, uint8, negative
integer powers, a lone tensor given for a sequence): the torch-style functions follow PyTorch,
NumPy's functions on tensors keep NumPy's rule. Expected values were recorded from PyTorch 2.13."""

import math

import numpy as np
import pytest

import gradkit as gk

nan, inf = math.nan, math.inf


def _same(t, expected):
    np.testing.assert_array_equal(np.asarray(t.detach().numpy()), np.asarray(expected))


def test_gradient_leaves_the_centre_point_out_with_even_spacing():
    x = gk.tensor([[1.0, nan, -2.0, 4.0], [inf, 0.0, -1.0, 3.0]])
    g0, g1 = gk.gradient(x)
    _same(g0, [[inf, nan, 1.0, -1.0], [inf, nan, 1.0, -1.0]])
    _same(g1, [[nan, -1.5, nan, 6.0], [-inf, -inf, 1.5, 4.0]])
    (h,) = gk.gradient(x, spacing=0.5, dim=1, edge_order=2)
    _same(h, [[nan, -3.0, nan, nan], [-inf, -inf, 3.0, 13.0]])


def test_gradient_matches_numpy_on_finite_data():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 5))
    for got, want in zip(gk.gradient(gk.tensor(a), spacing=0.25), np.gradient(a, 0.25)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


def test_heaviside_of_nan_is_zero_in_torch_and_nan_in_numpy():
    x = gk.tensor([nan, 0.0, -0.0, 2.0, -3.0])
    _same(gk.heaviside(x, gk.tensor([0.5])), [0.0, 0.5, 0.5, 1.0, 0.0])
    _same(x.heaviside(gk.tensor([0.5])), [0.0, 0.5, 0.5, 1.0, 0.0])
    _same(np.heaviside(x, gk.tensor([0.5])), [nan, 0.5, 0.5, 1.0, 0.0])


def test_half_angle_conversions_round_once():
    got = gk.tensor([3.25, 1.5, -0.7], dtype=gk.float16).rad2deg()
    assert got.tolist() == [186.25, 85.9375, -40.125]
    assert gk.tensor([186.2, 33.3], dtype=gk.float16).deg2rad().tolist() == [3.25, 0.58154296875]


def test_all_any_of_uint8_answer_in_uint8():
    u = gk.tensor([[3, 0], [1, 1]], dtype=gk.uint8)
    assert u.all(1).dtype == gk.uint8 and u.all(1).tolist() == [0, 1]
    assert gk.any(u).dtype == gk.uint8 and gk.any(u).item() == 1
    assert gk.all(gk.tensor([1, 2])).dtype == gk.bool
    assert np.all(u) is np.False_ or np.all(u) == False  # noqa: E712 - NumPy's bool answer


def test_tril_triu_of_a_vector():
    v = gk.tensor([1.0, 2.0])
    for fn in (gk.tril, gk.triu):
        with pytest.raises(RuntimeError, match="input tensor must have at least 2 dimensions"):
            fn(v)
    _same(np.tril(v), [[1.0, 0.0], [1.0, 2.0]])
    _same(np.triu(v), [[1.0, 2.0], [0.0, 2.0]])


def test_integer_powers_with_negative_tensor_exponents():
    x = gk.tensor([3, -1, 2, 0, 1, -2, -1])
    _same(x ** gk.tensor([-1, -1, -2, -1, -3, -1, -2]), [0, -1, 0, 0, 1, 0, 1])
    _same(gk.pow(2, gk.tensor([-1, 2])), [0, 4])
    _same(gk.pow(x, gk.tensor(2)), [9, 1, 4, 0, 1, 4, 1])
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        x ** -1
    _same(gk.tensor([2.0]) ** gk.tensor([-1]), [0.5])


@pytest.mark.parametrize("name", ["cat", "concat", "stack", "hstack", "vstack", "dstack",
                                  "column_stack", "row_stack"])
def test_a_tensor_given_for_a_sequence_is_refused(name):
    with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
        getattr(gk, name)(gk.ones(2, 3))


def test_numpy_joins_still_iterate_a_tensor():
    x = gk.ones(2, 3)
    assert np.concatenate(x).shape == (6,)
    assert np.stack(x).shape == (2, 3)


def test_against_live_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 7)).astype(np.float32)
    a[1, 3], a[2, 0] = np.nan, np.inf
    for kw in ({}, {"spacing": 0.3}, {"spacing": 2.0, "edge_order": 2}, {"dim": 1}):
        for p, q in zip(torch.gradient(torch.tensor(a), **kw), gk.gradient(gk.tensor(a), **kw)):
            np.testing.assert_array_equal(p.numpy(), q.numpy())
    h = rng.standard_normal(50).astype(np.float16) * 4
    np.testing.assert_array_equal(torch.tensor(h).rad2deg().numpy(), gk.tensor(h).rad2deg().numpy())
    np.testing.assert_array_equal(torch.tensor(h).deg2rad().numpy(), gk.tensor(h).deg2rad().numpy())
    b = rng.integers(-3, 4, 40)
    e = rng.integers(-3, 4, 40)
    np.testing.assert_array_equal((torch.tensor(b) ** torch.tensor(e)).numpy(),
                                  (gk.tensor(b) ** gk.tensor(e)).numpy())


@pytest.mark.parametrize("call, message", [
    (lambda: gk.bitwise_and(gk.tensor([1.5]), gk.tensor([2.0])),
     "\"bitwise_and_cpu\" not implemented for 'Float'"),
    (lambda: ~gk.tensor([1.5], dtype=gk.float64), "\"bitwise_not_cpu\" not implemented for 'Double'"),
    (lambda: gk.ceil(gk.tensor([1j])), "\"ceil_cpu\" not implemented for 'ComplexFloat'"),
    (lambda: gk.atan2(gk.tensor([1j]), gk.tensor([1j])),
     "\"atan2_cpu\" not implemented for 'ComplexFloat'"),
])
def test_no_kernel_for_a_dtype_is_pytorchs_error_and_numpys(call, message):
    # PyTorch raises NotImplementedError, NumPy's ufuncs TypeError: either except clause works
    with pytest.raises(NotImplementedError, match=message):
        call()
    with pytest.raises(TypeError):
        call()


def test_numpy_ufunc_without_a_loop_on_tensors_still_raises_typeerror():
    with pytest.raises(TypeError):
        np.bitwise_and(gk.tensor([1.5]), gk.tensor([2.0]))


def test_empty_list_index_selects_no_rows():
    assert gk.arange(12.0).reshape(3, 4)[[]].shape == (0, 4)


@pytest.mark.parametrize("rg", [False, True])
def test_setitem_shape_mismatch_messages(rg):
    x = gk.ones(3, 4, requires_grad=rg) * 1
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(4\) must match the "
                                           r"existing size \(2\) at non-singleton dimension 0"):
        x[0] = gk.ones(2)
    with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[3, 4\] cannot "
                                           r"be broadcast to indexing result of shape \[2, 4\]"):
        x[[0, 1]] = gk.ones(3, 4)


def test_small_argument_errors_are_runtime_errors():
    with pytest.raises(RuntimeError, match="n must be greater or equal to 0, got -1"):
        gk.eye(-1)
    with pytest.raises(RuntimeError, match="m must be greater or equal to 0, got -2"):
        gk.eye(2, -2)
    with pytest.raises(RuntimeError, match="div expected rounding_mode to be one of None"):
        gk.tensor([5, -5]).div(2, rounding_mode="bad")
