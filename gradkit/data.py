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

import itertools
import math
from typing import Any, Callable, Generic, Iterator, Sequence, TypeVar

import numpy as np

from . import _api as A
from gradkit._core import creation as _creation
from gradkit._core import dtype as _dtype
from gradkit._core.creation import Generator, _gen
from gradkit._core.tensor import Tensor, _make

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split", "default_collate",
           "IterableDataset", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "BatchSampler", "get_worker_info", "ConcatDataset", "ChainDataset", "StackDataset",
           "WeightedRandomSampler", "DistributedSampler", "default_convert"]


#: what a dataset yields or a sampler gives; ``Dataset[T]``/``Sampler[int]`` subscript as PyTorch's
T_co = TypeVar("T_co", covariant=True)


def get_worker_info() -> None:
    """None: a ``DataLoader`` here reads its dataset in the calling process (no workers), as
    PyTorch's answers in the main process."""
    return None


class Dataset(Generic[T_co]):
    """A map-style dataset: ``__getitem__(i)`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    # NOTE: no default __len__ (PyTorch has none): ``list(iterable_dataset)`` asks len() for a
    # size hint, and a raising __len__ would stop it; ``len()`` of a dataset without one is
    # Python's TypeError, as in PyTorch

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A dataset read by iterating over it (``__iter__``), not by index."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


class ConcatDataset(Dataset):
    """The samples of several map-style datasets one after the other."""

    def __init__(self, datasets: Any) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes: list[int] = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += n
        import bisect

        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Several iterable datasets read one after the other."""

    def __init__(self, datasets: Any) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class StackDataset(Dataset):
    """Samples made of the same index of several datasets: a tuple (positional datasets) or a
    dict (keyword datasets)."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        parts = list(args) or list(kwargs.values())
        if not parts:
            raise ValueError("At least one dataset should be passed")
        self._length = len(parts[0])  # type: ignore[arg-type]
        if any(len(d) != self._length for d in parts):  # type: ignore[arg-type]
            raise ValueError("Size mismatch between datasets")
        self.datasets: Any = args if args else kwargs

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


class Sampler(Generic[T_co]):
    """Yields the indices a ``DataLoader`` reads, in order (``__iter__``; ``__len__`` if known)."""

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices (or ``num_samples`` draws with ``replacement``),
    from ``generator`` (gradkit's default when None: its numbers are gradkit's, not PyTorch's)."""

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        # lazily, as PyTorch: 32 draws at a time with replacement (num_samples may be huge),
        # else one permutation per pass; through creation's randint/randperm, as PyTorch's
        # sampler calls torch.randint/torch.randperm
        n, gen = len(self.data_source), self.generator
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from _creation.randint(high=n, size=(32,), generator=gen).tolist()
            yield from _creation.randint(high=n, size=(self.num_samples % 32,),
                                         generator=gen).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from _creation.randperm(n, generator=gen).tolist()
        yield from _creation.randperm(n, generator=gen).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices, self.generator = indices, generator

    def __iter__(self) -> Iterator[int]:
        order = _gen(self.generator).permutation(len(self.indices)).tolist()
        return iter([self.indices[i] for i in order])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (with
    ``replacement`` by default), from ``generator`` (gradkit's default when None)."""

    def __init__(self, weights: Any, num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        w = np.asarray(weights.detach().numpy() if isinstance(weights, Tensor) else weights,
                       dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        self.weights = _make(w, False, None)
        self._w = w
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator

    def __iter__(self) -> Iterator[int]:
        w, n, rng = self._w, self.num_samples, _gen(self.generator)
        if not np.isfinite(w).all() or (w < 0).any():
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if w.sum() <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if self.replacement:
            return iter(rng.choice(len(w), size=n, p=w / w.sum()).tolist())
        if n > len(w):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        # PyTorch's draw without replacement: the n largest of w / Exp(1) (zero weights last)
        keys = w / rng.exponential(size=len(w))
        return iter(np.argsort(-keys, kind="stable")[:n].tolist())

    def __len__(self) -> int:
        return self.num_samples


class DistributedSampler(Sampler):
    """The share of the indices that replica ``rank`` of ``num_replicas`` reads: every
    ``num_replicas``-th index of one (per-epoch, ``seed + epoch``) permutation, padded by
    repetition to equal shares unless ``drop_last``. gradkit has no process group, so
    ``num_replicas`` and ``rank`` must be given."""

    def __init__(self, dataset: Dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            raise RuntimeError("Requires distributed package to be available: gradkit has no "
                               "process group, pass num_replicas= and rank= explicitly")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)  # type: ignore[arg-type]
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)  # type: ignore[arg-type]
        if self.shuffle:
            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = _gen(g).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """A new permutation for each epoch (with ``shuffle``)."""
        self.epoch = epoch


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[Any]]:
        batch: list[Any] = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


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
    # through creation's randperm, as PyTorch's random_split calls randperm (the same draws)
    perm = _creation.randperm(n, generator=generator).tolist()
    out, offset = [], 0
    for size in sizes:
        out.append(Subset(dataset, perm[offset : offset + size]))
        offset += size
    return out


def _number_tensor(values: list[Any]) -> Tensor:
    """Python numbers as PyTorch collates them: a float first gives float64; an int or bool
    first, the dtype ``tensor(batch)`` infers (int64, bool, or float when a float follows)."""
    from gradkit._core.creation import tensor

    first = values[0]
    if isinstance(first, int):
        # PyTorch's torch.tensor(batch): the dtype is inferred from every element, so [1, 2.5]
        # is float (the default dtype) and [True, 2] int64, not truncated to the first's type
        return tensor(values)
    if isinstance(first, complex):
        return tensor(values, dtype=_dtype.complex128)
    return tensor(values, dtype=_dtype.float64)


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def default_convert(data: Any) -> Any:
    """NumPy arrays and scalars in ``data`` (also inside dicts, lists and tuples) become tensors;
    everything else is kept (PyTorch's ``default_convert``, used when ``batch_size=None``)."""
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "USO" else _make(np.array(data), False, None)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return _make(np.array(data), False, None)
    if isinstance(data, dict):
        return type(data)({k: default_convert(v) for k, v in data.items()})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples into a batch as PyTorch's ``default_collate`` does: tensors and
    NumPy arrays are stacked, Python floats become float64 (ints int64), dicts collate per key,
    namedtuples per field, other sequences into a list of collated fields."""
    first = batch[0]
    if isinstance(first, Tensor):
        return A.stack(batch, 0)
    if isinstance(first, np.ndarray):
        if first.dtype.kind in "USO":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                            f"dicts or lists; found {first.dtype}")
        return A.stack([_make(np.array(b), False, None) for b in batch], 0)
    if isinstance(first, np.generic) and not isinstance(first, (np.str_, np.bytes_)):
        return _make(np.array(batch), False, None)
    if isinstance(first, (bool, int, float, complex)):
        return _number_tensor(batch)
    if isinstance(first, (str, bytes)):
        return batch
    if isinstance(first, dict):
        return type(first)({k: default_collate([b[k] for b in batch]) for k in first})
    if _is_namedtuple(first):
        return type(first)(*(default_collate(list(items)) for items in zip(*batch)))
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(items)) for items in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                    f"lists; found {type(first)}")


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
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        # NOTE: batches are made in the calling process (workers, pinning and prefetching change
        # nothing on the CPU); the options are checked as PyTorch checks them
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if isinstance(dataset, IterableDataset) and (shuffle or sampler is not None
                                                     or batch_sampler is not None):
            what = "shuffle" if shuffle else "sampler" if sampler is not None else "batch_sampler"
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified {what} "
                             f"option, but got {what}={shuffle if shuffle else sampler or batch_sampler}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        if shuffle and sampler is None and batch_sampler is None:
            # PyTorch builds its RandomSampler here, whose check refuses an empty dataset
            # (num_samples=0) when the loader is made, not when it is first iterated
            RandomSampler(dataset, generator=generator)
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, bool(shuffle)
        self.sampler, self.drop_last, self.generator = sampler, drop_last, generator
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.pin_memory, self.timeout, self.worker_init_fn = pin_memory, timeout, worker_init_fn
        self.prefetch_factor = (2 if prefetch_factor is None else prefetch_factor) if num_workers else None
        self.persistent_workers = persistent_workers

    def _indices(self) -> Iterator[int]:
        # an iterator, drawn as it is consumed (a sampler may be endless or huge, as minGPT's
        # RandomSampler(replacement=True, num_samples=10**10))
        if self.sampler is not None:
            return iter(self.sampler)
        if self.shuffle:
            return iter(RandomSampler(self.dataset, generator=self.generator))
        return iter(range(len(self.dataset)))  # type: ignore[arg-type]

    def _collate(self, samples: list[Any]) -> Any:
        return (self.collate_fn or default_collate)(samples)

    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.dataset, IterableDataset):
            yield from self._iter_stream()
            return
        if self.batch_sampler is not None:
            for chunk in self.batch_sampler:
                yield self._collate([self.dataset[i] for i in chunk])
            return
        indices = self._indices()
        if self.batch_size is None:
            convert = self.collate_fn or default_convert
            for i in indices:
                yield convert(self.dataset[i])
            return
        bs = self.batch_size
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        while chunk := list(itertools.islice(indices, bs)):
            if len(chunk) < bs and self.drop_last:
                return
            if fast:
                idx = _make(np.asarray(chunk, dtype=np.int64), False, None)
                yield [t[idx] for t in self.dataset.tensors]  # type: ignore[attr-defined]
            else:
                yield (self.collate_fn or default_collate)([self.dataset[i] for i in chunk])

    def _iter_stream(self) -> Iterator[Any]:
        if self.batch_size is None:
            convert = self.collate_fn or default_convert
            for sample in self.dataset:  # type: ignore[attr-defined]
                yield convert(sample)
            return
        batch: list[Any] = []
        for sample in self.dataset:  # type: ignore[attr-defined]
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self._collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield self._collate(batch)

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        if isinstance(self.dataset, IterableDataset) and not hasattr(type(self.dataset), "__len__"):
            raise TypeError(f"object of type '{type(self.dataset).__name__}' has no len()")
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)  # type: ignore[arg-type]
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
