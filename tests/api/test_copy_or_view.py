"""Results that PyTorch gives as copies must not share memory with their input, and
results PyTorch gives as views must share it (found by probing with hostile in-place writes)."""
import numpy as np
import pytest

import gradkit as gk


def _grid():
    return gk.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize("make", [
    lambda x: x.flip(0),
    lambda x: gk.fliplr(x),
    lambda x: gk.flipud(x),
    lambda x: gk.rot90(x),
    lambda x: gk.rot90(x, 0),
    lambda x: x[:, :2].diag(),
    lambda x: gk.einsum("ij->ij", x),
    lambda x: gk.einsum("ii->i", x[:, :2]),
], ids=["flip", "fliplr", "flipud", "rot90", "rot90_k0", "diag", "einsum_id", "einsum_diag"])
def test_copy_results_leave_the_input_alone(make):
    x = _grid()
    y = make(x)
    y.add_(100.0)
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3))
    before = y.numpy().copy()
    x.mul_(-1.0)
    np.testing.assert_array_equal(y.numpy(), before)


def test_unbind_of_a_vector_gives_views():
    # PyTorch: unbind's outputs are 0-d views, writing one writes the input
    x = gk.tensor([1.0, 2.0])
    a, b = x.unbind()
    a.add_(1.0)
    np.testing.assert_array_equal(x.numpy(), [2.0, 2.0])
    x.mul_(10.0)
    assert b.item() == 20.0


def test_unbind_output_of_a_leaf_cannot_be_written():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    out = x.unbind()
    with pytest.raises(RuntimeError, match="Output 0 of Unbind is a view and is being modified inplace"):
        out[0].add_(1.0)


def test_unbind_of_a_vector_still_differentiates():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    a, b = (x * 3.0).unbind()
    (a * b).backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0 * 6.0, 3.0 * 3.0])
