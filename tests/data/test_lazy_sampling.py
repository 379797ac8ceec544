"""Samplers and loaders draw lazily (minGPT's trainer iterates a
``RandomSampler(replacement=True, num_samples=int(1e10))``), PyTorch's submodule import paths,
and ``randint(high=..., size=...)`` as PyTorch's sampler calls it."""

import itertools

import numpy as np
import pytest

import gradkit as gk


def test_huge_random_sampler_is_lazy():
    ds = gk.utils.data.TensorDataset(gk.arange(10.0))
    sampler = gk.utils.data.RandomSampler(ds, replacement=True, num_samples=int(1e10))
    assert len(sampler) == 10 ** 10
    first = list(itertools.islice(iter(sampler), 70))
    assert len(first) == 70 and all(0 <= i < 10 for i in first)
    loader = gk.utils.data.DataLoader(ds, sampler=sampler, batch_size=4)
    (x,) = next(iter(loader))
    assert x.shape == (4,)


def test_random_sampler_epochs_and_shuffle_are_permutations():
    ds = list(range(7))
    out = list(gk.utils.data.RandomSampler(ds, num_samples=17))
    assert len(out) == 17
    assert sorted(out[:7]) == list(range(7)) and sorted(out[7:14]) == list(range(7))
    g = gk.Generator().manual_seed(3)
    batches = list(gk.utils.data.DataLoader(ds, batch_size=3, shuffle=True, generator=g))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert sorted(np.concatenate([b.numpy() for b in batches]).tolist()) == list(range(7))


def test_torch_submodule_paths():
    from gradkit.utils.data.dataloader import DataLoader
    from gradkit.utils.data.dataset import Dataset
    from gradkit.utils.data.distributed import DistributedSampler
    from gradkit.utils.data.sampler import RandomSampler
    assert DataLoader is gk.utils.data.DataLoader and Dataset is gk.utils.data.Dataset
    assert RandomSampler is gk.utils.data.RandomSampler
    assert DistributedSampler is gk.utils.data.DistributedSampler
    pytest.importorskip("torch")
    import torch.utils.data.dataloader as tdl
    import torch.utils.data.dataset as tds
    import torch.utils.data.sampler as tsa
    import gradkit.utils.data.dataloader as gdl
    import gradkit.utils.data.dataset as gds
    import gradkit.utils.data.sampler as gsa
    for theirs, ours in [(tdl, gdl), (tds, gds), (tsa, gsa)]:
        assert sorted(theirs.__all__) == sorted(ours.__all__)


def test_randint_high_keyword():
    t = gk.randint(high=5, size=(200,))
    assert t.dtype == gk.int64 and t.shape == (200,)
    assert int(t.min()) >= 0 and int(t.max()) <= 4
    assert int(gk.randint(low=7, high=8, size=(1,))) == 7
    with pytest.raises(TypeError, match="needs a size"):
        gk.randint(5)


def test_cuda_seeding_accepted():
    gk.manual_seed(0)
    a = gk.rand(3)
    gk.manual_seed(0)
    gk.cuda.manual_seed(123)          # as in torch: CPU draws are unaffected
    gk.cuda.manual_seed_all(123)
    assert gk.equal(a, gk.rand(3))
