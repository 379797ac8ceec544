"""More NumPy functions on tensors through NumPy's dispatch: each call gives NumPy's values,
shape and dtype, and its gradient matches central finite differences of NumPy's own function
in float64 (the oracle never runs gradkit)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk
import gradkit.func as gf

RNG = np.random.default_rng(11)
X = RNG.uniform(0.2, 0.9, (3, 4))
SQ = RNG.uniform(0.2, 0.9, (3, 3)) + 3 * np.eye(3)
NANX = RNG.uniform(0.0, 1.0, (4, 5))
NANX[0, 1] = NANX[3, 0] = NANX[3, 4] = np.nan
NANX[2, :] = np.nan


def fd_grad(f, x, w, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        if np.isnan(x[i]):
            continue
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (np.nansum(np.asarray(f(x + e)) * w) - np.nansum(np.asarray(f(x - e)) * w)) / (2 * h)
    return g


L = np.linalg
CASES = {
    # adding, removing and picking elements
    "insert": (lambda a: np.insert(a, 1, 5.0, axis=1), X),
    "insert_tensor_values": (lambda a: np.insert(a, [0, 2], a[:, :1], axis=1), X),
    "insert_flat": (lambda a: np.insert(a, 3, [7.0, 8.0]), X),
    "delete": (lambda a: np.delete(a, [0, 2], axis=1), X),
    "delete_mask": (lambda a: np.delete(a, np.array([True, False, True])), X[0, :3]),
    "resize": (lambda a: np.resize(a, (5, 3)), X),
    "compress": (lambda a: np.compress([True, False, True], a, axis=0), X),
    "extract": (lambda a: np.extract(a > 0.5, a), X),
    "choose": (lambda a: np.choose([0, 1, 0, 1], [a[0], a[1]]), X),
    "choose_clip": (lambda a: np.choose([[0, 3], [1, -1]], [a[0, :2], a[1, :2], 2 * a[2, :2]],
                                        mode="clip"), X),
    "trim_zeros": (lambda a: np.trim_zeros(np.concatenate([np.zeros(2), a[0], np.zeros(1)])), X),
    "trim_zeros_f": (lambda a: np.trim_zeros(np.concatenate([np.zeros(2), a[0], np.zeros(1)]),
                                             "f"), X),
    "ediff1d": (lambda a: np.ediff1d(a, to_begin=[-1.0], to_end=a[0, :2]), X),
    "copy": (lambda a: np.copy(a) * 2.0, X),
    "broadcast_arrays": (lambda a: np.broadcast_arrays(a[:, :1], a[0])[0] * 3.0
                         + np.broadcast_arrays(a[:, :1], a[0])[1], X),
    "block": (lambda a: np.block([[a[:2, :2], np.ones((2, 1))], [a[2:, :3]]]), X),
    "block_1d": (lambda a: np.block([a[0], a[1]]), X),
    # NaN statistics
    "nanvar": (lambda a: np.nanvar(a), NANX),
    "nanvar_ddof": (lambda a: np.nanvar(a, axis=1, ddof=1), NANX),
    "nanstd_keepdims": (lambda a: np.nanstd(a, axis=0, keepdims=True), NANX),
    "nancumsum": (lambda a: np.nancumsum(a, axis=1), NANX),
    "nancumprod": (lambda a: np.nancumprod(a), NANX),
    "nanmedian": (lambda a: np.nanmedian(a), NANX),
    "nanmedian_axis": (lambda a: np.nanmedian(a, axis=1), NANX),
    "nanquantile": (lambda a: np.nanquantile(a, [0.1, 0.7], axis=0), NANX),
    "nanpercentile_keepdims": (lambda a: np.nanpercentile(a, 45, axis=1, keepdims=True), NANX),
    # creation and interpolation
    "interp": (lambda a: np.interp(a, [0.0, 0.5, 1.0], [1.0, 3.0, 2.0]), X),
    "interp_fp_left_right": (lambda a: np.interp([-1.0, 0.5, 3.0, 1.0], [0.0, 1.0], a[0, :2],
                                                 left=a[1, 0], right=a[1, 1]), X),
    "interp_xp": (lambda a: np.interp([0.35, 0.7], np.sort(a[0]), [1.0, 2.0, 4.0, 8.0]), X),
    "logspace": (lambda a: np.logspace(a[0, 0], a[0, 1], 5), X),
    "logspace_base": (lambda a: np.logspace(0.0, 2.0, 4, base=a[0, 0] + 1.0), X),
    "geomspace": (lambda a: np.geomspace(a[0, 0], a[0, 1] + 1.0, 5), X),
    "geomspace_negative": (lambda a: np.geomspace(-a[0, 0], -a[0, 1] - 1.0, 4, endpoint=False), X),
    "bincount_weights": (lambda a: np.bincount([0, 2, 2, 5], weights=a[0], minlength=7), X),
    "histogram_weights": (lambda a: np.histogram([0.1, 0.5, 0.9, 0.3, 1.0, -1.0], bins=3,
                                                 range=(0, 1), weights=a[:2, :3].ravel())[0], X),
    "histogram_density": (lambda a: np.histogram([0.1, 0.5, 0.9, 0.3], bins=[0, 0.2, 0.6, 1.0],
                                                 density=True, weights=a[0])[0], X),
    # elementwise
    "i0": (np.i0, X),
    "fix": (lambda a: np.fix(5 * a) + a, X),
    "divmod": (lambda a: np.divmod(a, 0.3)[1] + np.divmod(a, 0.3)[0], X),
    "modf": (lambda a: np.modf(3 * a)[0], X),
    "frexp": (lambda a: np.frexp(4 * a)[0], X),
    "ldexp": (lambda a: np.ldexp(a, [[1, 2, 3, -1]]), X),
    "heaviside_x2": (lambda a: np.heaviside(np.array([-1.0, 0.0, 2.0, 0.0]), a), X),
    # generalized ufuncs and np.linalg
    "vecdot": (lambda a: np.vecdot(a, a[::-1]), X),
    "vecdot_axis": (lambda a: np.vecdot(a, a[::-1], axis=0), X),
    "matvec": (lambda a: np.matvec(a, a[0]), X.T),
    "vecmat": (lambda a: np.vecmat(a[:, 0], a), X),
    "matmul_axes": (lambda a: np.matmul(a, a[::-1], axes=[(1, 0), (0, 1), (0, 1)]), X[:, :3]),
    "matmul_axes_out": (lambda a: np.matmul(a, SQ, axes=[(1, 0), (0, 1), (1, 0)]), X[:, :3]),
    "matrix_transpose": (lambda a: np.matrix_transpose(a) * np.arange(3.0), X),
    "cumulative_sum": (lambda a: np.cumulative_sum(a, axis=1, include_initial=True), X),
    "cumulative_prod": (lambda a: np.cumulative_prod(a[0]), X),
    "linalg.lstsq": (lambda a: L.lstsq(a.T, np.arange(4.0), rcond=None)[0], X),
    "linalg.lstsq_residuals": (lambda a: L.lstsq(a.T, np.arange(4.0), rcond=None)[1], X),
    "linalg.multi_dot": (lambda a: L.multi_dot([a, a.T, a]), X),
    "linalg.cond": (lambda a: L.cond(a), SQ),
    "linalg.tensorsolve": (lambda a: L.tensorsolve(a, np.arange(3.0)), SQ),
    "linalg.tensorinv": (lambda a: L.tensorinv(a, ind=1), SQ),
    "linalg.matrix_norm": (lambda a: L.matrix_norm(a, ord="nuc"), X),
    "linalg.vector_norm": (lambda a: L.vector_norm(a, axis=1, ord=3), X),
    "linalg.svdvals": (lambda a: L.svdvals(a), X),
    "linalg.trace": (lambda a: L.trace(a, offset=1), SQ),
    "linalg.diagonal": (lambda a: L.diagonal(a, offset=-1), SQ),
    "linalg.outer": (lambda a: L.outer(a[0], a[1]), X),
    "linalg.cross": (lambda a: L.cross(a[:, :3], a[:, 1:]), X),
    "linalg.vecdot": (lambda a: L.vecdot(a, 2 * a), X),
    "linalg.cholesky_one_triangle": (lambda a: L.cholesky(a), SQ @ SQ.T),
    "linalg.cholesky_upper": (lambda a: L.cholesky(a, upper=True), SQ @ SQ.T),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradient(name):
    f, x = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.asarray(f(x.copy()))
        got = f(gk.tensor(x.copy()))
        got = got.numpy() if isinstance(got, gk.Tensor) else np.asarray(got)
        assert got.shape == want.shape
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
        w = RNG.standard_normal(want.shape)
        g = gf.grad(lambda a: np.nansum(f(a) * w))(x.copy())
        np.testing.assert_allclose(g, fd_grad(f, x, w), rtol=1e-5, atol=1e-6)


def test_matmul_axes_are_not_ignored():
    a, b = RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))
    got = np.matmul(gk.tensor(a, requires_grad=True), b, axes=[(1, 0), (0, 1), (0, 1)])
    np.testing.assert_allclose(got.detach().numpy(), a.T @ b, rtol=1e-13)


def test_vecdot_keepdims():
    got = np.vecdot(gk.tensor(X), X, axis=0, keepdims=True)
    want = np.vecdot(X, X, axis=0, keepdims=True)
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-13)


def test_ufunc_signature_is_refused_on_a_tensor():
    with pytest.raises(TypeError, match="signature"):
        np.add(gk.tensor(X, requires_grad=True), 1.0, signature=(None, None, np.float32))


def test_lstsq_returns_numpys_four_parts():
    a = RNG.standard_normal((6, 3))
    b = RNG.standard_normal((6, 2))
    got = np.linalg.lstsq(gk.tensor(a), b, rcond=None)
    want = np.linalg.lstsq(a, b, rcond=None)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g.numpy() if isinstance(g, gk.Tensor) else g), w,
                                   rtol=1e-10)
    deficient = np.column_stack([a[:, 0], a[:, 0], a[:, 1]])
    got = np.linalg.lstsq(gk.tensor(deficient), b[:, 0], rcond=None)
    want = np.linalg.lstsq(deficient, b[:, 0], rcond=None)
    assert int(got[2]) == int(want[2]) == 2
    assert got[1].numpy().shape == want[1].shape == (0,)
    np.testing.assert_allclose(got[0].numpy(), want[0], rtol=1e-9)


def test_frexp_exponent_and_heaviside_values():
    t = gk.tensor(np.array([-3.0, 0.0, 0.75, 1e10]))
    m, e = np.frexp(t)
    wm, we = np.frexp(t.numpy())
    np.testing.assert_array_equal(m.numpy(), wm)
    np.testing.assert_array_equal(e.numpy(), we)
    x1 = np.array([-np.inf, -1.0, 0.0, 2.0, np.inf, np.nan])
    np.testing.assert_array_equal(np.heaviside(gk.tensor(x1), 0.5).numpy(), np.heaviside(x1, 0.5))


def test_trim_zeros_2d_and_all_zero():
    m = np.zeros((4, 5))
    m[1:3, 1:4] = RNG.uniform(1, 2, (2, 3))
    m[1, 1] = 0.0                                    # an inner zero stays
    np.testing.assert_array_equal(np.trim_zeros(gk.tensor(m)).numpy(), np.trim_zeros(m))
    np.testing.assert_array_equal(np.trim_zeros(gk.tensor(m), "b", axis=1).numpy(),
                                  np.trim_zeros(m, "b", axis=1))
    z = np.zeros(4)
    assert np.trim_zeros(gk.tensor(z)).numpy().shape == np.trim_zeros(z).shape


def test_unstack_and_block_3d():
    parts = np.unstack(gk.tensor(X), axis=1)
    want = np.unstack(X, axis=1)
    assert len(parts) == len(want)
    for p, w in zip(parts, want):
        np.testing.assert_array_equal(p.numpy(), w)
    cube = RNG.standard_normal((2, 2, 2))
    np.testing.assert_array_equal(np.block([[[gk.tensor(cube)], [cube]]]).numpy(),
                                  np.block([[[cube], [cube]]]))


def test_integer_results_run_on_values():
    rows = NANX[[0, 1, 3]]
    t = gk.tensor(rows, requires_grad=True)
    np.testing.assert_array_equal(np.asarray(np.nanargmax(t, axis=1)), np.nanargmax(rows, axis=1))
    assert int(np.linalg.matrix_rank(gk.tensor(SQ, requires_grad=True))) == 3
    np.testing.assert_array_equal(np.asarray(np.digitize(gk.tensor(X, requires_grad=True), [0.5])),
                                  np.digitize(X, [0.5]))


def test_refusals_say_what_cannot_be_differentiated():
    t = gk.tensor(X[0], requires_grad=True)
    with pytest.raises(TypeError, match="histogram"):
        np.histogram(t, bins=3)
    with pytest.raises(TypeError, match="interp with period"):
        np.interp(t, [0.0, 1.0], [0.0, 1.0], period=1.0)
