"""``trace``: run a Python function on symbols and read back its formula.

The function receives :class:`Symbolic` values, scalars that carry a SymPy expression
and answer Python's operators and NumPy's ufuncs (``np.sin(x)``, ``np.exp``,
``np.maximum``, ...). With ``vector=True`` it receives one object array of them, so
indexing, ``v.sum()``, ``v @ w`` and ufuncs on the whole array work as well.

Limits: elementwise and arithmetic code only. Branching on a value (``if x > 0``),
``float(x)``, ``math.sin(x)``, gradkit operations (``gk.sin(x)``; use ``np.sin``, which
gradkit tensors also accept) and NumPy functions other than ufuncs and object-array
arithmetic raise a TypeError that says so.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._sympy import symbols, sympy

__all__ = ["Symbolic", "trace"]

_UNARY = {"sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin", "arccos": "acos",
          "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "arcsinh": "asinh",
          "arccosh": "acosh", "arctanh": "atanh", "exp": "exp", "log": "log", "sqrt": "sqrt",
          "cbrt": "cbrt", "sign": "sign", "absolute": "Abs", "fabs": "Abs"}
_HINT = ("trace follows arithmetic and NumPy ufuncs on symbols; it cannot branch on values, "
         "convert them to float, or run gradkit/math functions on them (use np.sin etc.)")


def _expr(x: Any) -> Any:
    if isinstance(x, Symbolic):
        return x.expr
    sp = sympy()
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(_HINT)
    if isinstance(x, (int, np.integer)):
        return sp.Integer(int(x))
    if isinstance(x, (float, np.floating)):
        return sp.Float(float(x))
    if isinstance(x, sp.Basic):
        return x
    raise TypeError(f"cannot use a {type(x).__name__} in a traced formula; {_HINT}")


def _other(ufunc: str, a: Any, b: Any) -> Any:
    sp = sympy()
    ops = {"add": lambda: a + b, "subtract": lambda: a - b, "multiply": lambda: a * b,
           "true_divide": lambda: a / b, "divide": lambda: a / b, "power": lambda: a ** b,
           "float_power": lambda: a ** b, "remainder": lambda: sp.Mod(a, b),
           "maximum": lambda: sp.Max(a, b), "minimum": lambda: sp.Min(a, b),
           "fmax": lambda: sp.Max(a, b), "fmin": lambda: sp.Min(a, b),
           "arctan2": lambda: sp.atan2(a, b), "hypot": lambda: sp.sqrt(a ** 2 + b ** 2)}
    if ufunc not in ops:
        raise TypeError(f"np.{ufunc} is not supported by trace; {_HINT}")
    return ops[ufunc]()


class Symbolic:
    """A scalar that records arithmetic as a SymPy expression (see :func:`trace`)."""

    __array_priority__ = 1000

    def __init__(self, expr: Any) -> None:
        self.expr = expr

    def __repr__(self) -> str:
        return f"Symbolic({self.expr})"

    def _bin(self, other: Any, fn: Callable[[Any, Any], Any]) -> Any:
        if isinstance(other, np.ndarray):
            return NotImplemented
        return Symbolic(fn(self.expr, _expr(other)))

    def __add__(self, o: Any) -> Any: return self._bin(o, lambda a, b: a + b)
    def __radd__(self, o: Any) -> Any: return self._bin(o, lambda a, b: b + a)
    def __sub__(self, o: Any) -> Any: return self._bin(o, lambda a, b: a - b)
    def __rsub__(self, o: Any) -> Any: return self._bin(o, lambda a, b: b - a)
    def __mul__(self, o: Any) -> Any: return self._bin(o, lambda a, b: a * b)
    def __rmul__(self, o: Any) -> Any: return self._bin(o, lambda a, b: b * a)
    def __truediv__(self, o: Any) -> Any: return self._bin(o, lambda a, b: a / b)
    def __rtruediv__(self, o: Any) -> Any: return self._bin(o, lambda a, b: b / a)
    def __pow__(self, o: Any) -> Any: return self._bin(o, lambda a, b: a ** b)
    def __rpow__(self, o: Any) -> Any: return self._bin(o, lambda a, b: b ** a)
    def __mod__(self, o: Any) -> Any: return self._bin(o, lambda a, b: sympy().Mod(a, b))
    def __neg__(self) -> Symbolic: return Symbolic(-self.expr)
    def __pos__(self) -> Symbolic: return self
    def __abs__(self) -> Symbolic: return Symbolic(sympy().Abs(self.expr))

    def __bool__(self) -> bool:
        raise TypeError(f"a traced value has no truth value; {_HINT}")

    def __float__(self) -> float:
        raise TypeError(f"a traced value cannot become a float; {_HINT}")

    __int__ = __index__ = __float__  # type: ignore[assignment]

    def __lt__(self, o: Any) -> bool:
        raise TypeError(f"comparisons of traced values are not supported; {_HINT}")

    __le__ = __gt__ = __ge__ = __lt__

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs:
            raise TypeError(f"np.{ufunc.__name__}.{method} is not supported by trace; {_HINT}")
        if any(isinstance(i, np.ndarray) for i in inputs):
            arrs = [i if isinstance(i, np.ndarray) else np.array(i, dtype=object) for i in inputs]
            return ufunc(*[a.astype(object) for a in arrs])
        return _apply_ufunc(ufunc.__name__, [_expr(i) for i in inputs])

    # object arrays call these by the ufunc's name
    def square(self) -> Symbolic: return Symbolic(self.expr ** 2)
    def reciprocal(self) -> Symbolic: return Symbolic(1 / self.expr)
    def exp2(self) -> Symbolic: return Symbolic(2 ** self.expr)
    def expm1(self) -> Symbolic: return Symbolic(sympy().exp(self.expr) - 1)
    def log1p(self) -> Symbolic: return Symbolic(sympy().log(1 + self.expr))
    def log2(self) -> Symbolic: return Symbolic(sympy().log(self.expr, 2))
    def log10(self) -> Symbolic: return Symbolic(sympy().log(self.expr, 10))
    def conjugate(self) -> Symbolic: return self


def _apply_ufunc(name: str, args: list[Any]) -> Symbolic:
    sp = sympy()
    if name in ("negative", "positive"):
        return Symbolic(-args[0] if name == "negative" else args[0])
    if len(args) == 1 and name in _UNARY:
        return Symbolic(getattr(sp, _UNARY[name])(args[0]))
    if len(args) == 1 and hasattr(Symbolic, name):
        return getattr(Symbolic(args[0]), name)()
    if len(args) == 2:
        return Symbolic(_other(name, *args))
    raise TypeError(f"np.{name} is not supported by trace; {_HINT}")


for _ufunc, _sp in _UNARY.items():
    setattr(Symbolic, _ufunc, (lambda n: lambda self: Symbolic(getattr(sympy(), n)(self.expr)))(_sp))


def _result(out: Any) -> Any:
    sp = sympy()
    if isinstance(out, np.ndarray):
        flat = [_expr(v) for v in out.ravel()]
        return sp.Matrix(flat) if out.ndim <= 1 else sp.Matrix(out.shape[0], out.shape[1], flat) \
            if out.ndim == 2 else sp.Array(flat, out.shape)
    if isinstance(out, (list, tuple)):
        return [_result(v) for v in out]
    return _expr(out)


def trace(f: Callable[..., Any], variables: Any, vector: bool = False) -> Any:
    """The formula that ``f`` computes, as a SymPy expression.

    Parameters
    ----------
    f : callable
        Written with Python operators and NumPy ufuncs (``np.sin``, ``np.exp``, ...).
    variables : str or sequence
        Names of the arguments (``'x y'``): ``f(x, y)`` is called with one symbol each.
    vector : bool
        Call ``f(v)`` with one object array of the symbols instead (``v[0]``, ``v @ w``).

    Returns
    -------
    sympy.Expr, or a ``Matrix`` when ``f`` returns an array.

    Examples
    --------
    >>> import numpy as np
    >>> trace(lambda x, y: np.sin(x) * y + x ** 2, "x y")
    x**2 + y*sin(x)
    """
    syms = symbols(variables)
    vals = [Symbolic(s) for s in syms]
    try:
        if vector:
            arr = np.empty(len(vals), dtype=object)
            arr[:] = vals
            out = f(arr)
        else:
            out = f(*vals)
    except TypeError as e:
        if _HINT in str(e):
            raise
        raise TypeError(f"trace could not follow {getattr(f, '__name__', 'the function')}: {e}; "
                        f"{_HINT}") from e
    return _result(out)
