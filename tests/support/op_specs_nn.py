"""OpSpecs for the neural-network primitives (gradkit/ops/nn.py).

The references are plain NumPy loops over output positions: slow, obviously
correct, and independent of the im2col and strided-window tricks they check.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import gradkit.nn.functional as F
from gradkit.ops import nn as P  # noqa: F401  (registers the nn rows in REGISTRY)

from op_specs import OpSpec, avoiding, distinct, then, uniform

Pads = tuple[tuple[int, int], tuple[int, int]]


# --- references ---------------------------------------------------------------------------
def _log_softmax_ref(x: np.ndarray, dim: int) -> np.ndarray:
    m = x.max(axis=dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=dim, keepdims=True))


def _softmax_ref(x: np.ndarray, dim: int) -> np.ndarray:
    return np.exp(_log_softmax_ref(x, dim))


def _hardswish_ref(x: np.ndarray) -> np.ndarray:
    return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _bce_ref(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    return -(t * np.log(x) + (1.0 - t) * np.log(1.0 - x))


def _conv2d_ref(x: np.ndarray, w: np.ndarray, stride: tuple[int, int] = (1, 1),
                padding: Pads = ((0, 0), (0, 0)), dilation: tuple[int, int] = (1, 1),
                groups: int = 1) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    n, _, h, wd = xp.shape
    o, cg, kh, kw = w.shape
    (s0, s1), (d0, d1) = stride, dilation
    ho, wo = (h - d0 * (kh - 1) - 1) // s0 + 1, (wd - d1 * (kw - 1) - 1) // s1 + 1
    out = np.zeros((n, o, ho, wo))
    og = o // groups
    for oc in range(o):
        xs = xp[:, (oc // og) * cg:(oc // og + 1) * cg]
        for i in range(ho):
            for j in range(wo):
                patch = xs[:, :, i * s0:i * s0 + d0 * (kh - 1) + 1:d0, j * s1:j * s1 + d1 * (kw - 1) + 1:d1]
                out[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
    return out


def _conv_t_ref(x: np.ndarray, w: np.ndarray, out_hw: tuple[int, int], stride: tuple[int, int],
                padding: Pads, dilation: tuple[int, int], groups: int) -> np.ndarray:
    """Transposed convolution by its definition: scatter every input value through the kernel."""
    n, cin, h, wd = x.shape
    _, og, kh, kw = w.shape
    cg = cin // groups
    (pt, pb), (pl, pr) = padding
    (s0, s1), (d0, d1) = stride, dilation
    big = (out_hw[0] + pt + pb, out_hw[1] + pl + pr)
    out = np.zeros((n, og * groups) + big)
    for ic in range(cin):
        g = ic // cg
        for oc in range(og):
            for a in range(kh):
                for b in range(kw):
                    out[:, g * og + oc, a * d0:a * d0 + s0 * (h - 1) + 1:s0,
                        b * d1:b * d1 + s1 * (wd - 1) + 1:s1] += x[:, ic] * w[ic, oc, a, b]
    return out[:, :, pt:pt + out_hw[0], pl:pl + out_hw[1]]


def _weight_grad_ref(x: np.ndarray, g: np.ndarray, wshape: tuple[int, ...], stride: tuple[int, int],
                     padding: Pads, dilation: tuple[int, int], groups: int) -> np.ndarray:
    o, cg, kh, kw = wshape
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    _, _, ho, wo = g.shape
    (s0, s1), (d0, d1) = stride, dilation
    og = o // groups
    out = np.zeros(wshape)
    for oc in range(o):
        for c in range(cg):
            plane = xp[:, (oc // og) * cg + c]
            for a in range(kh):
                for b in range(kw):
                    win = plane[:, a * d0:a * d0 + s0 * (ho - 1) + 1:s0, b * d1:b * d1 + s1 * (wo - 1) + 1:s1]
                    out[oc, c, a, b] = (win * g[:, oc]).sum()
    return out


def _max_pool_ref(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], p: tuple[int, int],
                  d: tuple[int, int] = (1, 1)) -> tuple[np.ndarray, np.ndarray]:
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=-np.inf)
    ho = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    wo = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    val = np.zeros((n, c, ho, wo))
    idx = np.zeros((n, c, ho, wo), np.int64)
    for i in range(ho):
        for j in range(wo):
            rows = i * s[0] + np.arange(k[0]) * d[0]
            cols = j * s[1] + np.arange(k[1]) * d[1]
            win = xp[:, :, rows][:, :, :, cols].reshape(n, c, -1)
            a = win.argmax(-1)
            val[:, :, i, j] = win.max(-1)
            idx[:, :, i, j] = (rows[a // k[1]] - p[0]) * w + cols[a % k[1]] - p[1]
    return val, idx


def _max_pool_backward_ref(g: np.ndarray, shape: tuple[int, ...], idx: np.ndarray) -> np.ndarray:
    n, c, h, w = shape
    out = np.zeros((n, c, h * w))
    for a in range(n):
        for b in range(c):
            np.add.at(out[a, b], idx[a, b].reshape(-1), g[a, b].reshape(-1))
    return out.reshape(shape)


def _avg_pool_ref(x: np.ndarray, k: int, s: int) -> np.ndarray:
    n, c, h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    return np.array([[x[:, :, i * s:i * s + k, j * s:j * s + k].mean(axis=(2, 3)) for j in range(wo)]
                     for i in range(ho)]).transpose(2, 3, 0, 1)


# --- call helpers ---------------------------------------------------------------------------
def _conv_t(out_hw: tuple[int, int], **kw: Any) -> Any:
    params = {"stride": (1, 1), "padding": ((0, 0), (0, 0)), "dilation": (1, 1), "groups": 1, **kw}
    return (lambda g, w: P.conv2d_input_grad_p(g, w, input_shape=(g.shape[0], w.shape[1] * params["groups"])
                                               + out_hw, **params),
            lambda g, w: _conv_t_ref(g, w, out_hw, **params))


def _weight_grad(wshape: tuple[int, ...], **kw: Any) -> Any:
    params = {"stride": (1, 1), "padding": ((0, 0), (0, 0)), "dilation": (1, 1), "groups": 1, **kw}
    return (lambda x, g: P.conv2d_weight_grad_p(x, g, weight_shape=wshape, **params),
            lambda x, g: _weight_grad_ref(x, g, wshape, **params))


_POOL_IDX = np.array([[[[0, 3], [9, 6]], [[1, 1], [12, 15]]]], dtype=np.int64)   # (1, 2, 2, 2) into 4x4

NN_SPECS: list[OpSpec] = [
    # --- softmax family ---
    OpSpec("log_softmax", lambda x: F.log_softmax(x, dim=1), lambda x: _log_softmax_ref(x, 1)),
    OpSpec("log_softmax", lambda x: F.log_softmax(x, dim=0), lambda x: _log_softmax_ref(x, 0),
           shapes=[(3, 2, 2)], label="dim0-3d"),
    OpSpec("log_softmax", lambda x: F.log_softmax(x, dim=0), lambda x: np.zeros(()), shapes=[()],
           label="0d"),
    OpSpec("log_softmax", lambda x, t: F.cross_entropy(x, t, reduction="none"),
           lambda x, t: -_log_softmax_ref(x, 1)[np.arange(3), t], args=(np.array([2, 0, 3]),),
           label="cross_entropy"),
    OpSpec("softmax", lambda x: F.softmax(x, dim=-1), lambda x: _softmax_ref(x, -1)),
    OpSpec("softmax", lambda x: F.softmin(x, dim=1), lambda x: _softmax_ref(-x, 1), shapes=[(2, 3, 2)],
           label="softmin"),
    # --- kinked activations, sampled clear of their kinks ---
    OpSpec("hardtanh", F.hardtanh, lambda x: np.clip(x, -1.0, 1.0), make=avoiding((3, 4), [-1.0, 1.0])),
    OpSpec("hardtanh", F.relu6, lambda x: np.clip(x, 0.0, 6.0),
           make=avoiding((3, 4), [0.0, 6.0], low=-2.0, high=8.0), label="relu6"),
    OpSpec("hardtanh", F.hardsigmoid, lambda x: np.clip(x + 3.0, 0.0, 6.0) / 6.0,
           make=avoiding((3, 4), [-3.0, 3.0], low=-5.0, high=5.0), label="hardsigmoid"),
    OpSpec("hardswish", F.hardswish, _hardswish_ref, make=avoiding((3, 4), [-3.0, 3.0], low=-5.0, high=5.0)),
    OpSpec("binary_cross_entropy", lambda x, t: F.binary_cross_entropy(x, t, reduction="none"), _bce_ref,
           make=then(uniform((3, 4), low=0.1, high=0.9), uniform((3, 4), low=0.0, high=1.0))),
    # --- convolution ---
    OpSpec("conv2d", F.conv2d, _conv2d_ref, shapes=[(1, 2, 5, 5), (3, 2, 3, 3)]),
    OpSpec("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0)),
           lambda x, w, b: _conv2d_ref(x, w, (2, 1), ((1, 1), (0, 0))) + b[:, None, None],
           shapes=[(1, 2, 5, 4), (2, 2, 3, 2), (2,)], label="stride-pad-bias"),
    OpSpec("conv2d", lambda x, w: F.conv2d(x, w, dilation=2), lambda x, w: _conv2d_ref(x, w, dilation=(2, 2)),
           shapes=[(1, 1, 5, 5), (2, 1, 2, 2)], label="dilation"),
    OpSpec("conv2d", lambda x, w: F.conv2d(x, w, padding=1, groups=2),
           lambda x, w: _conv2d_ref(x, w, padding=((1, 1), (1, 1)), groups=2),
           shapes=[(1, 4, 3, 3), (2, 2, 3, 3)], label="groups"),
    OpSpec("conv2d", lambda x, w: F.conv2d(x, w, padding="same"),
           lambda x, w: _conv2d_ref(x, w, padding=((0, 1), (0, 1))),
           shapes=[(2, 1, 3, 3), (1, 1, 2, 2)], label="same-asymmetric"),
    OpSpec("conv2d", lambda x, w: F.conv1d(x, w, stride=2, padding=1),
           lambda x, w: _conv2d_ref(x[:, :, None], w[:, :, None], (1, 2), ((0, 0), (1, 1)))[:, :, 0],
           shapes=[(2, 2, 6), (2, 2, 3)], label="conv1d"),
    OpSpec("conv2d", lambda x: F.avg_pool2d(x, 2), lambda x: _avg_pool_ref(x, 2, 2), shapes=[(1, 2, 4, 4)],
           label="avg_pool2d"),
    OpSpec("conv2d_input_grad", *_conv_t((5, 5), stride=(2, 2), padding=((1, 1), (1, 1))),
           shapes=[(1, 2, 3, 3), (2, 1, 3, 3)]),
    OpSpec("conv2d_input_grad", *_conv_t((6, 4), dilation=(2, 1), groups=2),
           shapes=[(1, 2, 2, 3), (2, 1, 3, 2)], label="dilation-groups"),
    OpSpec("conv2d_input_grad", lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
           lambda x, w: _conv_t_ref(x, w, (4, 4), (2, 2), ((1, 1), (1, 1)), (1, 1), 1),
           shapes=[(1, 2, 2, 2), (2, 1, 3, 3)], label="conv_transpose2d"),
    OpSpec("conv2d_weight_grad", *_weight_grad((2, 2, 2, 2), padding=((1, 0), (0, 1))),
           shapes=[(1, 2, 3, 3), (1, 2, 3, 3)]),
    OpSpec("conv2d_weight_grad", *_weight_grad((2, 1, 2, 2), stride=(2, 1), dilation=(1, 2), groups=2),
           shapes=[(2, 2, 3, 4), (2, 2, 1, 2)], label="stride-dilation-groups"),
    # --- max pooling (distinct values: no ties) ---
    OpSpec("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: _max_pool_ref(x, (2, 2), (2, 2), (0, 0))[0],
           make=distinct((1, 2, 4, 4))),
    OpSpec("max_pool2d", lambda x: F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True),
           lambda x: _max_pool_ref(x, (3, 3), (2, 2), (1, 1)), make=distinct((1, 2, 5, 4)),
           label="pad-indices"),
    OpSpec("max_pool2d", lambda x: F.max_pool2d(x, 2, stride=1, dilation=2),
           lambda x: _max_pool_ref(x, (2, 2), (1, 1), (0, 0), (2, 2))[0], make=distinct((1, 1, 4, 5)),
           label="dilation-overlap"),
    OpSpec("max_pool2d", lambda x: F.max_pool1d(x, 3, stride=2),
           lambda x: _max_pool_ref(x[:, :, None], (1, 3), (1, 2), (0, 0))[0][:, :, 0],
           make=distinct((2, 2, 7)), label="max_pool1d"),
    OpSpec("max_pool2d_backward",
           lambda g, i: P.max_pool2d_backward_p(g, input_shape=(1, 2, 4, 4), indices=i),
           lambda g, i: _max_pool_backward_ref(g, (1, 2, 4, 4), i), shapes=[(1, 2, 2, 2)],
           args=(_POOL_IDX,)),
]
