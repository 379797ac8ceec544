"""More of ``torch.nn.functional``: shrink activations, margin and NLL-style losses, instance and
local-response norm, lp and adaptive max pools, transposed 1-D convolution.

Re-exported by ``gradkit.nn.functional``; every function is a composition of
differentiable primitives, with PyTorch's values, kink gradients and errors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _api as A
from gradkit._core.tensor import Tensor, _make
from . import functional as F

__all__ = [
    "threshold", "tanhshrink", "softshrink", "hardshrink", "prelu", "rrelu", "conv_transpose1d",
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d", "lp_pool1d", "lp_pool2d",
    "instance_norm", "local_response_norm", "poisson_nll_loss", "gaussian_nll_loss", "hinge_embedding_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
    "triplet_margin_loss",
]

_t = F._t
_const = F._const


# --- activations ------------------------------------------------------------------------
def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``input`` where ``input > threshold``, else ``value``."""
    # NOTE: a nan passes through with gradient 1 (PyTorch replaces only x <= threshold)
    return F._inplace(_t(input), lambda x: A.where(x <= threshold, float(value), x), inplace)


def tanhshrink(input: Tensor) -> Tensor:
    """``input - tanh(input)``."""
    x = _t(input)
    return x - A.tanh(x)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between (gradient 0 at the kinks)."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    x = _t(input)
    # NOTE: x - clamp(x): a nan stays nan with gradient 1, as in PyTorch's scalar kernel
    # (its vectorized kernel gives 0 there); gradient 0 at the kinks.
    return x - A.clamp(x, -lambd, lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    x = _t(input)
    # NOTE: a nan stays nan with gradient 1, as in PyTorch's scalar kernel
    return A.where((x >= -lambd) & (x <= lambd), 0.0, x)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has 1 or ``C`` (dim 1) entries."""
    x, w = _t(input), _t(weight, "weight")
    if w.ndim > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {w.ndim}")
    n = w.numel()
    if n != 1:
        if x.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        c = x.shape[1] if x.ndim >= 2 else x.shape[0]
        if c != n:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {n} and channel size = {c}.")
        if x.ndim >= 2:
            w = A.reshape(w, (1, n) + (1,) * (x.ndim - 2))
    return A.where(x > 0, x, w * x)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU whose negative slope is drawn from ``U(lower, upper)`` (their mean in eval)."""
    x = _t(input)
    if not training:
        return F.leaky_relu(x, (lower + upper) / 2, inplace)
    from gradkit._core.creation import default_generator
    slope = default_generator._rng.uniform(lower, upper, tuple(x.shape))
    return F._inplace(x, lambda v: A.where(v >= 0, v, v * _const(slope, v)), inplace)


# --- convolution and pooling ------------------------------------------------------------
def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed 1-D convolution (a 2-D one over a height of 1); weight ``(C, O / groups, k)``."""
    x, w = _t(input), _t(weight, "weight")
    if x.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to conv_transpose1d, but got "
                           f"input of size: {list(x.shape)}")
    if w.ndim != 3:
        raise RuntimeError(f"weight should have 3 dimensions for conv_transpose1d, got {list(w.shape)}")

    def one(v: Any, name: str) -> tuple[int, int]:
        return (0 if name in ("padding", "output_padding") else 1, F._ntuple(v, 1, name)[0])

    out = F.conv_transpose2d(A.unsqueeze(x, -2), A.unsqueeze(w, 2), bias, one(stride, "stride"),
                             one(padding, "padding"), one(output_padding, "output_padding"), groups,
                             one(dilation, "dilation"))
    return A.squeeze(out, -2)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average over the adaptive windows of ``(N, C, L)`` that give ``output_size``."""
    x = _t(input)
    if x.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d(): Expected 2D or 3D tensor, but got {list(x.shape)}")
    o = output_size[0] if isinstance(output_size, (list, tuple)) else output_size
    return A.squeeze(F.adaptive_avg_pool2d(A.unsqueeze(x, -2), (1, int(o))), -2)


def _adaptive_starts(n: int, o: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def _adaptive_max(x: Tensor, sizes: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Max and flat argmax (first maximum, nan wins) over adaptive windows of the trailing dims."""
    nd = len(sizes)
    lead, spatial = tuple(x.shape[:-nd]), tuple(x.shape[-nd:])
    data = np.asarray(x.detach().numpy()).reshape((-1,) + spatial)
    flat_pos = np.arange(int(np.prod(spatial))).reshape(spatial)
    bounds = [_adaptive_starts(n, o) for n, o in zip(spatial, sizes)]
    idx = np.empty((data.shape[0],) + sizes, dtype=np.int64)
    for cell in np.ndindex(*sizes):
        win = tuple(slice(b[0][c], b[1][c]) for b, c in zip(bounds, cell))
        vals = data[(slice(None),) + win].reshape(data.shape[0], -1)
        pos = flat_pos[win].reshape(-1)
        nan = np.isnan(vals)
        best = np.where(nan.any(1), nan.argmax(1), np.argmax(np.where(nan, -np.inf, vals), 1))
        idx[(slice(None),) + cell] = pos[best]
    planes = A.reshape(x, (-1, int(np.prod(spatial))))
    gathered = A.gather(planes, 1, _make(idx.reshape(idx.shape[0], -1), False, None))
    idx = idx.reshape(lead + sizes)
    return A.reshape(gathered, lead + sizes), _make(idx, False, None)


def _adaptive_max_pool(input: Any, output_size: Any, return_indices: bool, nd: int, name: str) -> Any:
    x = _t(input)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(x.shape)}")
    size = tuple(output_size) if isinstance(output_size, (list, tuple)) else (output_size,) * nd
    if len(size) != nd:
        raise RuntimeError(f"{name}: internal error: output_size.size() must be {nd}")
    size = tuple(int(n if s is None else s) for s, n in zip(size, x.shape[-nd:]))
    if any(n == 0 for n in x.shape[-nd:]):
        raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, "
                           f"but input has sizes {list(x.shape)} with dimension {x.ndim - nd} being empty")
    out, idx = _adaptive_max(x, size)
    return (out, idx) if return_indices else out


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over the adaptive windows of ``(N, C, L)``; the gradient goes to the first maximum."""
    return _adaptive_max_pool(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over the adaptive windows of ``(N, C, H, W)``; indices are flat in each ``H * W`` plane."""
    return _adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def _lp_finish(out: Tensor, norm_type: float, count: int) -> Tensor:
    return (A.sign(out) * F.relu(A.abs(out)) * float(count)) ** (1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``(sum over the window of x ** p) ** (1 / p)``, as PyTorch computes it (via ``avg_pool1d``)."""
    x = _t(input)
    k = F._ntuple(kernel_size, 1, "kernel_size")[0]
    out = F.avg_pool1d(x ** norm_type, k, stride, 0, ceil_mode)
    return _lp_finish(out, norm_type, k)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``(sum over the window of x ** p) ** (1 / p)``, as PyTorch computes it (via ``avg_pool2d``)."""
    x = _t(input)
    kh, kw = F._ntuple(kernel_size, 2, "kernel_size")
    out = F.avg_pool2d(x ** norm_type, (kh, kw), stride, 0, ceil_mode)
    return _lp_finish(out, norm_type, kh * kw)


# --- normalization ----------------------------------------------------------------------
def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each (sample, channel) over its spatial dims; running stats as PyTorch updates them."""
    x = _t(input)
    if x.ndim < 2:
        raise ValueError(f"Expected 2D or more input (got {x.ndim}D input)")
    c = x.shape[1]
    shape = (1, c) + (1,) * (x.ndim - 2)
    if use_input_stats:
        spatial = int(np.prod(x.shape[2:]))
        if spatial == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                             f"{list(x.shape)}")
        dims = tuple(range(2, x.ndim))
        mean = A.mean(x, dims, keepdim=True)
        centered = x - mean
        var = A.mean(centered * centered, dims, keepdim=True)
        out = centered / A.sqrt(var + eps)
        with_stats = [(running_mean, mean), (running_var, var * (spatial / max(spatial - 1, 1)))]
        for buf, stat in with_stats:
            if buf is not None:
                b = buf._data
                b *= 1.0 - momentum
                b += momentum * np.asarray(stat.detach()._data).reshape(x.shape[0], c).mean(0)
                buf._vc[0] += 1
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats "
                               "is false")
        out = (x - A.reshape(_t(running_mean), shape)) / A.sqrt(A.reshape(_t(running_var), shape) + eps)
    if weight is not None:
        out = out * A.reshape(weight, shape)
    if bias is not None:
        out = out + A.reshape(bias, shape)
    return out


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """``x / (k + alpha * mean of x**2 over size neighbouring channels) ** beta``."""
    x = _t(input)
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {x.ndim} dimensions)")
    if x.numel() == 0:
        return x
    n, c = x.shape[0], x.shape[1]
    sq = A.reshape(x * x, (n, 1, c, -1))
    sq = F.pad(sq, (0, 0, size // 2, (size - 1) // 2))
    div = A.reshape(F.avg_pool2d(sq, (size, 1), stride=1), tuple(x.shape))
    return x / (div * alpha + k) ** beta


# --- losses -----------------------------------------------------------------------------
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """``exp(x) - t x`` (``log_input``) or ``x - t log(x + eps)``; ``full`` adds Stirling's term."""
    x, t = _t(input), _t(target, "target")
    reduction = F._reduction(size_average, reduce, reduction)
    loss = A.exp(x) - t * x if log_input else x - t * A.log(x + eps)
    if full:
        td = t.detach()
        safe = A.where(td > 1, td, 2.0)
        stirling = safe * A.log(safe) - safe + A.log(safe * (2 * math.pi)) * 0.5
        loss = loss + A.where(td > 1, stirling, 0.0)
    return F._reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Any, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """``0.5 (log(max(var, eps)) + (x - t)**2 / max(var, eps))`` (+ ``0.5 log(2 pi)`` when ``full``).

    As in PyTorch the clamp of ``var`` is not differentiated.
    """
    x, t = _t(input), _t(target, "target")
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        v = _const(np.full(tuple(x.shape), float(var)), x)
    else:
        v = _t(var, "var")
        if bool(np.any(np.asarray(v.detach().numpy()) < 0)):
            raise ValueError("var has negative entry/entries")
    if tuple(v.shape) != tuple(x.shape):
        if tuple(x.shape[:-1]) == tuple(v.shape):
            v = A.unsqueeze(v, -1)
        elif x.ndim == v.ndim and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    v = v + _const(np.maximum(v._data, eps) - v._data, v)
    d = x - t
    loss = (A.log(v) + d * d / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return F._reduce(loss, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``x`` where ``target == 1``, ``max(0, margin - x)`` where ``target == -1``."""
    x, t = _t(input), _t(target, "target")
    reduction = F._reduction(size_average, reduce, reduction)
    neg = A.where(t != 1, A.clamp(margin - x, min=0.0), 0.0)
    pos = A.where(t != -1, x, 0.0)
    return F._reduce(neg + pos, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-target * input))``."""
    x, t = _t(input), _t(target, "target")
    reduction = F._reduction(size_average, reduce, reduction)
    if tuple(x.shape) != tuple(t.shape):
        raise ValueError(f"Using a target size ({t.shape}) that is different to the input size "
                         f"({x.shape}) is deprecated. Please ensure they have the same size.")
    return F._reduce(-F._logsigmoid(x * t), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None,
                                reduction: str = "mean") -> Tensor:
    """Per-class binary cross-entropy with logits, averaged over the classes (last dim)."""
    x, t = _t(input), _t(target, "target")
    reduction = F._reduction(size_average, reduce, reduction)
    loss = -(t * F._logsigmoid(x) + (1 - t) * F._logsigmoid(-x))
    if weight is not None:
        loss = loss * weight
    cdim = x.ndim - 1
    loss = loss.sum(cdim) / x.shape[cdim]
    return F._reduce(loss, reduction)


def _margin_input(x: Tensor, t: Any, name: str) -> tuple[Tensor, np.ndarray, bool]:
    idx = t._data if isinstance(t, Tensor) else np.asarray(t)
    if x.ndim > 2:
        raise RuntimeError(f"{name}: Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(x.shape)}")
    batched = x.ndim == 2
    return (x if batched else A.reshape(x, (1, -1))), np.asarray(idx), batched


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                      reduction: str = "mean") -> Tensor:
    """``sum_{j != y} max(0, margin - x[y] + x[j]) ** p / C`` per sample, ``weight[y]`` scaling it."""
    reduction = F._reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x0 = _t(input)
    x, idx, batched = _margin_input(x0, target, "multi_margin_loss")
    n, c = x.shape
    idx = idx.reshape(-1).astype(np.int64)
    if idx.shape[0] != n:
        raise RuntimeError(f"inconsistent target size, expected {n} but got {list(np.shape(target))}")
    if idx.size and (idx.min() < 0 or idx.max() >= c):
        raise IndexError("target out of range")
    picked = A.gather(x, 1, _make(idx[:, None], False, None))
    z = x - picked + margin
    h = z if p == 1 else z * z
    if weight is not None:
        h = h * A.reshape(A.index_select(_t(weight, "weight"), 0, _make(idx, False, None)), (n, 1))
    other = _const((np.arange(c)[None, :] != idx[:, None]), x)
    loss = A.where(z > 0, h, 0.0) * other
    loss = loss.sum(1) / c
    if not batched and reduction == "none":
        loss = A.reshape(loss, ())
    return F._reduce(loss, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                           reduction: str = "mean") -> Tensor:
    """``sum_{j in targets, i not in targets} max(0, 1 - (x[j] - x[i])) / C``; targets end at the first -1."""
    reduction = F._reduction(size_average, reduce, reduction)
    x0 = _t(input)
    x, idx, batched = _margin_input(x0, target, "multilabel_margin_loss")
    n, c = x.shape
    idx = idx.reshape(n, c) if idx.size == n * c else idx
    if idx.shape != (n, c):
        raise RuntimeError(f"inconsistent target size: {list(np.shape(target))} for input of size: "
                           f"{list(x0.shape)}")
    is_target = np.zeros((n, c), dtype=bool)
    pair = np.zeros((n, c, c))                 # pair[s, j, i]: j a target, i not one
    for s in range(n):
        row = []
        for v in idx[s]:
            if v < 0:
                break
            if v >= c:
                raise IndexError("target out of range")
            row.append(int(v))
        is_target[s, row] = True
        for j in row:
            pair[s, j] += 1.0
    pair = pair * (~is_target)[:, None, :]
    z = 1.0 - (A.unsqueeze(x, 2) - A.unsqueeze(x, 1))
    loss = (A.where(z > 0, z, 0.0) * _const(pair, x)).sum((1, 2)) / c
    if not batched and reduction == "none":
        loss = A.reshape(loss, ())
    return F._reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average: Any = None,
                        reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the ``pairwise_distance``."""
    reduction = F._reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pos, neg = _t(anchor, "anchor"), _t(positive, "positive"), _t(negative, "negative")
    if not a.ndim == pos.ndim == neg.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same "
                           f"number of dimensions, but got: anchor {a.ndim}D, positive {pos.ndim}D, and "
                           f"negative {neg.ndim}D inputs")
    d_pos = F.pairwise_distance(a, pos, p, eps)
    d_neg = F.pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = A.minimum(d_neg, F.pairwise_distance(pos, neg, p, eps))
    return F._reduce(A.clamp(d_pos - d_neg + margin, min=0.0), reduction)

