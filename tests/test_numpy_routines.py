"""NumPy functions dispatched by gradkit/_api/numpy_routines.py: values equal NumPy's on plain
arrays, gradients through gradkit.func.grad equal central finite differences of NumPy's own
function (float64)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk

pytestmark = pytest.mark.filterwarnings(
    "ignore:Arrays of 2-dimensional vectors:DeprecationWarning")

RNG = np.random.default_rng(0)


def _r(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def _distinct(*shape: int) -> np.ndarray:
    """Well separated values (no ties near the finite-difference steps)."""
    n = int(np.prod(shape))
    return (RNG.permutation(n) * 0.37 + 0.1 + RNG.uniform(0, 0.05, n)).reshape(shape)


# name, function of the differentiated arrays, the arrays
CASES: list[tuple[str, Callable[..., Any], list[np.ndarray]]] = [
    ("flipud", np.flipud, [_r(3, 4)]),
    ("fliplr", np.fliplr, [_r(3, 4)]),
    ("rot90", np.rot90, [_r(3, 4)]),
    ("rot90_k3_axes", lambda x: np.rot90(x, -3, axes=(2, 0)), [_r(2, 3, 4)]),
    ("rot90_k2", lambda x: np.rot90(x, 2), [_r(3, 4)]),
    ("append_flat", lambda x, y: np.append(x, y), [_r(2, 3), _r(4)]),
    ("append_axis", lambda x, y: np.append(x, y, axis=0), [_r(2, 3), _r(1, 3)]),
    ("linspace", lambda a, b: np.linspace(a, b, 7), [_r(), _r()]),
    ("linspace_arrays", lambda a, b: np.linspace(a, b, 5, axis=1), [_r(3), _r(3)]),
    ("linspace_noend", lambda a, b: np.linspace(a, b, 4, endpoint=False), [_r(2), _r(2)]),
    ("linspace_retstep", lambda a, b: np.linspace(a, b, 6, retstep=True)[1], [_r(), _r()]),
    ("gradient", np.gradient, [_r(7)]),
    ("gradient_2d_spacing", lambda f: np.gradient(f, 0.5, axis=1, edge_order=2), [_r(4, 5)]),
    ("column_stack", lambda x, y: np.column_stack([x, y]), [_r(4), _r(4, 2)]),
    ("dstack", lambda x, y: np.dstack([x, y]), [_r(3), _r(3)]),
    ("atleast_3d_1d", np.atleast_3d, [_r(4)]),
    ("atleast_3d_2d", np.atleast_3d, [_r(2, 3)]),
    ("atleast_3d_0d", np.atleast_3d, [_r()]),
    ("rollaxis", lambda x: np.rollaxis(x, 2), [_r(2, 3, 4)]),
    ("rollaxis_start", lambda x: np.rollaxis(x, 0, 3), [_r(2, 3, 4)]),
    ("cross3", np.cross, [_r(4, 3), _r(4, 3)]),
    ("cross2", np.cross, [_r(4, 2), _r(4, 2)]),
    ("cross23", np.cross, [_r(4, 2), _r(4, 3)]),
    ("cross32", np.cross, [_r(3), _r(2)]),
    ("cross_axes", lambda x, y: np.cross(x, y, axisa=0, axisb=1, axisc=0), [_r(3, 2), _r(2, 3)]),
    ("kron", np.kron, [_r(2, 3), _r(3, 2)]),
    ("kron_ndim", np.kron, [_r(3), _r(2, 2)]),
    ("select", lambda x, y: np.select([x > 0.3, y < 0], [x, y * 2], default=-1.0),
     [_r(5), _r(5)]),
    ("nansum", lambda x: np.nansum(np.where(x > 1.0, np.nan, x), axis=0), [_r(4, 3)]),
    ("nanprod", lambda x: np.nanprod(np.where(x > 1.0, np.nan, x), axis=1), [_r(4, 3)]),
    ("nanmax", lambda x: np.nanmax(np.where(x > 3.0, np.nan, x), axis=1), [_distinct(4, 3)]),
    ("nanmin", lambda x: np.nanmin(np.where(x > 3.0, np.nan, x)), [_distinct(4, 3)]),
    ("ptp", lambda x: np.ptp(x, axis=0), [_distinct(4, 3)]),
    ("average", lambda x: np.average(x, axis=1), [_r(3, 4)]),
    ("average_weights", lambda x, w: np.average(x, axis=0, weights=w),
     [_r(4, 3), RNG.uniform(0.5, 1, 4)]),
    ("average_returned", lambda x, w: np.average(x, weights=w, returned=True)[1],
     [_r(3), RNG.uniform(0.5, 1, 3)]),
    ("median_odd", np.median, [_distinct(5)]),
    ("median_even", np.median, [_distinct(6)]),
    ("median_axis", lambda x: np.median(x, axis=0, keepdims=True), [_distinct(4, 3)]),
    ("median_axes", lambda x: np.median(x, axis=(0, 2)), [_distinct(2, 3, 4)]),
    ("quantile", lambda x: np.quantile(x, [0.1, 0.5, 0.77], axis=1), [_distinct(3, 6)]),
    ("percentile", lambda x: np.percentile(x, 40.0, keepdims=True), [_distinct(3, 4)]),
    ("cov", np.cov, [_r(3, 5)]),
    ("cov_y_rowvar", lambda x, y: np.cov(x, y, rowvar=False, ddof=0), [_r(5, 2), _r(5)]),
    ("cov_weights", lambda x: np.cov(x, fweights=[1, 2, 1, 3], aweights=[0.5, 1, 2, 1]),
     [_r(2, 4)]),
    ("corrcoef", np.corrcoef, [_r(3, 6)]),
    ("convolve_full", np.convolve, [_r(6), _r(3)]),
    ("convolve_same", lambda a, v: np.convolve(a, v, "same"), [_r(3), _r(6)]),
    ("convolve_valid", lambda a, v: np.convolve(a, v, "valid"), [_r(6), _r(4)]),
    ("correlate_full", lambda a, v: np.correlate(a, v, "full"), [_r(6), _r(3)]),
    ("correlate_same_swapped", lambda a, v: np.correlate(a, v, "same"), [_r(3), _r(6)]),
    ("correlate_same_even", lambda a, v: np.correlate(a, v, "same"), [_r(7), _r(4)]),
    ("correlate_valid", np.correlate, [_r(5), _r(5)]),
    ("correlate_full_swapped", lambda a, v: np.correlate(a, v, "full"), [_r(2), _r(5)]),
    ("polyval", np.polyval, [_r(4), _r(5)]),
    ("polyval_0", np.polyval, [_r(3), np.array([0.0, 1.5])]),
    ("trapezoid", lambda y: np.trapezoid(y, dx=0.5), [_r(6)]),
    ("trapezoid_x", lambda y, x: np.trapezoid(y, x, axis=0), [_r(5, 2), np.sort(_r(5))]),
    ("diagflat", lambda v: np.diagflat(v, 1), [_r(2, 2)]),
    ("vander", lambda x: np.vander(x, 4), [np.array([0.0, 0.5, -1.2])]),
    ("vander_increasing", lambda x: np.vander(x, increasing=True), [_r(3)]),
    ("unwrap", np.unwrap, [np.array([0.0, 3.0, 6.5, 1.0, -2.5])]),
    ("partition", lambda x: np.partition(x, 2), [_distinct(6)]),
    ("einsum_sublist", lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]), [_r(2, 3), _r(3, 4)]),
    ("einsum_sublist_implicit", lambda a, b: np.einsum(a, [0, 1], b, [1, 2]),
     [_r(2, 3), _r(3, 4)]),
    ("einsum_sublist_ellipsis", lambda a: np.einsum(a, [Ellipsis, 0, 0], [Ellipsis, 0]),
     [_r(2, 3, 3)]),
    ("std_0d", np.std, [np.array(1.5)]),
    ("var_0d", lambda x: np.var(x, ddof=0), [np.array(1.5)]),
]


def _first(out: Any) -> Any:
    return out[0] if isinstance(out, (tuple, list)) else out


def _data(x: Any) -> np.ndarray:
    return np.asarray(x._data if isinstance(x, gk.Tensor) else x)


def _fd_grads(f: Callable[..., Any], arrays: list[np.ndarray], w: np.ndarray,
              eps: float = 1e-6) -> list[np.ndarray]:
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        for j in np.ndindex(a.shape):
            hi = [x.copy() for x in arrays]
            lo = [x.copy() for x in arrays]
            hi[i][j] += eps
            lo[i][j] -= eps
            g[j] = (np.sum(np.asarray(f(*hi)) * w) - np.sum(np.asarray(f(*lo)) * w)) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("name,f,arrays", CASES, ids=[c[0] for c in CASES])
def test_value_matches_numpy(name: str, f: Callable[..., Any], arrays: list[np.ndarray]) -> None:
    expected = f(*arrays)
    got = f(*[gk.tensor(a) for a in arrays])
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        pairs = list(zip(got, expected))
    else:
        pairs = [(got, expected)]
    for g, e in pairs:
        assert isinstance(g, gk.Tensor)
        e = np.asarray(e)
        assert _data(g).shape == e.shape
        assert _data(g).dtype == e.dtype
        np.testing.assert_allclose(_data(g), e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,f,arrays", CASES, ids=[c[0] for c in CASES])
def test_grad_matches_finite_differences(name: str, f: Callable[..., Any],
                                         arrays: list[np.ndarray]) -> None:
    w = np.random.default_rng(1).standard_normal(np.shape(f(*arrays)))
    loss = lambda *xs: (gk.as_tensor(f(*xs)) * gk.tensor(w)).sum()  # noqa: E731
    argnums = tuple(range(len(arrays)))
    got = gk.func.grad(loss, argnums=argnums)(*[gk.tensor(a) for a in arrays])
    for g, e in zip(got, _fd_grads(f, arrays, w)):
        np.testing.assert_allclose(_data(g), e, rtol=1e-5, atol=1e-6)


def test_median_even_splits_the_gradient_between_the_middle_values() -> None:
    g = gk.func.grad(np.median)(gk.tensor([4.0, 1.0, 3.0, 2.0]))
    np.testing.assert_array_equal(_data(g), [0.0, 0.0, 0.5, 0.5])


def test_median_and_quantile_give_nan_for_a_slice_with_nan() -> None:
    x = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 5.0]])
    np.testing.assert_array_equal(_data(np.median(gk.tensor(x), axis=1)),
                                  np.median(x, axis=1))
    np.testing.assert_array_equal(_data(np.quantile(gk.tensor(x), 0.3, axis=1)),
                                  np.quantile(x, 0.3, axis=1))


def test_median_of_integers_is_float64() -> None:
    x = np.array([3, 1, 4, 1, 5, 9])
    got = np.median(gk.tensor(x))
    assert _data(got).dtype == np.float64 and float(_data(got)) == np.median(x)


@pytest.mark.parametrize("decimals", [0, 1, 2, -1])
def test_round_is_half_to_even_with_zero_gradient(decimals: int) -> None:
    x = np.array([0.5, 1.5, 2.5, -0.5, 0.125, 0.375, 15.0, 25.0, 1.2345])
    for fn in (np.round, np.around):
        got = fn(gk.tensor(x), decimals)
        np.testing.assert_array_equal(_data(got), fn(x, decimals))
    g = gk.func.grad(lambda t: np.round(t, decimals).sum())(gk.tensor(x))
    np.testing.assert_array_equal(_data(g), np.zeros_like(x))


def test_round_of_integers_is_numpys() -> None:
    x = np.array([15, 25, -35])
    np.testing.assert_array_equal(_data(np.round(gk.tensor(x), -1)), np.round(x, -1))


def test_nanmax_all_nan_slice_is_nan() -> None:
    x = np.array([[np.nan, np.nan], [1.0, np.nan]])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanmax(x, axis=1)
    np.testing.assert_array_equal(_data(np.nanmax(gk.tensor(x), axis=1)), expected)


def test_linspace_float32_and_integer_dtype() -> None:
    a = np.float32(0.5)
    got = np.linspace(gk.tensor(a), 3.0, 5)
    assert _data(got).dtype == np.linspace(a, 3.0, 5).dtype
    np.testing.assert_array_equal(_data(got), np.linspace(a, 3.0, 5))
    got = np.linspace(gk.tensor(-1.0, dtype=gk.float64), 7.5, 6, dtype=int)
    np.testing.assert_array_equal(_data(got), np.linspace(-1.0, 7.5, 6, dtype=int))
    step = np.linspace(gk.tensor(0.0, dtype=gk.float64), 1.0, 5, retstep=True)[1]
    assert float(_data(step)) == np.linspace(0.0, 1.0, 5, retstep=True)[1]


@pytest.mark.parametrize("fn", [np.iscomplex, np.isreal, np.iscomplexobj, np.isrealobj])
def test_type_predicates_run_on_tensors_that_require_grad(fn: Callable[..., Any]) -> None:
    for x in (np.array([1.0, 2.0]), np.array([1.0 + 0j, 2.0 + 1j])):
        t = gk.tensor(x, requires_grad=True)
        np.testing.assert_array_equal(np.asarray(_data(fn(t))), fn(x))


def test_real_if_close() -> None:
    x = np.array([1.0 + 1e-15j, 2.0 - 1e-16j])
    t = gk.tensor(x, requires_grad=True)
    got = np.real_if_close(t)
    assert _data(got).dtype == np.real_if_close(x).dtype
    np.testing.assert_array_equal(_data(got), np.real_if_close(x))
    g = gk.func.grad(lambda v: np.real_if_close(v).sum())(gk.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(_data(g), [1.0, 1.0])
    far = np.array([1.0 + 1e-3j])
    assert _data(np.real_if_close(gk.tensor(far))).dtype == np.complex128


@pytest.mark.parametrize("fn,args", [
    (np.allclose, ()), (np.isclose, ()), (np.array_equal, ()), (np.array_equiv, ()),
    (np.shape, None), (np.ndim, None), (np.size, None), (np.result_type, None),
    (np.iscomplexobj, None),
])
def test_plain_answers_on_tensors_that_require_grad(fn: Callable[..., Any], args: Any) -> None:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = gk.tensor(x, requires_grad=True)
    if args is None:
        assert fn(t) == fn(x)
    else:
        np.testing.assert_array_equal(np.asarray(_data(fn(t, t + 1e-12))), fn(x, x + 1e-12))


def test_einsum_sublist_matches_the_string_form_and_rejects_bad_labels() -> None:
    a, b = _r(2, 3), _r(3, 4)
    got = np.einsum(gk.tensor(a), [0, 1], gk.tensor(b), [1, 2], [0, 2])
    np.testing.assert_allclose(_data(got), np.einsum("ij,jk->ik", a, b), rtol=1e-12)
    with pytest.raises(ValueError):
        np.einsum(gk.tensor(a), [0, 99])


def test_errors_follow_numpy() -> None:
    with pytest.raises(ValueError):
        np.fliplr(gk.tensor([1.0, 2.0]))
    with pytest.raises(ValueError):
        np.cross(gk.tensor(_r(4)), gk.tensor(_r(4)))
    with pytest.raises(ZeroDivisionError):
        np.average(gk.tensor([1.0, 2.0]), weights=[1.0, -1.0])
    with pytest.raises(ValueError):
        np.convolve(gk.tensor([1.0]), gk.tensor(np.zeros(0)))
    with pytest.raises(NotImplementedError):
        np.quantile(gk.tensor([1.0, 2.0], requires_grad=True), 0.5, method="nearest")


@pytest.mark.parametrize("name,f,arrays", CASES, ids=[c[0] for c in CASES])
def test_float32_keeps_numpys_dtype(name: str, f: Callable[..., Any],
                                    arrays: list[np.ndarray]) -> None:
    a32 = [a.astype(np.float32) for a in arrays]
    expected, got = f(*a32), f(*[gk.tensor(a) for a in a32])
    if not isinstance(expected, (tuple, list)):
        expected, got = [expected], [got]
    for g, e in zip(got, expected):
        e = np.asarray(e)
        assert _data(g).dtype == e.dtype
        np.testing.assert_allclose(_data(g), e, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("name,f,arrays", CASES, ids=[c[0] for c in CASES])
def test_forward_mode_matches_finite_differences(name: str, f: Callable[..., Any],
                                                 arrays: list[np.ndarray]) -> None:
    tangents = [np.random.default_rng(2).standard_normal(a.shape) for a in arrays]
    _, jv = gk.func.jvp(lambda *xs: gk.as_tensor(f(*xs)), tuple(gk.tensor(a) for a in arrays),
                        tuple(gk.tensor(t) for t in tangents))
    eps = 1e-6
    hi = f(*[a + eps * t for a, t in zip(arrays, tangents)])
    lo = f(*[a - eps * t for a, t in zip(arrays, tangents)])
    expected = (np.asarray(hi) - np.asarray(lo)) / (2 * eps)
    np.testing.assert_allclose(_data(jv), expected, rtol=1e-5, atol=1e-6)


def test_append_of_a_list_of_tensors_stays_on_the_graph() -> None:
    # a list holding tensors is built into an array on the graph, as NumPy would build one
    w = np.array([1.0, 2.0, 3.0, 4.0])
    f = lambda a, b: (np.append([a, 2.0 * a], b) * gk.tensor(w)).sum()  # noqa: E731
    ga, gb = gk.func.grad(f, argnums=(0, 1))(gk.tensor(1.5), gk.tensor([0.5, -1.0]))
    assert float(_data(ga)) == 1.0 + 2.0 * 2.0
    np.testing.assert_array_equal(_data(gb), [3.0, 4.0])


def test_out_is_written_for_median_ptp_and_quantile() -> None:
    x = _distinct(3, 4)
    for fn, args in ((np.median, ()), (np.ptp, ()), (np.quantile, (0.3,)),
                     (np.percentile, (30.0,))):
        out = gk.zeros(4, dtype=gk.float64)
        res = fn(gk.tensor(x), *args, axis=0, out=out)
        assert res is out
        np.testing.assert_allclose(_data(out), fn(x, *args, axis=0), rtol=1e-12)


def test_cov_with_no_degrees_of_freedom_warns_and_is_inf_as_in_numpy() -> None:
    x = np.array([[1.0], [2.0]])
    with pytest.warns(RuntimeWarning):
        expected = np.cov(x)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
        got = np.cov(gk.tensor(x))
    np.testing.assert_array_equal(_data(got), expected)


@pytest.mark.parametrize("n,m", [(2, 3), (3, 2), (2, 5), (4, 4), (1, 3), (6, 1), (7, 2)])
@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_correlate_and_convolve_complex_every_length_order(n: int, m: int, mode: str) -> None:
    rng = np.random.default_rng(n * 10 + m)
    a = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    v = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    for fn in (np.correlate, np.convolve):
        got = fn(gk.tensor(a), gk.tensor(v), mode)
        np.testing.assert_allclose(_data(got), fn(a, v, mode), rtol=1e-12, atol=1e-12)


def test_rot90_errors_are_numpys() -> None:
    for x, axes in ((np.ones(2), (0, 1)), (np.ones((2, 2)), (1, 1)), (np.ones((2, 2)), (0, 2))):
        with pytest.raises(ValueError) as expected:
            np.rot90(x, axes=axes)
        with pytest.raises(ValueError, match=str(expected.value).replace("(", r"\(")
                           .replace(")", r"\)").replace(".", r"\.")):
            np.rot90(gk.tensor(x), axes=axes)


_X5 = _r(5)
SECOND_ORDER = [
    ("cov", lambda x: np.cov(x.reshape(2, 3)), _r(6)),
    ("corrcoef", lambda x: np.corrcoef(x.reshape(2, 3)), _r(6)),
    ("polyval_x", lambda x: np.polyval(np.array([0.5, -1.0, 2.0, 0.3]), x), _r(3)),
    ("average_weights", lambda w: np.average(_X5, weights=w), RNG.uniform(0.5, 1, 5)),
    ("convolve", lambda x: np.convolve(x, x[::-1] * 2.0, "same"), _r(4)),
    ("kron", lambda x: np.kron(x, x), _r(3)),
    ("cross", lambda x: np.cross(x, x ** 2), _r(3)),
]


@pytest.mark.parametrize("name,f,x", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_hessian_matches_second_differences(name: str, f: Callable[..., Any],
                                            x: np.ndarray) -> None:
    w = np.random.default_rng(3).standard_normal(np.shape(f(x)))
    loss = lambda v: np.sum(np.asarray(f(v)) * w)  # noqa: E731
    got = gk.func.hessian(lambda v: (gk.as_tensor(f(v)) * gk.tensor(w)).sum())(gk.tensor(x))
    eps, n = 1e-4, x.size
    expected = np.zeros((n, n))
    def at(i: int, j: int, si: float, sj: float) -> float:
        y = x.copy()
        y[i] += si * eps
        y[j] += sj * eps
        return loss(y)

    for i in range(n):
        for j in range(n):
            expected[i, j] = (at(i, j, 1, 1) - at(i, j, 1, -1) - at(i, j, -1, 1)
                              + at(i, j, -1, -1)) / (4 * eps ** 2)
    np.testing.assert_allclose(_data(got), expected, rtol=1e-4, atol=1e-5)


def test_einsum_honours_out() -> None:
    """``out=`` receives the result (a gradkit tensor in place, or an ndarray when no gradient
    is needed); it used to be dropped silently."""
    a, b = gk.tensor(np.arange(6.0).reshape(2, 3)), gk.tensor(np.arange(6.0).reshape(3, 2))
    want = np.arange(6.0).reshape(2, 3) @ np.arange(6.0).reshape(3, 2)
    o = gk.zeros(2, 2, dtype=gk.float64)
    assert np.einsum("ij,jk->ik", a, b, out=o) is o
    np.testing.assert_array_equal(o.numpy(), want)
    o2 = np.zeros((2, 2))
    np.einsum(a, [0, 1], b, [1, 2], [0, 2], out=o2)
    np.testing.assert_array_equal(o2, want)
