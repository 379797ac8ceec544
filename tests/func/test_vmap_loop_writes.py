"""vmap's per-example loop and writes into tensors that are not batched.

PyTorch runs the function once on the whole batch, so ``y.add_(1)`` into a captured ``y``
happens once (recorded from PyTorch 2.13: ``y`` is ``[1., 1.]`` after the call below). gradkit
falls back to a loop over the examples where an op has no batching rule (``heaviside``
here); that loop used to write once per example, after the batched attempt had written once
already (``y`` was ``[4., 4.]``).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def _xs():
    return gk.tensor([[1.0, -1.0], [0.0, 2.0], [3.0, 3.0]])


def _per_example(x):
    return gk.heaviside(x, gk.tensor([0.5]))          # no batching rule: the loop runs


def test_captured_write_happens_once() -> None:
    y = gk.zeros(2)

    def f(x):
        y.add_(1)
        return _per_example(x)

    out = gk.vmap(f)(_xs())
    assert y.tolist() == [1.0, 1.0]
    assert out.tolist() == [[1.0, 0.0], [0.5, 1.0], [1.0, 1.0]]
    assert gk.func._vmap._vmap_stats["why"] is not None       # it did loop


def test_each_example_reads_one_write() -> None:
    y = gk.ones(2)

    def f(x):
        y.mul_(2).add_(1)
        return _per_example(x) + y                       # every example sees y == 3

    out = gk.vmap(f)(_xs())
    np.testing.assert_array_equal(out.numpy(), [[4.0, 3.0], [3.5, 4.0], [4.0, 4.0]])
    assert y.tolist() == [3.0, 3.0]


def test_setitem_and_fill_into_captured_tensor_once() -> None:
    y = gk.zeros(3)

    def f(x):
        y[0] += 1
        y[1:].add_(2)
        return _per_example(x)

    gk.vmap(f)(_xs())
    assert y.tolist() == [1.0, 2.0, 2.0]


def test_written_tensor_history_is_one_write() -> None:
    b = gk.tensor([1.0, 2.0], requires_grad=True)
    c = gk.tensor(3.0, requires_grad=True)
    y = b * 1

    def f(x):
        y.mul_(c)
        return _per_example(x) * 0

    gk.vmap(f)(_xs())
    np.testing.assert_array_equal(y.detach().numpy(), [3.0, 6.0])
    y.sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [3.0, 3.0])      # d(3 b)/db, not 3**4
    assert c.grad.item() == 3.0                                     # d(c * (1 + 2))/dc


def test_local_buffers_still_work() -> None:
    def f(x):
        buf = gk.zeros(2)
        buf.add_(1)
        return _per_example(x) + buf

    np.testing.assert_array_equal(gk.vmap(f)(_xs()).numpy(),
                                  [[2.0, 1.0], [1.5, 2.0], [2.0, 2.0]])


def test_same_as_torch() -> None:
    torch = pytest.importorskip("torch")
    for lib in (gk, torch):
        y = lib.ones(2)

        def f(x, y=y, lib=lib):
            y.mul_(2).add_(1)
            return lib.heaviside(x, lib.tensor([0.5])) + y
        out = lib.vmap(f)(lib.tensor([[1.0, -1.0], [0.0, 2.0], [3.0, 3.0]]))
        assert out.tolist() == [[4.0, 3.0], [3.5, 4.0], [4.0, 4.0]]
        assert y.tolist() == [3.0, 3.0]


def test_a_local_tensor_written_and_returned_is_kept() -> None:
    # torch: [[1., 1.]] * 3 (the unbatched result broadcast over the batch)
    def g(x):
        buf = gk.zeros(2)
        buf.add_(1)
        _per_example(x)
        return buf

    np.testing.assert_array_equal(gk.vmap(g)(_xs()).numpy(), [[1.0, 1.0]] * 3)
