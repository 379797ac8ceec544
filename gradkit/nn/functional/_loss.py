"""Loss functions of gradkit.nn.functional."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from gradkit import _api as A
from gradkit._api import special as _special
from gradkit._core.concrete import user_stacklevel
from gradkit._core import backend as _backend
from gradkit._core.grad_mode import is_grad_enabled
from gradkit._core.tensor import Tensor, _make
from gradkit.nn import functional as F
from gradkit.ops import elementwise as E
from gradkit.ops import nn as P
from gradkit.ops._registry import apply
from ._base import _const, _logsigmoid, _reduce, _reduction, _same_size, _t, _weighted
from gradkit._core.autocast import autocast_op

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss",
    "margin_ranking_loss", "safe_where", "poisson_nll_loss", "gaussian_nll_loss",
    "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
    "multilabel_margin_loss", "triplet_margin_loss", "ctc_loss", "triplet_margin_with_distance_loss",
    "linear_cross_entropy",
]


# --- regression losses ------------------------------------------------------------------
@autocast_op
def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """``(input - target) ** 2``, reduced; ``weight`` makes 'mean' a weighted mean."""
    x, t = _t(input), _t(target, "target")
    _same_size(x, t)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is None:
        # one MseLossBackward0 node; operands of other shapes are expanded first, as PyTorch's
        try:
            shape = tuple(np.broadcast_shapes(tuple(x.shape), tuple(t.shape)))
        except ValueError:
            shape = None
        if shape is not None:
            x = x if tuple(x.shape) == shape else A.expand(x, shape)
            t = t if tuple(t.shape) == shape else A.expand(t, shape)
            return P.mse_loss_p(x, t, reduction=reduction)
    d = x - t
    loss = d * d
    return _reduce(loss, reduction) if weight is None else _weighted(loss, x, weight, reduction, True)


@autocast_op
def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """``|input - target|``, reduced; the gradient at 0 is 0 (PyTorch).

    Composed, as PyTorch's is (``MeanBackward0`` over ``AbsBackward0``).
    """
    x, t = _t(input), _t(target, "target")
    _same_size(x, t)
    reduction = _reduction(size_average, reduce, reduction)
    loss = A.abs(x - t)
    return _reduce(loss, reduction) if weight is None else _weighted(loss, x, weight, reduction, True)


@autocast_op
def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``."""
    x, t = _t(input), _t(target, "target")
    _same_size(x, t)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(x, t, reduction=reduction)
    if tuple(t.shape) == tuple(x.shape):
        return P.smooth_l1_loss_p(x, t, reduction=reduction, beta=float(beta), huber=False)
    d = x - t
    ad = A.abs(d)
    # NOTE: the square only sees d where it is selected (an infinite d there would make the
    # unselected branch's gradient inf * 0 = nan); a nan d takes the square (nan gradient),
    # both as PyTorch.
    big = ad >= beta
    dq = A.where(big, 0.0, d)
    return _reduce(A.where(big, ad - 0.5 * beta, dq * dq * (0.5 / beta)), reduction)


@autocast_op
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    x, t = _t(input), _t(target, "target")
    _same_size(x, t)
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}")
    if weight is None and tuple(t.shape) == tuple(x.shape):
        return apply(P.smooth_l1_loss_p.prim, (x, t),
                     {"reduction": reduction, "beta": float(delta), "huber": True}, 1)
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
    # NOTE: a lazy (Dask) target is not checked: that would compute it; a meta one has no values
    if not _backend.values_unknown(bad) and bool(bad.any()):
        raise IndexError(f"Target {int(_backend.to_numpy(t[bad]).flat[0])} is out of bounds.")
    return np.where(valid, t, 0).astype(np.int64), valid, cdim


@autocast_op
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``-weight[t] * input[t]`` per sample; 'mean' divides by the sum of the counted weights.

    Targets equal to ``ignore_index`` count for nothing (a mean over none is nan,
    as in PyTorch).
    """
    x = _t(input)
    reduction = _reduction(size_average, reduce, reduction)
    safe, valid, cdim = _targets(x, target, ignore_index)
    if not (_backend.is_lazy(safe) or _backend.is_lazy(x._data)):
        return _nll_row(x, safe, valid, weight, reduction)
    picked = A.squeeze(A.gather(x, cdim, _make(np.expand_dims(safe, cdim), False, None)), cdim)
    w = valid.astype(x._data.dtype)
    if weight is not None:
        w = w * _t(weight, "weight")._data[safe]
    loss = -(picked * _const(w, x))
    if reduction == "mean":
        return _weighted_mean(loss, w.sum())
    return _reduce(loss, reduction)


def _nll_row(x: Tensor, safe: np.ndarray, valid: np.ndarray, weight: Any,
             reduction: str) -> Tensor:
    """nll_loss as one NllLossBackward0 node (NllLoss2DBackward0 for 4-D input; other ranks
    over 2 go through a 4-D view of the input and back, as PyTorch's)."""
    w = valid.astype(x._data.dtype)
    if weight is not None:
        w = w * _t(weight, "weight")._data[safe]
    if type(x._data) is not np.ndarray:            # the constants go where the input lives
        where = _backend.placement_of(x._data)
        safe, w = _backend.move(_backend.as_data(safe), where), _backend.move(_backend.as_data(w), where)
    total = w.sum() if reduction == "mean" else None
    params = {"target": safe, "w": w, "reduction": reduction, "total": total}
    if x.ndim <= 2:
        return apply(P.nll_loss_p.prim, (x,), params, 0)
    if x.ndim == 4:
        return apply(P.nll_loss_p.prim, (x,), params, 1)
    n, c = x.shape[0], x.shape[1]
    params["target"] = safe.reshape(n, -1, 1)
    params["w"] = w.reshape(n, -1, 1)
    out = apply(P.nll_loss_p.prim, (A.reshape(x, (n, c, -1, 1)),), params, 1)
    return A.reshape(out, safe.shape) if reduction == "none" else out


def _weighted_mean(loss: Tensor, total: Any) -> Tensor:
    """``loss.sum() / total``; a total of 0 gives nan with a zero gradient, as in PyTorch."""
    if _backend.is_lazy(total):             # NOTE: the same, without computing the total
        t = _const(total, loss)
        zero = t == 0
        return E.where(zero, _const(np.nan, loss), loss.sum() / E.where(zero, 1.0, t))
    if total == 0:
        return loss.sum() * 0.0 + _const(np.nan, loss)
    return loss.sum() / _const(total, loss)


@autocast_op
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
    # PyTorch's C++ Scalar products: MulBackward1 nodes
    return (apply(E.mul.prim, (nll, 1.0 - label_smoothing), None, 1)
            + apply(E.mul.prim, (smooth, label_smoothing / n_classes), None, 1))


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
    # PyTorch divides by a C++ Scalar: DivBackward1
    return apply(E.div.prim, (-prod.sum(), logp.numel() / n_classes), None, 1)


@autocast_op
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
    fused = _fused_weights(x, t, weight, None)
    if fused is not None:
        # one BinaryCrossEntropyBackward0 node, the weight and the reduction inside it (PyTorch's)
        return P.binary_cross_entropy_p(x, t, reduction=reduction, **fused)
    loss = P.binary_cross_entropy_p(x, t)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@autocast_op
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
    fused = _fused_weights(x, t, weight, pos_weight)
    if fused is not None:            # one BinaryCrossEntropyWithLogitsBackward0 node
        return P.binary_cross_entropy_with_logits_p(x, t, reduction=reduction, **fused)
    log_sig = _logsigmoid(x)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1.0) * t + 1.0)
    loss = (1.0 - t) * x - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _fused_weights(x: Tensor, t: Tensor, weight: Any, pos_weight: Any) -> dict[str, Any] | None:
    """The weights as constants of the fused row, or None where the composite must run: a
    weight that needs a gradient, or one that broadcasts the loss past the input's shape."""
    out: dict[str, Any] = {}
    for key, v in (("weight", weight), ("pos_weight", pos_weight)):
        if v is None:
            continue
        v = _t(v, key)
        if v.requires_grad or np.broadcast_shapes(tuple(v.shape), tuple(x.shape)) != tuple(x.shape):
            return None
        out[key] = v._data
    return out


@autocast_op
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
                      "'batchmean' in the next major release.", stacklevel=user_stacklevel())
    if log_target:
        loss = A.exp(t) * (t - x)
    else:
        loss = _special.xlogy(t, t) - t * x           # PyTorch: 0 log 0 is 0; d/dt there is nan
    if reduction == "batchmean":
        return loss.sum() / x.shape[0] if x.ndim else loss.sum()
    return _reduce(loss, _reduction(None, None, reduction))


@autocast_op
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
    neg = A.where(t == -1, A.clamp_min(cos - margin, 0.0), 0.0)
    return _reduce(pos + neg, reduction)


@autocast_op
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``."""
    x1, x2, t = _t(input1, "input1"), _t(input2, "input2"), _t(target, "target")
    reduction = _reduction(size_average, reduce, reduction)
    if not (x1.ndim == x2.ndim == t.ndim):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but "
                           f"got sizes: input1: {x1.shape}, input2: {x2.shape}, target: {t.shape} ")
    return _reduce(A.clamp_min(-t * (x1 - x2) + margin, 0.0), reduction)


def safe_where(condition: Any, input: Any, other: Any) -> Tensor:
    """``where(condition, input, other)`` whose unselected branch cannot make the gradient nan.

    Same as ``gradkit.where(..., safe=True)``: ``safe_where(x > 0, sqrt(x), 0)`` has
    gradient 0 at negative ``x`` (PyTorch's ``where`` gives nan there).
    """
    return A.where(condition, input, other, safe=True)


# --- losses -----------------------------------------------------------------------------
@autocast_op
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


@autocast_op
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``x`` where ``target == 1``, ``max(0, margin - x)`` where ``target == -1``."""
    x, t = _t(input), _t(target, "target")
    reduction = F._reduction(size_average, reduce, reduction)
    neg = A.where(t != 1, A.clamp_min(margin - x, 0.0), 0.0)
    pos = A.where(t != -1, x, 0.0)
    return F._reduce(neg + pos, reduction)


@autocast_op
def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-target * input))``."""
    x, t = _t(input), _t(target, "target")
    reduction = F._reduction(size_average, reduce, reduction)
    if tuple(x.shape) != tuple(t.shape):
        raise ValueError(f"Using a target size ({t.shape}) that is different to the input size "
                         f"({x.shape}) is deprecated. Please ensure they have the same size.")
    if not (t.requires_grad and is_grad_enabled()):
        return P.soft_margin_loss_p(x, t, reduction=reduction)   # PyTorch's one node
    # NOTE: PyTorch refuses a target that requires grad; gradkit differentiates it (composed)
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


@autocast_op
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
        raise RuntimeError("target out of range")
    if weight is None or not _t(weight, "weight").requires_grad:
        where = _backend.placement_of(x0._data)       # the constants live beside the input
        w = None if weight is None else _backend.move(_t(weight, "weight")._data, where)
        return P.multi_margin_loss_p(x0, target=_backend.move(idx, where), p=p, margin=float(margin),
                                     weight=w, reduction=reduction)
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


@autocast_op
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
                raise RuntimeError("argument #2 'target' is out of range")
            row.append(int(v))
        is_target[s, row] = True
        for j in row:
            pair[s, j] += 1.0
    pair = pair * (~is_target)[:, None, :]
    if x0.is_floating_point():
        # one node, PyTorch's MultilabelMarginLossBackward0 (a row of the table)
        return P.multilabel_margin_loss_p(
            x0, pair=_backend.move(pair, _backend.placement_of(x0._data)), reduction=reduction)
    z = 1.0 - (A.unsqueeze(x, 2) - A.unsqueeze(x, 1))
    loss = (A.where(z > 0, z, 0.0) * _const(pair, x)).sum((1, 2)) / c
    if not batched and reduction == "none":
        loss = A.reshape(loss, ())
    return F._reduce(loss, reduction)


@autocast_op
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average: Any = None,
                        reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the ``pairwise_distance``."""
    reduction = F._reduction(size_average, reduce, reduction)
    a, pos, neg = _triplet_inputs(anchor, positive, negative, margin)
    d_pos = F.pairwise_distance(a, pos, p, eps)
    d_neg = F.pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = A.minimum(d_neg, F.pairwise_distance(pos, neg, p, eps))
    return F._reduce(A.clamp_min(d_pos - d_neg + margin, 0.0), reduction)


def _triplet_inputs(anchor: Any, positive: Any, negative: Any,
                    margin: float) -> tuple[Tensor, Tensor, Tensor]:
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pos, neg = _t(anchor, "anchor"), _t(positive, "positive"), _t(negative, "negative")
    if not a.ndim == pos.ndim == neg.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same "
                           f"number of dimensions, but got: anchor {a.ndim}D, positive {pos.ndim}D, and "
                           f"negative {neg.ndim}D inputs")
    return a, pos, neg


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Any = None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))``, ``d`` any ``distance_function`` (``pairwise_distance``)."""
    reduction = _reduction(None, None, reduction)
    a, pos, neg = _triplet_inputs(anchor, positive, negative, margin)
    dist = distance_function if distance_function is not None else F.pairwise_distance
    d_pos, d_neg = dist(a, pos), dist(a, neg)
    if swap:
        d_neg = A.minimum(d_neg, dist(pos, neg))
    return F._reduce(A.clamp_min(margin + d_pos - d_neg, 0.0), reduction)


# --- sequence losses --------------------------------------------------------------------
def _ctc_ints(x: Any) -> np.ndarray:
    data = _backend.to_numpy(x._data) if isinstance(x, Tensor) else x
    return np.asarray(data).astype(np.int64).reshape(-1)


def _ctc_check(ok: bool, msg: str) -> None:
    if not ok:
        raise RuntimeError(f"{msg} (while checking arguments for ctc_loss_allocate_outputs)")


@autocast_op
def ctc_loss(log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist Temporal Classification loss, PyTorch's ``F.ctc_loss``.

    ``log_probs`` is ``(T, N, C)`` (or unbatched ``(T, C)``) log-probabilities; ``targets`` is padded
    ``(N, S)`` or the ``N`` targets concatenated in 1-D; the lengths are tensors or sequences of ints.
    ``reduction='mean'`` divides each sample's loss by its target length (at least 1) before
    averaging. The gradient is PyTorch's (the one that is right for ``log_probs`` made by
    ``log_softmax``); a second derivative is refused, as in PyTorch.
    """
    reduction = _reduction(None, None, reduction)
    lp = _t(log_probs, "log_probs")
    batched = lp.ndim == 3
    if lp.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D or 3-D, but got {lp.ndim}-D")
    if not batched:
        lp = A.unsqueeze(lp, 1)
    t_max, n, c = lp.shape
    tg = np.asarray(_backend.to_numpy(targets._data) if isinstance(targets, Tensor) else targets)
    if not batched:
        tg = tg[None]
    tg = tg.astype(np.int64)
    il, tl = _ctc_ints(input_lengths), _ctc_ints(target_lengths)
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    if il.shape[0] != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.shape[0] != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    for b in range(n):
        _ctc_check(tl[b] >= 0, f"Expected target_lengths to have value at least 0, but got value {tl[b]}")
    if tg.ndim == 1:   # concatenated
        _ctc_check(tg.shape[0] == tl.sum(), f"Expected tensor to have size {tl.sum()} at dimension 0, but "
                   f"got size {tg.shape[0]} for argument #2 'targets'")
        padded = np.zeros((n, max(int(tl.max(initial=0)), 0)), np.int64)
        offsets = np.concatenate([[0], np.cumsum(tl)])
        for b in range(n):
            padded[b, :tl[b]] = tg[offsets[b]:offsets[b + 1]]
    else:
        for b in range(n):
            _ctc_check(tl[b] <= tg.shape[1], f"Expected tensor to have size at least {tl[b]} at "
                       f"dimension 1, but got size {tg.shape[1]} for argument #2 'targets'")
        padded = tg.reshape(n, -1)
    for b in range(n):
        _ctc_check(il[b] >= 0, f"Expected input_lengths to have value at least 0, but got value {il[b]}")
        _ctc_check(il[b] <= t_max, f"Expected input_lengths to have value at most {t_max}, but got value "
                   f"{il[b]}")
    used = np.arange(padded.shape[1])[None, :] < tl[:, None]
    if ((padded < 0) | (padded >= c))[used].any():
        raise IndexError(f"ctc_loss: target index out of range for {c} classes")
    if np.asarray(lp._data).dtype.kind not in "fV":
        name = str(lp.dtype).split(".")[-1].capitalize()
        raise RuntimeError(f"\"ctc_loss_cpu\" not implemented for '{name}'")
    where = _backend.placement_of(lp._data)
    loss = P.ctc_loss_p(lp, targets=_backend.move(padded, where), input_lengths=_backend.move(il, where),
                        target_lengths=_backend.move(tl, where), blank=int(blank),
                        zero_infinity=bool(zero_infinity))
    if zero_infinity:   # the row zeroes their gradients; their values become 0 here, as PyTorch's where
        loss = A.where(_make(np.isposinf(np.asarray(loss._data)), False, None), 0.0, loss)
    if reduction == "mean":
        return A.mean(loss / _const(np.maximum(tl, 1), loss))
    if reduction == "sum":
        return A.sum(loss)
    return loss if batched else A.squeeze(loss, 0)


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options: Any = None) -> Tensor:
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)`` (PyTorch 2.13's
    checks and messages); a ``(C, d_1, ..., d_K, in_features)`` weight gives K-dimensional
    logits ``(N, C, d_1, ..., d_K)``.

    NOTE: ``options`` (a ``LinearCrossEntropyOptions``) selects PyTorch's chunked kernel, which
    saves memory and rounds differently; gradkit always computes the reference formula, and warns
    as PyTorch does where PyTorch would ignore ``options`` too.
    """
    x, w = _t(input), _t(linear_weight, "linear_weight")
    tgt = _t(target, "target")
    if x.dim() < 1 or x.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {x.dim()}")
    if w.dim() < 2:
        raise RuntimeError(
            f"expected linear_weight with dimensionality at least 2, got {w.dim()}")
    batches = tuple(x.shape[:-1])
    in_features = x.shape[-1]
    if in_features != w.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {x.shape[-1]} and {w.shape[-1]}, respectively")
    num_classes = w.shape[0]
    out_features = tuple(w.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError("expected linear_bias shape "
                           f"{(num_classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if out_features and not batches:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(w.shape)} requires"
            f" batched input, (N, {in_features}), got unbatched input with shape {tuple(x.shape)}")
    logits_shape = (*batches, num_classes, *out_features)
    if tuple(tgt.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None and (out_features or reduction not in {"mean", "sum", "none"}
                                or label_smoothing != 0.0 or tgt.dtype != A.int64):
        bias_shape = tuple(linear_bias.shape) if linear_bias is not None else None
        warnings.warn(
            "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
            "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, "
            f"out_features == (). Got reduction={reduction!r}, label_smoothing={label_smoothing}, "
            f"target.dtype={tgt.dtype}, out_features={out_features}, tracing=False, "
            f"linear_bias.shape={bias_shape}.", stacklevel=2)
    if out_features:
        flat = math.prod(out_features, start=num_classes)
        w = A.reshape(w, (flat, in_features))
        if linear_bias is not None:
            linear_bias = A.reshape(linear_bias, (flat,))
    logits = A.reshape(F.linear(x, w, linear_bias), logits_shape)
    return F.cross_entropy(logits, target, weight=weight, reduction=reduction,
                           ignore_index=ignore_index, label_smoothing=label_smoothing)
