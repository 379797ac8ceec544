"""``Dataset[T]``, ``IterableDataset[T]`` and ``Sampler[int]`` subscript as PyTorch's generic
classes do (the torch.utils.data Sampler docstring's ``class ...(Sampler[int])``; issue #17)."""

from __future__ import annotations

from typing import Iterator, List

import gradkit as gk
from gradkit.data import DataLoader, Dataset, IterableDataset, Sampler


class ByLength(Sampler[List[int]]):
    def __init__(self, data: List[str], batch_size: int) -> None:
        self.data, self.batch_size = data, batch_size

    def __len__(self) -> int:
        return (len(self.data) + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[List[int]]:
        sizes = gk.tensor([len(x) for x in self.data])
        for batch in gk.chunk(gk.argsort(sizes), len(self)):
            yield batch.tolist()


def test_subscripted_subclasses_work():
    data = ["abcd", "a", "abcdefg", "ab", "abc"]
    assert list(ByLength(data, 2)) == [[1, 3], [4, 0], [2]]          # torch 2.13 (recorded)
    assert list(DataLoader(data, batch_sampler=ByLength(data, 2))) == [["a", "ab"], ["abc", "abcd"],
                                                                       ["abcdefg"]]

    class Squares(Dataset[int]):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int) -> int:
            return i * i

    class Count(IterableDataset[int]):
        def __iter__(self) -> Iterator[int]:
            return iter(range(3))

    assert [Squares()[i] for i in range(3)] == [0, 1, 4]
    assert list(Count()) == [0, 1, 2]
    assert Sampler[int] is not None and issubclass(ByLength, Sampler)
