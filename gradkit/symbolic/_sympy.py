"""SymPy side of the bridge: formulas to SymPy, SymPy to gradkit, and the calculus helpers."""

from __future__ import annotations

from functools import reduce
from typing import Any, Callable, Sequence

import numpy as np

from gradkit._core.tensor import Tensor
from ._numeric import call as _ncall
from ._parser import Formula, ParseError, bind, formula, split_variables

__all__ = ["sympy", "parse", "symbols", "gradient", "jacobian", "hessian", "derivative",
           "directional_derivative", "to_function", "latex", "free_variables"]

def sympy() -> Any:
    """The ``sympy`` module, or an ImportError that names the extra to install."""
    try:
        import sympy as sp
    except ImportError as e:
        raise ImportError("gradkit.symbolic needs SymPy: pip install gradkit[sympy] "
                          "(or pip install sympy)") from e
    return sp


def symbols(variables: Any) -> list[Any]:
    """Real SymPy symbols for ``'x y z'`` (names, or symbols passed through)."""
    sp = sympy()
    if not isinstance(variables, str) and all(isinstance(v, sp.Symbol) for v in variables):
        return list(variables)
    return [sp.Symbol(n, real=True) for n in split_variables(variables)]


class _SympyBackend:
    def __init__(self) -> None:
        sp = self.sp = sympy()
        half = sp.Rational(1, 2)
        self.calls: dict[str, Callable[..., Any]] = {
            **{n: getattr(sp, n) for n in ("sin", "cos", "tan", "asin", "acos", "atan", "sinh",
                                           "cosh", "tanh", "asinh", "acosh", "atanh", "exp",
                                           "sqrt", "erf", "sign", "atan2", "cbrt")},
            "log": sp.log, "log10": lambda x: sp.log(x, 10), "log2": lambda x: sp.log(x, 2),
            "log1p": lambda x: sp.log(1 + x), "expm1": lambda x: sp.exp(x) - 1,
            "abs": sp.Abs, "sigmoid": lambda x: 1 / (1 + sp.exp(-x)),
            "relu": lambda x: sp.Max(0, x), "softplus": lambda x: sp.log(1 + sp.exp(x)),
            "square": lambda x: x ** 2, "hypot": lambda x, y: (x ** 2 + y ** 2) ** half,
            "pow": lambda x, y: x ** y, "min": sp.Min, "max": sp.Max,
        }

    def number(self, v: Any) -> Any:
        return self.sp.Integer(v) if isinstance(v, int) else self.sp.Float(v)

    def constant(self, name: str) -> Any:
        return self.sp.pi if name == "pi" else self.sp.E

    def binop(self, op: str, a: Any, b: Any) -> Any:
        if op == "Add":
            return a + b
        if op == "Sub":
            return a - b
        if op == "Mult":
            return a * b
        if op == "Div":
            return a / b
        return a ** b if op == "Pow" else self.sp.Mod(a, b)

    def neg(self, a: Any) -> Any:
        return -a

    def call(self, name: str, args: list[Any]) -> Any:
        return self.calls[name](*args)


def parse(text: str, variables: Any = None) -> Any:
    """Parse ``text`` safely into a SymPy expression (symbols are real).

    Parameters
    ----------
    text : str
        A formula: numbers, variables, ``+ - * / ** %`` (``^`` means ``**``), unary minus,
        parentheses, the constants ``pi`` and ``e``, and calls of
        :data:`gradkit.symbolic.FUNCTIONS`. Nothing is passed to ``eval`` or ``sympify``.
    variables : str or sequence of str, optional
        The allowed names (``'x y z'``); any other name is an error. By default every free
        name is a variable.

    Raises
    ------
    ParseError
        Malformed, unsafe or oversized input, or an unknown variable.

    Examples
    --------
    >>> parse("x**2 + x*y + z")
    x**2 + x*y + z
    """
    f = text if isinstance(text, Formula) else formula(text, variables)
    env = {s.name: s for s in symbols(f.variables)} if f.variables else {}
    return f.evaluate(env, _SympyBackend())


def free_variables(expr: Any) -> list[Any]:
    """The free symbols of ``expr`` sorted by name."""
    return sorted(getattr(expr, "free_symbols", ()), key=lambda s: s.name)


def _prepare(expr: Any, variables: Any) -> tuple[Any, list[Any]]:
    """``expr`` as SymPy (parsing a string) and the variables as symbols matching its own."""
    sp = sympy()
    if isinstance(expr, (str, Formula)):
        f = expr if isinstance(expr, Formula) else formula(expr, variables)
        expr = parse(f)
        if variables is None:
            variables = f.variables
    elif not isinstance(expr, sp.Basic):
        if isinstance(expr, (int, float)):
            expr = sp.Float(expr) if isinstance(expr, float) else sp.Integer(expr)
        else:
            raise TypeError(f"expected a formula string or a SymPy expression, got "
                            f"{type(expr).__name__}")
    if variables is None:
        return expr, free_variables(expr)
    if not isinstance(variables, str) and all(isinstance(v, sp.Symbol) for v in variables):
        return expr, list(variables)
    own = {s.name: s for s in expr.free_symbols}
    return expr, [own.get(n, sp.Symbol(n, real=True)) for n in split_variables(variables)]


def gradient(expr: Any, variables: Any = None) -> list[Any]:
    """The partial derivatives ``[df/dx, df/dy, ...]`` as SymPy expressions.

    Examples
    --------
    >>> gradient("x**2 + x*y + z", "x y z")
    [2*x + y, x, 1]
    """
    expr, vs = _prepare(expr, variables)
    return [expr.diff(v) for v in vs]


def jacobian(exprs: Any, variables: Any = None) -> Any:
    """The Jacobian ``sympy.Matrix`` of one or several expressions (rows = outputs).

    ``exprs`` may be a list of strings or expressions, or one string with ``,`` between
    components (``"x*y, x + y"``).
    """
    sp = sympy()
    if isinstance(exprs, str):
        exprs = _split_components(exprs)
    elif isinstance(exprs, sp.MatrixBase):
        exprs = list(exprs)
    elif isinstance(exprs, (sp.Basic, Formula)):
        exprs = [exprs]
    if variables is None and any(isinstance(e, str) for e in exprs):
        names = set()
        for e in exprs:
            names.update(formula(e).variables if isinstance(e, str) else
                         (s.name for s in e.free_symbols))
        variables = sorted(names)
    parsed = [_prepare(e, variables)[0] for e in exprs]
    if variables is None:
        vs = sorted(set().union(*(p.free_symbols for p in parsed)), key=lambda s: s.name)
    else:
        vs = _prepare(parsed[0], variables)[1] if parsed else []
    return sp.Matrix(parsed).jacobian(vs)


def _split_components(text: str) -> list[str]:
    """``"x*y, max(x, y)"`` -> ``["x*y", "max(x, y)"]`` (commas inside calls stay)."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += c == "("
        depth -= c == ")"
        if c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    if any(not p.strip() for p in parts):
        raise ParseError("empty component in a comma-separated list of formulas")
    return parts


def hessian(expr: Any, variables: Any = None) -> Any:
    """The matrix of second partial derivatives (a symmetric ``sympy.Matrix``)."""
    sp = sympy()
    expr, vs = _prepare(expr, variables)
    return sp.hessian(expr, vs)


def derivative(expr: Any, var: Any = None, n: int = 1) -> Any:
    """The ``n``-th derivative of ``expr`` with respect to ``var`` (default: its only variable)."""
    expr, vs = _prepare(expr, None if var is None else [str(var)])
    if var is None and len(vs) != 1:
        raise ValueError(f"derivative needs var= for an expression of {len(vs)} variables")
    if n < 0:
        raise ValueError(f"derivative order must be >= 0, got {n}")
    return expr.diff(vs[0], n) if n else expr


def directional_derivative(expr: Any, variables: Any, direction: Sequence[float],
                           normalize: bool = True) -> Any:
    """``grad(f) . u`` with ``u = direction / |direction|`` (``normalize=False``: as given).

    Examples
    --------
    >>> directional_derivative("x**2 + x*y + z", "x y z", [1, 0, 0])
    2*x + y
    """
    sp = sympy()
    g = gradient(expr, variables)
    d = [sp.nsimplify(c) if isinstance(c, float) else sp.sympify(int(c)) if isinstance(c, int)
         else c for c in direction]
    if len(d) != len(g):
        raise ValueError(f"direction has {len(d)} components for {len(g)} variables")
    norm = sp.sqrt(sum(c ** 2 for c in d)) if normalize else 1
    if norm == 0:
        raise ValueError("direction must not be the zero vector")
    return sp.simplify(sum(gi * ci for gi, ci in zip(g, d)) / norm)


def latex(expr: Any, variables: Any = None) -> str:
    """LaTeX for a formula string, SymPy expression or matrix."""
    sp = sympy()
    if isinstance(expr, (str, Formula)):
        expr = parse(expr, variables)
    return sp.latex(expr)


# --- SymPy -> numbers and gradkit tensors -------------------------------------------
_FUNCS = {"asin": "asin", "acos": "acos", "atan": "atan", "Abs": "abs", "Max": "max",
          "Min": "min", "atan2": "atan2"}
for _n in ("sin", "cos", "tan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "exp", "erf",
           "sign"):
    _FUNCS[_n] = _n


def _heaviside(x: Any, h0: Any = 0.5) -> Any:
    xd = x.detach().numpy() if isinstance(x, Tensor) else x
    out = np.heaviside(xd, h0)
    if isinstance(x, Tensor):
        import gradkit as gk
        return gk.as_tensor(out)
    return out


def _num(expr: Any, env: dict[Any, Any], memo: dict[Any, Any]) -> Any:
    if expr in memo:
        return memo[expr]
    if expr.is_Symbol:
        if expr not in env:
            raise ValueError(f"no value for variable {expr.name!r}")
        return env[expr]
    if expr.is_Number or expr.is_NumberSymbol:
        if not expr.is_real:
            raise ValueError(f"cannot evaluate the non-real constant {expr}")
        return float(expr)
    name = type(expr).__name__
    args = [_num(a, env, memo) for a in expr.args]
    if expr.is_Add:
        out = reduce(np.add, args)
    elif expr.is_Mul:
        out = reduce(np.multiply, args)
    elif expr.is_Pow:
        out = _pow(expr, args)
    elif name == "log":
        out = _ncall("log", args)
    elif name in _FUNCS:
        out = _ncall(_FUNCS[name], args)
    elif name in ("sec", "csc", "cot"):
        base = {"sec": np.cos, "csc": np.sin, "cot": np.tan}[name]
        out = np.divide(1.0, base(args[0]))
    elif name == "Mod":
        out = np.remainder(*args)
    elif name == "Heaviside":
        out = _heaviside(*args)
    elif name == "DiracDelta" and len(args) == 1:
        out = np.where(np.asarray(_value(args[0])) == 0, np.inf, 0.0)
    else:
        raise ValueError(f"cannot evaluate the SymPy function {name!r} with gradkit operations")
    memo[expr] = out
    return out


def _value(x: Any) -> Any:
    return x.detach().numpy() if isinstance(x, Tensor) else x


def _pow(expr: Any, args: list[Any]) -> Any:
    b, e = args
    ex = expr.exp
    if ex == sympy().Rational(1, 2):
        return np.sqrt(b)
    if ex == -1:
        return np.divide(1.0, b)
    if ex.is_Integer:
        return np.power(b, int(ex)) if isinstance(b, Tensor) else np.power(np.asarray(b, float),
                                                                            int(ex))[()]
    return np.power(b, e)


def to_function(expr: Any, variables: Any = None) -> Callable[..., Any]:
    """A function of the variables (positional, or by name) that evaluates ``expr`` numerically.

    Works on floats, NumPy arrays (broadcast) and gradkit tensors; with tensors every
    step is a gradkit operation, so the result can be differentiated (``backward``,
    ``gradkit.func.grad``). Common subexpressions are computed once (``sympy.cse``).
    A list or ``Matrix`` of expressions gives an array (or tensor) of shape
    ``matrix_shape + broadcast_shape``.

    Examples
    --------
    >>> f = to_function("x**2 + x*y + z")
    >>> float(f(-1.0, 2.0, 3.0))
    2.0
    """
    sp = sympy()
    many = isinstance(expr, (list, tuple, sp.MatrixBase))
    items = list(expr) if many else [expr]
    shape = expr.shape if isinstance(expr, sp.MatrixBase) else (len(items),)
    prepared = [_prepare(e, variables) for e in items]
    exprs = [p[0] for p in prepared]
    if variables is None:
        vs = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    else:
        vs = prepared[0][1] if prepared else symbols(variables)
    names = [v.name for v in vs]
    replacements, reduced = sp.cse(exprs)

    def fn(*args: Any, **kwargs: Any) -> Any:
        env_by_name = bind(names, args, kwargs)
        env = {v: _arg(env_by_name[v.name]) for v in vs}
        memo: dict[Any, Any] = {}
        for sym, sub in replacements:
            env[sym] = _num(sub, env, memo)
        vals = [_num(r, env, memo) for r in reduced]
        return _stack(vals, shape) if many else vals[0]

    fn.__doc__ = f"Evaluate {exprs if many else exprs[0]} at ({', '.join(names)})."
    fn.variables = tuple(names)  # type: ignore[attr-defined]
    return fn


def _arg(v: Any) -> Any:
    if isinstance(v, Tensor) or isinstance(v, float):
        return v
    a = np.asarray(v, dtype=float)
    return a if a.ndim else float(a)


def _stack(vals: list[Any], shape: tuple[int, ...]) -> Any:
    bshape = np.broadcast_shapes(*(np.shape(_value(v)) for v in vals))
    if any(isinstance(v, Tensor) for v in vals):
        import gradkit as gk
        parts = [gk.broadcast_to(v if isinstance(v, Tensor) else gk.as_tensor(np.asarray(v, float)),
                                 bshape) for v in vals]
        return gk.stack(parts).reshape(tuple(shape) + tuple(bshape))
    arr = np.stack([np.broadcast_to(np.asarray(v, dtype=float), bshape) for v in vals])
    return arr.reshape(tuple(shape) + tuple(bshape))
