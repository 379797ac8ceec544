"""Inside vmap, writing a batched value into a tensor that is not batched raises (PyTorch's
errors); it used to fall back to the per-example loop, which wrote every example into the same
memory: `y.add_(x)` accumulated all examples and returned running sums (a silent wrong answer)."""
import pytest

import gradkit as gk
from gradkit.func import vmap


def _xs():
    return gk.arange(6.0).reshape(3, 2)


def test_inplace_arithmetic_into_a_captured_tensor_raises_and_leaves_it_alone():
    y = gk.zeros(2)

    def f(x):
        y.add_(x)
        return y * 1

    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast "
                                           r"shape \[3, 2\]"):
        vmap(f)(_xs())
    assert y.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("write", [
    lambda y, x: y.copy_(x),
    lambda y, x: y.__setitem__(slice(None), x),
    lambda y, x: y.__setitem__(0, x[0]),
])
def test_copies_into_an_unbatched_tensor_raise(write):
    y = gk.zeros(2)

    def f(x):
        write(y, x)
        return x

    with pytest.raises(RuntimeError, match="vmap: inplace arithmetic"):
        gk.vmap(f)(_xs())
    assert y.tolist() == [0.0, 0.0]


def test_unbatched_tensor_made_inside_raises_like_pytorch():
    def f(x):
        z = gk.zeros(2)
        z += x
        return z

    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        vmap(f)(_xs())


def test_writes_that_stay_per_example_still_work():
    def into_batched(x):
        x.add_(1)
        return x * 2

    assert vmap(into_batched)(_xs()).tolist() == [[2.0, 4.0], [6.0, 8.0], [10.0, 12.0]]

    def unbatched_into_clone(x):
        z = x.clone()
        z[1] = x[0]
        return z

    assert vmap(unbatched_into_clone)(_xs()).tolist() == [[0.0, 0.0], [2.0, 2.0], [4.0, 4.0]]

    def constant_into_fresh(x):
        z = gk.zeros(2)
        z += 1
        return x + z

    assert vmap(constant_into_fresh)(_xs()).tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]


def test_new_zeros_of_a_batched_tensor_is_batched():
    # PyTorch's UX-limitations page: new_zeros inside vmap gives a per-example tensor, so a
    # write of the batched value into it works (torch.zeros would raise)
    def diag_embed(vec):
        result = vec.new_zeros(vec.shape[0], vec.shape[0])
        result.diagonal().copy_(vec)
        return result

    out = vmap(diag_embed)(gk.tensor([[0.0, 1, 2], [3.0, 4, 5]]))
    assert out.tolist() == [[[0.0, 0, 0], [0, 1, 0], [0, 0, 2]], [[3.0, 0, 0], [0, 4, 0], [0, 0, 5]]]
    ones = vmap(lambda v: v.new_ones(2) + v.sum())(gk.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert ones.tolist() == [[4.0, 4.0], [8.0, 8.0]]
    full = vmap(lambda v: v.new_full((2,), 5.0) * v)(gk.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert full.tolist() == [[5.0, 10.0], [15.0, 20.0]]


def test_the_error_is_a_plain_runtime_error_as_pytorchs():
    y = gk.zeros(2)
    try:
        vmap(lambda x: y.copy_(x))(_xs())
    except RuntimeError as exc:
        assert type(exc) is RuntimeError
    else:
        raise AssertionError("no error")
@pytest.mark.parametrize("write", [
    lambda y, x: y.index_add_(0, gk.tensor([1]), x[:1]),
    lambda y, x: y.scatter_(0, gk.tensor([1]), x[:1]),
    lambda y, x: y.scatter_add_(0, gk.tensor([1]), x[:1]),
    lambda y, x: y.scatter_reduce_(0, gk.tensor([1]), x[:1], "sum"),
    lambda y, x: y.index_put_((gk.tensor([1]),), x[:1]),
    lambda y, x: y.fill_(x[0]),
], ids=["index_add_", "scatter_", "scatter_add_", "scatter_reduce_", "index_put_", "fill_"])
def test_indexed_writes_and_fill_into_a_captured_tensor_raise(write):
    # these ops have no batching rule for an unbatched self: the per-example loop ran them and
    # wrote into y once per example (index_add_ left y[1] = 0 + 2 + 4 = 6, fill_ one example's
    # value, and every returned row was the final y)
    y = gk.zeros(2)
    with pytest.raises(RuntimeError, match=r"vmap: [\w ]+\(self, \*extra_args\) is not possible "
                                           "because there exists a Tensor `other`"):
        vmap(lambda x: write(y, x) * 1)(_xs())
    assert y.tolist() == [0.0, 0.0]


def test_indexed_write_into_a_per_example_clone_still_works():
    out = vmap(lambda x: x.clone().index_add_(0, gk.tensor([1]), x[:1]))(_xs())
    assert out.tolist() == [[0.0, 1.0], [2.0, 5.0], [4.0, 9.0]]
