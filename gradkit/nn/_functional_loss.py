"""Normalization, losses and similarities of gradkit.nn.functional.

Part of ``gradkit.nn.functional`` (see its docstring).
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from .. import _api as A
from gradkit._core import backend as _backend
from gradkit._core.tensor import Tensor, _make
from gradkit._core.grad_mode import no_grad
from ..ops import elementwise as E
from ..ops import nn as P
from ..ops import reduction as R
from ..ops import shape as S
from ._functional_base import (_const, _logsigmoid, _reduce, _reduction, _same_size, _t,
                               _weighted)

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
    # NOTE: the square only sees d where it is selected (an infinite d there would make the
    # unselected branch's gradient inf * 0 = nan); a nan d takes the square (nan gradient),
    # both as PyTorch.
    big = ad >= beta
    dq = A.where(big, 0.0, d)
    return _reduce(A.where(big, ad - 0.5 * beta, dq * dq * (0.5 / beta)), reduction)


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
    big = ad >= delta                 # as in smooth_l1_loss: no inf * 0, a nan takes the square
    dq = A.where(big, 0.0, d)
    loss = A.where(big, (ad - 0.5 * delta) * delta, dq * dq * 0.5)
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
    return A.where(condition, input, other, safe=True)
