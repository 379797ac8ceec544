"""In-place writes into expanded tensors as PyTorch 2.13: fills and writes of a part whose
elements do not repeat go to the shared memory; other writes are its overlap error."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single "
           "memory location. Please clone() the tensor before performing the operation.")


def test_fill_and_zero_write_the_shared_memory() -> None:
    x = gk.zeros(1, 3)
    e = x.expand(2, 3)
    e.fill_(2.0)
    np.testing.assert_array_equal(x.numpy(), [[2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(e.numpy(), np.full((2, 3), 2.0))
    e.zero_()
    np.testing.assert_array_equal(x.numpy(), [[0.0, 0.0, 0.0]])
    gk.broadcast_to(x, (4, 3)).fill_(1.0)
    gk.zeros(3).expand_as(gk.zeros(2, 3)).fill_(1.0)
    np.testing.assert_array_equal(x.numpy(), [[1.0, 1.0, 1.0]])


def test_a_part_without_repeats_can_be_written() -> None:
    x = gk.zeros(1, 3)
    e = x.expand(2, 3)
    e[0] = 4.0
    np.testing.assert_array_equal(x.numpy(), [[4.0, 4.0, 4.0]])
    e[1].mul_(0.5)
    np.testing.assert_array_equal(x.numpy(), [[2.0, 2.0, 2.0]])


@pytest.mark.parametrize("op", ["add_", "mul_", "copy_", "exp_", "clamp_", "relu_", "uniform_", "normal_",
                                "fill_tensor", "setitem_all"])
def test_other_writes_are_the_overlap_error(op: str) -> None:
    x = gk.zeros(1, 3)
    e = x.expand(2, 3)
    calls = {
        "add_": lambda: e.add_(1), "mul_": lambda: e.mul_(2), "copy_": lambda: e.copy_(gk.ones(2, 3)),
        "exp_": lambda: e.exp_(), "clamp_": lambda: e.clamp_(0, 1), "relu_": lambda: e.relu_(),
        "uniform_": lambda: e.uniform_(), "normal_": lambda: e.normal_(),
        "fill_tensor": lambda: e.fill_(gk.tensor(2.0)),
        "setitem_all": lambda: e.__setitem__(slice(None), 1.0),
    }
    with pytest.raises(RuntimeError) as info:
        calls[op]()
    assert str(info.value) == OVERLAP
    np.testing.assert_array_equal(x.numpy(), np.zeros((1, 3)))


def test_recorded_fill_of_an_expanded_view() -> None:
    a = gk.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    b = a * 1
    b.expand(2, 3).fill_(5.0)
    np.testing.assert_array_equal(b.detach().numpy(), [[5.0, 5.0, 5.0]])
    (b * gk.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    # the old values were overwritten: their gradient is zero
    np.testing.assert_array_equal(a.grad.numpy(), [[0.0, 0.0, 0.0]])


def test_read_only_numpy_memory_stays_refused() -> None:
    arr = np.zeros((1, 3))
    arr.flags.writeable = False
    t = gk.from_numpy(arr)
    with pytest.raises(RuntimeError, match="Please clone"):
        t.expand(2, 3).fill_(1.0)
    np.testing.assert_array_equal(arr, np.zeros((1, 3)))


def test_matches_live_torch() -> None:
    torch = pytest.importorskip("torch")
    for lib in (torch, gk):
        x = lib.zeros(1, 3)
        e = x.expand(2, 3)
        e.fill_(2.0)
        e[0] = 4.0
        e[1].mul_(0.5)
        assert x.tolist() == [[2.0, 2.0, 2.0]]
        with pytest.raises(RuntimeError) as info:
            e.add_(1)
        assert str(info.value) == OVERLAP
