"""numeric.gradient: numpy.gradient compatibility, higher orders, periodic edges, tensors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import numeric
from gradkit.autograd.gradcheck import gradcheck


def _random_case(rng: np.random.Generator) -> tuple[np.ndarray, tuple, dict]:
    ndim = int(rng.integers(1, 4))
    edge_order = int(rng.integers(1, 3))
    shape = tuple(int(s) for s in rng.integers(edge_order + 1, 7, size=ndim))
    f = rng.standard_normal(shape) * 10 ** rng.uniform(-3, 3)
    if rng.random() < 0.2:
        f = rng.integers(-50, 50, size=shape)                 # integers are promoted to float64
    form = rng.choice(["none", "int_axis", "neg_axis", "tuple_axis"])
    axis = None
    axes = list(range(ndim))
    if form == "int_axis":
        axis = int(rng.integers(0, ndim))
        axes = [axis]
    elif form == "neg_axis":
        axis = -int(rng.integers(1, ndim + 1))
        axes = [ndim + axis]
    elif form == "tuple_axis":
        axes = sorted(rng.choice(ndim, size=int(rng.integers(1, ndim + 1)), replace=False).tolist())
        axis = tuple(axes)
    kind = rng.choice(["default", "scalar", "per_axis"])
    if kind == "default":
        spacing: tuple = ()
    elif kind == "scalar":
        spacing = (float(rng.uniform(0.1, 3)),)
    else:
        spacing = []
        for ax in axes:
            r = rng.random()
            n = shape[ax]
            if r < 0.3:
                spacing.append(float(rng.uniform(0.1, 3)))
            elif r < 0.5:
                spacing.append(np.arange(n) * 3)              # uniform integer coordinates
            else:
                spacing.append(np.cumsum(rng.uniform(0.1, 2, size=n)) - 4)   # non-uniform
        spacing = tuple(spacing)
    return f, spacing, {"axis": axis, "edge_order": edge_order}


@pytest.mark.parametrize("seed", range(300))
def test_matches_numpy_gradient_on_random_cases(seed: int) -> None:
    rng = np.random.default_rng(seed)
    f, spacing, kw = _random_case(rng)
    expected = np.gradient(f, *spacing, **kw)
    got = numeric.gradient(f, *spacing, **kw)
    assert type(got) is type(expected)
    if isinstance(expected, tuple):
        assert len(got) == len(expected)
    for g, e in zip(got if isinstance(got, tuple) else [got], expected if isinstance(expected, tuple)
                    else [expected]):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12 * np.abs(e).max())


@pytest.mark.parametrize("dtype", [np.float32, np.complex128, np.int8, np.uint16, np.float16])
def test_dtypes_match_numpy(dtype: type) -> None:
    rng = np.random.default_rng(1)
    f = (rng.standard_normal((5, 6)) * 20).astype(dtype) if dtype != np.complex128 else \
        rng.standard_normal((5, 6)) + 1j * rng.standard_normal((5, 6))
    x = np.cumsum(rng.uniform(0.5, 1.5, 6))
    for eo in (1, 2):
        for args in [(), (0.5,), (2, x)]:
            exp = np.gradient(f, *args, edge_order=eo)
            got = numeric.gradient(f, *args, edge_order=eo)
            for g, e in zip(got, exp):
                assert g.dtype == e.dtype
                np.testing.assert_allclose(g, e, rtol=1e-12 if g.dtype.itemsize >= 8 else 1e-3)


def test_seed_elevation_example() -> None:
    z = np.array([[100, 110, 120], [90, 100, 110], [80, 90, 100]])
    dy, dx = numeric.gradient(z)
    np.testing.assert_array_equal(dy, np.full((3, 3), -10.0))
    np.testing.assert_array_equal(dx, np.full((3, 3), 10.0))
    dy2, dx2 = numeric.gradient(z, 30.0)                        # 30 m grid: slope per metre
    np.testing.assert_allclose(dx2, 1 / 3)


def test_errors_match_numpy() -> None:
    f = np.ones((4, 5))
    cases = [((1.0, 2.0, 3.0), {}, TypeError), ((np.ones((4, 5)), 1.0), {}, ValueError),
             ((np.arange(3), 1.0), {}, ValueError), ((), {"edge_order": 3}, ValueError)]
    for args, kw, exc in cases:
        with pytest.raises(exc):
            np.gradient(f, *args, **kw)
        with pytest.raises(exc):
            numeric.gradient(f, *args, **kw)
    with pytest.raises(ValueError, match="too small"):
        numeric.gradient(np.ones(2), edge_order=2)
    with pytest.raises(ValueError, match="accuracy"):
        numeric.gradient(f, accuracy=3)


def test_datetime_input_passes_through() -> None:
    t = np.array(["2024-01-01", "2024-01-03", "2024-01-07"], dtype="datetime64[D]")
    np.testing.assert_array_equal(numeric.gradient(t), np.gradient(t))


def test_non_monotonic_coordinates_warn() -> None:
    f = np.arange(5.0) ** 2
    with pytest.warns(RuntimeWarning, match="coordinates"), np.errstate(all="ignore"):
        numeric.gradient(f, np.array([1.0, 1.0, 1.0, 1.0, 1.0]) * [0, 1, 1, 2, 3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        numeric.gradient(f, np.array([4.0, 3.0, 1.0, 0.5, 0.0]))   # decreasing is fine


def _observed_order(accuracy: int, edge_order: int, uniform: bool, where: str) -> float:
    errs = []
    for n in (80, 160):
        if uniform:
            x = np.linspace(0.0, 1.0, n)
        else:
            s = np.linspace(0.0, 1.0, n)
            x = s + 0.15 * np.sin(2 * np.pi * s) / (2 * np.pi)   # smooth stretching
        g = numeric.gradient(np.exp(2 * x) * np.sin(3 * x), x, accuracy=accuracy, edge_order=edge_order)
        err = np.abs(g - (2 * np.sin(3 * x) + 3 * np.cos(3 * x)) * np.exp(2 * x))
        m = accuracy // 2
        errs.append(err[0] if where == "edge" else err[m:-m].max())
    return float(np.log2(errs[0] / errs[1]))


@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize("accuracy", [2, 4, 6])
def test_interior_order_of_accuracy(accuracy: int, uniform: bool) -> None:
    assert _observed_order(accuracy, accuracy, uniform, "interior") == pytest.approx(accuracy, abs=0.5)


@pytest.mark.parametrize("accuracy,edge_order", [(2, 1), (2, 2), (4, 1), (4, 3), (4, 4), (6, 2), (6, 5),
                                                 (6, 6)])
def test_edge_order_of_accuracy(accuracy: int, edge_order: int) -> None:
    for uniform in (True, False):
        assert _observed_order(accuracy, edge_order, uniform, "edge") >= edge_order - 0.35


def test_higher_accuracy_is_exact_on_polynomials() -> None:
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.uniform(0.5, 1.5, 12))
    for acc in (4, 6):
        p = np.polynomial.Polynomial(rng.standard_normal(acc + 1))
        g = numeric.gradient(p(x), x, accuracy=acc, edge_order=acc)
        np.testing.assert_allclose(g, p.deriv()(x), rtol=1e-8, atol=1e-8 * np.abs(p.deriv()(x)).max())


def test_periodic_boundary() -> None:
    n = 48
    x = np.arange(n) * 2 * np.pi / n
    f = np.sin(x) + 0.5 * np.cos(3 * x)
    df = np.cos(x) - 1.5 * np.sin(3 * x)
    errs = [np.abs(numeric.gradient(f, 2 * np.pi / n, accuracy=a, boundary="periodic") - df).max()
            for a in (2, 4, 6)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-4
    # Explicit formula at the wrap point, 2nd order: (f[1] - f[-1]) / 2h.
    g = numeric.gradient(f, 0.5, boundary="periodic")
    assert g[0] == pytest.approx((f[1] - f[-1]) / 1.0)
    # Non-uniform coordinates need the period; with it, the stencil wraps around.
    xs = np.sort(np.random.default_rng(0).uniform(0, 2 * np.pi, 60))
    with pytest.raises(ValueError, match="period"):
        numeric.gradient(np.sin(xs), xs, boundary="periodic")
    g = numeric.gradient(np.sin(xs), xs, boundary="periodic", period=2 * np.pi, accuracy=4)
    np.testing.assert_allclose(g, np.cos(xs), atol=2e-2)


def test_2d_higher_accuracy_per_axis_spacing() -> None:
    x = np.linspace(0, 1, 30)
    y = np.cumsum(np.linspace(1, 2, 25)) / 40
    X, Y = np.meshgrid(x, y, indexing="ij")
    f = np.sin(2 * X) * np.cos(Y)
    gx, gy = numeric.gradient(f, x, y, accuracy=6, edge_order=6)
    np.testing.assert_allclose(gx, 2 * np.cos(2 * X) * np.cos(Y), atol=1e-6)
    np.testing.assert_allclose(gy, -np.sin(2 * X) * np.sin(Y), atol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"edge_order": 2}, {"accuracy": 4, "edge_order": 3},
                                {"accuracy": 6, "edge_order": 1}, {"boundary": "periodic", "accuracy": 4}])
def test_tensor_input_is_differentiable(kw: dict) -> None:
    rng = np.random.default_rng(7)
    x = np.sort(rng.uniform(0, 3, 8))
    t = gk.tensor(rng.standard_normal((8, 7)), requires_grad=True)

    def f(t: gk.Tensor) -> tuple:
        return numeric.gradient(t, x, 0.3, period=4.0, **kw)

    assert gradcheck(f, (t,))
    expected = numeric.gradient(t.detach().numpy(), x, 0.3, period=4.0, **kw)
    for g, e in zip(f(t), expected):
        assert isinstance(g, gk.Tensor) and g.requires_grad
        np.testing.assert_allclose(g.detach().numpy(), e, rtol=1e-13, atol=1e-13)
    loss = sum((g ** 2).sum() for g in f(t))
    loss.backward()
    assert t.grad is not None and t.grad.shape == t.shape


def test_tensor_integer_input_promoted() -> None:
    t = gk.tensor([[100, 110, 120], [90, 100, 110], [80, 90, 100]])
    dy, dx = numeric.gradient(t)
    assert dy.dtype == gk.float64
    np.testing.assert_array_equal(dx.numpy(), np.full((3, 3), 10.0))


def test_numpy_fast_path_allocates_only_the_outputs() -> None:
    import tracemalloc
    f = np.random.default_rng(0).standard_normal((512, 512))
    for kw in ({"edge_order": 2}, {"accuracy": 4, "edge_order": 2}):
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        out = numeric.gradient(f, **kw)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        assert len(out) == 2
        # The two outputs, plus (4th order) one temporary the size of an output at most.
        assert peak <= (2 if kw.get("accuracy", 2) == 2 else 3) * f.nbytes + (1 << 20)
