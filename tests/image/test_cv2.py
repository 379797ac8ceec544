"""gradkit.cv2: OpenCV's names, argument order and constants, checked against OpenCV where installed."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.cv2 as gcv

RNG = np.random.default_rng(7)
IMG = RNG.integers(0, 256, (23, 31), dtype=np.uint8)
COL = RNG.integers(0, 256, (17, 19, 3), dtype=np.uint8)


def test_constants_are_opencvs():
    # values recorded from OpenCV (cv2.CV_64F == 6, cv2.BORDER_DEFAULT == 4, ...)
    assert (gcv.CV_8U, gcv.CV_16S, gcv.CV_32F, gcv.CV_64F) == (0, 3, 5, 6)
    assert (gcv.BORDER_CONSTANT, gcv.BORDER_REPLICATE, gcv.BORDER_REFLECT, gcv.BORDER_WRAP,
            gcv.BORDER_REFLECT_101, gcv.BORDER_DEFAULT, gcv.BORDER_ISOLATED) == (0, 1, 2, 3, 4, 4, 16)
    assert (gcv.IMREAD_UNCHANGED, gcv.IMREAD_GRAYSCALE, gcv.IMREAD_COLOR) == (-1, 0, 1)
    assert (gcv.COLOR_BGR2GRAY, gcv.COLOR_RGB2GRAY, gcv.COLOR_GRAY2BGR, gcv.COLOR_BGR2RGB) == (6, 7, 8, 4)


def test_known_values_without_opencv():
    img = np.zeros((5, 5), np.uint8)
    img[:, 2:] = 100
    # a step of 100: the Sobel x kernel [1 2 1]^T [-1 0 1] gives 4 * 100 on both sides of the edge
    assert gcv.Sobel(img, gcv.CV_64F, 1, 0, ksize=3)[2].tolist() == [0, 400, 400, 0, 0]
    # ddepth -1 keeps uint8: negative responses saturate to 0, as OpenCV's saturate_cast
    assert gcv.Sobel(img[:, ::-1].copy(), -1, 1, 0)[2].tolist() == [0, 0, 0, 0, 0]
    assert gcv.convertScaleAbs(np.array([-300, -2.5, 3.5, 7], np.float32)).tolist() \
        == [255, 2, 4, 7]  # |x| rounded half to even, saturated
    # pure blue: 255 * 0.114 = 29.07 (OpenCV gives 29)
    assert gcv.cvtColor(np.array([[[255, 0, 0]]], np.uint8), gcv.COLOR_BGR2GRAY).tolist() == [[29]]
    assert gcv.imread("/nonexistent/file.png") is None


def test_sobel_positional_dst_slot():
    # OpenCV's fifth positional argument is dst: ksize must not land there
    dst = np.empty(IMG.shape, np.float64)
    out = gcv.Sobel(IMG, gcv.CV_64F, 1, 0, dst, 5)
    assert out is dst
    assert np.array_equal(out, gcv.Sobel(IMG, gcv.CV_64F, 1, 0, ksize=5))
    assert not np.array_equal(out, gcv.Sobel(IMG, gcv.CV_64F, 1, 0, ksize=3))


def test_tensor_input_is_differentiable():
    x = gk.tensor(IMG.astype(np.float64), requires_grad=True)
    gcv.Laplacian(x, gcv.CV_64F).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


def _cv():
    return pytest.importorskip("cv2")


@pytest.mark.parametrize("call", [
    lambda m, a: m.Sobel(a, m.CV_64F, 1, 0, ksize=5),
    lambda m, a: m.Sobel(a, m.CV_16S, 0, 1),
    lambda m, a: m.Sobel(a, -1, 1, 0),
    lambda m, a: m.Sobel(a, m.CV_32F, 1, 1, None, 3, 2, 1, m.BORDER_REPLICATE),
    lambda m, a: m.Scharr(a, m.CV_64F, 1, 0),
    lambda m, a: m.Scharr(a, m.CV_16S, 0, 1, None, 1, 0, m.BORDER_REFLECT),
    lambda m, a: m.Laplacian(a, m.CV_64F),
    lambda m, a: m.Laplacian(a, m.CV_16S, ksize=3),
    lambda m, a: m.filter2D(a, -1, np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)),
    lambda m, a: m.filter2D(a, m.CV_64F, np.ones((3, 5)) / 15, None, (1, 1), 2.0, m.BORDER_CONSTANT),
    lambda m, a: m.sepFilter2D(a, m.CV_32F, np.array([1, 2, 1.0]), np.array([-1, 0, 1.0])),
    lambda m, a: m.Canny(a, 100, 200),
    lambda m, a: m.Canny(a, 200, 50, None, 5, True),
    lambda m, a: m.convertScaleAbs(m.Sobel(a, m.CV_16S, 1, 0)),
    lambda m, a: m.convertScaleAbs(m.Sobel(a, m.CV_64F, 1, 0), None, 0.5, 1.5),
    lambda m, a: m.addWeighted(m.Sobel(a, m.CV_16S, 1, 0), 0.5, m.Sobel(a, m.CV_16S, 0, 1), 0.5, 0),
    lambda m, a: m.addWeighted(a, 0.7, a[::-1].copy(), 0.3, 2.5),
    lambda m, a: m.cvtColor(a, m.COLOR_GRAY2BGR),
])
def test_equals_opencv(call):
    cv2 = _cv()
    ours, ref = call(gcv, IMG), call(cv2, IMG)
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    if ref.dtype.kind == "f":  # summation order may change the last bits
        np.testing.assert_allclose(ours, ref, rtol=1e-12 if ref.dtype == np.float64 else 1e-6, atol=1e-12)
    else:
        assert np.array_equal(ours, ref)


def test_colour_and_polar_against_opencv():
    cv2 = _cv()
    for code in ("COLOR_BGR2RGB", "COLOR_BGR2BGRA", "COLOR_BGR2RGBA"):
        assert np.array_equal(gcv.cvtColor(COL, getattr(gcv, code)), cv2.cvtColor(COL, getattr(cv2, code)))
    deep = RNG.integers(0, 65536, (9, 11, 3), dtype=np.uint16)
    bgra = np.dstack([COL, COL[:, :, :1]])
    for src, code in [(COL, "COLOR_BGR2GRAY"), (COL, "COLOR_RGB2GRAY"), (bgra, "COLOR_BGRA2GRAY"),
                      (deep, "COLOR_BGR2GRAY")]:
        ours, ref = gcv.cvtColor(src, getattr(gcv, code)), cv2.cvtColor(src, getattr(cv2, code))
        assert ours.dtype == ref.dtype
        if cv2.__version__.split(".")[0] >= "5":
            assert np.array_equal(ours, ref), code
        else:  # OpenCV 4's 14-bit coefficients
            assert np.abs(ours.astype(int) - ref.astype(int)).max() <= 1, code
    flt = (COL / 255).astype(np.float32)
    np.testing.assert_allclose(gcv.cvtColor(flt, gcv.COLOR_BGR2GRAY), cv2.cvtColor(flt, cv2.COLOR_BGR2GRAY),
                               rtol=1e-6)
    gx = cv2.Sobel(IMG, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(IMG, cv2.CV_32F, 0, 1)
    np.testing.assert_allclose(gcv.magnitude(gx, gy), cv2.magnitude(gx, gy), rtol=1e-6)
    mag, ang = gcv.cartToPolar(gx, gy, angleInDegrees=True)
    rmag, rang = cv2.cartToPolar(gx, gy, angleInDegrees=True)
    assert ang.dtype == rang.dtype == np.float32
    d = np.abs(ang - rang)
    assert np.minimum(d, 360 - d).max() < 0.3  # OpenCV's documented accuracy of its fast atan2
    assert (ang >= 0).all() and (ang < 360).all()


def test_imread_matches_opencv(tmp_path):
    cv2 = _cv()
    png = str(tmp_path / "c.png")
    cv2.imwrite(png, COL)
    assert np.array_equal(gcv.imread(png), cv2.imread(png))  # BGR uint8
    g, rg = gcv.imread(png, gcv.IMREAD_GRAYSCALE), cv2.imread(png, cv2.IMREAD_GRAYSCALE)
    assert g.dtype == rg.dtype and g.shape == rg.shape and np.abs(g.astype(int) - rg.astype(int)).max() <= 1
    bgra = np.dstack([COL, RNG.integers(0, 256, COL.shape[:2], dtype=np.uint8)])
    cv2.imwrite(png, bgra)
    assert np.array_equal(gcv.imread(png, gcv.IMREAD_UNCHANGED), cv2.imread(png, cv2.IMREAD_UNCHANGED))
    assert np.array_equal(gcv.imread(png), cv2.imread(png))
    deep = RNG.integers(0, 65536, (6, 9), dtype=np.uint16)
    cv2.imwrite(png, deep)
    for flag in ("IMREAD_UNCHANGED", "IMREAD_ANYDEPTH", "IMREAD_GRAYSCALE", "IMREAD_COLOR"):
        ours, ref = gcv.imread(png, getattr(gcv, flag)), cv2.imread(png, getattr(cv2, flag))
        assert ours.dtype == ref.dtype and ours.shape == ref.shape, flag
        assert np.abs(ours.astype(int) - ref.astype(int)).max() <= 1, flag


def _exif_jpeg(path, arr, orientation):
    Image = pytest.importorskip("PIL.Image")
    im = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = orientation
    im.save(path, exif=exif.tobytes(), quality=100, subsampling=0)


def test_exif_orientation_applied(tmp_path):
    arr = np.zeros((8, 16, 3), np.uint8)
    arr[:, :8] = 255  # left half white
    path = str(tmp_path / "phone.jpg")
    _exif_jpeg(path, arr, 6)  # 6: the stored image must be turned 90 degrees clockwise
    up = gk.image.read(path)
    assert up.shape == (16, 8, 3)
    # a clockwise turn puts the stored left half at the top
    assert up[:6].mean() > 240 and up[-6:].mean() < 15
    assert gk.image.read(path, exif_orientation=False).shape == (8, 16, 3)
    assert gcv.imread(path).shape == (16, 8, 3)
    assert gcv.imread(path, gcv.IMREAD_UNCHANGED).shape == (8, 16, 3)  # OpenCV ignores EXIF then
    assert gcv.imread(path, gcv.IMREAD_COLOR | gcv.IMREAD_IGNORE_ORIENTATION).shape == (8, 16, 3)


def test_exif_orientation_as_opencv(tmp_path):
    cv2 = _cv()
    arr = RNG.integers(0, 256, (8, 16, 3), dtype=np.uint8)
    for orientation in range(1, 9):
        path = str(tmp_path / f"o{orientation}.jpg")
        _exif_jpeg(path, arr, orientation)
        for flag in ("IMREAD_COLOR", "IMREAD_UNCHANGED"):
            ours, ref = gcv.imread(path, getattr(gcv, flag)), cv2.imread(path, getattr(cv2, flag))
            assert ours.shape == ref.shape, (orientation, flag)
            assert np.abs(ours.astype(int) - ref.astype(int)).max() <= 8, (orientation, flag)


def test_gaussian_kernels_known_values():
    # OpenCV's fixed kernels for sigma <= 0 (recorded from OpenCV 5.1: 9 taps are /256)
    assert gcv.getGaussianKernel(3, 0).ravel().tolist() == [0.25, 0.5, 0.25]
    assert (gcv.getGaussianKernel(9, 0).ravel() * 256).tolist() == [4, 13, 30, 51, 60, 51, 30, 13, 4]
    # sigma > 0: exp(-x^2 / (2 sigma^2)) normalized, computed here independently
    x = np.arange(-2, 3)
    ref = np.exp(-x ** 2 / (2 * 1.3 ** 2))
    np.testing.assert_allclose(gcv.getGaussianKernel(5, 1.3).ravel(), ref / ref.sum(), rtol=1e-14)
    with pytest.raises(ValueError, match="odd"):
        gcv.getGaussianKernel(4, 1.0)
    with pytest.raises(ValueError, match="sigma"):
        gcv.GaussianBlur(IMG, (0, 0), 0)


def test_gaussian_blur_uint8_rounds_half_up_in_fixed_point():
    # a single bright pixel under the 3x3 kernel [1 2 1]^T [1 2 1] / 16: 255 * 4 / 16 = 63.75 -> 64,
    # 255 * 2 / 16 = 31.875 -> 32, 255 / 16 = 15.9375 -> 16 at the corners
    img = np.zeros((5, 5), np.uint8)
    img[2, 2] = 255
    out = gcv.GaussianBlur(img, (3, 3), 0)
    assert out.dtype == np.uint8
    assert out[1:4, 1:4].tolist() == [[16, 32, 16], [32, 64, 32], [16, 32, 16]]
    # 2 / 16 * 4 = 0.5 exactly: OpenCV's fixed point rounds half up (half to even would give 0)
    img = np.zeros((5, 5), np.uint8)
    img[2, 2] = 4
    assert gcv.GaussianBlur(img, (3, 3), 0)[1, 1] == 0      # 4/16 = 0.25 -> 0 at the corner
    assert gcv.GaussianBlur(img, (3, 3), 0)[1, 2] == 1      # 4 * 2/16 = 0.5 -> 1


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("ksize,sx,sy", [((5, 5), 0, 0), ((3, 7), 1.2, 0), ((0, 0), 1.5, 0),
                                         ((0, 0), 2, 0.7), ((9, 1), 0, 0), ((11, 11), 0, 0)])
@pytest.mark.parametrize("border", [0, 1, 2, 4])
def test_gaussian_blur_and_box_equal_opencv(dtype, ksize, sx, sy, border):
    cv2 = _cv()
    img = COL.astype(dtype) / (255 if dtype != np.uint8 else 1)
    img = img.astype(dtype)
    a = cv2.GaussianBlur(img, ksize, sx, sigmaY=sy, borderType=border)
    b = gcv.GaussianBlur(img, ksize, sx, sigmaY=sy, borderType=border)
    assert b.dtype == a.dtype
    np.testing.assert_allclose(b, a, rtol=0, atol=0 if dtype == np.uint8 else 1e-5)
    box = (ksize[0] or 3, ksize[1] or 5)
    np.testing.assert_allclose(gcv.blur(img, box, borderType=border),
                               cv2.blur(img, box, borderType=border), atol=1 if dtype == np.uint8 else 1e-5)
    np.testing.assert_allclose(gcv.boxFilter(img, gcv.CV_64F, box, normalize=False, borderType=border),
                               cv2.boxFilter(img, cv2.CV_64F, box, normalize=False, borderType=border),
                               rtol=1e-6)


def test_gaussian_blur_tensor_is_differentiable():
    x = gk.tensor(IMG.astype(np.float64), requires_grad=True)
    y = gcv.GaussianBlur(x, (5, 5), 1.1)
    y.sum().backward()
    # the blur is linear: d(sum)/dx = the transposed filter applied to ones
    assert x.grad is not None and x.grad.shape == x.shape
    np.testing.assert_allclose(y.detach().numpy(), gcv.GaussianBlur(IMG.astype(np.float64), (5, 5), 1.1),
                               rtol=1e-12)
