"""Live sweep against PyTorch at nan, +-inf, +-0 and ordinary values: forward values and
gradients of the table's rows and of nn.functional, in float64; plus the integer-range and
index errors (type and message). Skipped when PyTorch is not installed; the cases fixed
against it are recorded as literals in test_numbers_conventions.py, which needs no torch.

Values must agree exactly at nan/inf positions and to 1e-12 (relative; 1e-15 absolute)
elsewhere. ``DEVIATIONS`` lists, with the reason, the few places where gradkit keeps a
different answer on purpose.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import gradkit

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")
SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 1.5, -1.5, 1.0, -1.0, 0.5, 2.5, -3.0]

UNARY = ("abs acos acosh asin asinh atan atanh ceil cos cosh deg2rad erf erfc exp exp2 expm1 "
         "floor frac log log10 log1p log2 logit neg reciprocal relu round rsqrt sigmoid sign sin "
         "sinc sinh sqrt square tan tanh trunc nan_to_num signbit isnan isinf isfinite lgamma "
         "digamma").split()
FUNCTIONAL = ("relu relu6 elu selu celu gelu silu mish softplus softsign hardtanh hardsigmoid "
              "hardswish leaky_relu logsigmoid tanhshrink softshrink hardshrink").split()
UNARY_CODES = ([f"t.{op}(x)" for op in UNARY] + [f"F.{f}(x)" for f in FUNCTIONAL] + [
    "F.gelu(x, approximate='tanh')", "F.threshold(x, 0.5, -1.0)", "t.clamp(x, -1.0, 1.0)",
    "t.clamp(x, min=0.0)", "t.clamp(x, max=0.0)", "x ** 2", "x ** 0.5", "x ** 0", "x ** -1",
    "x ** 3", "x ** 1.5", "2.0 ** x", "(-2.0) ** x", "0.0 ** x", "t.xlogy(x, 2.0)",
    "t.polygamma(1, x)"])
BINARY = ("add sub mul div atan2 maximum minimum fmax fmin hypot pow fmod remainder copysign "
          "xlogy logaddexp logaddexp2 floor_divide").split()
BINARY_CODES = ([f"t.{op}(x, y)" for op in BINARY] + [
    "t.where(x > 0, x, y)", "t.clamp(x, min=y)", "t.clamp(x, max=y)", "t.lerp(x, y, 0.3)",
    "F.mse_loss(x, y, reduction='none')", "F.l1_loss(x, y, reduction='none')",
    "F.smooth_l1_loss(x, y, reduction='none')", "F.huber_loss(x, y, reduction='none')",
    "F.binary_cross_entropy_with_logits(x, t.sigmoid(y), reduction='none')",
    "F.soft_margin_loss(x, t.sign(y).detach(), reduction='none')",
    "F.poisson_nll_loss(x, t.abs(y), reduction='none')",
    "F.kl_div(x, t.abs(y).detach(), reduction='none')", "F.cosine_similarity(x[None], y[None])",
    "F.pairwise_distance(x[None], y[None])"])
ROW_CODES = [
    "x.max()", "x.min()", "x.amax()", "x.amin()", "x.max(1)[0]", "x.min(1)[0]", "x.amax(1)",
    "x.amin(1)", "x.sum(1)", "x.mean(1)", "x.prod(1)", "x.std(1)", "x.var(1)", "x.std()",
    "x.var()", "x.norm(dim=1)", "x.norm(p=1, dim=1)", "t.logsumexp(x, 1)", "t.softmax(x, 1)",
    "t.log_softmax(x, 1)", "F.softmin(x, 1)", "x.cumsum(1)", "x.cumprod(1)",
    "t.logcumsumexp(x, 1)", "x.median(1)[0]", "x.median()", "x.sort(1)[0]",
    "x.sort(1, descending=True)[0]", "x.topk(2, 1)[0]", "x.topk(2, 1, largest=False)[0]",
    "x.cummax(1)[0]", "x.cummin(1)[0]", "x.nansum(1)", "x.nanmean(1)", "F.normalize(x, dim=1)",
    "t.linalg.vector_norm(x, dim=1)", "t.dist(x, x * 0, 2)", "t.diff(x, dim=1)",
    "F.layer_norm(x, (3,))", "x.renorm(2, 0, 1.0)",
    "F.cross_entropy(x, t.zeros(x.shape[0], dtype=t.long), reduction='none')"]

# code -> (what to skip, why)
DEVIATIONS = {
    "F.hardsigmoid(x)": ("grad", "PyTorch's kernel uses a float32 1/6 (gradkit: exact 1/6)"),
    "t.digamma(x)": ("grad", "trigamma at the poles: PyTorch's series gives 6.6e32, not inf"),
    "t.polygamma(1, x)": ("all", "trigamma at the poles: PyTorch's series gives 6.6e32"),
    "t.logit(x)": ("grad", "sign of the infinite slope at -0.0"),
    "F.soft_margin_loss(x, t.sign(y).detach(), reduction='none')": (
        "grad", "at x * y = -inf PyTorch's exp(z) / (1 + exp(z)) is inf / inf = nan; gradkit -y"),
    "x.renorm(2, 0, 1.0)": ("grad", "PyTorch's fused rule; gradkit's composite is nan there"),
}


# PyTorch's vectorized and scalar kernels give different gradients at nan here (elu's
# vectorized lanes give nan, its scalar tail 1; relu6/hardtanh 0 and 1): no convention to match.
NAN_SPLIT = {"F.elu(x)", "F.selu(x)", "F.celu(x)", "F.hardswish(x)", "F.relu6(x)",
             "F.hardtanh(x)", "F.softshrink(x)", "F.hardshrink(x)"}


def _eval(lib: Any, code: str, arrays: list[np.ndarray]) -> Any:
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    env = {"x": xs[0], "y": xs[-1]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = eval(code, {"t": lib, "F": lib.nn.functional}, env)
        except Exception as e:              # noqa: BLE001 - the error itself is compared
            return ("raises", type(e).__name__), None
        out = out[0] if isinstance(out, tuple) else out
        value = out.detach().numpy().copy()
        if not out.requires_grad:
            return value, None
        try:
            grads = lib.autograd.grad(out.sum(), xs, allow_unused=True)
        except RuntimeError:                # PyTorch has no derivative (floor_divide)
            return value, None
    return value, [None if g is None else g.numpy().copy() for g in grads]


def _agree(a: Any, b: Any) -> bool:
    if a is None or b is None:
        other = b if a is None else a
        return other is None or not np.any(other)       # None and zeros are both "no gradient"
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    same_nan = np.isnan(a) == np.isnan(b)
    close = np.isclose(a, b, rtol=1e-12, atol=1e-15) | (a == b) | (np.isnan(a) & np.isnan(b))
    return bool(np.all(same_nan & close))


def _compare(code: str, arrays: list[np.ndarray]) -> None:
    skip = DEVIATIONS.get(code, ("none", ""))[0]
    (gv, gg), (tv, tg) = _eval(gradkit, code, arrays), _eval(torch, code, arrays)
    if isinstance(tv, tuple) or isinstance(gv, tuple):
        assert isinstance(tv, tuple) and isinstance(gv, tuple), f"{code}: gradkit {gv}, torch {tv}"
        return
    if skip != "all":
        assert _agree(gv, tv), f"{code} value at {arrays}: gradkit {gv}, torch {tv}"
    if skip in ("grad", "all") or gg is None or tg is None:
        return
    for i, (a, b) in enumerate(zip(gg, tg)):
        if code in NAN_SPLIT and a is not None and b is not None:
            keep = ~np.isnan(arrays[0])
            a, b = a[keep], b[keep]
        assert _agree(a, b), f"{code} grad {i} at {arrays}: gradkit {a}, torch {b}"


@pytest.mark.parametrize("code", UNARY_CODES)
def test_unary_at_special_values(code: str) -> None:
    for a in SPECIAL:            # one element at a time: PyTorch's scalar kernels
        _compare(code, [np.array([a])])


@pytest.mark.parametrize("code", UNARY_CODES)
def test_unary_vectorized_at_special_values(code: str) -> None:
    _compare(code, [np.array(SPECIAL * 2)])


@pytest.mark.parametrize("code", BINARY_CODES)
def test_binary_at_special_values(code: str) -> None:
    a, b = np.meshgrid(SPECIAL, SPECIAL)
    _compare(code, [a.ravel(), b.ravel()])


def _rows() -> np.ndarray:
    rows = []
    for s in (NAN, INF, -INF):
        rows += [[1.0, s, 3.0], [s, s, 1.0], [s, 2.0, 2.5], [s, -s if s == s else 1.0, 0.5]]
    rows += [[INF, NAN, 1.0], [0.0, 0.0, 0.0], [-0.0, 0.0, 1.0], [2.0, 2.0, 2.0], [0.5, 1.5, -2.0]]
    return np.array(rows)


@pytest.mark.parametrize("code", ROW_CODES)
def test_reductions_over_rows_holding_special_values(code: str) -> None:
    rows = _rows()
    if code.startswith(("x.max()", "x.min()", "x.amax()", "x.amin()", "x.median()", "x.std()",
                        "x.var()")):
        for r in rows:           # a full reduction sees one special pattern at a time
            _compare(code, [r[None, :]])
    else:
        _compare(code, [rows])


# --- integer ranges and index errors: the same type and message ----------------------------
ERROR_CASES = [
    "t.tensor(2 ** 63)", "t.tensor([2 ** 63])", "t.tensor(-2 ** 63 - 1)",
    "t.tensor([300], dtype=t.uint8)", "t.tensor([-256], dtype=t.uint8)",
    "t.tensor([-255], dtype=t.uint8)", "t.tensor([200], dtype=t.int8)",
    "t.tensor([2 ** 40], dtype=t.int32)", "t.tensor([255.9], dtype=t.uint8)",
    "t.tensor([float('nan')], dtype=t.int64)", "t.full((2,), 300, dtype=t.uint8)",
    "t.full((2,), -1, dtype=t.uint8)", "t.full((2,), 2 ** 63)",
    "t.zeros(2, dtype=t.uint8).fill_(300)", "t.zeros(2, dtype=t.int8).fill_(-129)",
    "t.arange(2 ** 63 - 2, 2 ** 63 + 1)",
    "t.zeros(2, dtype=t.uint8).masked_fill(t.tensor([True, False]), 300)",
    "t.gather(t.arange(3.), 0, t.tensor([-1]))", "t.gather(t.arange(3.), 0, t.tensor([3]))",
    "t.index_select(t.arange(3.), 0, t.tensor([-1]))",
    "t.zeros(3).scatter_add(0, t.tensor([-1]), t.ones(1))",
    "t.zeros(3).scatter(0, t.tensor([3]), t.ones(1))",
    "t.zeros(3).scatter_reduce(0, t.tensor([-1]), t.ones(1), 'sum')",
    "t.zeros(3).index_add(0, t.tensor([-1]), t.ones(1))",
    "t.zeros(3).index_copy(0, t.tensor([-1]), t.ones(1))",
    "t.take(t.arange(3.), t.tensor([3]))", "t.take(t.arange(3.), t.tensor([-1]))",
    "t.topk(t.arange(3.), 5)", "t.topk(t.arange(3.), -1)", "t.topk(t.tensor(3.), 2)",
    "t.kthvalue(t.arange(3.), 4)", "t.gather(t.ones(3, 4), 0, t.tensor([[2] * 5]))",
    "t.gather(t.arange(12.).reshape(3, 4), 0, t.tensor([[2], [1]]))",
    "t.zeros(3, 4).scatter_add(0, t.tensor(1), t.tensor(5.))",
    "t.zeros(3).scatter_add(0, t.tensor(1), t.tensor(5.))",
    "t.diag_embed(t.arange(24.).reshape(2, 3, 4), 1, 0, 2)",
    "t.tensor([0, 1, 2], dtype=t.uint8).sort(descending=True)[0]",
    "t.zeros(3, 4).scatter(0, t.tensor([1]), 1.0)",
    "t.zeros(3, 4).scatter(0, t.tensor([[1] * 5]), 1.0)",
    "t.zeros(1).new_tensor([300], dtype=t.uint8)", "t.randint(0, 300, (2,), dtype=t.uint8)",
    "t.full((2,), 1e300)", "t.zeros(2).fill_(1e300)", "t.tensor([1e300], dtype=t.float32)",
    "t.take_along_dim(t.arange(12.).reshape(3, 4), t.tensor([[0], [1]]), 0)",
    "t.take_along_dim(t.arange(12.).reshape(3, 4), t.tensor([5, -1]))",
]


def _outcome(lib: Any, code: str) -> Any:
    try:
        res = eval(code, {"t": lib})
    except Exception as e:                  # noqa: BLE001 - the error itself is compared
        return ("raises", type(e).__name__, str(e).split("\n")[0])
    return ("value", res.tolist())


@pytest.mark.parametrize("code", ERROR_CASES)
def test_integer_ranges_and_indices_match_pytorch(code: str) -> None:
    assert _outcome(gradkit, code) == _outcome(torch, code)
