"""Symbolic gradients with SymPy, and the round trip between formulas and autodiff.

SymPy is optional (``pip install gradkit[sympy]``) and imported on first use; the safe
parser (:func:`formula`) and numeric evaluation work without it.

- :func:`parse` turns text into a SymPy expression through a whitelisted ``ast`` walk
  (never ``eval``, never ``sympify`` on raw text), with limits on length, nesting and
  the size of constants.
- :func:`gradient`, :func:`jacobian`, :func:`hessian`, :func:`derivative`,
  :func:`directional_derivative` and :func:`latex` take a string or a SymPy expression.
- :func:`to_function` compiles an expression into gradkit operations (with common
  subexpressions shared), so it runs on floats, arrays and differentiable tensors.
- :func:`trace` runs a Python/NumPy function on symbols and returns its formula.

Examples
--------
>>> from gradkit import symbolic
>>> g = symbolic.gradient("x**2 + x*y + z", "x y z")
>>> g
[2*x + y, x, 1]
>>> [float(v) for v in symbolic.to_function(g, "x y z")(-1, 2, 3)]
[0.0, -1.0, 1.0]
"""

from __future__ import annotations

from ._parser import (CONSTANTS, FUNCTIONS, MAX_DEPTH, MAX_LENGTH, MAX_NODES, Formula,
                      ParseError, formula)
from ._sympy import (derivative, directional_derivative, gradient, hessian, jacobian, latex, parse,
                     symbols, to_function)
from ._trace import Symbolic, trace

__all__ = ["parse", "formula", "Formula", "ParseError", "gradient", "jacobian", "hessian",
           "derivative", "directional_derivative", "to_function", "latex", "trace", "Symbolic",
           "symbols", "FUNCTIONS", "CONSTANTS", "MAX_LENGTH", "MAX_DEPTH", "MAX_NODES"]
