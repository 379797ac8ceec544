"""ConcatDataset/ChainDataset/StackDataset, WeightedRandomSampler, DistributedSampler and
PyTorch's collation rules (expected values recorded from torch 2.13)."""
import collections

import numpy as np
import pytest

import gradkit as gk
from gradkit.utils.data import (ChainDataset, ConcatDataset, DataLoader, DistributedSampler,
                                IterableDataset, StackDataset, TensorDataset,
                                WeightedRandomSampler, default_collate, default_convert)


def test_collate_python_floats_are_float64_like_pytorch():
    # it used to give float32: a silent change of precision against PyTorch
    out = default_collate([1.0, 2.0])
    assert out.dtype == gk.float64 and out.tolist() == [1.0, 2.0]
    assert default_collate([1, 2]).dtype == gk.int64
    assert default_collate([True, False]).dtype == gk.bool
    assert default_collate([np.int32(1)]).dtype == gk.int32
    assert default_collate([np.float64(1.5), np.float64(2)]).dtype == gk.float64


def test_collate_sequences_give_lists_and_namedtuples_keep_their_type():
    out = default_collate([(1, 2), (3, 4)])
    assert isinstance(out, list) and [t.tolist() for t in out] == [[1, 3], [2, 4]]
    P = collections.namedtuple("P", "a b")
    p = default_collate([P(1, 2.0), P(3, 4.0)])
    assert isinstance(p, P) and p.a.tolist() == [1, 3] and p.b.dtype == gk.float64
    assert default_collate(["a", "b"]) == ["a", "b"]
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([gk.ones(2), gk.ones(3)])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object()])


def test_tensor_dataset_batches_are_lists_as_pytorch():
    b = next(iter(DataLoader(TensorDataset(gk.arange(4.0), gk.arange(4)), batch_size=2)))
    assert isinstance(b, list) and b[0].tolist() == [0.0, 1.0] and b[1].dtype == gk.int64


def test_default_convert_and_unbatched_loader():
    assert default_convert([1, 2]) == [1, 2]
    t = default_convert(np.array([1.0, 2.0]))
    assert isinstance(t, gk.Tensor) and t.dtype == gk.float64
    mixed = default_convert((np.array([1]), 3, "a"))
    assert isinstance(mixed, list) and isinstance(mixed[0], gk.Tensor) and mixed[1:] == [3, "a"]
    assert isinstance(default_convert(np.array(["a"])), np.ndarray)
    out = list(DataLoader([np.array([1.0, 2.0]), np.array([3.0, 4.0])], batch_size=None))
    assert all(isinstance(o, gk.Tensor) for o in out)
    assert [o.tolist() for o in DataLoader([1.5, 2.5, 3.5], batch_size=2)] == [[1.5, 2.5], [3.5]]


def test_concat_dataset_and_add():
    a, b = TensorDataset(gk.arange(3.0)), TensorDataset(gk.arange(10.0, 12.0))
    c = a + b
    assert isinstance(c, ConcatDataset) and len(c) == 5 and c.cumulative_sizes == [3, 5]
    assert float(c[4][0]) == 11.0 and float(c[-1][0]) == 11.0 and float(c[2][0]) == 2.0
    with pytest.raises(ValueError, match="absolute value of index should not exceed"):
        c[-6]
    with pytest.raises(AssertionError, match="should not be an empty iterable"):
        ConcatDataset([])


class _Range(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_chain_dataset():
    ch = _Range(2) + _Range(3)
    assert isinstance(ch, ChainDataset) and list(ch) == [0, 1, 0, 1, 2] and len(ch) == 5
    assert [t.tolist() for t in DataLoader(ch, batch_size=2)] == [[0, 1], [0, 1], [2]]


def test_stack_dataset():
    a, b = TensorDataset(gk.arange(3.0)), TensorDataset(gk.arange(3))
    s = StackDataset(a, b)
    assert len(s) == 3 and float(s[1][0][0]) == 1.0 and int(s[1][1][0]) == 1
    d = StackDataset(x=a, y=b)[2]
    assert set(d) == {"x", "y"} and int(d["y"][0]) == 2
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(a, TensorDataset(gk.arange(2)))
    with pytest.raises(ValueError, match="both types are given"):
        StackDataset(a, y=b)


def test_weighted_random_sampler():
    assert list(WeightedRandomSampler([0.0, 1.0, 0.0], 5)) == [1] * 5
    assert sorted(WeightedRandomSampler(gk.tensor([0.0, 1.0, 1.0]), 2, replacement=False)) == [1, 2]
    # PyTorch takes zero-weight entries last when there are too few others
    assert list(WeightedRandomSampler([1.0, 0.0], 2, replacement=False)) == [0, 1]
    gk.manual_seed(0)
    counts = np.bincount([i for _ in range(4000) for i in WeightedRandomSampler([1.0, 2.0, 7.0], 1)],
                         minlength=3) / 4000
    np.testing.assert_allclose(counts, [0.1, 0.2, 0.7], atol=0.04)   # > 6 sigma
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0, 1.0], 0)
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0]], 1)
    for w, n, r, msg in [([1.0, 1.0], 3, False, "cannot sample n_sample > prob_dist.size"),
                         ([-1.0, 1.0], 1, True, "contains either `inf`, `nan` or element < 0"),
                         ([0.0, 0.0], 1, True, "sum of probabilities <= 0")]:
        s = WeightedRandomSampler(w, n, r)      # PyTorch checks when drawing
        with pytest.raises(RuntimeError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            list(s)


def test_distributed_sampler_shares():
    ds = TensorDataset(gk.arange(10))
    expect = {0: ([0, 3, 6, 9], [0, 3, 6]), 1: ([1, 4, 7, 0], [1, 4, 7]),
              2: ([2, 5, 8, 1], [2, 5, 8])}
    for rank, (padded, dropped) in expect.items():
        s = DistributedSampler(ds, 3, rank, shuffle=False)
        assert len(s) == 4 and list(s) == padded
        assert list(DistributedSampler(ds, 3, rank, shuffle=False, drop_last=True)) == dropped
    shares = [list(DistributedSampler(ds, 2, r, seed=5)) for r in range(2)]
    assert sorted(shares[0] + shares[1]) == list(range(10))
    s = DistributedSampler(ds, 2, 0, seed=5)
    first = list(s)
    assert list(s) == first
    s.set_epoch(1)
    other = DistributedSampler(ds, 2, 1, seed=5)
    other.set_epoch(1)
    assert list(s) != first and sorted(list(s) + list(other)) == list(range(10))
    with pytest.raises(RuntimeError, match="Requires distributed package"):
        DistributedSampler(ds)
    with pytest.raises(ValueError, match="Invalid rank 3"):
        DistributedSampler(ds, 3, 3)


def test_collate_numbers_infer_the_dtype_from_every_element():
    # PyTorch collates an int-first batch with torch.tensor(batch): a float later in the batch
    # makes it float (the default dtype), not truncated to int64 ([1, 2.5] was [1, 2])
    out = default_collate([1, 2.5])
    assert out.dtype == gk.float32
    np.testing.assert_array_equal(out.numpy(), [1.0, 2.5])
    out = default_collate([True, 2])
    assert out.dtype == gk.int64
    np.testing.assert_array_equal(out.numpy(), [1, 2])  # was [True, True]
    out = default_collate([True, 2.5])
    assert out.dtype == gk.float32
    np.testing.assert_array_equal(out.numpy(), [1.0, 2.5])
    assert default_collate([True, False]).dtype == gk.bool
    assert default_collate([3, 4]).dtype == gk.int64
    assert default_collate([2.5, 1]).dtype == gk.float64
