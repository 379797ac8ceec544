"""Statistics that PyTorch defines only for floating-point tensors refuse integer input with
PyTorch's messages (they used to return a float64 result), while NumPy's functions on the same
tensors keep NumPy's rule (integers are averaged in float64)."""
import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F


@pytest.mark.parametrize("call", [
    lambda t: t.std(), lambda t: t.var(), lambda t: gk.std(t, 0), lambda t: gk.var(t, dim=0),
    lambda t: t.std(unbiased=False),
])
@pytest.mark.parametrize("dtype", [gk.int64, gk.int32, gk.uint8, gk.bool])
def test_std_var_refuse_integers(call, dtype):
    t = gk.tensor([1, 0, 1]).to(dtype)
    with pytest.raises(RuntimeError, match="std and var only support floating point and complex dtypes"):
        call(t)


def test_norm_refuses_integers_even_with_dtype():
    t = gk.tensor([3, 4])
    for call in (lambda: t.norm(), lambda: gk.norm(t, 1), lambda: t.norm(dtype=gk.float32),
                 lambda: F.normalize(t, dim=0), lambda: gk.linalg.vector_norm(t)):
        with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as "
                                               "input. Got Long"):
            call()


@pytest.mark.parametrize("name,dim,kernel", [
    ("softmax", 1, "softmax_lastdim_kernel_impl"), ("softmax", 0, "softmax_kernel_impl"),
    ("log_softmax", 1, "log_softmax_lastdim_kernel_impl"),
    ("log_softmax", 0, "log_softmax_kernel_impl"), ("softmin", 1, "softmax_lastdim_kernel_impl"),
])
def test_softmax_refuses_integers(name, dim, kernel):
    t = gk.tensor([[1, 2], [3, 4]])
    with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for \'Long\''):
        getattr(F, name)(t, dim)


def test_softmax_of_integers_with_a_float_dtype_works():
    out = gk.tensor([1, 2]).softmax(0, dtype=gk.float32)
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(out.numpy(), e / e.sum(), rtol=1e-6)
    assert out.dtype == gk.float32


def test_floating_inputs_unchanged():
    t = gk.tensor([1.0, 2.0, 4.0], dtype=gk.float64)
    assert float(t.std()) == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert float(t.norm()) == pytest.approx(np.sqrt(21))


def test_numpy_functions_keep_numpy_rule_for_integers():
    t = gk.tensor([1, 2, 4])
    a = np.array([1, 2, 4])
    assert float(np.std(t)) == pytest.approx(np.std(a))
    assert float(np.var(t, ddof=1)) == pytest.approx(np.var(a, ddof=1))
    assert float(np.linalg.norm(t)) == pytest.approx(np.linalg.norm(a))
    assert float(np.var(gk.tensor([True, False]))) == pytest.approx(0.25)
