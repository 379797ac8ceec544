"""Neural-network primitives: softmax family, convolution, pooling, and the kinked activations.

Every other ``gradkit.nn.functional`` operation is composed from the rows of
the other families. These are fused for a reason, given beside each row:
stability (``log_softmax``), speed (convolution by im2col and one BLAS
``matmul``; max pooling by one ``argmax`` over strided windows), or PyTorch's
derivative at a kink that no composition reproduces (``hardtanh``,
``hardswish``, ``binary_cross_entropy``).

The three convolution rows close under differentiation: the input gradient
of ``conv2d`` is ``conv2d_input_grad`` (a transposed convolution), its weight
gradient is ``conv2d_weight_grad``, and the rules of those two are written
with the three rows again, so every order of derivative works.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._registry import ELEMENTWISE, LINEAR, defop
from .elementwise import clamp_scalar, exp, log, log1p, maximum, where
from .reduction import sum_p
from .shape import reshape_as, scatter_add_p

Pair = tuple[int, int]
Pad2 = tuple[Pair, Pair]


# --- softmax family (fused for stability) -------------------------------------------------
def _shifted(x: np.ndarray, dim: int) -> np.ndarray:
    """``x`` minus its max along ``dim`` (a non-finite max shifts by 0), so exp cannot overflow."""
    m = np.amax(x, axis=dim, keepdims=True, initial=-np.inf)
    return x - np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)


def _log_softmax_impl(x: np.ndarray, dim: int) -> np.ndarray:
    if x.ndim == 0:
        return np.zeros_like(x)
    s = _shifted(x, dim)
    with np.errstate(divide="ignore"):
        return s - np.log(np.sum(np.exp(s), axis=dim, keepdims=True))


def _softmax_impl(x: np.ndarray, dim: int) -> np.ndarray:
    if x.ndim == 0:
        return np.ones_like(x)
    e = np.exp(_shifted(x, dim))
    return e / np.sum(e, axis=dim, keepdims=True)


def _sum_keep(a: Any, dim: int) -> Any:
    return sum_p(a, dim=(dim,), keepdim=True)


# NOTE: fused (stability): log_softmax = x - logsumexp(x) with the max subtracted first, so
# logits of 1e4 give finite values and gradients.
log_softmax_p = defop(
    "log_softmax", _log_softmax_impl,
    vjp=lambda g, ans, x, dim: g - exp(ans) * _sum_keep(g, dim),
    jvp=(lambda t, ans, x, dim: t - _sum_keep(exp(ans) * t, dim),),
    save_inputs=False, save_ans=True, names="LogSoftmaxBackward0")
# NOTE: fused (stability and speed): one node instead of exp / sum / div.
softmax_p = defop(
    "softmax", _softmax_impl,
    vjp=lambda g, ans, x, dim: ans * (g - _sum_keep(g * ans, dim)),
    jvp=(lambda t, ans, x, dim: ans * (t - _sum_keep(ans * t, dim)),),
    save_inputs=False, save_ans=True, names="SoftmaxBackward0")


# --- activations with PyTorch's derivative at their kinks ---------------------------------
def _hardtanh_impl(x: np.ndarray, min_val: float, max_val: float) -> np.ndarray:
    return np.clip(x, np.asarray(min_val, x.dtype), np.asarray(max_val, x.dtype))


# NOTE: the gradient is 0 at the bounds themselves (PyTorch's hardtanh_backward), unlike clamp's 1.
hardtanh_p = defop(
    "hardtanh", _hardtanh_impl,
    vjp=lambda g, ans, x, min_val, max_val: where((x > min_val) & (x < max_val), g, 0.0),
    jvp=ELEMENTWISE, names="HardtanhBackward0")


def _hardswish_impl(x: np.ndarray) -> np.ndarray:
    return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _hardswish_vjp(g: Any, ans: Any, x: Any) -> Any:
    # NOTE: PyTorch's one-sided derivative: 0 below -3, x/3 + 1/2 on [-3, 3] (so -1/2 at -3 and
    # 3/2 at 3), 1 above.
    return where(x < -3.0, 0.0, where(x <= 3.0, g * (x / 3.0 + 0.5), g))


hardswish_p = defop("hardswish", _hardswish_impl, vjp=_hardswish_vjp, jvp=ELEMENTWISE,
                    names="HardswishBackward0")


# --- binary cross-entropy (PyTorch's clamped logs and guarded gradient) --------------------
def _bce_impl(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    if np.any((x < 0) | (x > 1)):
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide="ignore"):
        lo = np.asarray(-100.0, dtype=np.result_type(x, t))
        return (t - 1.0) * np.maximum(np.log1p(-x), lo) - t * np.maximum(np.log(x), lo)


def _bce_vjp_x(g: Any, ans: Any, x: Any, t: Any) -> Any:
    # NOTE: PyTorch divides by max(x (1 - x), 1e-12), so x = 0 or 1 gives a large finite gradient.
    return g * (x - t) / maximum(x * (1.0 - x), 1e-12)


def _bce_vjp_t(g: Any, ans: Any, x: Any, t: Any) -> Any:
    return g * (clamp_scalar(log1p(-x), min=-100.0) - clamp_scalar(log(x), min=-100.0))


binary_cross_entropy_p = defop("binary_cross_entropy", _bce_impl, vjp=(_bce_vjp_x, _bce_vjp_t),
                               jvp=ELEMENTWISE, promote="float",
                               names="BinaryCrossEntropyBackward0")


# --- convolution: im2col + BLAS matmul (fused for speed) ------------------------------------
def conv_out(size: int, k: int, s: int, p0: int, p1: int, d: int) -> int:
    """Output length of a convolution or pooling window sweep."""
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def _pad_hw(x: np.ndarray, padding: Pad2) -> np.ndarray:
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=x.dtype)
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def _im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pad2, dilation: Pair,
            groups: int) -> np.ndarray:
    """Windows of ``x`` as columns, shape (N, groups, C/groups * kh * kw, Ho * Wo)."""
    kh, kw = kernel
    xp = _pad_hw(x, padding)
    n, c, hp, wp = xp.shape
    ho = (hp - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wp - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    s_n, s_c, s_h, s_w = xp.strides
    win = as_strided(xp, (n, c, kh, kw, ho, wo),
                     (s_n, s_c, s_h * dilation[0], s_w * dilation[1], s_h * stride[0], s_w * stride[1]),
                     writeable=False)
    return np.ascontiguousarray(win).reshape(n, groups, (c // groups) * kh * kw, ho * wo)


def _conv2d_impl(x: np.ndarray, w: np.ndarray, stride: Pair, padding: Pad2, dilation: Pair,
                 groups: int) -> np.ndarray:
    n = x.shape[0]
    o, _, kh, kw = w.shape
    ho = conv_out(x.shape[2], kh, stride[0], *padding[0], dilation[0])
    wo = conv_out(x.shape[3], kw, stride[1], *padding[1], dilation[1])
    cols = _im2col(x, (kh, kw), stride, padding, dilation, groups)
    out = np.matmul(w.reshape(groups, o // groups, -1), cols)       # (N, G, O/G, Ho*Wo)
    return out.reshape(n, o, ho, wo)


def _conv2d_input_grad_impl(g: np.ndarray, w: np.ndarray, input_shape: tuple[int, ...],
                            stride: Pair, padding: Pad2, dilation: Pair, groups: int) -> np.ndarray:
    n, o, ho, wo = g.shape
    _, cg, kh, kw = w.shape
    _, c, h, wd = input_shape
    wm = w.reshape(groups, o // groups, cg * kh * kw)
    cols = np.matmul(wm.transpose(0, 2, 1), g.reshape(n, groups, o // groups, ho * wo))
    cols = cols.reshape(n, c, kh, kw, ho, wo)
    (pt, pb), (pl, pr) = padding
    out = np.zeros((n, c, h + pt + pb, wd + pl + pr), dtype=cols.dtype)
    sh, sw = stride
    dh, dw = dilation
    # col2im: one strided add per kernel tap (kh * kw of them), never a loop over pixels
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh,
                j * dw:j * dw + sw * (wo - 1) + 1:sw] += cols[:, :, i, j]
    if pt or pb or pl or pr:
        out = np.ascontiguousarray(out[:, :, pt:pt + h, pl:pl + wd])
    return out


def _conv2d_weight_grad_impl(x: np.ndarray, g: np.ndarray, weight_shape: tuple[int, ...],
                             stride: Pair, padding: Pad2, dilation: Pair, groups: int) -> np.ndarray:
    o, cg, kh, kw = weight_shape
    n, _, ho, wo = g.shape
    cols = _im2col(x, (kh, kw), stride, padding, dilation, groups)   # (N, G, K, L)
    og = o // groups
    # one GEMM per group over all of N * Ho * Wo
    gm = g.reshape(n, groups, og, ho * wo).transpose(1, 2, 0, 3).reshape(groups, og, n * ho * wo)
    cm = cols.transpose(1, 0, 3, 2).reshape(groups, n * ho * wo, cols.shape[2])
    return np.matmul(gm, cm).reshape(weight_shape)


def _conv2d_vjp_x(g: Any, ans: Any, x: Any, w: Any, **p: Any) -> Any:
    return conv2d_input_grad_p(g, w, input_shape=tuple(x.shape), **p)


def _conv2d_vjp_w(g: Any, ans: Any, x: Any, w: Any, **p: Any) -> Any:
    return conv2d_weight_grad_p(x, g, weight_shape=tuple(w.shape), **p)


conv2d_p = defop("conv2d", _conv2d_impl, vjp=(_conv2d_vjp_x, _conv2d_vjp_w), jvp=LINEAR,
                 promote="same", names="ConvolutionBackward0")

# The transposed convolution: linear in g and in w. <T_w(g), z> = <g, conv_w(z)>.
conv2d_input_grad_p = defop(
    "conv2d_input_grad", _conv2d_input_grad_impl,
    vjp=(lambda gg, ans, g, w, input_shape, **p: conv2d_p(gg, w, **p),
         lambda gg, ans, g, w, input_shape, **p:
             conv2d_weight_grad_p(gg, g, weight_shape=tuple(w.shape), **p)),
    jvp=LINEAR, promote="same", names=("ConvolutionBackwardBackward0", "ConvolutionBackward0"))

# The weight gradient: bilinear in x and g. <W(x, g), v> = <conv_v(x), g>.
conv2d_weight_grad_p = defop(
    "conv2d_weight_grad", _conv2d_weight_grad_impl,
    vjp=(lambda gw, ans, x, g, weight_shape, **p:
             conv2d_input_grad_p(g, gw, input_shape=tuple(x.shape), **p),
         lambda gw, ans, x, g, weight_shape, **p: conv2d_p(x, gw, **p)),
    jvp=LINEAR, promote="same", names="ConvolutionBackwardBackward0")


# --- max pooling (fused for speed: one argmax over strided windows) -------------------------
def _max_pool2d_impl(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pad2,
                     dilation: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Window maxima and their flat positions in each (H, W) plane, as PyTorch returns them."""
    n, c, h, w = x.shape
    kh, kw = kernel
    (pt, pb), (pl, pr) = padding
    if pt or pb or pl or pr:
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp = np.full((n, c, h + pt + pb, w + pl + pr), fill, dtype=x.dtype)
        xp[:, :, pt:pt + h, pl:pl + w] = x
    else:
        xp = x
    ho = conv_out(h, kh, stride[0], pt, pb, dilation[0])
    wo = conv_out(w, kw, stride[1], pl, pr, dilation[1])
    nan = x.dtype.kind == "f" and bool(np.isnan(x).any())
    best = arg = None
    # one vectorized pass per kernel tap (kh * kw of them), never a loop over pixels
    for i in range(kh):
        for j in range(kw):
            r, q = i * dilation[0], j * dilation[1]
            v = xp[:, :, r:r + stride[0] * (ho - 1) + 1:stride[0], q:q + stride[1] * (wo - 1) + 1:stride[1]]
            if best is None:
                best, arg = v.copy(), np.zeros(v.shape, np.int64)
                continue
            # NOTE: the first maximum of a window wins a tie, and nan wins over numbers (PyTorch's CPU).
            take = v > best
            if nan:
                take |= np.isnan(v) & ~np.isnan(best)
            np.copyto(best, v, where=take)
            np.copyto(arg, i * kw + j, where=take)
    rows = np.arange(ho)[:, None] * stride[0] - pt + (arg // kw) * dilation[0]
    cols = np.arange(wo) * stride[1] - pl + (arg % kw) * dilation[1]
    return best, rows * w + cols


def _max_pool2d_vjp(g: Any, ans: Any, x: Any, kernel: Pair, stride: Pair, padding: Pad2,
                    dilation: Pair) -> Any:
    # NOTE: the whole gradient goes to the position of each window's maximum; overlapping
    # windows add up. scatter_add's own rule (a gather) gives the second derivative.
    gv, idx = g[0], ans[1]
    idx = idx._data if hasattr(idx, "_data") else idx
    n, c, h, w = x.shape
    flat = idx.reshape(n, c, -1)
    zeros = np.zeros((n, c, h * w), dtype=x._data.dtype if hasattr(x, "_data") else x.dtype)
    if hasattr(gv, "_data"):
        from .._tensor import _make
        zeros = _make(zeros, False, None)
    out = scatter_add_p(zeros, reshape_as(gv, (n, c, flat.shape[2])), dim=2, index=flat)
    return reshape_as(out, (n, c, h, w))


max_pool2d_p = defop("max_pool2d", _max_pool2d_impl, vjp=_max_pool2d_vjp, n_out=2,
                     names="MaxPool2DWithIndicesBackward0")
