"""Vision functions of gradkit.nn.functional: padding, resampling, pixel shuffles, unfold/fold."""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from gradkit import _api as A
from gradkit._core.concrete import user_stacklevel
from gradkit._core.tensor import Tensor
from gradkit.nn import functional as F
from gradkit.ops import nn as P
from gradkit.ops import shape as S
from gradkit.ops._registry import apply
from ._base import _t
from gradkit._core.autocast import autocast_op

__all__ = [
    "pad", "pixel_shuffle", "pixel_unshuffle", "interpolate", "upsample", "upsample_nearest",
    "upsample_bilinear", "unfold", "fold", "grid_sample", "affine_grid", "channel_shuffle",
    "native_channel_shuffle",
]


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
        for d, (lo, hi) in pairs.items():
            if x.shape[d] + lo + hi < 0:
                # NOTE: PyTorch 2.13's words (its crop is a narrow)
                raise RuntimeError(f"narrow(): length must be non-negative. (pad {lo}, {hi} of "
                                   f"dimension {d}, of size {x.shape[d]})")
        return S.constant_pad_nd_p(x, pad=tuple(pad), value=0.0 if value is None else value)
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
    if mode == "circular":
        return _pad_circular(x, pairs, tuple(pad))
    # one index node, named as PyTorch's (ReflectionPad2DBackward0, ReplicationPad1DBackward0, ...)
    variant = {"reflect": S.REFLECTION_PAD, "replicate": S.REPLICATION_PAD}.get(mode, {}).get(k, S.INDEX)
    return apply(S.getitem_p.prim, (x,), {"index": (Ellipsis,) + np.ix_(*index)}, variant)


def _pad_circular(x: Tensor, pairs: dict[int, tuple[int, int]], pad: tuple[int, ...]) -> Tensor:
    """Circular padding as PyTorch writes it (its nodes: CopySlices): ``x`` (cropped where a
    pad is negative) copied into the middle of a new tensor, then each padded dim's wrapped
    edges copied from the opposite side of that tensor."""
    shape = list(x.shape)
    for d, (lo, hi) in pairs.items():
        kept = x.shape[d] + min(lo, 0) + min(hi, 0)
        if lo > kept or hi > kept:
            # NOTE: PyTorch 2.13 checks the pads against the uncropped size only and then reads
            # memory it never wrote (a pad wider than what a negative pad leaves)
            raise RuntimeError("Padding value causes wrapping around more than once (a pad is "
                               f"wider than the {kept} elements dimension {d} keeps after cropping).")
        shape[d] += lo + hi
    # a new tensor of the padded shape made from x (batched where x is, under vmap); every
    # element is written below
    out = S.constant_pad_nd_p(x.detach(), pad=pad, value=0.0)
    dst: list[Any] = [slice(None)] * x.ndim
    src: list[Any] = [slice(None)] * x.ndim
    for d, (lo, hi) in pairs.items():
        dst[d] = slice(max(lo, 0), shape[d] - max(hi, 0))
        src[d] = slice(max(-lo, 0), x.shape[d] - max(-hi, 0))
    out[tuple(dst)] = x[tuple(src)]
    for d in sorted(pairs):
        lo, hi = pairs[d]
        n = shape[d]
        pre = (slice(None),) * d
        if lo > 0:
            out[pre + (slice(0, lo),)] = out[pre + (slice(n - lo - max(hi, 0), n - max(hi, 0)),)]
        if hi > 0:
            out[pre + (slice(n - hi, n),)] = out[pre + (slice(max(lo, 0), max(lo, 0) + hi),)]
    return out


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
    return S.pixel_shuffle_p(x, r=r)           # one node, PyTorch's PixelShuffleBackward0


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
    return S.pixel_unshuffle_p(x, r=r)         # one node, PyTorch's PixelUnshuffleBackward0


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Split the ``C`` channels of ``(N, C, *)`` into ``groups`` and interleave them (ShuffleNet)."""
    x = _t(input)
    if groups <= 0:
        raise RuntimeError("Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    if x.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(x.shape)}")
    c = x.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} "
                           "groups.")
    n, rest = x.shape[0], tuple(x.shape[2:])
    y = A.transpose(A.reshape(x, (n, groups, c // groups, *rest)), 1, 2)
    return A.reshape(y, (n, c, *rest))


native_channel_shuffle = channel_shuffle


# --- interpolation ----------------------------------------------------------------------
_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "lanczos": 2, "trilinear": 3}


def _src_scale(n_in: int, n_out: int, align_corners: bool, scale: float | None) -> float:
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n_in / n_out


def _cubic_coeffs(t: np.ndarray) -> np.ndarray:
    return np.stack(P.cubic_weights(t), -1)


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


def _aa_filter(x: np.ndarray, mode: str) -> np.ndarray:
    """The anti-aliasing kernels: a triangle (bilinear), Keys' cubic with a = -0.5 (bicubic),
    Lanczos with three lobes."""
    x = np.abs(x)
    if mode == "linear":
        return np.where(x < 1, 1 - x, 0.0)
    if mode == "lanczos":                     # sinc(x) sinc(x / 3) on |x| < 3
        return np.where(x < 3, np.sinc(x) * np.sinc(x / 3), 0.0)
    a = -0.5
    return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))


def _aa_matrix(n_in: int, n_out: int, mode: str, align_corners: bool, scale: float | None) -> np.ndarray:
    """``(n_out, n_in)`` weights of PyTorch's anti-aliased resize along one axis: each output
    sample averages the inputs under a kernel stretched by the downscale factor (Pillow's way)."""
    if n_in == n_out:                         # PyTorch leaves an axis of unchanged size as is
        return np.eye(n_in)
    s = _src_scale(n_in, n_out, align_corners, scale)
    support = {"linear": 1.0, "cubic": 2.0, "lanczos": 3.0}[mode] * max(s, 1.0)
    inv = 1.0 / s if s >= 1.0 else 1.0
    center = s * (np.arange(n_out) + 0.5)[:, None]
    j = np.arange(n_in)[None, :]
    # each row's taps: [center - support + 0.5, center + support + 0.5) truncated, inside the axis
    taps = (j >= np.trunc(center - support + 0.5)) & (j < np.trunc(center + support + 0.5))
    w = np.where(taps, _aa_filter((j - center + 0.5) * inv, mode), 0.0)
    total = w.sum(axis=1, keepdims=True)
    return w / np.where(total != 0, total, 1.0)


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
    if antialias and (mode not in ("bilinear", "bicubic", "lanczos") or x.ndim != 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    if mode == "lanczos":
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
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
    if mode not in ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "lanczos", "trilinear",
                    "area"):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) "
                                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | "
                                  f"nearest-exact (got {mode})")
    if any(s <= 0 for s in out_sizes):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(str(n) for n in x.shape[2:])}) and output "
                           f"({', '.join(str(n) for n in out_sizes)})")
    if mode == "area":                      # PyTorch: adaptive average pooling
        if nd == 1:
            return F.adaptive_avg_pool1d(x, out_sizes[0])
        if nd == 2:
            return F.adaptive_avg_pool2d(x, tuple(out_sizes))
        return F.adaptive_avg_pool3d(x, tuple(out_sizes))
    kind = {"bicubic": "cubic", "lanczos": "lanczos"}.get(mode, "linear" if mode in _DIMS else mode)
    build = _aa_matrix if antialias else _interp_matrix
    mats = tuple(build(x.shape[2 + k], out_sizes[k], kind, bool(align_corners), scales[k])
                 for k in range(nd))
    # one node, PyTorch's (UpsampleNearest2DBackward0, UpsampleBilinear2DBackward0, ...)
    name = {"nearest": f"UpsampleNearest{nd}D", "nearest-exact": f"UpsampleNearestExact{nd}D",
            "linear": "UpsampleLinear1D", "bilinear": "UpsampleBilinear2D",
            "bicubic": "UpsampleBicubic2D", "lanczos": "UpsampleLanczos2D",
            "trilinear": "UpsampleTrilinear3D"}[mode]
    return P.resample(x, mats, name + ("Aa" if antialias else ""))


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of :func:`interpolate`."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=user_stacklevel())
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=user_stacklevel())
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=user_stacklevel())
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# --- im2col / col2im --------------------------------------------------------------------
def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sliding local blocks of ``(N, C, H, W)`` as columns ``(N, C kH kW, L)`` (im2col)."""
    x = _t(input)
    if x.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {x.ndim}D)")
    kh, kw = F._ntuple(kernel_size, 2, "kernel_size")
    d, p, s = (F._ntuple(v, 2, n) for v, n in ((dilation, "dilation"), (padding, "padding"),
                                                  (stride, "stride")))
    for n_, k_, d_, p_ in zip(x.shape[-2:], (kh, kw), d, p):
        if n_ + 2 * p_ - d_ * (k_ - 1) - 1 < 0:
            raise RuntimeError(f"Given input with spatial size ({x.shape[-2]}, {x.shape[-1]}), "
                               f"kernel_size=({kh}, {kw}), dilation=({d[0]}, {d[1]}), padding=({p[0]}, "
                               f"{p[1]}), calculated shape of the array of sliding blocks is "
                               "non-positive.")
    # one node, PyTorch's Im2ColBackward0
    return P.im2col_p(x, kernel=(kh, kw), dilation=d, padding=p, stride=s)


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
    # one node, PyTorch's Col2ImBackward0 (an unbatched input is one sample for the row)
    return P.col2im_p(x if batched else _t(input), output_size=(oh, ow), kernel=(kh, kw),
                      dilation=d, padding=p, stride=s)


# --- sampling grids ---------------------------------------------------------------------
@autocast_op
def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` at the locations in ``grid`` (x, y[, z] in [-1, 1]), PyTorch's ``F.grid_sample``.

    ``mode`` ``'bilinear'`` / ``'nearest'`` (4-D and 5-D input) or ``'bicubic'`` (4-D); padding
    ``'zeros'``, ``'border'`` or ``'reflection'``. One node of the table: gradients (of any order)
    flow to ``input`` and (except ``'nearest'``, whose grid gradient is 0) to ``grid``. A nan or
    infinite grid coordinate samples nan.
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
                         f"'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since "
                      "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
                      "documentation of grid_sample for details.", stacklevel=user_stacklevel())
        align_corners = False
    x, g = _t(input), _t(grid, "grid")
    sizes = f"input with sizes {list(x.shape)} and grid with sizes {list(g.shape)}"
    if x.ndim == 0 or g.ndim == 0 or x.shape[0] != g.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but got "
                           f"{sizes}")
    if x.ndim not in (4, 5) or g.ndim != x.ndim:
        raise RuntimeError("grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, "
                           f"but got {sizes}")
    nd = x.ndim - 2
    if g.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension, but got grid "
                           f"with sizes {list(g.shape)}")
    for d in range(2, x.ndim):
        if x.shape[d] == 0:
            raise RuntimeError("grid_sampler(): expected input to have non-empty spatial dimensions, but "
                               f"input has sizes {list(x.shape)} with dimension {d} being empty")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if x._data.dtype.kind not in "fV":
        raise NotImplementedError(f"grid_sampler(): not implemented for '{x.dtype}'")
    if x.dtype != g.dtype:
        raise RuntimeError(f"expected scalar type {x.dtype} but found {g.dtype}")
    # one node, PyTorch's GridSampler2DBackward0 / GridSampler3DBackward0 (a row of the table)
    return apply(P.grid_sampler_p.prim, (x, g), {"mode": mode, "padding_mode": padding_mode,
                                                 "align_corners": bool(align_corners)}, nd - 2)


def _linspace_from_neg_one(steps: int, align_corners: bool, dtype: Any) -> np.ndarray:
    if steps <= 1:
        return np.zeros(steps, dtype)
    a = 1.0 if align_corners else (steps - 1) / steps
    return np.linspace(-a, a, steps).astype(dtype)


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The sampling grid of the affine maps ``theta`` (``(N, 2, 3)`` or ``(N, 3, 4)``) for ``grid_sample``.

    ``size`` is the output's ``(N, C, H, W)`` or ``(N, C, D, H, W)``; the grid is ``(N, H, W, 2)`` or
    ``(N, D, H, W, 3)``: each output pixel's normalized coordinates (x, y[, z], 1) times ``theta^T``.
    """
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since "
                      "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
                      "documentation of grid_sample for details.", stacklevel=user_stacklevel())
        align_corners = False
    th = _t(theta, "theta")
    if th._data.dtype.kind not in "fV":           # (the dtype only: a lazy array stays lazy)
        raise ValueError(f"Expected theta to have floating point type, but got {th.dtype}")
    shown = _size_repr(size)
    size = [int(s) for s in size]
    if len(size) == 4:
        if th.ndim != 3 or th.shape[-2] != 2 or th.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {shown}. "
                             f"Got {th.shape}.")
    elif len(size) == 5:
        if th.ndim != 3 or th.shape[-2] != 3 or th.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {shown}. "
                             f"Got {th.shape}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine "
                                  f"transforms, respectively. Got size {shown}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the "
                      "documentation of affine_grid for details.", stacklevel=user_stacklevel())
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {shown}")
    dtype = np.dtype(th._data.dtype)
    axes = [_linspace_from_neg_one(s, align_corners, dtype) for s in reversed(spatial)]  # x, y[, z]
    mesh = np.meshgrid(*reversed(axes), indexing="ij")[::-1]  # each of shape spatial
    base = np.stack([*mesh, np.ones(spatial, dtype)], -1).reshape(1, -1, len(spatial) + 1)
    if th.shape[0] == size[0]:
        # one node, PyTorch's AffineGridGeneratorBackward0 (a row of the table)
        return P.affine_grid_p(th, base=base, spatial=tuple(spatial))
    grid = A.matmul(F._const(np.broadcast_to(base, (size[0], *base.shape[1:])), th), A.transpose(th, 1, 2))
    return A.reshape(grid, (size[0], *spatial, len(spatial)))


def _size_repr(size: Sequence[int]) -> str:
    return repr(size) if isinstance(size, (list, tuple)) else repr(list(size))


def _layout_kept(fn: Any) -> Any:
    """A resize keeping a channels-last input's layout, as PyTorch's kernels do."""
    from ._base import _follow_layout
    from gradkit._api.base import _like

    def run(input: Any, *args: Any, **kwargs: Any) -> Any:
        return _follow_layout(fn(input, *args, **kwargs), input)
    return _like(run, fn)


interpolate = _layout_kept(interpolate)
