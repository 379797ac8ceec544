"""PyTorch's layout and memory-format constants (``torch.strided``, ``torch.channels_last``, ...).

gradkit's tensors are NumPy arrays, so every tensor is strided. A memory format says how a
tensor's elements are laid out in memory; ``channels_last`` (NHWC order of a 4-D NCHW tensor) is
a real layout here too: ``x.contiguous(memory_format=gk.channels_last)`` gives an array whose
strides are PyTorch's (``(H*W*C, 1, W*C, C)``), with the same values and shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["layout", "strided", "memory_format", "contiguous_format", "channels_last",
           "channels_last_3d", "preserve_format"]


class _TorchConstant:
    """A named constant that prints as PyTorch's (``torch.strided``) and pickles by name."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self) -> Any:
        return self._name


class layout(_TorchConstant):
    """A tensor layout; gradkit has one, ``strided`` (dense arrays)."""

    __slots__ = ()


class memory_format(_TorchConstant):
    """How a tensor's elements are ordered in memory."""

    __slots__ = ()


for _cls in (layout, memory_format):
    _cls.__module__ = "gradkit"

strided = layout("strided")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

#: the dimension order in memory of each channels-last format, by the rank it needs
CHANNELS_LAST = {channels_last: (4, (0, 2, 3, 1)), channels_last_3d: (5, (0, 2, 3, 4, 1))}


def check(fmt: Any) -> Any:
    """``fmt`` if it is a memory format (or None), else PyTorch's TypeError."""
    if fmt is not None and not isinstance(fmt, memory_format):
        raise TypeError(f"memory_format must be torch.memory_format, not {type(fmt).__name__}")
    return fmt


def order_of(fmt: Any, ndim: int) -> tuple[int, ...] | None:
    """The memory order (a permutation) ``fmt`` asks of a tensor of ``ndim`` dimensions, or None
    for the ordinary C order; PyTorch's error for a channels-last format of the wrong rank."""
    if fmt in CHANNELS_LAST:
        rank, order = CHANNELS_LAST[fmt]
        if ndim != rank:
            raise RuntimeError(f"required rank {rank} tensor to use "
                               f"{fmt._name} format")
        return order
    return None


def is_laid_out(arr: Any, order: tuple[int, ...]) -> bool:
    """Whether ``arr``'s strides are those of a C-contiguous array in dimension ``order``
    (PyTorch's rule: size-1 dimensions may have any stride)."""
    expected = 1
    for d in reversed(order):
        n = arr.shape[d]
        if n != 1 and arr.strides[d] // arr.itemsize != expected:
            return False
        expected *= n
    return True


def suggested(arr: Any) -> Any:
    """The memory format ``preserve_format`` keeps: channels-last when the array is laid out so
    and is not C-contiguous, as PyTorch's ``suggest_memory_format``."""
    for fmt, (rank, order) in CHANNELS_LAST.items():
        if arr.ndim == rank and is_laid_out(arr, order) and not is_laid_out(arr, tuple(range(rank))):
            return fmt
    return contiguous_format


def relaid(arr: Any, fmt: Any) -> Any:
    """A copy of the NumPy array ``arr`` with the same values laid out in ``fmt``'s order."""
    order = CHANNELS_LAST[fmt][1]
    out = np.empty(tuple(arr.shape[d] for d in order), dtype=arr.dtype).transpose(np.argsort(order))
    out[...] = arr
    return out
