"""Linear filters with OpenCV's conventions: Sobel, Scharr, Prewitt, Laplacian, filter2D, sepFilter2D.

Every filter takes a NumPy array (``(H, W)`` or ``(H, W, C)``, as OpenCV) or a gradkit
Tensor (``(..., H, W)``, as PyTorch: ``(C, H, W)`` or ``(N, C, H, W)``). Arrays take the
fast path and return float64 unless ``ddepth`` says otherwise; Tensors stay on the
graph, so a loss on an edge map backpropagates to the image.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from gradkit._core.tensor import Tensor
from ._border import check_border
from ._filter import correlate_2d, correlate_sep
from ._kernels import deriv_kernels, directional_kernel, prewitt_kernels

__all__ = ["sobel", "scharr", "prewitt", "laplacian", "filter2d", "sep_filter2d",
           "directional_derivative"]

# OpenCV depth codes: CV_8U=0, CV_8S=1, CV_16U=2, CV_16S=3, CV_32S=4, CV_32F=5, CV_64F=6.
_CV_DEPTHS = {0: np.uint8, 1: np.int8, 2: np.uint16, 3: np.int16, 4: np.int32, 5: np.float32,
              6: np.float64}


def _image_axes(ndim: int, tensor: bool, channels_last: bool | None) -> tuple[int, int]:
    if ndim < 2:
        raise ValueError(f"an image needs at least 2 dimensions (H, W), got {ndim}")
    last = (not tensor) if channels_last is None else channels_last
    if not last or ndim == 2:
        return ndim - 2, ndim - 1
    return (0, 1) if (ndim == 3 and not tensor and channels_last is None) else (ndim - 3, ndim - 2)


def out_dtype(img: Any, ddepth: Any) -> np.dtype:
    """The output dtype for ``ddepth``: None → float64, -1 → the input's, an OpenCV code or a dtype."""
    src = np.dtype(np.float64) if isinstance(img, Tensor) and ddepth is None else _src_dtype(img)
    if ddepth is None:
        return np.dtype(np.float64)
    if isinstance(ddepth, (int, np.integer)) and not isinstance(ddepth, bool):
        if int(ddepth) == -1:
            return src
        if int(ddepth) in _CV_DEPTHS:
            return np.dtype(_CV_DEPTHS[int(ddepth)])
        raise ValueError(f"unknown ddepth code {ddepth}; use -1, an OpenCV CV_* depth or a NumPy dtype")
    return np.dtype(getattr(ddepth, "numpy_dtype", ddepth))


def _src_dtype(img: Any) -> np.dtype:
    return img._data.dtype if isinstance(img, Tensor) else np.asarray(img).dtype


def kernel_dtype(img: Any, ddepth: Any) -> type:
    """OpenCV keeps kernels in float32 unless the source or destination is float64."""
    if isinstance(img, Tensor):
        return np.float64
    wide = np.float64 in (_src_dtype(img).type, out_dtype(img, ddepth).type)
    return np.float64 if wide else np.float32


def apply(img: Any, run: Callable[[Any], Any], delta: float, ddepth: Any,
          channels_last: bool | None, **unknown: Any) -> Any:
    """Move the image axes into place, filter with ``run``, add ``delta``, convert, move back."""
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")
    if isinstance(img, Tensor):
        return _apply_tensor(img, run, delta, ddepth, channels_last)
    a = np.asarray(img)
    if a.dtype == np.bool_:
        a = a.view(np.uint8)
    if a.dtype.kind not in "uif":
        raise TypeError(f"image filters need a real numeric array, got dtype {a.dtype}")
    dt = out_dtype(a, ddepth)
    axes = _image_axes(a.ndim, False, channels_last)
    x = np.moveaxis(a, axes, (0, 1)) if axes != (0, 1) else a
    out = run(x)
    if delta:
        out += delta
    out = _convert(out, dt)
    return np.moveaxis(out, (0, 1), axes) if axes != (0, 1) else out


def _convert(out: np.ndarray, dt: np.dtype) -> np.ndarray:
    """float64 → ``dt``; integers round half to even and saturate, as OpenCV's saturate_cast."""
    if dt.kind == "f":
        return out if dt == np.float64 else out.astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        np.rint(out, out=out)
        np.clip(out, info.min, info.max, out=out)
        return out.astype(dt)
    raise TypeError(f"unsupported output dtype {dt}; use an integer or float dtype")


def _apply_tensor(x: Tensor, run: Callable[[Any], Any], delta: float, ddepth: Any,
                  channels_last: bool | None) -> Tensor:
    if ddepth not in (None, -1) and np.dtype(out_dtype(x, ddepth)).kind != "f":
        raise TypeError("integer outputs are not differentiable; filter x.detach().numpy() for a "
                        "uint8/int16 result")
    if not x.is_floating_point():
        x = x.double()
    axes = _image_axes(x.ndim, True, channels_last)
    moved = axes != (x.ndim - 2, x.ndim - 1)
    if moved:
        x = np.moveaxis(x, axes, (-2, -1))
    out = run(x)
    if delta:
        out = out + float(delta)
    if ddepth not in (None, -1):
        dt = out_dtype(x, ddepth)
        out = out.double() if dt == np.float64 else out.float()
    return np.moveaxis(out, (-2, -1), axes) if moved else out


def _anchor(anchor: Any, kw: int, kh: int) -> tuple[int, int]:
    if anchor is None or tuple(anchor) == (-1, -1):
        return kw // 2, kh // 2
    ax, ay = (int(a) for a in anchor)
    if not (0 <= ax < kw and 0 <= ay < kh):
        raise ValueError(f"anchor {tuple(anchor)} lies outside the {kw}x{kh} kernel (x, y order)")
    return ax, ay


def sep_filter2d(img: Any, kx: Any, ky: Any, anchor: Any = None, delta: float = 0.0,
                 border: Any = "reflect101", ddepth: Any = None, *, border_value: float = 0.0,
                 channels_last: bool | None = None) -> Any:
    """Separable correlation, as ``cv2.sepFilter2D``: ``kx`` along x (columns), ``ky`` along y.

    Equal to ``filter2d(img, np.outer(ky, kx), ...)``, at the cost of two 1-D passes.

    Parameters
    ----------
    img : ndarray or Tensor
        ``(H, W)`` or ``(H, W, C)`` array; ``(..., H, W)`` Tensor (differentiable).
    kx, ky : array_like
        1-D kernels.
    anchor : (int, int), optional
        ``(x, y)`` position of the output pixel inside the kernel; default the centre
        (``len // 2``).
    delta : float
        Added to every output value.
    border : str or int
        'reflect101' (default, OpenCV's BORDER_DEFAULT), 'reflect', 'replicate',
        'constant' (uses ``border_value``) or 'wrap'; OpenCV ``BORDER_*`` codes work too.
    ddepth : None, int or dtype
        Output type. ``None`` (default): float64. ``-1``: the input's dtype (OpenCV's
        ``ddepth=-1``). An OpenCV depth code (``cv2.CV_16S``) or a NumPy dtype. Integer
        outputs round half to even and saturate, as OpenCV.
    channels_last : bool, optional
        Where the channels are: default ``(H, W, C)`` for arrays and ``(..., H, W)`` for Tensors.

    Returns
    -------
    ndarray or Tensor
        Same shape as ``img``.
    """
    kx = np.asarray(kx, dtype=np.float64).ravel()
    ky = np.asarray(ky, dtype=np.float64).ravel()
    kt = kernel_dtype(img, ddepth)
    kx, ky = kx.astype(kt).astype(np.float64), ky.astype(kt).astype(np.float64)
    ax, ay = _anchor(anchor, len(kx), len(ky))
    b = check_border(border)
    if _bit_exact_16s(img, ddepth, kx, ax, ky, ay):
        delta = float(np.rint(delta))
    return apply(img, lambda x: correlate_sep(x, kx, ky, ax, ay, b, float(border_value)), delta,
                 ddepth, channels_last)


def _symmetric_integer(k: np.ndarray, anchor: int) -> bool:
    """OpenCV's ``getKernelType``: integer taps, centred anchor, (anti)symmetric."""
    if 2 * anchor + 1 != len(k) or not np.array_equal(k, np.round(k)):
        return False
    return bool(np.array_equal(k, k[::-1]) or (np.array_equal(k, -k[::-1]) and k[anchor] == 0))


def _bit_exact_16s(img: Any, ddepth: Any, kx: np.ndarray, ax: int, ky: np.ndarray, ay: int) -> bool:
    """Whether OpenCV takes its integer path (uint8 -> int16, integer (anti)symmetric kernels),
    which rounds ``delta`` to an integer (half to even) before adding it.

    Since OpenCV 5.1 ``cv2.Sobel``/``cv2.Scharr`` leave this path for single-channel images on
    their common kernels (see :func:`_ipp_deriv`); ``cv2.sepFilter2D`` and the other Sobel
    kernels still take it."""
    if isinstance(img, Tensor) or ddepth is None:
        return False
    src = np.asarray(img).dtype
    if not (src == np.uint8 and out_dtype(img, ddepth) == np.int16 and _symmetric_integer(kx, ax)
            and _symmetric_integer(ky, ay)):
        return False
    if len(ky) != 3:
        return True
    # NOTE: OpenCV's 3-tap integer column filter (SymmColumnSmallVec_32s16s) keeps integers only
    # for c*[1, 2, 1] and c*[1, -2, 1] (c a positive power of two) and c*[-1, 0, 1] (|c| one);
    # other 3-tap columns (Scharr's [3, 10, 3], a scaled Sobel) run in float32.
    c = float(ky[2])
    power_of_two = c != 0 and np.log2(abs(c)) == int(np.log2(abs(c)))
    if ky[1] == 0:
        return bool(power_of_two)
    return bool(power_of_two and c > 0 and abs(ky[1]) == 2 * c)


# OpenCV >= 5.1 (x86 builds, where cv2.ipp.useIPP() is true) runs these Sobel/Scharr derivatives
# of a single-channel image through Intel IPP; 5.0 and older ran them as separable filters.
_IPP_UINT8 = {3: {(1, 0), (0, 1), (2, 0), (0, 2)}, 5: {(1, 0), (0, 1), (2, 0), (0, 2)},
              -1: {(1, 0), (0, 1)}}
_IPP_INT16 = {3: {(0, 1)}, 5: {(0, 1)}, -1: {(1, 0), (0, 1)}}
_IPP_BORDERS = ("reflect101", "replicate", "constant")


def _ipp_deriv(img: Any, dx: int, dy: int, ksize: int, border: str, ddepth: Any,
               channels_last: bool | None) -> bool:
    """Whether OpenCV >= 5.1 computes this ``cv2.Sobel`` to CV_16S on its IPP path.

    That path takes a one-channel uint8 (or int16) image, ``ksize`` 3 or 5 with
    ``(dx, dy)`` in (1, 0), (0, 1), (2, 0), (0, 2) (int16: (0, 1) only) or Scharr, and
    the borders reflect101, replicate or constant; it rounds ``raw * scale + delta`` once
    (see :func:`_ipp_round`). Elsewhere (BORDER_REFLECT, ksize 1 or 7, mixed or third
    derivatives, several channels) OpenCV 5.1 filters as 5.0 did.
    """
    if isinstance(img, Tensor) or ddepth is None or border not in _IPP_BORDERS:
        return False
    a = np.asarray(img)
    if a.ndim < 2 or out_dtype(a, ddepth) != np.int16:
        return False
    axes = _image_axes(a.ndim, False, channels_last)
    if a.size != a.shape[axes[0]] * a.shape[axes[1]]:
        return False                        # several channels: OpenCV's separable filters
    table = {np.dtype(np.uint8): _IPP_UINT8, np.dtype(np.int16): _IPP_INT16}.get(a.dtype)
    return table is not None and (dx, dy) in table.get(ksize, ())


def _ipp_round(raw: np.ndarray, src: np.dtype, scale: float, delta: float) -> np.ndarray:
    """int16 output of the IPP path from the exact derivative ``raw`` (float64).

    IPP keeps an int16 image's derivative in int16 (saturating) before it scales; then
    ``raw * scale + delta`` is formed in float32 with one rounding (scale and delta as
    float32; a fused multiply-add in IPP's AVX2 and AVX-512 code), rounded half to even and
    saturated: no separate rounding of ``delta``. IPP's SSE4.2 code (CPUs without AVX2)
    rounds the product first, which differs only for a scale that is not a power of two.
    """
    if src == np.int16:
        np.clip(raw, -32768, 32767, out=raw)
    v = (raw * float(np.float32(scale)) + float(np.float32(delta))).astype(np.float32)
    np.rint(v, out=v)
    np.clip(v, -32768, 32767, out=v)
    return v.astype(np.int16)


def filter2d(img: Any, kernel: Any, anchor: Any = None, delta: float = 0.0,
             border: Any = "reflect101", ddepth: Any = None, *, border_value: float = 0.0,
             channels_last: bool | None = None) -> Any:
    """Correlate ``img`` with a 2-D ``kernel``, as ``cv2.filter2D`` (no kernel flip).

    ``out[y, x] = sum(kernel[i, j] * img[y + i - ay, x + j - ax]) + delta`` with the
    anchor ``(ax, ay)``; for a convolution pass ``kernel[::-1, ::-1]``. Parameters as
    in :func:`sep_filter2d`.

    Examples
    --------
    >>> img = np.array([[0., 0, 0], [0, 1, 0], [0, 0, 0]])
    >>> filter2d(img, [[1, 2, 3], [4, 5, 6], [7, 8, 9]], border="constant")
    array([[9., 8., 7.],
           [6., 5., 4.],
           [3., 2., 1.]])
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 1:
        k = k[None, :]
    if k.ndim != 2 or k.size == 0:
        raise ValueError(f"kernel must be a non-empty 2-D array, got shape {k.shape}")
    k = k.astype(kernel_dtype(img, ddepth)).astype(np.float64)
    ax, ay = _anchor(anchor, k.shape[1], k.shape[0])
    b = check_border(border)
    return apply(img, lambda x: correlate_2d(x, k, ax, ay, b, float(border_value)), delta,
                 ddepth, channels_last)


def sobel(img: Any, dx: int = 1, dy: int = 0, ksize: int = 3, scale: float = 1.0,
          delta: float = 0.0, border: Any = "reflect101", ddepth: Any = None, *,
          border_value: float = 0.0, channels_last: bool | None = None) -> Any:
    """Sobel derivative ``d^(dx+dy) / dx^dx dy^dy``, as ``cv2.Sobel`` (x = columns, y = rows).

    Parameters
    ----------
    dx, dy : int
        Derivative orders along x and y (``ksize`` must exceed each).
    ksize : int
        1, 3, 5, 7 (odd up to 31), or -1 for Scharr. ``ksize=1`` uses a 3-tap
        derivative without smoothing.
    scale, delta : float
        ``out = scale * derivative + delta``.
    border, ddepth, border_value, channels_last
        As in :func:`sep_filter2d`; the default output is **float64** (OpenCV's
        ``ddepth=-1`` keeps the input's type, which truncates negative edges of a uint8
        image).

    Notes
    -----
    Against ``scipy.ndimage.sobel``: SciPy's ``axis=-1`` (x, columns) equals
    ``sobel(img, 1, 0, border='reflect')`` with scipy's default ``mode='reflect'``,
    and ``axis=0`` equals ``sobel(img, 0, 1, ...)``; SciPy's axis names the
    derivative's direction, OpenCV's ``dx``/``dy`` its order, and scipy 'mirror' is
    our 'reflect101'. Both give positive values where the image grows to the right/down.

    Integer outputs round as OpenCV >= 5.1. A one-channel uint8 image filtered to
    ``int16`` (``cv2.CV_16S``) with ``ksize`` 3 or 5 and ``(dx, dy)`` one of (1, 0),
    (0, 1), (2, 0), (0, 2), or with Scharr, on any border but 'reflect', takes OpenCV
    5.1's Intel IPP path: ``scale * raw + delta`` is formed in float32 (``scale`` and
    ``delta`` as float32, one fused rounding as IPP on AVX2 CPUs) and rounded half to
    even, then saturated; a one-channel int16 image (``(0, 1)`` with ``ksize`` 3 or 5,
    or Scharr) also saturates ``raw`` to int16 before the scale. OpenCV 5.0 and older,
    and 5.1 where IPP is off (ARM builds, ``cv2.ipp.setUseIPP(False)``), ran these as
    integer separable filters that round ``delta`` first: ``raw + rint(delta)`` at
    ``scale=1``, so ``raw=1, delta=0.5`` gave 1 where 5.1 gives 2. Elsewhere (several
    channels, 'reflect', ``ksize`` 1 or 7, mixed or third derivatives,
    :func:`sep_filter2d`) every version, and gradkit, still adds ``rint(delta)`` on that
    integer path.

    Examples
    --------
    >>> ramp = np.tile(np.arange(5.0) ** 2, (3, 1))
    >>> sobel(ramp, 1, 0)[0]
    array([ 0., 16., 32., 48.,  0.])
    """
    kx, ky = deriv_kernels(dx, dy, ksize)
    if _ipp_deriv(img, dx, dy, ksize, check_border(border), ddepth, channels_last):
        raw = sep_filter2d(img, kx, ky, None, 0.0, border, None, border_value=border_value,
                           channels_last=channels_last)
        return _ipp_round(raw, np.asarray(img).dtype, scale, delta)
    kt = kernel_dtype(img, ddepth)
    kx, ky = kx.astype(kt), ky.astype(kt)
    if scale != 1:
        # NOTE: as OpenCV, scale the smoothing factor (it is the one with no zeros)
        if dx == 0:
            kx = (kx * scale).astype(kt)
        else:
            ky = (ky * scale).astype(kt)
    return sep_filter2d(img, kx, ky, None, delta, border, ddepth, border_value=border_value,
                        channels_last=channels_last)


def scharr(img: Any, dx: int = 1, dy: int = 0, scale: float = 1.0, delta: float = 0.0,
           border: Any = "reflect101", ddepth: Any = None, **kw: Any) -> Any:
    """3x3 Scharr derivative, as ``cv2.Scharr``: ``sobel(img, dx, dy, ksize=-1, ...)``.

    Integer outputs round as OpenCV >= 5.1 (see :func:`sobel`): a one-channel uint8 or int16
    image to ``int16`` on any border but 'reflect' gets ``rint(scale * raw + delta)``, rounded
    once in float32. OpenCV 5.0 rounded ``delta`` first: ``dy=1`` gave ``raw + rint(delta)``;
    ``dx=1`` ran a float32 column filter whose SIMD body rounds once and whose scalar tail
    (the last columns of each row) adds ``rint(delta)``, as 5.1 still does with 'reflect' or
    several channels; gradkit rounds once there and does not reproduce that column split.
    """
    return sobel(img, dx, dy, -1, scale, delta, border, ddepth, **kw)


def prewitt(img: Any, dx: int = 1, dy: int = 0, scale: float = 1.0, delta: float = 0.0,
            border: Any = "reflect101", ddepth: Any = None, **kw: Any) -> Any:
    """3x3 Prewitt derivative: ``[-1, 0, 1]`` across, box ``[1, 1, 1]`` along the edge."""
    kx, ky = prewitt_kernels(dx, dy)
    return sep_filter2d(img, kx * scale, ky, None, delta, border, ddepth, **kw)


def laplacian(img: Any, ksize: int = 1, scale: float = 1.0, delta: float = 0.0,
              border: Any = "reflect101", ddepth: Any = None, **kw: Any) -> Any:
    """Laplacian ``d2/dx2 + d2/dy2``, as ``cv2.Laplacian``.

    ``ksize=1`` uses ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]``, ``ksize=3`` uses
    ``[[2, 0, 2], [0, -8, 0], [2, 0, 2]]``; 5 and 7 sum the second-order Sobel
    filters in x and y. Other parameters as :func:`sobel`.

    Integer outputs round ``scale * raw + delta`` once, half to even, in OpenCV 5.0 and 5.1
    alike: OpenCV >= 5.1's change to :func:`sobel` (``delta`` no longer rounded first) does
    not touch the Laplacian, whose ``ksize`` 3, 5 and 7 values of a uint8 image are even
    anyway.

    Examples
    --------
    >>> laplacian(np.eye(3), border="constant")
    array([[-4.,  2.,  0.],
           [ 2., -4.,  2.],
           [ 0.,  2., -4.]])
    """
    if ksize == 1:
        # NOTE: the 3x3 kernels as sums of separable ones, so arrays take the fast path
        d, c = np.array([1.0, -2.0, 1.0]), np.array([0.0, 1.0, 0.0])
        pairs = [(d, c), (c, d)]
    elif ksize == 3:
        pairs = [(np.array([2.0, 0.0, 2.0]), np.array([1.0, 0.0, 1.0])),
                 (np.array([0.0, -8.0, 0.0]), np.array([0.0, 1.0, 0.0]))]
    else:
        kd, ks = deriv_kernels(2, 0, ksize)
        pairs = [(kd, ks), (ks, kd)]
    pairs = [(kx * float(scale), ky) for kx, ky in pairs]
    b = check_border(border)
    value = float(kw.pop("border_value", 0.0))
    r = len(pairs[0][0]) // 2
    return apply(img, lambda x: correlate_sep(x, *pairs[0], r, r, b, value, pairs[1:]), delta, ddepth,
                 kw.pop("channels_last", None), **kw)


def directional_derivative(img: Any, angle: float, ksize: int = 3, border: Any = "reflect101",
                           *, compass: bool = False, **kw: Any) -> Any:
    """Derivative along ``angle`` degrees (0 = +x, 90 = +y, image rows pointing down).

    ``cos(a) * sobel_x + sin(a) * sobel_y``: correlation with
    :func:`directional_kernel(angle, ksize) <gradkit.image.directional_kernel>`.
    With ``compass=True`` the rotated 3x3 compass kernel is used instead.
    """
    if compass:
        return filter2d(img, directional_kernel(angle, 3, compass=True), border=border, **kw)
    a = np.deg2rad(angle)
    c, s = float(np.cos(a)), float(np.sin(a))
    gx = sobel(img, 1, 0, ksize, border=border, **kw)
    gy = sobel(img, 0, 1, ksize, border=border, **kw)
    return gx * c + gy * s
