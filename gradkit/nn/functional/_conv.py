"""Convolution functions of gradkit.nn.functional."""

from __future__ import annotations

from typing import Any, Sequence


import numpy as np

from gradkit import _api as A
from gradkit._core import backend as _backend
from gradkit._core.tensor import Tensor
from gradkit.nn import functional as F
from gradkit.ops import nn as P
from gradkit.ops._registry import apply
from ._base import _const, _follow_layout, _ntuple, _t
from gradkit._core.autocast import autocast_op

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "conv_transpose1d", "conv3d",
           "conv_transpose3d"]


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


def _positive_steps(stride: tuple[int, ...], dilation: tuple[int, ...], nd: int) -> None:
    """PyTorch's errors for a stride or dilation below 1 (NumPy slicing would accept a negative
    step and read the input backwards)."""
    if any(v <= 0 for v in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(v <= 0 for v in dilation):
        shown = [1, *dilation] if nd == 1 else list(dilation)
        raise RuntimeError(f"dilation should be greater than zero, but got {shown}")


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


def _conv_bias(bias: Any, w: Tensor) -> Tensor:
    """The bias of a convolution (checked as PyTorch checks it), or a constant zero one."""
    o = w.shape[0]
    if bias is None:
        return _const(np.zeros((o,), w._data.dtype), w)
    b = _t(bias, "bias")
    if b.ndim != 1 or b.shape[0] != o:
        raise RuntimeError(f"Given weight of size {list(w.shape)}, expected bias to be 1-dimensional "
                           f"with {o} elements, but got bias of size {list(b.shape)} instead")
    return b


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
    _positive_steps(stride, dilation, nd)
    pads = _conv_padding(padding, w.shape[2:], dilation, stride, nd)
    _check_conv(x, w, groups, pads, dilation)
    if nd <= 2 and not _backend.is_lazy(x._data):
        # one ConvolutionBackward0 node over (input, weight, bias), as PyTorch's
        b = _conv_bias(bias, w)
        if nd == 1:                # a 1-D convolution is a 2-D one over a height of 1
            stride, dilation, pads = (1,) + stride, (1,) + dilation, ((0, 0),) + pads
        out = apply(P.convolution_p.prim, (x, w, b), {"nd": nd, "stride": stride, "padding": pads,
                                                      "dilation": dilation, "groups": groups})
        if nd == 2 and batched:
            _follow_layout(out, x, w)          # channels-last in, channels-last out
        return out if batched else A.squeeze(out, 0)
    if nd == 1:                    # a 1-D convolution is a 2-D one over a height of 1
        x, w = A.unsqueeze(x, 2), A.unsqueeze(w, 2)
        stride, dilation, pads = (1,) + stride, (1,) + dilation, ((0, 0),) + pads
    out = P.conv2d_p(x, w, stride=stride, padding=pads, dilation=dilation, groups=groups)
    if nd == 1:
        out = A.squeeze(out, 2)
    out = _bias(out, bias, nd, w)
    return out if batched else A.squeeze(out, 0)


@autocast_op
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of ``(N, C, L)`` (or ``(C, L)``) with ``(O, C / groups, k)``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


@autocast_op
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


@autocast_op
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed 2-D convolution (the input gradient of ``conv2d``); weight ``(C, O / groups, kH, kW)``."""
    x, batched = _batched(_t(input), 2, "conv_transpose2d")
    w = _t(weight, "weight")
    out = _conv_transpose(x, w, bias, stride, padding, output_padding, groups, dilation, 2)
    return out if batched else A.squeeze(out, 0)


def _conv_transpose(x: Tensor, w: Tensor, bias: Any, stride: Any, padding: Any, output_padding: Any,
                    groups: int, dilation: Any, nd: int) -> Tensor:
    """One ConvolutionBackward0 node (the ``convolution_transpose`` row) over a batched 4-D
    input, or a 3-D one when ``nd == 1`` (run as 2-D over a height of 1 inside the row)."""
    x4, w4 = (A.unsqueeze(x, 2), A.unsqueeze(w, 2)) if nd == 1 else (x, w)
    out = _conv_transpose4(x4, w4, bias, stride, padding, output_padding, groups, dilation,
                           x if nd == 1 else None, w if nd == 1 else None)
    return out


def _transpose_bias(bias: Any, w: Tensor, o: int) -> Tensor:
    """The bias of a transposed convolution with ``o`` output channels, checked; a missing one
    is a constant zero (None in next_functions, as PyTorch's)."""
    if bias is None:
        return _const(np.zeros((o,), w._data.dtype), w)
    b = _t(bias, "bias")
    if b.ndim != 1 or b.shape[0] != o:
        raise RuntimeError(f"Given weight of size {list(w.shape)}, expected bias to be "
                           f"1-dimensional with {o} elements, but got bias of size "
                           f"{list(b.shape)} instead")
    return b


def _conv_transpose4(x: Tensor, w: Tensor, bias: Any, stride: Any, padding: Any, output_padding: Any,
                     groups: int, dilation: Any, x3: Any, w3: Any) -> Tensor:
    s = _ntuple(stride, 2, "stride")
    p = _ntuple(padding, 2, "padding")
    op = _ntuple(output_padding, 2, "output_padding")
    d = _ntuple(dilation, 2, "dilation")
    _positive_steps(s, d, 2)
    if any(q < 0 for q in p):
        raise RuntimeError("negative padding is not supported")
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
    o = w.shape[1] * groups
    params = {"nd": 1 if x3 is not None else 2, "input_shape": (x.shape[0], o) + size, "stride": s,
              "padding": tuple((q, q) for q in p), "dilation": d, "groups": groups}
    b = _transpose_bias(bias, w, o)
    args = (x, w, b) if x3 is None else (x3, w3, b)
    return apply(P.convolution_transpose_p.prim, args, params, 0)


# --- convolution and pooling ------------------------------------------------------------
@autocast_op
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

    batched = x.ndim == 3
    xb = x if batched else A.unsqueeze(x, 0)
    out = _conv_transpose(xb, w, bias, one(stride, "stride"), one(padding, "padding"),
                          one(output_padding, "output_padding"), groups, one(dilation, "dilation"), 1)
    return out if batched else A.squeeze(out, 0)


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


@autocast_op
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
    _positive_steps(s, d, 3)
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
        if any(q < 0 for q in p):
            raise RuntimeError("negative padding is not supported")
    kd, kh, kw = w.shape[2:]
    for size, k, pi, di in zip(x.shape[2:], (kd, kh, kw), p, d):
        if size + 2 * pi - di * (k - 1) - 1 < 0:
            raise RuntimeError("Calculated output size is too small")
    # one node over (input, weight, bias), PyTorch's ConvolutionBackward0 (a missing bias is a
    # constant zero: None in next_functions, as PyTorch's)
    b = _const(np.zeros(w.shape[0]), w) if bias is None else _t(bias, "bias")
    res = P.convolution3d_p(x, w, b, stride=s, padding=(p[0], ((p[1], p[1]), (p[2], p[2]))),
                            dilation=d, groups=groups)
    return res if batched else A.squeeze(res, 0)


@autocast_op
def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed 3-D convolution of ``(N, C, D, H, W)`` with ``(C, O / groups, kD, kH, kW)``.

    A composite: for each kernel depth a 2-D transposed convolution of every input plane, the
    results spread ``stride`` apart in depth and shifted by ``dilation`` times the kernel depth
    index, summed and cropped by ``padding`` (so its gradients are those of its parts).
    """
    x, batched = _batched3(_t(input), "conv_transpose3d")
    w = _t(weight, "weight")
    if w.ndim != 5:
        raise RuntimeError(f"weight should have 5 dimensions for conv_transpose3d, got "
                           f"{list(w.shape)}")
    s, p = _triple(stride, "stride"), _triple(padding, "padding")
    op, d = _triple(output_padding, "output_padding"), _triple(dilation, "dilation")
    _positive_steps(s, d, 3)
    if any(q < 0 for q in p):
        raise RuntimeError("negative padding is not supported")
    if any(o >= max(si, di) for o, si, di in zip(op, s, d)):
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           f"got output_padding_depth: {op[0]} output_padding_height: {op[1]} "
                           f"output_padding_width: {op[2]} stride_depth: {s[0]} stride_height: "
                           f"{s[1]} stride_width: {s[2]} dilation_depth: {d[0]} dilation_height: "
                           f"{d[1]} dilation_width: {d[2]}")
    if x.shape[1] != w.shape[0] or w.shape[0] % groups:
        raise RuntimeError(f"Given transposed=1, weight of size {list(w.shape)}, expected input"
                           f"{list(x.shape)} to have {w.shape[0]} channels, but got "
                           f"{x.shape[1]} channels instead")
    size = tuple((n - 1) * si - 2 * pi + di * (k - 1) + oi + 1
                 for n, si, pi, di, k, oi in zip(x.shape[2:], s, p, d, w.shape[2:], op))
    if min(size) <= 0:
        raise RuntimeError("Calculated output size is too small")
    o = w.shape[1] * groups
    b = _transpose_bias(bias, w, o)
    # one node over (input, weight, bias), PyTorch's ConvolutionBackward0
    res = P.convolution_transpose3d_p(x, w, b, stride=s, padding=(p[0], ((p[1], p[1]), (p[2], p[2]))),
                                      dilation=d, groups=groups, out_shape=(x.shape[0], o) + size)
    return res if batched else A.squeeze(res, 0)
