"""Linear layers, dropout, embeddings and padding of gradkit.nn.functional.

Part of ``gradkit.nn.functional`` (see its docstring).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import _api as A
from gradkit._core.tensor import Tensor, _make
from gradkit._core.grad_mode import no_grad
from ..ops import shape as S
from ._functional_base import _const, _inplace, _t

# --- linear layers, dropout, embeddings -------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``."""
    x, w = _t(input), _t(weight, "weight")
    out = A.matmul(x, A.t(w))
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_o = x1 @ weight[o] @ x2 + bias_o`` over the last dim of ``input1`` and ``input2``."""
    x1, x2, w = _t(input1, "input1"), _t(input2, "input2"), _t(weight, "weight")
    if x1.ndim != x2.ndim or tuple(x1.shape[:-1]) != tuple(x2.shape[:-1]):
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(x1.shape[:-1])} and {list(x2.shape[:-1])}")
    if w.ndim != 3 or w.shape[1] != x1.shape[-1] or w.shape[2] != x2.shape[-1]:
        raise RuntimeError(f"bilinear(): weight of size {list(w.shape)} does not match inputs of "
                           f"sizes {list(x1.shape)} and {list(x2.shape)}")
    o, i, j = w.shape
    # x1 @ W as one BLAS product: (..., i) @ (i, o * j), then a dot with x2 over j
    t = A.matmul(x1, A.reshape(A.permute(w, (1, 0, 2)), (i, o * j)))
    t = A.reshape(t, tuple(x1.shape[:-1]) + (o, j))
    out = (t * A.unsqueeze(x2, -2)).sum(-1)
    return out if bias is None else out + bias


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The mask comes from gradkit's default generator (``gk.manual_seed``); with
    ``training=False`` the input is returned unchanged.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _t(input)
    if not training or p == 0.0:
        return x
    from gradkit._core.creation import default_generator
    keep = default_generator._rng.random(tuple(x.shape)) >= p
    scale = np.where(keep, 1.0 / (1.0 - p), 0.0) if p < 1.0 else np.zeros(tuple(x.shape))
    return _inplace(x, lambda v: v * _const(scale, v), inplace)


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
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % n
    if max_norm is not None:
        _renorm_rows(w, np.unique(idx), max_norm, norm_type)
    out = S.getitem_p(w, index=idx.astype(np.int64))
    if padding_idx is not None and np.any(idx == padding_idx):
        out = A.where(_make((idx == padding_idx)[..., None], False, None), out.detach(), out)
    if scale_grad_by_freq:
        _, inverse, counts = np.unique(idx, return_inverse=True, return_counts=True)
        scale = (1.0 / counts[inverse.reshape(idx.shape)])[..., None]
        out = out.detach() + (out - out.detach()) * _const(scale, out)   # value kept, grad scaled
    return out


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
    if idx.size and idx.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if idx.size and idx.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return _make((idx[..., None] == np.arange(num_classes)).astype(np.int64), False, None)


# --- padding ----------------------------------------------------------------------------
def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims; ``pad`` lists (left, right) from the last dim back.

    ``mode`` is ``'constant'`` (negative amounts crop), ``'reflect'``,
    ``'replicate'`` or ``'circular'``.
    """
    x = _t(input)
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > x.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension {x.ndim}")
    dims = [x.ndim - 1 - i for i in range(k)]
    pairs = {d: (pad[2 * i], pad[2 * i + 1]) for i, d in enumerate(dims)}
    if mode == "constant":
        return _pad_constant(x, pairs, 0.0 if value is None else value)
    if value not in (None, 0, 0.0):
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {x.ndim}D input "
                                  f"tensor. Non-constant padding pads the last 1, 2 or 3 dims of a "
                                  f"tensor with 1 or 2 more dims (an optional batch and the channels).")
    # one gather over the padded (trailing) dims: out[..., i, j] = x[..., rows[i], cols[j]]
    index = [_pad_index(x.shape[d], *pairs[d], mode, d) for d in sorted(pairs)]
    return S.getitem_p(x, index=(Ellipsis,) + np.ix_(*index))


def _pad_index(n: int, lo: int, hi: int, mode: str, d: int) -> np.ndarray:
    """Source positions along one padded dim: out[j] = in[src[j]]."""
    src = np.arange(-lo, n + hi)
    if mode == "reflect":
        if lo >= n or hi >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({lo}, {hi}) at dimension {d} of input")
        src = np.abs(src)
        return np.where(src > n - 1, 2 * (n - 1) - src, src)
    if mode == "replicate":
        if n == 0:
            raise RuntimeError("padding size must be less than the input size for replicate mode")
        return np.clip(src, 0, n - 1)
    if lo > n or hi > n:
        raise RuntimeError("Padding value causes wrapping around more than once.")
    return np.mod(src, n)


def _pad_constant(x: Tensor, pairs: dict[int, tuple[int, int]], value: float) -> Tensor:
    crop = tuple(slice(max(-pairs[d][0], 0), x.shape[d] - max(-pairs[d][1], 0)) if d in pairs
                 else slice(None) for d in range(x.ndim))
    if any(s != slice(None) for s in crop):
        x = S.getitem_p(x, index=crop)
    grow = {d: (max(lo, 0), max(hi, 0)) for d, (lo, hi) in pairs.items()}
    if not any(lo or hi for lo, hi in grow.values()):
        return x
    shape = tuple(s + sum(grow.get(d, (0, 0))) for d, s in enumerate(x.shape))
    place = tuple(slice(grow[d][0], grow[d][0] + s) if d in grow else slice(None)
                  for d, s in enumerate(x.shape))
    out = S.index_backward_p(x, shape=shape, index=place)
    if value != 0:
        fill = np.full(shape, value, dtype=x._data.dtype)
        fill[place] = 0
        out = out + _make(fill, False, None)
    return out
