"""Normalization functions of gradkit.nn.functional."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gradkit import _api as A
from gradkit._core.grad_mode import no_grad
from gradkit._core.tensor import Tensor
from gradkit.nn import functional as F
from gradkit._core import backend as _backend
from gradkit.ops import nn as P
from gradkit.ops._registry import apply
from ._base import _const, _t

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm", "rms_norm"]


# --- normalization ----------------------------------------------------------------------
def _native(x: Tensor, weight: Any, bias: Any, kind: str, n: int, eps: float,
            stats: Any = None) -> Tensor:
    """One NativeLayerNorm/BatchNorm/GroupNormBackward0 node (the ``native_norm`` row); constant
    ones and zeros stand for a missing weight and bias."""
    shape = tuple(x.shape[x.ndim - n:]) if kind == "layer" else (x.shape[1],)
    dt = x._data.dtype
    w = _t(weight, "weight") if weight is not None else _const(np.ones(shape, dt), x)
    b = _t(bias, "bias") if bias is not None else _const(np.zeros(shape, dt), x)
    params = {"kind": kind, "n": n, "eps": float(eps)}
    if stats is not None:
        params["stats"] = stats
    return apply(P.native_norm_p.prim, (x, w, b), params, P.NORM_VARIANT[kind])


def _fusable(x: Tensor, *vs: Any) -> bool:
    """The fused row takes floating tensors whose weight and bias have the affine's shape."""
    return x._data.dtype.kind in "fV" and x.ndim >= 2 and not _backend.is_lazy(x._data) and all(
        v is None or isinstance(v, Tensor) for v in vs)


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
        fused = _fusable(x, weight, bias)
        if fused:
            with no_grad():
                _, mean, var = _normalize_over(x.detach(), dims, eps)
            out = _native(x, weight, bias, "batch", 0, eps)
        else:
            out, mean, var = _normalize_over(x, dims, eps)
        with no_grad():
            m = 0.0 if momentum is None else momentum
            if running_mean is not None:
                running_mean.mul_(1.0 - m).add_(A.reshape(mean.detach(), (-1,)) * m)
            if running_var is not None:
                running_var.mul_(1.0 - m).add_(A.reshape(var.detach(), (-1,)) * (m * n / (n - 1)))
        if fused:
            return out
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        rm, rv = _t(running_mean, "running_mean"), _t(running_var, "running_var")
        if _fusable(x, weight, bias) and not (rm.requires_grad or rv.requires_grad):
            stats = (_const(np.reshape(rm._data, shape), x)._data,
                     _const(np.reshape(rv._data, shape), x)._data)
            return _native(x, weight, bias, "eval", 0, eps, stats)
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
    if _fusable(x, weight, bias) and len(ns) >= 1:
        return _native(x, weight, bias, "layer", len(ns), eps)
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
    if _fusable(x, weight, bias):
        return _native(x, weight, bias, "group", num_groups, eps)
    g = A.reshape(x, (n, num_groups, -1))
    out, _, _ = _normalize_over(g, (2,), eps)
    out = A.reshape(out, tuple(x.shape))
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * A.reshape(weight, shape)
    if bias is not None:
        out = out + A.reshape(bias, shape)
    return out


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
        if _fusable(x, weight, bias):
            # PyTorch's graph: a view over one NativeBatchNormBackward0 of the (1, N C, ...)
            # view, the weight and bias repeated per sample
            n = x.shape[0]
            xr = A.reshape(x, (1, n * c) + tuple(x.shape[2:]))
            w = None if weight is None else A.repeat(_t(weight, "weight"), n)
            b = None if bias is None else A.repeat(_t(bias, "bias"), n)
            out = A.reshape(_native(xr, w, b, "batch", 0, eps), tuple(x.shape))
            d = x._data
            stats = [(running_mean, lambda: d.mean(dims)),
                     (running_var, lambda: d.var(dims, ddof=1 if spatial > 1 else 0))]
            for buf, stat in stats:
                if buf is not None:
                    bd = buf._data
                    bd *= 1.0 - momentum
                    bd += momentum * np.asarray(stat()).reshape(n, c).mean(0)
                    buf._vc[0] += 1
            return out
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


# --- normalization ----------------------------------------------------------------------
def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x ** 2 over the last dims) + eps) * weight``; ``eps`` defaults to the dtype's."""
    x = _t(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(x.shape[x.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in shape)}], but got input of size{list(x.shape)}")
    if eps is None:
        eps = float(np.finfo(x._data.dtype).eps)
    dims = tuple(range(x.ndim - k, x.ndim))
    out = x * A.rsqrt(A.mean(x * x, dims, keepdim=True) + eps)
    return out if weight is None else out * weight
