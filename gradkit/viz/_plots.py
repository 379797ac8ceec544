"""Matplotlib plots: gradient fields, optimization paths, loss curves, edge maps.

matplotlib is optional (``pip install gradkit[viz]``); figures are built with
``matplotlib.figure.Figure`` directly (no pyplot, no global state, works headless).
Each function returns the figure and saves it when ``path`` is given.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["plot_gradient_field", "plot_optimization_path", "plot_loss_curve", "plot_edges"]


def _figure(**kw: Any) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("plotting needs matplotlib: pip install gradkit[viz] "
                          "(or pip install matplotlib)") from e
    return Figure(**kw)


def _save(fig: Any, path: str | os.PathLike[str] | None) -> Any:
    if path is not None:
        fig.savefig(os.fspath(path), dpi=100)
    return fig


def _callable(f: Any) -> Callable[..., Any]:
    if isinstance(f, str):
        from ..symbolic import formula
        return formula(f)
    return f


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


def plot_gradient_field(f: Any, xlim: Sequence[float] = (-2, 2), ylim: Sequence[float] = (-2, 2),
                        n: int = 20, path: str | None = None, levels: int = 20) -> Any:
    """Contours of ``f(x, y)`` with arrows of its gradient (by autodiff).

    ``f`` is a function of two tensors written elementwise (NumPy ufuncs and operators), or
    a formula string such as ``"x**2 + 3*y**2"``.
    """
    f = _callable(f)
    X, Y = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    Z, (GX, GY) = _value_and_grads(f, X, Y)
    fig = _figure(figsize=(6, 5))
    ax = fig.add_subplot()
    Xf, Yf = np.meshgrid(np.linspace(*xlim, 4 * n), np.linspace(*ylim, 4 * n))
    Zf, _ = _value_and_grads(f, Xf, Yf)
    cs = ax.contourf(Xf, Yf, Zf, levels=levels, cmap="viridis", alpha=0.8)
    fig.colorbar(cs, ax=ax)
    ax.quiver(X, Y, GX, GY, color="white", angles="xy")
    ax.set(xlabel="x", ylabel="y", title="f and its gradient")
    del Z
    return _save(fig, path)


def _path_points(path_or_result: Any) -> np.ndarray:
    for attr in ("path", "allvecs", "history"):
        if hasattr(path_or_result, attr) or (isinstance(path_or_result, dict) and attr in path_or_result):
            v = path_or_result[attr] if isinstance(path_or_result, dict) else getattr(path_or_result, attr)
            return np.atleast_2d(np.asarray(v, dtype=float))
    if hasattr(path_or_result, "x"):
        return np.atleast_2d(np.asarray(path_or_result.x, dtype=float))
    pts = np.asarray(path_or_result, dtype=float)
    return pts.reshape(-1, 1) if pts.ndim == 1 else pts


def plot_optimization_path(f: Any, path_or_result: Any, xlim: Sequence[float] | None = None,
                           ylim: Sequence[float] | None = None, path: str | None = None) -> Any:
    """The iterates of an optimizer over ``f``: a curve in 1-D, contours in 2-D.

    ``path_or_result``: an ``(iterations, n)`` array, or a result with ``path`` /
    ``allvecs`` (``scipy.optimize`` with ``retall``) / ``x``.
    """
    f = _callable(f)
    pts = _path_points(path_or_result)
    if pts.shape[1] not in (1, 2):
        raise ValueError(f"plot_optimization_path draws 1 or 2 variables, got {pts.shape[1]}")
    fig = _figure(figsize=(6, 5))
    ax = fig.add_subplot()
    lo, hi = pts.min(0), pts.max(0)
    span = np.maximum(hi - lo, 1.0)
    xl = xlim or (lo[0] - 0.3 * span[0], hi[0] + 0.3 * span[0])
    if pts.shape[1] == 1:
        xs = np.linspace(*xl, 400)
        ax.plot(xs, _value_and_grads(f, xs)[0], color="C0", label="f")
        ys = _value_and_grads(f, pts[:, 0])[0]
        ax.plot(pts[:, 0], ys, "o-", color="C3", ms=4, label="iterates")
        ax.set(xlabel="x", ylabel="f(x)")
    else:
        yl = ylim or (lo[1] - 0.3 * span[1], hi[1] + 0.3 * span[1])
        X, Y = np.meshgrid(np.linspace(*xl, 120), np.linspace(*yl, 120))
        Z = _value_and_grads(f, X, Y)[0]
        ax.contour(X, Y, Z, levels=30, cmap="viridis")
        ax.plot(pts[:, 0], pts[:, 1], "o-", color="C3", ms=4, label="iterates")
        ax.set(xlabel="x", ylabel="y")
    ax.plot(*pts[-1, :2], "*", color="k", ms=12, label="last") if pts.shape[1] == 2 else None
    ax.legend()
    ax.set_title(f"{len(pts) - 1} iterations")
    return _save(fig, path)


def plot_loss_curve(history: Any, path: str | None = None, log: bool | None = None) -> Any:
    """Loss against step: a sequence, or a dict of named sequences (``{'train': ..., 'val': ...}``).

    ``log=None`` uses a log scale when all values are positive and span over two decades.
    """
    series = history if isinstance(history, dict) else {"loss": history}
    fig = _figure(figsize=(6, 4))
    ax = fig.add_subplot()
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
    return _save(fig, path)


def plot_edges(img: Any, method: str = "sobel", path: str | None = None, **kw: Any) -> Any:
    """The image beside its edge map (``method``: sobel, scharr, prewitt, laplacian, canny)."""
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
    fig = _figure(figsize=(10, 4.5))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.imshow(a if a.ndim == 3 else gray, cmap=None if a.ndim == 3 else "gray")
    ax1.set_title("image")
    ax2.imshow(e, cmap="gray")
    ax2.set_title(method)
    for ax in (ax1, ax2):
        ax.axis("off")
    return _save(fig, path)
