"""Correlation with a fixed kernel: a fast NumPy path for arrays, a differentiable one for Tensors.

Arrays are filtered in strips of rows, so the intermediate buffers stay in cache, and
the strips run on a thread pool (NumPy releases the GIL inside ufuncs). A separable
kernel is applied as two 1-D passes: the vertical pass runs on the strip's rows, then
the result is padded left and right (padding columns commutes with filtering rows) and
the horizontal pass writes straight into the output. Taps with equal weight are summed
before they are multiplied.

Tensors are padded by index gathers (or ``np.pad`` for a constant border) and filtered
as a weighted sum of shifted slices, every step a differentiable gradkit operation.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

import numpy as np

from gradkit._core.tensor import Tensor
from ._border import border_index

__all__ = ["correlate_sep", "correlate_2d"]

_POOL: ThreadPoolExecutor | None = None
_STRIP_BYTES = 2 * 1024 * 1024   # rows per strip: ~2 MiB, measured best on 4096x4096 float64
_MIN_PARALLEL = 1 << 16         # elements; smaller images run on the calling thread


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1),
                                   thread_name_prefix="gradkit-image")
    return _POOL


# --- the weighted sum of shifted views -----------------------------------------------
def _weighted_sum(view: Callable[[int], np.ndarray], coefs: Sequence[float], out: np.ndarray,
                  tmp: np.ndarray) -> None:
    """``out[...] = sum(coefs[i] * view(i))``; taps of equal |weight| share one multiply."""
    groups: dict[float, list[tuple[bool, int]]] = {}
    for i, c in enumerate(coefs):
        if c != 0.0:
            groups.setdefault(abs(float(c)), []).append((c > 0, i))
    if not groups:
        out[...] = 0.0
        return
    first = True
    for mag, items in groups.items():
        items.sort(key=lambda t: not t[0])      # positive terms first
        sign0, i0 = items[0]
        if len(items) == 1 and not first and mag == 1.0:
            (np.add if sign0 else np.subtract)(out, view(i0), out=out)
            continue
        dst = out if first else tmp
        # dst = view(i0) +- view(i1) +- ...: the signs relative to the first term's
        if len(items) == 1:
            np.multiply(view(i0), mag if (sign0 or not first) else -mag, out=dst)
        else:
            sign1, i1 = items[1]
            (np.add if sign1 == sign0 else np.subtract)(view(i0), view(i1), out=dst)
            for sign, i in items[2:]:
                (np.add if sign == sign0 else np.subtract)(dst, view(i), out=dst)
            factor = mag if (sign0 or not first) else -mag
            if factor != 1.0:
                np.multiply(dst, factor, out=dst)
        if first:
            first = False
        else:
            (np.add if sign0 else np.subtract)(out, tmp, out=out)


# --- array path ----------------------------------------------------------------------
def _rows(src: np.ndarray, idx: np.ndarray, value: float) -> np.ndarray:
    """Rows ``idx`` of ``src`` as float64 (``-1`` = a constant row), a view when possible."""
    lo, hi = int(idx[0]), int(idx[-1])
    if lo >= 0 and hi - lo + 1 == len(idx) and np.all(idx >= 0):
        rows = src[lo:hi + 1]
    else:
        rows = src[np.maximum(idx, 0)]
        if np.any(idx < 0):
            rows = rows.astype(np.float64)
            rows[idx < 0] = value
    return rows if rows.dtype == np.float64 else rows.astype(np.float64)


def _fill_columns(buf: np.ndarray, cidx: np.ndarray, left: int, width: int, value: float) -> None:
    """Fill the padding columns of ``buf`` (image columns at ``left:left+width``)."""
    for p in list(range(left)) + list(range(left + width, buf.shape[1])):
        c = int(cidx[p])
        buf[:, p] = value if c < 0 else buf[:, left + c]


def _strips(h: int, row_elems: int) -> list[tuple[int, int]]:
    n = max(4, _STRIP_BYTES // max(1, 8 * row_elems))
    return [(r, min(h, r + n)) for r in range(0, h, n)]


def _run(fn: Callable[[int, int], None], h: int, row_elems: int) -> None:
    strips = _strips(h, row_elems)
    if len(strips) == 1 or h * row_elems < _MIN_PARALLEL:
        for r0, r1 in strips:
            fn(r0, r1)
    else:
        list(_pool().map(lambda s: fn(*s), strips))


def _sep_array(src: np.ndarray, pairs: Sequence[tuple[np.ndarray, np.ndarray]], ax: int, ay: int,
               border: str, value: float) -> np.ndarray:
    """Sum of separable correlations ``(kx, ky)`` (equal lengths) of an ``(H, W, ...)`` array."""
    h, w = src.shape[:2]
    rest = src.shape[2:]
    lx, ly = len(pairs[0][0]), len(pairs[0][1])
    ridx = border_index(np.arange(-ay, h + ly - 1 - ay), h, border)
    cidx = border_index(np.arange(-ax, w + lx - 1 - ax), w, border)
    out = np.empty(src.shape, np.float64)
    # NOTE: a pair that only scales the anchor pixel (the -8 of the 3x3 Laplacian) needs no
    # border and no passes: it is added as c * src.
    scales = [float(kx[ax] * ky[ay]) for kx, ky in pairs[1:] if _is_delta(kx, ax) and _is_delta(ky, ay)]
    pairs = [pairs[0]] + [(kx, ky) for kx, ky in pairs[1:]
                          if not (_is_delta(kx, ax) and _is_delta(ky, ay))]

    def strip(r0: int, r1: int) -> None:
        n = r1 - r0
        rows = _rows(src, ridx[r0:r1 + ly - 1], value)
        buf = np.empty((n, w + lx - 1) + rest)
        tmp = np.empty((n, w) + rest)
        acc = np.empty((n, w) + rest) if len(pairs) > 1 else None
        for p, (kx, ky) in enumerate(pairs):
            _weighted_sum(lambda i: rows[i:i + n], ky, buf[:, ax:ax + w], tmp)
            # a constant column stays constant through the vertical pass
            _fill_columns(buf, cidx, ax, w, value * float(np.sum(ky)))
            _weighted_sum(lambda j: buf[:, j:j + w], kx, out[r0:r1] if p == 0 else acc, tmp)
            if p:
                np.add(out[r0:r1], acc, out=out[r0:r1])
        for c in scales:
            np.multiply(src[r0:r1], c, out=tmp)
            np.add(out[r0:r1], tmp, out=out[r0:r1])

    _run(strip, h, int(np.prod(src.shape[1:])))
    return out


def _is_delta(k: np.ndarray, anchor: int) -> bool:
    """Whether a 1-D kernel is zero except at the anchor."""
    return bool(k[anchor] != 0 and np.count_nonzero(k) == 1)


def _2d_array(src: np.ndarray, kernel: np.ndarray, ax: int, ay: int, border: str,
              value: float) -> np.ndarray:
    """General 2-D correlation of an ``(H, W, ...)`` array; float64 result."""
    h, w = src.shape[:2]
    kh, kw = kernel.shape
    rest = src.shape[2:]
    ridx = border_index(np.arange(-ay, h + kh - 1 - ay), h, border)
    cidx = border_index(np.arange(-ax, w + kw - 1 - ax), w, border)
    out = np.empty(src.shape, np.float64)
    flat = kernel.ravel()

    def strip(r0: int, r1: int) -> None:
        n = r1 - r0
        pad = np.empty((n + kh - 1, w + kw - 1) + rest)
        pad[:, ax:ax + w] = _rows(src, ridx[r0:r1 + kh - 1], value)
        _fill_columns(pad, cidx, ax, w, value)
        tmp = np.empty((n, w) + rest)
        _weighted_sum(lambda t: pad[t // kw:t // kw + n, t % kw:t % kw + w], flat, out[r0:r1], tmp)

    _run(strip, h, int(np.prod(src.shape[1:])))
    return out


# --- tensor path (differentiable) ----------------------------------------------------
def _pad_tensor(x: Tensor, top: int, bottom: int, left: int, right: int, border: str,
                value: float) -> Tensor:
    """Pad the last two axes of ``x``; index gathers (or ``np.pad``) keep it differentiable."""
    h, w = x.shape[-2], x.shape[-1]
    if border == "constant":
        widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
        return np.pad(x, widths, mode="constant", constant_values=value)
    if top or bottom:
        x = x[..., border_index(np.arange(-top, h + bottom), h, border), :]
    if left or right:
        x = x[..., border_index(np.arange(-left, w + right), w, border)]
    return x


def _tensor_wsum(view: Callable[[int], Tensor], coefs: Sequence[float]) -> Any:
    acc: Any = None
    for i, c in enumerate(coefs):
        if c == 0.0:
            continue
        term = view(i) if c == 1.0 else view(i) * float(c)
        acc = term if acc is None else acc + term
    return acc if acc is not None else view(0) * 0.0


def _sep_tensor(x: Tensor, kx: np.ndarray, ky: np.ndarray, ax: int, ay: int, border: str,
                value: float) -> Tensor:
    h, w = x.shape[-2], x.shape[-1]
    p = _pad_tensor(x, ay, len(ky) - 1 - ay, ax, len(kx) - 1 - ax, border, value)
    v = _tensor_wsum(lambda i: p[..., i:i + h, :], ky)
    return _tensor_wsum(lambda j: v[..., j:j + w], kx)


def _2d_tensor(x: Tensor, kernel: np.ndarray, ax: int, ay: int, border: str, value: float) -> Tensor:
    h, w = x.shape[-2], x.shape[-1]
    kh, kw = kernel.shape
    p = _pad_tensor(x, ay, kh - 1 - ay, ax, kw - 1 - ax, border, value)
    return _tensor_wsum(lambda t: p[..., t // kw:t // kw + h, t % kw:t % kw + w], kernel.ravel())


# --- dispatch ------------------------------------------------------------------------
def correlate_sep(x: Any, kx: np.ndarray, ky: np.ndarray, ax: int, ay: int, border: str,
                  value: float, more: Sequence[tuple[np.ndarray, np.ndarray]] = ()) -> Any:
    """Separable correlation over the image axes: ``(H, W, ...)`` arrays, ``(..., H, W)`` tensors.

    ``more`` adds further ``(kx, ky)`` pairs of the same lengths and anchor to the sum.
    """
    pairs = [(kx, ky), *more]
    if isinstance(x, Tensor):
        out = _sep_tensor(x, kx, ky, ax, ay, border, value)
        for kx2, ky2 in more:
            out = out + _sep_tensor(x, kx2, ky2, ax, ay, border, value)
        return out
    return _sep_array(x, pairs, ax, ay, border, value)


def correlate_2d(x: Any, kernel: np.ndarray, ax: int, ay: int, border: str, value: float) -> Any:
    """2-D correlation over the image axes: ``(H, W, ...)`` arrays, ``(..., H, W)`` tensors."""
    if isinstance(x, Tensor):
        return _2d_tensor(x, kernel, ax, ay, border, value)
    return _2d_array(x, kernel, ax, ay, border, value)
