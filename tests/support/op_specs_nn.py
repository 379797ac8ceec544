"""OpSpecs for the neural-network primitives (gradkit/ops/nn.py).

The references are plain NumPy loops over output positions: slow, obviously
correct, and independent of the im2col and strided-window tricks they check.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.ops import linalg as L
from gradkit.ops import nn as P  # noqa: F401  (registers the nn rows in REGISTRY)

from op_specs import OpSpec, avoiding, distinct, signed, then, uniform

#: soft_margin_loss targets (the target has no gradient, as in PyTorch)
_SM_T = np.array([[1.0, -1.0, 1.0, 1.0], [-1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, 1.0]])

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


def _avg_pool3d_ref(x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    """Mean of the real (non-padding) entries of each window of an unbatched (C, D, H, W) input."""
    out = [(n + 2 * p - k) // s + 1 for n in x.shape[1:]]
    res = np.empty((x.shape[0],) + tuple(out))
    for idx in np.ndindex(*out):
        sl = tuple(slice(max(o * s - p, 0), min(o * s - p + k, n)) for o, n in zip(idx, x.shape[1:]))
        res[(slice(None),) + idx] = x[(slice(None),) + sl].reshape(x.shape[0], -1).mean(1)
    return res


def _max_pool3d_ref(x: np.ndarray, k: tuple[int, ...], s: tuple[int, ...],
                    p: tuple[int, ...]) -> np.ndarray:
    """A loop over the windows of an unbatched (C, D, H, W) input, padded with -inf."""
    xp = np.pad(x, [(0, 0)] + [(pi, pi) for pi in p], constant_values=-np.inf)
    out = [(xp.shape[1 + i] - k[i]) // s[i] + 1 for i in range(3)]
    res = np.empty((x.shape[0],) + tuple(out))
    for a in range(out[0]):
        for b in range(out[1]):
            for c in range(out[2]):
                win = xp[:, a * s[0]:a * s[0] + k[0], b * s[1]:b * s[1] + k[1], c * s[2]:c * s[2] + k[2]]
                res[:, a, b, c] = win.reshape(x.shape[0], -1).max(1)
    return res


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


def _avg_pool_pad_ref(x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    """Window means over the input's cells only (count_include_pad=False)."""
    h, w = x.shape[-2:]
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros(x.shape[:-2] + (ho, wo))
    for i in range(ho):
        for j in range(wo):
            r0, c0 = max(i * s - p, 0), max(j * s - p, 0)
            r1, c1 = min(i * s - p + k, h), min(j * s - p + k, w)
            out[..., i, j] = x[..., r0:r1, c0:c1].mean(axis=(-2, -1))
    return out


def _bilinear_ac_ref(x: np.ndarray, oh: int, ow: int) -> np.ndarray:
    """Bilinear resampling with align_corners=True, one output cell at a time."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y, z = i * (h - 1) / (oh - 1), j * (w - 1) / (ow - 1)
            y0, z0 = min(int(y), h - 2), min(int(z), w - 2)
            a, b = y - y0, z - z0
            out[:, :, i, j] = ((1 - a) * (1 - b) * x[:, :, y0, z0] + (1 - a) * b * x[:, :, y0, z0 + 1]
                               + a * (1 - b) * x[:, :, y0 + 1, z0] + a * b * x[:, :, y0 + 1, z0 + 1])
    return out


def _adaptive_windows(n: int, o: int) -> list[slice]:
    return [slice(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]


def _adaptive_avg_ref(x: np.ndarray, oh: int, ow: int) -> np.ndarray:
    rows, cols = _adaptive_windows(x.shape[-2], oh), _adaptive_windows(x.shape[-1], ow)
    return np.stack([np.stack([x[..., r, q].mean(axis=(-2, -1)) for q in cols], -1) for r in rows], -2)


def _adaptive_max_ref(x: np.ndarray, oh: int, ow: int) -> np.ndarray:
    rows, cols = _adaptive_windows(x.shape[-2], oh), _adaptive_windows(x.shape[-1], ow)
    return np.stack([np.stack([x[..., r, q].max(axis=(-2, -1)) for q in cols], -1) for r in rows], -2)


def _multi_margin_ref(x: np.ndarray, y: np.ndarray, p: int, margin: float) -> np.ndarray:
    n, c = x.shape
    total = 0.0
    for i in range(n):
        for j in range(c):
            if j != y[i]:
                total += max(0.0, margin - x[i, y[i]] + x[i, j]) ** p
    return np.asarray(total / c / n)


def _mlm_ref(x: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
    """Loop form of multilabel_margin_loss: targets up to the first -1, hinge against the rest."""
    losses = []
    for xs, ts in zip(x, target):
        tg = []
        for t in ts:
            if t < 0:
                break
            tg.append(int(t))
        others = [i for i in range(len(xs)) if i not in tg]
        losses.append(sum(max(0.0, 1.0 - (xs[j] - xs[i])) for j in tg for i in others) / len(xs))
    out = np.array(losses)
    return out if reduction == "none" else (out.sum() if reduction == "sum" else out.mean())


def _ebag_ref(w: np.ndarray, psw: np.ndarray, idx: np.ndarray, starts: list[int], ends: list[int],
              mean: bool) -> np.ndarray:
    out = np.zeros((len(starts), w.shape[1]))
    for b, (lo, hi) in enumerate(zip(starts, ends)):
        for i in range(lo, hi):
            out[b] += psw[i] * w[idx[i]] / (max(hi - lo, 1) if mean else 1)
    return out


def _affine_grid_ref(theta: np.ndarray, h: int, w: int) -> np.ndarray:
    """align_corners=False: pixel centres at (2 i + 1) / n - 1."""
    out = np.zeros((theta.shape[0], h, w, 2))
    for n in range(theta.shape[0]):
        for i in range(h):
            for j in range(w):
                p = np.array([(2 * j + 1) / w - 1, (2 * i + 1) / h - 1, 1.0])
                out[n, i, j] = theta[n] @ p
    return out


def _ebag_max_ref(w: np.ndarray, idx: np.ndarray, starts: list[int], ends: list[int]) -> np.ndarray:
    out = np.zeros((len(starts), w.shape[1]))
    for b, (lo, hi) in enumerate(zip(starts, ends)):
        if hi > lo:
            out[b] = np.max([w[idx[i]] for i in range(lo, hi)], axis=0)
    return out


def _frac_starts_ref(u: float, n_in: int, n_out: int, k: int) -> list[int]:
    """Graham's pseudo-random window starts (PyTorch's sequence): the last window ends the input."""
    alpha = (n_in - k) / (n_out - 1) if n_out > 1 else 0.0
    return [math.floor((i + u) * alpha) - math.floor(u * alpha) for i in range(n_out - 1)] + [n_in - k]


def _frac_pool2d_ref(x: np.ndarray, u: np.ndarray, k: int, out: int) -> np.ndarray:
    n, c, h, w = x.shape
    res = np.zeros((n, c, out, out))
    for a in range(n):
        for b in range(c):
            rows = _frac_starts_ref(u[a, b, 1], h, out, k)
            cols = _frac_starts_ref(u[a, b, 0], w, out, k)
            for i, r in enumerate(rows):
                for j, q in enumerate(cols):
                    res[a, b, i, j] = x[a, b, r:r + k, q:q + k].max()
    return res


def _grid_sample_ref(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Bilinear sampling with zeros padding, align_corners=False, one point at a time."""
    n, c, h, w = x.shape
    out = np.zeros((n, c) + grid.shape[1:3])
    for b in range(n):
        for i, j in np.ndindex(*grid.shape[1:3]):
            px = ((grid[b, i, j, 0] + 1) * w - 1) / 2
            py = ((grid[b, i, j, 1] + 1) * h - 1) / 2
            x0, y0 = math.floor(px), math.floor(py)
            for yy, wy in ((y0, y0 + 1 - py), (y0 + 1, py - y0)):
                for xx, wx in ((x0, x0 + 1 - px), (x0 + 1, px - x0)):
                    if 0 <= yy < h and 0 <= xx < w:
                        out[b, :, i, j] += wy * wx * x[b, :, yy, xx]
    return out


#: row 1 masked throughout, row 2 in part: safe_softmax gives row 1 zeros (PyTorch's _safe_softmax)
_SAFE_MASK = np.array([[0.0] * 4, [-np.inf] * 4, [0.0, -np.inf, 0.0, -np.inf]])


def _safe_softmax_ref(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    for i, row in enumerate(x):
        if np.isfinite(row).any():
            e = np.exp(row - row[np.isfinite(row)].max())
            out[i] = e / e.sum()
    return out


_FRAC_U = np.random.default_rng(4).uniform(0.0, 1.0, (2, 3, 2))

_EBAG_I = np.array([0, 2, 1, 3, 5, 5, 2])
_EBAG_OFF = np.array([0, 2, 2, 5])


_MLM_T = np.array([[3, 0, -1, 1], [1, 2, 3, -1], [2, 2, 0, -1]])


def _conv_t3d_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int,
                  dil: int, groups: int) -> np.ndarray:
    """Each input element spreads ``x * w`` over its output window (the transposed conv)."""
    n, c, *size = x.shape
    og, k = w.shape[1], w.shape[2:]
    full = [(m - 1) * stride + dil * (kk - 1) + 1 for m, kk in zip(size, k)]
    out = np.zeros((n, og * groups) + tuple(full))
    cg = c // groups
    for ci in range(c):
        g = ci // cg
        for pos in np.ndindex(*size):
            for kp in np.ndindex(*k):
                at = tuple(q * stride + kq * dil for q, kq in zip(pos, kp))
                out[(slice(None), slice(g * og, (g + 1) * og)) + at] += \
                    x[(slice(None), ci) + pos][:, None] * w[(ci, slice(None)) + kp]
    crop = (slice(None), slice(None)) + tuple(slice(pad, f - pad) for f in full)
    return out[crop] + b.reshape(1, -1, 1, 1, 1)


def _conv3d_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0)) + ((pad, pad),) * 3)
    o, _, kd, kh, kw = w.shape
    shape = tuple(s - k + 1 for s, k in zip(xp.shape[2:], (kd, kh, kw)))
    out = np.zeros((x.shape[0], o) + shape)
    for idx in np.ndindex(*shape):
        i, j, k = idx
        patch = xp[:, :, i:i + kd, j:j + kh, k:k + kw]
        out[(slice(None), slice(None)) + idx] = np.einsum("ncdhw,ocdhw->no", patch, w) + b
    return out


def _unfold_ref(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """Each k x k block (stride s) as a column, channel-major then row-major within the block."""
    n, c, h, w = x.shape
    blocks = [x[:, :, i:i + k, j:j + k].reshape(n, -1) for i in range(0, h - k + 1, s)
              for j in range(0, w - k + 1, s)]
    return np.stack(blocks, -1)


def _fold_ref(cols: np.ndarray, out: tuple[int, int], k: int, s: int) -> np.ndarray:
    n, ck, _ = cols.shape
    c = ck // (k * k)
    res = np.zeros((n, c) + out)
    starts = [(i, j) for i in range(0, out[0] - k + 1, s) for j in range(0, out[1] - k + 1, s)]
    for b, (i, j) in enumerate(starts):
        res[:, :, i:i + k, j:j + k] += cols[:, :, b].reshape(n, c, k, k)
    return res


_MM_T = np.array([0, 2, 1])


#: ctc_loss: (T, N, C) = (4, 2, 3), padded targets; sample 1 uses 3 of its 4 frames
_CTC_T, _CTC_IL, _CTC_TL = np.array([[1, 1], [2, 0]]), np.array([4, 3]), np.array([2, 1])


def _ctc_paths(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brute force over every alignment: each sample's -log p(target) and occupancy p(pi_t = c | target)."""
    p = _softmax_ref(x, 2)
    t_max, n, c = x.shape
    nll, occ = np.zeros(n), np.zeros_like(x)
    for b in range(n):
        want = list(_CTC_T[b, :_CTC_TL[b]])
        frames = _CTC_IL[b]
        total = 0.0
        for path in np.ndindex(*(c,) * frames):
            collapsed = [k for i, k in enumerate(path) if k != 0 and (i == 0 or path[i - 1] != k)]
            if collapsed == want:
                prob = np.prod([p[t, b, k] for t, k in enumerate(path)])
                total += prob
                for t, k in enumerate(path):
                    occ[t, b, k] += prob
        nll[b] = -np.log(total)
        occ[:, b] /= total
    return nll, occ


def _ctc_ref(x: np.ndarray) -> np.ndarray:
    return _ctc_paths(x)[0]


def _ctc_backward_ref(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """PyTorch's CTC gradient for log_softmax inputs: softmax - occupancy, 0 past each input length."""
    _, occ = _ctc_paths(x)
    inside = np.arange(x.shape[0])[:, None, None] < _CTC_IL[None, :, None]
    return np.where(inside, (_softmax_ref(x, 2) - occ) * g[None, :, None], 0.0)


_CTC_KW = dict(targets=_CTC_T, input_lengths=_CTC_IL, target_lengths=_CTC_TL, blank=0, zero_infinity=False)
_EMB_I = np.array([[0, 2, 2], [3, 0, 1]])


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


# --- references of the fused activation and loss rows (independent NumPy/math formulas) ----
_erf = np.vectorize(math.erf)


def _gelu_ref(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _gelu_tanh_ref(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def _elu_ref(x: np.ndarray, alpha: float = 1.0, scale: float = 1.0, input_scale: float = 1.0) -> np.ndarray:
    return scale * np.where(x > 0, x, alpha * (np.exp(x * input_scale) - 1.0))


def _apart(shape: tuple[int, ...], kink: float) -> Any:
    """``(x, t)`` whose difference keeps clear of 0 and of +-``kink``."""
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        t = rng.uniform(-1.0, 1.0, shape)
        mag = np.where(rng.random(shape) < 0.5, rng.uniform(0.1, 0.8, shape) * kink,
                       rng.uniform(1.2, 2.0, shape) * kink)
        return [t + mag * rng.choice([-1.0, 1.0], shape), t]
    return make


def _smooth_ref(x: np.ndarray, t: np.ndarray, beta: float, huber: bool) -> np.ndarray:
    d = np.abs(x - t)
    if huber:
        return np.where(d < beta, 0.5 * d * d, beta * (d - 0.5 * beta))
    return np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)


def _bce_logits_ref(x: np.ndarray, t: np.ndarray, w: Any = 1.0, pw: Any = 1.0) -> np.ndarray:
    sig = 1.0 / (1.0 + np.exp(-x))
    return -w * (pw * t * np.log(sig) + (1.0 - t) * np.log(1.0 - sig))


_NLL_T = np.array([2, 0, 3], dtype=np.int64)
_NLL_W = np.array([0.5, 1.0, 2.0, 1.5])
_NLL_T4 = np.array([[[0, 2], [1, 3]]], dtype=np.int64)           # (1, 2, 2) for a (1, 4, 2, 2)


def _nll_ref(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, ignore: int = -100,
             reduction: str = "mean") -> np.ndarray:
    xm = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    tf = t.reshape(-1)
    keep = tf != ignore
    ws = np.where(keep, (w if w is not None else np.ones(x.shape[1]))[np.where(keep, tf, 0)], 0.0)
    loss = -np.array([xm[i, c] if k else 0.0 for i, (c, k) in enumerate(zip(tf, keep))]) * ws
    if reduction == "none":
        return loss.reshape(t.shape)
    return loss.sum() if reduction == "sum" else loss.sum() / ws.sum()


def _norm_ref(x: np.ndarray, axes: tuple[int, ...], eps: float = 1e-5) -> np.ndarray:
    m = x.mean(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(((x - m) ** 2).mean(axis=axes, keepdims=True) + eps)


def _group_ref(x: np.ndarray, groups: int, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    xg = _norm_ref(x.reshape(x.shape[0], groups, -1), (2,)).reshape(x.shape)
    return xg * w[None, :, None] + b[None, :, None]


_RM, _RV = np.array([0.1, -0.2, 0.3]), np.array([0.5, 1.5, 2.0])

_POOL_IDX = np.array([[[[0, 3], [9, 6]], [[1, 1], [12, 15]]]], dtype=np.int64)   # (1, 2, 2, 2) into 4x4

# NOTE: fake quantization's gradient is PyTorch's straight-through one (1 inside the grid's
# range, 0 outside), which is a step function's derivative only in the limit of a fine grid: the
# per-channel spec uses a grid of step 1e-12, where finite differences see slope 1 inside.
# Per tensor, PyTorch maps levels back to values in float32 even for float64 input, too coarse
# for finite differences: that spec samples the saturated ends (slope 0) only.
_FQ_S = np.array([1e-12, 2e-12, 4e-12, 1e-12], dtype=np.float32)
_FQ_Z = np.array([0, 5, -3, 0], dtype=np.int32)


def _fq_ref(x: np.ndarray, s: np.ndarray, z: Any, qmin: int, qmax: int) -> np.ndarray:
    inv = (np.float32(1) / s).astype(np.float64)         # PyTorch's inverse scale is a float32
    return (np.clip(z + np.rint(x * inv), qmin, qmax) - z) * s.astype(np.float64)


def _fq_saturated(rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.uniform(1.2, 2.0, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4))]


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
    OpSpec("safe_softmax",
           lambda x: P.safe_softmax_p(x + gk.tensor(_SAFE_MASK, dtype=x.dtype, device=x.device), dim=1),
           lambda x: _safe_softmax_ref(x + _SAFE_MASK)),
    OpSpec("softmax", lambda x: F.softmin(x, dim=1), lambda x: _softmax_ref(-x, 1), shapes=[(2, 3, 2)],
           label="softmin"),
    # --- kinked activations, sampled clear of their kinks ---
    OpSpec("hardtanh", F.hardtanh, lambda x: np.clip(x, -1.0, 1.0), make=avoiding((3, 4), [-1.0, 1.0])),
    OpSpec("hardtanh", F.relu6, lambda x: np.clip(x, 0.0, 6.0),
           make=avoiding((3, 4), [0.0, 6.0], low=-2.0, high=8.0), label="relu6"),
    OpSpec("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x + 3.0, 0.0, 6.0) / 6.0,
           make=avoiding((3, 4), [-3.0, 3.0], low=-5.0, high=5.0)),
    OpSpec("threshold", lambda x: F.threshold(x, 0.3, -1.0), lambda x: np.where(x > 0.3, x, -1.0),
           make=avoiding((3, 4), [0.3])),
    OpSpec("hardshrink", F.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
           make=avoiding((3, 4), [-0.5, 0.5])),
    OpSpec("softshrink", lambda x: F.softshrink(x, 0.4),
           lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.4, 0),
           make=avoiding((3, 4), [-0.4, 0.4])),
    OpSpec("fake_quantize", lambda x: gk.fake_quantize_per_tensor_affine(x, 1e-10, 0, -10**10, 10**10),
           lambda x: np.sign(x) * np.float64(np.float32(10**10) * np.float32(1e-10)),
           make=_fq_saturated, label="saturated"),
    OpSpec("fake_quantize",
           lambda x: gk.fake_quantize_per_channel_affine(x, gk.tensor(_FQ_S), gk.tensor(_FQ_Z), 1,
                                                         -5 * 10**11, 5 * 10**11),
           lambda x: _fq_ref(x, _FQ_S, _FQ_Z, -5 * 10**11, 5 * 10**11),
           make=avoiding((3, 4), [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], low=-2.5, high=2.5),
           label="per_channel"),
    OpSpec("logsigmoid", F.logsigmoid, lambda x: -np.log1p(np.exp(-x)), low=-4.0, high=4.0),
    OpSpec("mish", F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), low=-4.0, high=4.0),
    OpSpec("hardswish", F.hardswish, _hardswish_ref, make=avoiding((3, 4), [-3.0, 3.0], low=-5.0, high=5.0)),
    OpSpec("binary_cross_entropy", lambda x, t: F.binary_cross_entropy(x, t, reduction="none"), _bce_ref,
           make=then(uniform((3, 4), low=0.1, high=0.9), uniform((3, 4), low=0.0, high=1.0))),
    # --- fused linear, activations and losses (one node each, PyTorch's names) ---
    OpSpec("addmm", lambda b, x, w: L.addmm_p(b, x, w), lambda b, x, w: b + x @ w,
           shapes=[(5,), (4, 3), (3, 5)]),
    OpSpec("addmm", lambda b, x, w: L.addmm_p(b, x, w, beta=0.5, alpha=-2.0),
           lambda b, x, w: 0.5 * b + -2.0 * (x @ w), shapes=[(4, 5), (4, 3), (3, 5)], label="scaled"),
    OpSpec("addmm", F.linear, lambda x, w, b: x @ w.T + b, shapes=[(4, 3), (5, 3), (5,)],
           label="linear"),
    OpSpec("addmm", lambda b, x, v: gk.addmv(b, x, v, beta=0.5, alpha=2.0),
           lambda b, x, v: 0.5 * b + 2.0 * (x @ v), shapes=[(4,), (4, 3), (3,)], label="addmv"),
    OpSpec("outer_mul", lambda u, v: L.outer_mul_p(u, v), lambda u, v: np.outer(u, v),
           shapes=[(4,), (3,)]),
    OpSpec("addr", lambda b, u, v: gk.addr(b, u, v), lambda b, u, v: b + np.outer(u, v),
           shapes=[(4, 3), (4,), (3,)]),
    OpSpec("addr", lambda b, u, v: gk.addr(b, u, v, beta=0.5, alpha=-2.0),
           lambda b, u, v: 0.5 * b - 2.0 * np.outer(u, v), shapes=[(3,), (4,), (3,)],
           label="scaled-broadcast"),
    OpSpec("addbmm", lambda b, x, w: gk.addbmm(b, x, w), lambda b, x, w: b + (x @ w).sum(0),
           shapes=[(4, 2), (3, 4, 3), (3, 3, 2)]),
    OpSpec("addbmm", lambda b, x, w: gk.addbmm(b, x, w, beta=2.0, alpha=0.5),
           lambda b, x, w: 2.0 * b + 0.5 * (x @ w).sum(0), shapes=[(2,), (3, 4, 3), (3, 3, 2)],
           label="scaled-broadcast"),
    OpSpec("addmm", lambda b, x, w: gk.baddbmm(b, x, w, beta=-1.0),
           lambda b, x, w: -b + x @ w, shapes=[(4, 1), (2, 4, 3), (2, 3, 2)], label="baddbmm"),
    OpSpec("addmm", F.linear, lambda x, w, b: x @ w.T + b, shapes=[(2, 4, 3), (5, 3), (5,)],
           label="linear-3d"),
    OpSpec("addmm", F.linear, lambda x, w, b: x @ w.T + b, shapes=[(3,), (5, 3), (5,)],
           label="linear-1d"),
    OpSpec("gelu", F.gelu, _gelu_ref, low=-3.0, high=3.0),
    OpSpec("gelu", lambda x: F.gelu(x, approximate="tanh"), _gelu_tanh_ref, low=-3.0, high=3.0,
           label="tanh"),
    OpSpec("silu", F.silu, lambda x: x / (1.0 + np.exp(-x)), low=-4.0, high=4.0),
    OpSpec("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
           make=avoiding((3, 4), [0.0])),
    OpSpec("elu", lambda x: F.elu(x, 0.7), lambda x: _elu_ref(x, 0.7), make=avoiding((3, 4), [0.0])),
    OpSpec("elu", F.selu, lambda x: _elu_ref(x, 1.6732632423543772, 1.0507009873554805),
           make=avoiding((3, 4), [0.0]), label="selu"),
    OpSpec("elu", lambda x: F.celu(x, 2.0), lambda x: _elu_ref(x, 2.0, 1.0, 0.5),
           make=avoiding((3, 4), [0.0]), label="celu"),
    OpSpec("softplus", F.softplus, lambda x: np.log1p(np.exp(x)), low=-4.0, high=4.0),
    OpSpec("softplus", lambda x: F.softplus(x, beta=2.0, threshold=3.0),
           lambda x: np.where(2.0 * x > 3.0, x, np.log1p(np.exp(2.0 * x)) / 2.0),
           make=avoiding((3, 4), [1.5], low=-2.0, high=3.0), label="beta-threshold"),
    OpSpec("mse_loss", F.mse_loss, lambda x, t: ((x - t) ** 2).mean(), shapes=[(3, 4), (3, 4)]),
    OpSpec("mse_loss", lambda x, t: F.mse_loss(x, t, reduction="none"), lambda x, t: (x - t) ** 2,
           shapes=[(3, 4), (3, 4)], label="none"),
    OpSpec("mse_loss", lambda x, t: F.mse_loss(x, t, reduction="sum"), lambda x, t: ((x - t) ** 2).sum(),
           shapes=[(3, 4), (3, 4)], label="sum"),
    OpSpec("smooth_l1_loss", F.smooth_l1_loss, lambda x, t: _smooth_ref(x, t, 1.0, False).mean(),
           make=_apart((3, 4), 1.0)),
    OpSpec("smooth_l1_loss", lambda x, t: F.smooth_l1_loss(x, t, reduction="none", beta=0.5),
           lambda x, t: _smooth_ref(x, t, 0.5, False), make=_apart((3, 4), 0.5), label="none-beta"),
    OpSpec("smooth_l1_loss", lambda x, t: F.huber_loss(x, t, reduction="sum", delta=0.7),
           lambda x, t: _smooth_ref(x, t, 0.7, True).sum(), make=_apart((3, 4), 0.7), label="huber"),
    OpSpec("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
           lambda x, t: _bce_logits_ref(x, t).mean(),
           make=then(uniform((3, 4)), uniform((3, 4), low=0.0, high=1.0))),
    OpSpec("binary_cross_entropy_with_logits",
           lambda x, t: F.binary_cross_entropy_with_logits(
               x, t, weight=x.new_tensor([0.5, 2.0, 1.0, 1.5]),
               pos_weight=x.new_tensor([3.0, 0.5, 1.0, 2.0]), reduction="sum"),
           lambda x, t: _bce_logits_ref(x, t, np.array([0.5, 2.0, 1.0, 1.5]),
                                        np.array([3.0, 0.5, 1.0, 2.0])).sum(),
           make=then(uniform((3, 4)), uniform((3, 4), low=0.0, high=1.0)), label="weights"),
    OpSpec("binary_cross_entropy", F.binary_cross_entropy, lambda x, t: _bce_ref(x, t).mean(),
           make=then(uniform((3, 4), low=0.1, high=0.9), uniform((3, 4), low=0.0, high=1.0)),
           label="mean"),
    OpSpec("binary_cross_entropy",
           lambda x, t: F.binary_cross_entropy(x, t, weight=x.new_tensor([0.5, 2.0, 1.0, 1.5]),
                                               reduction="sum"),
           lambda x, t: (_bce_ref(x, t) * np.array([0.5, 2.0, 1.0, 1.5])).sum(),
           make=then(uniform((3, 4), low=0.1, high=0.9), uniform((3, 4), low=0.0, high=1.0)),
           label="weight"),
    OpSpec("nll_loss", lambda x: F.nll_loss(x, gk.tensor(_NLL_T)), lambda x: _nll_ref(x, _NLL_T),
           shapes=[(3, 4)]),
    OpSpec("nll_loss", lambda x: F.nll_loss(x, gk.tensor([2, -100, 3]), gk.tensor(_NLL_W)),
           lambda x: _nll_ref(x, np.array([2, -100, 3]), _NLL_W), shapes=[(3, 4)],
           label="weight-ignore"),
    OpSpec("nll_loss", lambda x: F.nll_loss(x, gk.tensor(_NLL_T), reduction="none"),
           lambda x: _nll_ref(x, _NLL_T, reduction="none"), shapes=[(3, 4)], label="none"),
    OpSpec("nll_loss", lambda x: F.nll_loss(x, gk.tensor(_NLL_T4), reduction="sum"),
           lambda x: _nll_ref(x, _NLL_T4, reduction="sum"), shapes=[(1, 4, 2, 2)], label="4d"),
    OpSpec("nll_loss", lambda x: F.nll_loss(x, gk.tensor(_NLL_T4[:, :, 0]), reduction="none"),
           lambda x: _nll_ref(x, _NLL_T4[:, :, 0], reduction="none"), shapes=[(1, 4, 2)],
           label="3d"),
    OpSpec("nll_loss", lambda x: F.cross_entropy(x, gk.tensor(_NLL_T)),
           lambda x: _nll_ref(x - np.log(np.exp(x).sum(1, keepdims=True)), _NLL_T), shapes=[(3, 4)],
           label="cross_entropy"),
    OpSpec("native_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b),
           lambda x, w, b: _norm_ref(x, (1,)) * w + b, shapes=[(3, 4), (4,), (4,)], label="layer"),
    OpSpec("native_norm", lambda x: F.layer_norm(x, (2, 3)), lambda x: _norm_ref(x, (1, 2)),
           shapes=[(2, 2, 3)], label="layer-noaffine"),
    OpSpec("native_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           lambda x, w, b: _norm_ref(x, (0, 2)) * w[:, None] + b[:, None],
           shapes=[(4, 3, 2), (3,), (3,)], label="batch"),
    OpSpec("native_norm", lambda x, w, b: F.batch_norm(x, gk.tensor(_RM), gk.tensor(_RV), w, b),
           lambda x, w, b: (x - _RM) / np.sqrt(_RV + 1e-5) * w + b, shapes=[(4, 3), (3,), (3,)],
           label="batch-eval"),
    OpSpec("native_norm", lambda x, w, b: F.group_norm(x, 2, w, b),
           lambda x, w, b: _group_ref(x, 2, w, b), shapes=[(2, 4, 3), (4,), (4,)], label="group"),
    # --- convolution ---
    OpSpec("convolution", F.conv2d, _conv2d_ref, shapes=[(1, 2, 5, 5), (3, 2, 3, 3)]),
    OpSpec("conv2d", lambda x, w: P.conv2d_p(x, w, stride=(1, 2), padding=((1, 0), (0, 1)),
                                             dilation=(1, 1), groups=1),
           lambda x, w: _conv2d_ref(x, w, (1, 2), ((1, 0), (0, 1))), shapes=[(1, 2, 4, 5), (3, 2, 2, 3)],
           label="row"),
    OpSpec("convolution", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0)),
           lambda x, w, b: _conv2d_ref(x, w, (2, 1), ((1, 1), (0, 0))) + b[:, None, None],
           shapes=[(1, 2, 5, 4), (2, 2, 3, 2), (2,)], label="stride-pad-bias"),
    OpSpec("convolution", lambda x, w: F.conv2d(x, w, dilation=2),
           lambda x, w: _conv2d_ref(x, w, dilation=(2, 2)),
           shapes=[(1, 1, 5, 5), (2, 1, 2, 2)], label="dilation"),
    OpSpec("convolution", lambda x, w: F.conv2d(x, w, padding=1, groups=2),
           lambda x, w: _conv2d_ref(x, w, padding=((1, 1), (1, 1)), groups=2),
           shapes=[(1, 4, 3, 3), (2, 2, 3, 3)], label="groups"),
    OpSpec("convolution", lambda x, w: F.conv2d(x, w, padding="same"),
           lambda x, w: _conv2d_ref(x, w, padding=((0, 1), (0, 1))),
           shapes=[(2, 1, 3, 3), (1, 1, 2, 2)], label="same-asymmetric"),
    OpSpec("convolution", lambda x, w: F.conv1d(x, w, stride=2, padding=1),
           lambda x, w: _conv2d_ref(x[:, :, None], w[:, :, None], (1, 2), ((0, 0), (1, 1)))[:, :, 0],
           shapes=[(2, 2, 6), (2, 2, 3)], label="conv1d"),
    OpSpec("conv2d_input_grad", *_conv_t((5, 5), stride=(2, 2), padding=((1, 1), (1, 1))),
           shapes=[(1, 2, 3, 3), (2, 1, 3, 3)]),
    OpSpec("conv2d_input_grad", *_conv_t((6, 4), dilation=(2, 1), groups=2),
           shapes=[(1, 2, 2, 3), (2, 1, 3, 2)], label="dilation-groups"),
    # transposed convolutions (one row with the bias); reference: the transposed-conv loops
    OpSpec("convolution_transpose",
           lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
           lambda x, w: _conv_t_ref(x, w, (4, 4), (2, 2), ((1, 1), (1, 1)), (1, 1), 1),
           shapes=[(1, 2, 2, 2), (2, 1, 3, 3)], label="conv_transpose2d"),
    OpSpec("convolution_transpose", lambda x, w, b: F.conv_transpose2d(x, w, b, groups=2),
           lambda x, w, b: _conv_t_ref(x, w, (3, 4), (1, 1), ((0, 0), (0, 0)), (1, 1), 2)
           + b.reshape(1, -1, 1, 1), shapes=[(2, 2, 2, 3), (2, 1, 2, 2), (2,)], label="bias-groups"),
    OpSpec("convolution_transpose", lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, dilation=2),
           lambda x, w, b: _conv_t_ref(x[:, :, None], w[:, :, None], (1, 9), (1, 2),
                                       ((0, 0), (0, 0)), (1, 2), 1)[:, :, 0] + b.reshape(1, -1, 1),
           shapes=[(1, 2, 3), (2, 3, 3), (3,)], label="conv_transpose1d"),
    OpSpec("conv2d_weight_grad", *_weight_grad((2, 2, 2, 2), padding=((1, 0), (0, 1))),
           shapes=[(1, 2, 3, 3), (1, 2, 3, 3)]),
    OpSpec("conv2d_weight_grad", *_weight_grad((2, 1, 2, 2), stride=(2, 1), dilation=(1, 2), groups=2),
           shapes=[(2, 2, 3, 4), (2, 2, 1, 2)], label="stride-dilation-groups"),
    # --- prelu: x where positive, w * x elsewhere (inputs clear of 0) ---
    OpSpec("prelu_kernel", F.prelu, lambda x, w: np.where(x > 0, x, w.reshape(1, -1, 1) * x),
           make=then(signed((2, 3, 4)), uniform((3,)))),
    OpSpec("prelu_kernel", F.prelu, lambda x, w: np.where(x > 0, x, w * x),
           make=then(signed((5,)), uniform((1,))), label="one-slope"),
    # --- glu: a * sigmoid(b) over the halves of dim; soft margin: log(1 + exp(-t x)) ---
    OpSpec("glu", F.glu, lambda x: x[:, :2] / (1.0 + np.exp(-x[:, 2:])), shapes=[(3, 4)]),
    OpSpec("glu", lambda x: F.glu(x, 0), lambda x: x[:1] / (1.0 + np.exp(-x[1:])),
           shapes=[(2, 3, 2)], label="dim0"),
    OpSpec("soft_margin_loss",
           lambda x: F.soft_margin_loss(x, gk.tensor(_SM_T, dtype=x.dtype, device=x.device)),
           lambda x: np.log1p(np.exp(-_SM_T * x)).mean(), shapes=[(3, 4)]),
    OpSpec("soft_margin_loss",
           lambda x: F.soft_margin_loss(x, gk.tensor(_SM_T[:2, :3] * 1.5, dtype=x.dtype,
                                                  device=x.device),
                                        reduction="none"),
           lambda x: np.log1p(np.exp(-_SM_T[:2, :3] * 1.5 * x)), shapes=[(2, 3)], label="none"),
    # --- constant padding (negative amounts crop); reference: np.pad and slicing ---
    OpSpec("constant_pad_nd", lambda x: F.pad(x, (1, 2)),
           lambda x: np.pad(x, ((0, 0), (1, 2))), shapes=[(3, 4)]),
    OpSpec("constant_pad_nd", lambda x: F.pad(x, (2, -1, -1, 1), value=1.5),
           lambda x: np.pad(x[1:, :-1], ((0, 1), (2, 0)), constant_values=1.5),
           shapes=[(3, 4)], label="crop-value"),
    OpSpec("constant_pad_nd", lambda x: F.pad(x, (0, 1, 1, 0, 1, 1)),
           lambda x: np.pad(x, ((1, 1), (1, 0), (0, 1))), shapes=[(2, 3, 2)], label="3-dims"),
    # --- max pooling (distinct values: no ties) ---
    OpSpec("avg_pool3d", lambda x: F.avg_pool3d(x, 2), lambda x: x.reshape(1, 2, 2, 2, 2, 2, 2, 2)
           .mean(axis=(3, 5, 7)), shapes=[(1, 2, 4, 4, 4)]),
    OpSpec("avg_pool3d", lambda x: F.avg_pool3d(x, 3, stride=2, padding=1, count_include_pad=False),
           lambda x: _avg_pool3d_ref(x, 3, 2, 1), shapes=[(2, 5, 4, 3)], label="unbatched-pad-count"),
    OpSpec("avg_pool3d_backward", lambda g: P.avg_pool3d_backward_p(
        g, input_shape=(1, 1, 4, 4, 2), kernel=(2, 2, 2), stride=(2, 2, 2),
        padding=((0, 0),) * 3, divisor=np.full((2, 2, 1), 8.0)),
        lambda g: np.repeat(np.repeat(np.repeat(g, 2, -1), 2, -2), 2, -3) / 8.0,
        shapes=[(1, 1, 2, 2, 1)]),
    OpSpec("max_pool3d", lambda x: F.max_pool3d(x, 2), lambda x: x.reshape(1, 2, 2, 2, 2, 2, 2, 2)
           .max(axis=(3, 5, 7)), make=distinct((1, 2, 4, 4, 4))),
    OpSpec("max_pool3d", lambda x: F.max_pool3d(x, (2, 3, 2), stride=(1, 2, 1), padding=(1, 1, 0)),
           lambda x: _max_pool3d_ref(x, (2, 3, 2), (1, 2, 1), (1, 1, 0)), make=distinct((2, 3, 4, 3)),
           label="unbatched-pad"),
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
    # --- the rows behind PyTorch's pooling, resampling, embedding and loss nodes ---
    OpSpec("avg_pool2d", lambda x: F.avg_pool2d(x, 2), lambda x: _avg_pool_ref(x, 2, 2),
           shapes=[(1, 2, 4, 5)]),
    OpSpec("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False),
           lambda x: _avg_pool_pad_ref(x, 3, 2, 1), shapes=[(2, 5, 4)], label="pad-exclude"),
    OpSpec("resample", lambda x: F.interpolate(x, size=(4, 5), mode="bilinear", align_corners=True),
           lambda x: _bilinear_ac_ref(x, 4, 5), shapes=[(1, 2, 3, 3)]),
    OpSpec("resample", lambda x: F.interpolate(x, scale_factor=2),
           lambda x: x.repeat(2, axis=2).repeat(2, axis=3), shapes=[(1, 2, 2, 3)], label="nearest"),
    OpSpec("resample", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), lambda x: _adaptive_avg_ref(x, 2, 3),
           shapes=[(2, 5, 7)], label="adaptive-avg"),
    OpSpec("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (2, 3)),
           lambda x: _adaptive_max_ref(x, 2, 3), make=distinct((1, 2, 5, 7))),
    OpSpec("embedding", lambda w: P.embedding_p(w, index=_EMB_I, coeff=np.ones(_EMB_I.shape)),
           lambda w: w[_EMB_I], shapes=[(4, 3)]),
    OpSpec("multi_margin_loss", lambda x: F.multi_margin_loss(x, gk.tensor(_MM_T), p=2, margin=0.5),
           lambda x: _multi_margin_ref(x, _MM_T, 2, 0.5), make=distinct((3, 4), gap=0.3)),
    OpSpec("multi_margin_loss", lambda x: F.multi_margin_loss(x, gk.tensor(_MM_T)),
           lambda x: _multi_margin_ref(x, _MM_T, 1, 1.0), make=distinct((3, 4), gap=0.3), label="p1"),
    OpSpec("im2col", lambda x: F.unfold(x, 2), lambda x: _unfold_ref(x, 2, 1), shapes=[(1, 2, 3, 4)]),
    OpSpec("col2im", lambda x: F.fold(x, (4, 4), 2, stride=2), lambda x: _fold_ref(x, (4, 4), 2, 2),
           shapes=[(2, 8, 4)]),
    OpSpec("embedding_bag", lambda w, p: F.embedding_bag(gk.tensor(_EBAG_I), w, gk.tensor(_EBAG_OFF),
                                                         mode="sum", per_sample_weights=p),
           lambda w, p: _ebag_ref(w, p, _EBAG_I, [0, 2, 2, 5], [2, 2, 5, 7], False),
           shapes=[(6, 3), (7,)], label="sum-weights"),
    OpSpec("embedding_bag", lambda w: F.embedding_bag(gk.tensor(_EBAG_I), w, gk.tensor(_EBAG_OFF)),
           lambda w: _ebag_ref(w, np.ones(7), _EBAG_I, [0, 2, 2, 5], [2, 2, 5, 7], True),
           shapes=[(6, 3)], label="mean"),
    OpSpec("embedding_bag", lambda w: F.embedding_bag(gk.tensor(_EBAG_I), w, gk.tensor(_EBAG_OFF),
                                                      mode="max"),
           lambda w: _ebag_max_ref(w, _EBAG_I, [0, 2, 2, 5], [2, 2, 5, 7]), make=distinct((6, 3)),
           label="max"),
    OpSpec("fractional_max_pool", lambda x: F.fractional_max_pool2d(
        x, 2, output_size=3, _random_samples=gk.tensor(_FRAC_U, dtype=x.dtype)),
           lambda x: _frac_pool2d_ref(x, _FRAC_U, 2, 3), make=distinct((2, 3, 6, 7))),
    OpSpec("grid_sampler", lambda x, g: F.grid_sample(x, g, align_corners=False),
           _grid_sample_ref, shapes=[(2, 3, 4, 5), (2, 3, 2, 2)], low=-1.2, high=1.2),
    OpSpec("affine_grid", lambda t: F.affine_grid(t, [2, 1, 3, 4], align_corners=False),
           lambda t: _affine_grid_ref(t, 3, 4), shapes=[(2, 2, 3)]),
    *[OpSpec("multilabel_margin_loss",
             lambda x, r=r: F.multilabel_margin_loss(x, gk.tensor(_MLM_T), reduction=r),
             lambda x, r=r: _mlm_ref(x, _MLM_T, r), make=distinct((3, 4), gap=0.3), label=r)
      for r in ("mean", "sum", "none")],
    OpSpec("convolution_transpose3d", lambda x, w, b: F.conv_transpose3d(x, w, b),
           lambda x, w, b: _conv_t3d_ref(x, w, b, 1, 0, 1, 1),
           shapes=[(1, 2, 2, 3, 2), (2, 3, 2, 2, 2), (3,)]),
    OpSpec("convolution_transpose3d",
           lambda x, w, b: F.conv_transpose3d(x, w, b, stride=2, padding=1, groups=2, dilation=2),
           lambda x, w, b: _conv_t3d_ref(x, w, b, 2, 1, 2, 2),
           shapes=[(1, 4, 2, 2, 2), (4, 1, 2, 2, 2), (2,)],
           label="strided-groups"),
    OpSpec("convolution3d", lambda x, w, b: F.conv3d(x, w, b, padding=1),
           lambda x, w, b: _conv3d_ref(x, w, b, 1), shapes=[(1, 2, 3, 3, 2), (2, 2, 2, 2, 2), (2,)]),
    OpSpec("ctc_loss", lambda x: P.ctc_loss_p(F.log_softmax(x, 2), **_CTC_KW), _ctc_ref, shapes=[(4, 2, 3)],
           second_order=False),
    OpSpec("ctc_loss_backward", lambda g, x: P.ctc_loss_backward_p(g, F.log_softmax(x, 2), **_CTC_KW),
           _ctc_backward_ref, shapes=[(2,), (4, 2, 3)],
           refused="derivative for aten::_ctc_loss_backward is not implemented"),
    OpSpec("max_pool2d_backward",
           lambda g, i: P.max_pool2d_backward_p(g, input_shape=(1, 2, 4, 4), indices=i),
           lambda g, i: _max_pool_backward_ref(g, (1, 2, 4, 4), i), shapes=[(1, 2, 2, 2)],
           args=(_POOL_IDX,)),
]
