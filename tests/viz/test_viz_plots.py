"""gradkit.viz plots follow matplotlib's conventions (ax=, plt.gca(), return the Axes) and draw
the path that minimize / gradient_descent return with return_path=True."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.optimize as gopt
from gradkit import viz

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


def rosen(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def rosen_sum(p):          # minimize's usual form: not elementwise over a grid
    return np.sum(100.0 * (p[1:] - p[:-1] ** 2) ** 2 + (1 - p[:-1]) ** 2)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_every_plot_draws_into_the_given_ax_and_returns_it():
    fig, axes = plt.subplots(2, 2)
    a = viz.plot_gradient_field("x**2 + 3*y**2", (-1, 1), (-1, 1), n=6, ax=axes[0, 0])
    b = viz.plot_optimization_path(rosen, [[-1, 1], [0, 0.5], [1, 1]], ax=axes[0, 1])
    c = viz.plot_loss_curve([1.0, 0.5, 0.2], ax=axes[1, 0])
    assert (a, b, c) == (axes[0, 0], axes[0, 1], axes[1, 0])
    assert a.collections and b.lines and c.lines
    assert not axes[1, 1].has_data()
    img = np.zeros((20, 30))
    img[5:15, 10:20] = 1.0
    f = viz.plot_edges(img, "sobel", ax=axes[1, 1])
    assert f is fig and axes[1, 1].images
    assert len(fig.axes) == 5                     # plus the colorbar of the gradient field


def test_without_ax_the_current_pyplot_axes_is_used(tmp_path):
    fig = plt.figure()
    ax = viz.plot_loss_curve({"train": [1.0, 0.1, 0.01, 0.001]})
    assert ax is plt.gca() and ax.figure is fig
    assert ax.get_yscale() == "log"
    ax2 = viz.plot_optimization_path(lambda t: (t - 2) ** 2, [0.0, 1.0, 1.8, 2.0])
    assert ax2 is ax                              # drew into the same current axes
    plt.savefig(tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    fig2 = viz.plot_edges(np.eye(8), "laplacian")
    assert fig2 is plt.gcf() and fig2 is not fig and len(fig2.axes) == 2


def test_minimize_and_gradient_descent_carry_their_path():
    pytest.importorskip("scipy")
    import scipy.optimize as so
    seen = []
    so.minimize(so.rosen, [-1.2, 1.0], jac=so.rosen_der, method="BFGS",
                callback=lambda x: seen.append(x.copy()))
    res = gopt.minimize(rosen_sum, np.array([-1.2, 1.0]), method="BFGS", return_path=True)
    assert res.path.shape == (res.nit + 1, 2)
    np.testing.assert_allclose(res.path[0], [-1.2, 1.0])
    np.testing.assert_allclose(res.path[-1], res.x)
    np.testing.assert_allclose(res.path, np.vstack([[-1.2, 1.0], seen]), rtol=1e-6, atol=1e-9)
    gd = gopt.gradient_descent(lambda x: (x[0] - 1) ** 2 + 2 * x[1] ** 2, [0.0, 1.0], lr=0.1,
                               maxiter=3, return_path=True)
    # hand-computed steps: x <- x - 0.1 * (2 (x0 - 1), 4 x1)
    np.testing.assert_allclose(gd.path, [[0, 1], [0.2, 0.6], [0.36, 0.36], [0.488, 0.216]])
    assert "path" not in gopt.gradient_descent(lambda x: x ** 2, 1.0, maxiter=2)


def test_plot_optimization_path_takes_minimize_objective_and_result():
    pytest.importorskip("scipy")
    res = gopt.minimize(rosen_sum, np.array([-1.2, 1.0]), method="BFGS", return_path=True)
    ax = viz.plot_optimization_path(rosen_sum, res)
    path_line = [ln for ln in ax.lines if ln.get_label() == "iterates"][0]
    np.testing.assert_allclose(np.c_[path_line.get_xdata(), path_line.get_ydata()], res.path)
    levels = np.asarray(ax.collections[0].levels)
    # a valley: levels auto log-spaced, so the gaps grow geometrically
    gaps = np.diff(levels[1:])
    assert gaps[-1] / gaps[0] > 100
    assert viz.plot_optimization_path(rosen, res, ax=plt.figure().gca(), log=False) is not None
    with pytest.raises(ValueError, match="return_path=True"):
        viz.plot_optimization_path(rosen_sum, gopt.minimize(rosen_sum, np.array([-1.2, 1.0])))


def test_contour_values_match_the_objective_pointwise():
    from gradkit.viz._plots import _grid_values
    X, Y = np.meshgrid(np.linspace(-2, 2, 7), np.linspace(-1, 3, 5))
    want = (1 - X) ** 2 + 100 * (Y - X ** 2) ** 2
    for f in (rosen, rosen_sum, lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
              "(1 - x)**2 + 100*(y - x**2)**2"):
        f = viz._plots._callable(f)
        np.testing.assert_allclose(_grid_values(f, [X, Y]), want, rtol=1e-12)


def test_a_bowl_keeps_linear_levels():
    ax = viz.plot_optimization_path(lambda p: p[0] ** 2 + p[1] ** 2, [[1.0, 1.0], [0.0, 0.0]])
    levels = np.asarray(ax.collections[0].levels)
    np.testing.assert_allclose(np.diff(levels), np.diff(levels)[0])
