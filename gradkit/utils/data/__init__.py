"""``gradkit.utils.data``: PyTorch's ``torch.utils.data`` path for :mod:`gradkit.data`.

With ``import gradkit as torch``, ``torch.utils.data.DataLoader``,
``torch.utils.data.TensorDataset`` and friends are gradkit's.
"""

from __future__ import annotations

from gradkit.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset,
                          DistributedSampler, IterableDataset, RandomSampler, Sampler, SequentialSampler,
                          StackDataset, Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                          default_collate, default_convert, get_worker_info, random_split)
# torch.utils.data.sampler.Sampler, ...: PyTorch's submodules are attributes without an import
from . import dataloader, dataset, distributed, sampler  # noqa: F401

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split", "default_collate",
           "IterableDataset", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "BatchSampler", "get_worker_info", "ConcatDataset", "ChainDataset", "StackDataset",
           "WeightedRandomSampler", "DistributedSampler", "default_convert"]
