"""Sparse functions of gradkit.nn.functional: embeddings and one-hot."""

from __future__ import annotations


import numpy as np

from gradkit import _api as A
from gradkit._core import backend as _backend
from gradkit._core.grad_mode import no_grad
from gradkit._core.tensor import Tensor, _make
from gradkit.ops import nn as P
from gradkit.ops import shape as S
from gradkit.ops._registry import apply
from ._base import _const, _t

__all__ = ["embedding", "one_hot", "embedding_bag"]


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer tensor ``input``.

    Notes
    -----
    ``padding_idx`` rows get no gradient; ``max_norm`` renormalizes the rows it
    looks up, in place, as PyTorch does; ``scale_grad_by_freq`` divides each
    row's gradient by its count in ``input``. ``sparse=True`` gives the same
    gradient, stored dense.
    """
    w = _t(weight, "weight")
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got {input.dtype} instead")
    n = w.shape[0]
    if idx.size and not _backend.values_unknown(idx) and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % n
    if max_norm is not None:
        _renorm_rows(w, np.unique(idx), max_norm, norm_type)
    index = idx.astype(np.int64)
    pad = padding_idx is not None and bool(np.any(idx == padding_idx))
    if not (pad or scale_grad_by_freq):
        # rows picked by one index node, named as PyTorch's (EmbeddingBackward0)
        return apply(S.getitem_p.prim, (w,), {"index": index}, S.EMBEDDING)
    # one node (EmbeddingBackward0) whose rule scales each looked-up row's gradient: 0 at
    # padding_idx, 1 / its count in input with scale_grad_by_freq
    coeff = np.ones(idx.shape)
    if scale_grad_by_freq:
        _, inverse, counts = np.unique(idx, return_inverse=True, return_counts=True)
        coeff = 1.0 / counts[inverse.reshape(idx.shape)]
    if pad:
        coeff = np.where(idx == padding_idx, 0.0, coeff)
    return P.embedding_p(w, index=index, coeff=coeff)


def _renorm_rows(w: Tensor, rows: np.ndarray, max_norm: float, norm_type: float) -> None:
    with no_grad():
        data = w._data
        norms = np.linalg.norm(data[rows], ord=norm_type, axis=1)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        data[rows] *= scale[:, None].astype(data.dtype)
        w._vc[0] += 1


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """``int64`` tensor with a trailing dim of size ``num_classes``, 1 at each index."""
    idx = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if idx.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    if idx.size and not _backend.values_unknown(idx) and idx.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if idx.size and not _backend.values_unknown(idx) and idx.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return _make((idx[..., None] == _backend.arange(num_classes, idx)).astype(np.int64), False, None)


# --- embedding bag ----------------------------------------------------------------------
def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embedding rows (``torch.nn.functional.embedding_bag``)."""
    w = _t(weight, "weight")
    idx = np.asarray(input._data if isinstance(input, Tensor) else input)
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is "
                                  f"only supported for mode='sum' (got mode='{mode}'). Please open a "
                                  "feature request on GitHub.")
    psw = None if per_sample_weights is None else _t(per_sample_weights, "per_sample_weights")
    if psw is not None and tuple(psw.shape) != idx.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({list(psw.shape)}) is not None, then it "
                         f"must have the same shape as the input ({list(idx.shape)})")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a "
                             "mini-batch of fixed length sequences. However, found offsets of type "
                             f"{type(offsets).__name__}")
        b, m = idx.shape
        starts = np.arange(b) * m
        idx = idx.reshape(-1)
        psw = None if psw is None else A.reshape(psw, (-1,))
        ends = starts + m
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        off = np.asarray(offsets._data if isinstance(offsets, Tensor) else offsets).astype(np.int64)
        if off.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        if off.size and off[0] != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                               f"start from position 0. However, got {off[0]}")
        if off.size and off[-1] > idx.shape[0]:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length ({idx.shape[0]}), but "
                               f"got offsets[-1] of {off[-1]}")
        if include_last_offset:
            starts, ends = off[:-1], off[1:]
        else:
            starts, ends = off, np.append(off[1:], idx.shape[0])
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    nrows = w.shape[0]
    if padding_idx is not None:
        if not -nrows <= padding_idx < nrows:
            raise AssertionError("padding_idx must be within num_embeddings")
        padding_idx %= nrows
    if idx.dtype.kind not in "iu":
        raise RuntimeError("expected input to have integer dtype")
    if not w.is_floating_point():
        raise RuntimeError("Expected tensor for argument #1 'weight' to have one of the following scalar "
                           f"types: Half, BFloat16, Float, Double; but got {w.type()} instead (while "
                           "checking arguments for embedding_bag)")
    if idx.size and (idx.min() < 0 or idx.max() >= nrows):
        raise IndexError("index out of range in self")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if max_norm is not None:
        _renorm_rows(w, np.unique(idx), max_norm, norm_type)
    # one node, PyTorch's EmbeddingBagBackward0 (a row of the table); a missing
    # per_sample_weights is a constant 1 (None in next_functions, as PyTorch's)
    valid = np.ones(idx.shape[0], bool) if padding_idx is None else idx != padding_idx
    n = idx.shape[0]
    sizes = np.asarray(ends) - np.asarray(starts)
    bag = np.repeat(np.arange(len(starts)), np.maximum(sizes, 0))
    if bag.size != n:                        # offsets that skip or repeat indices
        bag = np.zeros(n, np.int64)
        inside = np.zeros(n, bool)
        for b, (lo, hi) in enumerate(zip(starts, ends)):
            bag[lo:hi] = b
            inside[lo:hi] = True
        valid = valid & inside
    counts = np.bincount(bag[valid], minlength=len(starts))
    coef = np.where(valid, 1.0 if mode != "mean" else 1.0 / np.maximum(counts[bag], 1), 0.0)
    freq = None
    if scale_grad_by_freq:
        _, inverse, uses = np.unique(idx, return_inverse=True, return_counts=True)
        freq = 1.0 / uses[inverse.reshape(-1)]
    ones = _const(np.ones(n), w) if psw is None else psw
    return P.embedding_bag_p(w, ones, idx=idx.astype(np.int64), bag=bag, coef=coef, nb=len(starts),
                             mode="max" if mode == "max" else "sum", freq=freq)
