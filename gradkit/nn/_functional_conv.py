"""Convolution and pooling of gradkit.nn.functional.

Part of ``gradkit.nn.functional`` (see its docstring).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import _api as A
from gradkit._core.tensor import Tensor
from ..ops import nn as P
from ..ops._registry import apply
from ._functional_base import _const, _ntuple, _t

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
