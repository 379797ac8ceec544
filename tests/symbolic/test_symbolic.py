"""gradkit.symbolic: the safe parser, symbolic calculus, to_function and trace."""

from __future__ import annotations


import numpy as np
import pytest

import gradkit as gk
from gradkit.symbolic import ParseError, formula

sp = pytest.importorskip("sympy")
from gradkit import symbolic as S  # noqa: E402

HOSTILE = [
    "9**9**9**9", "(" * 10_000 + "x" + ")" * 10_000, "x" * 1_000_000, "x+" * 600_000 + "x",
    "__import__('os')", "__import__('os').system('true')", "x.__class__", "x.real", "x[0]",
    "lambda: 1", "[i for i in range(10)]", "(lambda: 0)()", "open('/etc/passwd')", "eval('1')",
    "-" * 5000 + "x", "+".join(["x"] * 300), "10**400", "1e400", "9" * 5000, "'abc'", "x if y else z",
    "x < y", "x and y", "f'{x}'", "sin(x=1)", "sin(*x)", "sin", "{1: 2}", "x; y", "import os",
    "x = 1", "b'x'", "1j*x", "x // 2", "x @ y", "~x", "None", "True + x", "...", "",
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda s: s[:30])
def test_hostile_input_is_rejected_fast(text: str) -> None:
    # NOTE: no timing assertion (speed belongs in benchmarks); an input that were evaluated
    # (9**9**9**9) would not return at all, so reaching the end shows it was rejected unevaluated.
    with pytest.raises(ParseError):
        formula(text)
    with pytest.raises(ParseError):
        S.parse(text)


def test_error_messages_say_what_is_wrong() -> None:
    with pytest.raises(ParseError, match=r"unknown variable 'w' \(variables: x, y\)"):
        formula("x + w", "x y")
    with pytest.raises(ParseError, match="too long"):
        formula("x" * 20_000)
    with pytest.raises(ParseError, match="number too large"):
        formula("9**9**9**9")
    with pytest.raises(ParseError, match="unknown function 'foo'"):
        formula("foo(x)")
    with pytest.raises(ParseError, match="Attribute"):
        formula("x.real")
    with pytest.raises(ParseError, match=r"sin\(\) takes 1"):
        formula("sin(x, y)")


def test_parse_accepts_the_whitelist() -> None:
    x, y = S.symbols("x y")
    assert S.parse("x^2 + 2*x*y") == x ** 2 + 2 * x * y
    assert S.parse("e**x + pi") == sp.exp(x) + sp.pi
    assert S.parse("max(x, y, 1)") == sp.Max(x, y, 1)
    assert S.parse("log10(x)") == sp.log(x, 10)
    assert S.parse("2**1000") == sp.Integer(2) ** 1000
    assert S.parse("1/3") == sp.Rational(1, 3)
    assert formula("y + x").variables == ("x", "y")
    assert formula("x + e", "x e").variables == ("x", "e")      # a variable shadows the constant


def test_seed_gradient() -> None:
    x, y, z = S.symbols("x y z")
    g = S.gradient("x**2 + x*y + z", "x y z")
    assert g == [2 * x + y, x, 1]
    assert [float(v.subs({x: -1, y: 2, z: 3})) for v in g] == [0.0, -1.0, 1.0]
    np.testing.assert_allclose(S.to_function(g, "x y z")(-1, 2, 3), [0.0, -1.0, 1.0])
    assert S.jacobian(["x**2 + x*y + z"], "x y z") == sp.Matrix([[2 * x + y, x, 1]])


def test_mixed_partials_and_hessian() -> None:
    x, y = S.symbols("x y")
    f = "x**3*y**2 + sin(x*y)"
    H = S.hessian(f, "x y")
    assert sp.simplify(H[0, 1] - H[1, 0]) == 0
    assert sp.simplify(H[0, 1] - (6 * x ** 2 * y + sp.cos(x * y) - x * y * sp.sin(x * y))) == 0
    assert sp.simplify(S.derivative("sin(x)*x", "x", 3) + x * sp.cos(x) + 3 * sp.sin(x)) == 0
    assert S.derivative("x**5", n=0) == x ** 5
    assert S.jacobian("x*y, x + y") == sp.Matrix([[y, x], [1, 1]])


def test_directional_derivative() -> None:
    x, y, z = S.symbols("x y z")
    assert S.directional_derivative("x**2 + x*y + z", "x y z", [1, 0, 0]) == 2 * x + y
    d = S.directional_derivative("x**2 + x*y + z", "x y z", [3, 0, 4])
    assert float(d.subs({x: -1, y: 2, z: 3})) == pytest.approx((3 * 0 + 4 * 1) / 5)
    with pytest.raises(ValueError, match="zero vector"):
        S.directional_derivative("x*y", "x y", [0, 0])


def test_to_function_matches_autodiff() -> None:
    src = "x**2*y + exp(-y)*sin(x) + abs(x) + erf(y) + max(x, y) + sigmoid(x*y) + log10(y) + hypot(x, y)"
    f = S.to_function(src, "x y")
    grad_f = S.to_function(S.gradient(src, "x y"), "x y")
    xv, yv = 0.7, 1.3
    x = gk.tensor(xv, dtype=gk.float64, requires_grad=True)
    y = gk.tensor(yv, dtype=gk.float64, requires_grad=True)
    out = f(x, y)
    out.backward()
    assert float(out.detach()) == pytest.approx(float(formula(src, "x y")(xv, yv)))
    np.testing.assert_allclose(grad_f(xv, yv), [float(x.grad), float(y.grad)], rtol=1e-12)
    gt = grad_f(x.detach(), y.detach())                      # tensors in, tensor out
    assert isinstance(gt, gk.Tensor) and gt.shape == (2,)


def test_to_function_on_arrays_and_second_order() -> None:
    f = S.to_function("x**3 + x*y", "x y")
    np.testing.assert_allclose(f(np.array([1.0, 2.0]), 3.0), [4.0, 14.0])
    assert f(x=2.0, y=1.0) == 10.0
    x = gk.tensor(2.0, requires_grad=True)
    (g,) = gk.autograd.grad(f(x, 1.0), x, create_graph=True)
    (h,) = gk.autograd.grad(g, x)
    assert float(g) == 13.0 and float(h) == 12.0
    with pytest.raises(TypeError, match="missing"):
        f(1.0)


def test_formula_evaluates_without_sympy_types() -> None:
    f = formula("x**2 + x*y + z")
    x = gk.tensor(-1.0, requires_grad=True)
    out = f(x, 2.0, 3.0)
    out.backward()
    assert float(out.detach()) == 2.0 and float(x.grad) == 0.0


def test_trace_round_trip() -> None:
    x, y = S.symbols("x y")
    expr = S.trace(lambda a, b: np.sin(a) * b + a ** 2 - np.exp(b) / 2, "x y")
    assert sp.simplify(expr - (sp.sin(x) * y + x ** 2 - sp.exp(y) / 2)) == 0
    assert S.gradient(S.trace(lambda a, b: a * b + np.log(a), "x y")) == [y + 1 / x, x]
    v = S.trace(lambda v: (v ** 2).sum() + np.maximum(v[0], v[1]), "x y", vector=True)
    assert v == x ** 2 + y ** 2 + sp.Max(x, y)
    m = S.trace(lambda v: np.tanh(v), "x y", vector=True)
    assert m == sp.Matrix([sp.tanh(x), sp.tanh(y)])
    f = S.to_function(expr, "x y")
    assert f(0.5, 1.5) == pytest.approx(np.sin(0.5) * 1.5 + 0.25 - np.exp(1.5) / 2)


def test_trace_limits_are_clear() -> None:
    with pytest.raises(TypeError, match="cannot branch"):
        S.trace(lambda a: a if a > 0 else -a, "x")
    with pytest.raises(TypeError, match="use np.sin"):
        S.trace(lambda a: gk.sin(a), "x")


def test_latex() -> None:
    assert S.latex("x**2/y") == r"\frac{x^{2}}{y}"
