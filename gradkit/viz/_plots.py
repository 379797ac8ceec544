"""Matplotlib plots: gradient fields, optimization paths, loss curves, edge maps.

matplotlib is optional (``pip install matplotlib``). The functions follow matplotlib's
conventions: each takes ``ax=`` and draws into it; without it they draw into pyplot's current
Axes (``plt.gca()``), so ``plt.show()`` or ``plt.savefig`` work as after any matplotlib call.
They return the Axes they drew into (:func:`plot_edges`, which draws two Axes, returns the
Figure). ``path=`` saves the figure as well.
"""

from __future__ import annotations

import inspect
import os
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["plot_gradient_field", "plot_optimization_path", "plot_loss_curve", "plot_edges"]

_INSTALL = "plotting needs matplotlib: pip install matplotlib"


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(_INSTALL) from e
    return plt


def _figure(**kw: Any) -> Any:
    """A pyplot-free Figure (for files written by ``render``)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(_INSTALL) from e
    return Figure(**kw)


def _axes(ax: Any) -> Any:
    return _pyplot().gca() if ax is None else ax


def _save(fig: Any, path: str | os.PathLike[str] | None) -> None:
    if path is not None:
        fig.savefig(os.fspath(path), dpi=100)


def _callable(f: Any) -> Callable[..., Any]:
    if isinstance(f, str):
        from ..symbolic import formula
        return formula(f)
    return f


def _n_args(f: Any) -> int | None:
    """How many variables ``f`` takes: a formula's variables, a function's positional
    parameters without defaults; None when it cannot be told (``*args``)."""
    if hasattr(f, "variables"):
        return len(f.variables)
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
               for p in params)


def _value_and_grads(f: Callable[..., Any], *grids: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """f on the grid and its partial derivatives by autodiff (f must be elementwise)."""
    import gradkit as gk
    ts = [gk.tensor(g, dtype=gk.float64, requires_grad=True) for g in grids]
    z = f(*ts)
    if not isinstance(z, gk.Tensor):
        z = ts[0] * 0 + float(z)
    gs = gk.autograd.grad(z.sum(), ts, allow_unused=True)
    return (z.detach().numpy(),
            [np.zeros_like(g) if d is None else d.numpy() for g, d in zip(grids, gs)])


def _scalar(v: Any) -> float:
    a = np.asarray(v.detach().numpy() if hasattr(v, "detach") else v, dtype=float)
    if a.size != 1:
        raise ValueError(f"the objective returned {a.size} values for one point; it must return one")
    return float(a.reshape(()))


def _grid_values(f: Callable[..., Any], grids: Sequence[np.ndarray]) -> np.ndarray:
    """``f`` on a grid: ``f(x, y)`` written elementwise, or ``minimize``'s ``f(p)`` with ``p``
    a vector (tried on the stacked grid, checked against single points, else point by point)."""
    k = len(grids)
    if _n_args(f) == k and k > 1:
        return _value_and_grads(f, *grids)[0]
    shape = grids[0].shape
    flat = np.stack([g.ravel() for g in grids])             # (k, npoints)
    samples = [0, flat.shape[1] // 3, flat.shape[1] - 1]
    exact = [_scalar(f(flat[:, i].copy())) for i in samples]
    try:
        import gradkit as gk
        with np.errstate(all="ignore"):
            z = f(gk.tensor(flat) if k > 1 else gk.tensor(flat[0]))
        z = np.asarray(z.detach().numpy() if hasattr(z, "detach") else z, dtype=float)
        if z.shape == (flat.shape[1],) and np.allclose(z[samples], exact, rtol=1e-9, atol=1e-12,
                                                       equal_nan=True):
            return z.reshape(shape)
    except Exception:       # not vectorisable (sums over p, p @ A, ...): one point at a time
        pass
    return np.array([_scalar(f(flat[:, i].copy())) for i in range(flat.shape[1])]).reshape(shape)


def _log_levels(Z: np.ndarray, n: int) -> np.ndarray | None:
    """Log-spaced levels above the minimum for valleys (values spanning decades), else None."""
    z = Z[np.isfinite(Z)]
    if z.size == 0:
        return None
    d = z - z.min()
    top = d.max()
    low = np.percentile(d[d > 0], 1) if (d > 0).any() else 0.0
    if top <= 0 or low <= 0:
        return None
    return z.min() + np.concatenate([[0.0], np.geomspace(low, top, n - 1)])


def _wants_log(Z: np.ndarray) -> bool:
    z = Z[np.isfinite(Z)]
    if z.size == 0:
        return False
    d = z - z.min()
    q = np.percentile(d, 10)
    return bool(q > 0 and d.max() / q > 100)


def plot_gradient_field(f: Any, xlim: Sequence[float] = (-2, 2), ylim: Sequence[float] = (-2, 2),
                        n: int = 20, path: str | None = None, levels: int = 20, *, ax: Any = None,
                        log: bool | None = None) -> Any:
    """Filled contours of ``f(x, y)`` with arrows of its gradient (by autodiff).

    ``f`` is a function of two tensors written elementwise, or a formula string such as
    ``"x**2 + 3*y**2"``. Draws into ``ax`` (default ``plt.gca()``) and returns it. ``log``
    spaces the levels logarithmically above the minimum (``None``: when the values span
    decades, as in a valley).
    """
    f = _callable(f)
    ax = _axes(ax)
    X, Y = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    _, (GX, GY) = _value_and_grads(f, X, Y)
    Xf, Yf = np.meshgrid(np.linspace(*xlim, 4 * n), np.linspace(*ylim, 4 * n))
    Zf, _ = _value_and_grads(f, Xf, Yf)
    lv: Any = _log_levels(Zf, levels) if log or (log is None and _wants_log(Zf)) else None
    norm = None
    if lv is None:
        lv = levels
    else:                                   # spread the colours evenly over the log levels
        from matplotlib.colors import BoundaryNorm
        norm = BoundaryNorm(lv, 256)
    cs = ax.contourf(Xf, Yf, Zf, levels=lv, cmap="viridis", alpha=0.8, norm=norm)
    ax.figure.colorbar(cs, ax=ax)
    ax.quiver(X, Y, GX, GY, color="white", angles="xy")
    ax.set(xlabel="x", ylabel="y", title="f and its gradient")
    _save(ax.figure, path)
    return ax


def _path_points(path_or_result: Any) -> np.ndarray:
    for attr in ("path", "allvecs", "history"):
        if hasattr(path_or_result, attr) or (isinstance(path_or_result, dict) and attr in path_or_result):
            v = path_or_result[attr] if isinstance(path_or_result, dict) else getattr(path_or_result, attr)
            if v is None:
                continue
            pts = np.asarray(v, dtype=float)
            return pts.reshape(-1, 1) if pts.ndim == 1 else pts.reshape(len(pts), -1)
    if hasattr(path_or_result, "x"):
        raise ValueError("the result carries no path: pass return_path=True to minimize / "
                         "gradient_descent (or retall=True to scipy.optimize), or the points")
    pts = np.asarray(path_or_result, dtype=float)
    return pts.reshape(-1, 1) if pts.ndim == 1 else pts


def plot_optimization_path(f: Any, path_or_result: Any, xlim: Sequence[float] | None = None,
                           ylim: Sequence[float] | None = None, path: str | None = None, *,
                           ax: Any = None, levels: int = 30, log: bool | None = None) -> Any:
    """The iterates of an optimizer over ``f``: a curve in 1-D, contours in 2-D.

    Parameters
    ----------
    f : callable or str
        The objective as ``minimize`` takes it, ``f(p)`` with ``p`` a vector of 1 or 2
        numbers; or ``f(x, y)`` written elementwise; or a formula string (``"x**2 + y"``).
    path_or_result : array_like or result
        An ``(iterations, n)`` array, or a result carrying its iterates: ``minimize(...,
        return_path=True)`` and ``gradient_descent(..., return_path=True)`` (``.path``), or
        SciPy's ``retall`` output (``allvecs``).
    ax : matplotlib Axes, optional
        Where to draw; ``plt.gca()`` when omitted. The Axes is returned.
    levels : int
        Number of contour levels.
    log : bool, optional
        Log-spaced levels above the minimum; ``None`` chooses them when the values on the
        plotted range span decades (a narrow valley such as Rosenbrock's).

    Examples
    --------
    >>> import matplotlib.pyplot as plt                          # doctest: +SKIP
    >>> from gradkit.optimize import minimize
    >>> rosen = lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
    >>> res = minimize(rosen, [-1.2, 1.0], method="BFGS", return_path=True)
    >>> ax = plot_optimization_path(rosen, res)                  # doctest: +SKIP
    >>> plt.show()                                               # doctest: +SKIP
    """
    f = _callable(f)
    pts = _path_points(path_or_result)
    if pts.shape[1] not in (1, 2):
        raise ValueError(f"plot_optimization_path draws 1 or 2 variables, got {pts.shape[1]}")
    ax = _axes(ax)
    lo, hi = pts.min(0), pts.max(0)
    span = np.maximum(hi - lo, 1.0)
    xl = xlim or (lo[0] - 0.3 * span[0], hi[0] + 0.3 * span[0])
    if pts.shape[1] == 1:
        xs = np.linspace(*xl, 400)
        ax.plot(xs, _grid_values(f, [xs]), color="C0", label="f")
        ax.plot(pts[:, 0], _grid_values(f, [pts[:, 0]]), "o-", color="C3", ms=4, label="iterates")
        ax.set(xlabel="x", ylabel="f(x)")
    else:
        yl = ylim or (lo[1] - 0.3 * span[1], hi[1] + 0.3 * span[1])
        X, Y = np.meshgrid(np.linspace(*xl, 120), np.linspace(*yl, 120))
        Z = _grid_values(f, [X, Y])
        lv: Any = _log_levels(Z, levels) if log or (log is None and _wants_log(Z)) else None
        norm = None
        if lv is None:
            lv = levels
        else:                               # spread the colours evenly over the log levels
            from matplotlib.colors import BoundaryNorm
            norm = BoundaryNorm(lv, 256)
        ax.contour(X, Y, Z, levels=lv, cmap="viridis", norm=norm)
        ax.plot(pts[:, 0], pts[:, 1], "o-", color="C3", ms=4, label="iterates")
        ax.plot(*pts[-1, :2], "*", color="k", ms=12, label="last")
        ax.set(xlabel="x", ylabel="y")
    ax.legend()
    ax.set_title(f"{len(pts) - 1} iterations")
    _save(ax.figure, path)
    return ax


def plot_loss_curve(history: Any, path: str | None = None, log: bool | None = None, *,
                    ax: Any = None) -> Any:
    """Loss against step: a sequence, or a dict of named sequences (``{'train': ..., 'val': ...}``).

    ``log=None`` uses a log scale when all values are positive and span over two decades.
    Draws into ``ax`` (default ``plt.gca()``) and returns it.
    """
    series = history if isinstance(history, dict) else {"loss": history}
    ax = _axes(ax)
    allv = []
    for name, vals in series.items():
        v = np.asarray([float(getattr(x, "item", lambda x=x: x)()) for x in vals])
        allv.append(v)
        ax.plot(np.arange(len(v)), v, label=str(name))
    cat = np.concatenate(allv) if allv else np.array([])
    if log is None:
        log = bool(cat.size and (cat > 0).all() and cat.max() / cat.min() > 100)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel="loss")
    ax.legend()
    _save(ax.figure, path)
    return ax


def plot_edges(img: Any, method: str = "sobel", path: str | None = None, *, ax: Any = None,
               **kw: Any) -> Any:
    """The image beside its edge map (``method``: sobel, scharr, prewitt, laplacian, canny).

    ``ax``: a pair of Axes for the image and the edges, or one Axes for the edge map alone;
    when omitted a new pyplot figure of two Axes is made (as ``plt.subplots`` does). Returns
    the Figure.
    """
    from .. import image
    a = img.detach().numpy() if hasattr(img, "detach") else np.asarray(img)
    gray = a.mean(axis=2) if a.ndim == 3 else a
    if method == "canny":
        e = image.canny(np.asarray(gray).astype(np.uint8), kw.pop("low", 50), kw.pop("high", 150), **kw)
    elif method == "laplacian":
        e = np.abs(image.laplacian(gray.astype(float), **kw))
    elif method in ("sobel", "scharr", "prewitt"):
        fn = getattr(image, method)
        e = np.hypot(fn(gray.astype(float), 1, 0, **kw), fn(gray.astype(float), 0, 1, **kw))
    else:
        raise ValueError(f"unknown edge method {method!r}: sobel, scharr, prewitt, laplacian or canny")
    if ax is None:
        fig, pair = _pyplot().subplots(1, 2, figsize=(10, 4.5))
        ax1, ax2 = pair
    elif isinstance(ax, (tuple, list, np.ndarray)):
        ax1, ax2 = ax
        fig = ax2.figure
    else:
        ax1, ax2, fig = None, ax, ax.figure
    if ax1 is not None:
        ax1.imshow(a if a.ndim == 3 else gray, cmap=None if a.ndim == 3 else "gray")
        ax1.set_title("image")
        ax1.axis("off")
    ax2.imshow(e, cmap="gray")
    ax2.set_title(method)
    ax2.axis("off")
    _save(fig, path)
    return fig
