"""Subcommands of ``gradkit`` other than the calculus ones: minimize, edges, focus, graph, tour."""

from __future__ import annotations

import argparse
from typing import Any, Callable

import numpy as np

__all__ = ["add_commands", "COMMANDS"]

_MAX_ITER = 100_000  # --maxiter; gradient descent runs ~1,000 iterations a second
_EDGE_METHODS = ("sobel", "scharr", "prewitt", "laplacian", "canny")


def _err(msg: str) -> Exception:
    from . import CLIError
    return CLIError(msg)


def add_commands(sub: Any, epilogs: dict[str, str], common: Callable[[Any], None]) -> None:
    raw = argparse.RawDescriptionHelpFormatter

    def add(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".",
                              epilog=epilogs.get(name), formatter_class=raw)

    p = add("minimize", "minimize a formula with exact gradients")
    p.add_argument("expr", help="objective, e.g. 'x**2 - 4*x + 8'")
    p.add_argument("--x0", nargs="+", type=float, required=True, help="start point, one value per variable")
    p.add_argument("--method", default="BFGS",
                   help="e.g. BFGS, L-BFGS-B, CG, Newton-CG (these need SciPy), gd (default BFGS)")
    p.add_argument("--vars", help="variable names in order (default: sorted names)")
    p.add_argument("--maxiter", type=int, default=1000, help="iteration limit, at most 100000 (default 1000)")
    p.add_argument("--plot", metavar="PATH", help="save a plot of the path (needs matplotlib)")
    common(p)

    p = add("edges", "edge map of an image (Sobel, Scharr, Prewitt, Laplacian or Canny)")
    p.add_argument("image", help="input image file")
    p.add_argument("-o", "--output", required=True, help="output image file (png, jpg, ...)")
    p.add_argument("--method", choices=_EDGE_METHODS, default="sobel")
    p.add_argument("--angle", type=float, help="directional derivative along this angle in degrees "
                   "(0 = +x, 90 = down); sobel/scharr/prewitt only")
    p.add_argument("--ksize", type=int, default=3, help="Sobel/Laplacian aperture (default 3)")
    p.add_argument("--low", type=float, default=50.0, help="Canny low threshold (default 50)")
    p.add_argument("--high", type=float, default=150.0, help="Canny high threshold (default 150)")
    _max_pixels(p)
    common(p)

    from ..image import FOCUS_METHODS
    p = add("focus", "sharpness score of images (higher is sharper)")
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("--method", choices=FOCUS_METHODS, default="laplacian_variance")
    _max_pixels(p)
    common(p)

    p = add("graph", "draw the computation graph of a formula (no Graphviz needed)")
    p.add_argument("expr", help="formula, e.g. 'sin(x)*exp(y)'")
    p.add_argument("-o", "--output", required=True, help="file: .svg, .png (matplotlib), .dot or .mmd")
    p.add_argument("--at", nargs="+", metavar="NAME=VALUE", help="input values (default 1.0 each)")
    p.add_argument("--vars", help="variable names in order")
    p.add_argument("--no-grad", action="store_true", help="do not show gradients")
    common(p)

    p = add("tour", "a short tour of gradkit, computed live")
    common(p)


def _max_pixels(p: argparse.ArgumentParser) -> None:
    from . import MAX_PIXELS
    p.add_argument("--max-pixels", type=int, default=MAX_PIXELS, metavar="N",
                   help=f"refuse images of more pixels, before decoding them (default {MAX_PIXELS})")


# --- minimize ------------------------------------------------------------------------
def _value_and_grad(f: Any, n: int) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    import gradkit as gk

    def vg(x: np.ndarray) -> tuple[float, np.ndarray]:
        t = gk.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
        y = f(*[t[i] for i in range(n)])
        if not isinstance(y, gk.Tensor) or not y.requires_grad:
            return float(y), np.zeros(n)
        y.backward()
        return float(y.detach()), t.grad.numpy().copy()
    vg.formula = f  # type: ignore[attr-defined]
    return vg


def _native_gd(vg: Any, x0: np.ndarray, maxiter: int) -> dict[str, Any]:
    """Gradient descent with Armijo backtracking (``--method gd``, no SciPy needed)."""
    x, path = x0.copy(), [x0.copy()]
    fx, g = vg(x)
    nfev = njev = 1
    it, step, message = 0, 1.0, f"iteration limit reached (--maxiter {maxiter})"
    while True:
        if not (np.isfinite(fx) and np.all(np.isfinite(g))):
            bad = fx if not np.isfinite(fx) else "not finite"
            message = f"stopped: the objective or its gradient is {bad}"
            break
        if np.linalg.norm(g) < 1e-8 or it == maxiter:
            break
        while True:
            xn = x - step * g
            fn, gn = vg(xn)
            nfev += 1
            njev += 1
            if fn <= fx - 1e-4 * step * g @ g or step < 1e-12:
                break
            step /= 2
        if not fn <= fx:  # no decrease even with the smallest step (or NaN)
            message = "stopped: the line search found no decrease"
            break
        it += 1
        x, fx, g, step = xn, fn, gn, min(step * 2, 1e3)
        path.append(x.copy())
    ok = bool(np.isfinite(fx) and np.linalg.norm(g) < 1e-6)
    return {"x": x, "fun": fx, "nit": it, "nfev": nfev, "njev": njev, "success": ok,
            "message": "gradient norm below 1e-6" if ok else message, "path": path}


def _minimize(args: argparse.Namespace) -> tuple[Any, str]:
    from ..symbolic import formula
    f = formula(args.expr, args.vars)
    n = len(f.variables)
    if len(args.x0) != n:
        raise _err(f"--x0 has {len(args.x0)} value(s) for {n} variable(s) ({', '.join(f.variables)})")
    x0 = np.asarray(args.x0, dtype=np.float64)
    if not np.all(np.isfinite(x0)):
        raise _err(f"--x0 must be finite numbers, got {' '.join(map(str, args.x0))}")
    if not 1 <= args.maxiter <= _MAX_ITER:
        raise _err(f"--maxiter must be between 1 and {_MAX_ITER}, got {args.maxiter}")
    if args.plot:
        try:
            import matplotlib.figure  # noqa: F401
        except ImportError:
            raise _err("--plot needs matplotlib, which is not installed: pip install matplotlib "
                       "(or pip install gradkit[viz])") from None
    vg = _value_and_grad(f, n)
    path = [x0.copy()]
    if args.method.lower() in ("gd", "gradient-descent"):
        out, backend = _native_gd(vg, x0, args.maxiter), "gradkit (gradient descent)"
    else:
        out, backend = _scipy_or_native(vg, x0, args, path)
    path = out.pop("path", path)
    res = {"command": "minimize", "expression": args.expr, "variables": list(f.variables),
           "method": args.method, "backend": backend, **out,
           "x": [float(v) for v in np.atleast_1d(out["x"])], "fun": float(out["fun"])}
    if args.plot:
        from ..viz import plot_optimization_path
        plot_optimization_path(f, np.asarray(path), path=args.plot)
        res["plot"] = args.plot
    xs = ", ".join(f"{k}={v:.10g}" for k, v in zip(f.variables, res["x"]))
    text = (f"minimize {args.expr}  ({args.method}, {backend})\n  x*: {xs}\n  f(x*) = {res['fun']:.10g}"
            f"\n  nit={res['nit']} nfev={res['nfev']} njev={res['njev']} success={res['success']}"
            f"\n  {res['message']}")
    return res, text + (f"\n  plot: {args.plot}" if args.plot else "")


def _scipy_or_native(vg: Any, x0: np.ndarray, args: argparse.Namespace, path: list[Any]
                     ) -> tuple[dict[str, Any], str]:
    from ..optimize import minimize as gk_minimize
    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        # NOTE: never a silent switch to another method: the user asked for this one
        raise _err(f"--method {args.method} needs SciPy, which is not installed: pip install scipy "
                   "(or pip install gradkit[scipy]); --method gd works without it") from None
    r = gk_minimize(lambda v: vg.formula(*[v[i] for i in range(len(x0))]), x0,
                    method=args.method, options={"maxiter": args.maxiter},
                    callback=lambda xk, *a: path.append(np.array(xk, dtype=float)))
    return _result(r, path), "gradkit.optimize"


def _result(r: Any, path: list[Any]) -> dict[str, Any]:
    return {"x": np.atleast_1d(np.asarray(r.x, dtype=float)), "fun": float(r.fun),
            "nit": int(getattr(r, "nit", len(path) - 1)), "nfev": int(getattr(r, "nfev", 0)),
            "njev": int(getattr(r, "njev", 0)), "success": bool(getattr(r, "success", True)),
            "message": str(getattr(r, "message", "")),
            "compiled": bool(getattr(r, "compiled", False))}


# --- images --------------------------------------------------------------------------
def _read(path: str, max_pixels: int) -> np.ndarray:
    import os
    import warnings

    from ..image import read
    from ..image._io import _pil
    if not os.path.exists(path):
        raise _err(f"no such image file: {path}")
    if not os.path.isfile(path):
        raise _err(f"{path} is not a file")
    if max_pixels < 1:
        raise _err(f"--max-pixels must be >= 1, got {max_pixels}")
    Image = _pil()
    old = Image.MAX_IMAGE_PIXELS
    try:
        # NOTE: Pillow's own limit only warns (and errors at twice the limit); ours is checked on
        # the header, before a pixel is decoded, and stands in for Pillow's while decoding
        Image.MAX_IMAGE_PIXELS = None
        with Image.open(path) as im:
            w, h = im.size
        if w * h > max_pixels:
            raise _err(f"{path} is {w}x{h} = {w * h} pixels, over the limit of {max_pixels} (--max-pixels)")
        Image.MAX_IMAGE_PIXELS = max_pixels
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return read(path, gray=True).astype(np.float64)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise _err(f"{path}: {e} (--max-pixels)") from None
    except (ImportError, MemoryError):
        raise
    except Exception as e:
        from . import CLIError
        if isinstance(e, CLIError):
            raise
        raise _err(f"cannot read image {path}: {type(e).__name__}: {e}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old


def _edges(args: argparse.Namespace) -> tuple[Any, str]:
    from .. import image
    img = _read(args.image, args.max_pixels)
    m = args.method
    for flag in ("angle", "low", "high"):
        v = getattr(args, flag)
        if v is not None and not np.isfinite(v):
            raise _err(f"--{flag} must be a finite number, got {v}")
    if m in ("sobel", "laplacian", "canny") and args.ksize not in (1, 3, 5, 7):
        raise _err(f"--ksize must be 1, 3, 5 or 7, got {args.ksize}")
    if args.angle is not None and m in ("laplacian", "canny"):
        raise _err(f"--angle works with sobel, scharr or prewitt, not {m}")
    if m == "canny":
        r = image.canny(img.astype(np.uint8), args.low, args.high, args.ksize).astype(np.float64)
    elif m == "laplacian":
        r = np.abs(image.laplacian(img, args.ksize))
    else:
        fn = {"sobel": lambda dx, dy: image.sobel(img, dx, dy, args.ksize),
              "scharr": lambda dx, dy: image.scharr(img, dx, dy),
              "prewitt": lambda dx, dy: image.prewitt(img, dx, dy)}[m]
        gx, gy = fn(1, 0), fn(0, 1)
        if args.angle is not None:
            a = np.deg2rad(args.angle)
            r = np.abs(np.cos(a) * gx + np.sin(a) * gy)
        else:
            r = np.hypot(gx, gy)
    peak = float(r.max()) if r.size else 0.0
    out = (r * (255.0 / peak)).round().astype(np.uint8) if peak > 0 else np.zeros(r.shape, np.uint8)
    try:
        image.write(args.output, out)
    except (ValueError, KeyError) as e:
        raise _err(f"cannot write {args.output}: {e}") from None
    res = {"command": "edges", "image": args.image, "output": args.output, "method": m,
           "angle": args.angle, "shape": list(img.shape), "max_response": peak,
           "edge_fraction": float((out > 127).mean()) if out.size else 0.0}
    angle = f" at {args.angle:g} degrees" if args.angle is not None else ""
    return res, (f"{m} edges{angle} of {args.image} {img.shape[1]}x{img.shape[0]} -> {args.output}"
                 f"\n  max response {peak:.6g}; {100 * res['edge_fraction']:.2f}% of pixels above half")


def _focus(args: argparse.Namespace) -> tuple[Any, str]:
    from ..image import focus_measure
    scores = [{"image": p, "score": float(focus_measure(_read(p, args.max_pixels), args.method))}
              for p in args.images]
    res = {"command": "focus", "method": args.method, "scores": scores}
    best = max(scores, key=lambda s: s["score"])["image"]
    lines = [f"{s['image']}: {s['score']:.6g}" for s in scores]
    if len(scores) > 1:
        lines.append(f"sharpest: {best}")
    return res, "\n".join(lines)


# --- graph ---------------------------------------------------------------------------
def _graph(args: argparse.Namespace) -> tuple[Any, str]:
    import gradkit as gk

    from .. import viz
    from ..symbolic import formula
    from . import _point
    f = formula(args.expr, args.vars)
    point = _point(args.at, f.variables) or {v: 1.0 for v in f.variables}
    ts = {v: gk.tensor(point[v], dtype=gk.float64, requires_grad=True) for v in f.variables}
    out = f(**ts)
    if isinstance(out, gk.Tensor) and out.grad_fn is None and out.requires_grad:
        raise _err(f"{args.expr!r} is a bare variable: there are no operations to draw")
    if not isinstance(out, gk.Tensor) or out.grad_fn is None:
        raise _err(f"{args.expr!r} does not depend on any variable: there is no graph to draw")
    viz.render(out, args.output, names=ts, grads=not args.no_grad)
    g = viz.graph(out, names=ts)
    res = {"command": "graph", "expression": args.expr, "output": args.output, "at": point,
           "value": float(out.detach()), "nodes": len(g.nodes), "edges": len(g.edges)}
    return res, (f"graph of {args.expr}: {len(g.nodes)} nodes, {len(g.edges)} edges -> {args.output}"
                 f"\n  value {res['value']:.10g} at " + ", ".join(f"{k}={v:g}" for k, v in point.items()))


def _tour(args: argparse.Namespace) -> tuple[Any, str]:
    from ._tour import tour
    text = tour()
    return {"command": "tour", "text": text}, text


COMMANDS: dict[str, Callable[[argparse.Namespace], tuple[Any, str]]] = {
    "minimize": _minimize, "edges": _edges, "focus": _focus, "graph": _graph, "tour": _tour}
