"""Pooling functions of gradkit.nn.functional."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit import _api as A
from gradkit._core.tensor import Tensor, _make
from gradkit.nn import functional as F
from gradkit.ops import nn as P
from gradkit.ops._registry import apply
from ._base import _const, _ntuple, _t
from ._conv import _batched3, _triple
from gradkit._core.autocast import autocast_op

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d", "lp_pool1d", "lp_pool2d",
    "lp_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices", "fractional_max_pool2d", "fractional_max_pool3d",
    "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices", "max_pool3d",
    "avg_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d", "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
]


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
    x = _t(input)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor for input, "
                           f"but got: {list(x.shape)}")
    k, s, p, _, pads, outs = _pool_args(x, nd, kernel_size, stride, padding, 1, ceil_mode, name)
    for pi, ki in zip(p, k):
        if pi > ki // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation=1")
    sizes = tuple(x.shape[-nd:])
    if nd == 1:
        k, s, pads, sizes, outs = (1,) + k, (1,) + s, ((0, 0),) + pads, (1,) + sizes, (1,) + outs
        p = (0,) + p
        x = A.unsqueeze(x, -2)                  # as PyTorch: a 2-D pool over a height of 1
    if divisor_override:
        div = np.full(outs, float(divisor_override))
    else:
        div = np.ones(())
        for i in range(len(outs)):
            div = np.multiply.outer(div, _avg_divisor(sizes[i], outs[i], k[i], s[i], p[i],
                                                      count_include_pad))
        div = div.astype(np.float64)
    if nd == 3:
        # PyTorch's node: one AvgPool3DBackward0 (a row of the table)
        return P.avg_pool3d_p(x, kernel=k, stride=s, padding=pads, divisor=div)
    out = P.avg_pool2d_p(x, kernel=k, stride=s, padding=pads, divisor=div)
    return A.squeeze(out, -2) if nd == 1 else out


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
    if oh == 1 and ow == 1:
        return A.mean(x, (-1, -2), keepdim=True)     # PyTorch's path (MeanBackward1)
    # NOTE: the windows are separable: rows are averaged by one matrix, columns by another
    return P.resample(x, (_adaptive_matrix(h, oh), _adaptive_matrix(w, ow)), "AdaptiveAvgPool2D")


@autocast_op
def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Average over the adaptive windows of ``(N, C, D, H, W)`` that give ``output_size``."""
    x = _t(input)
    if x.ndim not in (4, 5):
        raise RuntimeError(f"adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got {list(x.shape)}")
    size = tuple(output_size) if isinstance(output_size, (list, tuple)) else (output_size,) * 3
    if len(size) != 3:
        raise RuntimeError("adaptive_avg_pool3d: output_size must be 3")
    sizes = tuple(n if o is None else int(o) for o, n in zip(size, x.shape[-3:]))
    if all(o == 1 for o in sizes):
        return A.mean(x, (-1, -2, -3), keepdim=True)     # PyTorch's path (MeanBackward1)
    return P.resample(x, tuple(_adaptive_matrix(n, o) for n, o in zip(x.shape[-3:], sizes)),
                      "AdaptiveAvgPool3D")


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average over the adaptive windows of ``(N, C, L)`` that give ``output_size``."""
    x = _t(input)
    if x.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d(): Expected 2D or 3D tensor, but got {list(x.shape)}")
    o = output_size[0] if isinstance(output_size, (list, tuple)) else output_size
    return A.squeeze(F.adaptive_avg_pool2d(A.unsqueeze(x, -2), (1, int(o))), -2)


def _adaptive_max(x: Tensor, sizes: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Max and flat argmax (first maximum, nan wins) over adaptive windows of the trailing dims."""
    nd = len(sizes)
    lead, spatial = tuple(x.shape[:-nd]), tuple(x.shape[-nd:])
    data = np.asarray(x.detach().numpy()).reshape((-1,) + spatial)
    flat_pos = np.arange(int(np.prod(spatial))).reshape(spatial)
    bounds = [P._adaptive_bounds(n, o) for n, o in zip(spatial, sizes)]
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
    if nd == 2:
        out, idx = P.adaptive_max_pool2d_p(x, sizes=size)
    elif nd == 3:
        out, idx = _adaptive_max(x, size)
    else:                                         # PyTorch's: a 2-D pool over a height of 1
        out, idx = P.adaptive_max_pool2d_p(A.unsqueeze(x, -2), sizes=(1,) + size)
        out, idx = A.squeeze(out, -2), A.squeeze(idx, -2)
    return (out, idx) if return_indices else out


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over the adaptive windows of ``(N, C, L)``; the gradient goes to the first maximum."""
    return _adaptive_max_pool(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over the adaptive windows of ``(N, C, H, W)``; indices are flat in each ``H * W`` plane."""
    return _adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


@autocast_op
def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over the adaptive windows of ``(N, C, D, H, W)``; indices are flat in each
    ``D * H * W`` volume."""
    return _adaptive_max_pool(input, output_size, return_indices, 3, "adaptive_max_pool3d")


def _lp_finish(out: Tensor, norm_type: float, count: int) -> Tensor:
    return (A.sign(out) * F.relu(A.abs(out)) * float(count)) ** (1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``(sum over the window of x ** p) ** (1 / p)``, as PyTorch computes it (via ``avg_pool1d``)."""
    x = _t(input)
    k = F._ntuple(kernel_size, 1, "kernel_size")[0]
    if norm_type == float("inf"):           # PyTorch switches to max pooling of |x|
        return max_pool1d(A.abs(x), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool1d(-A.abs(x), kernel_size, stride, 0, 1, ceil_mode)
    out = F.avg_pool1d(x ** norm_type, k, stride, 0, ceil_mode)
    return _lp_finish(out, norm_type, k)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``(sum over the window of x ** p) ** (1 / p)``, as PyTorch computes it (via ``avg_pool2d``)."""
    x = _t(input)
    kh, kw = F._ntuple(kernel_size, 2, "kernel_size")
    if norm_type == float("inf"):           # PyTorch switches to max pooling of |x|
        return max_pool2d(A.abs(x), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool2d(-A.abs(x), kernel_size, stride, 0, 1, ceil_mode)
    out = F.avg_pool2d(x ** norm_type, (kh, kw), stride, 0, ceil_mode)
    return _lp_finish(out, norm_type, kh * kw)


def _pool3_args(kernel_size: Any, stride: Any, padding: Any) -> tuple[tuple[int, ...], ...]:
    k = _triple(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _triple(stride, "stride")
    p = _triple(padding, "padding")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise RuntimeError("pad should be at most half of effective kernel size, but got pad="
                           f"{p[0]}, kernel_size={k[0]} and dilation=1")
    return k, s, p


@autocast_op
def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """Max over ``kD x kH x kW`` windows of ``(N, C, D, H, W)``: one node, PyTorch's
    MaxPool3DWithIndicesBackward0 (the whole gradient to each window's maximum)."""
    x, batched = _batched3(_t(input), "max_pool3d")
    k, s, p = _pool3_args(kernel_size, stride, padding)
    d = _triple(dilation, "dilation")
    out = tuple(_pool_out(x.shape[2 + i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(3))
    if min(out) <= 0:
        raise RuntimeError(f"max_pool3d: Given input size: ({', '.join(map(str, x.shape[1:]))}). "
                           f"Calculated output size: ({x.shape[1]}x{'x'.join(map(str, out))}). "
                           "Output size is too small")
    val, idx = P.max_pool3d_p(x, kernel=k, stride=s, padding=p, dilation=d, out=out)
    if not batched:
        val, idx = A.squeeze(val, 0), A.squeeze(idx, 0)
    return (val, idx) if return_indices else val


@autocast_op
def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over ``kD x kH x kW`` windows of ``(N, C, D, H, W)``; the divisor follows PyTorch's
    rules (one node, PyTorch's AvgPool3DBackward0)."""
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "avg_pool3d")


# --- unpooling ----------------------------------------------------------------------------
def _unpool_size(x: Tensor, nd: int, k: tuple[int, ...], s: tuple[int, ...], p: tuple[int, ...],
                 output_size: Any) -> list[int]:
    default = [(x.shape[x.ndim - nd + d] - 1) * s[d] + k[d] - 2 * p[d] for d in range(nd)]
    if output_size is None:
        return default
    size = [int(v) for v in output_size]
    if len(size) == nd + 2:
        size = size[2:]
    if len(size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                         f"elements, but it has a length of '{len(size)}'")
    for d in range(nd):
        lo, hi = default[d] - s[d], default[d] + s[d]
        if not lo < size[d] < hi:
            raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must be '
                             f"between {lo} and {hi})")
    return size


def _max_unpool(input: Any, indices: Any, nd: int, kernel_size: Any, stride: Any, padding: Any,
                output_size: Any) -> Tensor:
    """Put each value of ``input`` at its flat position ``indices`` (from ``max_pool*d(...,
    return_indices=True)``) in a zero plane of the unpooled size: a scatter, so the gradient
    gathers back."""
    x, idx = _t(input), _t(indices)
    shown = max(nd, 2)  # NOTE: PyTorch runs the 1-d case as 2-d and says so in its messages
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to max_unpooling{shown}d should be a {shown + 1}d or "
                           f"{shown + 2}d Tensor, but got a tensor with {x.ndim} dimensions.")
    if idx._data.dtype != np.int64:
        raise RuntimeError("elements in indices should be type int64 but got: "
                           f"{A._scalar_name(idx.dtype)}")
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError("Expected shape of indices to be same as that of the input tensor "
                           f"({list(x.shape)}) but got indices tensor with shape: "
                           f"{list(idx.shape)}")
    k = _ntuple(kernel_size, nd, "kernel_size")
    s = k if stride is None else _ntuple(stride, nd, "stride")
    p = _ntuple(padding, nd, "padding")
    size = _unpool_size(x, nd, k, s, p, output_size)
    plane = int(np.prod(size))
    flat_idx = idx._data.reshape(-1)
    bad = flat_idx[(flat_idx < 0) | (flat_idx >= plane)]
    if bad.size:
        dims = "x".join(str(v) for v in (size + [1] if nd == 1 else size))
        raise RuntimeError(f"Found an invalid max index: {int(bad[0])} (output volumes are of "
                           f"size {dims}")
    lead = tuple(x.shape[:x.ndim - nd])
    rows = int(np.prod(lead))
    src = A.reshape(x, (rows, -1))
    where = A.reshape(idx, (rows, -1))
    out = A.scatter(_const(np.zeros((rows, plane)), x), 1, where, src)
    return A.reshape(out, lead + tuple(size))


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The inverse of ``max_pool1d``: the maxima back in place, zeros elsewhere."""
    return _max_unpool(input, indices, 1, kernel_size, stride, padding, output_size)


@autocast_op
def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The inverse of ``max_pool2d``: the maxima back in place, zeros elsewhere."""
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size)


@autocast_op
def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The inverse of ``max_pool3d``: the maxima back in place, zeros elsewhere."""
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``(sum over the window of x ** p) ** (1 / p)`` over ``kD x kH x kW`` windows (via ``avg_pool3d``)."""
    x = _t(input)
    kd, kh, kw = _triple(kernel_size, "kernel_size")
    if norm_type == float("inf"):
        return max_pool3d(A.abs(x), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool3d(-A.abs(x), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool3d(x ** norm_type, kernel_size, stride, 0, ceil_mode)
    return _lp_finish(out, norm_type, kd * kh * kw)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """``max_pool1d`` returning ``(output, indices)`` whatever ``return_indices`` says (PyTorch's form)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """``max_pool2d`` returning ``(output, indices)``."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """``max_pool3d`` returning ``(output, indices)``."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """``adaptive_max_pool1d`` returning ``(output, indices)``."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """``adaptive_max_pool2d`` returning ``(output, indices)``."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """``adaptive_max_pool3d`` returning ``(output, indices)``."""
    return adaptive_max_pool3d(input, output_size, True)


# --- fractional max pooling ---------------------------------------------------------------
def _fractional_starts(samples: np.ndarray, n_in: int, n_out: int, k: int) -> np.ndarray:
    """PyTorch's window starts along one dim: ``trunc((i + u) a) - trunc(u a)``, the last ``n_in - k``."""
    dt = samples.dtype
    alpha = dt.type(n_in - k) / dt.type(n_out - 1) if n_out > 1 else dt.type(0)
    i = np.arange(n_out - 1, dtype=dt)
    seq = (np.trunc((i + samples[..., None]) * alpha) - np.trunc(samples[..., None] * alpha)).astype(np.int64)
    return np.concatenate([seq, np.full(samples.shape + (1,), n_in - k, np.int64)], -1)


def _fractional_max_pool(input: Tensor, nd: int, kernel_size: Any, output_size: Any, output_ratio: Any,
                         return_indices: bool, samples: Any, name: str) -> Any:
    x = _t(input)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(x.shape)}")
    k = F._ntuple(kernel_size, nd, "kernel_size")
    lead = tuple(x.shape[:-nd])
    spatial = tuple(x.shape[-nd:])
    if output_size is None:
        ratio = output_ratio if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * nd
        if len(ratio) > nd:
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
        out = tuple(int(s * r) for s, r in zip(spatial, ratio))
    else:
        out = F._ntuple(output_size, nd, "output_size")
    dims = ("time", "height", "width")[3 - nd:]
    for d in range(nd):   # PyTorch's 3-D check is strict, its 2-D one is not
        if out[d] + k[d] - 1 > spatial[d] - (nd == 3):
            where = name + ("_out" if nd == 3 else "")
            raise RuntimeError(f"{where}(): pool {dims[d]} {k[d]} too large relative to input {dims[d]} "
                               f"{spatial[d]}")
    n, c = (lead[0], lead[1]) if len(lead) == 2 else (1, lead[0])
    if samples is None:
        from gradkit._core import creation as Fa
        samples = Fa.rand(n, c, nd, dtype=x.dtype)
    u = np.asarray(_t(samples, "_random_samples")._data).astype(x._data.dtype)
    # PyTorch's sample columns: (W, H) for 2-D, (T, H, W) for 3-D
    cols = [1, 0] if nd == 2 else [0, 1, 2]
    starts = tuple(_fractional_starts(u[..., cols[d]], spatial[d], out[d], k[d]).reshape(lead + (out[d],))
                   for d in range(nd))
    # one node, PyTorch's FractionalMaxPool2DBackward0 / 3D (a row of the table)
    res, indices = apply(P.fractional_max_pool_p.prim, (x,), {"starts": starts, "kernel": k}, nd - 2)
    return (res, indices) if return_indices else res


@autocast_op
def fractional_max_pool2d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Any = None) -> Any:
    """Max over pseudo-randomly placed ``kH x kW`` windows (Graham's fractional max pooling)."""
    return _fractional_max_pool(input, 2, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples, "fractional_max_pool2d")


@autocast_op
def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Any = None) -> Any:
    """Max over pseudo-randomly placed ``kT x kH x kW`` windows."""
    return _fractional_max_pool(input, 3, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples, "fractional_max_pool3d")


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Any = None) -> Any:
    """``fractional_max_pool2d`` returning ``(output, indices)``."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Any = None) -> Any:
    """``fractional_max_pool3d`` returning ``(output, indices)``."""
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True, _random_samples)


def _layout_kept(fn: Any) -> Any:
    """A 2-D pooling keeping a channels-last input's layout, as PyTorch's kernels do."""
    from ._base import _follow_layout
    from gradkit._api.base import _like

    def run(input: Any, *args: Any, **kwargs: Any) -> Any:
        return _follow_layout(fn(input, *args, **kwargs), input)
    return _like(run, fn)


max_pool2d = _layout_kept(max_pool2d)
avg_pool2d = _layout_kept(avg_pool2d)
adaptive_avg_pool2d = _layout_kept(adaptive_avg_pool2d)
adaptive_max_pool2d = _layout_kept(adaptive_max_pool2d)
max_pool2d_with_indices = _layout_kept(max_pool2d_with_indices)
adaptive_max_pool2d_with_indices = _layout_kept(adaptive_max_pool2d_with_indices)
