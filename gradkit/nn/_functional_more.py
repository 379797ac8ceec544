"""Still more of ``torch.nn.functional``: channel dropouts, RMS norm, pixel (un)shuffle, ``pdist``,
``embedding_bag``, ``interpolate``, ``unfold``/``fold``, scaled dot-product attention and 3-D
convolution and pooling.

Re-exported by ``gradkit.nn.functional``; every function is a composition of differentiable
primitives (so gradients of gradients work), with PyTorch's values, shapes and errors.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import _api as A
from gradkit._core.tensor import Tensor, _make
from . import functional as F

__all__ = [
    "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "rms_norm",
    "pixel_shuffle", "pixel_unshuffle", "pdist", "embedding_bag", "interpolate", "upsample",
    "upsample_nearest", "upsample_bilinear", "unfold", "fold", "scaled_dot_product_attention",
    "conv3d", "max_pool3d", "avg_pool3d",
]

_t = F._t
_const = F._const
_ALPHA = 1.7580993408473766      # -SELU_ALPHA * SELU_SCALE, negated


def _rng() -> Any:
    from gradkit._core.creation import default_generator
    return default_generator._rng


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


# --- dropouts ---------------------------------------------------------------------------
def _feature_dropout(input: Any, p: float, training: bool, inplace: bool, nd: int, name: str) -> Tensor:
    _check_p(p)
    x = _t(input)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D input, but received a {x.ndim}D input. "
                           f"Note that {name} exists to provide channel-wise dropout on inputs with {nd} "
                           "spatial dimension(s), a channel dimension, and an optional batch dimension "
                           f"(i.e. {nd + 1}D or {nd + 2}D inputs).")
    if not training or p == 0.0:
        return x
    lead = x.ndim - nd
    shape = tuple(x.shape[:lead]) + (1,) * nd
    keep = _rng().random(shape) >= p
    scale = np.where(keep, 1.0 / (1.0 - p), 0.0) if p < 1.0 else np.zeros(shape)
    return F._inplace(x, lambda v: v * _const(scale, v), inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) with probability ``p``; scale the rest."""
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` (or ``(C, H, W)``) with probability ``p``."""
    return _feature_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) with probability ``p``."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout3d")


def _alpha(input: Any, p: float, training: bool, inplace: bool, feature: bool) -> Tensor:
    _check_p(p)
    x = _t(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return F._inplace(x, lambda v: v * 0.0, inplace)
    if feature and x.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = (tuple(x.shape[:2]) + (1,) * (x.ndim - 2)) if feature else tuple(x.shape)
    mask = (_rng().random(shape) >= p).astype(np.float64)
    a = ((1 - p) * (1 + p * _ALPHA ** 2)) ** -0.5
    b = (mask - 1) * (_ALPHA * a) + _ALPHA * a * p
    return F._inplace(x, lambda v: v * _const(mask * a, v) + _const(b, v), inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's zero mean and unit variance (dropped entries become ``-alpha'``)."""
    return _alpha(input, p, training, inplace, False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (dim 1)."""
    return _alpha(input, p, training, inplace, True)


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


# --- reshuffles -------------------------------------------------------------------------
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """``(*, C r^2, H, W) -> (*, C, H r, W r)``."""
    x = _t(input)
    r = int(upscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{x.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
                           f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    lead = tuple(lead)
    n = len(lead)
    y = A.reshape(x, lead + (c // (r * r), r, r, h, w))
    y = A.permute(y, tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return A.reshape(y, lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """``(*, C, H r, W r) -> (*, C r^2, H, W)``."""
    x = _t(input)
    r = int(downscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input "
                           f"with {x.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = x.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor, "
                           f"but input.size(-2)={h} and input.size(-1)={w} are not divisible by {r}")
    lead = tuple(lead)
    n = len(lead)
    y = A.reshape(x, lead + (c, h // r, r, w // r, r))
    y = A.permute(y, tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return A.reshape(y, lead + (c * r * r, h // r, w // r))


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """p-norm distances between the rows of ``(N, M)``, upper triangle as a flat ``N (N - 1) / 2`` vector.

    The gradient at a zero distance is 0, as PyTorch's.
    """
    x = _t(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = x.shape[0]
    i, j = np.triu_indices(n, 1)
    d = A.index_select(x, 0, _make(i, False, None)) - A.index_select(x, 0, _make(j, False, None))
    if p == 0:
        return _const((np.asarray(d._data) != 0).sum(-1), x) + (d * 0.0).sum(-1)
    if math.isinf(p):
        return A.amax(A.abs(d), -1) if d.shape[0] else A.abs(d).sum(-1)
    ad = A.abs(d)
    s = (ad ** p).sum(-1) if p != 2 else (d * d).sum(-1)
    pos = s > 0
    safe = A.where(pos, s, 1.0, safe=True)
    return A.where(pos, safe ** (1.0 / p), 0.0, safe=True)


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
    rows = F.embedding(_make(idx.astype(np.int64), False, None), w, None, max_norm, norm_type,
                       scale_grad_by_freq)
    if psw is not None:
        rows = rows * A.unsqueeze(psw, -1)
    valid = np.ones(idx.shape[0], bool) if padding_idx is None else idx != padding_idx
    nb = len(starts)
    pos = np.arange(idx.shape[0])
    member = (pos[None, :] >= starts[:, None]) & (pos[None, :] < ends[:, None]) & valid[None, :]
    if mode in ("sum", "mean"):
        mat = member.astype(np.float64)
        if mode == "mean":
            mat = mat / np.maximum(mat.sum(1, keepdims=True), 1)
        return A.matmul(_const(mat, rows), rows)
    outs = []
    for b in range(nb):
        sel = np.nonzero(member[b])[0]
        if sel.size == 0:
            outs.append(_const(np.zeros(w.shape[1]), w))
        else:
            outs.append(A.amax(A.index_select(rows, 0, _make(sel, False, None)), 0))
    return A.stack(outs, 0) if outs else _const(np.zeros((0, w.shape[1])), w)


# --- interpolation ----------------------------------------------------------------------
_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _src_scale(n_in: int, n_out: int, align_corners: bool, scale: float | None) -> float:
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n_in / n_out


def _cubic_coeffs(t: np.ndarray) -> np.ndarray:
    a = -0.75

    def near(u: np.ndarray) -> np.ndarray:
        return ((a + 2) * u - (a + 3)) * u * u + 1

    def far(u: np.ndarray) -> np.ndarray:
        return ((a * u - 5 * a) * u + 8 * a) * u - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], -1)


def _interp_matrix(n_in: int, n_out: int, mode: str, align_corners: bool, scale: float | None) -> np.ndarray:
    """``(n_out, n_in)`` weights of one separable interpolation axis, PyTorch's index rules."""
    dst = np.arange(n_out, dtype=np.float64)
    mat = np.zeros((n_out, n_in))
    if mode in ("nearest", "nearest-exact"):
        s = 1.0 / scale if scale is not None and scale > 0 else n_in / n_out
        s = np.float32(s)
        src = (dst.astype(np.float32) + (np.float32(0.5) if mode == "nearest-exact" else 0)) * s
        i = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        mat[np.arange(n_out), i] = 1.0
        return mat
    s = _src_scale(n_in, n_out, align_corners, scale)
    src = dst * s if align_corners else s * (dst + 0.5) - 0.5
    if mode == "cubic":
        i0 = np.floor(src).astype(np.int64)
        coeff = _cubic_coeffs(src - i0)
        for k in range(4):
            np.add.at(mat, (np.arange(n_out), np.clip(i0 - 1 + k, 0, n_in - 1)), coeff[:, k])
        return mat
    src = np.maximum(src, 0.0)
    i0 = np.minimum(src.astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    np.add.at(mat, (np.arange(n_out), i0), 1.0 - lam)
    np.add.at(mat, (np.arange(n_out), i1), lam)
    return mat


def _apply_axis(x: Tensor, mat: np.ndarray, axis: int) -> Tensor:
    y = A.movedim(x, axis, -1)
    y = A.matmul(y, _const(mat.T, x))
    return A.movedim(y, -1, axis)


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of ``(N, C, *spatial)`` (``torch.nn.functional.interpolate``).

    Modes ``nearest``, ``nearest-exact``, ``linear``, ``bilinear``, ``bicubic`` and ``trilinear``;
    each axis is a constant interpolation matrix, so the gradient (and its gradient) is exact.
    """
    x = _t(input)
    nd = x.ndim - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if antialias:
        raise NotImplementedError("antialias=True is not supported")
    if nd < 1:
        raise ValueError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
                         f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
                         f"(got {mode})")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * nd
        if len(sizes) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {list(x.shape[2:])} and output size of "
                             f"{sizes}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                             "output size in (o1, o2, ...,oK) format.")
        out_sizes = [int(s) for s in sizes]
        scales: list[float | None] = [None] * nd
    elif scale_factor is not None:
        sf = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * nd
        if len(sf) != nd:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but "
                             f"got input with spatial dimensions of {list(x.shape[2:])} and scale_factor of "
                             f"shape {sf}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                             "scale_factor in (s1, s2, ...,sK) format.")
        out_sizes = [int(math.floor(float(n) * float(s))) for n, s in zip(x.shape[2:], sf)]
        scales = [None] * nd if recompute_scale_factor else [float(s) for s in sf]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if mode in _DIMS and _DIMS[mode] != nd:
        need = {1: "3D", 2: "4D", 3: "5D"}[_DIMS[mode]]
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {need} input")
    if mode not in ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) "
                                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | "
                                  f"nearest-exact (got {mode})")
    if any(s <= 0 for s in out_sizes):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(str(n) for n in x.shape[2:])}) and output "
                           f"({', '.join(str(n) for n in out_sizes)})")
    kind = "cubic" if mode == "bicubic" else ("linear" if mode in _DIMS else mode)
    out = x
    for k in range(nd):
        n_in = x.shape[2 + k]
        mat = _interp_matrix(n_in, out_sizes[k], kind, bool(align_corners), scales[k])
        out = _apply_axis(out, mat, 2 + k)
    return out


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of :func:`interpolate`."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# --- im2col / col2im --------------------------------------------------------------------
def _eye_kernel(c: int, kh: int, kw: int, like: Tensor) -> Tensor:
    k = kh * kw
    w = np.zeros((c * k, 1, kh, kw))
    w[np.arange(c * k), 0, (np.arange(c * k) % k) // kw, np.arange(c * k) % kw] = 1.0
    return _const(w, like)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sliding local blocks of ``(N, C, H, W)`` as columns ``(N, C kH kW, L)`` (im2col)."""
    x = _t(input)
    if x.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {x.ndim}D)")
    batched = x.ndim == 4
    if not batched:
        x = A.unsqueeze(x, 0)
    kh, kw = F._ntuple(kernel_size, 2, "kernel_size")
    d, p, s = (F._ntuple(v, 2, n) for v, n in ((dilation, "dilation"), (padding, "padding"),
                                                  (stride, "stride")))
    c = x.shape[1]
    out = F.conv2d(x, _eye_kernel(c, kh, kw, x), None, s, p, d, c)
    out = A.reshape(out, (x.shape[0], c * kh * kw, -1))
    return out if batched else A.squeeze(out, 0)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Sum columns ``(N, C kH kW, L)`` back into ``(N, C, *output_size)`` (col2im, the adjoint of unfold)."""
    x = _t(input)
    if x.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
                                  f"supported (got {x.ndim}D)")
    batched = x.ndim == 3
    if not batched:
        x = A.unsqueeze(x, 0)
    oh, ow = F._ntuple(output_size, 2, "output_size")
    kh, kw = F._ntuple(kernel_size, 2, "kernel_size")
    d, p, s = (F._ntuple(v, 2, n) for v, n in ((dilation, "dilation"), (padding, "padding"),
                                                  (stride, "stride")))
    ck = x.shape[1]
    if ck % (kh * kw):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={ck} and kernel_size=({kh}, {kw}).")
    bh = (oh + 2 * p[0] - d[0] * (kh - 1) - 1) // s[0] + 1
    bw = (ow + 2 * p[1] - d[1] * (kw - 1) - 1) // s[1] + 1
    if bh * bw != x.shape[2]:
        raise RuntimeError(f"Given output_size=({oh}, {ow}), kernel_size=({kh}, {kw}), dilation=({d[0]}, "
                           f"{d[1]}), padding=({p[0]}, {p[1]}), stride=({s[0]}, {s[1]}), expected size of "
                           f"input's dimension 2 to match the calculated number of sliding blocks "
                           f"{bh} * {bw} = {bh * bw}, but got input.size(2)={x.shape[2]}.")
    c = ck // (kh * kw)
    cols = A.reshape(x, (x.shape[0], ck, bh, bw))
    op = tuple(o + 2 * pi - ((b - 1) * si + di * (k - 1) + 1)
               for o, pi, b, si, di, k in zip((oh, ow), p, (bh, bw), s, d, (kh, kw)))
    out = F.conv_transpose2d(cols, _eye_kernel(c, kh, kw, x), None, s, p, op, c, d)
    return out if batched else A.squeeze(out, 0)


# --- attention --------------------------------------------------------------------------
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(q k^T * scale + mask) v`` over the last two dims (PyTorch's reference formula)."""
    q, k, v = _t(query, "query"), _t(key, "key"), _t(value, "value")
    lq, lk = q.shape[-2], k.shape[-2]
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    if enable_gqa and q.ndim >= 3 and q.shape[-3] != k.shape[-3]:
        rep = q.shape[-3] // k.shape[-3]
        k = A.repeat_interleave(k, rep, -3)
        v = A.repeat_interleave(v, rep, -3)
    scores = A.matmul(q, A.transpose(k, -2, -1)) * s
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
        causal = np.tril(np.ones((lq, lk), bool))
        scores = A.masked_fill(scores, _make(~causal, False, None), float("-inf"))
    if attn_mask is not None:
        m = _t(attn_mask, "attn_mask")
        if m.dtype == "bool" or np.asarray(m._data).dtype == np.bool_:
            scores = A.masked_fill(scores, _make(~np.asarray(m._data), False, None), float("-inf"))
        else:
            scores = scores + m
    attn = F.softmax(scores, -1)
    if dropout_p > 0.0:
        attn = F.dropout(attn, dropout_p, True)
    return A.matmul(attn, v)


# --- 3-D convolution and pooling --------------------------------------------------------
def _triple(v: Any, name: str) -> tuple[int, int, int]:
    return F._ntuple(v, 3, name)  # type: ignore[return-value]


def _batched3(x: Tensor, name: str) -> tuple[Tensor, bool]:
    if x.ndim not in (4, 5):
        raise RuntimeError(f"Expected 4D (unbatched) or 5D (batched) input to {name}, but got input of size: "
                           f"{list(x.shape)}")
    return (x, True) if x.ndim == 5 else (A.unsqueeze(x, 0), False)


def _depth_slices(x: Tensor, k: int, s: int, d: int, od: int) -> list[Tensor]:
    """For each kernel depth offset, the ``(N, C, od, H, W)`` input planes it meets."""
    return [x[:, :, i * d: i * d + s * (od - 1) + 1: s] for i in range(k)]


def _fold_depth(t: Tensor) -> Tensor:
    n, c, od, h, w = t.shape
    return A.reshape(A.permute(t, (0, 2, 1, 3, 4)), (n * od, c, h, w))


def _unfold_depth(t: Tensor, n: int, od: int) -> Tensor:
    _, c, h, w = t.shape
    return A.permute(A.reshape(t, (n, od, c, h, w)), (0, 2, 1, 3, 4))


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D cross-correlation of ``(N, C, D, H, W)`` with ``(O, C / groups, kD, kH, kW)``.

    A sum over the kernel depth of 2-D convolutions (so double backward works as for ``conv2d``).
    """
    x, batched = _batched3(_t(input), "conv3d")
    w = _t(weight, "weight")
    if w.ndim != 5:
        raise RuntimeError(f"weight should have 5 dimensions for conv3d, got {list(w.shape)}")
    if x.shape[1] != w.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w.shape)}, expected input"
                           f"{list(x.shape)} to have {w.shape[1] * groups} channels, but got {x.shape[1]} "
                           "channels instead")
    s, d = _triple(stride, "stride"), _triple(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            p: tuple[int, ...] = (0, 0, 0)
        elif padding == "same":
            if any(si != 1 for si in s):
                raise ValueError("padding='same' is not supported for strided convolutions")
            tot = [di * (k - 1) for di, k in zip(d, w.shape[2:])]
            x = F.pad(x, [v for t in reversed(tot) for v in (t // 2, t - t // 2)])
            p = (0, 0, 0)
        else:
            raise ValueError(f"Invalid padding string '{padding}', should be one of ['valid', 'same']")
    else:
        p = _triple(padding, "padding")
    if p[0]:
        x = F.pad(x, (0, 0, 0, 0, p[0], p[0]))
    kd = w.shape[2]
    n = x.shape[0]
    od = (x.shape[2] - d[0] * (kd - 1) - 1) // s[0] + 1
    if od <= 0:
        raise RuntimeError("Calculated output size is too small")
    out = None
    for i, plane in enumerate(_depth_slices(x, kd, s[0], d[0], od)):
        y = F.conv2d(_fold_depth(plane), w[:, :, i], None, s[1:], p[1:], d[1:], groups)
        out = y if out is None else out + y
    res = _unfold_depth(out, n, od)
    if bias is not None:
        res = res + A.reshape(bias, (1, -1, 1, 1, 1))
    return res if batched else A.squeeze(res, 0)


def _pool3_args(kernel_size: Any, stride: Any, padding: Any) -> tuple[tuple[int, ...], ...]:
    k = _triple(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _triple(stride, "stride")
    p = _triple(padding, "padding")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise RuntimeError("pad should be at most half of effective kernel size, but got pad="
                           f"{p[0]}, kernel_size={k[0]} and dilation=1")
    return k, s, p


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """Max over ``kD x kH x kW`` windows of ``(N, C, D, H, W)`` (a 2-D max pool, then a max over depth)."""
    if return_indices:
        raise NotImplementedError("max_pool3d: return_indices=True is not supported")
    x, batched = _batched3(_t(input), "max_pool3d")
    k, s, p = _pool3_args(kernel_size, stride, padding)
    d = _triple(dilation, "dilation")
    if p[0]:
        x = F.pad(x, (0, 0, 0, 0, p[0], p[0]), value=float("-inf"))
    n = x.shape[0]
    od = F._pool_out(x.shape[2] - 2 * p[0], k[0], s[0], p[0], d[0], ceil_mode)
    if ceil_mode and (od - 1) * s[0] + d[0] * (k[0] - 1) + 1 > x.shape[2]:
        x = F.pad(x, (0, 0, 0, 0, 0, (od - 1) * s[0] + d[0] * (k[0] - 1) + 1 - x.shape[2]),
                  value=float("-inf"))
    planes = _depth_slices(x, k[0], s[0], d[0], od)
    deep = A.amax(A.stack(planes, 0), 0) if len(planes) > 1 else planes[0]
    out = F.max_pool2d(_fold_depth(deep), k[1:], s[1:], p[1:], d[1:], ceil_mode)
    res = _unfold_depth(out, n, od)
    return res if batched else A.squeeze(res, 0)


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over ``kD x kH x kW`` windows of ``(N, C, D, H, W)`` (``ceil_mode=False``)."""
    if ceil_mode:
        raise NotImplementedError("avg_pool3d: ceil_mode=True is not supported")
    x, batched = _batched3(_t(input), "avg_pool3d")
    k, s, p = _pool3_args(kernel_size, stride, padding)
    xp = F.pad(x, (p[2], p[2], p[1], p[1], p[0], p[0]))
    n = x.shape[0]
    od = (xp.shape[2] - k[0]) // s[0] + 1
    ones = np.zeros((1, 1) + tuple(xp.shape[2:]))
    ones[:, :, p[0]: p[0] + x.shape[2], p[1]: p[1] + x.shape[3], p[2]: p[2] + x.shape[4]] = 1.0
    win = np.ones((1, 1) + k)
    total = None
    for pl in _depth_slices(xp, k[0], s[0], 1, od):
        y = F.avg_pool2d(_fold_depth(pl), k[1:], s[1:], 0) * float(k[1] * k[2])
        total = y if total is None else total + y
    summed = _unfold_depth(total, n, od)
    if divisor_override:
        res = summed / float(divisor_override)
    elif count_include_pad:
        res = summed / float(np.prod(k))
    else:
        cnt = conv3d(_const(ones, x), _const(win, x), None, s).detach()
        res = summed / cnt
    return res if batched else A.squeeze(res, 0)
