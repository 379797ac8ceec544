"""``torch.nn.utils.rnn``: ``PackedSequence`` and the functions that pack, pad and split sequences.

A ``PackedSequence`` holds the time steps of a batch of sequences of different lengths, sorted by
length, one after another: ``data`` is ``(sum(lengths), *)``, ``batch_sizes[t]`` the number of
sequences still running at step ``t``. ``nn.RNN``/``LSTM``/``GRU`` take one and return one.

NOTE: PyTorch's path is ``torch.nn.utils.rnn``; ``nn.utils`` is a module here, so this module is
attached to it as ``utils.rnn`` (and registered as ``gradkit.nn.utils.rnn``) by ``gradkit.nn``.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any, Sequence

import numpy as np

from gradkit import _api as A
from gradkit._core import backend as _backend
from gradkit._core.tensor import Tensor, _make
from gradkit.nn.functional._base import _const

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _ints(x: Any) -> np.ndarray:
    data = _backend.to_numpy(x._data) if isinstance(x, Tensor) else x
    return np.asarray(data).astype(np.int64).reshape(-1)


def _index(arr: np.ndarray) -> Tensor:
    return _make(np.ascontiguousarray(arr, dtype=np.int64), False, None)


_Fields = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_Fields):
    """The packed time steps of a batch of sequences (see the module's docstring)."""

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if isinstance(batch_sizes, Tensor) and batch_sizes.device.type != "cpu":
                raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should "
                                 "never be created manually. They should be instantiated by functions like "
                                 "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                                 "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        # PyTorch's second form: PackedSequence((data, batch_sizes))
        data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data: Tensor) -> PackedSequence:
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data.to(...)``; the index tensors follow ``data``'s device (``batch_sizes`` stays on the CPU)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        sorted_i = None if self.sorted_indices is None else self.sorted_indices.to(dev)
        unsorted_i = None if self.unsorted_indices is None else self.unsorted_indices.to(dev)
        return type(self)(data, self.batch_sizes, sorted_i, unsorted_i)

    def cpu(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self._with_data(self.data.double())

    def float(self) -> PackedSequence:
        return self._with_data(self.data.float())

    def half(self) -> PackedSequence:
        return self._with_data(self.data.half())

    def long(self) -> PackedSequence:
        return self._with_data(self.data.long())

    def int(self) -> PackedSequence:
        return self._with_data(self.data.int())

    def short(self) -> PackedSequence:
        return self._with_data(self.data.short())

    def char(self) -> PackedSequence:
        return self._with_data(self.data.char())

    def byte(self) -> PackedSequence:
        return self._with_data(self.data.byte())

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (``None`` stays ``None``)."""
    if permutation is None:
        return None
    p = _ints(permutation)
    out = np.empty_like(p)
    out[p] = np.arange(p.shape[0])
    return _index(out)


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences of ``lengths``."""
    if isinstance(lengths, Tensor) and lengths.device.type != "cpu":
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got 1D {lengths.device} "
                           f"{str(lengths.dtype).split('.')[-1].capitalize()} tensor")
    lens = _ints(lengths)
    if enforce_sorted:
        if (np.diff(lens) > 0).any():
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                               "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                               "pack_sequence to sidestep this requirement if you do not need ONNX "
                               "exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = _index(order)
        input = A.index_select(input, 0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack(input, lens, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _pack(input: Tensor, lens: np.ndarray, batch_first: bool) -> tuple[Tensor, Tensor]:
    x = A.transpose(input, 0, 1) if batch_first else input
    if lens.size and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in "
                           "'lengths' that is <= 0")
    if lens.shape[0] != x.shape[1]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.shape[0]} "
                           f"(batch_size={x.shape[1]})")
    if lens.size and lens.max() > x.shape[0]:
        raise RuntimeError(f"Expected sequence length to be larger than or equal to the max length "
                           f"{lens.max()}, but got {x.shape[0]}")
    steps = int(lens.max()) if lens.size else 0
    batch_sizes = np.array([(lens > t).sum() for t in range(steps)], np.int64)
    data = A.cat([x[t, :int(b)] for t, b in enumerate(batch_sizes)], 0)
    return data, _index(batch_sizes)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo ``pack_padded_sequence``: the padded batch and each sequence's length (original order)."""
    batch_sizes = _ints(sequence.batch_sizes)
    steps = batch_sizes.shape[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in "
                             f"input, but got total_length={total_length} and max sequence length being "
                             f"{steps}")
        steps = total_length
    data = sequence.data
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    rows, start = [], 0
    for b in batch_sizes:
        step = data[start:start + int(b)]
        if b < batch:
            fill = _const(np.full((batch - int(b), *data.shape[1:]), padding_value), data)
            step = A.cat([step, fill], 0)
        rows.append(step)
        start += int(b)
    if steps > batch_sizes.shape[0]:
        fill = _const(np.full((batch, *data.shape[1:]), padding_value), data)
        rows += [fill] * (steps - batch_sizes.shape[0])
    padded = A.stack(rows, 0)
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    if batch_first:
        padded = A.transpose(padded, 0, 1)
    if sequence.unsorted_indices is not None:
        padded = A.index_select(padded, 0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths[_ints(sequence.unsorted_indices)]
    return padded, _index(lengths)


def pad_sequence(sequences: Tensor | Sequence[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of different lengths ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)``), padded."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    seqs = list(A.unbind(sequences, 0)) if isinstance(sequences, Tensor) else list(sequences)
    longest = max(s.shape[0] for s in seqs)
    out = []
    for s in seqs:
        pad = longest - s.shape[0]
        if pad:
            fill = _const(np.full((pad, *s.shape[1:]), padding_value), s)
            s = A.cat([s, fill] if padding_side == "right" else [fill, s], 0)
        out.append(s)
    return A.stack(out, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch back into its sequences (each cut to its length)."""
    padded = padded_sequences if batch_first else A.transpose(padded_sequences, 0, 1)
    return [padded[i, :int(n)] for i, n in enumerate(_ints(lengths))]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors ``(L_i, *)`` (longest first unless ``enforce_sorted=False``)."""
    lengths = np.array([s.shape[0] for s in sequences], np.int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of tensors that ``pack_sequence`` packed."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

