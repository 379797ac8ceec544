"""Neural-network primitives: softmax family, convolution, pooling, and the kinked activations.

Every other ``gradkit.nn.functional`` operation is composed from the rows of
the other families. These are fused for a reason, given beside each row:
stability (``log_softmax``), speed (convolution by im2col and one BLAS
``matmul``; max pooling by a few vectorized passes over strided windows), or PyTorch's
derivative at a kink that no composition reproduces (``hardtanh``,
``binary_cross_entropy``); ``hardswish`` is one node instead of four.

The three convolution rows close under differentiation: the input gradient
of ``conv2d`` is ``conv2d_input_grad`` (a transposed convolution), its weight
gradient is ``conv2d_weight_grad``, and the rules of those two are written
with the three rows again, so every order of derivative works.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gradkit._core.backend import (arange, backend_of, data_of, index_like, max_or_ninf, move,
                                   placement_of, to_numpy, values_unknown, zeros)
from gradkit._core.tensor import Tensor, _make
from ._registry import ELEMENTWISE, LINEAR, bf16_rules, defop, half_in_float32, not_lazy, round_bf16
from .elementwise import abs as abs_
from .elementwise import clamp_scalar, erf, grad_link, rsqrt, exp, log, log1p, maximum, sigmoid, sign, tanh
from .elementwise import where
from .reduction import mean_p, sum_p
from .shape import (cat_p, constant_pad_nd_p, gather_p, getitem_p, index_backward_p, permute_p,
                    reshape_as, stack_p)

Pair = tuple[int, int]
Pad2 = tuple[Pair, Pair]


# --- softmax family (fused for stability) -------------------------------------------------
def _shifted(x: np.ndarray, dim: int) -> np.ndarray:
    """``x`` minus its max along ``dim``, so exp cannot overflow.

    NOTE: a slice holding +inf or nan, or only -inf, becomes nan throughout (inf - inf), as in
    PyTorch: softmax([inf, 1]) is [nan, nan], not [nan, 0].
    """
    with np.errstate(invalid="ignore"):
        return x - max_or_ninf(x, dim)


def _log_softmax_impl(x: np.ndarray, dim: int) -> np.ndarray:
    if x.ndim == 0:
        return np.zeros_like(x)
    if x.dtype == np.float16:          # in float32, with the half kernel's two roundings
        return _log_softmax_reduced(x.astype(np.float32), dim, _round_half).astype(np.float16)
    s = _shifted(x, dim)
    with np.errstate(divide="ignore"):
        return s - np.log(np.sum(np.exp(s), axis=dim, keepdims=True))


def _softmax_impl(x: np.ndarray, dim: int) -> np.ndarray:
    if x.ndim == 0:
        return np.ones_like(x)
    if x.dtype == np.float16:          # in float32, with the half kernel's rounding
        return _softmax_reduced(x.astype(np.float32), dim, _round_half).astype(np.float16)
    e = np.exp(_shifted(x, dim))
    return e / np.sum(e, axis=dim, keepdims=True)


def _round_half(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.float32).astype(np.float16).astype(np.float32)


def _log_softmax_reduced(x: np.ndarray, dim: int, keep: Any) -> np.ndarray:
    """PyTorch's CPU log_softmax on a reduced float (float16, bfloat16), on its float32 values:
    over the last dim the kernel keeps the sum of exponentials and its log in the reduced type
    (``keep`` rounds to it): ``(x - max) - keep(log(keep(sum)))``; over another dim all is
    float32 (checked against PyTorch 2.13 on random inputs)."""
    s = _shifted(x, dim)
    with np.errstate(divide="ignore"):
        if dim % x.ndim != x.ndim - 1:
            return s - np.log(np.sum(np.exp(s), axis=dim, keepdims=True))
        return s - keep(np.log(keep(np.sum(np.exp(s), axis=dim, keepdims=True))))


def _softmax_reduced(x: np.ndarray, dim: int, keep: Any) -> np.ndarray:
    """PyTorch's CPU softmax on a reduced float, on its float32 values: over a dim other than
    the last the kernel keeps the exponentials in the reduced type before dividing by their
    (float32) sum; over the last dim all is float32. (Over a non-last dim with 63 or more
    columns behind it PyTorch switches kernels, and its result differs from this in the last
    bit for some elements.)"""
    e = np.exp(_shifted(x, dim))
    if dim % x.ndim == x.ndim - 1:
        return e / np.sum(e, axis=dim, keepdims=True)
    return keep(e) / np.sum(e, axis=dim, keepdims=True)


def _sum_keep(a: Any, dim: int) -> Any:
    return sum_p(a, dim=(dim,), keepdim=True)


# NOTE: fused (stability): log_softmax = x - logsumexp(x) with the max subtracted first, so
# logits of 1e4 give finite values and gradients.
log_softmax_p = defop(
    "log_softmax", _log_softmax_impl,
    vjp=lambda g, ans, x, dim: g - exp(ans) * _sum_keep(g, dim),
    jvp=(lambda t, ans, x, dim: t - _sum_keep(exp(ans) * t, dim),),
    save_inputs=False, save_ans=True, names="LogSoftmaxBackward0", batch="int_dim")


def _softmax_vjp(g: Any, ans: Any, x: Any, dim: int) -> Any:
    return ans * (g - _sum_keep(g * ans, dim))


def _softmax_jvp(t: Any, ans: Any, x: Any, dim: int) -> Any:
    return ans * (t - _sum_keep(ans * t, dim))


def _log_softmax_bf16(x: np.ndarray, dim: int) -> np.ndarray:
    """On bfloat16: ``_log_softmax_reduced`` with bfloat16 roundings."""
    if x.ndim == 0:
        return _log_softmax_impl(x, dim)
    return _log_softmax_reduced(x, dim, round_bf16)


bf16_rules(log_softmax_p, fwd=_log_softmax_bf16)


def _softmax_bf16(x: np.ndarray, dim: int) -> np.ndarray:
    """On bfloat16: ``_softmax_reduced`` with bfloat16 roundings."""
    if x.ndim == 0:
        return _softmax_impl(x, dim)
    return _softmax_reduced(x, dim, round_bf16)


# NOTE: fused (stability and speed): one node instead of exp / sum / div.
softmax_p = defop(
    "softmax", _softmax_impl, vjp=_softmax_vjp, jvp=(_softmax_jvp,),
    save_inputs=False, save_ans=True, names="SoftmaxBackward0", batch="int_dim")
bf16_rules(softmax_p, fwd=_softmax_bf16)


def _safe_softmax_impl(x: np.ndarray, dim: int) -> np.ndarray:
    out = _softmax_impl(x, dim)
    if x.ndim == 0:
        return out
    dead = np.all(x == -np.inf, axis=dim, keepdims=True)
    if type(x) is np.ndarray and not dead.any():
        return out
    return np.where(dead, x.dtype.type(0), out)


# PyTorch's ``_safe_softmax`` (its attention's math path): a row that is -inf throughout (every key
# masked) gives 0, not nan. Softmax's rules hold as they are: they are 0 on a row of 0.
safe_softmax_p = defop(
    "safe_softmax", _safe_softmax_impl, vjp=_softmax_vjp, jvp=(_softmax_jvp,),
    save_inputs=False, save_ans=True, names="SafeSoftmaxBackward0", batch="int_dim")


# --- activations with PyTorch's derivative at their kinks ---------------------------------
def _hardtanh_impl(x: np.ndarray, min_val: float, max_val: float) -> np.ndarray:
    return np.clip(x, x.dtype.type(min_val), x.dtype.type(max_val))


# NOTE: the gradient is 0 at the bounds themselves (PyTorch's hardtanh_backward), unlike clamp's 1.
hardtanh_p = defop(
    "hardtanh", _hardtanh_impl,
    vjp=lambda g, ans, x, min_val, max_val: grad_link(where((x > min_val) & (x < max_val), g, 0.0), x),
    jvp=ELEMENTWISE, names="HardtanhBackward0")


@half_in_float32
def _hardswish_impl(x: np.ndarray) -> np.ndarray:
    return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _hardswish_vjp(g: Any, ans: Any, x: Any) -> Any:
    # NOTE: PyTorch's derivative: 0 up to -3 (included), x/3 + 1/2 inside, 1 from 3 on.
    return where(x <= -3.0, 0.0, where(x < 3.0, g * (x / 3.0 + 0.5), g))


# NOTE: fused for speed: one node instead of add / hardtanh / mul / div.
hardswish_p = defop("hardswish", _hardswish_impl, vjp=_hardswish_vjp, jvp=ELEMENTWISE,
                    names="HardswishBackward0")


# --- binary cross-entropy (PyTorch's clamped logs and guarded gradient) --------------------
def _bce_impl(x: np.ndarray, t: np.ndarray, reduction: str = "none", weight: Any = None) -> np.ndarray:
    # NOTE: the range checks need the values; on a lazy (Dask) array they would force a
    # compute, so they are skipped there (and on a meta array, which has no values).
    if not values_unknown(x) and np.any((x < 0) | (x > 1)):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if not values_unknown(t) and np.any((t < 0) | (t > 1)):
        raise RuntimeError("all elements of target should be between 0 and 1")
    with np.errstate(divide="ignore"):
        lo = np.result_type(x.dtype, t.dtype).type(-100.0)
        loss = (t - 1.0) * np.maximum(np.log1p(-x), lo) - t * np.maximum(np.log(x), lo)
    if weight is not None:
        loss = loss * weight
    return _red(loss, reduction)


def _weighted_d(d: Any, weight: Any) -> Any:
    return d if weight is None else d * _as_operand(weight, d)


def _bce_dx(x: Any, t: Any, weight: Any = None) -> Any:
    # NOTE: PyTorch divides by max(x (1 - x), 1e-12), so x = 0 or 1 gives a large finite gradient.
    return _weighted_d((x - t) / maximum(x * (1.0 - x), 1e-12), weight)


def _bce_dt(x: Any, t: Any, weight: Any = None) -> Any:
    return _weighted_d(clamp_scalar(log1p(-x), min=-100.0) - clamp_scalar(log(x), min=-100.0), weight)


# ``reduction`` (default 'none') sums or averages inside the node and a constant ``weight``
# multiplies the loss there, as PyTorch's
binary_cross_entropy_p = defop(
    "binary_cross_entropy", _bce_impl,
    vjp=(lambda g, ans, x, t, reduction="none", weight=None:
         _red_g(g, x, reduction) * _bce_dx(x, t, weight),
         lambda g, ans, x, t, reduction="none", weight=None:
         _red_g(g, x, reduction) * _bce_dt(x, t, weight)),
    jvp=(lambda dx, ans, x, t, reduction="none", weight=None: _red(dx * _bce_dx(x, t, weight), reduction),
         lambda dt, ans, x, t, reduction="none", weight=None: _red(dt * _bce_dt(x, t, weight), reduction)),
    promote="float", names="BinaryCrossEntropyBackward0", batch="loss")


# --- convolution: im2col + BLAS matmul (fused for speed) ------------------------------------
def conv_out(size: int, k: int, s: int, p0: int, p1: int, d: int) -> int:
    """Output length of a convolution or pooling window sweep."""
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def _pad_hw(x: np.ndarray, padding: Pad2) -> np.ndarray:
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = zeros((n, c, h + pt + pb, w + pl + pr), x.dtype, x)
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
    if type(xp) is np.ndarray:
        s_n, s_c, s_h, s_w = xp.strides
        win = as_strided(xp, (n, c, kh, kw, ho, wo),
                         (s_n, s_c, s_h * dilation[0], s_w * dilation[1], s_h * stride[0],
                          s_w * stride[1]), writeable=False)
    else:
        # NOTE: other array libraries (CuPy) get the same windows through NumPy's dispatched
        # sliding_window_view, thinned by stride and dilation
        dh, dw = dilation
        win = np.lib.stride_tricks.sliding_window_view(
            xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
        win = win[:, :, :stride[0] * (ho - 1) + 1:stride[0], :stride[1] * (wo - 1) + 1:stride[1],
                  ::dh, ::dw]
        win = np.transpose(win, (0, 1, 4, 5, 2, 3))
        return win.reshape(n, groups, (c // groups) * kh * kw, ho * wo)
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
    out = zeros((n, c, h + pt + pb, wd + pl + pr), cols.dtype, cols)
    sh, sw = stride
    dh, dw = dilation
    # col2im: one strided add per kernel tap (kh * kw of them), never a loop over pixels
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh,
                j * dw:j * dw + sw * (wo - 1) + 1:sw] += cols[:, :, i, j]
    if pt or pb or pl or pr:
        out = out[:, :, pt:pt + h, pl:pl + wd]
        out = np.ascontiguousarray(out) if type(out) is np.ndarray else out.copy()
    return out


def _conv2d_weight_grad_impl(x: np.ndarray, g: np.ndarray, weight_shape: tuple[int, ...],
                             stride: Pair, padding: Pad2, dilation: Pair, groups: int) -> np.ndarray:
    o, cg, kh, kw = weight_shape
    n, _, ho, wo = g.shape
    cols = _im2col(x, (kh, kw), stride, padding, dilation, groups)   # (N, G, K, L)
    gm = g.reshape(n, groups, o // groups, ho * wo)
    # one GEMM per sample and group against the transposed columns (BLAS reads them in place)
    return np.matmul(gm, cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(weight_shape)


def _conv2d_vjp_x(g: Any, ans: Any, x: Any, w: Any, **p: Any) -> Any:
    return conv2d_input_grad_p(g, w, input_shape=tuple(x.shape), **p)


def _conv2d_vjp_w(g: Any, ans: Any, x: Any, w: Any, **p: Any) -> Any:
    return conv2d_weight_grad_p(x, g, weight_shape=tuple(w.shape), **p)


# NOTE: the three rows are bilinear, so each input's tangent goes through the op with the
# other input held (jvp per input), not LINEAR's joint substitution.
conv2d_p = defop("conv2d", _conv2d_impl, vjp=(_conv2d_vjp_x, _conv2d_vjp_w),
                 jvp=(lambda t, ans, x, w, **p: conv2d_p(t, w, **p),
                      lambda t, ans, x, w, **p: conv2d_p(x, t, **p)),
                 promote="same", names="ConvolutionBackward0")

# The transposed convolution: linear in g and in w. <T_w(g), z> = <g, conv_w(z)>.
conv2d_input_grad_p = defop(
    "conv2d_input_grad", _conv2d_input_grad_impl,
    vjp=(lambda gg, ans, g, w, input_shape, **p: conv2d_p(gg, w, **p),
         lambda gg, ans, g, w, input_shape, **p:
             conv2d_weight_grad_p(gg, g, weight_shape=tuple(w.shape), **p)),
    jvp=(lambda t, ans, g, w, input_shape, **p: conv2d_input_grad_p(t, w, input_shape=input_shape, **p),
         lambda t, ans, g, w, input_shape, **p: conv2d_input_grad_p(g, t, input_shape=input_shape, **p)),
    promote="same", names=("ConvolutionBackwardBackward0", "ConvolutionBackward0"))

# The weight gradient: bilinear in x and g. <W(x, g), v> = <conv_v(x), g>.
conv2d_weight_grad_p = defop(
    "conv2d_weight_grad", _conv2d_weight_grad_impl,
    vjp=(lambda gw, ans, x, g, weight_shape, **p:
             conv2d_input_grad_p(g, gw, input_shape=tuple(x.shape), **p),
         lambda gw, ans, x, g, weight_shape, **p: conv2d_p(x, gw, **p)),
    jvp=(lambda t, ans, x, g, weight_shape, **p: conv2d_weight_grad_p(t, g, weight_shape=weight_shape, **p),
         lambda t, ans, x, g, weight_shape, **p: conv2d_weight_grad_p(x, t, weight_shape=weight_shape, **p)),
    promote="same", names="ConvolutionBackwardBackward0")


# --- convolution with its bias, as one node (PyTorch's ConvolutionBackward0) ---------------
# NOTE: fused for PyTorch's node: F.conv1d/conv2d record one node over (input, weight, bias)
# (a missing bias is a constant zero, so the node's next_functions hold None there, as
# PyTorch's). A 1-D convolution runs as a 2-D one over a height of 1 inside the row. The
# rules are the conv2d rows, so every order of derivative works.
def _as2d(a: Any, nd: int) -> Any:
    return reshape_as(a, tuple(a.shape[:2]) + (1,) + tuple(a.shape[2:])) if nd == 1 else a


def _as1d(a: Any, nd: int) -> Any:
    return reshape_as(a, tuple(a.shape[:2]) + tuple(a.shape[3:])) if nd == 1 else a


def _convolution_impl(x: np.ndarray, w: np.ndarray, b: np.ndarray, nd: int, **p: Any) -> np.ndarray:
    out = _conv2d_impl(_as2d(x, nd), _as2d(w, nd), **p)
    return _as1d(out + b.reshape(1, -1, 1, 1), nd)


def _convolution_vjp_x(g: Any, ans: Any, x: Any, w: Any, b: Any, nd: int, **p: Any) -> Any:
    x2 = tuple(x.shape[:2]) + (1,) + tuple(x.shape[2:]) if nd == 1 else tuple(x.shape)
    return _as1d(conv2d_input_grad_p(_as2d(g, nd), _as2d(w, nd), input_shape=x2, **p), nd)


def _convolution_vjp_w(g: Any, ans: Any, x: Any, w: Any, b: Any, nd: int, **p: Any) -> Any:
    w2 = tuple(w.shape[:2]) + (1,) + tuple(w.shape[2:]) if nd == 1 else tuple(w.shape)
    return _as1d(conv2d_weight_grad_p(_as2d(x, nd), _as2d(g, nd), weight_shape=w2, **p), nd)


def _convolution_vjp_b(g: Any, ans: Any, x: Any, w: Any, b: Any, nd: int, **p: Any) -> Any:
    return sum_p(g, dim=(0,) + tuple(range(2, len(g.shape))))


convolution_p = defop(
    "convolution", _convolution_impl,
    vjp=(_convolution_vjp_x, _convolution_vjp_w, _convolution_vjp_b),
    jvp=(lambda t, ans, x, w, b, nd, **p: _as1d(conv2d_p(_as2d(t, nd), _as2d(w, nd), **p), nd),
         lambda t, ans, x, w, b, nd, **p: _as1d(conv2d_p(_as2d(x, nd), _as2d(t, nd), **p), nd),
         lambda t, ans, x, w, b, nd, **p: reshape_as(t, (1, -1) + (1,) * nd)),
    promote="same", names="ConvolutionBackward0", batch="convolution")


# --- 3-D convolution with its bias, as one node (PyTorch's ConvolutionBackward0) --------------
# NOTE: fused for PyTorch's node: a sum over the kernel's depth taps of 2-D convolutions of the
# input's depth slabs (each slab's output depths folded into the batch). ``padding`` is the depth
# padding and the (H, W) pairs; the rules are the conv2d rows, so every order of derivative works.
def _slab(i: int, od: int, stride: int, dil: int) -> slice:
    return slice(i * dil, i * dil + stride * (od - 1) + 1, stride)


def _fold(a: Any) -> Any:
    """(N, C, D, H, W) -> (N * D, C, H, W)."""
    n, c, d, h, w = a.shape
    return reshape_as(permute_p(a, dims=(0, 2, 1, 3, 4)), (n * d, c, h, w))


def _unfold(a: Any, n: int) -> Any:
    """(N * D, C, H, W) -> (N, C, D, H, W)."""
    nd, c, h, w = a.shape
    return permute_p(reshape_as(a, (n, nd // n, c, h, w)), dims=(0, 2, 1, 3, 4))


def _conv3d_sizes(x: Any, w: Any, stride: tuple[int, int, int], padding: Any,
                  dilation: tuple[int, int, int]) -> tuple[int, int]:
    dp = x.shape[2] + 2 * padding[0]
    return dp, (dp - dilation[0] * (w.shape[2] - 1) - 1) // stride[0] + 1


def _conv3d_impl(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: tuple[int, int, int],
                 padding: Any, dilation: tuple[int, int, int], groups: int) -> np.ndarray:
    p0 = padding[0]
    if p0:
        x = np.pad(x, ((0, 0), (0, 0), (p0, p0), (0, 0), (0, 0)))
    od = (x.shape[2] - dilation[0] * (w.shape[2] - 1) - 1) // stride[0] + 1
    n = x.shape[0]
    out = None
    for i in range(w.shape[2]):
        slab = x[:, :, _slab(i, od, stride[0], dilation[0])]
        y = _conv2d_impl(_fold(slab), w[:, :, i], stride[1:], padding[1], dilation[1:], groups)
        out = y if out is None else out + y
    return _unfold(out, n) + b.reshape(1, -1, 1, 1, 1)


def _conv3d_vjp_x(g: Any, ans: Any, x: Any, w: Any, b: Any, stride: Any, padding: Any,
                  dilation: Any, groups: int) -> Any:
    n, c, d, h, wd = x.shape
    dp, od = _conv3d_sizes(x, w, stride, padding, dilation)
    gf = _fold(g)
    total = None
    for i in range(w.shape[2]):
        gi = conv2d_input_grad_p(gf, getitem_p(w, index=(slice(None), slice(None), i)),
                                 input_shape=(n * od, c, h, wd), stride=stride[1:],
                                 padding=padding[1], dilation=dilation[1:], groups=groups)
        part = index_backward_p(_unfold(gi, n), shape=(n, c, dp, h, wd),
                                index=(slice(None), slice(None), _slab(i, od, stride[0], dilation[0])))
        total = part if total is None else total + part
    p0 = padding[0]
    return getitem_p(total, index=(slice(None), slice(None), slice(p0, p0 + d))) if p0 else total


def _conv3d_vjp_w(g: Any, ans: Any, x: Any, w: Any, b: Any, stride: Any, padding: Any,
                  dilation: Any, groups: int) -> Any:
    _, od = _conv3d_sizes(x, w, stride, padding, dilation)
    p0 = padding[0]
    xp = constant_pad_nd_p(x, pad=(0, 0, 0, 0, p0, p0)) if p0 else x
    gf = _fold(g)
    o, cg, _, kh, kw = w.shape
    parts = [conv2d_weight_grad_p(_fold(getitem_p(xp, index=(slice(None), slice(None),
                                                             _slab(i, od, stride[0], dilation[0])))),
                                  gf, weight_shape=(o, cg, kh, kw), stride=stride[1:],
                                  padding=padding[1], dilation=dilation[1:], groups=groups)
             for i in range(w.shape[2])]
    return stack_p(*parts, dim=2)


def _conv3d_jvp(x: Any, w: Any, **p: Any) -> Any:
    zero = _like(np.zeros(w.shape[0]), x)
    return convolution3d_p(x, w, zero, **p)


convolution3d_p = defop(
    "convolution3d", _conv3d_impl,
    vjp=(_conv3d_vjp_x, _conv3d_vjp_w,
         lambda g, ans, x, w, b, **p: sum_p(g, dim=(0, 2, 3, 4))),
    jvp=(lambda t, ans, x, w, b, **p: _conv3d_jvp(t, w, **p),
         lambda t, ans, x, w, b, **p: _conv3d_jvp(x, t, **p),
         lambda t, ans, x, w, b, **p: reshape_as(t, (1, -1, 1, 1, 1))),
    promote="same", names="ConvolutionBackward0")


# --- transposed convolution with its bias, as one node (PyTorch's ConvolutionBackward0) ------
# NOTE: fused for PyTorch's node: its output is conv2d's input gradient of ``x`` (``input_shape``
# the output's shape), plus the bias; the rules are the conv2d rows (the adjoint of the input
# gradient is conv2d, its weight gradient conv2d_weight_grad with the roles of x and g swapped).
def _convolution_t_impl(x: np.ndarray, w: np.ndarray, b: np.ndarray, nd: int,
                        input_shape: tuple[int, ...], **p: Any) -> np.ndarray:
    out = _conv2d_input_grad_impl(_as2d(x, nd), _as2d(w, nd), input_shape=input_shape, **p)
    return _as1d(out + b.reshape(1, -1, 1, 1), nd)


def _convolution_t_vjp_x(g: Any, ans: Any, x: Any, w: Any, b: Any, nd: int,
                         input_shape: tuple[int, ...], **p: Any) -> Any:
    return _as1d(conv2d_p(_as2d(g, nd), _as2d(w, nd), **p), nd)


def _convolution_t_vjp_w(g: Any, ans: Any, x: Any, w: Any, b: Any, nd: int,
                         input_shape: tuple[int, ...], **p: Any) -> Any:
    w2 = tuple(w.shape[:2]) + (1,) + tuple(w.shape[2:]) if nd == 1 else tuple(w.shape)
    return _as1d(conv2d_weight_grad_p(_as2d(g, nd), _as2d(x, nd), weight_shape=w2, **p), nd)


def _convolution_t_jvp(t: Any, x: Any, w: Any, nd: int, input_shape: tuple[int, ...],
                       **p: Any) -> Any:
    return _as1d(conv2d_input_grad_p(_as2d(t, nd), _as2d(w, nd), input_shape=input_shape, **p)
                 if x is None else
                 conv2d_input_grad_p(_as2d(x, nd), _as2d(t, nd), input_shape=input_shape, **p), nd)


convolution_transpose_p = defop(
    "convolution_transpose", _convolution_t_impl,
    vjp=(_convolution_t_vjp_x, _convolution_t_vjp_w, _convolution_vjp_b),
    jvp=(lambda t, ans, x, w, b, nd, input_shape, **p: _convolution_t_jvp(t, None, w, nd, input_shape, **p),
         lambda t, ans, x, w, b, nd, input_shape, **p: _convolution_t_jvp(t, x, w, nd, input_shape, **p),
         lambda t, ans, x, w, b, nd, input_shape, **p: reshape_as(t, (1, -1) + (1,) * nd)),
    promote="same", names="ConvolutionBackward0")


# --- transposed 3-D convolution with its bias, as one node (PyTorch's ConvolutionBackward0) --
# NOTE: fused for PyTorch's node: its output is conv3d's input gradient of ``x`` (``out_shape``
# the output's shape) plus the bias; so its input rule is conv3d (the convolution3d row) and its
# weight rule conv3d's weight gradient with the roles of x and g swapped.
class _Shaped:
    """Stands for an array of ``shape`` where only the shape is read."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape


def _convolution_t3_impl(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Any, padding: Any,
                         dilation: Any, groups: int, out_shape: tuple[int, ...]) -> np.ndarray:
    out = _conv3d_vjp_x(x, None, _Shaped(out_shape), w, None, stride, padding, dilation, groups)
    return out + b.reshape(1, -1, 1, 1, 1)


def _convolution_t3_zero_b(w: Any, ref: Any) -> Any:
    return _like(np.zeros(w.shape[0]), ref)


def _convolution_t3_vjp_x(g: Any, ans: Any, x: Any, w: Any, b: Any, stride: Any, padding: Any,
                          dilation: Any, groups: int, out_shape: tuple[int, ...]) -> Any:
    return convolution3d_p(g, w, _convolution_t3_zero_b(w, g), stride=stride, padding=padding,
                           dilation=dilation, groups=groups)


def _convolution_t3_vjp_w(g: Any, ans: Any, x: Any, w: Any, b: Any, stride: Any, padding: Any,
                          dilation: Any, groups: int, out_shape: tuple[int, ...]) -> Any:
    return _conv3d_vjp_w(x, None, g, w, None, stride, padding, dilation, groups)


convolution_transpose3d_p = defop(
    "convolution_transpose3d", _convolution_t3_impl,
    vjp=(_convolution_t3_vjp_x, _convolution_t3_vjp_w,
         lambda g, ans, x, w, b, **p: sum_p(g, dim=(0, 2, 3, 4))),
    jvp=(lambda t, ans, x, w, b, **p: convolution_transpose3d_p(
             t, w, _like(np.zeros(p["out_shape"][1]), t), **p),
         lambda t, ans, x, w, b, **p: convolution_transpose3d_p(
             x, t, _like(np.zeros(p["out_shape"][1]), t), **p),
         lambda t, ans, x, w, b, **p: reshape_as(t, (1, -1, 1, 1, 1))),
    promote="same", names="ConvolutionBackward0")


# --- max pooling (fused for speed: a few vectorized passes, one per kernel tap) ------------
def _max_pool2d_impl(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pad2,
                     dilation: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Window maxima and their flat positions in each (H, W) plane, as PyTorch returns them."""
    n, c, h, w = x.shape
    kh, kw = kernel
    (pt, pb), (pl, pr) = padding
    if pt or pb or pl or pr:
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp = np.full((n, c, h + pt + pb, w + pl + pr), fill, dtype=x.dtype,
                     **({} if type(x) is np.ndarray else {"like": x}))
        xp[:, :, pt:pt + h, pl:pl + w] = x
    else:
        xp = x
    ho = conv_out(h, kh, stride[0], pt, pb, dilation[0])
    wo = conv_out(w, kw, stride[1], pl, pr, dilation[1])
    sh, sw = stride
    taps = [xp[:, :, i * dilation[0]:i * dilation[0] + sh * (ho - 1) + 1:sh,
               j * dilation[1]:j * dilation[1] + sw * (wo - 1) + 1:sw]
            for i in range(kh) for j in range(kw)]
    best = taps[0].copy()
    for v in taps[1:]:
        np.maximum(best, v, out=best)            # propagates nan, as PyTorch does
    # NOTE: the first maximum of a window wins a tie (PyTorch's CPU kernel scans in order);
    # a nan maximum is found at the last nan, since PyTorch takes every nan it meets.
    k = len(taps)
    arg = zeros(best.shape, np.uint8 if k < 256 else np.int64, best)
    found = zeros(best.shape, bool, best)
    for t, v in enumerate(taps):
        hit = np.greater(v == best, found)       # equal to the max, and no earlier tap was
        if t:
            arg += hit.astype(arg.dtype) * arg.dtype.type(t)
        found |= hit
    if x.dtype.kind == "f" and not values_unknown(found) and not found.all():
        for t, v in enumerate(taps):
            np.copyto(arg, t, where=np.isnan(v))
    # flat position = window origin + offset of the winning tap
    tap = arange(k, best)
    offset = (tap // kw) * dilation[0] * w + (tap % kw) * dilation[1]
    flat = np.take(offset, arg)
    flat += (arange(ho, best)[:, None] * sh - pt) * w + arange(wo, best) * sw - pl
    return best, flat


def _max_pool2d_vjp(g: Any, ans: Any, x: Any, kernel: Pair, stride: Pair, padding: Pad2,
                    dilation: Pair) -> Any:
    idx = ans[1]
    return max_pool2d_backward_p(g[0], input_shape=tuple(x.shape),
                                 indices=idx._data if hasattr(idx, "_data") else idx)


def _max_pool2d_backward_impl(g: np.ndarray, input_shape: tuple[int, ...],
                              indices: np.ndarray) -> np.ndarray:
    # NOTE: any number of spatial dims (max_pool3d's row shares it): flat positions per plane
    n, c = input_shape[:2]
    size = int(np.prod(input_shape[2:], dtype=np.int64))
    planes = arange(n * c, g).reshape((n, c) + (1,) * (len(input_shape) - 2)) * size
    out = np.bincount((indices + planes).ravel(), weights=g.ravel(), minlength=n * c * size)
    return out.reshape(input_shape).astype(g.dtype, copy=False)


def _gather_maxima(v: Any, indices: np.ndarray) -> Any:
    """The values of ``v`` (N, C, *spatial) at each window's maximum."""
    n, c = v.shape[:2]
    flat = reshape_as(v, (n, c, -1))
    return reshape_as(gather_p(flat, dim=2, index=indices.reshape(n, c, -1)), tuple(indices.shape))


def _max_pool2d_jvp(t: Any, ans: Any, x: Any, **p: Any) -> tuple[Any, None]:
    idx = ans[1]
    return _gather_maxima(t, idx._data if hasattr(idx, "_data") else idx), None


# NOTE: the whole gradient goes to each window's maximum; overlapping windows add up.
max_pool2d_p = defop("max_pool2d", _max_pool2d_impl, vjp=_max_pool2d_vjp, jvp=(_max_pool2d_jvp,),
                     n_out=2, save_inputs=False, names="MaxPool2DWithIndicesBackward0")


# --- max_pool3d as one node (PyTorch's MaxPool3DWithIndicesBackward0) ------------------------
def max_pool3d_indices(x: np.ndarray, k: tuple[int, ...], s: tuple[int, ...], p: tuple[int, ...],
                       d: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    """Flat ``D*H*W`` index of each window's maximum, the first one in (d, h, w) order (a NaN
    counts as the maximum), as PyTorch's ``max_pool3d_with_indices`` reports it."""
    spatial = x.shape[2:]
    need = [(o - 1) * si + di * (ki - 1) + 1 for o, si, di, ki in zip(out, s, d, k)]
    pads = [(0, 0), (0, 0)] + [(pi, max(nd_ - n - pi, 0)) for pi, nd_, n in zip(p, need, spatial)]
    xp = np.pad(x.astype(np.float64), pads, constant_values=-np.inf)
    pos = np.pad(np.arange(int(np.prod(spatial)), dtype=np.int64).reshape(spatial),
                 pads[2:], constant_values=-1)
    best = np.full(x.shape[:2] + tuple(out), -np.inf)
    where_ = np.full(x.shape[:2] + tuple(out), -1, dtype=np.int64)
    for a in range(k[0]):
        for b in range(k[1]):
            for c in range(k[2]):
                sl = tuple(slice(o * di, o * di + si * (n - 1) + 1, si) for o, di, si, n in
                           zip((a, b, c), d, s, out))
                val = xp[(slice(None), slice(None)) + sl]
                take = (val > best) | (np.isnan(val) & ~np.isnan(best))
                best = np.where(take, val, best)
                where_ = np.where(take, pos[sl], where_)
    return where_


def _max_pool3d_impl(x: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...],
                     padding: tuple[int, ...], dilation: tuple[int, ...],
                     out: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    host = to_numpy(x)                   # NOTE: the windows' scan runs on the host
    idx = max_pool3d_indices(host, kernel, stride, padding, dilation, out)
    n, c = x.shape[:2]
    val = np.take_along_axis(host.reshape(n, c, -1), idx.reshape(n, c, -1), 2).reshape(idx.shape)
    if type(x) is not np.ndarray:
        val, idx = np.asarray(val, like=x), np.asarray(idx, like=x)
    return val, idx


def _max_pool3d_vjp(g: Any, ans: Any, x: Any, **params: Any) -> Any:
    idx = ans[1]
    return max_pool2d_backward_p(g[0], input_shape=tuple(x.shape),
                                 indices=idx._data if hasattr(idx, "_data") else idx)


# NOTE: the whole gradient goes to each window's maximum (max_pool2d's backward row, which
# takes any number of spatial dims); overlapping windows add up.
max_pool3d_p = defop("max_pool3d", _max_pool3d_impl, vjp=_max_pool3d_vjp, jvp=(_max_pool2d_jvp,),
                     n_out=2, save_inputs=False, names="MaxPool3DWithIndicesBackward0")
not_lazy(max_pool3d_p, False, "finds each window's maximum with strided NumPy slices")


# Linear in g: scatters it to the maxima; its own rule gathers back from them.
max_pool2d_backward_p = defop("max_pool2d_backward", _max_pool2d_backward_impl,
                              vjp=lambda gg, ans, g, input_shape, indices: _gather_maxima(gg, indices),
                              jvp=LINEAR, save_inputs=False,
                              names="MaxPool2DWithIndicesBackwardBackward0")


# --- activations as one node each (PyTorch's nodes: GeluBackward0, SiluBackward0, ...) ------
# NOTE: fused for speed and PyTorch's node names; each rule is written in table ops, so
# every order of derivative works. All take nan through the branch PyTorch's kernel does.
_SQRT1_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327
_SQRT_2_OVER_PI = 0.7978845608028654


@half_in_float32
def _gelu_impl(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
        return x * 0.5 * (np.tanh(inner) + 1.0)
    return x * 0.5 * (erf(x * _SQRT1_2) + 1.0)


def _gelu_vjp(g: Any, ans: Any, x: Any, approximate: str = "none") -> Any:
    if approximate == "tanh":
        th = tanh((x + x * x * x * 0.044715) * _SQRT_2_OVER_PI)
        d = (th + 1.0) * 0.5 + x * 0.5 * (1.0 - th * th) * _SQRT_2_OVER_PI * \
            (x * x * (3 * 0.044715) + 1.0)
        return g * d
    return g * ((erf(x * _SQRT1_2) + 1.0) * 0.5 + x * exp(x * x * -0.5) * _INV_SQRT_2PI)


gelu_p = defop("gelu", _gelu_impl, vjp=_gelu_vjp, jvp=ELEMENTWISE, promote="float",
               names="GeluBackward0")


@half_in_float32
def _silu_impl(x: np.ndarray) -> np.ndarray:
    return x * sigmoid(x)


def _silu_vjp(g: Any, ans: Any, x: Any) -> Any:
    s = sigmoid(x)
    return g * (s * (x * (1.0 - s) + 1.0))


silu_p = defop("silu", _silu_impl, vjp=_silu_vjp, jvp=ELEMENTWISE, promote="float",
               names="SiluBackward0")


def _leaky_relu_impl(x: np.ndarray, negative_slope: float) -> np.ndarray:
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


# NOTE: the slope at 0 is negative_slope, as in PyTorch.
leaky_relu_p = defop(
    "leaky_relu", _leaky_relu_impl,
    vjp=lambda g, ans, x, negative_slope: grad_link(where(x > 0, g, g * negative_slope), x),
    jvp=ELEMENTWISE, names=("LeakyReluBackward0", "RreluWithNoiseBackward0"))


@half_in_float32
def _elu_impl(x: np.ndarray, alpha: float, scale: float, input_scale: float) -> np.ndarray:
    neg = np.expm1(np.minimum(x, 0) * x.dtype.type(input_scale)) * x.dtype.type(alpha)
    out = np.where(x <= 0, neg, x)
    return out * x.dtype.type(scale) if scale != 1.0 else out


# NOTE: exp only sees min(x, 0), so a large x cannot overflow into a nan gradient; the
# derivative at 0 is the negative branch's, and a nan takes the positive one (PyTorch).
def _elu_vjp(g: Any, ans: Any, x: Any, alpha: float, scale: float, input_scale: float) -> Any:
    neg = exp(clamp_scalar(x, max=0.0) * input_scale) * (alpha * input_scale * scale)
    return where(x <= 0, g * neg, g * scale if scale != 1.0 else g)


elu_p = defop("elu", _elu_impl, vjp=_elu_vjp, jvp=ELEMENTWISE,
              names=("EluBackward0", "CeluBackward0"))


@half_in_float32
def _softplus_impl(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    xb = x * x.dtype.type(beta) if beta != 1 else x
    big = xb > threshold
    soft = np.log1p(np.exp(np.where(big, x.dtype.type(threshold), xb)))
    if beta != 1:
        soft = soft / x.dtype.type(beta)
    return np.where(big, x, soft)


# NOTE: the exponential only sees min(beta x, threshold): logits of 1e4 stay finite.
softplus_p = defop(
    "softplus", _softplus_impl,
    vjp=lambda g, ans, x, beta, threshold: where(
        (x * beta if beta != 1 else x) > threshold, g, g * sigmoid(x * beta if beta != 1 else x)),
    jvp=ELEMENTWISE, promote="float", names="SoftplusBackward0")


def _hardsigmoid_impl(x: np.ndarray) -> np.ndarray:
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


# NOTE: the gradient is 0 at -3 and 3 (PyTorch's hardsigmoid_backward).
hardsigmoid_p = defop(
    "hardsigmoid", _hardsigmoid_impl,
    vjp=lambda g, ans, x: grad_link(where((x > -3.0) & (x < 3.0), g * (1.0 / 6.0), 0.0), x),
    jvp=ELEMENTWISE, promote="float", names="HardsigmoidBackward0")


@half_in_float32
def _logsigmoid_impl(x: np.ndarray) -> np.ndarray:
    # NOTE: min(x, 0) - log1p(exp(-|x|)) never overflows
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


logsigmoid_p = defop("logsigmoid", _logsigmoid_impl, vjp=lambda g, ans, x: g * sigmoid(-x),
                     jvp=ELEMENTWISE, promote="float", names="LogSigmoidBackward0")


@half_in_float32
def _mish_impl(x: np.ndarray) -> np.ndarray:
    return x * np.tanh(np.logaddexp(x.dtype.type(0), x))


def _mish_vjp(g: Any, ans: Any, x: Any) -> Any:
    th = tanh(softplus_p(x, beta=1.0, threshold=20.0))
    return g * (th + x * sigmoid(x) * (1.0 - th * th))


mish_p = defop("mish", _mish_impl, vjp=_mish_vjp, jvp=ELEMENTWISE, promote="float",
               names="MishBackward0")


# --- threshold and the shrinks: one node each (ThresholdBackward0, Hard/SoftshrinkBackward0) --
# NOTE: a nan passes through with gradient 1 (PyTorch's scalar kernels replace only values
# inside the band); the gradient is 0 at the band's edges.
def _inside(x: Any, lambd: float) -> Any:
    return (x >= -lambd) & (x <= lambd)


threshold_p = defop(
    "threshold", lambda x, threshold, value: np.where(x <= threshold, x.dtype.type(value), x),
    vjp=lambda g, ans, x, threshold, value: grad_link(where(x <= threshold, 0.0, g), x),
    jvp=ELEMENTWISE, names="ThresholdBackward0")
hardshrink_p = defop(
    "hardshrink", lambda x, lambd: np.where(_inside(x, lambd), x.dtype.type(0), x),
    vjp=lambda g, ans, x, lambd: grad_link(where(_inside(x, lambd), 0.0, g), x),
    jvp=ELEMENTWISE, names="HardshrinkBackward0")
def _softshrink_impl(x: np.ndarray, lambd: float) -> np.ndarray:
    # NOTE: inside [-lambd, lambd] PyTorch's kernel gives ``x * 0``, so a negative input
    # shrinks to -0. (printed ``-0.``), a NaN stays NaN
    out = x - np.clip(x, x.dtype.type(-lambd), x.dtype.type(lambd))
    return np.where(np.abs(x) > lambd, out, x * 0)


softshrink_p = defop(
    "softshrink", _softshrink_impl,
    vjp=lambda g, ans, x, lambd: grad_link(where(_inside(x, lambd), 0.0, g), x),
    jvp=ELEMENTWISE, names="SoftshrinkBackward0")


# --- fake quantization (quantization-aware training) -----------------------------------------
def _fq_levels(x: Any, scale: Any, zero_point: Any, float_zp: bool) -> tuple[Any, Any, Any]:
    """``(q, s, z)``: the unclamped quantization levels of ``x`` (computed in float64 for float64
    input, else float32, as PyTorch's kernels), the float32 scale and the zero point.

    NOTE: PyTorch's kernels: ``x * (1 / scale)`` rounded half to even, plus an integer zero point
    (a floating zero point is added before rounding); NaN becomes the lowest level (their cast of
    NaN to int64 gives INT64_MIN, clamped to ``quant_min``)."""
    ct = np.float64 if x.dtype == np.float64 else np.float32
    where_x = placement_of(x)                   # the (host) qparams go where x's array lives
    s32 = move(np.asarray(scale).astype(np.float32), where_x)    # float32, whatever x is
    z = move(np.asarray(zero_point).astype(ct), where_x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = (np.float32(1) / s32).astype(ct)
        scaled = x.astype(ct, copy=False) * inv
        q = np.rint(scaled + z) if float_zp else z + np.rint(scaled)
    return np.where(np.isnan(q), -np.inf, q), s32, z


def _fake_quantize_impl(x: np.ndarray, scale: Any, zero_point: Any, quant_min: int,
                        quant_max: int, float_zp: bool) -> np.ndarray:
    # NOTE: the level back to a value as PyTorch's kernels do it, whatever the input dtype: in
    # float32 per tensor (a 0-d scale), in float64 per channel
    q, s32, z = _fq_levels(x, scale, zero_point, float_zp)
    wt = np.float64 if np.ndim(scale) else np.float32
    with np.errstate(invalid="ignore", over="ignore"):
        level = np.clip(q, quant_min, quant_max).astype(wt) - z.astype(wt)
        return (level * s32.astype(wt)).astype(x.dtype, copy=False)


def _fq_kept(x: Any, scale: Any, zero_point: Any, quant_min: int, quant_max: int,
             float_zp: bool) -> Any:
    """Where the levels lie in ``[quant_min, quant_max]``: the gradient passes there (PyTorch's
    straight-through mask), as an operand beside ``x``."""
    q = _fq_levels(data_of(x), scale, zero_point, float_zp)[0]
    return _as_operand((q >= quant_min) & (q <= quant_max), x)


fake_quantize_p = defop(
    "fake_quantize", _fake_quantize_impl,
    vjp=lambda g, ans, x, **kw: where(_fq_kept(x, **kw), g, 0.0),
    jvp=(lambda t, ans, x, **kw: where(_fq_kept(x, **kw), t, 0.0),),
    names=("FakeQuantizePerTensorAffineCachemaskBackward0",
           "FakeQuantizePerChannelAffineCachemaskBackward0",
           "FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0"))


# --- losses as one node each (PyTorch's MseLossBackward0, NllLossBackward0, ...) ------------
# NOTE: fused for speed and PyTorch's node names. ``reduction`` is 'none', 'mean' or 'sum';
# each rule scales ``g`` for the reduction (``_red_g``) and multiplies the elementwise
# derivative, written in table ops, so every order of derivative works.
def _red(loss: Any, reduction: str) -> Any:
    """The reduction in the forward (arrays) and in forward mode (table ops)."""
    if reduction == "none":
        return loss
    if isinstance(loss, np.ndarray) or not hasattr(loss, "_data"):
        return loss.sum() if reduction == "sum" else loss.mean()
    return sum_p(loss) if reduction == "sum" else mean_p(loss)


def _red_g(g: Any, x: Any, reduction: str) -> Any:
    """The output gradient of an elementwise loss, spread back over the reduction."""
    if reduction == "mean":
        n = int(np.prod(x.shape, dtype=np.int64))
        return g / n if n else g * np.nan
    return g


def _as_operand(v: Any, ref: Any) -> Any:
    """A constant array (a weight, a mask) as an operand beside ``ref``: a constant Tensor when
    ``ref`` is one (a double backward), so a device array stays on its device."""
    if v is None or not isinstance(ref, Tensor) or isinstance(v, Tensor):
        return v
    return _make(v, False, None)


def _mse_impl(x: np.ndarray, t: np.ndarray, reduction: str) -> np.ndarray:
    d = x - t
    return _red(d * d, reduction)


mse_loss_p = defop(
    "mse_loss", _mse_impl,
    vjp=(lambda g, ans, x, t, reduction: _red_g(g, x, reduction) * ((x - t) * 2.0),
         lambda g, ans, x, t, reduction: _red_g(g, x, reduction) * ((t - x) * 2.0)),
    jvp=(lambda dx, ans, x, t, reduction: _red(dx * ((x - t) * 2.0), reduction),
         lambda dt, ans, x, t, reduction: _red(dt * ((t - x) * 2.0), reduction)),
    promote="same", names="MseLossBackward0", batch="loss")


def _mse_bf16_vjp(sign: float) -> Any:
    """PyTorch's bfloat16 kernel: ``norm * (x - t) * g`` with each product and the number
    ``norm`` (2 / n for 'mean', else 2) rounded to bfloat16."""
    def rule(g: Any, ans: Any, x: Any, t: Any, reduction: str) -> Any:
        norm = round_bf16(2.0 / np.size(x) if reduction == "mean" else 2.0)
        d = round_bf16(x - t) if sign > 0 else round_bf16(t - x)
        return round_bf16(norm * d) * g
    return rule


def _mse_bf16(x: np.ndarray, t: np.ndarray, reduction: str) -> np.ndarray:
    """PyTorch's bfloat16 loss: the difference and its square rounded, then reduced in float32."""
    d = round_bf16(x - t)
    return _red(round_bf16(d * d), reduction)


bf16_rules(mse_loss_p, fwd=_mse_bf16, vjp=(_mse_bf16_vjp(1.0), _mse_bf16_vjp(-1.0)))


def _soft_margin_impl(x: np.ndarray, t: np.ndarray, reduction: str) -> np.ndarray:
    return _red(np.logaddexp(0.0, -t * x), reduction)           # log(1 + exp(-t x)), stable


# NOTE: fused (PyTorch's node, SoftMarginLossBackward0). As in PyTorch the target has no
# gradient (no next_functions slot); F.soft_margin_loss composes when a target requires grad.
soft_margin_loss_p = defop(
    "soft_margin_loss", _soft_margin_impl,
    vjp=(lambda g, ans, x, t, reduction: _red_g(g, x, reduction) * (-t * sigmoid(-t * x)), None),
    jvp=(lambda dx, ans, x, t, reduction: _red(dx * (-t * sigmoid(-t * x)), reduction),
         lambda dt, ans, x, t, reduction: _red(dt * (-x * sigmoid(-t * x)), reduction)),
    promote="same", names="SoftMarginLossBackward0", batch="loss")


def _smooth_impl(x: np.ndarray, t: np.ndarray, reduction: str, beta: float,
                 huber: bool) -> np.ndarray:
    d = x - t
    ad = np.abs(d)
    with np.errstate(over="ignore", invalid="ignore"):
        if huber:            # 0.5 d^2 inside, delta (|d| - delta / 2) outside
            loss = np.where(ad < beta, d * d * 0.5, (ad - 0.5 * beta) * beta)
        else:                # 0.5 d^2 / beta inside, |d| - beta / 2 outside
            loss = np.where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return _red(loss.astype(d.dtype, copy=False), reduction)


def _smooth_d(x: Any, t: Any, beta: float, huber: bool) -> Any:
    """d loss / d x: d (or d / beta) inside, the sign (times delta for huber) outside; a nan
    d takes the inside branch (a nan gradient), as in PyTorch."""
    d = x - t
    inside = d if huber else d * (1.0 / beta)
    outside = sign(d) * beta if huber else sign(d)
    return where(abs_(d) >= beta, outside, inside)


smooth_l1_loss_p = defop(
    "smooth_l1_loss", _smooth_impl,
    vjp=(lambda g, ans, x, t, reduction, beta, huber:
         _red_g(g, x, reduction) * _smooth_d(x, t, beta, huber),
         lambda g, ans, x, t, reduction, beta, huber:
         -(_red_g(g, x, reduction) * _smooth_d(x, t, beta, huber))),
    jvp=(lambda dx, ans, x, t, reduction, beta, huber:
         _red(dx * _smooth_d(x, t, beta, huber), reduction),
         lambda dt, ans, x, t, reduction, beta, huber:
         _red(-(dt * _smooth_d(x, t, beta, huber)), reduction)),
    promote="same", names=("SmoothL1LossBackward0", "HuberLossBackward0"), batch="loss")


def _bce_logits_impl(x: np.ndarray, t: np.ndarray, reduction: str, weight: Any = None,
                     pos_weight: Any = None) -> np.ndarray:
    # NOTE: log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)) never overflows (logits of 1e4)
    log_sig = np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1.0) * t + 1.0)
    loss = (1.0 - t) * x - log_sig
    if weight is not None:
        loss = loss * weight
    return _red(loss.astype(np.result_type(x, t), copy=False), reduction)


def _bce_logits_dx(x: Any, t: Any, weight: Any, pos_weight: Any) -> Any:
    weight, pos_weight = _as_operand(weight, x), _as_operand(pos_weight, x)
    s = sigmoid(-x)                                 # d log(sigmoid(x)) / dx
    lw = s if pos_weight is None else s * ((pos_weight - 1.0) * t + 1.0)
    d = (1.0 - t) - lw
    return d if weight is None else d * weight


def _bce_logits_dt(x: Any, t: Any, weight: Any, pos_weight: Any) -> Any:
    weight, pos_weight = _as_operand(weight, x), _as_operand(pos_weight, x)
    if pos_weight is None:
        d = -x
    else:
        d = -x - (clamp_scalar(x, max=0.0) - log1p(exp(-abs_(x)))) * (pos_weight - 1.0)
    return d if weight is None else d * weight


binary_cross_entropy_with_logits_p = defop(
    "binary_cross_entropy_with_logits", _bce_logits_impl,
    vjp=(lambda g, ans, x, t, reduction, weight=None, pos_weight=None:
         _red_g(g, x, reduction) * _bce_logits_dx(x, t, weight, pos_weight),
         lambda g, ans, x, t, reduction, weight=None, pos_weight=None:
         _red_g(g, x, reduction) * _bce_logits_dt(x, t, weight, pos_weight)),
    jvp=(lambda dx, ans, x, t, reduction, weight=None, pos_weight=None:
         _red(dx * _bce_logits_dx(x, t, weight, pos_weight), reduction),
         lambda dt, ans, x, t, reduction, weight=None, pos_weight=None:
         _red(dt * _bce_logits_dt(x, t, weight, pos_weight), reduction)),
    promote="float", names="BinaryCrossEntropyWithLogitsBackward0", batch="loss")


def _nll_coeff(x: Any, target: np.ndarray, w: np.ndarray) -> Any:
    """``-w`` at each sample's target class, 0 elsewhere (x's shape and dtype)."""
    cdim = 0 if x.ndim == 1 else 1
    c = x.shape[cdim]
    classes = arange(c, target).reshape((c,) + (1,) * (x.ndim - cdim - 1))
    hit = classes == np.expand_dims(target, cdim)
    neg_w = np.expand_dims(-w, cdim).astype(x.dtype, copy=False)
    return np.where(hit, neg_w, x.dtype.type(0))


def _nll_impl(x: np.ndarray, target: np.ndarray, w: np.ndarray, reduction: str,
              total: Any) -> np.ndarray:
    cdim = 0 if x.ndim == 1 else 1
    picked = np.take_along_axis(x, np.expand_dims(target, cdim), cdim).squeeze(cdim)
    loss = -(picked * w.astype(x.dtype, copy=False))
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        # no counted target: nan, as PyTorch (a count on the meta device stays an array)
        return loss.sum() / (total.astype(x.dtype) if hasattr(total, "astype") else
                             x.dtype.type(total))


def _nll_vjp(g: Any, ans: Any, x: Any, target: np.ndarray, w: np.ndarray, reduction: str,
             total: Any) -> Any:
    coeff = _as_operand(_nll_coeff(x, target, w), g)
    if reduction == "none":
        cdim = 0 if x.ndim == 1 else 1
        shape = tuple(g.shape[:cdim]) + (1,) + tuple(g.shape[cdim:])
        return reshape_as(g, shape) * coeff
    if reduction == "mean":
        # NOTE: a mean over no counted target is nan with a zero gradient (PyTorch)
        g = g / float(total) if total else g * 0.0
    return g * coeff


# NOTE: linear in x (target, weights and the mean's total are constants): forward mode
# applies the row to the tangent.
nll_loss_p = defop("nll_loss", _nll_impl, vjp=_nll_vjp, jvp=LINEAR, save_inputs=False,
                   names=("NllLossBackward0", "NllLoss2DBackward0"))


def _nll_bf16(x: np.ndarray, target: np.ndarray, w: np.ndarray, reduction: str,
              total: Any) -> np.ndarray:
    """PyTorch's bfloat16 kernel for one or a batch of samples: the losses are summed in a
    cascade of 8 bfloat16 partial sums (a level flushed every 16 samples), each addition
    rounded, and the mean divides by the bfloat16 count (a weight of 0, as an ignored target's,
    adds nothing)."""
    if reduction == "none" or x.ndim > 2:
        return _nll_impl(x, target, w, reduction, total)
    cdim = 0 if x.ndim == 1 else 1
    picked = np.take_along_axis(x, np.expand_dims(target, cdim), cdim).reshape(-1)
    ws = np.broadcast_to(np.asarray(w, np.float32), picked.shape)
    losses = round_bf16(picked * ws)
    parts = [0.0] * 8
    for b, (v, wb) in enumerate(zip(losses.tolist(), ws.tolist())):
        if wb == 0:
            continue
        parts[0] = float(round_bf16(parts[0] - v))
        for j in range(7):
            if b & (15 << (4 * j)):
                break
            parts[j + 1] = float(round_bf16(parts[j + 1] + parts[j]))
            parts[j] = 0.0
    out = 0.0
    for p in parts:
        out = float(round_bf16(out + p))
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            out = float(np.float32(out) / np.float32(round_bf16(float(total))))
    return np.asarray(out, dtype=np.float32)


bf16_rules(nll_loss_p, fwd=_nll_bf16)


# --- normalization as one node (PyTorch's NativeLayerNorm/BatchNorm/GroupNormBackward0) ----
# NOTE: fused for speed and PyTorch's node names. One row serves layer, batch and group norm:
# ``kind`` says which dims the statistics run over and where the per-channel affine goes;
# ``n`` is the number of normalized trailing dims (layer) or of groups (group). The inputs
# are always (x, weight, bias) (constant ones and zeros stand for missing ones, so the node's
# next_functions hold None there, as PyTorch's). The rule is written in table ops, so every
# order of derivative works; forward mode uses the transpose of the rule.
def _norm_view(x: Any, kind: str, n: int) -> tuple[Any, tuple[int, ...]]:
    """``x`` shaped so the statistics run over ``dims`` of it."""
    nd = len(x.shape)
    if kind == "layer":
        return x, tuple(range(nd - n, nd))
    if kind == "batch" or kind == "eval":
        return x, (0,) + tuple(range(2, nd))
    return reshape_as(x, (x.shape[0], n, -1)), (2,)


def _channel(v: Any, x: Any, kind: str) -> Any:
    """A weight or bias shaped to broadcast against ``x``."""
    if kind == "layer":
        return v
    return reshape_as(v, (1, -1) + (1,) * (len(x.shape) - 2))


def _xhat(x: Any, kind: str, n: int, eps: float, stats: Any = None,
          bf16: bool = False) -> tuple[Any, Any, tuple[int, ...]]:
    """The normalized input (in its view), its 1 / std and the statistics' dims; ``bf16``: the
    mean and 1 / std rounded to bfloat16, as PyTorch's layer norm saves them for backward."""
    xv, dims = _norm_view(x, kind, n)
    if bf16:
        mean = mean_p(xv, dim=dims, keepdim=True)
        c = xv - mean
        rstd = round_bf16(rsqrt(mean_p(c * c, dim=dims, keepdim=True) + eps))
        return (xv - round_bf16(mean)) * rstd, rstd, dims
    if kind == "eval":                                    # running statistics (constants)
        mean, var = (_as_operand(v, xv) for v in stats)
        c = xv - mean
        rstd = rsqrt(var + eps)
        return c * rstd, rstd, dims
    c = xv - mean_p(xv, dim=dims, keepdim=True)
    rstd = rsqrt(mean_p(c * c, dim=dims, keepdim=True) + eps)
    return c * rstd, rstd, dims


def _native_norm_impl(x: np.ndarray, w: np.ndarray, b: np.ndarray, kind: str, n: int, eps: float,
                      stats: Any = None) -> np.ndarray:
    if x.dtype == np.float16:
        # NOTE: PyTorch computes a half norm's statistics and result in float32, rounding once
        f32 = [None if v is None else np.asarray(v, dtype=np.float32) for v in (w, b)]
        st = None if stats is None else tuple(np.asarray(v, dtype=np.float32) for v in stats)
        return _native_norm_impl(x.astype(np.float32), f32[0], f32[1], kind, n, eps,
                                 st).astype(np.float16)
    xh, _, _ = _xhat(x, kind, n, eps, stats)
    xh = xh.reshape(x.shape)
    return xh * _channel(w, x, kind) + _channel(b, x, kind)


def _native_norm_vjp(g: Any, ans: Any, x: Any, w: Any, b: Any, kind: str, n: int, eps: float,
                     stats: Any = None, _bf16: bool = False) -> tuple[Any, Any, Any]:
    xv, rstd, dims = _xhat(x, kind, n, eps, stats, _bf16 and kind == "layer")
    shape = tuple(x.shape)
    gxh = g * _channel(w, x, kind)
    if kind == "eval":
        gx = gxh * rstd
    else:
        gv, _ = _norm_view(gxh, kind, n)
        gx = (gv - mean_p(gv, dim=dims, keepdim=True)
              - xv * mean_p(gv * xv, dim=dims, keepdim=True)) * rstd
        gx = reshape_as(gx, shape)
    xh = reshape_as(xv, shape) if kind == "group" else xv
    if kind == "layer":                       # the engine sums the leading dims away
        return gx, g * xh, g
    cdims = (0,) + tuple(range(2, len(shape)))
    return gx, sum_p(g * xh, dim=cdims), sum_p(g, dim=cdims)


native_norm_p = defop("native_norm", _native_norm_impl, vjp_all=_native_norm_vjp, promote="same",
                      names=("NativeLayerNormBackward0", "NativeBatchNormBackward0",
                             "NativeGroupNormBackward0"), batch="native_norm")
bf16_rules(native_norm_p, vjp=lambda g, ans, x, w, b, kind, n, eps, stats=None: _native_norm_vjp(
    g, ans, x, w, b, kind, n, eps, stats, _bf16=True))
NORM_VARIANT = {"layer": 0, "batch": 1, "eval": 1, "group": 2}


# --- prelu: x where positive, w * x elsewhere (w broadcast: one slope or one per channel) ----
def _prelu_impl(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, w * x)


# NOTE: fused (PyTorch's node, PreluKernelBackward0); at 0 the slope side is taken, as in
# PyTorch (d/dx = w, d/dw = 0).
prelu_p = defop("prelu_kernel", _prelu_impl,
                vjp=(lambda g, ans, x, w: grad_link(where(x > 0, g, w * g), x),
                     lambda g, ans, x, w: where(x > 0, 0.0, g * x)),
                jvp=ELEMENTWISE, promote="same", names="PreluKernelBackward0")


# --- glu: the first half of ``dim`` times the sigmoid of the second half ---------------------
def _halves(x: Any, dim: int) -> tuple[Any, Any]:
    h = x.shape[dim] // 2
    lead = (slice(None),) * dim
    return getitem_p(x, index=lead + (slice(0, h),)), getitem_p(x, index=lead + (slice(h, None),))


def _glu_impl(x: np.ndarray, dim: int) -> np.ndarray:
    h = x.shape[dim] // 2
    lead = (slice(None),) * dim
    return x[lead + (slice(0, h),)] * sigmoid(x[lead + (slice(h, None),)])


def _glu_vjp(g: Any, ans: Any, x: Any, dim: int) -> Any:
    a, b = _halves(x, dim)
    s = sigmoid(b)
    return cat_p(g * s, g * a * s * (1.0 - s), dim=dim)


def _glu_jvp(t: Any, ans: Any, x: Any, dim: int) -> Any:
    a, b = _halves(x, dim)
    ta, tb = _halves(t, dim)
    s = sigmoid(b)
    return ta * s + a * s * (1.0 - s) * tb


# NOTE: fused (PyTorch's node, GluBackward0); the rules are table ops, so every order works.
glu_p = defop("glu", _glu_impl, vjp=_glu_vjp, jvp=(_glu_jvp,), promote="float",
              names="GluBackward0", batch="int_dim")


# --- im2col / col2im as one node each (PyTorch's Im2ColBackward0, Col2ImBackward0) -----------
# NOTE: F.unfold's sliding blocks (N, C kh kw, L) and F.fold's sum of them back; each is the
# other's gradient, so every order of derivative works. A 3-D input is one sample.
def _im2col_impl(x: np.ndarray, kernel: Pair, dilation: Pair, padding: Pair, stride: Pair) -> np.ndarray:
    x4 = x if x.ndim == 4 else x[None]
    n, c = x4.shape[:2]
    cols = _im2col(x4, kernel, stride, ((padding[0],) * 2, (padding[1],) * 2), dilation, 1)
    out = cols.reshape(n, c * kernel[0] * kernel[1], -1)
    return out if x.ndim == 4 else out[0]


def _col2im_impl(g: np.ndarray, output_size: Pair, kernel: Pair, dilation: Pair, padding: Pair,
                 stride: Pair) -> np.ndarray:
    g3 = g if g.ndim == 3 else g[None]
    (kh, kw), (h, w), (ph, pw) = kernel, output_size, padding
    ho = (h + 2 * ph - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (w + 2 * pw - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    n, c = g3.shape[0], g3.shape[1] // (kh * kw)
    cols = g3.reshape(n, c, kh, kw, ho, wo)
    out = zeros((n, c, h + 2 * ph, w + 2 * pw), g.dtype, g)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dilation[0]:i * dilation[0] + stride[0] * (ho - 1) + 1:stride[0],
                j * dilation[1]:j * dilation[1] + stride[1] * (wo - 1) + 1:stride[1]] += cols[:, :, i, j]
    out = out[:, :, ph:ph + h, pw:pw + w]
    out = out.copy() if ph or pw else out
    return out if g.ndim == 3 else out[0]


im2col_p = defop("im2col", _im2col_impl,
                 vjp=lambda g, ans, x, **p: col2im_p(g, output_size=tuple(x.shape[-2:]), **p),
                 jvp=LINEAR, save_inputs=False, names="Im2ColBackward0")
col2im_p = defop("col2im", _col2im_impl,
                 vjp=lambda g, ans, x, output_size, **p: im2col_p(g, **p),
                 jvp=LINEAR, save_inputs=False, names="Col2ImBackward0")


# --- average pooling as one node (PyTorch's AvgPool2DBackward0) ------------------------------
# NOTE: fused for PyTorch's node: the window sums are a convolution of every (H, W) plane with
# a kernel of ones, divided by each window's divisor (``divisor``, (Ho, Wo)); the gradient is
# the transposed convolution of g / divisor, written with the conv2d rows (every order works).
def _beside(a: np.ndarray, ref: Any) -> Any:
    """A host array (a mask, an index) moved to where ``ref``'s data lives, dtype kept."""
    d = data_of(ref)
    return a if type(d) is np.ndarray or backend_of(d) is None else np.asarray(a, like=d)


def _like(a: np.ndarray, ref: Any) -> Any:
    """A constant array in ``ref``'s dtype, beside ``ref`` (a constant Tensor for a Tensor)."""
    dt = ref._data.dtype if isinstance(ref, Tensor) else ref.dtype
    a = a.astype(dt, copy=False)
    if isinstance(ref, Tensor):
        return _make(a if type(ref._data) is np.ndarray else np.asarray(a, like=ref._data), False, None)
    return a if type(ref) is np.ndarray else np.asarray(a, like=ref)


def _avg_pool2d_impl(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pad2,
                     divisor: np.ndarray) -> np.ndarray:
    planes = x.reshape((-1, 1) + x.shape[-2:])
    sums = _conv2d_impl(planes, _like(np.ones((1, 1) + tuple(kernel)), x), stride, padding, (1, 1), 1)
    out = sums / _like(divisor, x)
    return out.reshape(x.shape[:-2] + out.shape[-2:])


def _avg_pool2d_vjp(g: Any, ans: Any, x: Any, kernel: Pair, stride: Pair, padding: Pad2,
                    divisor: np.ndarray) -> Any:
    shape = tuple(x.shape)
    planes = int(np.prod(shape[:-2], dtype=np.int64))
    gp = reshape_as(g / _like(divisor, g), (planes, 1) + tuple(g.shape[-2:]))
    gx = conv2d_input_grad_p(gp, _like(np.ones((1, 1) + tuple(kernel)), g),
                             input_shape=(planes, 1) + shape[-2:], stride=stride, padding=padding,
                             dilation=(1, 1), groups=1)
    return reshape_as(gx, shape)


avg_pool2d_p = defop("avg_pool2d", _avg_pool2d_impl, vjp=_avg_pool2d_vjp, jvp=LINEAR,
                     save_inputs=False, promote="same", names="AvgPool2DBackward0")


# --- avg_pool3d as one node (PyTorch's AvgPool3DBackward0) ----------------------------------
# NOTE: window sums as a sum of strided slices of the zero-padded input (one per kernel tap),
# divided by ``divisor`` (the output's shape: PyTorch's count rules, computed by the caller);
# the backward is the adjoint (each tap adds g / divisor back), a row whose own rule is this one.
def _taps3(kernel: tuple[int, ...], stride: tuple[int, ...], out: tuple[int, ...]) -> Any:
    for a in range(kernel[0]):
        for b in range(kernel[1]):
            for c in range(kernel[2]):
                yield (Ellipsis,) + tuple(slice(o, o + st * (n - 1) + 1, st) for o, st, n in
                                          zip((a, b, c), stride, out))


def _avg_pool3d_impl(x: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...],
                     padding: tuple[tuple[int, int], ...], divisor: np.ndarray) -> np.ndarray:
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[-3:], padding))
    xp = zeros(tuple(x.shape[:-3]) + padded, x.dtype, x)
    xp[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[-3:], padding))] = x
    out = divisor.shape
    total = zeros(tuple(x.shape[:-3]) + tuple(out), x.dtype, x)
    for sl in _taps3(kernel, stride, out):
        total += xp[sl]
    return total / _like(divisor, x)


def _avg_pool3d_backward_impl(g: np.ndarray, input_shape: tuple[int, ...], kernel: tuple[int, ...],
                              stride: tuple[int, ...], padding: tuple[tuple[int, int], ...],
                              divisor: np.ndarray) -> np.ndarray:
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(input_shape[-3:], padding))
    gp = zeros(tuple(input_shape[:-3]) + padded, g.dtype, g)
    share = g / _like(divisor, g)
    for sl in _taps3(kernel, stride, divisor.shape):
        gp[sl] += share
    crop = (Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(input_shape[-3:], padding))
    return gp[crop]


avg_pool3d_backward_p = defop(
    "avg_pool3d_backward", _avg_pool3d_backward_impl, jvp=LINEAR, save_inputs=False,
    vjp=lambda gg, ans, g, input_shape, kernel, stride, padding, divisor: avg_pool3d_p(
        gg, kernel=kernel, stride=stride, padding=padding, divisor=divisor),
    names="AvgPool3DBackwardBackward0")
avg_pool3d_p = defop(
    "avg_pool3d", _avg_pool3d_impl, jvp=LINEAR, save_inputs=False, promote="same",
    vjp=lambda g, ans, x, kernel, stride, padding, divisor: avg_pool3d_backward_p(
        g, input_shape=tuple(x.shape), kernel=kernel, stride=stride, padding=padding,
        divisor=divisor),
    names="AvgPool3DBackward0")
not_lazy(avg_pool3d_p, False, "sums strided slices of a padded whole array")
not_lazy(avg_pool3d_backward_p, False, "adds into strided slices of a whole array")


# --- separable resampling as one node (PyTorch's Upsample*Backward0, AdaptiveAvgPool*) -------
# NOTE: fused for PyTorch's nodes: interpolation (every mode) and adaptive average pooling map
# each trailing dim by a constant matrix (``mats``, one (out, in) matrix per dim). The row is
# linear; its gradient is the row again with the matrices transposed, so every order works.
RESAMPLE_NAMES = ("UpsampleNearest1DBackward0", "UpsampleNearest2DBackward0",
                  "UpsampleNearest3DBackward0", "UpsampleNearestExact1DBackward0",
                  "UpsampleNearestExact2DBackward0", "UpsampleNearestExact3DBackward0",
                  "UpsampleLinear1DBackward0", "UpsampleBilinear2DBackward0",
                  "UpsampleBicubic2DBackward0", "UpsampleTrilinear3DBackward0",
                  "AdaptiveAvgPool2DBackward0", "AdaptiveAvgPool3DBackward0",
                  "UpsampleBilinear2DAaBackward0", "UpsampleBicubic2DAaBackward0",
                  "UpsampleLanczos2DAaBackward0")


def _resample_impl(x: np.ndarray, mats: tuple[np.ndarray, ...]) -> np.ndarray:
    out = x
    for k, m in enumerate(mats):
        ax = x.ndim - len(mats) + k
        out = np.moveaxis(np.matmul(np.moveaxis(out, ax, -1), _like(m.T, x)), -1, ax)
    return out.copy() if type(out) is np.ndarray and not out.flags.c_contiguous else out


def resample(x: Any, mats: tuple[np.ndarray, ...], kind: str) -> Any:
    """``resample_p`` recorded as PyTorch's node ``kind + "Backward0"``."""
    from ._registry import apply
    return apply(resample_p.prim, (x,), {"mats": tuple(mats)}, RESAMPLE_NAMES.index(kind + "Backward0"))


resample_p = defop("resample", _resample_impl,
                   vjp=lambda g, ans, x, mats: resample_p(g, mats=tuple(m.T for m in mats)),
                   jvp=LINEAR, save_inputs=False, promote="same", names=RESAMPLE_NAMES)


# --- adaptive max pooling as one node (PyTorch's AdaptiveMaxPool2DBackward0) -----------------
# NOTE: the whole gradient goes to each window's first maximum (a nan wins), as PyTorch's CPU
# kernel; the rules are max pooling's scatter and gather rows over (planes, 1, H, W).
def _adaptive_bounds(n: int, o: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def _adaptive_max_impl(x: np.ndarray, sizes: Pair) -> tuple[np.ndarray, np.ndarray]:
    spatial = x.shape[-2:]
    dev = x.reshape((-1,) + spatial)
    # NOTE: the window scan runs on the host; the values are gathered where x lives
    data = dev if type(dev) is np.ndarray else to_numpy(dev)
    flat_pos = np.arange(spatial[0] * spatial[1]).reshape(spatial)
    bounds = [_adaptive_bounds(n, o) for n, o in zip(spatial, sizes)]
    idx = np.empty((data.shape[0],) + tuple(sizes), dtype=np.int64)
    for cell in np.ndindex(*sizes):
        win = tuple(slice(b[0][c], b[1][c]) for b, c in zip(bounds, cell))
        vals = data[(slice(None),) + win].reshape(data.shape[0], -1)
        pos = flat_pos[win].reshape(-1)
        nan = np.isnan(vals) if vals.dtype.kind == "f" else np.zeros(vals.shape, bool)
        best = np.where(nan.any(1), nan.argmax(1), np.argmax(np.where(nan, -np.inf, vals), 1))
        idx[(slice(None),) + cell] = pos[best]
    if type(dev) is not np.ndarray:
        idx = np.asarray(idx, like=dev)
    vals = np.take_along_axis(dev.reshape(dev.shape[0], -1), idx.reshape(idx.shape[0], -1), 1)
    lead = x.shape[:-2]
    return vals.reshape(lead + tuple(sizes)), idx.reshape(lead + tuple(sizes))


def _planes(a: Any) -> tuple[int, ...]:
    return (-1, 1) + tuple(a.shape[-2:])


def _adaptive_max_vjp(g: Any, ans: Any, x: Any, sizes: Pair) -> Any:
    idx = ans[1]._data if hasattr(ans[1], "_data") else ans[1]
    shape = tuple(x.shape)
    planes = int(np.prod(shape[:-2], dtype=np.int64))
    gx = max_pool2d_backward_p(reshape_as(g[0], _planes(g[0])),
                               input_shape=(planes, 1) + shape[-2:],
                               indices=idx.reshape((planes, 1) + idx.shape[-2:]))
    return reshape_as(gx, shape)


def _adaptive_max_jvp(t: Any, ans: Any, x: Any, sizes: Pair) -> tuple[Any, None]:
    idx = ans[1]._data if hasattr(ans[1], "_data") else ans[1]
    out = _gather_maxima(reshape_as(t, _planes(t)), idx.reshape((-1, 1) + idx.shape[-2:]))
    return reshape_as(out, tuple(idx.shape)), None


adaptive_max_pool2d_p = defop("adaptive_max_pool2d", _adaptive_max_impl, vjp=_adaptive_max_vjp,
                              jvp=(_adaptive_max_jvp,), n_out=2, save_inputs=False,
                              names="AdaptiveMaxPool2DBackward0")


# --- fractional max pooling as one node (PyTorch's FractionalMaxPool2DBackward0 / 3D) ----------
# ``starts[d]`` (lead dims + (out_d,), a constant drawn from the random samples) is where each
# window begins along spatial dim d; the windows are ``kernel`` wide. The input is (C, *spatial)
# or (N, C, *spatial), as PyTorch's kernel takes it. The whole gradient goes to each window's
# first maximum (a nan wins); the rules are max pooling's scatter and gather rows over planes.
def _fractional_positions(spatial: tuple[int, ...], starts: tuple[np.ndarray, ...],
                          kernel: tuple[int, ...]) -> np.ndarray:
    """Flat in-plane positions of each window's taps: lead + out + (prod(kernel),)."""
    nd = len(spatial)
    lead = starts[0].shape[:-1]
    out = tuple(st.shape[-1] for st in starts)
    flat = np.zeros(lead + out + tuple(kernel), np.int64)
    for d in range(nd):
        pos = starts[d].reshape(lead + (1,) * d + (out[d],) + (1,) * (nd - 1 - d) + (1,) * nd) + \
            np.arange(kernel[d]).reshape((1,) * len(lead) + (1,) * nd + (1,) * d + (kernel[d],) +
                                         (1,) * (nd - 1 - d))
        flat = flat * spatial[d] + pos
    return flat.reshape(lead + out + (int(np.prod(kernel)),))


def _fractional_impl(x: np.ndarray, starts: tuple[np.ndarray, ...],
                     kernel: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    nd = len(kernel)
    spatial = tuple(x.shape[-nd:])
    host = x if type(x) is np.ndarray else to_numpy(x)       # NOTE: the window scan runs on the host
    flat = _fractional_positions(spatial, starts, kernel)
    lead = flat.shape[:-1 - nd]
    size, taps = int(np.prod(spatial)), int(np.prod(flat.shape[-1 - nd:]))   # explicit: lead may hold a 0
    vals = np.take_along_axis(host.reshape(lead + (size,)), flat.reshape(lead + (taps,)), -1)
    vals = vals.reshape(flat.shape)
    best = vals.argmax(-1)                                  # the first maximum
    if vals.dtype.kind == "f":
        nan = np.isnan(vals)
        best = np.where(nan.any(-1), nan.argmax(-1), best)  # a nan wins
    idx = np.take_along_axis(flat, best[..., None], -1)[..., 0]
    if type(x) is not np.ndarray:
        idx = np.asarray(idx, like=x)
    out = np.take_along_axis(x.reshape(lead + (size,)), idx.reshape(lead + (taps // flat.shape[-1],)),
                             -1).reshape(idx.shape)
    return out, idx


def _as_planes(a: Any, nd: int) -> Any:
    """(C, *s) or (N, C, *s) as (N, C, *s): one sample for an unbatched input."""
    return reshape_as(a, (1,) + tuple(a.shape)) if len(a.shape) == nd + 1 else a


def _fractional_vjp(g: Any, ans: Any, x: Any, starts: tuple[np.ndarray, ...],
                    kernel: tuple[int, ...]) -> Any:
    nd = len(kernel)
    idx = ans[1]._data if hasattr(ans[1], "_data") else ans[1]
    shape = tuple(x.shape)
    full = shape if len(shape) == nd + 2 else (1,) + shape
    gx = max_pool2d_backward_p(_as_planes(g[0], nd), input_shape=full,
                               indices=idx.reshape(full[:2] + idx.shape[-nd:]))
    return reshape_as(gx, shape)


def _fractional_jvp(t: Any, ans: Any, x: Any, starts: tuple[np.ndarray, ...],
                    kernel: tuple[int, ...]) -> tuple[Any, None]:
    nd = len(kernel)
    idx = ans[1]._data if hasattr(ans[1], "_data") else ans[1]
    planes = _as_planes(t, nd)
    out = _gather_maxima(planes, idx.reshape(tuple(planes.shape[:2]) + idx.shape[-nd:]))
    return reshape_as(out, tuple(idx.shape)), None


fractional_max_pool_p = defop("fractional_max_pool", _fractional_impl, vjp=_fractional_vjp,
                              jvp=(_fractional_jvp,), n_out=2, save_inputs=False,
                              names=("FractionalMaxPool2DBackward0", "FractionalMaxPool3DBackward0"))


# --- embedding with padding_idx or scale_grad_by_freq (PyTorch's EmbeddingBackward0) ---------
# NOTE: the rows picked by ``index``; the gradient of each looked-up row is scaled by ``coeff``
# (0 at padding_idx, 1 / count with scale_grad_by_freq), a constant of index's shape. Plain
# lookups are the getitem row's EMBEDDING variant.
def _embedding_vjp(g: Any, ans: Any, w: Any, index: np.ndarray, coeff: np.ndarray) -> Any:
    return index_backward_p(g * _like(coeff[..., None], g), shape=tuple(w.shape), index=index)


embedding_p = defop("embedding", lambda w, index, coeff: w[index], vjp=_embedding_vjp,
                    jvp=LINEAR, save_inputs=False, names="EmbeddingBackward0")


# --- multi_margin_loss as one node (PyTorch's MultiMarginLossBackward0) ----------------------
# NOTE: per sample sum_{j != y} w[y] max(0, margin - x[y] + x[j]) ** p / C; the rule is written
# in table ops (the hinge's mask from x), so every order of derivative works. ``weight`` is a
# constant (PyTorch does not differentiate it either); 1-D input is one sample.
def _mm_parts(x: Any, target: np.ndarray, p: int, margin: float, weight: Any) -> tuple[Any, Any]:
    """``z = margin - x[y] + x`` and d(loss per sample)/dz before the 1/C, both (N, C)."""
    x2 = reshape_as(x, (-1, x.shape[-1]))
    n, c = x2.shape
    idx = target.reshape(n, 1)
    z = x2 - gather_p(x2, dim=1, index=idx) + margin
    other = arange(c, target)[None, :] != idx
    d = (z * 2.0) if p == 2 else z * 0.0 + 1.0
    if weight is not None:
        d = d * _like(weight[target.reshape(-1)][:, None], x2)
    return z, where(z > 0, d, 0.0) * _like(other.astype(np.float64), x2)


def _multi_margin_impl(x: np.ndarray, target: np.ndarray, p: int, margin: float, weight: Any,
                       reduction: str) -> np.ndarray:
    x2 = x.reshape(-1, x.shape[-1])
    n, c = x2.shape
    idx = target.reshape(n, 1)
    z = x2 - np.take_along_axis(x2, idx, 1) + x.dtype.type(margin)
    h = z if p == 1 else z * z
    if weight is not None:
        h = h * weight[idx].astype(x.dtype, copy=False)
    keep = (z > 0) & (arange(c, idx)[None, :] != idx)
    loss = np.where(keep, h, x.dtype.type(0)).sum(1) / x.dtype.type(c)
    loss = loss.reshape(()) if x.ndim == 1 else loss
    out = _red(loss, reduction)
    return np.asarray(out) if type(loss) is np.ndarray else out


def _mm_coeff(x: Any, target: np.ndarray, p: int, margin: float, weight: Any) -> Any:
    """d loss_i / d x_ij (N, C): the hinge terms, minus their sum at the target class."""
    _, d = _mm_parts(x, target, p, margin, weight)
    n, c = d.shape
    hit = _like((arange(c, target)[None, :] == target.reshape(n, 1)).astype(np.float64), d)
    return (d - hit * sum_p(d, dim=(1,), keepdim=True)) / float(c)


def _multi_margin_vjp(g: Any, ans: Any, x: Any, target: np.ndarray, p: int, margin: float,
                      weight: Any, reduction: str) -> Any:
    coeff = _mm_coeff(x, target, p, margin, weight)
    if reduction == "none" and len(g.shape):
        g = reshape_as(g, (-1, 1))
    elif reduction == "mean":
        g = g / float(coeff.shape[0])
    return reshape_as(g * coeff, tuple(x.shape))


def _multi_margin_jvp(t: Any, ans: Any, x: Any, target: np.ndarray, p: int, margin: float,
                      weight: Any, reduction: str) -> Any:
    per = sum_p(_mm_coeff(x, target, p, margin, weight) * reshape_as(t, (-1, t.shape[-1])),
                dim=(1,))
    return _red(reshape_as(per, ()) if len(x.shape) == 1 else per, reduction)


multi_margin_loss_p = defop("multi_margin_loss", _multi_margin_impl, vjp=_multi_margin_vjp,
                            jvp=(_multi_margin_jvp,), promote="same",
                            names="MultiMarginLossBackward0")


# --- embedding_bag as one node (PyTorch's EmbeddingBagBackward0) ------------------------------
# sum and mean: ``out[bag[i]] += coef[i] * psw[i] * w[idx[i]]``: ``bag`` the bag of each index,
# ``coef`` 1 (sum), 1 / bag size (mean) or 0 (padding_idx); linear in ``w`` and in ``psw``
# (per_sample_weights). ``freq`` (scale_grad_by_freq) scales each index's gradient in ``w`` by
# 1 / its count. max: each column of a bag takes its members' maximum (``coef`` 0 leaves an
# index out; an empty bag gives 0), the first one of a tie (PyTorch's CPU kernel) and a nan
# when there is one (as ``amax``); the gradient goes to that member's row.
def _ebag_argmax(w: np.ndarray, idx: np.ndarray, bag: np.ndarray, coef: np.ndarray, nb: int,
                 best: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The row of ``w`` holding each ``(bag, column)`` maximum, whether the bag has one, and the
    maxima (``best``, when given, are the maxima already found: the rules read the result)."""
    w = to_numpy(w)                          # NOTE: the bags' scan runs on the host
    n, d = idx.shape[0], w.shape[1]
    first = np.full((nb, d), n, np.int64)
    pos = np.flatnonzero(coef != 0)
    if best is not None:
        best = to_numpy(best)
    if pos.size == n and n and n % nb == 0 and (bag == np.arange(n) // (n // nb)).all():
        # equal bags in order (a 2-D input, even offsets): one reshape, no segments
        rows = w[idx].reshape(nb, n // nb, d)
        if best is None:
            best = rows.max(1)               # propagates nan
        hit = rows == best[:, None]
        if w.dtype.kind == "f":
            hit |= np.isnan(rows) & np.isnan(best)[:, None]
        first = hit.argmax(1) + np.arange(nb)[:, None] * (n // nb)
        return idx[first], np.ones((nb, d), bool), best
    if pos.size:
        pos = pos[np.argsort(bag[pos], kind="stable")]        # each bag's members together
        sb = bag[pos]
        starts = np.flatnonzero(np.r_[True, sb[1:] != sb[:-1]])
        rows = w[idx[pos]]
        top = np.maximum.reduceat(rows, starts, axis=0) if best is None else best[sb[starts]]
        top = np.repeat(top, np.diff(np.r_[starts, pos.size]), axis=0)
        hit = rows == top
        if w.dtype.kind == "f":
            hit |= np.isnan(rows) & np.isnan(top)
        first[sb[starts]] = np.minimum.reduceat(np.where(hit, pos[:, None], n), starts, axis=0)
    found = first < n
    if best is None:
        best = np.where(found, w[idx[np.where(found, first, 0)], np.arange(d)], w.dtype.type(0))
    return idx[np.where(found, first, 0)], found, best


def _ebag_impl(w: np.ndarray, psw: np.ndarray, idx: np.ndarray, bag: np.ndarray, coef: np.ndarray,
               nb: int, mode: str = "sum", freq: Any = None) -> np.ndarray:
    if mode == "max":
        best = _ebag_argmax(w, idx, bag, coef, nb)[2]
        return best if type(w) is np.ndarray else np.asarray(best, like=w)
    rows = w[index_like(idx, w)] * (_like(coef, w) * psw).astype(w.dtype, copy=False)[:, None]
    out = zeros((nb, w.shape[1]), w.dtype, w)
    np.add.at(out, index_like(bag, w), rows)
    return out


def _ebag_vjp_w(g: Any, ans: Any, w: Any, psw: Any, idx: np.ndarray, bag: np.ndarray,
                coef: np.ndarray, nb: int, mode: str = "sum", freq: Any = None) -> Any:
    if mode == "max":
        src, found, _ = _ebag_argmax(data_of(w), idx, bag, coef, nb, data_of(ans))
        cols = np.broadcast_to(np.arange(src.shape[1]), src.shape)
        return index_backward_p(where(_beside(found, g), g, 0.0), shape=tuple(w.shape), index=(src, cols))
    scale = reshape_as(psw * _like(coef if freq is None else coef * freq, psw), (-1, 1))
    return index_backward_p(getitem_p(g, index=bag) * scale, shape=tuple(w.shape), index=idx)


def _ebag_vjp_psw(g: Any, ans: Any, w: Any, psw: Any, idx: np.ndarray, bag: np.ndarray,
                  coef: np.ndarray, nb: int, mode: str = "sum", freq: Any = None) -> Any:
    if mode == "max":                        # psw is a constant 1 there (PyTorch refuses one)
        return None
    return sum_p(getitem_p(g, index=bag) * getitem_p(w, index=idx), dim=(1,)) * _like(coef, g)


def _ebag_jvp_w(t: Any, ans: Any, w: Any, psw: Any, **p: Any) -> Any:
    if p.get("mode") == "max":
        src, found, _ = _ebag_argmax(data_of(w), p["idx"], p["bag"], p["coef"], p["nb"], data_of(ans))
        cols = np.broadcast_to(np.arange(src.shape[1]), src.shape)
        return where(_beside(found, t), getitem_p(t, index=(src, cols)), 0.0)
    return embedding_bag_p(t, psw, **p)


embedding_bag_p = defop(
    "embedding_bag", _ebag_impl, vjp=(_ebag_vjp_w, _ebag_vjp_psw),
    jvp=(_ebag_jvp_w, lambda t, ans, w, psw, **p: embedding_bag_p(w, t, **p)),
    promote="same", save_ans=True, names="EmbeddingBagBackward0")


# --- affine_grid as one node (PyTorch's AffineGridGeneratorBackward0) -----------------------
# ``out[n, p] = theta[n] @ base[p]``: ``base`` (1, P, k + 1) the output pixels' normalized
# coordinates with a 1 appended (a constant), ``spatial`` the output's spatial shape; linear
# in ``theta``.
def _affine_grid_impl(theta: np.ndarray, base: np.ndarray, spatial: tuple[int, ...]) -> np.ndarray:
    out = np.matmul(_like(base, theta), theta.transpose(0, 2, 1))
    return out.reshape((theta.shape[0],) + tuple(spatial) + (theta.shape[1],))


def _affine_grid_vjp(g: Any, ans: Any, theta: Any, base: np.ndarray, spatial: tuple[int, ...]) -> Any:
    n, k = theta.shape[0], theta.shape[1]
    g4 = reshape_as(g, (n, base.shape[1], k, 1))
    b4 = _like(base.reshape(1, base.shape[1], 1, base.shape[2]), g)
    return sum_p(g4 * b4, dim=(1,))


affine_grid_p = defop("affine_grid", _affine_grid_impl, vjp=_affine_grid_vjp, jvp=LINEAR,
                      save_inputs=False, promote="same", names="AffineGridGeneratorBackward0")


# --- grid_sample as one node (PyTorch's GridSampler2DBackward0 / GridSampler3DBackward0) -------
# ``out[n, c, p] = sum_t x[n, c, idx[t, n, p]] * w[t, n, p]``: for each output point p the taps t
# of its mode (2 per dim for bilinear, 4 for bicubic, 1 for nearest), their flat positions in
# the input plane (constants, 0 where a tap falls outside under zeros padding, its weight 0)
# and their weights, products of one weight per dim. The weights are written in table ops of
# the grid, so the rules differentiate again: the input's rule scatters g * w, the grid's
# gathers x at the taps against the weights' derivatives. A nan or infinite coordinate gives a
# nan value and grid gradient (nearest: 0) and no input gradient (PyTorch's answer there
# depends on the mode, and some of its kernels crash).
_CUBIC_A = -0.75


def _cubic_near(u: Any) -> Any:
    return ((_CUBIC_A + 2) * u - (_CUBIC_A + 3)) * u * u + 1


def _cubic_far(u: Any) -> Any:
    return ((_CUBIC_A * u - 5 * _CUBIC_A) * u + 8 * _CUBIC_A) * u - 4 * _CUBIC_A


def cubic_weights(t: Any) -> list[Any]:
    """The four cubic-convolution weights (A = -0.75) of taps -1, 0, 1, 2 at fraction ``t``
    (plain arithmetic: an array or a table expression)."""
    return [_cubic_far(t + 1), _cubic_near(t), _cubic_near(1 - t), _cubic_far(2 - t)]


def _cubic_slopes(t: Any) -> list[Any]:
    """d/dt of ``cubic_weights(t)``."""
    a = _CUBIC_A

    def near(u: Any) -> Any:
        return (3 * (a + 2) * u - 2 * (a + 3)) * u

    def far(u: Any) -> Any:
        return (3 * a * u - 10 * a) * u + 8 * a
    return [far(t + 1), near(t), -near(1 - t), -far(2 - t)]


def grid_coordinates(v: np.ndarray, size: int, padding_mode: str,
                     align_corners: bool) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's ``compute_coordinates`` on pixel coordinates: the new values and their slopes.

    ``border`` clips to [0, size - 1]; ``reflection`` reflects about the borders (the pixel centres
    with ``align_corners``, else the image edges) and then clips. As in PyTorch's backward, a
    coordinate on or past a border gets slope 0, and each reflection flips the slope's sign.
    """
    slope = np.ones_like(v)
    if padding_mode == "zeros":
        return v, slope
    if padding_mode == "reflection":
        lo2, hi2 = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if lo2 == hi2:
            return np.zeros_like(v), np.zeros_like(v)
        low, span = lo2 / 2, (hi2 - lo2) / 2
        d = v - low
        slope = np.where(d < 0, -slope, slope)
        d = np.abs(d)
        extra = np.fmod(d, span)
        even = np.floor(d / span) % 2 == 0
        v = np.where(even, extra + low, span - extra + low).astype(slope.dtype)
        slope = np.where(even, slope, -slope)
    inside = (v > 0) & (v < size - 1)
    return np.clip(v, 0, size - 1).astype(slope.dtype), np.where(inside, slope, 0).astype(slope.dtype)


def _gs_taps(grid: Any, spatial: tuple[int, ...], mode: str, padding_mode: str,
             align_corners: bool, slopes: bool) -> tuple[Any, ...]:
    """The taps of every output point: ``(idx, w, dw, finite)``.

    ``idx`` (T, N, P) flat positions in the input plane; ``w`` (T, N, P) the weights, 0 for a tap
    outside; ``dw`` (with ``slopes``) one (T, N, P) array per grid component (x, y[, z]): d w / d
    that component; ``finite`` (N, P) whether the point's coordinates are finite.
    """
    nd = len(spatial)
    gd = to_numpy(data_of(grid))             # NOTE: the taps are found on the host
    n = gd.shape[0]
    pts = int(np.prod(gd.shape[1:-1], dtype=np.int64))
    finite = np.isfinite(gd.reshape(n, pts, nd)).all(-1)
    fin = _beside(finite, grid)
    dims = []                                # per input dim: (index (T_k,N,P), ok, w, dw)
    for k in range(nd):
        size = spatial[k]
        scale = (size - 1) / 2 if align_corners else size / 2
        comp = reshape_as(getitem_p(grid, index=(Ellipsis, nd - 1 - k)), (n, pts))
        pos = where(fin, comp, 0.0) * scale + (scale if align_corners else scale - 0.5)
        pv = to_numpy(data_of(pos))
        if mode == "bicubic":
            base = np.floor(pv)
            frac = pos - _like(base, pos)
            taps = []
            for i in range(4):
                c = base - 1 + i
                if padding_mode != "zeros":
                    c = np.trunc(grid_coordinates(c, size, padding_mode, align_corners)[0])
                taps.append(c)
            pos_idx = np.stack(taps)
            w = cubic_weights(frac)
            dw = [d * scale for d in _cubic_slopes(frac)] if slopes else None
        else:
            new, slope = grid_coordinates(pv, size, padding_mode, align_corners)
            # the padded value exactly, with derivative ``slope`` (pos - pv is 0 in value)
            padded = _like(new, pos) + (pos - _like(pv, pos)) * _like(slope, pos)
            if mode == "nearest":
                pos_idx = np.rint(new)[None]
                w = [padded * 0.0 + 1.0]
                dw = [padded * 0.0] if slopes else None
            else:
                base = np.floor(new)
                frac = padded - _like(base, padded)
                pos_idx = np.stack([base, base + 1])
                w = [1.0 - frac, frac]
                ds = _like(slope * scale, pos)
                dw = [ds * -1.0, ds] if slopes else None
        # NOTE: clipped before the cast: a coordinate of 1e30 must stay outside, not wrap around
        pos_idx = np.clip(pos_idx, -1, size).astype(np.int64)
        ok = (pos_idx >= 0) & (pos_idx < size) & finite
        dims.append((np.where(ok, pos_idx, 0), ok, w, dw))
    # the taps of all dims: the product over dims, tap axes first
    t_shape = tuple(len(d[2]) for d in dims)
    idx = np.zeros(t_shape + (n, pts), np.int64)
    ok = np.ones(t_shape + (n, pts), bool)
    for k, (pi, pk, _, _) in enumerate(dims):
        shape = (1,) * k + (t_shape[k],) + (1,) * (nd - 1 - k) + (n, pts)
        idx = idx * spatial[k] + pi.reshape(shape)
        ok = ok & pk.reshape(shape)
    count = int(np.prod(t_shape))
    idx, ok = idx.reshape(count, n, pts), ok.reshape(count, n, pts)

    def product(factors: list[list[Any]]) -> Any:
        out = None
        for k, f in enumerate(factors):
            shape = (1,) * k + (t_shape[k],) + (1,) * (nd - 1 - k) + (n, pts)
            term = reshape_as(stack_p(*f, dim=0) if len(f) > 1 else reshape_as(f[0], (1, n, pts)), shape)
            out = term if out is None else out * term
        return reshape_as(out, (count, n, pts)) * _like(ok.astype(np.float64), pos)

    w = product([d[2] for d in dims])
    dw = None
    if slopes:
        # d w / d component of dim k: dim k's weight slopes times the other dims' weights
        by_dim = [product([d[3] if j == k else d[2] for j, d in enumerate(dims)]) for k in range(nd)]
        dw = by_dim[::-1]                    # grid order: x (the last input dim) first
    return idx, w, dw, finite


def _gs_gather(x: Any, idx: np.ndarray) -> Any:
    """``x[n, c, idx[t, n, p]]`` as (N, C, T, P)."""
    n, c = x.shape[0], x.shape[1]
    count, _, pts = idx.shape
    plane = int(np.prod(x.shape[2:], dtype=np.int64))
    full = np.broadcast_to(idx.transpose(1, 0, 2).reshape(n, 1, count * pts), (n, c, count * pts))
    return reshape_as(gather_p(reshape_as(x, (n, c, plane)), dim=2, index=full), (n, c, count, pts))


def _gs_weights_nt(w: Any) -> Any:
    """(T, N, P) weights as (N, 1, T, P), to multiply the gathered taps."""
    count, n, pts = w.shape
    return reshape_as(permute_p(w, dims=(1, 0, 2)), (n, 1, count, pts))


def _gs_nan(v: Any, finite: np.ndarray, shape: tuple[int, ...]) -> Any:
    """``v`` with nan where a point's coordinates are not finite (``finite`` broadcast to ``shape``)."""
    if finite.all():
        return v
    return where(_beside(np.broadcast_to(finite.reshape(shape), tuple(v.shape)), v), v, float("nan"))


def _grid_sampler_impl(x: np.ndarray, grid: np.ndarray, mode: str, padding_mode: str,
                       align_corners: bool) -> np.ndarray:
    n, c = x.shape[:2]
    out_sp = tuple(grid.shape[1:-1])
    idx, w, _, finite = _gs_taps(grid, tuple(x.shape[2:]), mode, padding_mode, align_corners, False)
    vals = _gs_gather(x, idx)                                      # (N, C, T, P)
    out = np.einsum("nctp,tnp->ncp", vals, w.astype(x.dtype, copy=False))
    out = _gs_nan(out, finite, (n, 1, -1))
    return out.reshape((n, c) + out_sp)


def _grid_sampler_vjp_x(g: Any, ans: Any, x: Any, grid: Any, mode: str, padding_mode: str,
                        align_corners: bool) -> Any:
    shape = tuple(x.shape)
    n, c = shape[:2]
    plane = int(np.prod(shape[2:], dtype=np.int64))
    idx, w, _, _ = _gs_taps(grid, shape[2:], mode, padding_mode, align_corners, False)
    count, _, pts = idx.shape
    contrib = reshape_as(reshape_as(g, (n, c, 1, pts)) * _gs_weights_nt(w), (n, c, count * pts))
    full = np.broadcast_to(idx.transpose(1, 0, 2).reshape(n, 1, count * pts), (n, c, count * pts))
    gx = max_pool2d_backward_p(contrib, input_shape=(n, c, plane), indices=_beside(full, g))
    return reshape_as(gx, shape)


def _grid_sampler_vjp_grid(g: Any, ans: Any, x: Any, grid: Any, mode: str, padding_mode: str,
                           align_corners: bool) -> Any:
    gshape = tuple(grid.shape)
    if mode == "nearest":                   # PyTorch's grid gradient in nearest mode: 0
        return _like(np.zeros(gshape), g)
    n, c = x.shape[:2]
    idx, _, dw, finite = _gs_taps(grid, tuple(x.shape[2:]), mode, padding_mode, align_corners, True)
    count, _, pts = idx.shape
    # sum over channels of g times the taps' values: (N, T, P)
    gv = sum_p(reshape_as(g, (n, c, 1, pts)) * _gs_gather(x, idx), dim=(1,))
    comps = [sum_p(gv * permute_p(d, dims=(1, 0, 2)), dim=(1,)) for d in dw]    # each (N, P)
    out = reshape_as(stack_p(*comps, dim=2), gshape)
    return _gs_nan(out, finite, (n,) + gshape[1:-1] + (1,))


def _grid_sampler_jvp_x(t: Any, ans: Any, x: Any, grid: Any, mode: str, padding_mode: str,
                        align_corners: bool) -> Any:
    # linear in x: the same sampling of the tangent
    n, c = x.shape[:2]
    idx, w, _, finite = _gs_taps(grid, tuple(x.shape[2:]), mode, padding_mode, align_corners, False)
    out = sum_p(_gs_gather(t, idx) * _gs_weights_nt(w), dim=(2,))
    return reshape_as(_gs_nan(out, finite, (n, 1, -1)), tuple(ans.shape))


def _grid_sampler_jvp_grid(t: Any, ans: Any, x: Any, grid: Any, mode: str, padding_mode: str,
                           align_corners: bool) -> Any:
    n, c = x.shape[:2]
    if mode == "nearest":
        return _like(np.zeros(tuple(ans.shape)), t)
    idx, _, dw, finite = _gs_taps(grid, tuple(x.shape[2:]), mode, padding_mode, align_corners, True)
    count, _, pts = idx.shape
    tg = reshape_as(t, (n, pts, len(dw)))
    dsum = None
    for k, d in enumerate(dw):
        term = d * reshape_as(getitem_p(tg, index=(slice(None), slice(None), k)), (1, n, pts))
        dsum = term if dsum is None else dsum + term
    out = sum_p(_gs_gather(x, idx) * _gs_weights_nt(dsum), dim=(2,))
    return reshape_as(_gs_nan(out, finite, (n, 1, -1)), tuple(ans.shape))


grid_sampler_p = defop("grid_sampler", _grid_sampler_impl,
                       vjp=(_grid_sampler_vjp_x, _grid_sampler_vjp_grid),
                       jvp=(_grid_sampler_jvp_x, _grid_sampler_jvp_grid), promote="same",
                       names=("GridSampler2DBackward0", "GridSampler3DBackward0"))


# --- multilabel_margin_loss as one node (PyTorch's MultilabelMarginLossBackward0) -----------
# ``pair[s, j, i]`` counts target j against non-target i of sample s (a constant from the
# targets); loss_s = sum_ji pair * max(0, 1 - (x_j - x_i)) / C. Its derivative is constant
# almost everywhere (the hinge's), so the rules multiply by that constant.
def _mlm_impl(x: np.ndarray, pair: np.ndarray, reduction: str) -> np.ndarray:
    x2 = x.reshape(-1, x.shape[-1])
    c = x2.shape[1]
    z = x.dtype.type(1) - (x2[:, :, None] - x2[:, None, :])
    loss = (np.where(z > 0, z, x.dtype.type(0)) * pair.astype(x.dtype, copy=False)).sum((1, 2))
    loss = loss / x.dtype.type(c)
    loss = loss.reshape(()) if x.ndim == 1 else loss
    out = _red(loss, reduction)
    return np.asarray(out) if type(loss) is np.ndarray else out


def _mlm_coeff(x: Any, pair: np.ndarray) -> Any:
    """d loss_s / d x_sk, (N, C), a constant beside ``x``."""
    xd = x._data if isinstance(x, Tensor) else x
    x2 = xd.reshape(-1, xd.shape[-1])
    c = x2.shape[1]
    active = pair * ((1.0 - (x2[:, :, None] - x2[:, None, :])) > 0)
    coeff = (active.sum(1) - active.sum(2)) / c
    return _like(np.asarray(to_numpy(coeff), dtype=np.float64), x)


def _mlm_vjp(g: Any, ans: Any, x: Any, pair: np.ndarray, reduction: str) -> Any:
    coeff = _mlm_coeff(x, pair)
    if reduction == "none" and len(g.shape):
        g = reshape_as(g, (-1, 1))
    elif reduction == "mean":
        g = g / float(coeff.shape[0])
    return reshape_as(g * coeff, tuple(x.shape))


def _mlm_jvp(t: Any, ans: Any, x: Any, pair: np.ndarray, reduction: str) -> Any:
    per = sum_p(_mlm_coeff(x, pair) * reshape_as(t, (-1, t.shape[-1])), dim=(1,))
    return _red(reshape_as(per, ()) if len(x.shape) == 1 else per, reduction)


multilabel_margin_loss_p = defop("multilabel_margin_loss", _mlm_impl, vjp=_mlm_vjp, jvp=(_mlm_jvp,),
                                 promote="same", names="MultilabelMarginLossBackward0")


# --- CTC loss ------------------------------------------------------------------------------
# NOTE: fused (speed, and PyTorch's gradient): the forward and backward recursions over the
# extended label sequence (blank, l1, blank, l2, ..., blank) run in NumPy over the whole batch
# at once, one step per frame. The gradient is PyTorch's (eq. 16 of Graves et al. 2006):
# exp(lp) - exp(log(sum alpha*beta) + nll - lp), which is the gradient with respect to logits
# feeding a log_softmax (the exp(lp) term cancels in log_softmax's backward), zero past each
# input length and, with zero_infinity, for each impossible sample.
def _ctc_setup(lp: np.ndarray, targets: np.ndarray, input_lengths: np.ndarray,
               target_lengths: np.ndarray, blank: int) -> tuple[Any, ...]:
    n, s = targets.shape
    width = 2 * s + 1
    ext = np.full((n, width), blank, np.int64)
    ext[:, 1::2] = targets
    valid = np.arange(width)[None, :] < (2 * target_lengths + 1)[:, None]
    ext = np.where(valid, ext, blank)
    skip = np.zeros((n, width), bool)           # a step from s - 2 to s is allowed
    # NOTE: PyTorch's rule: whenever the labels at s - 2 and s differ. A blank among the targets
    # (an odd s) may then be reached from the label before it, as its kernels do.
    skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    lpe = np.take_along_axis(lp, np.broadcast_to(ext[None], (lp.shape[0], n, width)), 2)
    return ext, valid, skip, lpe


def _ctc_alpha(lpe: np.ndarray, valid: np.ndarray, skip: np.ndarray,
               target_lengths: np.ndarray) -> np.ndarray:
    t_max, n, width = lpe.shape
    ninf = lpe.dtype.type(-np.inf)
    alpha = np.full(lpe.shape, ninf, lpe.dtype)
    if t_max == 0:
        return alpha
    alpha[0, :, 0] = lpe[0, :, 0]
    if width > 1:
        alpha[0, :, 1] = np.where(target_lengths > 0, lpe[0, :, 1], ninf)
    for t in range(1, t_max):
        prev = alpha[t - 1]
        one = np.concatenate([np.full((n, 1), ninf, lpe.dtype), prev[:, :-1]], 1)
        two = np.concatenate([np.full((n, 2), ninf, lpe.dtype), prev[:, :-2]], 1)[:, :width]
        acc = np.logaddexp(np.logaddexp(prev, one), np.where(skip, two, ninf)) + lpe[t]
        alpha[t] = np.where(valid, acc, ninf)
    return alpha


def _ctc_beta(lpe: np.ndarray, valid: np.ndarray, skip: np.ndarray, input_lengths: np.ndarray,
              target_lengths: np.ndarray) -> np.ndarray:
    t_max, n, width = lpe.shape
    ninf = lpe.dtype.type(-np.inf)
    beta = np.full(lpe.shape, ninf, lpe.dtype)
    last = 2 * target_lengths
    cols = np.arange(width)[None, :]
    ends = (cols == last[:, None]) | ((cols == last[:, None] - 1) & (target_lengths[:, None] > 0))
    skip_next = np.concatenate([skip[:, 2:], np.zeros((n, 2), bool)], 1)[:, :width]
    for t in range(t_max - 1, -1, -1):
        init = np.where(ends, lpe[t], ninf)
        if t + 1 < t_max:
            nxt = beta[t + 1]
            one = np.concatenate([nxt[:, 1:], np.full((n, 1), ninf, lpe.dtype)], 1)
            two = np.concatenate([nxt[:, 2:], np.full((n, 2), ninf, lpe.dtype)], 1)[:, :width]
            rec = np.logaddexp(np.logaddexp(nxt, one), np.where(skip_next, two, ninf)) + lpe[t]
        else:
            rec = np.full((n, width), ninf, lpe.dtype)
        here = np.where((input_lengths - 1 == t)[:, None], init,
                        np.where((t < input_lengths - 1)[:, None], rec, ninf))
        beta[t] = np.where(valid, here, ninf)
    return beta


def _ctc_nll(alpha: np.ndarray, input_lengths: np.ndarray, target_lengths: np.ndarray) -> np.ndarray:
    n = alpha.shape[1]
    b = np.arange(n)
    t = np.maximum(input_lengths - 1, 0)
    last = alpha[t, b, 2 * target_lengths]
    before = np.where(target_lengths > 0, alpha[t, b, np.maximum(2 * target_lengths - 1, 0)], -np.inf)
    with np.errstate(over="ignore"):
        nll = -np.logaddexp(last, before)
    # no frames: the empty target has probability 1, any other 0
    return np.where(input_lengths == 0, np.where(target_lengths == 0, 0.0, np.inf), nll).astype(alpha.dtype)


def _ctc_host(a: Any) -> np.ndarray:
    return a if type(a) is np.ndarray else to_numpy(a)


def _ctc_back(out: np.ndarray, dev: Any) -> Any:
    return out if type(dev) is np.ndarray else np.asarray(out, like=dev)


# NOTE: the recursions run on the host; the result goes back where log_probs lives
def _ctc_loss_impl(lp: Any, targets: Any, input_lengths: Any, target_lengths: Any, blank: int,
                   zero_infinity: bool) -> Any:
    host, targets, in_lens, tgt_lens = map(_ctc_host, (lp, targets, input_lengths, target_lengths))
    ext, valid, skip, lpe = _ctc_setup(host, targets, in_lens, tgt_lens, blank)
    # an impossible sample stays inf here (zero_infinity zeroes its gradient; the caller its value)
    return _ctc_back(_ctc_nll(_ctc_alpha(lpe, valid, skip, tgt_lens), in_lens, tgt_lens), lp)


def _ctc_loss_backward_impl(g: Any, lp: Any, targets: Any, input_lengths: Any, target_lengths: Any,
                            blank: int, zero_infinity: bool) -> Any:
    return _ctc_back(_ctc_grad(_ctc_host(g), *map(_ctc_host, (lp, targets, input_lengths, target_lengths)),
                               blank, zero_infinity), lp)


def _ctc_grad(g: np.ndarray, lp: np.ndarray, targets: np.ndarray, input_lengths: np.ndarray,
              target_lengths: np.ndarray, blank: int, zero_infinity: bool) -> np.ndarray:
    ext, valid, skip, lpe = _ctc_setup(lp, targets, input_lengths, target_lengths, blank)
    alpha = _ctc_alpha(lpe, valid, skip, target_lengths)
    beta = _ctc_beta(lpe, valid, skip, input_lengths, target_lengths)
    nll = _ctc_nll(alpha, input_lengths, target_lengths)
    ab = alpha + beta
    top = ab.max(2, keepdims=True)
    top = np.where(np.isfinite(top), top, lp.dtype.type(0))
    onehot = (ext[:, :, None] == np.arange(lp.shape[2])[None, None, :]).astype(lp.dtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lcab = np.log(np.einsum("tnl,nlc->tnc", np.exp(ab - top), onehot)) + top
        grad = (np.exp(lp) - np.exp(lcab + nll[None, :, None] - lp)) * g[None, :, None]
    inside = np.arange(lp.shape[0])[:, None] < input_lengths[None, :]
    if zero_infinity:
        inside = inside & ~np.isposinf(nll)[None, :]
    return np.where(inside[:, :, None], grad, lp.dtype.type(0)).astype(lp.dtype, copy=False)


def _ctc_double_backward(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")


ctc_loss_backward_p = defop("ctc_loss_backward", _ctc_loss_backward_impl,
                            vjp=(_ctc_double_backward, _ctc_double_backward), promote="same",
                            names="CtcLossBackwardBackward0")
# forward mode: the same gradient (PyTorch has none) contracted with the tangent
ctc_loss_p = defop("ctc_loss", _ctc_loss_impl,
                   vjp=lambda g, ans, lp, **kw: ctc_loss_backward_p(g, lp, **kw),
                   jvp=(lambda t, ans, lp, **kw: sum_p(ctc_loss_backward_p(ans * 0.0 + 1.0, lp, **kw) * t,
                                                       dim=(0, 2)),),
                   promote="same", names="CtcLossBackward0")


# --- on lazy (Dask) arrays -----------------------------------------------------------------
not_lazy(embedding_p, False, "scatters its gradient with np.add.at")
not_lazy(grid_sampler_p, False, "gathers the taps of every point by position")
not_lazy(fractional_max_pool_p, False, "finds each window's maximum on the host")
not_lazy(multi_margin_loss_p, False, "picks each sample's target value with take_along_axis")
not_lazy(affine_grid_p, False, "multiplies its constant grid in memory")
not_lazy(embedding_bag_p, False, "adds the rows into their bags with np.add.at")
not_lazy(multilabel_margin_loss_p, False, "compares every pair of classes of each sample in memory")
for _fn in (ctc_loss_p, ctc_loss_backward_p):
    not_lazy(_fn, False, "runs a recursion over the frames of the whole array")
for _fn in (conv2d_p, convolution_p, conv2d_input_grad_p, conv2d_weight_grad_p, max_pool2d_p,
            max_pool2d_backward_p, convolution3d_p, avg_pool2d_p, adaptive_max_pool2d_p, im2col_p,
            col2im_p):
    not_lazy(_fn, False, "works on strided windows of a whole array")
