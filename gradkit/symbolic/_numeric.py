"""Numeric evaluation of formulas and SymPy expressions on floats, arrays and gradkit tensors.

Arithmetic goes through NumPy ufuncs, which gradkit tensors intercept
(``__array_ufunc__``), so one code path gives floats for floats, arrays for arrays and
differentiable tensors for tensors. Functions without a ufunc (``erf``, ``sigmoid``,
``relu``) use gradkit's own op when a tensor is involved.
"""

from __future__ import annotations

import math
from functools import reduce
from typing import Any, Callable

import numpy as np

from gradkit._core.tensor import Tensor

__all__ = ["NUMERIC", "call"]


def _any_tensor(args: list[Any]) -> bool:
    return any(isinstance(a, Tensor) for a in args)


def _erf(x: Any) -> Any:
    if isinstance(x, Tensor):
        import gradkit as gk
        return gk.erf(x)
    try:
        from scipy.special import erf
    except ImportError:
        return np.vectorize(math.erf, otypes=[float])(x)
    return erf(x)


def _sigmoid(x: Any) -> Any:
    if isinstance(x, Tensor):
        import gradkit as gk
        return gk.sigmoid(x)
    return np.exp(-np.logaddexp(0.0, np.negative(x)))


def _relu(x: Any) -> Any:
    if isinstance(x, Tensor):
        import gradkit as gk
        return gk.relu(x)
    return np.maximum(x, 0.0)


def _log(x: Any, base: Any = None) -> Any:
    return np.log(x) if base is None else np.divide(np.log(x), np.log(base))


_CALLS: dict[str, Callable[..., Any]] = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh,
    "acosh": np.arccosh, "atanh": np.arctanh, "exp": np.exp, "log": _log, "log10": np.log10,
    "log2": np.log2, "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt, "cbrt": np.cbrt,
    "abs": np.abs, "erf": _erf, "sigmoid": _sigmoid, "relu": _relu,
    "softplus": lambda x: np.logaddexp(0.0, x), "sign": np.sign, "square": np.square,
    "atan2": np.arctan2, "hypot": np.hypot, "pow": np.power,
    "min": lambda *a: reduce(np.minimum, a), "max": lambda *a: reduce(np.maximum, a),
}
_BIN = {"Add": np.add, "Sub": np.subtract, "Mult": np.multiply, "Div": np.true_divide,
        "Pow": np.power, "Mod": np.remainder}


def call(name: str, args: list[Any]) -> Any:
    """Apply the formula function ``name`` to numeric ``args``."""
    out = _CALLS[name](*args)
    if not _any_tensor(args) and isinstance(out, np.ndarray) and out.ndim == 0:
        return out[()]
    return out


class _Numeric:
    """The backend of :meth:`Formula.evaluate` that computes numbers."""

    @staticmethod
    def number(v: Any) -> float:
        return float(v)

    @staticmethod
    def constant(name: str) -> float:
        return {"pi": math.pi, "e": math.e}[name]

    @staticmethod
    def binop(op: str, a: Any, b: Any) -> Any:
        return _BIN[op](a, b)

    @staticmethod
    def neg(a: Any) -> Any:
        return np.negative(a)

    call = staticmethod(call)


NUMERIC = _Numeric()
