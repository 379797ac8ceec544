"""A safe parser for formulas such as ``"x**2 + x*y + z"``, on Python's ``ast`` with a whitelist.

Nothing is ever passed to ``eval`` or to ``sympy.sympify``: the text is parsed by
``ast.parse`` (after a length check), every node is checked against a short whitelist,
and the tree is then walked by a *backend* that builds either SymPy objects or numbers,
arrays and gradkit tensors.

Limits (each rejected with a :class:`ParseError` that says which one):

- at most ``MAX_LENGTH`` characters, ``MAX_NODES`` syntax nodes and ``MAX_DEPTH`` levels
  of nesting (Python's own parser stops at 200 nested parentheses);
- numbers, the operators ``+ - * / ** %``, unary ``+``/``-``, parentheses, names (the
  variables and the constants ``pi`` and ``e``) and calls of the functions in
  :data:`FUNCTIONS` with plain positional arguments;
- a constant subexpression (one without variables) must stay a finite float, so
  ``9**9**9**9`` is refused before anything computes it exactly.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any, Iterable, Sequence

__all__ = ["ParseError", "Formula", "formula", "FUNCTIONS", "CONSTANTS", "MAX_LENGTH", "MAX_DEPTH",
           "MAX_NODES", "split_variables"]

MAX_LENGTH = 10_000
MAX_DEPTH = 200
MAX_NODES = 5_000

#: function name -> allowed numbers of arguments (``None``: two or more)
FUNCTIONS: dict[str, tuple[int, ...] | None] = {
    **{name: (1,) for name in (
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
        "atanh", "exp", "log10", "log2", "log1p", "expm1", "sqrt", "cbrt", "abs", "erf",
        "sigmoid", "relu", "softplus", "sign", "square")},
    "log": (1, 2), "atan2": (2,), "hypot": (2,), "pow": (2,), "min": None, "max": None,
}
#: aliases accepted in formulas (NumPy's spellings)
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
           "arccosh": "acosh", "arctanh": "atanh", "arctan2": "atan2", "ln": "log",
           "Abs": "abs", "minimum": "min", "maximum": "max"}
CONSTANTS = {"pi": math.pi, "e": math.e}

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod)
_UNARY = (ast.UAdd, ast.USub)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ParseError(ValueError):
    """A formula that is malformed, unsafe, too large, or names an unknown variable."""


def split_variables(variables: Any) -> tuple[str, ...]:
    """``'x y z'``, ``'x,y'``, ``['x', 'y']`` or SymPy symbols -> ``('x', 'y', ...)``."""
    if isinstance(variables, str):
        names = [v for v in re.split(r"[\s,]+", variables.strip()) if v]
    else:
        names = [str(v) for v in variables]
    for n in names:
        if not _NAME.match(n) or n.startswith("__"):
            raise ParseError(f"invalid variable name {n!r}: use letters, digits and '_'")
        if n in FUNCTIONS or n in ALIASES:
            raise ParseError(f"variable name {n!r} is a function name; pick another")
    if len(set(names)) != len(names):
        raise ParseError(f"variables repeat a name: {' '.join(names)}")
    return tuple(names)


def _snippet(node: ast.AST) -> str:
    try:
        s = ast.unparse(node)
    except (RecursionError, ValueError):   # pragma: no cover - depth is limited before
        s = "..."
    return s if len(s) <= 40 else s[:37] + "..."


def _syntax(text: str) -> ast.Expression:
    if not isinstance(text, str):
        raise ParseError(f"a formula must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"formula too long: {len(text)} characters (the limit is {MAX_LENGTH})")
    if not text.strip():
        raise ParseError("empty formula")
    if "__" in text:
        raise ParseError("names with '__' are not allowed in a formula")
    try:
        return ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as e:
        msg = e.msg if "too many nested" not in e.msg else "too deeply nested parentheses"
        col = f" at column {e.offset}" if e.offset else ""
        raise ParseError(f"malformed formula{col}: {msg}") from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise ParseError(f"formula too large or too deeply nested ({type(e).__name__})") from None


def _check(tree: ast.Expression, variables: Sequence[str] | None) -> tuple[str, ...]:
    """Walk the tree without recursion; return the free names in order of appearance."""
    names: list[str] = []
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise ParseError(f"formula nested too deeply (more than {MAX_DEPTH} levels)")
        if count > MAX_NODES:
            raise ParseError(f"formula too large (more than {MAX_NODES} terms)")
        children: list[ast.AST] = []
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float) or not math.isfinite(node.value):
                raise ParseError(f"unsupported literal {_snippet(node)}: only finite real numbers")
        elif isinstance(node, ast.Name):
            if node.id not in CONSTANTS or (variables is not None and node.id in variables):
                if variables is not None and node.id not in variables:
                    known = ", ".join(variables) or "none"
                    raise ParseError(f"unknown variable {node.id!r} (variables: {known})")
                if node.id in FUNCTIONS or node.id in ALIASES:
                    raise ParseError(f"function {node.id!r} used without a call")
                if node.id not in names:
                    names.append(node.id)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
            children = [node.left, node.right]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, _UNARY):
            children = [node.operand]
        elif isinstance(node, ast.Call):
            children = _check_call(node)
        else:
            raise ParseError(f"not allowed in a formula: {_snippet(node)} "
                             f"({type(node).__name__}); use numbers, variables, + - * / ** % "
                             "and the functions in gradkit.symbolic.FUNCTIONS")
        stack.extend((c, depth + 1) for c in reversed(children))
    return tuple(names)


def _check_call(node: ast.Call) -> list[ast.AST]:
    if not isinstance(node.func, ast.Name):
        raise ParseError(f"not allowed in a formula: {_snippet(node.func)} (only plain function "
                         "names can be called)")
    name = ALIASES.get(node.func.id, node.func.id)
    if name not in FUNCTIONS:
        raise ParseError(f"unknown function {node.func.id!r}; known: {', '.join(sorted(FUNCTIONS))}")
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise ParseError(f"{name}() takes plain positional arguments only")
    arity = FUNCTIONS[name]
    n = len(node.args)
    if (arity is None and n < 2) or (arity is not None and n not in arity):
        want = "2 or more" if arity is None else " or ".join(map(str, arity))
        raise ParseError(f"{name}() takes {want} argument(s), got {n}")
    return list(node.args)


def _fold(node: ast.AST, free: set[str], memo: dict[int, float | None]) -> float | None:
    """The float value of a constant subtree (None if it has variables); refuse overflow."""
    key = id(node)
    if key in memo:
        return memo[key]
    val: float | None = None
    if isinstance(node, ast.Constant):
        val = float(node.value)
    elif isinstance(node, ast.Name):
        val = None if node.id in free else CONSTANTS[node.id]
    elif isinstance(node, ast.UnaryOp):
        v = _fold(node.operand, free, memo)
        val = None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    elif isinstance(node, ast.BinOp):
        a, b = _fold(node.left, free, memo), _fold(node.right, free, memo)
        val = None if a is None or b is None else _fold_binop(node, a, b)
    elif isinstance(node, ast.Call):
        for arg in node.args:
            _fold(arg, free, memo)
    memo[key] = val
    return val


def _fold_binop(node: ast.BinOp, a: float, b: float) -> float | None:
    try:
        if isinstance(node.op, ast.Pow):
            if a != 0 and abs(b) * math.log10(abs(a)) > 308:
                raise OverflowError
            r = a ** b
            if isinstance(r, complex):
                return None
        elif isinstance(node.op, ast.Mult):
            r = a * b
        elif isinstance(node.op, ast.Div):
            r = a / b
        elif isinstance(node.op, ast.Mod):
            r = a % b
        else:
            r = a + b if isinstance(node.op, ast.Add) else a - b
    except ZeroDivisionError:
        return None
    except OverflowError:
        r = math.inf
    if not math.isfinite(r):
        raise ParseError(f"number too large in {_snippet(node)} (constants must stay below 1e308)")
    return r


class Formula:
    """A checked formula: its text, syntax tree and variables, evaluable by any backend.

    Call it with the variables' values, positionally (in ``variables`` order) or by
    name: floats, NumPy arrays or gradkit tensors (the result is then differentiable).
    """

    def __init__(self, text: str, tree: ast.Expression, variables: tuple[str, ...]) -> None:
        self.text = text
        self.tree = tree
        self.variables = variables

    def __repr__(self) -> str:
        return f"Formula({self.text!r}, variables={' '.join(self.variables)!r})"

    def evaluate(self, env: dict[str, Any], backend: Any) -> Any:
        """Walk the tree with ``backend`` (``number``, ``name``, ``binop``, ``unary``, ``call``)."""
        return _walk(self.tree.body, env, backend)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from ._numeric import NUMERIC
        return self.evaluate(bind(self.variables, args, kwargs), NUMERIC)


def bind(variables: Sequence[str], args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Match positional and keyword values to ``variables``; say what is missing or extra."""
    if len(args) > len(variables):
        raise TypeError(f"expected at most {len(variables)} values ({' '.join(variables)}), "
                        f"got {len(args)}")
    env = dict(zip(variables, args))
    for k, v in kwargs.items():
        if k not in variables:
            raise TypeError(f"unknown variable {k!r} (variables: {', '.join(variables)})")
        if k in env:
            raise TypeError(f"variable {k!r} given twice")
        env[k] = v
    missing = [v for v in variables if v not in env]
    if missing:
        raise TypeError(f"missing value(s) for {', '.join(missing)}")
    return env


def _walk(node: ast.AST, env: dict[str, Any], be: Any) -> Any:
    if isinstance(node, ast.Constant):
        return be.number(node.value)
    if isinstance(node, ast.Name):
        return env[node.id] if node.id in env else be.constant(node.id)
    if isinstance(node, ast.BinOp):
        return be.binop(type(node.op).__name__, _walk(node.left, env, be), _walk(node.right, env, be))
    if isinstance(node, ast.UnaryOp):
        v = _walk(node.operand, env, be)
        return be.neg(v) if isinstance(node.op, ast.USub) else v
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    name = ALIASES.get(node.func.id, node.func.id)
    return be.call(name, [_walk(a, env, be) for a in node.args])


def formula(text: str, variables: str | Iterable[Any] | None = None) -> Formula:
    """Parse and check ``text``; the variables are given, or its free names in sorted order.

    Raises
    ------
    ParseError
        Malformed, unsafe or too large input, or a name outside ``variables``.

    Examples
    --------
    >>> f = formula("x**2 + x*y + z")
    >>> f.variables
    ('x', 'y', 'z')
    >>> float(f(-1.0, 2.0, 3.0))
    2.0
    """
    names = None if variables is None else split_variables(variables)
    tree = _syntax(text)
    free = _check(tree, names)
    _fold(tree.body, set(free), {})
    return Formula(text, tree, names if names is not None else tuple(sorted(free)))
