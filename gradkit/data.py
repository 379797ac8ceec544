"""Datasets and batching: ``TensorDataset``, ``DataLoader``, ``random_split`` (as ``torch.utils.data``).

Examples
--------
>>> import gradkit as gk
>>> ds = TensorDataset(gk.arange(10.0), gk.arange(10))
>>> [y.tolist() for _, y in DataLoader(ds, batch_size=4)]
[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
>>> len(DataLoader(ds, batch_size=4, drop_last=True))
2
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import _api as A
from gradkit._core.creation import Generator, _gen
from gradkit._core.tensor import Tensor, _make

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split", "default_collate"]


class Dataset:
    """A map-style dataset: ``__getitem__(i)`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __len__(self) -> int:
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are the ``index``-th rows of each tensor (all with the same first dimension)."""

    def __init__(self, *tensors: Tensor) -> None:
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset: Dataset, lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)  # type: ignore[arg-type]
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _gen(generator).permutation(n).tolist()
    out, offset = [], 0
    for size in sizes:
        out.append(Subset(dataset, perm[offset : offset + size]))
        offset += size
    return out


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples into a batch: tensors are stacked, numbers become tensors, tuples zip."""
    first = batch[0]
    if isinstance(first, Tensor):
        return A.stack(batch, 0)
    if isinstance(first, np.ndarray):
        return _make(np.stack(batch), False, None)
    if isinstance(first, (bool, int, float, np.number)):
        from gradkit._core.creation import tensor

        return tensor(batch)
    if isinstance(first, str):
        return batch
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        return (
            type(first)(default_collate(list(items)) for items in zip(*batch))
            if isinstance(first, tuple)
            else [default_collate(list(items)) for items in zip(*batch)]
        )
    raise TypeError(
        f"default_collate: batch must contain tensors, numbers, dicts or lists; found {type(first)}"
    )


class DataLoader:
    """Iterate over a dataset in batches, optionally shuffled each epoch.

    Parameters
    ----------
    dataset : Dataset
        Map-style dataset.
    batch_size : int or None
        Samples per batch (``None``: yield single samples, uncollated).
    shuffle : bool
        Draw a new permutation every epoch, from ``generator`` (gradkit's default when ``None``).
    drop_last : bool
        Drop the last incomplete batch.
    collate_fn : callable, optional
        Turns a list of samples into a batch (:func:`default_collate`).

    Notes
    -----
    A :class:`TensorDataset` is batched by fancy indexing (one gather per batch),
    not sample by sample. There are no worker processes.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = False,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Any = None,
        generator: Generator | None = None,
        **kwargs: Any,
    ) -> None:
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, bool(shuffle)
        self.sampler, self.drop_last, self.generator = sampler, drop_last, generator
        self.collate_fn = collate_fn
        self.num_workers = num_workers

    def _indices(self) -> list[int]:
        n = len(self.dataset)  # type: ignore[arg-type]
        if self.sampler is not None:
            return list(self.sampler)
        if self.shuffle:
            return _gen(self.generator).permutation(n).tolist()
        return list(range(n))

    def __iter__(self) -> Iterator[Any]:
        indices = self._indices()
        if self.batch_size is None:
            for i in indices:
                yield self.dataset[i]
            return
        bs = self.batch_size
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        for start in range(0, len(indices), bs):
            chunk = indices[start : start + bs]
            if len(chunk) < bs and self.drop_last:
                return
            if fast:
                idx = _make(np.asarray(chunk, dtype=np.int64), False, None)
                yield tuple(t[idx] for t in self.dataset.tensors)  # type: ignore[attr-defined]
            else:
                yield (self.collate_fn or default_collate)([self.dataset[i] for i in chunk])

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)  # type: ignore[arg-type]
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
