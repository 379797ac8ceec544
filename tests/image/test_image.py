"""gradkit.image against hand-computed arrays, a naive np.pad oracle, OpenCV and scipy.ndimage."""

from __future__ import annotations

import builtins
import itertools

import numpy as np
import pytest

import gradkit as gk
from gradkit import image as gi
from gradkit.image._border import NP_PAD_MODE, border_index

RNG = np.random.default_rng(12345)
CV_BORDERS = {"reflect101": 4, "reflect": 2, "replicate": 1, "constant": 0}   # OpenCV codes
SOBEL_CASES = [(ks, dx, dy) for ks in (1, 3, 5, 7) for dx, dy in
               ((1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (2, 1), (1, 2), (2, 2))
               if not (ks == 1 and (dx, dy) == (2, 2))] + [(-1, 1, 0), (-1, 0, 1)]


def naive_correlate(img: np.ndarray, kernel: np.ndarray, anchor: tuple[int, int], border: str,
                    value: float = 0.0) -> np.ndarray:
    """Oracle: pad with np.pad, then a double loop over the kernel taps."""
    kh, kw = kernel.shape
    ax, ay = anchor
    widths = [(ay, kh - 1 - ay), (ax, kw - 1 - ax)] + [(0, 0)] * (img.ndim - 2)
    mode = NP_PAD_MODE[border]
    kw_args = {"constant_values": value} if mode == "constant" else {}
    p = np.pad(img.astype(np.float64), widths, mode=mode, **kw_args)
    h, w = img.shape[:2]
    out = np.zeros(img.shape)
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * p[i:i + h, j:j + w]
    return out


# --- hand-computed ---------------------------------------------------------------------
def test_border_index_matches_hand_written_extrapolation() -> None:
    p = np.arange(-3, 8)                         # image "abcde" = indices 0..4
    assert border_index(p, 5, "reflect101").tolist() == [3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1]
    assert border_index(p, 5, "reflect").tolist() == [2, 1, 0, 0, 1, 2, 3, 4, 4, 3, 2]
    assert border_index(p, 5, "replicate").tolist() == [0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4]
    assert border_index(p, 5, "wrap").tolist() == [2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2]
    assert border_index(p, 5, "constant").tolist() == [-1, -1, -1, 0, 1, 2, 3, 4, -1, -1, -1]
    assert border_index(np.arange(-4, 6), 2, "reflect101").tolist() == [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]


def test_sobel_of_a_step_and_a_ramp() -> None:
    img = np.zeros((5, 5))
    img[:, 3:] = 1.0
    np.testing.assert_array_equal(gi.sobel(img, 1, 0)[2], [0, 0, 4, 4, 0])
    np.testing.assert_array_equal(gi.sobel(img, 0, 1), np.zeros((5, 5)))
    ramp = np.tile(np.arange(6.0), (4, 1))       # d/dx = 1 -> Sobel 3x3 gives 8 inside
    np.testing.assert_array_equal(gi.sobel(ramp, 1, 0, border="replicate")[:, 1:-1], 8.0)
    np.testing.assert_array_equal(gi.sobel(ramp, 1, 0, ksize=1)[:, 1:-1], 2.0)
    np.testing.assert_array_equal(gi.sobel(ramp.T, 0, 1, ksize=1)[1:-1], 2.0)
    np.testing.assert_array_equal(gi.sobel(ramp ** 2, 2, 0, ksize=1)[:, 1:-1], 2.0)


def test_filter2d_is_correlation_with_anchor() -> None:
    img = np.zeros((3, 3))
    img[1, 1] = 1.0
    k = np.arange(1.0, 10.0).reshape(3, 3)
    np.testing.assert_array_equal(gi.filter2d(img, k, border="constant"), k[::-1, ::-1])
    # anchor (0, 0): out[y, x] = sum k[i, j] img[y + i, x + j]
    out = gi.filter2d(img, k, anchor=(0, 0), border="constant")
    np.testing.assert_array_equal(out[:2, :2], [[5, 4], [2, 1]])
    np.testing.assert_array_equal(gi.filter2d(img, [[0, 0, 0], [0, 1, 0], [0, 0, 0]], delta=2), img + 2)


def test_laplacian_hand_values() -> None:
    np.testing.assert_array_equal(gi.laplacian(np.eye(3), border="constant"),
                                  [[-4, 2, 0], [2, -4, 2], [0, 2, -4]])
    x = np.arange(5.0)
    q = np.add.outer(x ** 2, x ** 2)            # Laplacian of x^2 + y^2 is 4
    np.testing.assert_array_equal(gi.laplacian(q, 1)[1:-1, 1:-1], 4.0)
    np.testing.assert_array_equal(gi.laplacian(q, 3)[1:-1, 1:-1], 16.0)   # 4 * (2 * 2)


def test_constant_border_value_and_wrap() -> None:
    img = np.ones((3, 4))
    out = gi.filter2d(img, np.ones((3, 3)), border="constant", border_value=5.0)
    assert out[0, 0] == 4 + 5 * 5 and out[1, 0] == 6 + 3 * 5 and out[1, 1] == 9
    col = np.arange(4.0)[None, :].repeat(3, 0)
    np.testing.assert_array_equal(gi.sep_filter2d(col, [-1, 0, 1], [1], border="wrap")[0], [-2, 2, 2, -2])


def test_ddepth_conventions() -> None:
    img = np.array([[10, 10, 200, 200]] * 3, dtype=np.uint8)
    assert gi.sobel(img).dtype == np.float64
    assert gi.sobel(img)[0, 1] == 760 and gi.sobel(img[:, ::-1])[0, 2] == -760
    same = gi.sobel(img, ddepth=-1)                # uint8: saturates, negatives become 0
    assert same.dtype == np.uint8 and same[0, 1] == 255 and gi.sobel(img[:, ::-1], ddepth=-1)[0, 2] == 0
    assert gi.sobel(img, ddepth=np.int16)[0, 1] == 760
    assert gi.sobel(img, scale=0.5, delta=0.5, ddepth=3)[0, 1] == 380   # 380.5 rounds to even
    assert gi.sobel(img, scale=0.5, delta=1.5, ddepth=3)[0, 1] == 382   # 381.5 rounds to even


def test_int16_rounding_follows_opencv_5_1() -> None:
    """One-channel uint8 -> int16 Sobel/Scharr round raw + delta once (OpenCV >= 5.1, IPP);
    several channels, 'reflect', ksize 1/7 and sep_filter2d round delta first (as OpenCV 5.0)."""
    u8 = np.zeros((3, 3), np.uint8)
    u8[0, 2] = 1                                   # Sobel x at the centre: raw 1
    assert gi.sobel(u8, 1, 0, delta=0.5, ddepth=np.int16)[1].tolist() == [0, 2, 0]
    assert gi.sobel(u8, 1, 0, delta=0.5, ddepth=3, border="replicate")[1, 1] == 2
    assert gi.sobel(u8[:, :, None], 1, 0, delta=0.5, ddepth=np.int16)[1, 1, 0] == 2
    assert gi.sobel(u8, 1, 0, delta=0.5, ddepth=np.int16, border="reflect")[1, 1] == 1
    assert gi.sobel(np.dstack([u8, u8]), 1, 0, delta=0.5, ddepth=np.int16)[1, 1].tolist() == [1, 1]
    assert gi.sobel(u8, 1, 0, ksize=1, delta=0.5, ddepth=np.int16)[0, 1] == 1
    assert gi.sep_filter2d(u8, [-1, 0, 1], [1, 2, 1], delta=0.5, ddepth=np.int16)[1, 1] == 1
    assert gi.sobel(u8, 1, 0, delta=0.5)[1, 1] == 1.5                      # float outputs: unrounded
    # float32, one rounding: 22 * float32(0.1) + float32(0.3) is 2.5 in float32 (3 in float64)
    assert gi.sobel(u8 * 22, 1, 0, scale=0.1, delta=0.3, ddepth=np.int16)[1, 1] == 2
    # an int16 image's derivative (40000) saturates to int16 before the scale
    i16 = np.zeros((3, 3), np.int16)
    i16[2] = 10000
    assert gi.sobel(i16, 0, 1, scale=0.5, ddepth=np.int16)[1, 1] == 16384     # 32767 / 2, to even
    assert gi.sobel(i16, 0, 1, scale=0.5, ddepth=np.int16, border="reflect")[1, 1] == 20000


def test_multichannel_filters_each_channel() -> None:
    img = RNG.random((9, 8, 3))
    out = gi.sobel(img, 1, 1, 5)
    for c in range(3):
        np.testing.assert_allclose(out[..., c], gi.sobel(img[..., c], 1, 1, 5), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("border", gi.BORDERS)
@pytest.mark.parametrize("shape", [(11, 13), (6, 5, 2), (3, 2)])
def test_filters_match_naive_oracle(border: str, shape: tuple[int, ...]) -> None:
    img = RNG.random(shape)
    k = RNG.standard_normal((3, 4))
    got = gi.filter2d(img, k, anchor=(2, 1), border=border, border_value=0.7)
    np.testing.assert_allclose(got, naive_correlate(img, k, (2, 1), border, 0.7), rtol=1e-12, atol=1e-12)
    kx, ky = RNG.standard_normal(3), RNG.standard_normal(2)
    got = gi.sep_filter2d(img, kx, ky, border=border, border_value=-1.0)
    want = naive_correlate(img, np.outer(ky, kx), (1, 1), border, -1.0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    if min(shape[:2]) > 3:
        for ks, dx, dy in [(3, 1, 0), (5, 0, 2), (7, 1, 1), (-1, 0, 1)]:
            kxs, kys = gi.deriv_kernels(dx, dy, ks)
            want = naive_correlate(img, np.outer(kys, kxs), (len(kxs) // 2, len(kys) // 2), border, 0.7)
            got = gi.sobel(img, dx, dy, ks, border=border, border_value=0.7)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_large_image_strips_and_threads_agree_with_oracle() -> None:
    img = RNG.random((700, 130))                 # many strips, run on the thread pool
    for border in gi.BORDERS:
        np.testing.assert_allclose(gi.laplacian(img, 3, border=border),
                                   naive_correlate(img, gi.laplacian_kernel(3), (1, 1), border),
                                   rtol=1e-12, atol=1e-12)


def test_deriv_kernels_match_opencv_table() -> None:
    assert gi.deriv_kernels(1, 0, 5)[0].tolist() == [-1, -2, 0, 2, 1]
    assert gi.deriv_kernels(2, 0, 5)[0].tolist() == [1, 0, -2, 0, 1]
    assert gi.deriv_kernels(1, 0, 7)[1].tolist() == [1, 6, 15, 20, 15, 6, 1]
    assert gi.deriv_kernels(0, 1, -1)[0].tolist() == [3, 10, 3]
    assert gi.deriv_kernels(1, 0, 1)[1].tolist() == [1]


# --- directional ---------------------------------------------------------------------
def test_directional_kernels() -> None:
    sx = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_allclose(gi.directional_kernel(0), sx, atol=1e-15)
    np.testing.assert_allclose(gi.directional_kernel(90), sx.T, atol=1e-15)
    np.testing.assert_allclose(gi.directional_kernel(45), (sx + sx.T) / np.sqrt(2), atol=1e-15)
    # the seeds' case: the downward direction turned 45 degrees counter-clockwise on screen
    np.testing.assert_array_equal(gi.directional_kernel(45, compass=True),
                                  [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]])
    np.testing.assert_array_equal(gi.directional_kernel(90, compass=True), sx.T)
    np.testing.assert_array_equal(gi.directional_kernel(180, compass=True), -sx)
    img = RNG.random((10, 12))
    for angle in (0, 30, 45, 123.4):
        np.testing.assert_allclose(gi.directional_derivative(img, angle),
                                   gi.filter2d(img, gi.directional_kernel(angle)), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(gi.directional_derivative(img, 45, compass=True),
                                  gi.filter2d(img, [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]]))


def test_directional_derivative_of_a_plane() -> None:
    yy, xx = np.mgrid[0:8, 0:8].astype(float)
    plane = 3 * xx + 2 * yy
    d = gi.directional_derivative(plane, 30, border="replicate")[2:-2, 2:-2]
    np.testing.assert_allclose(d, 8 * (3 * np.cos(np.pi / 6) + 2 * np.sin(np.pi / 6)))


# --- gradient quantities ---------------------------------------------------------------
def test_magnitude_and_orientation() -> None:
    yy, xx = np.mgrid[0:6, 0:6].astype(float)
    img = xx - yy                                   # gx = 8, gy = -8 inside
    mag = gi.gradient_magnitude(img)[2:-2, 2:-2]
    np.testing.assert_allclose(mag, 8 * np.sqrt(2))
    np.testing.assert_allclose(gi.gradient_magnitude(img, L2gradient=False)[2:-2, 2:-2], 16)
    np.testing.assert_allclose(gi.gradient_orientation(img)[2:-2, 2:-2], 315)
    np.testing.assert_allclose(gi.gradient_orientation(img, degrees=False)[2:-2, 2:-2], 7 * np.pi / 4)


def test_structure_tensor_of_a_ramp() -> None:
    img = np.tile(np.arange(8.0), (8, 1))
    jxx, jxy, jyy = gi.structure_tensor(img, block_size=3)
    np.testing.assert_allclose(jxx[2:-2, 2:-2], 64)
    np.testing.assert_allclose(jxy, 0, atol=1e-12)
    np.testing.assert_allclose(jyy, 0, atol=1e-12)
    g = gi.structure_tensor(np.tile(np.arange(16.0), (16, 1)), sigma=1.0)[0]
    np.testing.assert_allclose(g[5:-5, 5:-5], 64)


def test_focus_measures_drop_with_blur() -> None:
    img = RNG.random((40, 40))
    blurred = gi.filter2d(gi.filter2d(img, np.ones((5, 5)) / 25), np.ones((5, 5)) / 25)
    for m in gi.FOCUS_METHODS:
        assert gi.focus_measure(img, m) > gi.focus_measure(blurred, m), m
    assert gi.focus_measure(img, "variance") == pytest.approx(img.var())
    with pytest.raises(ValueError, match="unknown focus measure"):
        gi.focus_measure(img, "sharpness")


# --- errors ----------------------------------------------------------------------------
def test_errors_say_what_to_do() -> None:
    img = np.zeros((5, 5))
    with pytest.raises(ValueError, match="unknown border mode"):
        gi.sobel(img, border="mirrorish")
    with pytest.raises(ValueError, match="ksize"):
        gi.sobel(img, ksize=4)
    with pytest.raises(ValueError, match="smaller than the kernel size"):
        gi.sobel(img, 3, 0, ksize=3)
    with pytest.raises(ValueError, match="Scharr"):
        gi.scharr(img, 1, 1)
    with pytest.raises(ValueError, match="anchor"):
        gi.filter2d(img, np.ones((3, 3)), anchor=(3, 0))
    with pytest.raises(ValueError, match="aperture_size"):
        gi.canny(img.astype(np.uint8), 10, 20, aperture_size=4)
    with pytest.raises(TypeError, match="not differentiable"):
        gi.sobel(gk.zeros(4, 4), ddepth=np.uint8)
    with pytest.raises(TypeError, match="unexpected keyword"):
        gi.laplacian(img, 3, bogus=1)


# --- Tensors: differentiable ----------------------------------------------------------
@pytest.mark.parametrize("border", gi.BORDERS)
def test_tensor_filters_gradcheck(border: str) -> None:
    x = gk.tensor(RNG.random((5, 6)), requires_grad=True)
    fns = [lambda t: gi.sobel(t, 1, 1, 3, 0.5, 0.1, border, border_value=0.3),
           lambda t: gi.laplacian(t, 5, border=border),
           lambda t: gi.filter2d(t, [[1.0, -2.0], [0.5, 3.0]], border=border),
           lambda t: gi.scharr(t, 0, 1, border=border)]
    for fn in fns:
        assert gk.autograd.gradcheck(fn, (x,))


def test_tensor_compositions_gradcheck() -> None:
    x = gk.tensor(RNG.random((6, 7)), requires_grad=True)
    assert gk.autograd.gradcheck(lambda t: gi.gradient_magnitude(t), (x,))
    assert gk.autograd.gradcheck(lambda t: gi.harris_response(t), (x,))
    assert gk.autograd.gradcheck(lambda t: gi.directional_derivative(t, 30), (x,))
    for m in gi.FOCUS_METHODS:
        assert gk.autograd.gradcheck(lambda t, m=m: gi.focus_measure(t, m), (x,))


def test_loss_on_edge_map_backpropagates_and_flat_pixels_give_zero_gradient() -> None:
    x = gk.zeros(6, 6, dtype=gk.float64, requires_grad=True)
    gi.gradient_magnitude(x).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy())) and np.all(x.grad.numpy() == 0)
    img = gk.tensor(RNG.random((8, 8)), requires_grad=True)
    loss = (gi.sobel(img, 1, 0) ** 2).mean()
    loss.backward()
    assert img.grad.shape == (8, 8) and np.abs(img.grad.numpy()).sum() > 0


@pytest.mark.parametrize("border", gi.BORDERS)
def test_batched_tensor_matches_arrays(border: str) -> None:
    a = RNG.random((2, 3, 7, 9))
    t = gk.tensor(a)
    for fn in (lambda v: gi.sobel(v, 1, 0, 5, border=border), lambda v: gi.laplacian(v, 3, border=border),
               lambda v: gi.filter2d(v, [[1.0, 2.0, 0.5]], border=border, border_value=1.0)):
        want = np.stack([np.stack([fn(a[n, c]) for c in range(3)]) for n in range(2)])
        np.testing.assert_allclose(fn(t).numpy(), want, rtol=1e-12, atol=1e-12)
    hwc = RNG.random((7, 9, 3))
    np.testing.assert_allclose(gi.sobel(gk.tensor(hwc), channels_last=True).numpy(), gi.sobel(hwc),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gi.sobel(a, channels_last=False), gi.sobel(t).numpy(), rtol=1e-12, atol=1e-12)


def test_tensor_dtype_is_kept() -> None:
    t = gk.tensor(RNG.random((5, 5)).astype(np.float32))
    assert gi.sobel(t).dtype == gk.float32
    assert gi.sobel(gk.tensor(np.arange(25).reshape(5, 5))).dtype == gk.float64


# --- scipy.ndimage conventions --------------------------------------------------------
def test_scipy_ndimage_sobel_conventions() -> None:
    ndimage = pytest.importorskip("scipy.ndimage")
    img = RNG.random((12, 15))
    # scipy's axis is the derivative's direction: axis=-1 (columns) is OpenCV's dx=1
    for mode, border in (("reflect", "reflect"), ("mirror", "reflect101"), ("nearest", "replicate"),
                         ("grid-wrap", "wrap"), ("constant", "constant")):
        np.testing.assert_allclose(ndimage.sobel(img, axis=-1, mode=mode), gi.sobel(img, 1, 0, border=border),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ndimage.sobel(img, axis=0, mode=mode), gi.sobel(img, 0, 1, border=border),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ndimage.prewitt(img, axis=1, mode=mode),
                                   gi.prewitt(img, 1, 0, border=border), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ndimage.correlate(img, gi.laplacian_kernel(1), mode=mode),
                                   gi.laplacian(img, 1, border=border), rtol=1e-12, atol=1e-12)


# --- OpenCV ------------------------------------------------------------------------------
def _rel_close(got: np.ndarray, ref: np.ndarray, rtol: float) -> None:
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * max(1.0, float(np.abs(ref).max())))


@pytest.mark.parametrize("border", list(CV_BORDERS))
def test_sobel_float64_matches_opencv(border: str) -> None:
    cv2 = pytest.importorskip("cv2")
    for shape in ((23, 31), (17, 19, 3), (4, 3)):
        img = RNG.standard_normal(shape)
        for ks, dx, dy in SOBEL_CASES:
            ref = cv2.Sobel(img, cv2.CV_64F, dx, dy, ksize=ks, scale=0.37, delta=1.25,
                            borderType=CV_BORDERS[border])
            _rel_close(gi.sobel(img, dx, dy, ks, 0.37, 1.25, border), ref, 1e-10)
        _rel_close(gi.scharr(img, 0, 1, 2.0, border=border),
                   cv2.Scharr(img, cv2.CV_64F, 0, 1, scale=2.0, borderType=CV_BORDERS[border]), 1e-10)


def _laplacian_scale(cv2, ksize: int, scale: float) -> float:
    """The scale OpenCV applies: before 5.0 it scaled the 3x3 kernels (ksize 1, 3) in float32."""
    return float(np.float32(scale)) if int(cv2.__version__.split(".")[0]) < 5 and ksize in (1, 3) else scale


@pytest.mark.parametrize("border", list(CV_BORDERS))
def test_laplacian_filter2d_sepfilter_float64_match_opencv(border: str) -> None:
    cv2 = pytest.importorskip("cv2")
    b = CV_BORDERS[border]
    for shape in ((23, 31), (17, 19, 3), (3, 4)):
        img = RNG.standard_normal(shape)
        for ks in (1, 3, 5, 7):
            _rel_close(gi.laplacian(img, ks, _laplacian_scale(cv2, ks, 0.3), -0.5, border),
                       cv2.Laplacian(img, cv2.CV_64F, ksize=ks, scale=0.3, delta=-0.5, borderType=b), 1e-10)
        for kshape, anchor in (((3, 3), (-1, -1)), ((2, 5), (4, 0)), ((9, 9), (2, 7))):  # 9x9: OpenCV's DFT
            k = RNG.standard_normal(kshape)
            ref = cv2.filter2D(img, cv2.CV_64F, k, anchor=anchor, delta=0.25, borderType=b)
            _rel_close(gi.filter2d(img, k, anchor, 0.25, border), ref, 1e-10)
        kx, ky = RNG.standard_normal(5), RNG.standard_normal(3)
        ref = cv2.sepFilter2D(img, cv2.CV_64F, kx, ky, anchor=(1, 2), delta=0.5, borderType=b)
        _rel_close(gi.sep_filter2d(img, kx, ky, (1, 2), 0.5, border), ref, 1e-10)


@pytest.mark.parametrize("border", list(CV_BORDERS))
def test_uint8_matches_opencv_exactly(border: str) -> None:
    cv2 = pytest.importorskip("cv2")
    b = CV_BORDERS[border]
    for img in (RNG.integers(0, 256, (19, 23)).astype(np.uint8),
                RNG.integers(0, 256, (13, 11, 3)).astype(np.uint8)):
        for dd, (scale, delta) in itertools.product((-1, cv2.CV_16S, cv2.CV_16U, cv2.CV_32F, cv2.CV_64F),
                                                    ((1, 0), (0.5, 0.5), (0.25, -1.5), (3, 7))):
            for ks, dx, dy in SOBEL_CASES[::3] + [(-1, 1, 0)]:
                ref = cv2.Sobel(img, dd, dx, dy, ksize=ks, scale=scale, delta=delta, borderType=b)
                got = gi.sobel(img, dx, dy, ks, scale, delta, border, dd)
                assert got.dtype == ref.dtype and np.array_equal(got, ref), (ks, dx, dy, dd, scale, delta)
            for ks in (1, 3, 5, 7):
                ref = cv2.Laplacian(img, dd, ksize=ks, scale=scale, delta=delta, borderType=b)
                got = gi.laplacian(img, ks, scale, delta, border, dd)
                assert got.dtype == ref.dtype and np.array_equal(got, ref), (ks, dd, scale, delta)
            k = RNG.integers(-4, 5, (3, 4)).astype(np.float64) * scale
            ref = cv2.filter2D(img, dd, k, anchor=(2, 1), delta=delta, borderType=b)
            got = gi.filter2d(img, k, (2, 1), delta, border, dd)
            assert got.dtype == ref.dtype and np.array_equal(got, ref), (dd, scale, delta)


def test_float32_matches_opencv() -> None:
    cv2 = pytest.importorskip("cv2")
    img = RNG.random((21, 17)).astype(np.float32)
    for ks, dx, dy in SOBEL_CASES[:8]:
        _rel_close(gi.sobel(img, dx, dy, ks, ddepth=-1), cv2.Sobel(img, -1, dx, dy, ksize=ks), 1e-5)
        _rel_close(gi.sobel(img, dx, dy, ks), cv2.Sobel(img, cv2.CV_64F, dx, dy, ksize=ks), 1e-12)
    _rel_close(gi.laplacian(img, 3, ddepth=-1), cv2.Laplacian(img, -1, ksize=3), 1e-5)


def test_harris_and_orientation_match_opencv() -> None:
    cv2 = pytest.importorskip("cv2")
    img = cv2.GaussianBlur(RNG.random((30, 40)).astype(np.float32), (5, 5), 1.0)
    for bs, ks in ((2, 3), (3, 5), (2, -1)):
        ref = cv2.cornerHarris(img, bs, ks, 0.05)
        got = gi.harris_response(img, bs, ks, 0.05)
        np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-4 * np.abs(ref).max())
    gx, gy = (cv2.Sobel(img.astype(np.float64), cv2.CV_64F, dx, dy) for dx, dy in ((1, 0), (0, 1)))
    phase = cv2.phase(gx, gy, angleInDegrees=True)
    diff = np.abs(gi.gradient_orientation(img) - phase)
    assert np.all(np.minimum(diff, 360 - diff) < 0.5)      # cv2.phase is approximate
    lap = cv2.Laplacian(img.astype(np.float64), cv2.CV_64F)
    assert gi.focus_measure(img, "laplacian_variance") == pytest.approx(lap.var(), rel=1e-10)


def _canny_images() -> list[np.ndarray]:
    cv2 = pytest.importorskip("cv2")
    imgs = []
    for h, w in ((40, 50), (7, 5), (64, 33)):
        noise = RNG.integers(0, 256, (h, w)).astype(np.uint8)
        imgs += [noise, cv2.GaussianBlur(noise, (5, 5), 1.5)]
    yy, xx = np.mgrid[0:48, 0:48]
    imgs.append(((np.hypot(yy - 24, xx - 20) < 13) * 180 + 30).astype(np.uint8))
    imgs.append(np.dstack([imgs[1], imgs[0], imgs[1][::-1]]).copy())      # 3 channels, 40x50
    return imgs


def test_canny_matches_opencv_exactly() -> None:
    cv2 = pytest.importorskip("cv2")
    for img in _canny_images():
        for ap, l2, (lo, hi) in itertools.product((3, 5, 7), (False, True),
                                                  ((20, 60), (50, 150), (120, 40), (0, 10), (400, 1200))):
            ref = cv2.Canny(img, lo, hi, apertureSize=ap, L2gradient=l2)
            assert np.array_equal(gi.canny(img, lo, hi, ap, l2), ref), (img.shape, ap, l2, lo, hi)


def test_canny_without_scipy_uses_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    cv2 = pytest.importorskip("cv2")
    real_import = builtins.__import__

    def no_scipy(name: str, *args: object, **kw: object) -> object:
        if name.startswith("scipy"):
            raise ImportError("no scipy")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    for img in _canny_images()[:4]:
        assert np.array_equal(gi.canny(img, 30, 90), cv2.Canny(img, 30, 90))


def test_canny_hand_made_square() -> None:
    img = np.zeros((12, 12), dtype=np.uint8)
    img[3:9, 3:9] = 200
    edges = gi.canny(img, 100, 200)
    assert edges.dtype == np.uint8 and set(np.unique(edges)) == {0, 255}
    assert edges[0].sum() == 0 and edges[5].sum() == 2 * 255        # one pixel on each side
    assert np.array_equal(edges, edges.T)
    assert np.array_equal(gi.canny(gk.tensor(img.astype(np.float64)), 100, 200), edges)


# --- I/O ------------------------------------------------------------------------------
def test_read_write_roundtrip(tmp_path: pytest.TempPathFactory) -> None:
    pytest.importorskip("PIL")
    rgb = RNG.integers(0, 256, (6, 7, 3)).astype(np.uint8)
    gi.write(tmp_path / "a.png", rgb)
    np.testing.assert_array_equal(gi.read(tmp_path / "a.png"), rgb)
    gray = RNG.integers(0, 256, (5, 4)).astype(np.uint8)
    gi.write(tmp_path / "g.png", gk.tensor(gray.astype(np.float64)))
    np.testing.assert_array_equal(gi.read(tmp_path / "g.png"), gray)
    gi.write(tmp_path / "b.png", gray > 100)
    np.testing.assert_array_equal(gi.read(tmp_path / "b.png"), (gray > 100) * 255)
    assert gi.read(tmp_path / "a.png", gray=True).shape == (6, 7)
    with pytest.raises(ValueError, match="write expects"):
        gi.write(tmp_path / "c.png", np.zeros((2, 2, 2)))


def test_io_without_pillow_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory
                                           ) -> None:
    import sys
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install gradkit\[image\]"):
        gi.read(tmp_path / "missing.png")
