"""torch.utils.data's samplers and iterable datasets (tools/docexamples.py found them missing,
and DataLoader ignoring batch_sampler). Expected batches are what PyTorch 2.13 yields."""

from __future__ import annotations

import pytest

import gradkit as gk
from gradkit.utils.data import (BatchSampler, DataLoader, IterableDataset, RandomSampler,
                                SequentialSampler, SubsetRandomSampler, TensorDataset)


def test_batch_sampler_docstring_example() -> None:
    assert list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False)) == \
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=True)) == \
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(BatchSampler(range(10), 3, False)) == 4 and len(BatchSampler(range(10), 3, True)) == 3
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        BatchSampler(range(3), 0, False)


def test_data_loader_follows_its_batch_sampler() -> None:
    ds = TensorDataset(gk.arange(6.0))
    dl = DataLoader(ds, batch_sampler=[[5, 0], [1, 2, 3]])
    assert [b[0].tolist() for b in dl] == [[5.0, 0.0], [1.0, 2.0, 3.0]] and len(dl) == 2
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive with "
                                         "batch_size, shuffle, sampler, and drop_last"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])


def test_random_samplers_permute() -> None:
    assert sorted(RandomSampler(range(5))) == [0, 1, 2, 3, 4]
    draws = list(RandomSampler(range(5), replacement=True, num_samples=8))
    assert len(draws) == 8 and all(0 <= i < 5 for i in draws)
    assert sorted(SubsetRandomSampler([7, 3, 9])) == [3, 7, 9]
    ds = TensorDataset(gk.arange(4))
    (batch,) = DataLoader(ds, batch_size=4, sampler=RandomSampler(ds))
    assert sorted(batch[0].tolist()) == [0, 1, 2, 3]


def test_iterable_dataset() -> None:
    class Stream(IterableDataset):
        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter(range(5))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=2, drop_last=True)] == [[0, 1], [2, 3]]
    assert list(DataLoader(Stream(), batch_size=None)) == [0, 1, 2, 3, 4]
    with pytest.raises(TypeError, match="has no len"):
        len(DataLoader(Stream()))
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(), shuffle=True)


def test_get_worker_info_in_the_calling_process() -> None:
    from gradkit.utils.data import get_worker_info
    assert get_worker_info() is None
