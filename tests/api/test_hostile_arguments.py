"""Arguments that gave a quietly wrong result; each now matches PyTorch (values or errors
recorded from PyTorch 2.13)."""
import numpy as np
import pytest

import gradkit as gk

nan, inf = float("nan"), float("inf")


def test_histc_refuses_a_range_that_is_not_finite():
    # a nan range made every comparison false: counts [0, 0] for [1, nan, 2]
    with pytest.raises(RuntimeError, match=r"torch.histc: range of \[-nan, -nan\] is not finite"):
        gk.histc(gk.tensor([1.0, nan, 2.0]), bins=2)
    with pytest.raises(RuntimeError, match=r"range of \[1, inf\] is not finite"):
        gk.histc(gk.tensor([1.0, inf]), bins=2)
    # a finite range given: the nan is not counted
    assert gk.histc(gk.tensor([1.0, nan, 2.0]), bins=3, min=0, max=3).tolist() == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("p", [inf, -inf])
def test_inf_norm_of_nothing_has_no_identity(p):
    with pytest.raises(RuntimeError, match="cannot compute the -?inf norm on an empty tensor"):
        gk.zeros(0).norm(p)
    with pytest.raises(RuntimeError, match="cannot compute the -?inf norm on an empty tensor"):
        gk.zeros(0, 3).norm(p, dim=0)
    assert gk.zeros(0, 3).norm(p, dim=1).shape == (0,)      # nothing reduced over an empty dim


def test_movedim_and_roll_check_their_dims():
    x = gk.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"movedim: repeated dim in `destination` \(\[0, 0\]\)"):
        x.movedim((0, 1), (0, 0))
    with pytest.raises(RuntimeError, match=r"movedim: repeated dim in `source` \(\[0, 0\]\)"):
        x.movedim((0, 0), (0, 1))
    with pytest.raises(RuntimeError, match="should contain the same number of dims"):
        x.movedim((0,), (0, 1))
    with pytest.raises(RuntimeError, match="shifts and dimensions must align. shifts: 2, dims:1"):
        x.roll((1, 2), (0,))
    moved = gk.arange(6.0).reshape(2, 3).movedim((0, 1), (1, 0))
    assert moved.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]


def test_linspace_refuses_negative_steps():
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        gk.linspace(0, 1, -1)


def test_bool_of_an_empty_tensor_says_so():
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        bool(gk.tensor([]))
    with pytest.raises(RuntimeError, match="with more than one value is ambiguous"):
        bool(gk.tensor([1.0, 2.0]))


def test_running_extremes_of_an_empty_dim():
    values, indices = gk.zeros(0).cummax(0)
    assert values.shape == (0,) and indices.shape == (0,) and indices.dtype == gk.int64
    values, indices = gk.zeros(2, 0).cummin(0)
    assert values.shape == (2, 0)


@pytest.mark.parametrize("op", [lambda t, s: t * s, lambda t, s: t + s, lambda t, s: t - s,
                                lambda t, s: t / s, lambda t, s: gk.mul(t, s), lambda t, s: s * t],
                         ids=["mul", "add", "sub", "div", "gk.mul", "rmul"])
def test_numpy_float64_scalar_is_a_python_scalar(op):
    # PyTorch: a float32 tensor with np.float64(2) stays float32, as with 2.0
    out = op(gk.tensor([1.0, 2.0]), np.float64(2.0))
    assert out.dtype == gk.float32


@pytest.mark.parametrize("args,expected", [
    ((0, 4.5, 1), [0, 1, 2, 3]), ((0, -4.5, -1), [0, -1, -2, -3]), ((-1.7, 3), [-1, 0, 1, 2]),
    ((0, 5, 2.9), [0, 2, 4]), ((0.5, 3, 1), [0, 1, 2]),
])
def test_integer_arange_truncates_its_bounds_first(args, expected):
    # values recorded from PyTorch 2.13 (NumPy's arange in float, then cast, differs)
    assert gk.arange(*args, dtype=gk.int64).tolist() == expected


def test_arange_refuses_what_pytorch_refuses():
    with pytest.raises(ValueError, match="step must be nonzero"):
        gk.arange(0, 1, 0.3, dtype=gk.int64)          # the step truncates to 0
    with pytest.raises(RuntimeError, match="upper bound and lower bound inconsistent with step sign"):
        gk.arange(5, 0)
    with pytest.raises(RuntimeError, match="unsupported range: 0 -> inf"):
        gk.arange(0, inf)
    assert gk.arange(0, 0).tolist() == []
