"""gradkit.data: TensorDataset, DataLoader (batching, shuffling with a generator, drop_last), random_split."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.data import DataLoader, Dataset, TensorDataset, default_collate, random_split


def test_tensor_dataset():
    x, y = gk.arange(20.0).reshape(10, 2), gk.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    assert xi.tolist() == [6.0, 7.0] and yi.item() == 3
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(x, gk.arange(3))


@pytest.mark.parametrize("drop_last, sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_batches_and_drop_last(drop_last, sizes):
    ds = TensorDataset(gk.arange(10.0), gk.arange(10))
    loader = DataLoader(ds, batch_size=4, drop_last=drop_last)
    batches = list(loader)
    assert [len(b[1]) for b in batches] == sizes and len(loader) == len(sizes)
    assert batches[0][1].tolist() == [0, 1, 2, 3] and batches[0][0].dtype == gk.float32


def test_shuffle_with_generator_is_reproducible_and_covers_all():
    ds = TensorDataset(gk.arange(50))
    a = [
        b[0].tolist()
        for b in DataLoader(ds, batch_size=8, shuffle=True, generator=gk.Generator().manual_seed(1))
    ]
    b = [
        b[0].tolist()
        for b in DataLoader(ds, batch_size=8, shuffle=True, generator=gk.Generator().manual_seed(1))
    ]
    assert a == b and sorted(sum(a, [])) == list(range(50)) and sum(a, []) != list(range(50))
    loader = DataLoader(ds, batch_size=50, shuffle=True, generator=gk.Generator().manual_seed(2))
    assert next(iter(loader))[0].tolist() != next(iter(loader))[0].tolist()  # new order each epoch


def test_generic_dataset_and_collate():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": gk.tensor([float(i)]), "y": i * i}

    batches = list(DataLoader(Squares(), batch_size=2))
    assert batches[0]["x"].shape == (2, 1) and batches[1]["y"].tolist() == [4, 9]
    assert default_collate([(1, 2.0), (3, 4.0)])[1].tolist() == [2.0, 4.0]
    assert list(DataLoader(Squares(), batch_size=None))[2]["y"] == 4
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(Squares(), batch_size=0)


def test_random_split():
    ds = TensorDataset(gk.arange(10))
    a, b = random_split(ds, [7, 3], generator=gk.Generator().manual_seed(0))
    idx = sorted([int(a[i][0]) for i in range(7)] + [int(b[i][0]) for i in range(3)])
    assert idx == list(range(10))
    parts = random_split(ds, [0.5, 0.5])
    assert [len(p) for p in parts] == [5, 5]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])
    loader = DataLoader(a, batch_size=4)
    assert [len(x[0]) for x in loader] == [4, 3]


def test_loader_batches_equal_stacked_samples():
    rng = np.random.default_rng(0)
    x = gk.tensor(rng.standard_normal((9, 3)))
    ds = TensorDataset(x)
    fast = [b[0].numpy() for b in DataLoader(ds, batch_size=4)]
    slow = [b[0].numpy() for b in DataLoader(ds, batch_size=4, collate_fn=default_collate)]
    for f, s in zip(fast, slow):
        np.testing.assert_array_equal(f, s)
