"""OpenCV's own names and signatures: ``import gradkit.cv2 as cv2`` runs OpenCV gradient code.

Code written for OpenCV ports by changing the import: the functions keep OpenCV's
names, positional argument order (``dst`` included, fifth in ``Sobel``), ``ddepth``
codes (``CV_8U`` ... ``CV_64F``, ``-1`` for the source's depth) and ``BORDER_*``
codes, and return NumPy arrays of the dtypes OpenCV returns. Images are BGR as in
OpenCV (``imread`` gives BGR, ``COLOR_BGR2GRAY`` weights blue 0.114). The filters are
those of :mod:`gradkit.image`, which match OpenCV's results (bit for bit on the
integer paths); a :class:`gradkit.Tensor` input gives a differentiable Tensor.

Examples
--------
>>> import numpy as np
>>> import gradkit.cv2 as cv2
>>> img = np.zeros((5, 5), np.uint8); img[:, 2:] = 100
>>> cv2.Sobel(img, cv2.CV_64F, 1, 0, ksize=3)[2]
array([  0., 400., 400.,   0.,   0.])
>>> cv2.convertScaleAbs(cv2.Sobel(img, cv2.CV_16S, 1, 0))[2]
array([  0, 255, 255,   0,   0], dtype=uint8)

Not bit for bit: ``phase`` and ``cartToPolar`` use the exact ``atan2`` (OpenCV's fast
approximation is within about 0.3 degrees of it, 0.01 degrees in OpenCV 5.1);
``cvtColor(..., COLOR_BGR2GRAY)`` on uint8/uint16 is OpenCV 5's 15-bit fixed point
(OpenCV 4's 14 bits differ by one grey level on some pixels), and on float32 it can differ
in the last bit; float32 ``filter2D``/``magnitude`` can differ in the last bit (summation order);
JPEG files decode through Pillow's libjpeg, whose output can differ from OpenCV's build
by a few grey levels.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import image as _image
from gradkit._core.tensor import Tensor

__all__ = [
    "Sobel", "Scharr", "Laplacian", "filter2D", "sepFilter2D", "Canny", "imread", "imwrite",
    "cvtColor", "convertScaleAbs", "magnitude", "phase", "cartToPolar", "addWeighted",
    "getDerivKernels", "getGaussianKernel", "GaussianBlur", "blur", "boxFilter",
    "CV_8U", "CV_8S", "CV_16U", "CV_16S", "CV_32S", "CV_32F", "CV_64F",
    "BORDER_CONSTANT", "BORDER_REPLICATE", "BORDER_REFLECT", "BORDER_WRAP", "BORDER_REFLECT_101",
    "BORDER_REFLECT101", "BORDER_DEFAULT", "BORDER_TRANSPARENT", "BORDER_ISOLATED",
    "IMREAD_UNCHANGED", "IMREAD_GRAYSCALE", "IMREAD_COLOR", "IMREAD_ANYDEPTH", "IMREAD_ANYCOLOR",
    "IMREAD_IGNORE_ORIENTATION", "COLOR_BGR2GRAY", "COLOR_RGB2GRAY", "COLOR_BGRA2GRAY",
    "COLOR_RGBA2GRAY", "COLOR_GRAY2BGR", "COLOR_GRAY2RGB", "COLOR_BGR2RGB", "COLOR_RGB2BGR",
    "COLOR_BGRA2BGR", "COLOR_BGR2BGRA", "COLOR_BGRA2RGBA", "COLOR_RGBA2BGRA", "COLOR_GRAY2BGRA",
]

# depths (cv2.CV_*)
CV_8U, CV_8S, CV_16U, CV_16S, CV_32S, CV_32F, CV_64F = 0, 1, 2, 3, 4, 5, 6
# borders (cv2.BORDER_*)
BORDER_CONSTANT, BORDER_REPLICATE, BORDER_REFLECT, BORDER_WRAP = 0, 1, 2, 3
BORDER_REFLECT_101 = BORDER_REFLECT101 = BORDER_DEFAULT = 4
BORDER_TRANSPARENT, BORDER_ISOLATED = 5, 16
# imread flags (cv2.IMREAD_*)
IMREAD_UNCHANGED, IMREAD_GRAYSCALE, IMREAD_COLOR, IMREAD_ANYDEPTH, IMREAD_ANYCOLOR = -1, 0, 1, 2, 4
IMREAD_IGNORE_ORIENTATION = 128
# colour conversions (cv2.COLOR_*)
COLOR_BGR2BGRA = COLOR_RGB2RGBA = 0
COLOR_BGRA2BGR = COLOR_RGBA2RGB = 1
COLOR_BGR2RGBA = COLOR_RGB2BGRA = 2
COLOR_RGBA2BGR = COLOR_BGRA2RGB = 3
COLOR_BGR2RGB = COLOR_RGB2BGR = 4
COLOR_BGRA2RGBA = COLOR_RGBA2BGRA = 5
COLOR_BGR2GRAY, COLOR_RGB2GRAY, COLOR_GRAY2BGR = 6, 7, 8
COLOR_GRAY2RGB = COLOR_GRAY2BGR
COLOR_GRAY2BGRA = COLOR_GRAY2RGBA = 9
COLOR_BGRA2GRAY, COLOR_RGBA2GRAY = 10, 11


def _ret(out: Any, dst: Any) -> Any:
    """OpenCV writes into ``dst`` when it fits, and returns the result either way."""
    if isinstance(dst, np.ndarray) and isinstance(out, np.ndarray) and dst.shape == out.shape \
            and dst.dtype == out.dtype:
        dst[...] = out
        return dst
    return out


def _src(src: Any, name: str = "src") -> Any:
    if src is None:
        # NOTE: the usual cause is cv2.imread of a missing file, which returns None
        raise TypeError(f"{name} is None (did cv2.imread fail to read the file?)")
    return src


def Sobel(src: Any, ddepth: int, dx: int, dy: int, dst: Any = None, ksize: int = 3, scale: float = 1,
          delta: float = 0, borderType: int = BORDER_DEFAULT) -> Any:
    """``cv2.Sobel(src, ddepth, dx, dy[, dst[, ksize[, scale[, delta[, borderType]]]]])``."""
    return _ret(_image.sobel(_src(src), dx, dy, ksize, scale, delta, borderType, ddepth), dst)


def Scharr(src: Any, ddepth: int, dx: int, dy: int, dst: Any = None, scale: float = 1, delta: float = 0,
           borderType: int = BORDER_DEFAULT) -> Any:
    """``cv2.Scharr(src, ddepth, dx, dy[, dst[, scale[, delta[, borderType]]]])``."""
    return _ret(_image.scharr(_src(src), dx, dy, scale, delta, borderType, ddepth), dst)


def Laplacian(src: Any, ddepth: int, dst: Any = None, ksize: int = 1, scale: float = 1, delta: float = 0,
              borderType: int = BORDER_DEFAULT) -> Any:
    """``cv2.Laplacian(src, ddepth[, dst[, ksize[, scale[, delta[, borderType]]]]])``."""
    return _ret(_image.laplacian(_src(src), ksize, scale, delta, borderType, ddepth), dst)


def filter2D(src: Any, ddepth: int, kernel: Any, dst: Any = None, anchor: Any = (-1, -1), delta: float = 0,
             borderType: int = BORDER_DEFAULT) -> Any:
    """``cv2.filter2D(src, ddepth, kernel[, dst[, anchor[, delta[, borderType]]]])`` (a correlation)."""
    return _ret(_image.filter2d(_src(src), kernel, anchor, delta, borderType, ddepth), dst)


def sepFilter2D(src: Any, ddepth: int, kernelX: Any, kernelY: Any, dst: Any = None, anchor: Any = (-1, -1),
                delta: float = 0, borderType: int = BORDER_DEFAULT) -> Any:
    """``cv2.sepFilter2D(src, ddepth, kernelX, kernelY[, dst[, anchor[, delta[, borderType]]]])``."""
    kx = np.asarray(kernelX, dtype=np.float64).ravel()
    ky = np.asarray(kernelY, dtype=np.float64).ravel()
    return _ret(_image.sep_filter2d(_src(src), kx, ky, anchor, delta, borderType, ddepth), dst)


def Canny(image: Any, threshold1: float, threshold2: float, edges: Any = None, apertureSize: int = 3,
          L2gradient: bool = False) -> np.ndarray:
    """``cv2.Canny(image, threshold1, threshold2[, edges[, apertureSize[, L2gradient]]])``: 0/255 uint8."""
    lo, hi = sorted((float(threshold1), float(threshold2)))  # OpenCV swaps them too
    return _ret(_image.canny(_src(image, "image"), lo, hi, apertureSize, bool(L2gradient)), edges)


def getDerivKernels(dx: int, dy: int, ksize: int, kx: Any = None, ky: Any = None, normalize: bool = False,
                    ktype: int = CV_32F) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.getDerivKernels(dx, dy, ksize[, kx[, ky[, normalize[, ktype]]]])``: two column vectors."""
    a, b = _image.deriv_kernels(dx, dy, ksize, normalize)
    dt = np.float64 if ktype == CV_64F else np.float32
    return np.asarray(a, dt).reshape(-1, 1), np.asarray(b, dt).reshape(-1, 1)


# --------------------------------------------------------------------------- files
#: OpenCV's fixed small kernels for ``sigma <= 0`` (OpenCV 5 added the 9-tap one)
_SMALL_GAUSSIAN = {1: [1.0], 3: [0.25, 0.5, 0.25], 5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
                   7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
                   9: [x / 256 for x in (4, 13, 30, 51, 60, 51, 30, 13, 4)]}


def _gaussian(ksize: int, sigma: float) -> np.ndarray:
    if ksize in _SMALL_GAUSSIAN and sigma <= 0:
        return np.array(_SMALL_GAUSSIAN[ksize])
    if sigma <= 0:
        sigma = 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8
    x = np.arange(ksize) - (ksize - 1) * 0.5
    k = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return k / k.sum()


def getGaussianKernel(ksize: int, sigma: float, ktype: int = CV_64F) -> np.ndarray:
    """``cv2.getGaussianKernel(ksize, sigma[, ktype])``: a ``(ksize, 1)`` column summing to 1.

    ``sigma <= 0`` takes OpenCV's ``0.3 * ((ksize - 1) * 0.5 - 1) + 0.8`` (and its fixed
    binomial kernels for ``ksize`` 1, 3, 5, 7).
    """
    ksize = int(ksize)
    if ksize <= 0 or ksize % 2 == 0:
        raise ValueError(f"getGaussianKernel: ksize must be odd and positive, got {ksize}")
    dt = np.float32 if ktype == CV_32F else np.float64
    return _gaussian(ksize, float(sigma)).astype(dt).reshape(-1, 1)


def _gaussian_size(sigma: float, dtype: np.dtype) -> int:
    # OpenCV: round(sigma * (3 for 8-bit images, else 4) * 2 + 1) | 1
    return int(round(sigma * (3 if dtype == np.uint8 else 4) * 2 + 1)) | 1


def GaussianBlur(src: Any, ksize: Any, sigmaX: float, dst: Any = None, sigmaY: float = 0,
                 borderType: int = BORDER_DEFAULT) -> Any:
    """``cv2.GaussianBlur(src, ksize, sigmaX[, dst[, sigmaY[, borderType]]])``.

    ``ksize`` is ``(width, height)``, odd, or ``(0, 0)`` to derive it from the sigmas;
    ``sigmaY = 0`` takes ``sigmaX``. Float images match OpenCV to rounding; 8-bit images
    are computed in float64 and rounded, where OpenCV's fixed-point arithmetic can differ
    by one grey level on some pixels.
    """
    src = _src(src)
    kw, kh = (int(k) for k in ksize)
    sx = float(sigmaX)
    sy = float(sigmaY) if sigmaY else sx
    if kw == 0 and kh == 0 and sx <= 0:
        raise ValueError("GaussianBlur: ksize is (0, 0) and sigmaX <= 0: give a size or a sigma")
    dt = np.asarray(src._data if isinstance(src, Tensor) else src).dtype
    if kw <= 0 and sx > 0:
        kw = _gaussian_size(sx, dt)
    if kh <= 0 and sy > 0:
        kh = _gaussian_size(sy, dt)
    for name, k in (("width", kw), ("height", kh)):
        if k <= 0 or k % 2 == 0:
            raise ValueError(f"GaussianBlur: ksize {name} must be odd and positive, got {k}")
    kx, ky = _gaussian(kw, sx), _gaussian(kh, sy)
    if dt == np.uint8 and not isinstance(src, Tensor):
        # OpenCV's 8-bit path is exact fixed point: kernels in 1/256 units (rounded with
        # error diffusion so they sum to 256), an exact horizontal pass, an exact vertical
        # pass in 1/65536 units, then round half up. float64 holds every partial sum exactly.
        raw = _image.sep_filter2d(src, _fixed8(kx), _fixed8(ky), None, 0.0, borderType, None)
        return _ret(np.clip(np.floor(raw + 0.5), 0, 255).astype(np.uint8), dst)
    out = _image.sep_filter2d(src, kx, ky, None, 0.0, borderType, -1)
    return _ret(out, dst)


def _fixed8(k: np.ndarray) -> np.ndarray:
    """``k`` in multiples of 1/256 summing to exactly 1: symmetric error diffusion from the ends."""
    n = len(k)
    q = np.empty(n)
    err, total = 0.0, 0
    for i in range(n // 2):
        v = k[i] * 256.0 + err
        r = int(np.rint(v))
        err = v - r
        q[i] = q[n - 1 - i] = r
        total += 2 * r
    q[n // 2] = 256 - total
    return q / 256.0


def boxFilter(src: Any, ddepth: int, ksize: Any, dst: Any = None, anchor: Any = (-1, -1),
              normalize: bool = True, borderType: int = BORDER_DEFAULT) -> Any:
    """``cv2.boxFilter(src, ddepth, ksize[, dst[, anchor[, normalize[, borderType]]]])``."""
    kw, kh = (int(k) for k in ksize)
    if kw <= 0 or kh <= 0:
        raise ValueError(f"boxFilter: ksize must be positive, got {(kw, kh)}")
    kx = np.full(kw, 1.0 / kw if normalize else 1.0)
    ky = np.full(kh, 1.0 / kh if normalize else 1.0)
    anchor = None if tuple(anchor) == (-1, -1) else anchor
    return _ret(_image.sep_filter2d(_src(src), kx, ky, anchor, 0.0, borderType, ddepth), dst)


def blur(src: Any, ksize: Any, dst: Any = None, anchor: Any = (-1, -1),
         borderType: int = BORDER_DEFAULT) -> Any:
    """``cv2.blur(src, ksize[, dst[, anchor[, borderType]]])``: the normalized box filter."""
    return boxFilter(src, -1, ksize, dst, anchor, True, borderType)


def imread(filename: str | os.PathLike[str], flags: int = IMREAD_COLOR) -> np.ndarray | None:
    """``cv2.imread(filename[, flags])``: BGR uint8 by default; None if the file cannot be read.

    ``IMREAD_COLOR`` gives ``(H, W, 3)`` BGR uint8, ``IMREAD_GRAYSCALE`` ``(H, W)`` uint8,
    ``IMREAD_UNCHANGED`` the file's channels (BGRA with alpha) and depth (uint16 kept);
    ``IMREAD_ANYDEPTH`` keeps 16 bits. EXIF orientation is applied unless the flags are
    ``IMREAD_UNCHANGED`` or include ``IMREAD_IGNORE_ORIENTATION``, as OpenCV does. Needs
    Pillow (``pip install pillow``).
    """
    Image = _image._io._pil()
    flags = int(flags)
    if not os.path.isfile(os.fspath(filename)):
        return None
    try:
        with Image.open(filename) as im:
            im.load()
            unchanged = flags < 0
            if not unchanged and not flags & IMREAD_IGNORE_ORIENTATION:
                from PIL import ImageOps

                im = ImageOps.exif_transpose(im)
            return _decode(im, flags)
    except (OSError, ValueError, SyntaxError):
        return None  # an unreadable or unknown file: OpenCV returns None too


def _decode(im: Any, flags: int) -> np.ndarray:
    if flags < 0:
        a = np.asarray(im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
                       if im.mode in ("P", "CMYK", "YCbCr", "LAB", "HSV", "1", "LA", "PA") else im)
        if a.dtype.kind in "iu" and a.dtype.itemsize > 1:
            a = a.astype(np.uint16)
        return _to_bgr(a).copy()
    deep = im.mode.startswith("I") and flags & IMREAD_ANYDEPTH
    gray = flags & IMREAD_COLOR == 0 and not (
        flags & IMREAD_ANYCOLOR and im.mode not in ("L", "I", "I;16", "1"))
    if deep:
        a = np.asarray(im).astype(np.uint16)
        return a if gray else np.repeat(a[:, :, None], 3, axis=2)
    if im.mode in ("L", "1", "I", "I;16", "I;16B", "I;16L") and im.mode != "L":
        a = np.asarray(im).astype(np.float64)
        scale = 255.0 / 65535.0 if im.mode.startswith("I") else 255.0
        a = np.clip(np.rint(a * scale), 0, 255).astype(np.uint8)
    elif im.mode == "L":
        a = np.asarray(im).copy()
    else:
        rgb = np.asarray(im.convert("RGB"))
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        return cvtColor(bgr, COLOR_BGR2GRAY) if gray else bgr
    return a if gray else np.repeat(a[:, :, None], 3, axis=2)


def _to_bgr(a: np.ndarray) -> np.ndarray:
    if a.ndim == 3 and a.shape[2] in (3, 4):
        return np.concatenate([a[:, :, 2::-1], a[:, :, 3:]], axis=2)
    return a


def imwrite(filename: str | os.PathLike[str], img: Any, params: Any = None) -> bool:
    """``cv2.imwrite(filename, img)``: a BGR(A) or grey image to a file; True on success."""
    a = img.detach().numpy() if isinstance(img, Tensor) else np.asarray(_src(img, "img"))
    _image.write(filename, _to_bgr(a))
    return True


# --------------------------------------------------------------------------- pixel maths
def _saturate(x: np.ndarray, dt: np.dtype) -> np.ndarray:
    dt = np.dtype(dt)
    if dt.kind == "f":
        return x.astype(dt)
    info = np.iinfo(dt)
    return np.clip(np.rint(x), info.min, info.max).astype(dt)


def cvtColor(src: Any, code: int, dst: Any = None, dstCn: int = 0) -> np.ndarray:
    """``cv2.cvtColor(src, code)`` for the grey and channel-order conversions.

    ``*2GRAY`` computes ``0.299 R + 0.587 G + 0.114 B`` as OpenCV 5: in 15-bit fixed point
    with rounding for uint8 and uint16, in float32 for float images.
    """
    a = np.asarray(_src(src))
    code = int(code)
    if code in (COLOR_BGR2GRAY, COLOR_RGB2GRAY, COLOR_BGRA2GRAY, COLOR_RGBA2GRAY):
        if a.ndim != 3 or a.shape[2] not in (3, 4):
            raise ValueError(f"cvtColor: code {code} needs a 3- or 4-channel image, got shape {a.shape}")
        b, g, r = (a[:, :, 0], a[:, :, 1], a[:, :, 2])
        if code in (COLOR_RGB2GRAY, COLOR_RGBA2GRAY):
            b, r = r, b
        if a.dtype in (np.uint8, np.uint16):
            # OpenCV 5's fixed point: B 3735, G 19235, R 9798 (sum 2**15), rounded by adding 2**14
            # (OpenCV 4 used 14 bits: 1868, 9617, 4899, which differ by a grey level on some pixels)
            s = b.astype(np.int64) * 3735 + g.astype(np.int64) * 19235 + r.astype(np.int64) * 9798
            out = ((s + 16384) >> 15).astype(a.dtype)
        elif a.dtype.kind == "f":
            ft = np.float64 if a.dtype == np.float64 else np.float32
            out = (b.astype(ft) * ft(0.114) + g.astype(ft) * ft(0.587)
                   + r.astype(ft) * ft(0.299)).astype(a.dtype)
        else:
            raise TypeError(f"cvtColor: unsupported depth {a.dtype} (OpenCV takes uint8, uint16, float32)")
        return _ret(out, dst)
    if code in (COLOR_GRAY2BGR, COLOR_GRAY2BGRA):
        g = a[:, :, 0] if a.ndim == 3 and a.shape[2] == 1 else a
        if g.ndim != 2:
            raise ValueError(f"cvtColor: GRAY2BGR needs a one-channel image, got shape {a.shape}")
        chans = [g, g, g] + ([np.full_like(g, _alpha(a.dtype))] if code == COLOR_GRAY2BGRA else [])
        return _ret(np.stack(chans, axis=2), dst)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"cvtColor: code {code} needs a 3- or 4-channel image, got shape {a.shape}")
    if code == COLOR_BGR2RGB:
        out = a[:, :, 2::-1]
    elif code == COLOR_BGRA2RGBA:
        out = np.concatenate([a[:, :, 2::-1], a[:, :, 3:4]], axis=2)
    elif code == COLOR_BGRA2BGR:
        out = a[:, :, :3]
    elif code == COLOR_BGRA2RGB:
        out = a[:, :, 2::-1]
    elif code in (COLOR_BGR2BGRA, COLOR_BGR2RGBA):
        rgb = a[:, :, :3] if code == COLOR_BGR2BGRA else a[:, :, 2::-1]
        out = np.concatenate([rgb, np.full_like(a[:, :, :1], _alpha(a.dtype))], axis=2)
    else:
        raise ValueError(f"cvtColor: conversion code {code} is not supported by gradkit.cv2")
    return _ret(np.ascontiguousarray(out), dst)


def _alpha(dt: np.dtype) -> Any:
    return np.iinfo(dt).max if np.dtype(dt).kind in "iu" else 1.0


def convertScaleAbs(src: Any, dst: Any = None, alpha: float = 1, beta: float = 0) -> np.ndarray:
    """``cv2.convertScaleAbs(src[, dst[, alpha[, beta]]])``: ``saturate_uint8(|alpha * src + beta|)``.

    Computed in float32 as OpenCV (float64 for a float64 source), rounded half to even.
    """
    a = src.detach().numpy() if isinstance(src, Tensor) else np.asarray(_src(src))
    ft = np.float64 if a.dtype == np.float64 else np.float32
    y = np.abs(a.astype(ft) * ft(alpha) + ft(beta))
    return _ret(_saturate(y, np.uint8), dst)


def addWeighted(src1: Any, alpha: float, src2: Any, beta: float, gamma: float, dst: Any = None,
                dtype: int = -1) -> np.ndarray:
    """``cv2.addWeighted(src1, alpha, src2, beta, gamma[, dst[, dtype]])``, saturated to the output depth."""
    a, b = np.asarray(_src(src1, "src1")), np.asarray(_src(src2, "src2"))
    if a.shape != b.shape:
        raise ValueError(f"addWeighted: sizes differ ({a.shape} vs {b.shape})")
    if dtype == -1 and a.dtype != b.dtype:
        raise ValueError("addWeighted: inputs of different depths need dtype=")
    out_dt = a.dtype if dtype == -1 else np.dtype(_image._filters._CV_DEPTHS[int(dtype)])
    if np.float64 in (a.dtype, out_dt):
        y = a.astype(np.float64) * alpha + b.astype(np.float64) * beta + gamma
    else:
        # OpenCV's SIMD loop: fma(src1, alpha, fma(src2, beta, gamma)) in float32; each fma is
        # done here in float64 (the products of <= 24-bit values are exact) and rounded once
        f32 = np.float32
        inner = (b.astype(np.float64) * f32(beta) + np.float64(f32(gamma))).astype(f32)
        y = (a.astype(np.float64) * f32(alpha) + inner.astype(np.float64)).astype(f32)
    return _ret(_saturate(y, out_dt), dst)


def _float_pair(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(_src(x, "x")), np.asarray(_src(y, "y"))
    if x.shape != y.shape or x.dtype != y.dtype or x.dtype not in (np.float32, np.float64):
        raise TypeError(f"x and y must be float32 or float64 arrays of one shape and type, got "
                        f"{x.dtype}{x.shape} and {y.dtype}{y.shape}")
    return x, y


def magnitude(x: Any, y: Any, magnitude: Any = None) -> np.ndarray:
    """``cv2.magnitude(x, y)``: ``sqrt(x**2 + y**2)`` in the inputs' float type."""
    x, y = _float_pair(x, y)
    return _ret(np.sqrt(x * x + y * y), magnitude)


def phase(x: Any, y: Any, angle: Any = None, angleInDegrees: bool = False) -> np.ndarray:
    """``cv2.phase(x, y[, angle[, angleInDegrees]])``: ``atan2(y, x)`` in ``[0, 2 pi)`` (or degrees)."""
    x, y = _float_pair(x, y)
    t = np.arctan2(y, x)
    t = np.where(t < 0, t + 2 * np.pi, t)
    if angleInDegrees:
        t = np.degrees(t)
    full = 360.0 if angleInDegrees else 2 * np.pi
    t = np.where(t >= full, 0.0, t).astype(x.dtype)  # float32 rounding may reach 2 pi
    return _ret(t, angle)


def cartToPolar(x: Any, y: Any, magnitude: Any = None, angle: Any = None, angleInDegrees: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.cartToPolar(x, y[, magnitude[, angle[, angleInDegrees]]])`` -> ``(magnitude, angle)``."""
    m = globals()["magnitude"](x, y, magnitude)
    return m, phase(x, y, angle, angleInDegrees)
