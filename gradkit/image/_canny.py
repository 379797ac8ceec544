"""Canny edge detector, reproducing ``cv2.Canny`` bit for bit on uint8 images."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from gradkit._core.tensor import Tensor
from ._filters import sobel

__all__ = ["canny"]

_TG22 = 13573            # round(tan(22.5 deg) * 2**15), OpenCV's constant


def _gradients(img: np.ndarray, aperture_size: int, exact: bool) -> tuple[np.ndarray, np.ndarray]:
    """Sobel derivatives with a replicated border; int16 on uint8 input, as OpenCV."""
    # NOTE: OpenCV scales the 7x7 derivatives by 1/16 (and the thresholds with them).
    scale = 1 / 16.0 if aperture_size == 7 else 1.0
    depth = np.int16 if exact else np.float64
    gx = sobel(img, 1, 0, aperture_size, scale, border="replicate", ddepth=depth)
    gy = sobel(img, 0, 1, aperture_size, scale, border="replicate", ddepth=depth)
    return gx, gy


def _magnitude(gx: np.ndarray, gy: np.ndarray, l2: bool, exact: bool) -> np.ndarray:
    t = np.int64 if exact else np.float64
    x, y = gx.astype(t), gy.astype(t)
    return x * x + y * y if l2 else np.abs(x) + np.abs(y)


def _pick_channel(gx: np.ndarray, gy: np.ndarray, mag: np.ndarray) -> tuple[np.ndarray, ...]:
    """Multi-channel input: at each pixel keep the channel with the largest magnitude (first on ties)."""
    k = np.argmax(mag, axis=-1)[..., None]
    return tuple(np.take_along_axis(a, k, axis=-1)[..., 0] for a in (gx, gy, mag))


def _non_max_suppression(gx: np.ndarray, gy: np.ndarray, mag: np.ndarray, low: float) -> np.ndarray:
    """Pixels that survive OpenCV's sector test (and exceed ``low``)."""
    h, w = mag.shape
    m = np.zeros((h + 2, w + 2), dtype=mag.dtype)      # magnitude is 0 outside the image
    m[1:-1, 1:-1] = mag

    def at(di: int, dj: int) -> np.ndarray:
        return m[1 + di:h + 1 + di, 1 + dj:w + 1 + dj]

    exact = mag.dtype.kind == "i"
    x = np.abs(gx).astype(np.int64 if exact else np.float64)
    y = np.abs(gy).astype(x.dtype) * (1 << 15)
    tg22x = x * _TG22
    tg67x = tg22x + x * (1 << 16)
    horizontal = y < tg22x
    vertical = ~horizontal & (y > tg67x)
    diagonal = ~horizontal & ~vertical
    # (xs ^ ys) < 0 in OpenCV: exactly one of the derivatives is negative
    anti = (gx < 0) != (gy < 0)
    keep = horizontal & (mag > at(0, -1)) & (mag >= at(0, 1))
    keep |= vertical & (mag > at(-1, 0)) & (mag >= at(1, 0))
    keep |= diagonal & ~anti & (mag > at(-1, -1)) & (mag > at(1, 1))
    keep |= diagonal & anti & (mag > at(-1, 1)) & (mag > at(1, -1))
    return keep & (mag > low)


def _hysteresis(candidate: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """Candidates 8-connected (through candidates) to a strong pixel."""
    try:
        from scipy import ndimage
    except ImportError:
        ndimage = None
    if ndimage is not None:
        labels, n = ndimage.label(candidate, structure=np.ones((3, 3), dtype=bool))
        good = np.zeros(n + 1, dtype=bool)
        good[np.unique(labels[strong])] = True
        good[0] = False
        return good[labels]
    h, w = candidate.shape
    out = strong.copy()
    queue = deque(zip(*np.nonzero(strong)))
    while queue:
        i, j = queue.popleft()
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                a, b = i + di, j + dj
                if 0 <= a < h and 0 <= b < w and candidate[a, b] and not out[a, b]:
                    out[a, b] = True
                    queue.append((a, b))
    return out


def canny(img: Any, low: float, high: float, aperture_size: int = 3, L2gradient: bool = False
          ) -> np.ndarray:
    """Canny edges, as ``cv2.Canny(img, low, high, apertureSize, L2gradient)``.

    On uint8 input (``(H, W)`` or ``(H, W, C)``) the result equals OpenCV's exactly:
    int16 Sobel derivatives with a replicated border, integer L1 (or squared L2)
    magnitudes, OpenCV's fixed-point sector test for non-maximum suppression (strict
    ``>`` towards the left/up/diagonal neighbours, ``>=`` towards right/down), and
    hysteresis by 8-connectivity from pixels above ``high`` through pixels above
    ``low``. Other real inputs run the same steps in float64 without rounding.

    Parameters
    ----------
    img : ndarray or Tensor
        The image (a Tensor is detached: edges are not differentiable).
    low, high : float
        Hysteresis thresholds on the gradient magnitude (swapped if ``low > high``).
    aperture_size : int
        Sobel aperture: 3, 5, 7, or -1 (Scharr).
    L2gradient : bool
        ``sqrt(gx**2 + gy**2)`` instead of ``|gx| + |gy|``.

    Returns
    -------
    ndarray
        uint8, 255 on edges and 0 elsewhere, shape ``(H, W)``.
    """
    a = img.detach().numpy() if isinstance(img, Tensor) else np.asarray(img)
    if a.ndim not in (2, 3):
        raise ValueError(f"canny takes an (H, W) or (H, W, C) image, got shape {a.shape}")
    if aperture_size != -1 and (aperture_size % 2 == 0 or not 3 <= aperture_size <= 7):
        raise ValueError(f"aperture_size should be odd between 3 and 7 (or -1), got {aperture_size}")
    exact = a.dtype == np.uint8
    if aperture_size == 7:
        low, high = low / 16.0, high / 16.0
    low, high = min(low, high), max(low, high)
    if L2gradient:
        low, high = (min(32767.0, t) for t in (low, high))
        low, high = (t * t if t > 0 else t for t in (low, high))
    if exact:
        low, high = np.floor(low), np.floor(high)
    gx, gy = _gradients(a, aperture_size, exact)
    mag = _magnitude(gx, gy, L2gradient, exact)
    if a.ndim == 3:
        gx, gy, mag = _pick_channel(gx, gy, mag)
    candidate = _non_max_suppression(gx, gy, mag, low)
    edges = _hysteresis(candidate, candidate & (mag > high))
    return edges.astype(np.uint8) * np.uint8(255)
