"""``gradkit.nn.functional`` against PyTorch (values and gradients), plus checks that need no torch.

Each PyTorch case is one callable ``fn(F, *inputs)`` run with ``F`` bound to
``gradkit.nn.functional`` and to ``torch.nn.functional`` on the same float64
inputs. Floating inputs require grad, except those wrapped in ``Const``
(targets, running statistics, class weights); a fixed random cotangent is
pulled back through every floating output and the gradients compared. Inputs
that the call changes in place (running statistics) are compared afterwards.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F

RNG = np.random.default_rng


class Const:
    """A floating input that does not require grad."""

    def __init__(self, a: Any) -> None:
        self.a = np.asarray(a, dtype=np.float64)


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


# --- inputs -------------------------------------------------------------------------------
def U(*shape: int, low: float = -2.0, high: float = 2.0, seed: int = 0) -> np.ndarray:
    return RNG(seed).uniform(low, high, shape)


def I(high: int, *shape: int, seed: int = 1) -> np.ndarray:  # noqa: E743
    return RNG(seed).integers(0, high, shape).astype(np.int64)


def probs(*shape: int, dim: int = 1, seed: int = 2) -> np.ndarray:
    e = np.exp(RNG(seed).normal(size=shape))
    return e / e.sum(axis=dim, keepdims=True)


#: every activation meets its kinks, the softplus threshold and logits of +-1e4
KINKS = np.array([-1e4, -25.0, -21.0, -20.0, -7.0, -6.0, -3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0,
                  1.5, 2.5, 3.0, 5.0, 6.0, 7.0, 10.0, 20.0, 21.0, 25.0, 1e4])
ACT = np.concatenate([KINKS, U(15, low=-5.0, high=5.0)])


def _float_input(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _run(lib: Any, fn: Callable[..., Any], inputs: list[Any], torch: Any = None) -> tuple[list, list, list]:
    """Outputs, gradients of the float inputs, and the values of every input after the call."""
    if lib is gk:
        make, f = (lambda a, rg: gk.tensor(a, requires_grad=rg)), F
    else:
        import torch.nn.functional as f
        make = lambda a, rg: torch.tensor(a, requires_grad=rg)  # noqa: E731
    args = [make(a.a.copy(), False) if isinstance(a, Const) else make(a.copy(), _float_input(a))
            for a in inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(f, *args)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    floats = [o for o in outs if o.dtype in (gk.float64, getattr(torch, "float64", None))]
    total = None
    for k, o in enumerate(floats):
        cot = RNG(100 + k).normal(size=tuple(o.shape))
        term = (o * make(cot, False)).sum()
        total = term if total is None else total + term
    leaves = [a for a, src in zip(args, inputs) if _float_input(src)]
    if total is not None and total.requires_grad:
        total.backward()
    grads = [None if t.grad is None else t.grad.detach().numpy() for t in leaves]
    return ([o.detach().numpy() for o in outs], grads, [a.detach().numpy() for a in args])


def compare(torch: Any, fn: Callable[..., Any], *inputs: Any, rtol: float = 1e-7,
            atol: float = 1e-9) -> None:
    got_out, got_grad, got_after = _run(gk, fn, list(inputs))
    ref_out, ref_grad, ref_after = _run(torch, fn, list(inputs), torch)
    assert len(got_out) == len(ref_out)
    for g, r in zip(got_out, ref_out):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg="forward")
    for i, (g, r) in enumerate(zip(got_grad, ref_grad)):
        if r is None:
            assert g is None or not np.any(g), f"gradient {i}: PyTorch gives none"
            continue
        assert g is not None, f"gradient {i}: missing"
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")
    for i, (g, r) in enumerate(zip(got_after, ref_after)):
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg=f"input {i} after the call")


def case(id: str, fn: Callable[..., Any], *inputs: Any, **tol: float) -> Any:
    return pytest.param(fn, inputs, tol, id=id)


# --- the PyTorch comparison table -----------------------------------------------------------
ACTIVATIONS = [
    case("relu", lambda F, x: F.relu(x), ACT),
    case("relu6", lambda F, x: F.relu6(x), ACT),
    case("leaky_relu", lambda F, x: F.leaky_relu(x, 0.2), ACT),
    case("elu", lambda F, x: F.elu(x), ACT),
    case("elu-alpha", lambda F, x: F.elu(x, alpha=0.5), ACT),
    case("selu", lambda F, x: F.selu(x), ACT),
    case("celu", lambda F, x: F.celu(x, alpha=2.0), ACT),
    case("gelu", lambda F, x: F.gelu(x), ACT),
    case("gelu-tanh", lambda F, x: F.gelu(x, approximate="tanh"), ACT),
    case("silu", lambda F, x: F.silu(x), ACT),
    case("mish", lambda F, x: F.mish(x), ACT),
    case("softplus", lambda F, x: F.softplus(x), ACT),
    case("softplus-beta", lambda F, x: F.softplus(x, beta=2.0, threshold=5.0), ACT),
    case("softsign", lambda F, x: F.softsign(x), ACT),
    case("hardtanh", lambda F, x: F.hardtanh(x), ACT),
    case("hardtanh-bounds", lambda F, x: F.hardtanh(x, -2.0, 0.5), ACT),
    case("hardsigmoid", lambda F, x: F.hardsigmoid(x), ACT),
    case("hardswish", lambda F, x: F.hardswish(x), ACT),
    case("sigmoid", lambda F, x: F.sigmoid(x), ACT),
    case("tanh", lambda F, x: F.tanh(x), ACT),
    case("logsigmoid", lambda F, x: F.logsigmoid(x), ACT),
    case("relu-inplace", lambda F, x: F.relu(x * 1.0, inplace=True), ACT),
    case("elu-inplace", lambda F, x: F.elu(x * 1.0, inplace=True), ACT),
    case("hardtanh-inplace", lambda F, x: F.hardtanh(x * 1.0, inplace=True), ACT),
]

BIG = np.array([[1e4, 0.0, -1e4, 3.0], [1.0, 2.0, 3.0, 4.0], [-1e4, -1e4, 0.0, 0.5]])

SOFTMAX = [
    case("softmax-dim1", lambda F, x: F.softmax(x, dim=1), U(3, 4, 5)),
    case("softmax-dim-1", lambda F, x: F.softmax(x, -1), U(3, 4, 5)),
    case("softmax-implicit", lambda F, x: F.softmax(x), U(3, 4, 5)),
    case("softmax-big", lambda F, x: F.softmax(x, 1), BIG),
    case("log_softmax-dim0", lambda F, x: F.log_softmax(x, 0), U(3, 4, 5)),
    case("log_softmax-big", lambda F, x: F.log_softmax(x, 1), BIG),
    case("log_softmax-1d", lambda F, x: F.log_softmax(x, 0), U(5)),
    case("softmin", lambda F, x: F.softmin(x, 2), U(3, 4, 5)),
    case("softmax-dtype", lambda F, x: F.softmax(x.float(), 1, dtype=x.dtype), U(3, 4)),
    case("glu", lambda F, x: F.glu(x), U(4, 6)),
    case("glu-dim0", lambda F, x: F.glu(x, 0), U(4, 6)),
    case("normalize", lambda F, x: F.normalize(x), np.vstack([U(3, 4), np.zeros((1, 4))])),
    case("normalize-p1", lambda F, x: F.normalize(x, p=1.0, dim=0), U(3, 4)),
]

LAYERS = [
    case("linear", lambda F, x, w, b: F.linear(x, w, b), U(4, 3), U(5, 3, seed=1), U(5, seed=2)),
    case("linear-nobias-3d", lambda F, x, w: F.linear(x, w), U(2, 4, 3), U(5, 3, seed=1)),
    case("bilinear", lambda F, a, b, w, c: F.bilinear(a, b, w, c), U(4, 3), U(4, 2, seed=1),
         U(5, 3, 2, seed=2), U(5, seed=3)),
    case("bilinear-3d", lambda F, a, b, w: F.bilinear(a, b, w), U(2, 3, 3), U(2, 3, 2, seed=1),
         U(4, 3, 2, seed=2)),
    case("embedding", lambda F, i, w: F.embedding(i, w), np.array([[0, 2, 2], [5, 1, 0]]), U(6, 4)),
    case("embedding-padding", lambda F, i, w: F.embedding(i, w, padding_idx=2),
         np.array([[0, 2, 2], [5, 1, 0]]), U(6, 4)),
    case("embedding-negative-padding", lambda F, i, w: F.embedding(i, w, padding_idx=-1),
         np.array([[0, 5, 2], [5, 1, 0]]), U(6, 4)),
    case("embedding-freq", lambda F, i, w: F.embedding(i, w, scale_grad_by_freq=True),
         np.array([[0, 2, 2], [5, 2, 0]]), U(6, 4)),
    case("embedding-max_norm", lambda F, i, w: F.embedding(i, w * 1.0, max_norm=1.5),
         np.array([[0, 2, 2], [5, 1, 0]]), U(6, 4)),
]

PADS = [
    case("pad-constant", lambda F, x: F.pad(x, (1, 2)), U(2, 3, 4)),
    case("pad-constant-value", lambda F, x: F.pad(x, (1, 0, 2, 1), value=0.5), U(2, 3, 4)),
    case("pad-constant-crop", lambda F, x: F.pad(x, (-1, 2, 0, -1)), U(2, 3, 4)),
    case("pad-reflect-1d", lambda F, x: F.pad(x, (2, 3), mode="reflect"), U(2, 3, 5)),
    case("pad-reflect-2d", lambda F, x: F.pad(x, (1, 2, 2, 1), mode="reflect"), U(2, 2, 4, 5)),
    case("pad-replicate-2d", lambda F, x: F.pad(x, (3, 1, 0, 2), mode="replicate"), U(2, 2, 4, 5)),
    case("pad-replicate-3d", lambda F, x: F.pad(x, (1, 1, 0, 2, 1, 0), mode="replicate"), U(1, 2, 2, 3, 3)),
    case("pad-circular-1d", lambda F, x: F.pad(x, (2, 1), mode="circular"), U(2, 3, 4)),
    case("pad-circular-2d", lambda F, x: F.pad(x, (1, 2, 3, 0), mode="circular"), U(1, 2, 3, 4)),
]

CONV = [
    case("conv1d", lambda F, x, w, b: F.conv1d(x, w, b), U(2, 3, 9), U(4, 3, 3, seed=1), U(4, seed=2)),
    case("conv1d-stride-pad-dil-groups", lambda F, x, w: F.conv1d(x, w, stride=2, padding=2, dilation=2,
                                                                 groups=2), U(2, 4, 11), U(6, 2, 3, seed=1)),
    case("conv1d-same", lambda F, x, w: F.conv1d(x, w, padding="same"), U(2, 3, 7), U(2, 3, 4, seed=1)),
    case("conv1d-valid-unbatched", lambda F, x, w: F.conv1d(x, w, padding="valid"), U(3, 7),
         U(2, 3, 4, seed=1)),
    case("conv2d", lambda F, x, w, b: F.conv2d(x, w, b, padding=1), U(2, 3, 6, 6), U(4, 3, 3, 3, seed=1),
         U(4, seed=2)),
    case("conv2d-stride-pad-dil",
         lambda F, x, w: F.conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
         U(2, 2, 8, 7), U(3, 2, 3, 2, seed=1)),
    case("conv2d-groups", lambda F, x, w: F.conv2d(x, w, padding=1, groups=2), U(2, 4, 5, 5),
         U(6, 2, 3, 3, seed=1)),
    case("conv2d-depthwise", lambda F, x, w: F.conv2d(x, w, groups=3), U(2, 3, 5, 5), U(3, 1, 2, 2, seed=1)),
    case("conv2d-same-even", lambda F, x, w: F.conv2d(x, w, padding="same", dilation=(1, 3)), U(1, 2, 6, 7),
         U(2, 2, 2, 2, seed=1)),
    case("conv2d-unbatched", lambda F, x, w: F.conv2d(x, w, stride=2), U(3, 7, 7), U(2, 3, 3, 3, seed=1)),
    case("conv_transpose2d", lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                   output_padding=1),
         U(2, 4, 4, 4), U(4, 3, 3, 3, seed=1), U(3, seed=2)),
    case("conv_transpose2d-groups-dil", lambda F, x, w: F.conv_transpose2d(x, w, groups=2, dilation=(2, 1),
                                                                            stride=(1, 2)),
         U(2, 4, 3, 4), U(4, 1, 2, 3, seed=1)),
    case("conv_transpose2d-unbatched", lambda F, x, w: F.conv_transpose2d(x, w, padding=(0, 1)),
         U(2, 3, 3), U(2, 3, 2, 3, seed=1)),
]

TIES = RNG(7).integers(0, 3, (2, 3, 7, 8)).astype(np.float64)   # many ties: the first max wins

POOL = [
    case("max_pool1d", lambda F, x: F.max_pool1d(x, 3, 2, 1), U(2, 3, 10)),
    case("max_pool1d-ceil-dil", lambda F, x: F.max_pool1d(x, 2, 2, dilation=2, ceil_mode=True), U(2, 3, 10)),
    case("max_pool1d-indices", lambda F, x: F.max_pool1d(x, 3, return_indices=True), U(2, 3, 10)),
    case("max_pool2d", lambda F, x: F.max_pool2d(x, 2), U(2, 3, 7, 8)),
    case("max_pool2d-pad-stride", lambda F, x: F.max_pool2d(x, 3, stride=2, padding=1), U(2, 3, 7, 8)),
    case("max_pool2d-ceil", lambda F, x: F.max_pool2d(x, (2, 3), stride=(2, 2), ceil_mode=True),
         U(2, 3, 7, 8)),
    case("max_pool2d-dilation", lambda F, x: F.max_pool2d(x, 2, stride=1, dilation=(2, 3)), U(2, 3, 7, 8)),
    case("max_pool2d-indices-unbatched", lambda F, x: F.max_pool2d(x, 3, 2, 1, return_indices=True),
         U(3, 7, 8)),
    case("max_pool2d-ties", lambda F, x: F.max_pool2d(x, 3, stride=1, padding=1, return_indices=True), TIES),
    case("max_pool2d-ties-ceil", lambda F, x: F.max_pool2d(x, 2, ceil_mode=True), TIES),
    case("max_pool2d-nan", lambda F, x: F.max_pool2d(x, 2, 1, return_indices=True),
         np.where(TIES == 2, np.nan, TIES)[:1, :1]),
    case("avg_pool1d", lambda F, x: F.avg_pool1d(x, 3, 2, 1), U(2, 3, 10)),
    case("avg_pool1d-no-pad-count", lambda F, x: F.avg_pool1d(x, 4, 3, 2, ceil_mode=True,
                                                              count_include_pad=False), U(2, 3, 10)),
    case("avg_pool2d", lambda F, x: F.avg_pool2d(x, 2), U(2, 3, 7, 8)),
    case("avg_pool2d-pad", lambda F, x: F.avg_pool2d(x, 3, 2, 1), U(2, 3, 7, 8)),
    case("avg_pool2d-ceil-exclude", lambda F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                                              count_include_pad=False), U(2, 3, 8, 8)),
    case("avg_pool2d-ceil-include", lambda F, x: F.avg_pool2d(x, (3, 2), 2, (1, 0), ceil_mode=True),
         U(2, 3, 8, 7)),
    case("avg_pool2d-divisor", lambda F, x: F.avg_pool2d(x, 2, divisor_override=3), U(2, 3, 7, 8)),
    case("adaptive_avg_pool2d", lambda F, x: F.adaptive_avg_pool2d(x, (3, 4)), U(2, 3, 7, 9)),
    case("adaptive_avg_pool2d-int", lambda F, x: F.adaptive_avg_pool2d(x, 1), U(2, 3, 7, 9)),
    case("adaptive_avg_pool2d-none", lambda F, x: F.adaptive_avg_pool2d(x, (None, 5)), U(3, 6, 9)),
    case("adaptive_avg_pool2d-grow", lambda F, x: F.adaptive_avg_pool2d(x, (4, 6)), U(1, 2, 3, 4)),
]

NORM = [
    case("batch_norm-train",
         lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w, b, training=True, momentum=0.3),
         U(4, 3, 5, 2), Const(U(3, seed=5)), Const(U(3, low=0.5, high=2.0, seed=6)), U(3, seed=1),
         U(3, seed=2)),
    case("batch_norm-train-2d-nostats", lambda F, x: F.batch_norm(x, None, None, training=True), U(6, 3)),
    case("batch_norm-eval", lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w, b),
         U(4, 3, 5), Const(U(3, seed=5)), Const(U(3, low=0.5, high=2.0, seed=6)), U(3, seed=1), U(3, seed=2)),
    case("batch_norm-eval-2d", lambda F, x, m, v: F.batch_norm(x, m, v, eps=1e-3),
         U(4, 3), Const(U(3, seed=5)), Const(U(3, low=0.5, high=2.0, seed=6))),
    case("layer_norm", lambda F, x, w, b: F.layer_norm(x, (4,), w, b), U(2, 3, 4), U(4, seed=1),
         U(4, seed=2)),
    case("layer_norm-2d", lambda F, x: F.layer_norm(x, (3, 4), eps=1e-3), U(2, 3, 4)),
    case("group_norm", lambda F, x, w, b: F.group_norm(x, 3, w, b), U(2, 6, 3, 3), U(6, seed=1),
         U(6, seed=2)),
    case("group_norm-3d", lambda F, x: F.group_norm(x, 2), U(3, 4, 5)),
]


def _reductions(id: str, fn: Callable[..., Any], *inputs: Any) -> list[Any]:
    return [case(f"{id}-{r}", lambda F, *a, r=r: fn(F, *a, reduction=r), *inputs)
            for r in ("none", "mean", "sum")]


X = U(4, 5)
T = U(4, 5, seed=1)
T_KINK = X + np.array([0.0, 1.0, -1.0, 0.5, 2.0])        # differences on the kinks: 0 and +-beta
CE_T = np.array([1, 0, 3, -100, 3, 2])
CE_T0 = np.array([1, 0, 3, 0, 3, 2])

LOSSES = [
    *_reductions("mse_loss", lambda F, x, t, **k: F.mse_loss(x, t, **k), X, T),
    *_reductions("mse_loss-weight", lambda F, x, t, w, **k: F.mse_loss(x, t, weight=w, **k), X, T,
                 Const(U(4, 5, low=0.1, high=1.0, seed=3))),
    *_reductions("l1_loss", lambda F, x, t, **k: F.l1_loss(x, t, **k), X, T_KINK),
    *_reductions("l1_loss-weight", lambda F, x, t, w, **k: F.l1_loss(x, t, weight=w, **k), X, T_KINK,
                 Const(U(4, 5, low=0.1, high=1.0, seed=3))),
    *_reductions("smooth_l1_loss", lambda F, x, t, **k: F.smooth_l1_loss(x, t, **k), X, T_KINK),
    case("smooth_l1_loss-beta", lambda F, x, t: F.smooth_l1_loss(x, t, beta=0.5), X, T_KINK),
    case("smooth_l1_loss-beta0", lambda F, x, t: F.smooth_l1_loss(x, t, beta=0.0), X, T_KINK),
    *_reductions("huber_loss", lambda F, x, t, **k: F.huber_loss(x, t, delta=0.5, **k), X, T_KINK),
    *_reductions("huber_loss-weight", lambda F, x, t, w, **k: F.huber_loss(x, t, weight=w, **k), X, T_KINK,
                 Const(U(4, 5, low=0.1, high=1.0, seed=3))),
    *_reductions("cross_entropy", lambda F, x, t, **k: F.cross_entropy(x, t, **k), U(6, 4), CE_T),
    *_reductions("cross_entropy-weight-smoothing",
                 lambda F, x, t, w, **k: F.cross_entropy(x, t, w, label_smoothing=0.2, **k), U(6, 4), CE_T,
                 Const(U(4, low=0.2, high=2.0, seed=3))),
    case("cross_entropy-weight", lambda F, x, t, w: F.cross_entropy(x, t, w), U(6, 4), CE_T,
         Const(U(4, low=0.2, high=2.0, seed=3))),
    case("cross_entropy-ignore-smoothing",
         lambda F, x, t: F.cross_entropy(x, t, ignore_index=3, label_smoothing=0.1), U(6, 4), CE_T0),
    *_reductions("cross_entropy-probs",
                 lambda F, x, t, w, **k: F.cross_entropy(x, t, w, label_smoothing=0.1, **k),
                 U(5, 4), probs(5, 4), Const(U(4, low=0.2, high=2.0, seed=3))),
    case("cross_entropy-probs-plain", lambda F, x, t: F.cross_entropy(x, t), U(5, 4), probs(5, 4)),
    case("cross_entropy-kdim",
         lambda F, x, t, w: F.cross_entropy(x, t, w, reduction="mean", label_smoothing=0.05),
         U(2, 3, 4, 2), I(3, 2, 4, 2), Const(U(3, low=0.2, high=2.0, seed=3))),
    case("cross_entropy-1d", lambda F, x, t: F.cross_entropy(x, t), U(5), np.array(3)),
    case("cross_entropy-big", lambda F, x, t: F.cross_entropy(x, t, reduction="none"), BIG,
         np.array([1, 0, 3])),
    case("cross_entropy-big-smooth", lambda F, x, t: F.cross_entropy(x, t, label_smoothing=0.3), BIG,
         np.array([2, 0, 1])),
    *_reductions("nll_loss", lambda F, x, t, w, **k: F.nll_loss(x, t, w, ignore_index=0, **k), U(6, 4), CE_T0,
                 Const(U(4, low=0.2, high=2.0, seed=3))),
    case("nll_loss-all-ignored", lambda F, x, t: F.nll_loss(x, t), U(2, 4), np.array([-100, -100])),
    *_reductions("binary_cross_entropy", lambda F, x, t, **k: F.binary_cross_entropy(x, t, **k),
                 U(4, 3, low=0.05, high=0.95), U(4, 3, low=0.0, high=1.0, seed=1)),
    case("binary_cross_entropy-weight", lambda F, x, t, w: F.binary_cross_entropy(x, t, w),
         U(4, 3, low=0.05, high=0.95), U(4, 3, low=0.0, high=1.0, seed=1), Const(U(3, low=0.1, high=2.0))),
    case("binary_cross_entropy-edges", lambda F, x, t: F.binary_cross_entropy(x, t, reduction="sum"),
         np.array([0.0, 1.0, 0.0, 1.0, 1e-50, 0.5]), Const([0.0, 1.0, 1.0, 0.0, 1.0, 0.3])),
    *_reductions("bce_with_logits", lambda F, x, t, **k: F.binary_cross_entropy_with_logits(x, t, **k),
                 np.vstack([U(3, 4), [[1e4, -1e4, 0.0, 50.0]]]), U(4, 4, low=0.0, high=1.0, seed=1)),
    case("bce_with_logits-weights",
         lambda F, x, t, w, p: F.binary_cross_entropy_with_logits(x, t, w, pos_weight=p),
         np.vstack([U(3, 4), [[1e4, -1e4, 0.0, 50.0]]]), U(4, 4, low=0.0, high=1.0, seed=1),
         Const(U(4, low=0.1, high=2.0, seed=2)), Const(U(4, low=0.5, high=3.0, seed=3))),
    *_reductions("kl_div", lambda F, x, t, **k: F.kl_div(x, t, **k), np.log(probs(3, 4)),
                 Const(np.hstack([probs(3, 3, seed=4), np.zeros((3, 1))]))),
    case("kl_div-batchmean", lambda F, x, t: F.kl_div(x, t, reduction="batchmean"), np.log(probs(3, 4)),
         probs(3, 4, seed=4)),
    case("kl_div-log_target", lambda F, x, t: F.kl_div(x, t, reduction="batchmean", log_target=True),
         np.log(probs(3, 4)), np.log(probs(3, 4, seed=4))),
    case("cosine_similarity", lambda F, a, b: F.cosine_similarity(a, b),
         np.vstack([U(3, 5), np.zeros((1, 5))]), U(4, 5, seed=1)),
    case("cosine_similarity-dim0-broadcast", lambda F, a, b: F.cosine_similarity(a, b, dim=0), U(4, 5),
         U(4, 1, seed=1)),
    case("pairwise_distance", lambda F, a, b: F.pairwise_distance(a, b), U(4, 5), U(4, 5, seed=1)),
    case("pairwise_distance-p1-keepdim", lambda F, a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True),
         U(4, 5), U(4, 5, seed=1)),
    *_reductions("cosine_embedding_loss", lambda F, a, b, t, **k: F.cosine_embedding_loss(a, b, t, 0.2, **k),
                 U(4, 5), U(4, 5, seed=1), Const([1.0, -1.0, 1.0, -1.0])),
    case("cosine_embedding_loss-1d", lambda F, a, b, t: F.cosine_embedding_loss(a, b, t), U(5), U(5, seed=1),
         Const(-1.0)),
    *_reductions("margin_ranking_loss", lambda F, a, b, t, **k: F.margin_ranking_loss(a, b, t, 0.1, **k),
                 np.array([0.5, 1.0, -0.3, 2.0, 0.0, 0.4]), np.array([0.4, 1.3, 0.2, -1.0, 0.1, 0.3]),
                 Const([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])),
]


@pytest.mark.parametrize("fn, inputs, tol",
                         ACTIVATIONS + SOFTMAX + LAYERS + PADS + CONV + POOL + NORM + LOSSES)
def test_matches_torch(torch: Any, fn: Callable[..., Any], inputs: tuple[Any, ...], tol: dict) -> None:
    compare(torch, fn, *inputs, **tol)


def test_softplus_and_losses_stay_finite_at_huge_logits(torch: Any) -> None:
    x = gk.tensor([1e4, -1e4, 0.0], dtype=gk.float64, requires_grad=True)
    for fn in (F.softplus, F.logsigmoid, F.mish, F.silu, F.elu, F.gelu):
        x.grad = None
        y = fn(x)
        y.sum().backward()
        assert np.isfinite(y.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all(), fn.__name__
    t = gk.tensor([0.0, 1.0, 0.5], dtype=gk.float64)
    x.grad = None
    F.binary_cross_entropy_with_logits(x, t).backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, -1 / 3, 0.0], atol=1e-15)


# --- checks that need no PyTorch ------------------------------------------------------------
def test_softmax_values_by_hand() -> None:
    x = gk.tensor([1.0, 2.0, 3.0], dtype=gk.float64)
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(F.softmax(x, 0).numpy(), e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose(F.log_softmax(x, 0).numpy(), np.log(e / e.sum()), rtol=1e-14)
    np.testing.assert_allclose(F.softmin(x, 0).numpy(), e[::-1] / e.sum(), rtol=1e-15)
    big = F.log_softmax(gk.tensor([[1e4, 0.0]], dtype=gk.float64), 1).numpy()
    np.testing.assert_array_equal(big, [[0.0, -1e4]])


def test_cross_entropy_by_hand() -> None:
    logits = np.array([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
    target = np.array([0, 2])
    lse = np.log(np.exp(logits).sum(1))
    nll = lse - logits[[0, 1], target]
    x = gk.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, gk.tensor(target))
    np.testing.assert_allclose(loss.item(), nll.mean(), rtol=1e-14)
    loss.backward()
    p = np.exp(logits - lse[:, None])
    np.testing.assert_allclose(x.grad.numpy(), (p - np.eye(3)[target]) / 2, rtol=1e-13)
    # weights: 'mean' divides by the summed weights of the targets; smoothing mixes in the uniform
    w = np.array([2.0, 1.0, 0.5])
    lw = F.cross_entropy(x, gk.tensor(target), weight=gk.tensor(w))
    np.testing.assert_allclose(lw.item(), (w[target] * nll).sum() / w[target].sum(), rtol=1e-14)
    ls = F.cross_entropy(x, gk.tensor(target), label_smoothing=0.3)
    smooth = (lse[:, None] - logits).mean(1)
    np.testing.assert_allclose(ls.item(), (0.7 * nll + 0.3 * smooth).mean(), rtol=1e-14)
    ignored = F.cross_entropy(x, gk.tensor([0, -100]))
    np.testing.assert_allclose(ignored.item(), nll[0], rtol=1e-14)


def test_kink_gradients_follow_pytorch() -> None:
    def grad(fn: Callable[..., Any], values: list[float]) -> np.ndarray:
        x = gk.tensor(values, dtype=gk.float64, requires_grad=True)
        fn(x).sum().backward()
        return x.grad.numpy()
    np.testing.assert_array_equal(grad(F.hardtanh, [-1.0, 0.0, 1.0]), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(grad(F.relu6, [0.0, 3.0, 6.0]), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(grad(F.relu, [0.0]), [0.0])
    np.testing.assert_array_equal(grad(F.hardsigmoid, [-3.0, 0.0, 3.0]), [0.0, 1 / 6, 0.0])
    np.testing.assert_array_equal(grad(F.hardswish, [-3.0, 3.0, -4.0, 4.0, 0.0]), [0.0, 1.0, 0.0, 1.0, 0.5])
    np.testing.assert_array_equal(grad(lambda x: F.leaky_relu(x, 0.1), [0.0]), [0.1])
    np.testing.assert_array_equal(grad(F.elu, [0.0]), [1.0])
    np.testing.assert_allclose(grad(F.logsigmoid, [0.0]), [0.5])
    target = gk.tensor([1.0, 2.0], dtype=gk.float64)
    np.testing.assert_array_equal(grad(lambda x: F.l1_loss(x, target, reduction="sum"), [1.0, 3.0]),
                                  [0.0, 1.0])
    np.testing.assert_array_equal(grad(lambda x: F.smooth_l1_loss(x, target, reduction="sum"), [2.0, 1.0]),
                                  [1.0, -1.0])


def test_conv2d_by_hand_and_double_backward() -> None:
    out = F.conv2d(gk.ones(1, 1, 3, 3, dtype=gk.float64), gk.ones(1, 1, 2, 2, dtype=gk.float64))
    np.testing.assert_array_equal(out.numpy(), np.full((1, 1, 2, 2), 4.0))
    x = gk.tensor(U(1, 2, 4, 4), requires_grad=True)
    w = gk.tensor(U(2, 2, 3, 3, seed=1), requires_grad=True)
    b = gk.tensor(U(2, seed=2), requires_grad=True)
    for fn in (lambda x, w, b: F.conv2d(x, w, b, padding="same", dilation=2),
               lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, output_padding=1)):
        assert gk.autograd.gradcheck(fn, (x, w, b))
        assert gk.autograd.gradgradcheck(fn, (x, w, b))


def test_pooling_by_hand() -> None:
    x = gk.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy(), [[[[5.0, 7.0], [13.0, 15.0]]]])
    np.testing.assert_array_equal(idx.numpy(), [[[[5, 7], [13, 15]]]])
    assert idx.dtype is gk.int64 and not idx.requires_grad
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().reshape(4, 4)[1::2, 1::2], np.ones((2, 2)))
    ties = gk.tensor([[[1.0, 1.0, 1.0, 0.0]]], requires_grad=True)
    F.max_pool1d(ties, 3, stride=1).sum().backward()          # the first maximum of a window wins
    np.testing.assert_array_equal(ties.grad.numpy(), [[[1.0, 1.0, 0.0, 0.0]]])
    a = F.avg_pool2d(gk.ones(1, 1, 3, 3), 2, padding=1)
    np.testing.assert_allclose(a.numpy(), [[[[0.25, 0.5], [0.5, 1.0]]]])
    a = F.avg_pool2d(gk.ones(1, 1, 3, 3), 2, padding=1, count_include_pad=False)
    np.testing.assert_allclose(a.numpy(), np.ones((1, 1, 2, 2)))
    ad = F.adaptive_avg_pool2d(gk.tensor(np.arange(5.0).reshape(1, 1, 1, 5)), (1, 3))
    np.testing.assert_allclose(ad.numpy(), [[[[0.5, 2.0, 3.5]]]])   # windows [0,2) [1,4) [3,5)


def test_nan_propagates_through_max_pool() -> None:
    x = gk.tensor([[[1.0, np.nan, 3.0, 2.0]]])
    out, idx = F.max_pool1d(x, 2, return_indices=True)
    assert np.isnan(out.numpy()[0, 0, 0]) and out.numpy()[0, 0, 1] == 3.0
    np.testing.assert_array_equal(idx.numpy(), [[[1, 2]]])


def test_composites_gradcheck() -> None:
    rng = RNG(3)
    x = gk.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    t = gk.tensor([0, 2, -100, 1])
    w = gk.tensor([0.5, 2.0, 1.0])
    soft = gk.tensor(rng.uniform(size=(4, 3)))
    checks = [
        (lambda x: F.cross_entropy(x, t, w, label_smoothing=0.2), (x,)),
        (lambda x, p: F.cross_entropy(x, p, label_smoothing=0.1),
         (x, gk.tensor(probs(4, 3), requires_grad=True))),
        (lambda x: F.group_norm(x.reshape(2, 6, 1), 3), (x,)),
        (lambda x: F.batch_norm(x, None, None, training=True), (x,)),
        (lambda x: F.layer_norm(x, (3,)), (x,)),
        (lambda x: F.binary_cross_entropy_with_logits(x, soft, pos_weight=w), (x,)),
        (lambda x: F.pad(x.reshape(1, 4, 3), (2, 1), mode="reflect"), (x,)),
        (lambda x: F.pad(x.reshape(1, 4, 3), (1, 2), mode="circular"), (x,)),
        (lambda x: F.adaptive_avg_pool2d(x.reshape(1, 4, 3), (3, 2)), (x,)),
        (lambda x: F.cosine_similarity(x, x.flip(0)), (x,)),
        (lambda x: F.gelu(x) + F.gelu(x, approximate="tanh") + F.mish(x) + F.selu(x), (x,)),
        (lambda x: F.embedding(gk.tensor([[0, 2], [2, 1]]), x), (x,)),
    ]
    for fn, inputs in checks:
        assert gk.autograd.gradcheck(fn, inputs)
    for fn, inputs in checks[:4]:
        assert gk.autograd.gradgradcheck(fn, inputs)


def test_dropout() -> None:
    x = gk.ones(200, 50, requires_grad=True)
    gk.manual_seed(0)
    a = F.dropout(x, 0.3)
    gk.manual_seed(0)
    b = F.dropout(x, 0.3)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())   # seeded by gk.manual_seed
    kept = a.detach().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(a.detach().numpy()[kept], 1 / 0.7)
    a.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), a.detach().numpy())
    assert F.dropout(x, 0.3, training=False) is x
    assert not F.dropout(x, 1.0).detach().numpy().any()
    y = x * 1.0
    assert F.dropout(y, 0.5, inplace=True) is y
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(x, 1.5)


def test_one_hot_and_embedding() -> None:
    out = F.one_hot(gk.tensor([0, 2, 1]))
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[[0, 2, 1]])
    assert out.dtype is gk.int64
    assert F.one_hot(gk.tensor([1]), num_classes=4).shape == (1, 4)
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(gk.tensor([3]), 2)
    w = gk.tensor(U(4, 3), requires_grad=True)
    F.embedding(gk.tensor([1, 3, 3]), w, padding_idx=3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0.0] * 3, [1.0] * 3, [0.0] * 3, [0.0] * 3])
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(gk.tensor([4]), w)


def test_batch_norm_updates_running_stats() -> None:
    x = U(8, 2, 3)
    rm, rv = gk.zeros(2, dtype=gk.float64), gk.ones(2, dtype=gk.float64)
    F.batch_norm(gk.tensor(x), rm, rv, training=True, momentum=0.1)
    np.testing.assert_allclose(rm.numpy(), 0.1 * x.mean((0, 2)), rtol=1e-14)
    np.testing.assert_allclose(rv.numpy(), 0.9 + 0.1 * x.var((0, 2), ddof=1), rtol=1e-14)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.batch_norm(gk.ones(1, 2), None, None, training=True)


def test_pad_modes_by_hand() -> None:
    x = gk.tensor([[[0.0, 1.0, 2.0]]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="reflect").numpy(), [[[2, 1, 0, 1, 2, 1]]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="replicate").numpy(), [[[0, 0, 0, 1, 2, 2]]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="circular").numpy(), [[[1, 2, 0, 1, 2, 0]]])
    np.testing.assert_array_equal(F.pad(x, (1, -1), value=9.0).numpy(), [[[9, 0, 1]]])


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.conv2d(gk.ones(1, 4, 5, 5), gk.ones(2, 3, 3, 3)), RuntimeError, "to have 3 channels"),
    (lambda: F.conv2d(gk.ones(1, 3, 2, 2), gk.ones(2, 3, 3, 3)), RuntimeError,
     "Kernel size can't be greater"),
    (lambda: F.conv2d(gk.ones(1, 3, 5, 5), gk.ones(2, 3, 3, 3), stride=2, padding="same"), RuntimeError,
     "not supported for strided"),
    (lambda: F.conv2d(gk.ones(3, 5), gk.ones(2, 3, 3, 3)), RuntimeError, "Expected 3D .unbatched. or 4D"),
    (lambda: F.max_pool2d(gk.ones(1, 1, 4, 4), 2, padding=2), RuntimeError, "pad should be at most half"),
    (lambda: F.cross_entropy(gk.ones(2, 3), gk.tensor([0, 3])), IndexError, "Target 3 is out of bounds"),
    (lambda: F.mse_loss(gk.ones(2), gk.ones(2), reduction="avg"), ValueError, "avg is not a valid value"),
    (lambda: F.binary_cross_entropy(gk.tensor([1.5]), gk.tensor([1.0])), RuntimeError, "between 0 and 1"),
    (lambda: F.gelu(gk.ones(2), approximate="fast"), RuntimeError, "approximate argument must be"),
    (lambda: F.glu(gk.ones(3)), RuntimeError, "Halving dimension must be even"),
    (lambda: F.pad(gk.ones(1, 2, 3), (3, 0), mode="reflect"), RuntimeError, "Padding size should be less"),
    (lambda: F.group_norm(gk.ones(2, 5, 3), 2), RuntimeError, "divisible by num_groups"),
    (lambda: F.cross_entropy(gk.ones(2, 3), gk.tensor([0, 1, 2])), ValueError,
     r"Expected input batch_size \(2\) to match target batch_size \(3\)"),
    (lambda: F.conv2d(gk.ones(1, 3, 5, 5), gk.ones(4, 3, 3, 3), gk.ones(5)), RuntimeError,
     r"Given weight of size \[4, 3, 3, 3\], expected bias to be 1-dimensional with 4 elements"),
    (lambda: F.pad(gk.ones(2, 3, 4, 5), (1, 1), mode="reflect"), NotImplementedError,
     "Padding size 2 is not supported for 4D input"),
    (lambda: F.hardtanh(gk.ones(2), 1.0, 0.0), ValueError, "min_val cannot be greater than max_val"),
    (lambda: F.embedding(gk.tensor([-1]), gk.ones(3, 2)), IndexError, "index out of range in self"),
])
def test_errors(call: Callable[[], Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_float32_stays_float32() -> None:
    x = gk.tensor(U(2, 3, 6, 6).astype(np.float32), requires_grad=True)
    w = gk.tensor(U(4, 3, 3, 3).astype(np.float32), requires_grad=True)
    y = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2)
    loss = F.cross_entropy(y.reshape(2, -1), gk.tensor([0, 5]))
    assert y.dtype is gk.float32 and loss.dtype is gk.float32
    loss.backward()
    assert x.grad.dtype is gk.float32 and w.grad.dtype is gk.float32
    assert math.isfinite(loss.item())


def test_one_hot_matches_torch(torch: Any) -> None:
    idx = np.array([[0, 3], [2, 2]])
    np.testing.assert_array_equal(F.one_hot(gk.tensor(idx), 5).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(idx), 5).numpy())


def test_embedding_max_norm_renormalizes_the_leaf_in_place(torch: Any) -> None:
    w0 = U(5, 3)
    w, tw = gk.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    F.embedding(gk.tensor([1, 3]), w, max_norm=1.0).sum().backward()
    torch.nn.functional.embedding(torch.tensor([1, 3]), tw, max_norm=1.0).sum().backward()
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())


def test_node_names_follow_pytorch() -> None:
    x = gk.tensor(U(1, 2, 4, 4), requires_grad=True)
    names = {
        "SoftmaxBackward0": F.softmax(x, 1), "LogSoftmaxBackward0": F.log_softmax(x, 1),
        "ConvolutionBackward0": F.conv2d(x, gk.ones(1, 2, 3, 3, dtype=gk.float64)),
        "MaxPool2DWithIndicesBackward0": F.max_pool2d(x, 2), "HardtanhBackward0": F.hardtanh(x),
        "HardswishBackward0": F.hardswish(x),
        "BinaryCrossEntropyBackward0": F.binary_cross_entropy(gk.sigmoid(x), gk.ones(1, 2, 4, 4,
                                                                                   dtype=gk.float64),
                                                              reduction="none"),
    }
    for name, out in names.items():
        assert type(out.grad_fn).__name__ == name


def test_softmax_forward_mode_rules() -> None:
    from gradkit.ops import nn as P
    rng = RNG(5)
    x, t = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    for prim, f in ((P.log_softmax_p, P._log_softmax_impl), (P.softmax_p, P._softmax_impl)):
        eps = 1e-6
        fd = (f(x + eps * t, 1) - f(x - eps * t, 1)) / (2 * eps)
        np.testing.assert_allclose(prim.prim.jvp[0](t, f(x, 1), x, dim=1), fd, atol=1e-8)
