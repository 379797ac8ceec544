"""Property tests: random compositions of operations, gradient vs central differences.

Hypothesis draws an expression over two float64 inputs of shape (3, 4) from
smooth unary, binary and reduction operations (reductions keep their dims, so
every intermediate broadcasts against the others). Each operation has a NumPy
twin; the NumPy expression is the reference for the forward value and for the
central finite differences the backward pass is checked against.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import gradkit as gk  # noqa: E402

SHAPE = (3, 4)
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None)


def _np_sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _np_logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = a.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


# name -> (gradkit function, NumPy function); all smooth on the whole real line
UNARY: dict[str, tuple[Callable[..., Any], Callable[..., np.ndarray]]] = {
    "sin": (gk.sin, np.sin),
    "cos": (lambda x: x.cos(), np.cos),
    "tanh": (gk.tanh, np.tanh),
    "sigmoid": (lambda x: x.sigmoid(), _np_sigmoid),
    "atan": (gk.atan, np.arctan),
    "softplus": (lambda x: gk.log1p(gk.exp(x)), lambda a: np.log1p(np.exp(a))),
    "half_square": (lambda x: x * x * 0.5, lambda a: a * a * 0.5),
    "smooth_abs": (lambda x: gk.sqrt(x ** 2 + 1.0), lambda a: np.sqrt(a ** 2 + 1.0)),
    "exp_tanh": (lambda x: gk.exp(gk.tanh(x)), lambda a: np.exp(np.tanh(a))),
    "neg_cube": (lambda x: -(x ** 3) * 0.1, lambda a: -(a ** 3) * 0.1),
    "log_cosh": (lambda x: gk.log(gk.cosh(x)), lambda a: np.log(np.cosh(a))),
    "flip": (lambda x: x.flip(-1), lambda a: a[..., ::-1]),
    "cumsum": (lambda x: x.cumsum(-1) * 0.5, lambda a: np.cumsum(a, axis=-1) * 0.5),
    "transpose_twice": (lambda x: x.t().contiguous().t(), lambda a: a),
}

BINARY: dict[str, tuple[Callable[..., Any], Callable[..., np.ndarray]]] = {
    "add": (lambda x, y: x + y, np.add),
    "sub": (lambda x, y: x - 2.0 * y, lambda a, b: a - 2.0 * b),
    "mul": (lambda x, y: x * y, np.multiply),
    "div": (lambda x, y: x / (y * y + 1.0), lambda a, b: a / (b * b + 1.0)),
    "pow": (lambda x, y: (x * x + 1.0) ** (0.5 * gk.tanh(y)),
            lambda a, b: (a * a + 1.0) ** (0.5 * np.tanh(b))),
    "atan2": (lambda x, y: gk.atan2(x, y * y + 1.0), lambda a, b: np.arctan2(a, b * b + 1.0)),
    "logaddexp": (gk.logaddexp, np.logaddexp),
    "hypot1": (lambda x, y: gk.sqrt(x * x + y * y + 1.0), lambda a, b: np.sqrt(a * a + b * b + 1.0)),
}

REDUCE: dict[str, tuple[Callable[..., Any], Callable[..., np.ndarray]]] = {
    "sum": (lambda x, d: x.sum(dim=d, keepdim=True), lambda a, d: a.sum(axis=d, keepdims=True)),
    "mean": (lambda x, d: x.mean(d, keepdim=True), lambda a, d: a.mean(axis=d, keepdims=True)),
    "logsumexp": (lambda x, d: gk.logsumexp(x, d, keepdim=True), _np_logsumexp),
    "prod": (lambda x, d: (x * 0.5).prod(d, keepdim=True),
             lambda a, d: (a * 0.5).prod(axis=d, keepdims=True)),
    # population variance: reductions may reach a dim of size 1, where ddof=1 gives nan
    "var": (lambda x, d: x.var(d, unbiased=False, keepdim=True),
            lambda a, d: a.var(axis=d, keepdims=True)),
    "smooth_norm": (lambda x, d: gk.sqrt((x * x).sum(d, keepdim=True) + 1.0),
                    lambda a, d: np.sqrt((a * a).sum(axis=d, keepdims=True) + 1.0)),
}


def _expressions() -> st.SearchStrategy:
    leaves = st.sampled_from([("x",), ("y",)])

    def extend(children: st.SearchStrategy) -> st.SearchStrategy:
        return st.one_of(
            st.tuples(st.just("unary"), st.sampled_from(sorted(UNARY)), children),
            st.tuples(st.just("binary"), st.sampled_from(sorted(BINARY)), children, children),
            st.tuples(st.just("reduce"), st.sampled_from(sorted(REDUCE)),
                      st.sampled_from([0, 1, -1]), children),
        )
    shrinkable = st.recursive(leaves, extend, max_leaves=6)
    # hypothesis' recursive trees are mostly shallow; seeded deep ones add variety
    return st.one_of(shrinkable, st.integers(0, 2 ** 32 - 1).map(_deep_expression))


def _deep_expression(seed: int, depth: int = 4) -> tuple:
    rng = np.random.default_rng(seed)

    def build(d: int) -> tuple:
        if d == 0 or rng.random() < 0.15:
            return ("x",) if rng.random() < 0.5 else ("y",)
        kind = str(rng.choice(["unary", "binary", "binary", "reduce"]))
        if kind == "unary":
            return ("unary", str(rng.choice(sorted(UNARY))), build(d - 1))
        if kind == "binary":
            return ("binary", str(rng.choice(sorted(BINARY))), build(d - 1), build(d - 1))
        return ("reduce", str(rng.choice(sorted(REDUCE))), int(rng.choice([0, 1, -1])),
                build(d - 1))
    return build(depth)


def evaluate(expr: tuple, env: dict[str, Any], lib: str) -> Any:
    """Evaluate ``expr`` with gradkit (``lib='gk'``) or NumPy (``lib='np'``)."""
    k = 0 if lib == "gk" else 1
    kind = expr[0]
    if kind in env:
        return env[kind]
    if kind == "unary":
        return UNARY[expr[1]][k](evaluate(expr[2], env, lib))
    if kind == "binary":
        return BINARY[expr[1]][k](evaluate(expr[2], env, lib), evaluate(expr[3], env, lib))
    return REDUCE[expr[1]][k](evaluate(expr[3], env, lib), expr[2])


def central_difference(f: Callable[[np.ndarray], float], a: np.ndarray, eps: float = 1e-6
                       ) -> np.ndarray:
    """d f / d a by (f(a + eps e_i) - f(a - eps e_i)) / (2 eps)."""
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up) - f(down)) / (2 * eps)
    return g


arrays = hnp.arrays(np.float64, SHAPE, elements=st.floats(-2.0, 2.0, allow_nan=False))


def _check_gradients(expr: tuple, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> None:
    def reference(xa: np.ndarray, ya: np.ndarray) -> float:
        out = np.broadcast_to(evaluate(expr, {"x": xa, "y": ya}, "np"), SHAPE)
        return float((out * w).sum())

    x = gk.tensor(a, requires_grad=True)
    y = gk.tensor(b, requires_grad=True)
    out = evaluate(expr, {"x": x, "y": y}, "gk")
    value = (out.expand(*SHAPE) * gk.tensor(w)).sum()
    assert value.dtype is gk.float64
    np.testing.assert_allclose(value.item(), reference(a, b), rtol=1e-10, atol=1e-10)
    value.backward()
    gx = central_difference(lambda t: reference(t, b), a)
    gy = central_difference(lambda t: reference(a, t), b)
    for got, want in ((x.grad, gx), (y.grad, gy)):
        if got is None:             # the expression does not use that input
            np.testing.assert_allclose(want, 0.0, atol=1e-6)
        else:
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


@SETTINGS
@given(expr=_expressions(), a=arrays, b=arrays, w=arrays)
def test_random_composition_gradients_match_finite_differences(expr, a, b, w) -> None:
    _check_gradients(expr, a, b, w)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(name=st.sampled_from(sorted(UNARY)), a=arrays, w=arrays)
def test_each_unary_op_gradient_matches_finite_differences(name, a, w) -> None:
    _check_gradients(("unary", name, ("x",)), a, a, w)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(name=st.sampled_from(sorted(BINARY)), a=arrays, b=arrays, w=arrays)
def test_each_binary_op_gradient_matches_finite_differences(name, a, b, w) -> None:
    _check_gradients(("binary", name, ("x",), ("y",)), a, b, w)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(name=st.sampled_from(sorted(REDUCE)), dim=st.sampled_from([0, 1, -1]), a=arrays, w=arrays)
def test_each_reduction_gradient_matches_finite_differences(name, dim, a, w) -> None:
    _check_gradients(("reduce", name, dim, ("x",)), a, a, w)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(expr=_expressions(), a=arrays, b=arrays, c1=st.floats(-3, 3), c2=st.floats(-3, 3))
def test_backward_is_linear_in_the_output(expr, a, b, c1, c2) -> None:
    """grad(c1 f + c2 g) = c1 grad f + c2 grad g, and two backward calls accumulate."""
    def grads(weights: tuple[float, float], calls: int = 1) -> np.ndarray:
        x = gk.tensor(a, requires_grad=True)
        y = gk.tensor(b, requires_grad=True)
        env = {"x": x, "y": y}
        f = evaluate(expr, env, "gk").sum()
        g = (x * y).sin().sum()
        total = weights[0] * f + weights[1] * g
        for _ in range(calls):
            total.backward(retain_graph=True)
        return x.grad.numpy()

    combined = grads((c1, c2))
    separate = c1 * grads((1.0, 0.0)) + c2 * grads((0.0, 1.0))
    np.testing.assert_allclose(combined, separate, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(grads((c1, c2), calls=2), 2 * combined, rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(expr=_expressions(), a=arrays, b=arrays, v=arrays)
def test_double_backward_matches_finite_differences_of_the_gradient(expr, a, b, v) -> None:
    """d/dx <grad_x f(x, y), v> against central differences of the first gradient."""
    def f(x: Any) -> Any:
        # the cos factor makes f depend on x whatever expr is
        return (evaluate(expr, {"x": x, "y": gk.tensor(b)}, "gk") * gk.cos(x * 0.3)).sum()

    def first_grad(xa: np.ndarray) -> np.ndarray:
        x = gk.tensor(xa, requires_grad=True)
        return gk.autograd.grad(f(x), x)[0].numpy()

    x = gk.tensor(a, requires_grad=True)
    (g,) = gk.autograd.grad(f(x), x, create_graph=True)
    assert g.requires_grad
    (hv,) = gk.autograd.grad((g * gk.tensor(v)).sum(), x)
    want = central_difference(lambda t: float((first_grad(t) * v).sum()), a, eps=1e-5)
    np.testing.assert_allclose(hv.numpy(), want, rtol=1e-4, atol=1e-5)
