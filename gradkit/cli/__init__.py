"""The ``gradkit`` command: gradients, optimization, image edges and graphs from a shell.

Every subcommand takes ``--json``; bad input prints one line to stderr and exits with
status 2 (usage) or 1 (anything else), never a traceback. Run ``gradkit COMMAND --help``
for examples.

Bounds, so that no input makes the command run away:

* ``derivative -n`` is at most :data:`MAX_ORDER`; nested autodiff (whose cost grows
  exponentially with the order) is used while it is cheap, and beyond that the value
  is SymPy's formula evaluated at the point (``"value"`` in the JSON instead of
  ``"autodiff"``);
* ``hessian`` and ``jacobian`` have at most :data:`MAX_ENTRIES` entries;
* images over ``--max-pixels`` (default :data:`MAX_PIXELS`) are refused before decoding;
* a ``minimize`` that does not converge prints its result and exits with status 1, and
  ``--maxiter`` is at most 100,000;
* ``--json`` is strict JSON (RFC 8259): NaN and infinities, which JSON cannot spell,
  are written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (which
  Python's ``float()`` reads back);
* a missing optional dependency is an error that names it, never a switch to another method.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from typing import Any, Callable, Sequence

import numpy as np
from gradkit.autograd import functional as F

__all__ = ["main", "build_parser", "CLIError", "MAX_ORDER", "MAX_ENTRIES", "MAX_PIXELS"]

MAX_ORDER = 25  # derivative -n
MAX_ENTRIES = 10_000  # entries of a Hessian or Jacobian
MAX_PIXELS = 50_000_000  # default of --max-pixels
_AD_BUDGET = 300_000  # nested autodiff while len(formula) * 3**n stays under this
_SYMBOLIC_BUDGET = 20_000_000  # entries * len(formula): ~15 s of SymPy at most
_MAX_OPS = 10_000  # operations in one symbolic derivative, checked after each order

_EPILOGS = {
    "grad": 'examples:\n  gradkit grad "x**2 + x*y + z" --at x=-1 y=2 z=3\n'
            '  gradkit grad "sin(x)*exp(y)" --json',
    "jacobian": 'examples:\n  gradkit jacobian "x*y, x + y, sin(x)" --at x=1 y=2',
    "hessian": 'examples:\n  gradkit hessian "x**2*y + y**3" --at x=1 y=2',
    "derivative": 'examples:\n  gradkit derivative "sin(x)*x" -n 3 --at x=0.5\n'
                  '  gradkit derivative "x**2*y" --var y --at x=2 y=1',
    "minimize": 'examples:\n  gradkit minimize "x**2 - 4*x + 8" --x0 1.3 --method BFGS\n'
                '  gradkit minimize "(1-x)**2 + 100*(y-x**2)**2" --x0 -1 2 --plot path.png',
    "edges": "examples:\n  gradkit edges photo.png -o edges.png --method sobel\n"
             "  gradkit edges photo.png -o diag.png --angle 45\n"
             "  gradkit edges photo.png -o canny.png --method canny --low 50 --high 150",
    "focus": "examples:\n  gradkit focus a.png b.png\n  gradkit focus photo.png --method tenengrad --json",
    "graph": 'examples:\n  gradkit graph "sin(x)*exp(y)" -o graph.svg --at x=1 y=0.5\n'
             '  gradkit graph "x**2 + log(y)" -o graph.mmd    (.svg .png .dot .mmd)',
}


class CLIError(Exception):
    """A user error: printed as one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, not usage + message
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return f"{float(v):.10g}"


def _tolist(a: Any) -> Any:
    a = np.asarray(a.detach().numpy() if hasattr(a, "detach") else a, dtype=float)
    return a.tolist()


_NO_SYMPY = "not shown: SymPy is not installed (pip install sympy)"


def _have_sympy() -> bool:
    try:
        import sympy  # noqa: F401
    except ImportError:
        return False
    return True


def _point(at: Sequence[str] | None, variables: Sequence[str]) -> dict[str, float] | None:
    """``['x=-1', 'y=2']`` (or ``'x=-1,y=2'``) -> ``{'x': -1.0, 'y': 2.0}``, checked."""
    if not at:
        return None
    out: dict[str, float] = {}
    for tok in (t for item in at for t in item.split(",") if t.strip()):
        name, sep, val = tok.partition("=")
        name = name.strip()
        if not sep:
            raise CLIError(f"--at expects name=value pairs, got {tok!r}")
        if name not in variables:
            raise CLIError(f"unknown variable {name!r} in --at (variables: {', '.join(variables)})")
        try:
            out[name] = float(val)
        except ValueError:
            raise CLIError(f"--at {name}: {val!r} is not a number") from None
        if math.isinf(out[name]) and "inf" not in val.lower():
            raise CLIError(f"--at {name}: {val.strip()[:40]!r} is out of float64's range (about 1.8e308)")
    missing = [v for v in variables if v not in out]
    if missing:
        raise CLIError(f"--at gives no value for {', '.join(missing)}")
    return out


def _formula(text: str, variables: str | None) -> Any:
    from ..symbolic import formula
    return formula(text, variables)


def _ad(fns: list[Any], variables: Sequence[str], point: dict[str, float], order: int) -> Any:
    """Autodiff at ``point``: gradient rows (order 1) or Hessian (order 2) of each formula."""
    import gradkit as gk
    x0 = gk.tensor([point[v] for v in variables], dtype=gk.float64)

    def value(fn: Any) -> Callable[[Any], Any]:
        def f(v: Any) -> Any:
            out = fn(*[v[i] for i in range(len(variables))])
            return out if isinstance(out, gk.Tensor) else v.sum() * 0 + float(out)
        return f

    if order == 1:
        rows = [F.jacobian(value(fn), x0) for fn in fns]
        return [_tolist(r) for r in rows]
    return _tolist(F.hessian(value(fns[0]), x0))


def _derivative_ad(fn: Any, variables: Sequence[str], point: dict[str, float], var: str, n: int) -> float:
    import gradkit as gk
    ts = {v: gk.tensor(point[v], dtype=gk.float64, requires_grad=(v == var)) for v in variables}
    out = fn(**ts)
    for _ in range(n):
        if not isinstance(out, gk.Tensor) or not out.requires_grad:
            return 0.0
        (out,) = gk.autograd.grad(out, ts[var], create_graph=True, allow_unused=True)
        if out is None:
            return 0.0
    return float(out.detach())


def _symbolic_derivative(S: Any, f: Any, var: str, n: int) -> Any:
    """SymPy's n-th derivative, one order at a time, stopping once the formula grows too large."""
    expr = S.derivative(f, var, 0)
    symbol = next((s for s in expr.free_symbols if s.name == var), None)
    if symbol is None:
        return S.derivative(f, var, n)
    prev = max(expr.count_ops(), 1)
    for k in range(1, n + 1):
        expr = expr.diff(symbol)
        ops = expr.count_ops()
        # NOTE: one more order multiplies the size by about ops / prev: refuse before that step
        # would take minutes, not after
        guess = ops * ops // max(prev, 1) if k < n else ops
        if max(ops, guess // 5) > _MAX_OPS:
            raise CLIError(f"the symbolic derivative grows too large: order {k} has {ops} operations and "
                           f"order {k + 1} would have about {guess} (the limit is {_MAX_OPS}); ask for a "
                           "lower order")
        prev = max(ops, 1)
    return expr


def _evaluate(expr: Any, point: dict[str, float]) -> float:
    """A SymPy expression at ``point``: a float, NaN where it is not real."""
    v = complex(expr.evalf(subs={s: point[s.name] for s in expr.free_symbols}))
    return v.real if v.imag == 0 else math.nan


def _calculus(args: argparse.Namespace) -> dict[str, Any]:
    from ..symbolic import _sympy as S
    from ..symbolic._sympy import _split_components
    kind = args.command
    texts = _split_components(args.expr) if kind == "jacobian" else [args.expr]
    fs = [_formula(t, args.vars) for t in texts]
    names = sorted({n for f in fs for n in f.variables}) if args.vars is None else list(fs[0].variables)
    fs = [_formula(t, " ".join(names)) for t in texts] if names else fs
    point = _point(args.at, names)
    res: dict[str, Any] = {"command": kind, "expression": args.expr, "variables": names}
    var = None
    if kind == "derivative":
        var = args.var or (names[0] if len(names) == 1 else None)
        if var is None or var not in names:
            raise CLIError(f"derivative needs --var (one of: {', '.join(names) or 'none'})")
        res.update(var=var, n=args.n)
    cells = len(names) * (len(names) if kind == "hessian" else len(texts) if kind == "jacobian" else 1)
    if cells > MAX_ENTRIES:
        raise CLIError(f"the {kind} would have {cells} entries; the limit is {MAX_ENTRIES}")
    if cells * sum(map(len, texts)) > _SYMBOLIC_BUDGET:
        raise CLIError(f"the {kind} of a {sum(map(len, texts))}-character formula in {len(names)} variables "
                       "is too much work for the command line; use gradkit.symbolic from Python")
    sym_expr = None
    if _have_sympy():
        if kind == "grad":
            sym: Any = [str(g) for g in S.gradient(fs[0], names)]
        elif kind == "jacobian":
            sym = [[str(c) for c in row] for row in S.jacobian(texts, names).tolist()]
        elif kind == "hessian":
            sym = [[str(c) for c in row] for row in S.hessian(fs[0], names).tolist()]
        else:
            sym_expr = _symbolic_derivative(S, fs[0], var, args.n)
            sym = str(sym_expr)
        res["symbolic"] = sym
    elif point is None:
        raise CLIError("SymPy is not installed (pip install sympy), so there is no symbolic form; give --at "
                       "to evaluate by autodiff")
    else:
        res["symbolic_missing"] = _NO_SYMPY
    if point is not None:
        res["at"] = point
        if kind == "derivative" and len(args.expr) * 3**args.n <= _AD_BUDGET:
            res["autodiff"] = _derivative_ad(fs[0], names, point, var, args.n)
        elif kind == "derivative":
            if sym_expr is None:
                raise CLIError(
                    f"-n {args.n} is too high an order for nested autodiff of this formula (its cost grows "
                    "exponentially with the order); install SymPy (pip install sympy) to evaluate the "
                    "symbolic derivative instead"
                )
            res["value"] = _evaluate(sym_expr, point)
        elif kind == "hessian":
            res["autodiff"] = _ad(fs, names, point, 2)
        else:
            rows = _ad(fs, names, point, 1)
            res["autodiff"] = rows[0] if kind == "grad" else rows
    return res


def _show_calculus(res: dict[str, Any]) -> str:
    kind = res["command"]
    head = {"grad": "gradient", "jacobian": "Jacobian", "hessian": "Hessian",
            "derivative": f"d^{res.get('n')}/d{res.get('var')}^{res.get('n')}"}[kind]
    lines = [f"{head} of {res['expression']}  (variables: {', '.join(res['variables'])})"]
    if "symbolic" in res:
        sym = res["symbolic"]
        if isinstance(sym, list) and sym and isinstance(sym[0], list):
            lines += ["  symbolic:"] + [f"    [{', '.join(r)}]" for r in sym]
        else:
            lines.append(f"  symbolic: {'[' + ', '.join(sym) + ']' if isinstance(sym, list) else sym}")
    if "symbolic_missing" in res:
        lines.append(f"  symbolic: {res['symbolic_missing']}")
    if "autodiff" in res:
        at = ", ".join(f"{k}={_fmt(v)}" for k, v in res["at"].items())
        ad = res["autodiff"]
        if isinstance(ad, list) and ad and isinstance(ad[0], list):
            lines += [f"  autodiff at ({at}):"] + [f"    {_fmt(r)}" for r in ad]
        else:
            lines.append(f"  autodiff at ({at}): {_fmt(ad)}")
    if "value" in res:
        at = ", ".join(f"{k}={_fmt(v)}" for k, v in res["at"].items())
        lines.append(f"  value at ({at}): {_fmt(res['value'])}  (the symbolic formula evaluated; nested "
                     "autodiff of this order would cost too much)")
    return "\n".join(lines)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``gradkit`` command."""
    parser = _Parser(prog="gradkit", formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="Gradients in Python, every way people compute them.",
                     epilog='examples:\n  gradkit grad "x**2 + x*y + z" --at x=-1 y=2 z=3\n'
                            '  gradkit minimize "x**2 - 4*x + 8" --x0 1.3\n'
                            "  gradkit edges photo.png -o edges.png\n  gradkit tour")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"gradkit {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    helps = {"grad": "symbolic gradient and its autodiff value", "jacobian": "Jacobian of "
             "comma-separated formulas", "hessian": "matrix of second derivatives",
             "derivative": "n-th derivative in one variable"}
    for name, text in helps.items():
        p = sub.add_parser(name, help=text, description=text.capitalize() + ".",
                           epilog=_EPILOGS[name], formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("expr", help="formula, e.g. 'x**2 + x*y + z' (^ means **)")
        p.add_argument("--at", nargs="+", metavar="NAME=VALUE", help="point for the autodiff value")
        p.add_argument("--vars", help="variable names in order, e.g. 'x y z' (default: sorted names)")
        if name == "derivative":
            p.add_argument("--var", help="differentiate with respect to this variable")
            p.add_argument("-n", type=int, default=1,
                           help=f"order of the derivative, 0 to {MAX_ORDER} (default 1)")
        _add_common(p)
    from ._commands import add_commands
    add_commands(sub, _EPILOGS, _add_common)
    return parser


def _run(args: argparse.Namespace) -> tuple[Any, str]:
    if args.command in (None, "tour"):
        from ._tour import tour
        text = tour()
        return {"command": "tour", "text": text}, text
    if args.command in ("grad", "jacobian", "hessian", "derivative"):
        n = getattr(args, "n", 1)
        if n < 0:
            raise CLIError("-n must be >= 0")
        if n > MAX_ORDER:
            raise CLIError(f"-n {n} is too large: at most {MAX_ORDER} (a derivative's formula can grow "
                           "exponentially with its order)")
        res = _calculus(args)
        return res, _show_calculus(res)
    from ._commands import COMMANDS
    return COMMANDS[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gradkit`` / ``python -m gradkit``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "tour"
    try:
        with warnings.catch_warnings():
            # NOTE: NumPy's overflow/divide warnings would add lines; the inf or nan is in the result
            warnings.simplefilter("ignore", RuntimeWarning)
            res, text = _run(args)
    except KeyboardInterrupt:
        print(f"gradkit {command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # every error of a library below: one line, no traceback
        print(f"gradkit {command}: error: {_one_line(e)}", file=sys.stderr)
        return 1
    status = 0
    try:
        as_json = getattr(args, "json", False)
        print(json.dumps(_strict(res), allow_nan=False, default=str) if as_json else text)
        sys.stdout.flush()
    except BrokenPipeError:                  # e.g. piped into `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if command == "minimize" and not res.get("success", True):
        print(f"gradkit minimize: error: did not converge: {_first_line(res.get('message', ''))}",
              file=sys.stderr)
        status = 1
    return status


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _one_line(e: BaseException) -> str:
    expected = (CLIError, ValueError, TypeError, ImportError, OSError, ArithmeticError)
    if isinstance(e, RecursionError):
        return "the input is nested too deeply (RecursionError)"
    if isinstance(e, MemoryError):
        return "the input is too large: out of memory (MemoryError)"
    msg = _first_line(str(e))
    if isinstance(e, expected) and msg:
        return msg
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def _strict(o: Any) -> Any:
    """``o`` with NumPy values as Python ones, and NaN/infinities as JSON strings."""
    if isinstance(o, dict):
        return {k: _strict(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_strict(v) for v in o]
    if isinstance(o, np.ndarray):
        return _strict(o.tolist())
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return "NaN" if math.isnan(o) else "Infinity" if o > 0 else "-Infinity"
    return o


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
