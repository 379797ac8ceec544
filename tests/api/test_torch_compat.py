"""Randomized comparison with a live PyTorch: values, gradients, grad_fn names, reprs, dtypes.

Skipped when PyTorch is not installed. Every case builds the same inputs in
both libraries (seeded NumPy data), runs the same code with ``torch`` bound to
either module, backpropagates the same random cotangent, and compares

- the forward values and their dtype,
- the gradients of every input,
- ``type(out.grad_fn).__name__`` (torch) with ``out.grad_fn.name()`` (gradkit),
- ``repr(out)``, character for character (gradkit prints PyTorch's ``torch.`` names).
"""

from __future__ import annotations

import warnings
import zlib
from typing import Any, Callable

import numpy as np
import pytest

import gradkit

torch = pytest.importorskip("torch")

DTYPES = {"float32": (np.float32, 1e-5, 1e-6), "float64": (np.float64, 1e-11, 1e-12)}


class Case:
    """``fn(lib, *inputs)`` on inputs of ``shapes`` drawn uniformly from ``[low, high]``."""

    def __init__(self, name: str, fn: Callable[..., Any], shapes: list[tuple[int, ...]],
                 low: float = -2.0, high: float = 2.0, grad: bool = True, repr_: bool = True,
                 grad_fn: bool = True) -> None:
        self.name, self.fn, self.shapes = name, fn, shapes
        self.low, self.high, self.grad, self.repr, self.grad_fn = low, high, grad, repr_, grad_fn

    def __repr__(self) -> str:
        return self.name


def _function(name: str) -> Callable[..., Any]:
    return lambda t, x: getattr(t, name)(x)


def _pos(lo: float = 0.2, hi: float = 3.0) -> dict[str, float]:
    return {"low": lo, "high": hi}


CASES = [
    # unary
    *[Case(n, _function(n), [(3, 4)]) for n in (
        "neg", "exp", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "atan", "sinh", "cosh",
        "asinh", "erf", "square", "expm1", "exp2", "sign", "floor", "ceil", "round", "trunc",
        "frac")],
    *[Case(n, _function(n), [(3, 4)], **_pos()) for n in (
        "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal")],
    Case("tan", lambda t, x: t.tan(x), [(3, 4)], low=-1.2, high=1.2),
    Case("asin", lambda t, x: t.asin(x), [(5,)], low=-0.9, high=0.9),
    Case("acos", lambda t, x: t.acos(x), [(5,)], low=-0.9, high=0.9),
    Case("atanh", lambda t, x: t.atanh(x), [(5,)], low=-0.9, high=0.9),
    Case("acosh", lambda t, x: t.acosh(x), [(5,)], low=1.1, high=3.0),
    Case("logit", lambda t, x: t.logit(x), [(5,)], low=0.05, high=0.95),
    # binary, with broadcasting
    Case("add", lambda t, x, y: x + y, [(3, 4), (4,)]),
    Case("add_alpha", lambda t, x, y: t.add(x, y, alpha=2.5), [(3, 4), (3, 1)]),
    Case("sub", lambda t, x, y: x - y, [(3, 1), (1, 4)]),
    Case("mul", lambda t, x, y: x * y, [(2, 3, 4), (3, 4)]),
    Case("div", lambda t, x, y: x / y, [(3, 4), (3, 4)], **_pos()),
    Case("pow", lambda t, x, y: x ** y, [(3, 4), (3, 4)], **_pos(0.5, 2.0)),
    Case("maximum", lambda t, x, y: t.maximum(x, y), [(3, 4), (4,)]),
    Case("minimum", lambda t, x, y: t.minimum(x, y), [(3, 4), (3, 4)]),
    Case("atan2", lambda t, x, y: t.atan2(x, y), [(3, 4), (3, 4)], **_pos()),
    Case("hypot", lambda t, x, y: t.hypot(x, y), [(3, 4), (3, 4)]),
    Case("logaddexp", lambda t, x, y: t.logaddexp(x, y), [(3, 4), (4,)]),
    Case("where", lambda t, x, y: t.where(x > 0, x, y), [(3, 4), (3, 4)]),
    Case("clamp", lambda t, x: t.clamp(x, -0.5, 0.7), [(3, 4)]),
    Case("clamp_min", lambda t, x: x.clamp(min=0.1), [(3, 4)]),
    Case("clamp_tensor", lambda t, x, lo: t.clamp(x, lo, lo + 1), [(3, 4), (4,)]),
    # with Python scalars
    Case("add_scalar", lambda t, x: x + 2, [(3, 4)]),
    Case("rsub_scalar", lambda t, x: 2 - x, [(3, 4)]),
    Case("mul_scalar", lambda t, x: 3 * x, [(3, 4)]),
    Case("div_scalar", lambda t, x: x / 4, [(3, 4)]),
    Case("rdiv_scalar", lambda t, x: 1 / x, [(3, 4)], **_pos()),
    Case("pow_scalar", lambda t, x: x ** 3, [(3, 4)]),
    Case("pow_half", lambda t, x: x ** 0.5, [(3, 4)], **_pos()),
    Case("rpow", lambda t, x: 2 ** x, [(3, 4)]),
    # reductions
    Case("sum", lambda t, x: x.sum(), [(3, 4)]),
    Case("sum_dim", lambda t, x: x.sum(dim=1), [(3, 4)]),
    Case("sum_dims_keepdim", lambda t, x: x.sum(dim=(0, 2), keepdim=True), [(2, 3, 4)]),
    Case("mean", lambda t, x: x.mean(), [(3, 4)]),
    Case("mean_dim", lambda t, x: x.mean(-1, keepdim=True), [(3, 4)]),
    Case("prod", lambda t, x: x.prod(), [(2, 3)]),
    Case("prod_dim", lambda t, x: x.prod(dim=0), [(3, 4)]),
    Case("max", lambda t, x: x.max(), [(3, 4)]),
    Case("min", lambda t, x: x.min(), [(3, 4)]),
    Case("max_dim", lambda t, x: x.max(dim=1).values, [(3, 4)]),
    Case("min_dim_keepdim", lambda t, x: x.min(dim=0, keepdim=True)[0], [(3, 4)]),
    Case("amax", lambda t, x: x.amax(dim=0), [(3, 4)]),
    Case("amin", lambda t, x: t.amin(x, dim=(0, 1)), [(3, 4)]),
    Case("logsumexp", lambda t, x: x.logsumexp(dim=1), [(3, 4)]),
    Case("var", lambda t, x: x.var(), [(3, 4)]),
    Case("var_dim", lambda t, x: x.var(dim=1, unbiased=False), [(3, 4)]),
    Case("std", lambda t, x: x.std(dim=0), [(3, 4)]),
    Case("norm", lambda t, x: x.norm(), [(3, 4)]),
    Case("norm_dim", lambda t, x: x.norm(dim=1), [(3, 4)]),
    Case("norm_p1", lambda t, x: x.norm(p=1), [(3, 4)]),
    Case("norm_p3", lambda t, x: t.norm(x, 3, dim=0), [(3, 4)]),
    Case("cumsum", lambda t, x: x.cumsum(dim=1), [(3, 4)]),
    Case("cumprod", lambda t, x: x.cumprod(dim=0), [(3, 4)]),
    # NOTE: gradkit records dist as LinalgVectorNormBackward0 (PyTorch: DistBackward0)
    Case("dist", lambda t, x, y: t.dist(x, y), [(3, 4), (3, 4)], grad_fn=False, repr_=False),
    # shapes and indexing
    Case("reshape", lambda t, x: x.reshape(4, 3), [(3, 4)]),
    Case("view", lambda t, x: x.view(-1), [(3, 4)]),
    Case("transpose", lambda t, x: x.transpose(0, 1), [(3, 4)]),
    Case("t", lambda t, x: x.t(), [(3, 4)]),
    Case("permute", lambda t, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    Case("unsqueeze", lambda t, x: x.unsqueeze(1), [(3, 4)]),
    Case("squeeze", lambda t, x: x.squeeze(), [(3, 1, 4)]),
    Case("squeeze_dim", lambda t, x: x.squeeze(1), [(3, 1, 4)]),
    Case("expand", lambda t, x: x.expand(2, 3, 4), [(3, 1)]),
    Case("flatten", lambda t, x: x.flatten(1), [(2, 3, 4)]),
    Case("flip", lambda t, x: x.flip(0), [(3, 4)]),
    Case("roll", lambda t, x: x.roll(1, 1), [(3, 4)]),
    Case("repeat", lambda t, x: x.repeat(2, 1), [(3, 4)]),
    Case("cat", lambda t, x, y: t.cat([x, y], dim=1), [(3, 4), (3, 2)]),
    Case("stack", lambda t, x, y: t.stack([x, y]), [(3, 4), (3, 4)]),
    Case("split", lambda t, x: x.split(2, dim=1)[1], [(3, 4)]),
    Case("chunk", lambda t, x: x.chunk(3)[2], [(3, 4)]),
    Case("narrow", lambda t, x: x.narrow(1, 1, 2), [(3, 4)]),
    Case("unbind", lambda t, x: x.unbind(1)[2], [(3, 4)]),
    Case("select", lambda t, x: x[1], [(3, 4)]),
    Case("slice", lambda t, x: x[1:, ::2], [(3, 4)]),
    Case("index_list", lambda t, x: x[[0, 2, 2]], [(3, 4)]),
    Case("index_mask", lambda t, x: x[x > 0], [(3, 4)]),
    Case("index_none", lambda t, x: x[None, :, 1], [(3, 4)]),
    Case("gather", lambda t, x: x.gather(1, t.tensor([[0, 0], [1, 3], [2, 1]])), [(3, 4)]),
    Case("index_select", lambda t, x: x.index_select(0, t.tensor([2, 0])), [(3, 4)]),
    Case("masked_fill", lambda t, x: x.masked_fill(x < 0, 0.5), [(3, 4)]),
    Case("tril", lambda t, x: x.tril(), [(4, 4)]),
    Case("triu", lambda t, x: x.triu(1), [(4, 4)]),
    Case("diagonal", lambda t, x: x.diagonal(), [(3, 4)]),
    Case("diag", lambda t, x: t.diag(x), [(3,)]),
    Case("trace", lambda t, x: x.trace(), [(3, 3)]),
    Case("clone", lambda t, x: x.clone(), [(3, 4)]),
    # products
    Case("matmul_2d", lambda t, x, y: x @ y, [(3, 4), (4, 2)]),
    Case("matmul_1d_2d", lambda t, x, y: x @ y, [(4,), (4, 2)]),
    Case("matmul_2d_1d", lambda t, x, y: x @ y, [(3, 4), (4,)]),
    Case("matmul_1d", lambda t, x, y: x @ y, [(4,), (4,)]),
    Case("matmul_batched", lambda t, x, y: x @ y, [(2, 3, 4), (4, 5)]),
    Case("mm", lambda t, x, y: t.mm(x, y), [(3, 4), (4, 2)]),
    Case("bmm", lambda t, x, y: t.bmm(x, y), [(2, 3, 4), (2, 4, 5)]),
    Case("mv", lambda t, x, y: t.mv(x, y), [(3, 4), (4,)]),
    Case("dot", lambda t, x, y: t.dot(x, y), [(4,), (4,)]),
    Case("outer", lambda t, x, y: t.outer(x, y), [(3,), (4,)]),
    # NOTE: PyTorch's einsum ends in a ViewBackward0; gradkit's node is EinsumBackward0
    Case("einsum", lambda t, x, y: t.einsum("ij,jk->ik", x, y), [(3, 4), (4, 2)], grad_fn=False,
         repr_=False),
    Case("einsum_trace", lambda t, x: t.einsum("ii", x), [(3, 3)], grad_fn=False, repr_=False),
    Case("einsum_batch", lambda t, x, y: t.einsum("bij,bjk->bik", x, y), [(2, 3, 4), (2, 4, 2)],
         grad_fn=False, repr_=False),
    Case("tensordot", lambda t, x, y: t.tensordot(x, y, dims=1), [(3, 4), (4, 2)]),
    # compositions
    Case("softmax_by_hand", lambda t, x: x.exp() / x.exp().sum(dim=1, keepdim=True), [(3, 4)]),
    Case("standardize", lambda t, x: (x - x.mean()) / x.std(), [(3, 4)]),
    Case("softplus_by_hand", lambda t, x: (1 + x.exp()).log(), [(3, 4)]),
    Case("silu_by_hand", lambda t, x: x * x.sigmoid(), [(3, 4)]),
    Case("mse", lambda t, x, y: ((x - y) ** 2).mean(), [(5,), (5,)]),
    Case("linear_layer", lambda t, x, w, b: (x @ w.t() + b).tanh().sum(dim=1),
         [(4, 3), (2, 3), (2,)]),
    Case("attention_scores", lambda t, q, k: (q @ k.transpose(-2, -1) / 2.0).exp().mean(dim=-1),
         [(2, 3, 4), (2, 3, 4)], low=-1.0, high=1.0),
    Case("polynomial", lambda t, x: x ** 3 - 2 * x ** 2 + x * 0.5 - 1, [(6,)]),
    Case("inplace_chain", lambda t, x: _inplace_chain(x), [(3, 4)]),
]


def _inplace_chain(x: Any) -> Any:
    y = x.clone()
    y.mul_(2)
    y[0] = y[0] + y[1]       # add saves nothing, so the later add_ is allowed
    y[1:, 1] = 0.5
    y.add_(1)
    return y.sin()


def _inputs(case: Case, dtype: str, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    npd = DTYPES[dtype][0]
    return [rng.uniform(case.low, case.high, s).astype(npd) for s in case.shapes]


def _run(lib: Any, case: Case, arrays: list[np.ndarray], cotangent_seed: int) -> dict[str, Any]:
    xs = [lib.tensor(a.copy(), requires_grad=case.grad) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = case.fn(lib, *xs)
    result = {"value": out.detach().numpy().copy(), "dtype": str(out.dtype).split(".")[-1],
              "repr": _flat_repr(out), "grads": None, "grad_fn": None}
    if out.grad_fn is not None:
        fn = out.grad_fn
        result["grad_fn"] = fn.name() if lib is gradkit else type(fn).__name__
    if case.grad and out.requires_grad:
        rng = np.random.default_rng(cotangent_seed)
        cot = rng.uniform(-1, 1, tuple(out.shape)).astype(result["value"].dtype)
        out.backward(lib.tensor(cot))
        result["grads"] = [None if x.grad is None else x.grad.numpy().copy() for x in xs]
    return result


def _flat_repr(t: Any) -> str:
    return repr(t)


def _seed(*parts: Any) -> int:
    return zlib.crc32(repr(parts).encode())


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("case", CASES, ids=str)
def test_matches_pytorch(case: Case, dtype: str) -> None:
    seed = _seed(case.name, dtype)
    arrays = _inputs(case, dtype, seed)
    with np.errstate(all="ignore"):
        ours = _run(gradkit, case, arrays, seed + 1)
    theirs = _run(torch, case, arrays, seed + 1)
    _, rtol, atol = DTYPES[dtype]
    assert ours["dtype"] == theirs["dtype"]
    assert ours["value"].shape == theirs["value"].shape
    np.testing.assert_allclose(ours["value"], theirs["value"], rtol=rtol * 10, atol=atol * 10)
    if case.grad_fn:
        assert ours["grad_fn"] == theirs["grad_fn"]
    if case.repr:
        assert ours["repr"] == theirs["repr"]
    if theirs["grads"] is not None:
        assert ours["grads"] is not None
        for g, h in zip(ours["grads"], theirs["grads"]):
            assert (g is None) == (h is None)
            if h is not None:
                assert g.dtype == h.dtype
                np.testing.assert_allclose(g, h, rtol=rtol * 100, atol=atol * 100)


# --- random compositions --------------------------------------------------------------------
UNARY = [
    lambda t, x: x.sin(), lambda t, x: x.tanh(), lambda t, x: x.sigmoid(),
    lambda t, x: (x * x + 1).sqrt(), lambda t, x: (x * 0.5).exp(), lambda t, x: x.abs() + x,
    lambda t, x: x.clamp(-1.0, 1.0), lambda t, x: t.relu(x) - 0.5 * x,
    lambda t, x: (x - x.mean(dim=-1, keepdim=True)), lambda t, x: x.flip(-1),
    lambda t, x: x.exp() / x.exp().sum(-1, keepdim=True),
    lambda t, x: (x ** 2 + 1).log(), lambda t, x: x.cumsum(-1) * 0.3, lambda t, x: x.t().t(),
]
BINARY = [
    lambda t, x, y: x + y, lambda t, x, y: x * y, lambda t, x, y: x - 2 * y,
    lambda t, x, y: x / (y * y + 1), lambda t, x, y: t.maximum(x, y), lambda t, x, y: t.atan2(x, y),
    lambda t, x, y: t.where(x > y, x * y, x + y), lambda t, x, y: (x @ y.t()) @ y * 0.1,
]


def _composition(seed: int) -> Callable[..., Any]:
    rng = np.random.default_rng(seed)
    steps = [(int(rng.integers(2)), int(rng.integers(len(UNARY))), int(rng.integers(len(BINARY))))
             for _ in range(int(rng.integers(3, 7)))]

    def fn(t: Any, x: Any, y: Any) -> Any:
        a, b = x, y
        for kind, u, v in steps:
            a, b = (UNARY[u](t, a), b) if kind == 0 else (BINARY[v](t, a, b), a)
        return a.sum(dim=0) + b.mean()
    return fn


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("seed", range(25))
def test_random_compositions_match_pytorch(seed: int, dtype: str) -> None:
    case = Case(f"composition{seed}", _composition(seed), [(3, 4), (3, 4)], repr_=False)
    arrays = _inputs(case, dtype, seed)
    with np.errstate(all="ignore"):
        ours = _run(gradkit, case, arrays, seed)
    theirs = _run(torch, case, arrays, seed)
    _, rtol, atol = DTYPES[dtype]
    assert ours["dtype"] == theirs["dtype"]
    np.testing.assert_allclose(ours["value"], theirs["value"], rtol=rtol * 100, atol=atol * 100)
    for g, h in zip(ours["grads"], theirs["grads"]):
        np.testing.assert_allclose(g, h, rtol=rtol * 1000, atol=atol * 1000)


# --- dtype promotion ----------------------------------------------------------------------------
PROMO_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _operand(lib: Any, name: str, kind: str) -> Any:
    if kind == "scalar":
        return {"bool": True, "int64": 3, "float32": 2.5}[name]
    value = [1, 0] if kind == "dim" else 1
    return lib.tensor(value, dtype=getattr(lib, name))


# (dtype a, dtype b, kind a, kind b); kinds: "dim" tensor, "zero" 0-d tensor, Python "scalar"
# (whose dtype name stands for bool, int or float)
PROMO_CASES = [(a, b, ka, kb) for a in PROMO_DTYPES for b in PROMO_DTYPES
               for ka, kb in (("dim", "dim"), ("dim", "zero"), ("zero", "dim"), ("zero", "zero"))]
PROMO_CASES += [(a, b, "dim", "scalar") for a in PROMO_DTYPES for b in ("bool", "int64", "float32")]


@pytest.mark.parametrize("a, b, ka, kb", PROMO_CASES)
def test_add_result_dtype_matches_pytorch(a: str, b: str, ka: str, kb: str) -> None:
    expected = str((_operand(torch, a, ka) + _operand(torch, b, kb)).dtype).split(".")[-1]
    got = (_operand(gradkit, a, ka) + _operand(gradkit, b, kb)).dtype.name
    assert got == expected


@pytest.mark.parametrize("expr", [
    "x * 2.5", "x / 2", "x // 2", "x ** 2", "x.sum()", "x.exp()", "x.sqrt()", "x.abs()",
    "x.max()", "x.clamp(0, 1)", "x.clamp(0.5, 1.5)", "x > 1", "x.float().mean()", "-x",
    "x.cumsum(0)", "x.prod()", "x % 2", "x.sign()", "x.round()", "x.floor()",
])
@pytest.mark.parametrize("dtype", ["int32", "int64", "float64"])
def test_unary_result_dtype_matches_pytorch(expr: str, dtype: str) -> None:
    _compare_expr(expr, dtype)


@pytest.mark.parametrize("expr", ["x ** 2", "x.abs()", "x.clamp(0, 1)", "-x", "x.sign()",
                                  "x.round()", "x.floor()", "x * 2.5", "x + 1", "x.sum()", "x > 0",
                                  "x.float().mean()", "x & x", "~x", "x.max()", "x * x"])
def test_bool_tensor_ops_match_pytorch(expr: str) -> None:
    _compare_expr(expr, "bool")


def _compare_expr(expr: str, dtype: str) -> None:
    def run(lib: Any) -> Any:
        x = lib.tensor([1, 2, 0], dtype=getattr(lib, dtype))
        try:
            return eval(expr, {"x": x, "lib": lib})  # noqa: S307
        except (RuntimeError, TypeError, NotImplementedError) as exc:
            return type(exc)

    theirs, ours = run(torch), run(gradkit)
    if isinstance(theirs, type):
        assert ours is theirs
        return
    assert not isinstance(ours, type), f"gradkit raised {ours.__name__}"
    assert ours.dtype.name == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float), rtol=1e-6)


# --- reprs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", [
    "torch.tensor([1.0, 2.0], requires_grad=True)",
    "torch.tensor([1.0, 2.0], requires_grad=True) * 2",
    "torch.tensor([[1.5, -2.0], [3.0, 4.25]], dtype=torch.float64, requires_grad=True).sum(0)",
    "torch.tensor([1, 2, 3])",
    "torch.tensor(3.5, requires_grad=True) ** 2",
    "torch.tensor([1e-5, 1.0])",
    "torch.tensor([1e6, 2.0])",
    "torch.tensor([True, False])",
    "torch.zeros(2, 0)",
    "torch.arange(12.).reshape(3, 4) / 7",
    "torch.tensor([1.0, float('nan'), float('inf')])",
    "torch.tensor([1.0, 2.0], requires_grad=True).max(dim=0)",
    "torch.tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True).max(dim=1)",
    "torch.tensor([[1.0, 5.0], [7.0, 2.0]]).sort(dim=1)",
    "torch.tensor([[1.0, 5.0], [7.0, 2.0]]).shape",
    "torch.float64",
])
def test_repr_matches_pytorch(code: str) -> None:
    expected = repr(eval(code, {"torch": torch}))  # noqa: S307
    got = repr(eval(code, {"torch": gradkit}))  # noqa: S307
    assert got == expected
