"""Seeded differential sweeps against the live oracles: numpy.gradient, scipy.optimize
(check_grad, approx_fprime, minimize) and OpenCV (Sobel, Scharr, Laplacian, filter2D, Canny).

Every expected value is computed by the oracle in the test itself, never copied from gradkit.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from gradkit import image as gi
from gradkit import numeric

# --- numpy.gradient ----------------------------------------------------------------------------


def _outcome(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kw)
        except Exception as exc:       # the oracle's exception is part of its answer
            return exc


def _assert_same_gradient(f, args, kw) -> None:
    expected = _outcome(np.gradient, f, *args, **kw)
    got = _outcome(numeric.gradient, f, *args, **kw)
    if isinstance(expected, Exception):
        assert isinstance(got, type(expected)), (expected, got, f.shape, kw)
        return
    assert not isinstance(got, Exception), (got, f.shape, f.dtype, kw)
    assert type(got) is type(expected)
    exp = expected if isinstance(expected, tuple) else (expected,)
    res = got if isinstance(got, tuple) else (got,)
    assert len(exp) == len(res)
    for e, g in zip(exp, res):
        assert type(g) is type(e) and g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)          # bit for bit (NaN == NaN)
        if isinstance(e, np.ma.MaskedArray):
            np.testing.assert_array_equal(np.ma.getmaskarray(g), np.ma.getmaskarray(e))


def _random_samples(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 100, shape).astype(dtype)
    if np.issubdtype(dtype, np.complexfloating):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return (rng.standard_normal(shape) * 10).astype(dtype)


def _random_spacing(rng: np.random.Generator, n: int):
    c = rng.random()
    if c < 0.3:
        return [0.5, 2, np.float32(0.3), 1e-3, np.float16(0.7), -1.5][rng.integers(6)]
    if c < 0.45:
        return np.arange(n) * 0.5                                   # uniform coordinates
    if c < 0.6:
        return np.arange(n, dtype=np.int64) * 3                     # integer coordinates
    if c < 0.7:
        return np.cumsum(rng.random(n) + 0.1).astype(np.float32)
    if c < 0.8:
        return -np.cumsum(rng.random(n) + 0.1)                      # decreasing
    if c < 0.9:
        return list(np.cumsum(rng.integers(1, 4, n)))               # a list of ints
    return np.cumsum(rng.random(n) + 0.1)


GRAD_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.complex64,
               np.complex128]


@pytest.mark.parametrize("seed", range(4))
def test_gradient_random_sweep_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(300):
        nd = int(rng.integers(1, 5))
        shape = tuple(int(s) for s in rng.integers(1, 6, nd))
        f = _random_samples(rng, shape, GRAD_DTYPES[rng.integers(len(GRAD_DTYPES))])
        layout = rng.random()
        if layout < 0.15:
            f = np.asfortranarray(f)
        elif layout < 0.3:
            f = np.repeat(f, 2, axis=0)[::2]                        # non-contiguous
        kw: dict = {"edge_order": int(rng.integers(1, 3))}
        r = rng.random()
        if r < 0.3:
            axes = list(range(nd))
        elif r < 0.6:
            kw["axis"] = int(rng.integers(-nd, nd))
            axes = [kw["axis"] % nd]
        else:
            k = int(rng.integers(1, nd + 1))
            kw["axis"] = tuple(int(a) for a in rng.choice(np.arange(-nd, nd), k, replace=False))
            axes = [a % nd for a in kw["axis"]]
        r = rng.random()
        if r < 0.2:
            args: list = []
        elif r < 0.35:
            args = [[0.5, 2, np.float32(0.3), 3, np.int64(2)][rng.integers(5)]]
        else:
            args = [_random_spacing(rng, f.shape[a]) for a in axes]
        _assert_same_gradient(f, args, kw)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int16, np.uint8])
@pytest.mark.parametrize("n", [2, 3])
def test_gradient_short_axes(dtype: type, n: int) -> None:
    f = (np.arange(n * 3).reshape(n, 3) ** 2).astype(dtype)
    for edge_order in (1, 2):
        for args in ((), (0.5,), (np.cumsum(np.arange(1, n + 1)), 2.0), ([0.0, 1.5, 4.0][:n], [0, 1, 3])):
            _assert_same_gradient(f, list(args), {"edge_order": edge_order})
            _assert_same_gradient(f, list(args[:1]), {"edge_order": edge_order, "axis": 0})


def test_gradient_errors_match_numpy() -> None:
    f = np.arange(6.0).reshape(2, 3)
    cases = [((np.arange(1.0),), {}), ((np.arange(2.0),), {"edge_order": 2}),
             ((f,), {"edge_order": 2}), ((f,), {"edge_order": 3}),
             ((f, 1.0, 2.0, 3.0), {}), ((f, np.ones((2, 3)), 1.0), {}),
             ((f, np.arange(3.0), 1.0), {}), ((f,), {"axis": 2}), ((f,), {"axis": (0, -2)}),
             ((np.zeros((0, 3)),), {}), ((np.zeros((1, 3)), [0.0], [0, 1, 2]), {})]
    for args, kw in cases:
        expected = _outcome(np.gradient, *args, **kw)
        assert isinstance(expected, Exception), (args, kw)
        with pytest.raises(type(expected)) as info:
            numeric.gradient(*args, **kw)
        if "Shape of array too small" in str(expected) or "invalid number" in str(expected):
            assert str(info.value) == str(expected)


def test_gradient_special_inputs_follow_numpy() -> None:
    """Lists, masked arrays, bool samples, complex spacings, NaN/inf, datetimes."""
    cases = [([1, 2, 4, 7, 11], [], {}),
             (np.ma.array([1.0, 2, 4, 8, 9], mask=[0, 0, 1, 0, 0]), [], {}),
             (np.array([True, False, True, True]), [[0.0, 1.0, 3.0, 4.0]], {"edge_order": 2}),
             (np.array([True, False, True, True]), [], {}),
             (np.arange(5.0), [1j], {}),
             (np.arange(5.0), [np.array([0, 1, 2, 4, 8]) + 0j], {}),
             (np.array([1.0, np.inf, 3, np.nan, 5]), [], {}),
             (np.array([0, 1, 1, 2, 3.0]), [[0, 1, 1, 2, 3.0]], {}),
             (np.array([1, 2, 4, 8, 9], dtype="m8[s]"), [], {}),
             (np.arange(5, dtype=np.float16), [np.array([0, 1, 2, 4, 8], dtype=np.float16)],
              {"edge_order": 2})]
    for f, args, kw in cases:
        _assert_same_gradient(np.asanyarray(f) if not isinstance(f, list) else f, args, kw)


# --- scipy.optimize.check_grad / approx_fprime ---------------------------------------------------

so = pytest.importorskip("scipy.optimize")


def _quad(x, *a):
    return np.sum((x - 0.3) ** 2 * (1 + np.arange(x.size))) + sum(a)


def _quad_grad(x, *a):
    return 2 * (x - 0.3) * (1 + np.arange(x.size))


def _f32(x, *a):
    return np.float32(np.sum(np.sin(x)))


def _f32_grad(x, *a):
    return np.cos(x).astype(np.float32)


def _vec(x, *a):
    return np.concatenate([np.sin(x), [np.sum(x ** 2)]])


def _as_list(x, *a):
    return [float(np.sum(x)), float(np.prod(x))]


def _rosen(x, *a):
    return so.rosen(x)


def _rosen_der(x, *a):
    return so.rosen_der(x)


@pytest.mark.parametrize("seed", range(3))
def test_approx_fprime_and_check_grad_sweep(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pairs = [(_quad, _quad_grad), (_f32, _f32_grad), (_rosen, _rosen_der)]
    for _ in range(60):
        n = int(rng.integers(2, 6))
        kind = int(rng.integers(4))
        x0 = [list(rng.standard_normal(n)), rng.standard_normal(n).astype(np.float32),
              rng.integers(-3, 3, n), rng.standard_normal(n) * 10.0 ** rng.integers(-10, 12)][kind]
        e = rng.random()
        eps = np.sqrt(np.finfo(float).eps) if e < 0.3 else \
            (10.0 ** rng.integers(-30, -1) if e < 0.7 else rng.random(n) * 1e-5)
        args = tuple(rng.random(int(rng.integers(0, 3))))
        for fun in (_quad, _f32, _vec, _as_list, _rosen):
            expected = so.approx_fprime(x0, fun, eps, *args)
            got = numeric.approx_fprime(x0, fun, eps, *args)
            assert got.dtype == expected.dtype and got.shape == expected.shape
            np.testing.assert_array_equal(got, expected)
        fun, grad = pairs[int(rng.integers(len(pairs)))]
        assert numeric.check_grad(fun, grad, x0, *args) == so.check_grad(fun, grad, x0, *args)
        assert numeric.check_grad(fun, grad, x0, *args, epsilon=eps) == \
            so.check_grad(fun, grad, x0, *args, epsilon=eps)
        seed_ = int(rng.integers(1000))
        assert numeric.check_grad(fun, grad, x0, *args, direction="random", rng=seed_) == \
            so.check_grad(fun, grad, x0, *args, direction="random", rng=seed_)
        assert numeric.check_grad(fun, grad, x0, direction="random", rng=np.random.default_rng(seed_)) == \
            so.check_grad(fun, grad, x0, direction="random", rng=np.random.default_rng(seed_))
        np.random.seed(seed_)
        expected = so.check_grad(fun, grad, x0, direction="random")
        np.random.seed(seed_)
        assert numeric.check_grad(fun, grad, x0, direction="random") == expected


def test_approx_fprime_errors_match_scipy() -> None:
    for fun in (lambda x: np.outer(x, x), ):
        with pytest.raises(ValueError) as ref:
            so.approx_fprime(np.ones(3), fun)
        with pytest.raises(ValueError) as got:
            numeric.approx_fprime(np.ones(3), fun)
        assert str(got.value) == str(ref.value)
    calls = []

    def changes_shape(x):
        calls.append(1)
        return np.sum(x) if len(calls) == 1 else np.ones((2, 2))
    with pytest.raises(RuntimeError, match="more than 1 dimension"):
        numeric.approx_fprime(np.ones(3), changes_shape)


# --- scipy.optimize.minimize ---------------------------------------------------------------------

def _rosen_args(x, a=1.0):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2)


def _rosen_args_der(x, a=1.0):
    g = np.zeros_like(x)
    g[1:-1] = 200 * (x[1:-1] - x[:-2] ** 2) - 400 * (x[2:] - x[1:-1] ** 2) * x[1:-1] - 2 * (a - x[1:-1])
    g[0] = -400 * x[0] * (x[1] - x[0] ** 2) - 2 * (a - x[0])
    g[-1] = 200 * (x[-1] - x[-2] ** 2)
    return g


def _rosen_args_hess(x, a=1.0):
    return so.rosen_hess(x)


X0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])


@pytest.mark.parametrize("method", ["BFGS", "L-BFGS-B", "CG", "Newton-CG", "trust-ncg", "trust-krylov",
                                    "trust-exact", "trust-constr", "SLSQP", "TNC"])
def test_minimize_matches_scipy_with_exact_derivatives(method: str) -> None:
    import gradkit.optimize as gopt
    seen: list = []
    got = gopt.minimize(_rosen_args, X0, args=(1.0,), method=method, callback=lambda xk, *s: seen.append(1))
    kw = {"jac": _rosen_args_der}
    if method in ("Newton-CG", "trust-ncg", "trust-krylov", "trust-exact", "trust-constr"):
        kw["hess"] = _rosen_args_hess
    seen_ref: list = []
    ref = so.minimize(_rosen_args, X0, args=(1.0,), method=method,
                      callback=lambda xk, *s: seen_ref.append(1), **kw)
    assert got.success == ref.success and got.status == ref.status and got.message == ref.message
    np.testing.assert_allclose(got.x, ref.x, rtol=1e-4, atol=1e-5)
    assert abs(got.fun - ref.fun) <= 1e-6
    if "nit" in ref:
        assert got.nit == ref.nit
    assert len(seen) == len(seen_ref)
    key = "grad" if method == "trust-constr" else "jac"
    np.testing.assert_allclose(got[key], ref[key], rtol=1e-2, atol=1e-4)
    if method not in ("Newton-CG", "trust-ncg", "trust-krylov", "trust-exact"):
        finite = so.minimize(_rosen_args, X0, args=(1.0,), method=method)
        assert got.nfev < finite.nfev
    if method in ("BFGS", "L-BFGS-B", "CG", "Newton-CG", "SLSQP"):
        assert got.nfev == ref.nfev                     # one forward pass per SciPy evaluation


@pytest.mark.parametrize("method", ["L-BFGS-B", "TNC", "SLSQP", "Powell", "Nelder-Mead"])
def test_minimize_bounds_match_scipy(method: str) -> None:
    import gradkit.optimize as gopt
    bounds = [(0, 2)] * 3 + [(-1, 0.5)] * 2
    got = gopt.minimize(_rosen_args, X0, method=method, bounds=bounds)
    jac = _rosen_args_der if method in ("L-BFGS-B", "TNC", "SLSQP") else None
    ref = so.minimize(_rosen_args, X0, method=method, bounds=bounds, jac=jac)
    assert got.success == ref.success and got.message == ref.message
    np.testing.assert_allclose(got.x, ref.x, rtol=1e-5, atol=1e-6)
    lo, hi = np.array(bounds).T
    assert np.all(got.x >= lo) and np.all(got.x <= hi)


def test_minimize_counts_and_stops_as_scipy() -> None:
    import gradkit.optimize as gopt
    fd = gopt.minimize(_rosen_args, X0, method="BFGS", jac="2-point")
    ref = so.minimize(_rosen_args, X0, method="BFGS", jac="2-point")
    assert (fd.nfev, fd.njev, fd.nit) == (ref.nfev, ref.njev, ref.nit)
    np.testing.assert_array_equal(fd.x, ref.x)
    user = gopt.minimize(_rosen_args, X0, method="BFGS", jac=_rosen_args_der)
    ref = so.minimize(_rosen_args, X0, method="BFGS", jac=_rosen_args_der)
    assert (user.nfev, user.njev) == (ref.nfev, ref.njev)
    np.testing.assert_array_equal(user.x, ref.x)
    capped = gopt.minimize(_rosen_args, X0, options={"maxiter": 5})
    ref = so.minimize(_rosen_args, X0, jac=_rosen_args_der, options={"maxiter": 5})
    assert (capped.nit, capped.success, capped.message) == (ref.nit, ref.success, ref.message)

    def stop(intermediate_result):
        raise StopIteration
    got = gopt.minimize(_rosen_args, X0, method="BFGS", callback=stop)
    ref = so.minimize(_rosen_args, X0, method="BFGS", jac=_rosen_args_der, callback=stop)
    assert (got.nit, got.status, got.success, got.message) == (ref.nit, ref.status, ref.success, ref.message)


# --- OpenCV ------------------------------------------------------------------------------------

cv2 = pytest.importorskip("cv2")
BORDERS = {"reflect101": cv2.BORDER_REFLECT_101, "reflect": cv2.BORDER_REFLECT,
           "replicate": cv2.BORDER_REPLICATE, "constant": cv2.BORDER_CONSTANT}
DERIVS = [(1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (2, 1), (1, 2), (2, 2), (3, 0)]


def _image(rng: np.random.Generator, dtype: type, channels: int | None) -> np.ndarray:
    h, w = int(rng.integers(1, 32)), int(rng.integers(1, 32))
    shape = (h, w) if channels is None else (h, w, channels)
    if dtype == np.uint8:
        img = rng.integers(0, 256, shape).astype(np.uint8)
    else:
        img = (rng.standard_normal(shape) * 50).astype(dtype)
    layout = rng.random()
    if layout < 0.2:
        img = np.repeat(np.repeat(img, 2, axis=0), 2, axis=1)[::2, ::2]      # strided view
    elif layout < 0.3:
        img = np.asfortranarray(img)
    return img


def _cv_or_error(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except cv2.error as exc:
        return exc


def _check(ref, fn, args: tuple, exact: bool, info, tol: float | None = None) -> None:
    if isinstance(ref, cv2.error):
        return                        # OpenCV refuses the combination; gradkit may accept more
    got = fn(*args)
    assert got.dtype == ref.dtype and got.shape == ref.shape, info
    if exact:
        assert np.array_equal(got, ref), info
    else:
        scale = max(1.0, float(np.abs(ref).max()))
        tol = tol or (1e-12 if ref.dtype == np.float64 else 1e-6)
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * scale, err_msg=str(info))


@pytest.mark.parametrize("seed", range(3))
def test_uint8_filters_exact_against_opencv(seed: int) -> None:
    """uint8 input, every integer and float depth, dyadic scales and any delta: bit for bit."""
    rng = np.random.default_rng(seed)
    for _ in range(120):
        img = _image(rng, np.uint8, [None, 3, 4][rng.integers(3)])
        border = list(BORDERS)[rng.integers(4)]
        b = BORDERS[border]
        dd = [-1, cv2.CV_16S, cv2.CV_16U, cv2.CV_32F, cv2.CV_64F][rng.integers(5)]
        scale = [1, 0.5, 2, 0.25, 3, -1][rng.integers(6)]
        delta = [0, 0.5, -1.25, 7.0, 2.5, -0.5][rng.integers(6)]
        if dd == cv2.CV_16S and delta != int(delta):
            # NOTE: OpenCV's SIMD body and scalar tail disagree there (see the test below)
            delta = 0.3
        exact = dd != cv2.CV_32F or delta * 4 == int(delta * 4)
        ks = [1, 3, 5, 7, -1][rng.integers(5)]
        dx, dy = DERIVS[rng.integers(len(DERIVS))]
        info = (img.shape, border, dd, ks, dx, dy, scale, delta)
        ref = _cv_or_error(cv2.Sobel, img, dd, dx, dy, ksize=ks, scale=scale, delta=delta, borderType=b)
        _check(ref, gi.sobel, (img, dx, dy, ks, scale, delta, border, dd), exact, info)
        if (dx, dy) in ((1, 0), (0, 1)):
            ref = cv2.Scharr(img, dd, dx, dy, scale=scale, delta=delta, borderType=b)
            _check(ref, gi.scharr, (img, dx, dy, scale, delta, border, dd), exact, info)
        lk = [1, 3, 5, 7][rng.integers(4)]
        ref = _cv_or_error(cv2.Laplacian, img, dd, ksize=lk, scale=scale, delta=delta, borderType=b)
        _check(ref, gi.laplacian, (img, lk, scale, delta, border, dd), exact, info + (lk,))
        kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        k = rng.integers(-4, 5, (kh, kw)).astype(np.float64) * scale
        anchor = (-1, -1) if rng.random() < 0.5 else (int(rng.integers(kw)), int(rng.integers(kh)))
        ref = _cv_or_error(cv2.filter2D, img, dd, k, anchor=anchor, delta=delta, borderType=b)
        _check(ref, gi.filter2d, (img, k, anchor, delta, border, dd), exact, info + (k.shape, anchor))


def _cv_version() -> tuple[int, int]:
    major, minor = (cv2.__version__.split(".") + ["0"])[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def _opencv_rounds_once() -> bool:
    """OpenCV >= 5.1 with Intel IPP enabled (x86 builds): its IPP Sobel/Scharr path forms
    ``raw * scale + delta`` and rounds once; 5.0 (and 5.1 without IPP) rounded ``delta``
    to an integer first on the integer path."""
    return _cv_version() >= (5, 1) and bool(cv2.ipp.useIPP())


# The documented 5.1 rule (gradkit.image.sobel's docstring): one channel, uint8 or int16 -> CV_16S,
# these (ksize, dx, dy), borders other than BORDER_REFLECT.
_IPP_DERIVS = {np.uint8: {(3, 1, 0), (3, 0, 1), (3, 2, 0), (3, 0, 2), (5, 1, 0), (5, 0, 1), (5, 2, 0),
                          (5, 0, 2), (-1, 1, 0), (-1, 0, 1)},
               np.int16: {(3, 0, 1), (5, 0, 1), (-1, 1, 0), (-1, 0, 1)}}


def _on_ipp_path(img: np.ndarray, ks: int, dx: int, dy: int, border: str) -> bool:
    one_channel = img.ndim == 2 or img.shape[2] == 1
    return (one_channel and border != "reflect"
            and (ks, dx, dy) in _IPP_DERIVS.get(img.dtype.type, ()))


def _rule_51(img: np.ndarray, ks: int, dx: int, dy: int, scale: float, delta: float, b: int) -> np.ndarray:
    """OpenCV 5.1's IPP rounding computed from cv2's own float64 derivative: an int16 image's
    derivative saturates to int16 first, then rint(float32(raw * scale + delta)) saturates."""
    raw = cv2.Sobel(img, cv2.CV_64F, dx, dy, ksize=ks, borderType=b)
    if img.dtype == np.int16:
        raw = np.clip(raw, -32768, 32767)
    v = (raw * float(np.float32(scale)) + float(np.float32(delta))).astype(np.float32)
    return np.clip(np.rint(v), -32768, 32767).astype(np.int16)


def _rule_51_sse42(img: np.ndarray, ks: int, dx: int, dy: int, scale: float, delta: float,
                   b: int) -> np.ndarray:
    """IPP's SSE4.2 code (a CPU without AVX2) multiplies and adds in two float32 roundings; it
    differs from the fused rounding (AVX2 and later, gradkit) only for a non-dyadic scale."""
    raw = cv2.Sobel(img, cv2.CV_64F, dx, dy, ksize=ks, borderType=b)
    if img.dtype == np.int16:
        raw = np.clip(raw, -32768, 32767)
    v = raw.astype(np.float32) * np.float32(scale) + np.float32(delta)
    return np.clip(np.rint(v), -32768, 32767).astype(np.int16)


def _same_as_live(got: np.ndarray, ref: np.ndarray, img: np.ndarray, ks: int, dx: int, dy: int,
                  scale: float, delta: float, b: int) -> bool:
    if np.array_equal(got, ref):
        return True
    dyadic = float(np.float32(scale)) == scale and np.log2(abs(scale)) == int(np.log2(abs(scale)))
    return not dyadic and np.array_equal(ref, _rule_51_sse42(img, ks, dx, dy, scale, delta, b))


def _rule_50(img: np.ndarray, ks: int, dx: int, dy: int, delta: float, b: int) -> np.ndarray:
    """OpenCV <= 5.0's integer path (uint8 -> CV_16S, scale 1): raw + rint(delta), saturated."""
    raw = cv2.Sobel(img, cv2.CV_64F, dx, dy, ksize=ks, borderType=b)
    return np.clip(raw + np.rint(delta), -32768, 32767).astype(np.int16)


@pytest.fixture(params=[True, False], ids=["ipp", "no-ipp"])
def ipp(request):
    """Run with OpenCV's IPP on and off: off, OpenCV 5.1 rounds as 5.0 did (as on ARM builds)."""
    before = cv2.ipp.useIPP()
    cv2.ipp.setUseIPP(request.param)
    yield request.param
    cv2.ipp.setUseIPP(before)


SOBEL_16S = [(1, 1, 0), (1, 0, 1), (1, 0, 2), (3, 1, 0), (3, 0, 1), (3, 2, 0), (3, 0, 2), (3, 1, 1),
             (5, 1, 0), (5, 0, 1), (5, 2, 0), (5, 0, 2), (5, 2, 1), (5, 3, 0), (7, 1, 0), (7, 0, 2),
             (-1, 1, 0), (-1, 0, 1)]


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_uint8_to_int16_rounds_delta_as_opencv(ipp: bool, channels: int | None) -> None:
    """uint8 -> CV_16S with half-integer deltas, where rounding delta first or not shows.

    gradkit follows OpenCV >= 5.1: on its IPP path (one channel, ksize 3/5 first and second
    derivatives, Scharr, borders other than BORDER_REFLECT) rint(raw * scale + delta); elsewhere
    the integer path raw + rint(delta) (half to even), as every version. With an OpenCV that
    rounds delta first there too (<= 5.0, or IPP off), gradkit is checked against the 5.1 rule
    computed from cv2's float output, and cv2 against the 5.0 rule.
    """
    rng = np.random.default_rng(5)
    shape = (12, 15) if channels is None else (12, 15, channels)
    img = rng.integers(0, 256, shape).astype(np.uint8)
    once = _opencv_rounds_once()
    checked = {"live": 0, "rule": 0}
    for (ks, dx, dy), border in itertools.product(SOBEL_16S, BORDERS):
        b = BORDERS[border]
        for scale, delta in ((1, 0.5), (1, 1.5), (1, 2.5), (1, -0.5), (1, 0.3), (1, -1.7), (-1, 0.5),
                             (3, -2.5), (0.5, 0.5), (0.1, 0.3), (0.37, -1.5)):
            info = (shape, ks, dx, dy, border, scale, delta, cv2.__version__, ipp)
            ref = cv2.Sobel(img, cv2.CV_16S, dx, dy, ksize=ks, scale=scale, delta=delta, borderType=b)
            got = gi.sobel(img, dx, dy, ks, scale, delta, border, cv2.CV_16S)
            got = got.reshape(ref.shape)            # cv2 drops a trailing channel axis of 1
            if _on_ipp_path(img, ks, dx, dy, border):
                assert np.array_equal(got, _rule_51(img, ks, dx, dy, scale, delta, b)), info
                checked["rule"] += 1
                if once:
                    assert _same_as_live(got, ref, img, ks, dx, dy, scale, delta, b), info
                    checked["live"] += 1
                elif scale == 1 and not (ks == -1 and dx == 1):      # (that one: see below)
                    assert np.array_equal(ref, _rule_50(img, ks, dx, dy, delta, b)), info
                continue
            if ks == -1 and dx == 1 or scale not in (1, 0.5):
                # NOTE: there OpenCV runs a float32 column filter whose SIMD body rounds once and
                # whose scalar tail rounds delta first (Scharr's [3, 10, 3], a scaled 3-tap
                # kernel): neither rule holds for every column, in any version
                continue
            assert np.array_equal(got, ref), info
            if scale == 1:
                assert np.array_equal(ref, _rule_50(img, ks, dx, dy, delta, b)), info
            checked["live"] += 1
    assert checked["live"] > 0
    assert checked["rule"] > 0 or channels == 3


def test_int16_to_int16_saturates_before_scaling_as_opencv(ipp: bool) -> None:
    """int16 -> CV_16S on OpenCV 5.1's IPP path: the derivative saturates to int16, then scales."""
    rng = np.random.default_rng(6)
    img = rng.integers(-20000, 20000, (11, 14)).astype(np.int16)
    once = _opencv_rounds_once()
    for (ks, dx, dy), border in itertools.product(sorted(_IPP_DERIVS[np.int16]), BORDERS):
        if border == "reflect":
            continue                              # not the IPP path: the float path below
        b = BORDERS[border]
        for scale, delta in ((0.5, 0.5), (0.25, -1.5), (0.1, 0.3), (1, 0.5)):
            info = (ks, dx, dy, border, scale, delta, cv2.__version__, ipp)
            got = gi.sobel(img, dx, dy, ks, scale, delta, border, cv2.CV_16S)
            assert np.array_equal(got, _rule_51(img, ks, dx, dy, scale, delta, b)), info
            if once:
                ref = cv2.Sobel(img, cv2.CV_16S, dx, dy, ksize=ks, scale=scale, delta=delta, borderType=b)
                assert _same_as_live(got, ref, img, ks, dx, dy, scale, delta, b), info
    # off that path (BORDER_REFLECT, several channels) OpenCV scales the unsaturated derivative
    for im, border in ((img, "reflect"), (np.dstack([img, img[::-1]]), "reflect101")):
        ref = cv2.Sobel(im, cv2.CV_16S, 0, 1, ksize=3, scale=0.25, borderType=BORDERS[border])
        assert np.array_equal(gi.sobel(im, 0, 1, 3, 0.25, 0, border, cv2.CV_16S), ref)


def test_sep_filter2d_and_laplacian_round_as_every_opencv(ipp: bool) -> None:
    """cv2.sepFilter2D keeps the integer path (delta rounded first); Laplacian and filter2D
    round once; OpenCV 5.1 changed neither."""
    img = np.random.default_rng(7).integers(0, 256, (12, 15)).astype(np.uint8)
    for delta, (dx, dy), ks in itertools.product((0.5, 1.5, -0.5, 0.3), ((1, 0), (0, 1), (0, 2)), (3, 5)):
        kx, ky = cv2.getDerivKernels(dx, dy, ks)
        ref = cv2.sepFilter2D(img, cv2.CV_16S, kx, ky, delta=delta)
        assert np.array_equal(gi.sep_filter2d(img, kx, ky, delta=delta, ddepth=cv2.CV_16S), ref)
        assert np.array_equal(ref, _rule_50(img, ks, dx, dy, delta, cv2.BORDER_DEFAULT))
    for delta, ks in itertools.product((0.5, 1.5, -0.5), (1, 3, 5)):
        ref = cv2.Laplacian(img, cv2.CV_16S, ksize=ks, delta=delta)
        assert np.array_equal(gi.laplacian(img, ks, delta=delta, ddepth=cv2.CV_16S), ref), (ks, delta)
        k = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float64)
        ref = cv2.filter2D(img, cv2.CV_16S, k, delta=delta)
        assert np.array_equal(gi.filter2d(img, k, delta=delta, ddepth=cv2.CV_16S), ref), delta


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_filters_close_to_opencv(seed: int, dtype: type) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(60):
        img = _image(rng, dtype, [None, 3][rng.integers(2)])
        border = list(BORDERS)[rng.integers(4)]
        b = BORDERS[border]
        dd = [-1, cv2.CV_64F][rng.integers(2)] if dtype == np.float32 else -1
        scale, delta = [1.0, 0.37, -1.7][rng.integers(3)], [0.0, 1.25, -3.0][rng.integers(3)]
        ks = [1, 3, 5, 7, -1][rng.integers(5)]
        dx, dy = DERIVS[rng.integers(len(DERIVS))]
        info = (img.shape, dtype, border, dd, ks, dx, dy, scale, delta)
        ref = _cv_or_error(cv2.Sobel, img, dd, dx, dy, ksize=ks, scale=scale, delta=delta, borderType=b)
        tol = 1e-6 if dtype == np.float32 else None        # OpenCV works in float32 there
        _check(ref, gi.sobel, (img, dx, dy, ks, scale, delta, border, dd), False, info, tol)
        lk = [1, 3, 5, 7][rng.integers(4)]
        ref = _cv_or_error(cv2.Laplacian, img, dd, ksize=lk, scale=scale, delta=delta, borderType=b)
        if _cv_version() < (5, 0) and lk in (1, 3) and dtype == np.float64:
            scale = float(np.float32(scale))        # OpenCV 4 scaled the 3x3 kernel in float32
        _check(ref, gi.laplacian, (img, lk, scale, delta, border, dd), False, info + (lk,), tol)
        k = rng.standard_normal((int(rng.integers(1, 8)), int(rng.integers(1, 8)))).astype(dtype)
        ref = _cv_or_error(cv2.filter2D, img, dd, k, delta=delta, borderType=b)
        _check(ref, gi.filter2d, (img, k, None, delta, border, dd), False, info + (k.shape,), tol)


def test_border_codes_as_opencv() -> None:
    img = np.random.default_rng(1).integers(0, 256, (9, 11)).astype(np.uint8)
    for code in (0, 1, 2, 4, 16, 17, 18, 20):           # with BORDER_ISOLATED, a whole array is unchanged
        np.testing.assert_array_equal(gi.sobel(img, 1, 0, border=code),
                                      cv2.Sobel(img, cv2.CV_64F, 1, 0, borderType=code))
    for code in (cv2.BORDER_TRANSPARENT, 7, -1):
        with pytest.raises(cv2.error):
            cv2.Sobel(img, cv2.CV_64F, 1, 0, borderType=code)
        with pytest.raises(ValueError, match="border"):
            gi.sobel(img, 1, 0, border=code)


@pytest.mark.parametrize("seed", range(2))
def test_canny_sweep_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(60):
        img = _image(rng, np.uint8, [None, 3][rng.integers(2)])
        if rng.random() < 0.5:
            img = cv2.GaussianBlur(img, (5, 5), 1.5)
        ap = [3, 5, 7][rng.integers(3)]
        l2 = bool(rng.random() < 0.5)
        lo, hi = rng.uniform(0, 800 if ap == 3 else 20000, 2)
        ref = cv2.Canny(img, lo, hi, apertureSize=ap, L2gradient=l2)
        got = gi.canny(img, lo, hi, ap, l2)
        assert got.dtype == ref.dtype and np.array_equal(got, ref), (img.shape, ap, l2, lo, hi)


def test_scipy_ndimage_sobel_and_laplace_equivalents() -> None:
    ndimage = pytest.importorskip("scipy.ndimage")
    img = np.random.default_rng(2).standard_normal((13, 17))
    for mode, border in (("reflect", "reflect"), ("mirror", "reflect101"), ("nearest", "replicate"),
                         ("constant", "constant"), ("grid-wrap", "wrap")):
        np.testing.assert_allclose(gi.sobel(img, 1, 0, border=border), ndimage.sobel(img, axis=1, mode=mode),
                                   rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(gi.sobel(img, 0, 1, border=border), ndimage.sobel(img, axis=0, mode=mode),
                                   rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(gi.laplacian(img, 1, border=border), ndimage.laplace(img, mode=mode),
                                   rtol=1e-13, atol=1e-13)
