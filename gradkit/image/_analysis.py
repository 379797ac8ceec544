"""Quantities built from image derivatives: magnitude, orientation, structure tensor, Harris, focus.

All are compositions of the filters, so on Tensors they are differentiable too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._core.tensor import Tensor
from ._filters import laplacian, sep_filter2d, sobel

__all__ = ["gradient_magnitude", "gradient_orientation", "structure_tensor", "harris_response",
           "focus_measure", "FOCUS_METHODS"]


def _grads(img: Any, ksize: int, border: Any, **kw: Any) -> tuple[Any, Any]:
    return sobel(img, 1, 0, ksize, border=border, **kw), sobel(img, 0, 1, ksize, border=border, **kw)


def _safe_sqrt(s: Any) -> Any:
    """``sqrt(s)`` whose gradient at ``s == 0`` is 0 (no NaN from flat regions), as torch's norm."""
    if not isinstance(s, Tensor):
        return np.sqrt(s)
    pos = s > 0
    return np.where(pos, np.sqrt(np.where(pos, s, 1.0)), 0.0)


def gradient_magnitude(img: Any, ksize: int = 3, border: Any = "reflect101", L2gradient: bool = True,
                       **kw: Any) -> Any:
    """``sqrt(gx**2 + gy**2)`` of the Sobel derivatives (``|gx| + |gy|`` with ``L2gradient=False``).

    On Tensors the gradient of the magnitude at a flat pixel is taken as 0.

    Examples
    --------
    >>> gradient_magnitude(np.tile(np.arange(4.0), (3, 1)))[1]
    array([0., 8., 8., 0.])
    """
    gx, gy = _grads(img, ksize, border, **kw)
    if not L2gradient:
        return abs(gx) + abs(gy)
    return _safe_sqrt(gx * gx + gy * gy)


def gradient_orientation(img: Any, ksize: int = 3, border: Any = "reflect101", degrees: bool = True,
                         **kw: Any) -> Any:
    """Direction of the Sobel gradient, ``atan2(gy, gx)`` in ``[0, 360)`` degrees (or ``[0, 2pi)``).

    Angles use image coordinates (x right, y down), as ``cv2.phase(gx, gy)``: 90 points
    down the rows. A flat pixel gets 0.
    """
    gx, gy = _grads(img, ksize, border, **kw)
    ang = np.arctan2(gy, gx)
    ang = np.where(ang < 0, ang + 2 * np.pi, ang)
    return ang * (180.0 / np.pi) if degrees else ang


def _window(x: Any, block_size: int, border: Any, sigma: float | None, normalize: bool,
            **kw: Any) -> Any:
    if sigma is None:
        k = np.ones(block_size) / (block_size if normalize else 1.0)
    else:
        r = max(1, int(np.ceil(3 * sigma)))
        k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
        k = k / k.sum()
    return sep_filter2d(x, k, k, None, 0.0, border, **kw)


def structure_tensor(img: Any, block_size: int = 3, ksize: int = 3, border: Any = "reflect101",
                     sigma: float | None = None, normalize: bool = True, scale: float = 1.0,
                     **kw: Any) -> tuple[Any, Any, Any]:
    """The structure tensor ``(Jxx, Jxy, Jyy)``: windowed ``gx*gx``, ``gx*gy``, ``gy*gy``.

    Parameters
    ----------
    block_size : int
        Box window side (anchor at ``block_size // 2`` as OpenCV).
    ksize : int
        Sobel aperture for ``gx``, ``gy`` (-1: Scharr).
    sigma : float, optional
        Use a Gaussian window (truncated at 3 sigma) instead of the box.
    normalize : bool
        Box window as a mean (default) or a plain sum (as ``cv2.cornerHarris``).
    scale : float
        Factor applied to ``gx`` and ``gy`` before the products.
    """
    gx = sobel(img, 1, 0, ksize, scale, border=border, **kw)
    gy = sobel(img, 0, 1, ksize, scale, border=border, **kw)
    return tuple(_window(p, block_size, border, sigma, normalize, **kw)   # type: ignore[return-value]
                 for p in (gx * gx, gx * gy, gy * gy))


def harris_response(img: Any, block_size: int = 2, ksize: int = 3, k: float = 0.04,
                    border: Any = "reflect101", **kw: Any) -> Any:
    """Harris corner response ``det(J) - k trace(J)**2``, as ``cv2.cornerHarris``.

    Uses OpenCV's normalisation: derivatives scaled by ``1 / (2**(ksize-1) * block_size)``
    (times 1/255 for uint8 input, times 1/2 more for Scharr) and an unnormalised box
    sum. OpenCV computes in float32; this computes in float64.
    """
    scale = float(2 ** ((ksize if ksize > 0 else 3) - 1) * block_size)
    if ksize < 0:
        scale *= 2.0
    src = img._data.dtype if isinstance(img, Tensor) else np.asarray(img).dtype
    if src == np.uint8:
        scale *= 255.0
    a, b, c = structure_tensor(img, block_size, ksize, border, normalize=False, scale=1.0 / scale, **kw)
    return a * c - b * b - k * (a + c) * (a + c)


def _var(x: Any) -> Any:
    m = x.mean()
    return ((x - m) * (x - m)).mean()


def _brenner(x: Any) -> Any:
    dh = x[..., :, 2:] - x[..., :, :-2]
    dv = x[..., 2:, :] - x[..., :-2, :]
    return (dh * dh).mean() + (dv * dv).mean()


def _modified_laplacian(x: Any) -> Any:
    k = np.array([-1.0, 2.0, -1.0])
    lx = sep_filter2d(x, k, [1.0], channels_last=False)
    ly = sep_filter2d(x, [1.0], k, channels_last=False)
    return (abs(lx) + abs(ly)).mean()


FOCUS_METHODS = ("laplacian_variance", "tenengrad", "brenner", "variance", "normalized_variance",
                 "modified_laplacian")


def focus_measure(img: Any, method: str = "laplacian_variance", ksize: int = 3) -> Any:
    """A sharpness score (higher is sharper), for autofocus or blur detection.

    Methods (``I`` the image as float, means over all pixels; borders 'reflect101'):

    - 'laplacian_variance': ``var(laplacian(I, ksize=1))`` (the usual
      ``cv2.Laplacian(img, cv2.CV_64F).var()``);
    - 'tenengrad': ``mean(gx**2 + gy**2)``, Sobel with ``ksize``;
    - 'brenner': ``mean((I[:, 2:] - I[:, :-2])**2) + mean((I[2:] - I[:-2])**2)``;
    - 'variance': ``var(I)``; 'normalized_variance': ``var(I) / mean(I)``;
    - 'modified_laplacian': ``mean(|I * [-1, 2, -1]_x| + |I * [-1, 2, -1]_y|)`` (Nayar).

    Returns a float for arrays and a 0-d Tensor (differentiable) for Tensors. The whole
    array is scored (all channels together); a 2-D image is the usual input.
    """
    x = img if isinstance(img, Tensor) else np.asarray(img, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"focus_measure needs an image, got shape {tuple(x.shape)}")
    cl = False if isinstance(x, Tensor) or x.ndim == 2 else None
    if method == "laplacian_variance":
        r = _var(laplacian(x, 1, channels_last=cl))
    elif method == "tenengrad":
        gx, gy = _grads(x, ksize, "reflect101", channels_last=cl)
        r = (gx * gx + gy * gy).mean()
    elif method == "brenner":
        r = _brenner(x if cl is not None else np.moveaxis(x, -1, 0))
    elif method == "variance":
        r = _var(x)
    elif method == "normalized_variance":
        r = _var(x) / x.mean()
    elif method == "modified_laplacian":
        r = _modified_laplacian(x if cl is not None else np.moveaxis(x, -1, 0))
    else:
        raise ValueError(f"unknown focus measure {method!r}; choose from {', '.join(FOCUS_METHODS)}")
    return r if isinstance(r, Tensor) else float(r)
