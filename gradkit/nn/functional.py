"""``gradkit.nn.functional``: PyTorch's functional neural-network API on gradkit's table.

Signatures, defaults, error messages and the derivative at kinks follow
``torch.nn.functional``. Most functions are compositions of existing
primitives (exact, so their gradients come for free); the fused rows in
``gradkit/ops/nn.py`` are used where stability (``log_softmax``), speed
(``conv2d``, ``max_pool2d``, ``hardswish``) or PyTorch's kink convention
(``hardtanh``, ``binary_cross_entropy``) asks for them.

Examples
--------
>>> import gradkit as gk
>>> import gradkit.nn.functional as F
>>> x = gk.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
>>> loss = F.cross_entropy(x, gk.tensor([2]))
>>> loss.backward()
>>> x.grad
tensor([[ 0.0900,  0.2447, -0.3348]])
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from .. import _api as A
from .. import _backend
from .._tensor import Tensor, _make
from ..autograd.grad_mode import no_grad
from ..ops import elementwise as E
from ..ops import nn as P
from ..ops import reduction as R
from ..ops import shape as S
from ..ops._registry import apply

__all__ = [
    "safe_where",
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus",
    "softsign", "hardtanh", "hardsigmoid", "hardswish", "sigmoid", "tanh", "logsigmoid", "softmax",
    "log_softmax", "softmin", "glu", "normalize", "linear", "bilinear", "dropout", "embedding",
    "one_hot", "pad", "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "layer_norm", "group_norm",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_similarity",
    "pairwise_distance", "cosine_embedding_loss", "margin_ranking_loss",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# --- helpers ----------------------------------------------------------------------------
def _t(x: Any, name: str = "input") -> Tensor:
    return A._t(x, name)


def _const(arr: Any, like: Tensor) -> Tensor:
    """A constant (no gradient) in ``like``'s dtype, placed where ``like`` lives (a GPU)."""
    arr = _backend.as_data(arr, like._data.dtype)
    if type(like._data) is not np.ndarray:
        arr = _backend.move(arr, _backend.placement_of(like._data))
    return _make(arr, False, None)


def _inplace(input: Tensor, fn: Any, inplace: bool) -> Tensor:
    """``fn(input)``, written into ``input`` when ``inplace`` (PyTorch's ``relu_`` and kin)."""
    if not inplace:
        return fn(input)
    from .._methods import _inplace as run_inplace
    return run_inplace(input, fn)


def _ntuple(v: Any, n: int, name: str) -> tuple[int, ...]:
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return (int(v[0]),) * n
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                               f"values to match the convolution dimensions, but got {name}={list(v)}")
        return tuple(int(i) for i in v)
    return (int(v),) * n


def _reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{reduction}' instead.", stacklevel=3)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_size(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weighted(loss: Tensor, input: Tensor, weight: Any, reduction: str, by_weight: bool) -> Tensor:
    """Per-element weights (mse, l1, huber): 'mean' divides by the weights' sum when ``by_weight``."""
    w = _t(weight, "weight")
    if tuple(w.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * w
    if reduction == "mean" and by_weight:
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


def _logsigmoid(x: Tensor) -> Tensor:
    # NOTE: min(x, 0) - log1p(exp(-|x|)) never overflows; at 0 the tie in min gives 1/2, the
    # exact derivative.
    return A.minimum(x, 0.0) - A.log1p(A.exp(-A.abs(x)))


# --- activations ------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``; the gradient at 0 is 0 (PyTorch)."""
    return _inplace(_t(input), A.relu, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Clamp to ``[min_val, max_val]``.

    Notes
    -----
    Unlike ``clamp``, the gradient is 0 at the bounds themselves, as in PyTorch.
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _inplace(_t(input), lambda x: P.hardtanh_p(x, min_val=float(min_val), max_val=float(max_val)),
                    inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``hardtanh(input, 0, 6)``: the gradient is 0 at 0 and at 6 (PyTorch)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, ``negative_slope * input`` elsewhere (slope at 0, as PyTorch)."""
    return _inplace(_t(input), lambda x: A.where(x > 0, x, x * negative_slope), inplace)


def _elu(x: Tensor, alpha: float, scale: float, input_scale: float) -> Tensor:
    # NOTE: exp only sees min(x, 0), so a large x cannot overflow into a nan gradient; the
    # derivative at 0 is alpha * input_scale * scale (the negative branch), as in PyTorch.
    neg = E.expm1(A.clamp(x, max=0.0) * input_scale if input_scale != 1.0 else A.clamp(x, max=0.0))
    out = A.where(x > 0, x, neg * alpha)
    return out * scale if scale != 1.0 else out


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, ``alpha * (exp(input) - 1)`` elsewhere."""
    return _inplace(_t(input), lambda x: _elu(x, alpha, 1.0, 1.0), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(input, alpha)`` with the self-normalizing constants."""
    return _inplace(_t(input), lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE, 1.0), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return _inplace(_t(input), lambda x: _elu(x, alpha, 1.0, 1.0 / alpha), inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)``, exactly through ``erf`` or, with ``approximate='tanh'``, by tanh."""
    x = _t(input)
    if approximate == "none":
        return x * 0.5 * (A.erf(x * _SQRT1_2) + 1.0)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
        return x * 0.5 * (A.tanh(inner) + 1.0)
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)``."""
    return _inplace(_t(input), lambda x: x * A.sigmoid(x), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``.

    Notes
    -----
    The exponential only sees ``min(beta * x, threshold)``, so logits of 1e4 give
    finite values and gradients.
    """
    x = _t(input)
    xb = x * beta if beta != 1 else x
    soft = A.log1p(A.exp(A.clamp(xb, max=threshold)))
    if beta != 1:
        soft = soft / beta
    return A.where(xb > threshold, x, soft)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * tanh(softplus(input))``."""
    return _inplace(_t(input), lambda x: x * A.tanh(softplus(x)), inplace)


def softsign(input: Tensor) -> Tensor:
    """``input / (1 + |input|)``."""
    x = _t(input)
    return x / (A.abs(x) + 1.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``; the gradient is 0 at -3 and 3 (PyTorch)."""
    return _inplace(_t(input), lambda x: P.hardtanh_p(x + 3.0, min_val=0.0, max_val=6.0) / 6.0, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6`` (a fused primitive); the derivative is 0 at -3 and 1 at 3 (PyTorch)."""
    return _inplace(_t(input), P.hardswish_p, inplace)


def sigmoid(input: Tensor) -> Tensor:
    return A.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return A.tanh(input)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(input))``, computed without overflow."""
    return _logsigmoid(_t(input))


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(input: Any, dim: Any, dtype: Any, name: str, stacklevel: int) -> tuple[Tensor, int]:
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    if dim is None:
        dim = _softmax_dim(name, x.ndim, stacklevel + 1)
    return x, S.norm_dim(dim, x.ndim)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``, a fused primitive (the max is subtracted first).

    Examples
    --------
    >>> F.softmax(gk.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([0.0900, 0.2447, 0.6652])
    """
    x, d = _softmax_input(input, dim, dtype, "softmax", _stacklevel)
    return P.softmax_p(x, dim=d)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """``x - logsumexp(x, dim)``, a fused primitive: stable for logits of any size."""
    x, d = _softmax_input(input, dim, dtype, "log_softmax", _stacklevel)
    return P.log_softmax_p(x, dim=d)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``softmax(-input, dim)``."""
    x, d = _softmax_input(input, dim, dtype, "softmin", _stacklevel)
    return P.softmax_p(-x, dim=d)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second half."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = S.norm_dim(dim, x.ndim)
    if x.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {x.shape[d]}")
    a, b = A.chunk(x, 2, d)
    return a * A.sigmoid(b)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Any = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``."""
    x = _t(input)
    d = S.norm_dim(dim, x.ndim)
    denom = A.clamp(R.norm_p(x, ord=float(p), dim=(d,), keepdim=True), min=eps)
    return x / denom


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
    from .._factories import default_generator
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


# --- convolution ------------------------------------------------------------------------
def _conv_padding(padding: Any, kernel: Sequence[int], dilation: tuple[int, ...],
                  stride: tuple[int, ...], nd: int) -> tuple[tuple[int, int], ...]:
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # NOTE: an odd total puts the extra element on the right/bottom, as in PyTorch
            return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                         for k, d in zip(kernel, dilation))
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    p = _ntuple(padding, nd, "padding")
    if any(q < 0 for q in p):
        raise RuntimeError("negative padding is not supported")
    return tuple((q, q) for q in p)


def _check_conv(x: Tensor, w: Tensor, groups: int, pads: Any, dilation: tuple[int, ...]) -> None:
    c = x.shape[1]
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if w.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at "
                           f"dimension 0, but got weight of size {list(w.shape)} instead")
    if c != w.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w.shape)}, expected "
                           f"input{list(x.shape)} to have {w.shape[1] * groups} channels, but got "
                           f"{c} channels instead")
    padded = [s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads)]
    eff = [d * (k - 1) + 1 for k, d in zip(w.shape[2:], dilation)]
    if any(p < k for p, k in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))})."
                           f" Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be "
                           "greater than actual input size")


def _bias(out: Tensor, bias: Any, nd: int, w: Tensor) -> Tensor:
    if bias is None:
        return out
    b = _t(bias, "bias")
    if b.ndim != 1 or b.shape[0] != out.shape[1]:
        raise RuntimeError(f"Given weight of size {list(w.shape)}, expected bias to be 1-dimensional "
                           f"with {out.shape[1]} elements, but got bias of size {list(b.shape)} instead")
    return out + A.reshape(b, (1, -1) + (1,) * nd)


def _batched(x: Tensor, nd: int, name: str) -> tuple[Tensor, bool]:
    if x.ndim == nd + 2:
        return x, True
    if x.ndim == nd + 1:
        return A.unsqueeze(x, 0), False
    raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but "
                       f"got input of size: {list(x.shape)}")


def _conv(input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any,
          groups: int, nd: int, name: str) -> Tensor:
    x, batched = _batched(_t(input), nd, name)
    w = _t(weight, "weight")
    if w.ndim != nd + 2:
        raise RuntimeError(f"weight should have at least three dimensions (got weight of size "
                           f"{list(w.shape)} for {name})")
    stride = _ntuple(stride, nd, "stride")
    dilation = _ntuple(dilation, nd, "dilation")
    pads = _conv_padding(padding, w.shape[2:], dilation, stride, nd)
    _check_conv(x, w, groups, pads, dilation)
    if nd == 1:                    # a 1-D convolution is a 2-D one over a height of 1
        x, w = A.unsqueeze(x, 2), A.unsqueeze(w, 2)
        stride, dilation, pads = (1,) + stride, (1,) + dilation, ((0, 0),) + pads
    out = P.conv2d_p(x, w, stride=stride, padding=pads, dilation=dilation, groups=groups)
    if nd == 1:
        out = A.squeeze(out, 2)
    out = _bias(out, bias, nd, w)
    return out if batched else A.squeeze(out, 0)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of ``(N, C, L)`` (or ``(C, L)``) with ``(O, C / groups, k)``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of ``(N, C, H, W)`` with ``(O, C / groups, kH, kW)``.

    ``padding`` is an int, a pair, ``'valid'`` or ``'same'`` (stride 1 only).
    A fused primitive: im2col by stride tricks and one BLAS ``matmul`` per
    group, with transposed-convolution and weight-gradient rows as its rules.

    Examples
    --------
    >>> x = gk.ones(1, 1, 3, 3)
    >>> F.conv2d(x, gk.ones(1, 1, 2, 2))
    tensor([[[[4., 4.],
              [4., 4.]]]])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed 2-D convolution (the input gradient of ``conv2d``); weight ``(C, O / groups, kH, kW)``."""
    x, batched = _batched(_t(input), 2, "conv_transpose2d")
    w = _t(weight, "weight")
    s = _ntuple(stride, 2, "stride")
    p = _ntuple(padding, 2, "padding")
    op = _ntuple(output_padding, 2, "output_padding")
    d = _ntuple(dilation, 2, "dilation")
    if any(o >= max(si, di) for o, si, di in zip(op, s, d)):
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                           f"output_padding_height: {op[0]} output_padding_width: {op[1]} stride_height: "
                           f"{s[0]} stride_width: {s[1]} dilation_height: {d[0]} dilation_width: {d[1]}")
    if x.shape[1] != w.shape[0] or w.shape[0] % groups:
        raise RuntimeError(f"Given transposed=1, weight of size {list(w.shape)}, expected input"
                           f"{list(x.shape)} to have {w.shape[0]} channels, but got {x.shape[1]} "
                           "channels instead")
    size = tuple((n - 1) * si - 2 * pi + di * (k - 1) + oi + 1
                 for n, si, pi, di, k, oi in zip(x.shape[2:], s, p, d, w.shape[2:], op))
    params = {"input_shape": (x.shape[0], w.shape[1] * groups) + size, "stride": s,
              "padding": tuple((q, q) for q in p), "dilation": d, "groups": groups}
    out = apply(P.conv2d_input_grad_p.prim, (x, w), params, 1)
    out = _bias(out, bias, 2, w)
    return out if batched else A.squeeze(out, 0)


# --- pooling ----------------------------------------------------------------------------
def _pool_out(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:   # the last window must start inside the input
        out -= 1
    return out


def _pool_args(x: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
               ceil_mode: bool, name: str) -> tuple[Any, ...]:
    k = _ntuple(kernel_size, nd, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else \
        _ntuple(stride, nd, "stride")
    p = _ntuple(padding, nd, "padding")
    d = _ntuple(dilation, nd, "dilation")
    if any(q < 1 for q in k + s):
        raise RuntimeError(f"{name}: kernel_size and stride must be greater than zero")
    sizes = tuple(x.shape[-nd:])
    outs = tuple(_pool_out(n, ki, si, pi, di, ceil_mode) for n, ki, si, pi, di in zip(sizes, k, s, p, d))
    if any(o < 1 for o in outs):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, x.shape[-nd - 1:]))}). Calculated "
                           f"output size: ({'x'.join(map(str, (x.shape[-nd - 1],) + outs))}). Output "
                           "size is too small")
    # padding as (before, after), the after side grown so that ceil_mode windows fit
    pads = tuple((pi, max(pi, (o - 1) * si + di * (ki - 1) + 1 - n - pi))
                 for n, o, ki, si, pi, di in zip(sizes, outs, k, s, p, d))
    return k, s, p, d, pads, outs


def _pool_input(input: Any, nd: int, name: str) -> tuple[Tensor, bool]:
    x = _t(input)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor for input, "
                           f"but got: {list(x.shape)}")
    return (x, True) if x.ndim == nd + 2 else (A.unsqueeze(x, 0), False)


def _max_pool(input: Any, nd: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, return_indices: bool, name: str) -> Any:
    x, batched = _pool_input(input, nd, name)
    k, s, p, d, pads, _ = _pool_args(x, nd, kernel_size, stride, padding, dilation, ceil_mode, name)
    for pi, ki, di in zip(p, k, d):
        if pi > ((ki - 1) * di + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation={di}")
    if nd == 1:
        x = A.unsqueeze(x, 2)
        k, s, d, pads = (1,) + k, (1,) + s, (1,) + d, ((0, 0),) + pads
    out, idx = P.max_pool2d_p(x, kernel=k, stride=s, padding=pads, dilation=d)
    if nd == 1:
        out, idx = A.squeeze(out, 2), A.squeeze(idx, 2)
    if not batched:
        out, idx = A.squeeze(out, 0), A.squeeze(idx, 0)
    return (out, idx) if return_indices else out


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over sliding windows of ``(N, C, L)``; ``return_indices`` adds the argmax positions."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     "max_pool1d")


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over sliding windows of ``(N, C, H, W)``.

    Notes
    -----
    The gradient goes to the first maximum of each window (PyTorch's CPU
    convention); indices are flat positions in each ``H * W`` plane.
    """
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     "max_pool2d")


def _avg_divisor(n: int, o: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    start = np.arange(o) * s - p
    end = np.minimum(start + k, n + p)
    size = end - start
    if not include_pad:
        size = np.minimum(end, n) - np.maximum(start, 0)
    return size


def _avg_pool(input: Any, nd: int, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: Any, name: str) -> Tensor:
    x, batched = _pool_input(input, nd, name)
    k, s, p, _, pads, outs = _pool_args(x, nd, kernel_size, stride, padding, 1, ceil_mode, name)
    for pi, ki in zip(p, k):
        if pi > ki // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation=1")
    lead = tuple(x.shape[:-nd])
    sizes = tuple(x.shape[-nd:])
    if nd == 1:
        k, s, pads, sizes, outs = (1,) + k, (1,) + s, ((0, 0),) + pads, (1,) + sizes, (1,) + outs
        p = (0,) + p
    # NOTE: the window sums are a convolution of every plane with a kernel of ones
    planes = A.reshape(x, (-1, 1) + sizes)
    ones = _const(np.ones((1, 1) + k), x)
    sums = P.conv2d_p(planes, ones, stride=s, padding=pads, dilation=(1, 1), groups=1)
    if divisor_override:
        out = sums / float(divisor_override)
    else:
        dh = _avg_divisor(sizes[0], outs[0], k[0], s[0], p[0], count_include_pad)
        dw = _avg_divisor(sizes[1], outs[1], k[1], s[1], p[1], count_include_pad)
        out = sums / _const(np.outer(dh, dw), x)
    out = A.reshape(out, lead + outs[-nd:])
    return out if batched else A.squeeze(out, 0)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over sliding windows of ``(N, C, L)``."""
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     "avg_pool1d")


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over sliding windows of ``(N, C, H, W)``; the divisor follows PyTorch's rules."""
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "avg_pool2d")


def _adaptive_matrix(n: int, o: int) -> np.ndarray:
    """(o, n) averaging matrix over PyTorch's adaptive windows [floor(i n / o), ceil((i + 1) n / o))."""
    i = np.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    j = np.arange(n)
    mask = (j >= start[:, None]) & (j < end[:, None])
    return mask / (end - start)[:, None]


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average over the adaptive windows that give ``output_size`` (``None`` keeps a size)."""
    x = _t(input)
    if x.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(x.shape)}")
    size = output_size if isinstance(output_size, (list, tuple)) else (output_size, output_size)
    h, w = x.shape[-2:]
    oh = h if size[0] is None else int(size[0])
    ow = w if size[1] is None else int(size[1])
    # NOTE: the windows are separable: rows are averaged by one matrix, columns by another
    out = A.matmul(_const(_adaptive_matrix(h, oh), x), x)
    return A.matmul(out, _const(_adaptive_matrix(w, ow).T, x))


# --- normalization ----------------------------------------------------------------------
def _normalize_over(x: Tensor, dims: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    mean = x.mean(dims, keepdim=True)
    c = x - mean
    var = (c * c).mean(dims, keepdim=True)
    return c * A.rsqrt(var + eps), mean, var


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-05) -> Tensor:
    """Normalize each channel (dim 1) by batch statistics (training) or running ones.

    Notes
    -----
    In training the running statistics are updated in place with ``momentum``,
    the variance unbiased, as in PyTorch; normalization uses the biased one.
    """
    x = _t(input)
    dims = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        n = x.numel() // x.shape[1] if x.ndim > 1 else x.shape[0]
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{x.shape}")
        out, mean, var = _normalize_over(x, dims, eps)
        with no_grad():
            m = 0.0 if momentum is None else momentum
            if running_mean is not None:
                running_mean.mul_(1.0 - m).add_(A.reshape(mean.detach(), (-1,)) * m)
            if running_var is not None:
                running_var.mul_(1.0 - m).add_(A.reshape(var.detach(), (-1,)) * (m * n / (n - 1)))
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        out = (x - A.reshape(running_mean, shape)) * A.rsqrt(A.reshape(running_var, shape) + eps)
    if weight is not None:
        out = out * A.reshape(weight, shape)
    if bias is not None:
        out = out + A.reshape(bias, shape)
    return out


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-05) -> Tensor:
    """Normalize over the trailing ``normalized_shape`` dims, then scale and shift."""
    x = _t(input)
    ns = (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(x.shape[x.ndim - len(ns):]) != ns or len(ns) > x.ndim:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size{x.shape}")
    out, _, _ = _normalize_over(x, tuple(range(x.ndim - len(ns), x.ndim)), eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-05) -> Tensor:
    """Normalize each group of ``C / num_groups`` channels of each sample."""
    x = _t(input)
    n, c = x.shape[0], x.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but "
                           f"got input of shape {x.shape} and num_groups={num_groups}")
    g = A.reshape(x, (n, num_groups, -1))
    out, _, _ = _normalize_over(g, (2,), eps)
    out = A.reshape(out, tuple(x.shape))
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * A.reshape(weight, shape)
    if bias is not None:
        out = out + A.reshape(bias, shape)
    return out


# --- regression losses ------------------------------------------------------------------
def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """``(input - target) ** 2``, reduced; ``weight`` makes 'mean' a weighted mean."""
    x, t = _t(input), _t(target, "target")
    _same_size(x, t)
    reduction = _reduction(size_average, reduce, reduction)
    d = x - t
    loss = d * d
    return _reduce(loss, reduction) if weight is None else _weighted(loss, x, weight, reduction, True)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """``|input - target|``, reduced; the gradient at 0 is 0 (PyTorch)."""
    x, t = _t(input), _t(target, "target")
    _same_size(x, t)
    reduction = _reduction(size_average, reduce, reduction)
    loss = A.abs(x - t)
    return _reduce(loss, reduction) if weight is None else _weighted(loss, x, weight, reduction, True)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``."""
    x, t = _t(input), _t(target, "target")
    _same_size(x, t)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = x - t
    ad = A.abs(d)
    if beta == 0:
        return _reduce(ad, reduction)
    return _reduce(A.where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    x, t = _t(input), _t(target, "target")
    _same_size(x, t)
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}")
    d = x - t
    ad = A.abs(d)
    loss = A.where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return _reduce(loss, reduction) if weight is None else _weighted(loss, x, weight, reduction, False)


# --- classification losses --------------------------------------------------------------
def _class_view(weight: Tensor, ndim: int) -> Tensor:
    """A per-class weight shaped to broadcast along the class dim of an ``ndim`` input."""
    return weight if ndim == 1 else A.reshape(weight, (1, -1) + (1,) * (ndim - 2))


def _targets(input: Tensor, target: Any, ignore_index: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Class indices as int64, the mask of counted ones, and the class dim."""
    t = target._data if isinstance(target, Tensor) else _backend.as_data(target)
    cdim = 0 if input.ndim == 1 else 1
    expect = () if input.ndim == 1 else tuple(input.shape[:1]) + tuple(input.shape[2:])
    if t.shape != expect:
        if input.ndim >= 1 and t.ndim >= 1 and input.ndim > 1 and t.shape[0] != input.shape[0]:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size ({t.shape[0]}).")
        raise RuntimeError(f"Expected target size {list(expect)}, got {list(t.shape)}")
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    valid = t != ignore_index
    c = input.shape[cdim]
    bad = valid & ((t < 0) | (t >= c))
    # NOTE: a lazy (Dask) target is not checked: that would compute it
    if not _backend.is_lazy(bad) and bool(bad.any()):
        raise IndexError(f"Target {int(_backend.to_numpy(t[bad]).flat[0])} is out of bounds.")
    return np.where(valid, t, 0).astype(np.int64), valid, cdim


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``-weight[t] * input[t]`` per sample; 'mean' divides by the sum of the counted weights.

    Targets equal to ``ignore_index`` count for nothing (a mean over none is nan,
    as in PyTorch).
    """
    x = _t(input)
    reduction = _reduction(size_average, reduce, reduction)
    safe, valid, cdim = _targets(x, target, ignore_index)
    picked = A.squeeze(A.gather(x, cdim, _make(np.expand_dims(safe, cdim), False, None)), cdim)
    w = valid.astype(x._data.dtype)
    if weight is not None:
        w = w * _t(weight, "weight")._data[safe]
    loss = -(picked * _const(w, x))
    if reduction == "mean":
        return _weighted_mean(loss, w.sum())
    return _reduce(loss, reduction)


def _weighted_mean(loss: Tensor, total: Any) -> Tensor:
    """``loss.sum() / total``; a total of 0 gives nan with a zero gradient, as in PyTorch."""
    if _backend.is_lazy(total):             # NOTE: the same, without computing the total
        t = _const(total, loss)
        zero = t == 0
        return E.where(zero, _const(np.nan, loss), loss.sum() / E.where(zero, 1.0, t))
    if total == 0:
        return loss.sum() * 0.0 + _const(np.nan, loss)
    return loss.sum() / _const(total, loss)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """``nll_loss(log_softmax(input, class dim), target)``, or soft targets when ``target`` is float.

    Notes
    -----
    The class dim is 1 (0 for a 1-D input). Class-index targets honour
    ``weight``, ``ignore_index`` and ``label_smoothing`` exactly as PyTorch
    combines them; probability targets are mixed with the uniform
    distribution by ``label_smoothing`` and 'mean' divides by the batch size.
    Stable for logits of any size (a fused ``log_softmax``).

    Examples
    --------
    >>> F.cross_entropy(gk.tensor([[1e4, 0.0]]), gk.tensor([1]))
    tensor(10000.)
    """
    x = _t(input)
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = 0 if x.ndim == 1 else 1
    n_classes = x.shape[cdim]
    logp = P.log_softmax_p(x, dim=cdim)
    t = target if isinstance(target, Tensor) else _t(target, "target")
    if t.is_floating_point():
        return _soft_cross_entropy(logp, t, weight, reduction, label_smoothing, cdim)
    nll = nll_loss(logp, t, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return nll
    safe, valid, _ = _targets(x, t, ignore_index)
    if weight is not None:
        smooth = -(logp * _class_view(_t(weight, "weight"), x.ndim)).sum(cdim)
    else:
        smooth = -logp.sum(cdim)
    smooth = smooth * _const(valid, x)
    if reduction == "mean":
        smooth = _weighted_mean(smooth, _t(weight)._data[safe][valid].sum() if weight is not None
                                else valid.sum())
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _soft_cross_entropy(logp: Tensor, t: Tensor, weight: Any, reduction: str, smoothing: float,
                        cdim: int) -> Tensor:
    if tuple(t.shape) != tuple(logp.shape):
        raise RuntimeError(f"Expected target size {list(logp.shape)}, got {list(t.shape)}")
    n_classes = logp.shape[cdim]
    if smoothing > 0:
        t = t * (1.0 - smoothing) + smoothing / n_classes
    prod = logp * t
    if weight is not None:
        prod = prod * _class_view(_t(weight, "weight"), logp.ndim)
    if reduction == "none":
        return -prod.sum(cdim)
    if reduction == "sum":
        return -prod.sum()
    return -prod.sum() / (logp.numel() / n_classes)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``-w (t log x + (1 - t) log(1 - x))`` on probabilities ``x``.

    Notes
    -----
    As in PyTorch the logs are clamped to >= -100 and the gradient divides by
    ``max(x (1 - x), 1e-12)``, so ``x`` of exactly 0 or 1 stays finite.
    """
    x, t = _t(input), _t(target, "target")
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(t.shape) != tuple(x.shape):
        raise ValueError(f"Using a target size ({t.shape}) that is different to the input size "
                         f"({x.shape}) is deprecated. Please ensure they have the same size.")
    loss = P.binary_cross_entropy_p(x, t)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """``binary_cross_entropy(sigmoid(input), target)`` computed stably from the logits.

    ``pos_weight`` multiplies the positive term:
    ``(1 - t) x - (1 + (pos_weight - 1) t) logsigmoid(x)``; finite for logits of 1e4.
    """
    x, t = _t(input), _t(target, "target")
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(t.shape) != tuple(x.shape):
        raise ValueError(f"Target size ({t.shape}) must be the same as input size ({x.shape})")
    log_sig = _logsigmoid(x)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1.0) * t + 1.0)
    loss = (1.0 - t) * x - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """``target * (log(target) - input)`` with ``input`` given as log-probabilities.

    ``reduction='batchmean'`` divides the sum by the batch size (the KL
    divergence proper); ``0 * log 0`` counts as 0.
    """
    x, t = _t(input), _t(target, "target")
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, "mean")
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with the "
                      "KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if log_target:
        loss = A.exp(t) * (t - x)
    else:
        loss = t * A.log(A.where(t == 0, 1.0, t)) - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0] if x.ndim else loss.sum()
    return _reduce(loss, _reduction(None, None, reduction))


# --- similarity and ranking -------------------------------------------------------------
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps), dim)``, as PyTorch computes it.

    Notes
    -----
    As in PyTorch, the clamp of each norm to ``eps`` is not differentiated:
    the gradient flows through the norm as if unclamped.
    """
    a, b = A.broadcast_tensors(_t(x1, "x1"), _t(x2, "x2"))
    d = S.norm_dim(dim, a.ndim)
    na = R.norm_p(a, ord=2.0, dim=(d,), keepdim=True)
    nb = R.norm_p(b, ord=2.0, dim=(d,), keepdim=True)
    na = na + _const(np.maximum(na._data, eps) - na._data, na)
    nb = nb + _const(np.maximum(nb._data, eps) - nb._data, nb)
    return ((a / na) * (b / nb)).sum(d)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim."""
    a, b = _t(x1, "x1"), _t(x2, "x2")
    nd = max(a.ndim, b.ndim)
    diff = a - b + eps
    if nd == 0:
        return A.abs(diff)
    return R.norm_p(diff, ord=float(p), dim=(nd - 1,), keepdim=keepdim)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``1 - cos`` where ``target == 1``, ``max(0, cos - margin)`` where ``target == -1``."""
    x1, x2, t = _t(input1, "input1"), _t(input2, "input2"), _t(target, "target")
    reduction = _reduction(size_average, reduce, reduction)
    if t.ndim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if x1.ndim != t.ndim + 1 or x2.ndim != t.ndim + 1:
        raise RuntimeError(f"{t.ndim}D target tensor expects {t.ndim + 1}D input tensors, but found "
                           f"inputs with sizes {list(x1.shape)} and {list(x2.shape)}.")
    d = t.ndim
    eps = 1e-12
    prod = (x1 * x2).sum(d)
    mag = ((x1 * x1).sum(d) + eps) * ((x2 * x2).sum(d) + eps)
    cos = prod / A.sqrt(mag)
    pos = A.where(t == 1, 1.0 - cos, 0.0)
    neg = A.where(t == -1, A.clamp(cos - margin, min=0.0), 0.0)
    return _reduce(pos + neg, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``."""
    x1, x2, t = _t(input1, "input1"), _t(input2, "input2"), _t(target, "target")
    reduction = _reduction(size_average, reduce, reduction)
    if not (x1.ndim == x2.ndim == t.ndim):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but "
                           f"got sizes: input1: {x1.shape}, input2: {x2.shape}, target: {t.shape} ")
    return _reduce(A.clamp(-t * (x1 - x2) + margin, min=0.0), reduction)


def safe_where(condition: Any, input: Any, other: Any) -> Tensor:
    """``where(condition, input, other)`` whose unselected branch cannot make the gradient nan.

    Same as ``gradkit.where(..., safe=True)``: ``safe_where(x > 0, sqrt(x), 0)`` has
    gradient 0 at negative ``x`` (PyTorch's ``where`` gives nan there).
    """
    import gradkit
    return gradkit.where(condition, input, other, safe=True)



# NOTE: more of torch.nn.functional, kept in its own module (imported last: it builds on the above)
from ._functional_extra import *  # noqa: E402,F401,F403
from ._functional_extra import __all__ as _extra_all  # noqa: E402

from ._functional_more import *  # noqa: E402,F401,F403
from ._functional_more import __all__ as _more_all  # noqa: E402

__all__ += _extra_all + _more_all
