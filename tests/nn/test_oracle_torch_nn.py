"""gradkit's nn modules, nn.init, optimizers and LR schedulers against live PyTorch.

Complements ``test_nn_functional.py`` (the functional table) with: the
functions added beside it (shrink activations, the margin/NLL-style losses,
instance/local-response norm, lp and adaptive pools, transposed 1-D
convolution), whole modules given identical weights (recurrent layers
included), ``state_dict`` layouts, deterministic initializers, several
optimizer steps from identical starts, and learning-rate sequences.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gradkit as gk  # noqa: E402
import gradkit.nn.functional as F  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

RNG = np.random.default_rng


def U(*shape: int, low: float = -2.0, high: float = 2.0, seed: int = 0) -> np.ndarray:
    return RNG(seed).uniform(low, high, shape)


class Const:
    """A floating input that does not require grad."""

    def __init__(self, a: Any) -> None:
        self.a = np.asarray(a, dtype=np.float64)


def _run(lib: Any, fn: Callable[..., Any], inputs: list[Any]) -> tuple[list, list, list]:
    if lib is gk:
        make, f = (lambda a, rg: gk.tensor(a, requires_grad=rg)), F
    else:
        make, f = (lambda a, rg: torch.tensor(a, requires_grad=rg)), TF
    args = []
    for a in inputs:
        if isinstance(a, Const):
            args.append(make(a.a.copy(), False))
        else:
            args.append(make(a.copy(), a.dtype.kind == "f"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(f, *args)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    total = None
    for k, o in enumerate(outs):
        if o.dtype not in (gk.float64, torch.float64):
            continue
        term = (o * make(RNG(100 + k).normal(size=tuple(o.shape)), False)).sum()
        total = term if total is None else total + term
    leaves = [a for a, src in zip(args, inputs) if not isinstance(src, Const) and src.dtype.kind == "f"]
    if total is not None and total.requires_grad:
        total.backward()
    grads = [None if t.grad is None else t.grad.detach().numpy() for t in leaves]
    return [o.detach().numpy() for o in outs], grads, [a.detach().numpy() for a in args]


def compare(fn: Callable[..., Any], *inputs: Any, rtol: float = 1e-7, atol: float = 1e-9) -> None:
    got_out, got_grad, got_after = _run(gk, fn, list(inputs))
    ref_out, ref_grad, ref_after = _run(torch, fn, list(inputs))
    for i, (g, r) in enumerate(zip(got_after, ref_after)):  # running statistics updated in place
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg=f"input {i} after the call")
    assert len(got_out) == len(ref_out)
    for g, r in zip(got_out, ref_out):
        assert g.shape == r.shape, (g.shape, r.shape)
        assert g.dtype == r.dtype, (g.dtype, r.dtype)
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg="forward")
    for i, (g, r) in enumerate(zip(got_grad, ref_grad)):
        if r is None:
            assert g is None or not np.any(g), f"gradient {i}: PyTorch gives none"
            continue
        assert g is not None, f"gradient {i}: missing"
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def case(id: str, fn: Callable[..., Any], *inputs: Any, **tol: float) -> Any:
    return pytest.param(fn, inputs, tol, id=id)


def _reductions(id: str, fn: Callable[..., Any], *inputs: Any) -> list[Any]:
    return [
        case(f"{id}-{r}", lambda F, *a, r=r: fn(F, *a, reduction=r), *inputs) for r in ("none", "mean", "sum")
    ]


KINKS = np.array([-25.0, -3.0, -2.0, -1.5, -1.0, -0.5, -0.2, 0.0, 0.2, 0.5, 1.0, 1.5, 2.0, 3.0, 25.0])
ACT = np.concatenate([KINKS, U(15, low=-4.0, high=4.0)])
X = U(4, 5)
LABELS = np.array([1.0, -1.0, -1.0, 1.0])

FUNCTIONAL = [
    # activations, with every parameter away from its default
    case("leaky_relu-slope", lambda F, x: F.leaky_relu(x, negative_slope=-0.3), ACT),
    case("elu-alpha2", lambda F, x: F.elu(x, alpha=2.0), ACT),
    case("celu-alpha0.5", lambda F, x: F.celu(x, alpha=0.5), ACT),
    case("softplus-beta-threshold", lambda F, x: F.softplus(x, beta=0.5, threshold=1.0), ACT),
    case("softplus-beta3", lambda F, x: F.softplus(x, beta=3.0), ACT),
    case("hardtanh-wide", lambda F, x: F.hardtanh(x, -3.0, 2.0), ACT),
    case("threshold", lambda F, x: F.threshold(x, 0.5, -7.0), ACT),
    case("threshold-negative", lambda F, x: F.threshold(x, -1.0, 3.0), ACT),
    case("tanhshrink", lambda F, x: F.tanhshrink(x), ACT),
    case("softshrink", lambda F, x: F.softshrink(x, 0.5), ACT),
    case("hardshrink", lambda F, x: F.hardshrink(x), ACT),
    case("hardshrink-lambd", lambda F, x: F.hardshrink(x, 1.0), ACT),
    case("prelu", lambda F, x, w: F.prelu(x, w), U(2, 3, 4), U(3, seed=1)),
    case("prelu-shared", lambda F, x, w: F.prelu(x, w), U(2, 3, 4), U(1, seed=1)),
    case("rrelu-eval", lambda F, x: F.rrelu(x, 0.1, 0.3, training=False), ACT),
    case("silu-mish-tanh", lambda F, x: F.silu(x) + F.mish(x) + F.softsign(x) + F.logsigmoid(x), ACT),
    case("gelu-tanh", lambda F, x: F.gelu(x, approximate="tanh"), ACT),
    # softmax family over every dim
    *[
        case(
            f"softmax-dim{d}",
            lambda F, x, d=d: F.softmax(x, dim=d) + F.log_softmax(x, dim=d) + F.softmin(x, dim=d),
            U(2, 3, 4),
        )
        for d in (0, 1, 2, -1, -3)
    ],
    # layers
    case("linear-1d", lambda F, x, w, b: F.linear(x, w, b), U(3), U(4, 3, seed=1), U(4, seed=2)),
    case(
        "conv_transpose1d",
        lambda F, x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1),
        U(2, 4, 5),
        U(4, 3, 3, seed=1),
        U(3, seed=2),
    ),
    case(
        "conv_transpose1d-groups-dil",
        lambda F, x, w: F.conv_transpose1d(x, w, groups=2, dilation=2),
        U(2, 4, 5),
        U(4, 1, 3, seed=1),
    ),
    case("conv_transpose1d-unbatched", lambda F, x, w: F.conv_transpose1d(x, w), U(4, 5), U(4, 2, 2, seed=1)),
    case(
        "conv1d-tuple-padding",
        lambda F, x, w: F.conv1d(x, w, padding=(2,), stride=(3,)),
        U(2, 3, 11),
        U(2, 3, 3, seed=1),
    ),
    case(
        "conv2d-same-dilated",
        lambda F, x, w, b: F.conv2d(x, w, b, padding="same", dilation=2),
        U(1, 2, 7, 6),
        U(3, 2, 3, 2, seed=1),
        U(3, seed=2),
    ),
    # pools
    case("adaptive_avg_pool1d", lambda F, x: F.adaptive_avg_pool1d(x, 4), U(2, 3, 10)),
    case("adaptive_max_pool1d", lambda F, x: F.adaptive_max_pool1d(x, 4, return_indices=True), U(2, 3, 10)),
    case(
        "adaptive_max_pool2d",
        lambda F, x: F.adaptive_max_pool2d(x, (3, 2), return_indices=True),
        U(2, 3, 7, 5),
    ),
    case("adaptive_max_pool2d-unbatched", lambda F, x: F.adaptive_max_pool2d(x, 3), U(3, 7, 8)),
    case("lp_pool1d", lambda F, x: F.lp_pool1d(x, 2.0, 3, stride=2), U(2, 3, 10, low=0.1)),
    case("lp_pool2d", lambda F, x: F.lp_pool2d(x, 3.0, (2, 3), stride=2), U(2, 3, 8, 9, low=0.1)),
    case("lp_pool2d-p1", lambda F, x: F.lp_pool2d(x, 1, 2), U(2, 3, 8, 8, low=0.1)),
    case("avg_pool2d-divisor-pad", lambda F, x: F.avg_pool2d(x, 3, 2, 1, divisor_override=2), U(2, 3, 7, 8)),
    case(
        "max_pool2d-indices-ceil",
        lambda F, x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True),
        U(2, 3, 8, 8),
    ),
    # normalization
    case(
        "instance_norm",
        lambda F, x, w, b: F.instance_norm(x, weight=w, bias=b),
        U(2, 3, 5, 4),
        U(3, seed=1),
        U(3, seed=2),
    ),
    case("instance_norm-1d", lambda F, x: F.instance_norm(x, eps=1e-3), U(2, 3, 6)),
    case(
        "instance_norm-stats",
        lambda F, x, m, v: F.instance_norm(x, m, v, use_input_stats=True, momentum=0.2) + 0 * m.sum(),
        U(2, 3, 6),
        Const(U(3, seed=5)),
        Const(U(3, low=0.5, high=2.0, seed=6)),
    ),
    case("local_response_norm", lambda F, x: F.local_response_norm(x, 3), U(2, 5, 4, 3)),
    case(
        "local_response_norm-3d",
        lambda F, x: F.local_response_norm(x, 2, alpha=0.1, beta=0.5, k=2.0),
        U(2, 6, 7),
    ),
    case(
        "batch_norm-train-nostats-3d",
        lambda F, x, m, v: F.batch_norm(x, m, v, training=True, momentum=0.5),
        U(5, 3, 2),
        Const(U(3)),
        Const(U(3, low=0.5, high=2.0)),
    ),
    case("layer_norm-no-affine-3d", lambda F, x: F.layer_norm(x, (3, 4)), U(2, 3, 4)),
    case("group_norm-1group", lambda F, x, w: F.group_norm(x, 1, w), U(2, 4, 3), U(4, seed=1)),
    case("normalize-dim-p3", lambda F, x: F.normalize(x, p=3.0, dim=-1), U(3, 4)),
    case(
        "cosine_similarity-3d",
        lambda F, a, b: F.cosine_similarity(a, b, dim=-1, eps=1e-3),
        U(2, 3, 4),
        U(2, 3, 4, seed=1),
    ),
    case(
        "pairwise_distance-p3",
        lambda F, a, b: F.pairwise_distance(a, b, p=3.0, eps=1e-4),
        U(3, 4),
        U(3, 4, seed=1),
    ),
    case("pairwise_distance-broadcast", lambda F, a, b: F.pairwise_distance(a, b), U(3, 4), U(4, seed=1)),
    case(
        "bilinear-nobias",
        lambda F, a, b, w: F.bilinear(a, b, w),
        U(3, 2),
        U(3, 4, seed=1),
        U(5, 2, 4, seed=2),
    ),
    case("pad-reflect-3d", lambda F, x: F.pad(x, (1, 1, 2, 0, 1, 1), mode="reflect"), U(1, 2, 3, 4, 3)),
    case("pad-circular-3d", lambda F, x: F.pad(x, (1, 0, 0, 2, 1, 1), mode="circular"), U(1, 2, 3, 4, 3)),
    case("pad-replicate-1d-unbatched", lambda F, x: F.pad(x, (2, 3), mode="replicate"), U(3, 4)),
    # losses
    *_reductions(
        "poisson_nll_loss",
        lambda F, x, t, **k: F.poisson_nll_loss(x, t, **k),
        X,
        Const(U(4, 5, low=0, high=4, seed=1)),
    ),
    *_reductions(
        "poisson_nll_loss-full",
        lambda F, x, t, **k: F.poisson_nll_loss(x, t, False, True, **k),
        U(4, 5, low=0.1, high=3.0),
        Const(np.floor(U(4, 5, low=0, high=4, seed=1))),
    ),
    *_reductions(
        "gaussian_nll_loss",
        lambda F, x, t, v, **k: F.gaussian_nll_loss(x, t, v, **k),
        X,
        U(4, 5, seed=1),
        U(4, 5, low=0.1, high=2.0, seed=2),
    ),
    case(
        "gaussian_nll_loss-full-bcast",
        lambda F, x, t, v: F.gaussian_nll_loss(x, t, v, full=True, eps=0.5),
        X,
        U(4, 5, seed=1),
        U(4, 1, low=0.1, high=2.0, seed=2),
    ),
    case(
        "gaussian_nll_loss-var-1d",
        lambda F, x, t, v: F.gaussian_nll_loss(x, t, v),
        X,
        U(4, 5, seed=1),
        U(4, low=0.1, high=2.0, seed=2),
    ),
    *_reductions(
        "hinge_embedding_loss",
        lambda F, x, t, **k: F.hinge_embedding_loss(x, t, 0.7, **k),
        U(4, 4),
        Const(np.tile(LABELS, (4, 1))),
    ),
    *_reductions(
        "soft_margin_loss",
        lambda F, x, t, **k: F.soft_margin_loss(x, t, **k),
        U(4, 4),
        Const(np.tile(LABELS, (4, 1))),
    ),
    *_reductions(
        "multilabel_soft_margin_loss",
        lambda F, x, t, w, **k: F.multilabel_soft_margin_loss(x, t, w, **k),
        U(3, 4),
        Const((U(3, 4, seed=1) > 0).astype(float)),
        Const(U(4, low=0.2, high=2.0, seed=2)),
    ),
    *_reductions(
        "multi_margin_loss",
        lambda F, x, t, **k: F.multi_margin_loss(x, t, **k),
        U(5, 4),
        np.array([0, 3, 1, 1, 2]),
    ),
    case(
        "multi_margin_loss-p2-weight",
        lambda F, x, t, w: F.multi_margin_loss(x, t, 2, 0.5, w),
        U(5, 4),
        np.array([0, 3, 1, 1, 2]),
        Const(U(4, low=0.2, high=2.0, seed=2)),
    ),
    case("multi_margin_loss-1d", lambda F, x, t: F.multi_margin_loss(x, t), U(4), np.array([2])),
    *_reductions(
        "multilabel_margin_loss",
        lambda F, x, t, **k: F.multilabel_margin_loss(x, t, **k),
        U(3, 4),
        np.array([[3, 0, -1, 1], [0, 1, 2, 3], [-1, 1, 2, 3]]),
    ),
    *_reductions(
        "triplet_margin_loss",
        lambda F, a, p, n, **k: F.triplet_margin_loss(a, p, n, **k),
        U(4, 5),
        U(4, 5, seed=1),
        U(4, 5, seed=2),
    ),
    case(
        "triplet_margin_loss-swap-p1",
        lambda F, a, p, n: F.triplet_margin_loss(a, p, n, margin=0.5, p=1, swap=True),
        U(4, 5),
        U(4, 5, seed=1),
        U(4, 5, seed=2),
    ),
    case(
        "triplet_margin_loss-1d",
        lambda F, a, p, n: F.triplet_margin_loss(a, p, n),
        U(5),
        U(5, seed=1),
        U(5, seed=2),
    ),
    case(
        "cross_entropy-kdim-probs",
        lambda F, x, t: F.cross_entropy(x, t, label_smoothing=0.1),
        U(2, 3, 4),
        Const(np.moveaxis(RNG(3).dirichlet(np.ones(3), (2, 4)), -1, 1)),
    ),
    case(
        "cross_entropy-kdim-ignore-none",
        lambda F, x, t: F.cross_entropy(x, t, ignore_index=1, reduction="none"),
        U(2, 3, 4, 2),
        RNG(1).integers(0, 3, (2, 4, 2)),
    ),
    case(
        "nll_loss-kdim-weight",
        lambda F, x, t, w: F.nll_loss(x, t, w),
        U(2, 3, 4),
        RNG(1).integers(0, 3, (2, 4)),
        Const(U(3, low=0.2, high=2.0, seed=3)),
    ),
    case("nll_loss-1d", lambda F, x, t: F.nll_loss(x, t), U(4), np.array(2)),
    case(
        "bce_with_logits-pos_weight-2d",
        lambda F, x, t, p: F.binary_cross_entropy_with_logits(x, t, pos_weight=p, reduction="sum"),
        U(3, 4),
        Const(U(3, 4, low=0, high=1, seed=1)),
        Const(U(4, low=0.5, high=3.0, seed=3)),
    ),
    case(
        "kl_div-log_target-none",
        lambda F, x, t: F.kl_div(x, t, reduction="none", log_target=True),
        U(3, 4),
        U(3, 4, seed=1),
    ),
    case(
        "kl_div-sum", lambda F, x, t: F.kl_div(x, t, reduction="sum"), U(3, 4), U(3, 4, low=0, high=1, seed=1)
    ),
    *_reductions(
        "margin_ranking_loss-2d",
        lambda F, a, b, t, **k: F.margin_ranking_loss(a, b, t, 0.3, **k),
        U(2, 3),
        U(2, 3, seed=1),
        Const([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]]),
    ),
    case(
        "huber-delta-sum", lambda F, x, t: F.huber_loss(x, t, reduction="sum", delta=2.0), X, U(4, 5, seed=1)
    ),
    case(
        "smooth_l1-beta2-none",
        lambda F, x, t: F.smooth_l1_loss(x, t, reduction="none", beta=2.0),
        X,
        U(4, 5, seed=1),
    ),
]


@pytest.mark.parametrize("fn, inputs, tol", FUNCTIONAL)
def test_functional_matches_torch(fn: Callable[..., Any], inputs: tuple[Any, ...], tol: dict) -> None:
    compare(fn, *inputs, **tol)


# --- modules with identical weights ---------------------------------------------------------
def _to_gk(t: Any) -> Any:
    return gk.tensor(t.detach().numpy().copy())


def compare_module(
    make: Callable[[Any], Any],
    *inputs: Any,
    train: bool = True,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    calls: int = 1,
) -> None:
    """Build the module in both libraries, copy torch's state into gradkit's, compare everything."""
    torch.manual_seed(0)
    ref = make(torch.nn).double()
    mod = make(gk.nn).double()
    ref.train(train)
    mod.train(train)
    ref_sd, got_sd = ref.state_dict(), mod.state_dict()
    assert list(got_sd) == list(ref_sd), "state_dict keys/order"
    assert [n for n, _ in mod.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert [n for n, _ in mod.named_buffers()] == [n for n, _ in ref.named_buffers()]
    for k, v in ref_sd.items():
        assert tuple(got_sd[k].shape) == tuple(v.shape), k
    mod.load_state_dict({k: _to_gk(v) for k, v in ref_sd.items()})
    for _ in range(calls):
        outs = []
        for lib, m in ((torch, ref), (gk, mod)):
            args = [
                lib.tensor(a.copy(), requires_grad=a.dtype.kind == "f")
                if isinstance(a, np.ndarray)
                else tuple(lib.tensor(b.copy()) for b in a)
                if isinstance(a, tuple)
                else a
                for a in inputs
            ]
            out = m(*args)
            flat = []
            stack = [out]
            while stack:
                o = stack.pop(0)
                if isinstance(o, (tuple, list)):
                    stack = list(o) + stack
                else:
                    flat.append(o)
            total = sum(
                (o * lib.tensor(RNG(7 + i).normal(size=tuple(o.shape)))).sum()
                for i, o in enumerate(flat)
                if o.dtype in (torch.float64, gk.float64)
            )
            if getattr(total, "requires_grad", False):
                total.backward()
            grads = [a.grad for a in args if hasattr(a, "grad") and a.requires_grad]
            outs.append((flat, grads))
        (r_out, r_grad), (g_out, g_grad) = outs
        assert len(r_out) == len(g_out)
        for g, r in zip(g_out, r_out):
            assert tuple(g.shape) == tuple(r.shape)
            np.testing.assert_allclose(g.detach().numpy(), r.detach().numpy(), rtol=rtol, atol=atol)
        for g, r in zip(g_grad, r_grad):
            if r is None:                                   # not differentiable there: none or zeros
                assert g is None or not np.any(g.numpy())
                continue
            np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=rtol, atol=atol, err_msg="input grad")
    for (name, p), (_, q) in zip(ref.named_parameters(), mod.named_parameters()):
        if p.grad is None:
            assert q.grad is None or not np.any(q.grad.numpy()), name
        else:
            np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=rtol, atol=atol, err_msg=name)
    for k, v in ref.state_dict().items():
        np.testing.assert_allclose(mod.state_dict()[k].numpy(), v.numpy(), rtol=rtol, atol=atol, err_msg=k)


SEQ = U(5, 3, 4)  # (L, N, H_in)
H0 = U(2, 3, 6, seed=3)
H0_BI = U(4, 3, 6, seed=3)

MODULES = [
    case("rnn", lambda nn: nn.RNN(4, 6), SEQ),
    case("rnn-relu-2layer-h0", lambda nn: nn.RNN(4, 6, 2, nonlinearity="relu"), SEQ, H0),
    case("rnn-bidir-batch_first", lambda nn: nn.RNN(4, 6, batch_first=True, bidirectional=True), SEQ),
    case("rnn-nobias-unbatched", lambda nn: nn.RNN(4, 6, bias=False), U(5, 4)),
    case("lstm", lambda nn: nn.LSTM(4, 6), SEQ),
    case(
        "lstm-2layer-bidir-states",
        lambda nn: nn.LSTM(4, 6, 2, bidirectional=True),
        SEQ,
        (U(4, 3, 6, seed=3), U(4, 3, 6, seed=4)),
    ),
    case("lstm-batch_first-unbatched", lambda nn: nn.LSTM(4, 6, batch_first=True), U(5, 4)),
    case("gru", lambda nn: nn.GRU(4, 6, 2), SEQ, H0),
    case(
        "gru-bidir-batch_first",
        lambda nn: nn.GRU(4, 6, 2, batch_first=True, bidirectional=True),
        SEQ,
        U(4, 5, 6, seed=3),
    ),
    case("linear", lambda nn: nn.Linear(4, 3), U(2, 5, 4)),
    case("linear-nobias", lambda nn: nn.Linear(4, 3, bias=False), U(5, 4)),
    case("conv1d", lambda nn: nn.Conv1d(3, 4, 3, stride=2, padding=1), U(2, 3, 9)),
    case(
        "conv2d-groups-dil",
        lambda nn: nn.Conv2d(4, 6, (3, 2), padding=(1, 2), dilation=(2, 1), groups=2),
        U(2, 4, 7, 6),
    ),
    case("conv2d-same", lambda nn: nn.Conv2d(2, 3, 4, padding="same", bias=False), U(1, 2, 6, 5)),
    *[
        case(f"conv2d-{m}", lambda nn, m=m: nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=m), U(2, 2, 5, 6))
        for m in ("zeros", "reflect", "replicate", "circular")
    ],
    *[
        case(
            f"conv1d-same-{m}", lambda nn, m=m: nn.Conv1d(2, 3, 4, padding="same", padding_mode=m), U(2, 2, 7)
        )
        for m in ("reflect", "circular")
    ],
    case("batchnorm1d-train", lambda nn: nn.BatchNorm1d(3, momentum=0.3), U(6, 3, 4), calls=3),
    case("batchnorm1d-momentum-none", lambda nn: nn.BatchNorm1d(3, momentum=None), U(6, 3), calls=3),
    case("batchnorm2d-eval", lambda nn: nn.BatchNorm2d(3), U(2, 3, 4, 4), train=False),
    case(
        "batchnorm2d-no-affine-no-stats",
        lambda nn: nn.BatchNorm2d(3, affine=False, track_running_stats=False),
        U(2, 3, 4, 4),
        train=False,
    ),
    case("layernorm", lambda nn: nn.LayerNorm((3, 4)), U(2, 3, 4)),
    case("layernorm-nobias", lambda nn: nn.LayerNorm(4, elementwise_affine=True, bias=False), U(2, 3, 4)),
    case("embedding-padding", lambda nn: nn.Embedding(6, 3, padding_idx=2), np.array([[0, 2, 5], [2, 1, 1]])),
    case("dropout-eval", lambda nn: nn.Dropout(0.7), U(3, 4), train=False),
    case(
        "sequential",
        lambda nn: nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2), nn.LogSoftmax(1)),
        U(3, 4),
    ),
    case(
        "activations",
        lambda nn: nn.Sequential(
            nn.LeakyReLU(0.2),
            nn.ELU(0.5),
            nn.Softplus(2.0, 3.0),
            nn.Hardtanh(-0.5, 1.5),
            nn.CELU(1.5),
            nn.GELU("tanh"),
        ),
        U(20),
    ),
    case("losses", lambda nn: nn.Sequential(nn.Softmax(-1)), U(2, 3)),
]


@pytest.mark.parametrize("make, inputs, tol", MODULES)
def test_module_matches_torch(make: Callable[[Any], Any], inputs: tuple[Any, ...], tol: dict) -> None:
    compare_module(make, *inputs, **tol)


# --- optimizers: several steps from identical parameters ------------------------------------
def _loss(lib: Any, w: Any, b: Any) -> Any:
    x = lib.tensor(U(6, 3, seed=11))
    y = lib.tensor(U(6, seed=12))
    pred = lib.tanh(x @ w) + b.sum()
    return ((pred - y) ** 2).mean() + (w**4).sum() * 0.1


def run_optimizer(lib: Any, name: str, kwargs: dict, steps: int, closure: bool = False) -> list[np.ndarray]:
    w = lib.tensor(U(3, seed=1), requires_grad=True)
    b = lib.tensor(U(2, seed=2), requires_grad=True)
    groups = (
        [{"params": [w, b]}]
        if name == "LBFGS"
        else [{"params": [w]}, {"params": [b], "lr": kwargs.get("lr", 0.01) * 0.5}]
    )
    opt = getattr(lib.optim, name)(groups, **kwargs)
    for _ in range(steps):

        def fn() -> Any:
            opt.zero_grad()
            loss = _loss(lib, w, b)
            loss.backward()
            return loss

        if closure:
            opt.step(fn)
        else:
            fn()
            opt.step()
    return [w.detach().numpy().copy(), b.detach().numpy().copy()]


OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.7, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.3, weight_decay=0.1)),
]


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_optimizer_matches_torch(name: str, kwargs: dict) -> None:
    got = run_optimizer(gk, name, kwargs, 12)
    ref = run_optimizer(torch, name, kwargs, 12)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=1.0),
        dict(lr=0.5, history_size=3, max_iter=5),
        dict(lr=1.0, line_search_fn="strong_wolfe"),
        dict(lr=0.8, max_iter=7, line_search_fn="strong_wolfe", history_size=4),
    ],
)
def test_lbfgs_matches_torch(kwargs: dict) -> None:
    got = run_optimizer(gk, "LBFGS", kwargs, 3, closure=True)
    ref = run_optimizer(torch, "LBFGS", kwargs, 3, closure=True)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-8, atol=1e-10)


def test_optimizer_state_dict_layout_matches_torch() -> None:
    sds = []
    for lib in (torch, gk):
        w = lib.tensor(U(3, seed=1), requires_grad=True)
        opt = lib.optim.Adam([w], lr=0.1, amsgrad=True)
        (w * w).sum().backward()
        opt.step()
        sds.append(opt.state_dict())
    ref, got = sds
    assert list(got) == list(ref)
    assert list(got["state"][0]) == list(ref["state"][0])
    assert sorted(got["param_groups"][0]) == sorted(ref["param_groups"][0])
    for k, v in ref["state"][0].items():
        np.testing.assert_allclose(np.asarray(got["state"][0][k].numpy()), v.numpy(), rtol=1e-12)


# --- learning-rate schedulers ----------------------------------------------------------------
def lr_sequence(
    lib: Any, make: Callable[..., Any], steps: int, metrics: Any = None, opt_kwargs: dict | None = None
) -> list[list[float]]:
    w = lib.tensor([1.0], requires_grad=True)
    b = lib.tensor([1.0], requires_grad=True)
    opt = lib.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.05}], lr=0.1, **(opt_kwargs or {}))
    sched = make(lib.optim.lr_scheduler, opt)
    seq = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(steps):
            seq.append(
                [g["lr"] for g in opt.param_groups] + [g.get("momentum", 0.0) for g in opt.param_groups]
            )
            opt.step()
            if metrics is None:
                sched.step()
            else:
                sched.step(metrics[i])
    return seq


PLATEAU = [
    1.0,
    0.9,
    0.9,
    0.9,
    0.95,
    0.9,
    0.8,
    0.8,
    0.8,
    0.8,
    0.8,
    0.8,
    0.8,
    0.7,
    0.7,
    0.7,
    0.7,
    0.71,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
] * 2

SCHEDULERS = [
    case("StepLR", lambda S, o: S.StepLR(o, 3, gamma=0.5), 20),
    case("MultiStepLR", lambda S, o: S.MultiStepLR(o, [2, 5, 5, 9], gamma=0.3), 20),
    case("ExponentialLR", lambda S, o: S.ExponentialLR(o, 0.9), 20),
    case("CosineAnnealingLR", lambda S, o: S.CosineAnnealingLR(o, 7, eta_min=0.01), 40),
    case("LambdaLR", lambda S, o: S.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1 / (e + 1)]), 20),
    case(
        "OneCycleLR",
        lambda S, o: S.OneCycleLR(o, [1.0, 0.5], total_steps=30),
        30,
        opt_kwargs=dict(momentum=0.9),
    ),
    case(
        "OneCycleLR-linear-3phase",
        lambda S, o: S.OneCycleLR(
            o,
            1.0,
            epochs=3,
            steps_per_epoch=8,
            anneal_strategy="linear",
            three_phase=True,
            pct_start=0.4,
            div_factor=10,
            final_div_factor=100,
        ),
        24,
        opt_kwargs=dict(momentum=0.9),
    ),
    case(
        "ReduceLROnPlateau",
        lambda S, o: S.ReduceLROnPlateau(o, patience=2, factor=0.5, min_lr=[0.01, 0.02]),
        50,
        metrics=PLATEAU,
    ),
    case(
        "ReduceLROnPlateau-max-abs-cooldown",
        lambda S, o: S.ReduceLROnPlateau(
            o, "max", patience=1, threshold=0.05, threshold_mode="abs", cooldown=2, eps=1e-3
        ),
        50,
        metrics=[-m for m in PLATEAU],
    ),
    case("LinearLR", lambda S, o: S.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=6), 12),
    case("ConstantLR", lambda S, o: S.ConstantLR(o, factor=0.3, total_iters=4), 10),
    case("MultiplicativeLR", lambda S, o: S.MultiplicativeLR(o, lambda e: 0.95), 10),
    case("PolynomialLR", lambda S, o: S.PolynomialLR(o, total_iters=6, power=2.0), 10),
    case(
        "CosineAnnealingWarmRestarts",
        lambda S, o: S.CosineAnnealingWarmRestarts(o, 4, T_mult=2, eta_min=0.001),
        40,
    ),
    case("CosineAnnealingWarmRestarts-T1", lambda S, o: S.CosineAnnealingWarmRestarts(o, 5), 17),
    case(
        "CyclicLR",
        lambda S, o: S.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=4),
        30,
        opt_kwargs=dict(momentum=0.9),
    ),
    case(
        "CyclicLR-triangular2",
        lambda S, o: S.CyclicLR(o, 0.01, 0.1, 3, 5, mode="triangular2", cycle_momentum=False),
        40,
    ),
    case(
        "CyclicLR-exp_range",
        lambda S, o: S.CyclicLR(
            o, 0.01, 0.1, 3, mode="exp_range", gamma=0.9, base_momentum=0.7, max_momentum=0.95
        ),
        30,
        opt_kwargs=dict(momentum=0.9),
    ),
    case(
        "SequentialLR",
        lambda S, o: S.SequentialLR(
            o, [S.LinearLR(o, 0.1, total_iters=3), S.ExponentialLR(o, 0.8)], milestones=[4]
        ),
        15,
    ),
    case(
        "SequentialLR-3",
        lambda S, o: S.SequentialLR(
            o,
            [S.ConstantLR(o, 0.5, total_iters=2), S.StepLR(o, 2), S.CosineAnnealingLR(o, 5)],
            milestones=[3, 8],
        ),
        20,
    ),
    case(
        "ChainedScheduler",
        lambda S, o: S.ChainedScheduler([S.ConstantLR(o, 0.5, total_iters=3), S.ExponentialLR(o, 0.9)]),
        10,
    ),
]


@pytest.mark.parametrize(
    "make, steps, kw", [pytest.param(p.values[0], p.values[1][0], p.values[2], id=p.id) for p in SCHEDULERS]
)
def test_scheduler_matches_torch(make: Callable[..., Any], steps: int, kw: dict) -> None:
    got = lr_sequence(gk, make, steps, **kw)
    ref = lr_sequence(torch, make, steps, **kw)
    np.testing.assert_allclose(np.array(got), np.array(ref), rtol=1e-12, atol=1e-15)


# --- nn.init and gradient clipping ------------------------------------------------------------
@pytest.mark.parametrize(
    "nonlinearity, param",
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
    ],
)
def test_calculate_gain_matches_torch(nonlinearity: str, param: Any) -> None:
    assert gk.nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15
    )


@pytest.mark.parametrize(
    "shape, fn",
    [
        ((3, 5), "eye_"),
        ((5, 3), "eye_"),
        ((4, 2, 3), "dirac_"),
        ((6, 3, 3, 3), "dirac_"),
        ((4, 2, 3, 3, 3), "dirac_"),
        ((3, 4), "zeros_"),
        ((3, 4), "ones_"),
    ],
)
def test_deterministic_init_matches_torch(shape: tuple, fn: str) -> None:
    kw = {"groups": 2} if fn == "dirac_" and shape[0] == 6 else {}
    got = getattr(gk.nn.init, fn)(gk.empty(*shape), **kw)
    ref = getattr(torch.nn.init, fn)(torch.empty(*shape), **kw)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    c = gk.nn.init.constant_(gk.empty(*shape), 0.25)
    np.testing.assert_array_equal(c.numpy(), torch.nn.init.constant_(torch.empty(*shape), 0.25).numpy())


@pytest.mark.parametrize(
    "fn, kw, stat",
    [
        ("uniform_", dict(a=-0.5, b=1.5), lambda a: (a.min() >= -0.5) and (a.max() <= 1.5)),
        ("normal_", dict(mean=1.0, std=0.5), None),
        ("xavier_uniform_", dict(gain=2.0), None),
        ("xavier_normal_", dict(gain=0.5), None),
        ("kaiming_uniform_", dict(a=0.1, mode="fan_out"), None),
        ("kaiming_normal_", dict(nonlinearity="relu"), None),
        (
            "trunc_normal_",
            dict(mean=0.5, std=1.0, a=-1.0, b=1.5),
            lambda a: (a.min() >= -1.0) and (a.max() <= 1.5),
        ),
    ],
)
def test_random_init_statistics_match_torch(fn: str, kw: dict, stat: Any) -> None:
    shape = (200, 50, 3)
    torch.manual_seed(0)
    ref = getattr(torch.nn.init, fn)(torch.empty(*shape, dtype=torch.float64), **kw).numpy()
    got = getattr(gk.nn.init, fn)(gk.empty(*shape, dtype=gk.float64), **kw).numpy()
    assert got.shape == ref.shape
    np.testing.assert_allclose(got.mean(), ref.mean(), atol=4 * ref.std() / math.sqrt(ref.size) + 1e-12)
    np.testing.assert_allclose(got.std(), ref.std(), rtol=0.03)
    np.testing.assert_allclose(np.abs(got).max(), np.abs(ref).max(), rtol=0.25)
    if stat is not None:
        assert stat(got)


def test_orthogonal_init_matches_torch_properties() -> None:
    for shape in ((4, 7), (7, 4), (3, 2, 2)):
        w = gk.nn.init.orthogonal_(gk.empty(*shape, dtype=gk.float64), gain=1.5).numpy().reshape(shape[0], -1)
        small = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(small, 2.25 * np.eye(small.shape[0]), atol=1e-10)


@pytest.mark.parametrize(
    "max_norm, norm_type", [(1.0, 2.0), (0.3, 1.0), (0.5, math.inf), (100.0, 2.0), (0.7, 3.0)]
)
def test_clip_grad_norm_matches_torch(max_norm: float, norm_type: float) -> None:
    res = []
    for lib in (torch, gk):
        ps = [lib.tensor(U(3, 4, seed=1), requires_grad=True), lib.tensor(U(5, seed=2), requires_grad=True)]
        for p, s in zip(ps, (3, 4)):
            p.grad = lib.tensor(U(*p.shape, seed=s))
        total = lib.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
        res.append((float(total), [p.grad.numpy().copy() for p in ps]))
    (rt, rg), (gt, gg) = res
    assert gt == pytest.approx(rt, rel=1e-12)
    for g, r in zip(gg, rg):
        np.testing.assert_allclose(g, r, rtol=1e-12)


def test_clip_grad_value_matches_torch() -> None:
    res = []
    for lib in (torch, gk):
        p = lib.tensor(U(3, 4, seed=1), requires_grad=True)
        p.grad = lib.tensor(U(3, 4, seed=3))
        lib.nn.utils.clip_grad_value_([p], 0.4)
        res.append(p.grad.numpy().copy())
    np.testing.assert_array_equal(res[1], res[0])


# --- errors for bad shapes and arguments --------------------------------------------------------
ERRORS = [
    ("cross_entropy-batch", lambda F, L: F.cross_entropy(L.zeros(3, 4), L.zeros(2, dtype=L.int64))),
    ("cross_entropy-class-oob", lambda F, L: F.cross_entropy(L.zeros(3, 4), L.tensor([0, 4, 1]))),
    (
        "cross_entropy-smoothing",
        lambda F, L: F.cross_entropy(L.zeros(3, 4), L.tensor([0, 1, 1]), label_smoothing=1.5),
    ),
    ("mse-reduction", lambda F, L: F.mse_loss(L.zeros(3), L.zeros(3), reduction="avg")),
    ("bce-size", lambda F, L: F.binary_cross_entropy(L.zeros(3), L.zeros(2))),
    ("bce_logits-size", lambda F, L: F.binary_cross_entropy_with_logits(L.zeros(3), L.zeros(2))),
    ("conv2d-channels", lambda F, L: F.conv2d(L.zeros(1, 3, 5, 5), L.zeros(2, 2, 3, 3))),
    ("conv2d-kernel-too-big", lambda F, L: F.conv2d(L.zeros(1, 1, 2, 2), L.zeros(1, 1, 3, 3))),
    ("max_pool-pad", lambda F, L: F.max_pool2d(L.zeros(1, 1, 5, 5), 2, padding=2)),
    ("pad-odd", lambda F, L: F.pad(L.zeros(2, 3), (1,))),
    ("pad-reflect-too-big", lambda F, L: F.pad(L.zeros(1, 2, 3), (3, 0), mode="reflect")),
    ("softshrink-negative", lambda F, L: F.softshrink(L.zeros(3), -1.0)),
    (
        "triplet-margin",
        lambda F, L: F.triplet_margin_loss(L.zeros(2, 3), L.zeros(2, 3), L.zeros(2, 3), margin=0),
    ),
    ("gaussian-var-size", lambda F, L: F.gaussian_nll_loss(L.zeros(2, 3), L.zeros(2, 3), L.ones(3, 3))),
    ("gaussian-var-negative", lambda F, L: F.gaussian_nll_loss(L.zeros(2, 3), L.zeros(2, 3), -L.ones(2, 3))),
    ("multi_margin-p", lambda F, L: F.multi_margin_loss(L.zeros(2, 3), L.tensor([0, 1]), p=3)),
    ("lrn-2d", lambda F, L: F.local_response_norm(L.zeros(2, 3), 2)),
    ("dropout-p", lambda F, L: F.dropout(L.zeros(3), 1.5)),
    ("one_hot-too-small", lambda F, L: F.one_hot(L.tensor([0, 3]), 2)),
    ("hardtanh-bounds", lambda F, L: F.hardtanh(L.zeros(3), 1.0, -1.0)),
    ("embedding-oob", lambda F, L: F.embedding(L.tensor([5]), L.zeros(3, 2))),
]


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_match_torch(fn: Callable[..., Any]) -> None:
    with pytest.raises(Exception) as ref:
        fn(TF, torch)
    with pytest.raises(Exception) as got:
        fn(F, gk)
    assert isinstance(got.value, type(ref.value)), (got.value, ref.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.Conv2d(3, 4, 3, padding_mode="mirror"),
        lambda nn: nn.Conv2d(3, 4, 3, groups=2),
        lambda nn: nn.Conv1d(2, 4, 3, stride=2, padding="same"),
        lambda nn: nn.Conv1d(2, 4, 3, padding="full"),
        lambda nn: nn.RNN(3, 0),
        lambda nn: nn.LSTM(3, 4, dropout=1.5),
    ],
)
def test_module_construction_errors_match_torch(make: Callable[[Any], Any]) -> None:
    with pytest.raises(Exception) as ref:
        make(torch.nn)
    with pytest.raises(Exception) as got:
        make(gk.nn)
    assert isinstance(got.value, type(ref.value)), (got.value, ref.value)


EXTRA_MODULES = [
    case("prelu", lambda nn: nn.PReLU(3, 0.1), U(2, 3, 4)),
    case(
        "conv_transpose2d",
        lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
        U(2, 4, 3, 3),
    ),
    case(
        "conv_transpose1d",
        lambda nn: nn.ConvTranspose1d(3, 2, 4, stride=3, dilation=2, bias=False),
        U(2, 3, 5),
    ),
    case("group_norm", lambda nn: nn.GroupNorm(2, 4), U(3, 4, 5)),
    case(
        "instance_norm2d-stats",
        lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
        U(2, 3, 4, 4),
        calls=2,
    ),
    case("instance_norm1d-unbatched", lambda nn: nn.InstanceNorm1d(3), U(3, 6)),
    case("local_response_norm", lambda nn: nn.LocalResponseNorm(2), U(2, 4, 3, 3)),
    case("bilinear", lambda nn: nn.Bilinear(3, 2, 4), U(5, 3), U(5, 2, seed=1)),
    case(
        "pools",
        lambda nn: nn.Sequential(
            nn.AdaptiveMaxPool2d((4, 5)),
            nn.LPPool2d(2, 2, 1),
            nn.ReflectionPad2d((1, 0, 1, 1)),
            nn.ZeroPad2d(1),
            nn.ReplicationPad2d(1),
            nn.CircularPad2d((0, 1, 1, 0)),
        ),
        U(2, 3, 7, 8),
    ),
    case(
        "pads-1d",
        lambda nn: nn.Sequential(
            nn.ConstantPad1d((2, 1), 0.5),
            nn.AdaptiveAvgPool1d(5),
            nn.Tanhshrink(),
            nn.Softshrink(0.2),
            nn.Hardshrink(0.1),
            nn.Threshold(0.05, -1.0),
        ),
        U(2, 3, 7),
    ),
    case("similarity", lambda nn: nn.CosineSimilarity(0), U(3, 4), U(3, 4, seed=1)),
    case("distance", lambda nn: nn.PairwiseDistance(1.0, keepdim=True), U(3, 4), U(3, 4, seed=1)),
    case(
        "triplet", lambda nn: nn.TripletMarginLoss(0.5, swap=True), U(3, 4), U(3, 4, seed=1), U(3, 4, seed=2)
    ),
    case(
        "gaussian_nll",
        lambda nn: nn.GaussianNLLLoss(full=True, reduction="sum"),
        U(3, 4),
        U(3, 4, seed=1),
        U(3, 4, low=0.2, seed=2),
    ),
    case("multi_margin", lambda nn: nn.MultiMarginLoss(p=2, margin=0.5), U(4, 3), np.array([0, 2, 1, 2])),
    case("poisson_nll", lambda nn: nn.PoissonNLLLoss(reduction="none"), U(4, 3), U(4, 3, low=0, seed=1)),
    case("hinge", lambda nn: nn.HingeEmbeddingLoss(0.5), U(4), np.array([1.0, -1.0, -1.0, 1.0])),
]


@pytest.mark.parametrize("make, inputs, tol", EXTRA_MODULES)
def test_extra_module_matches_torch(make: Callable[[Any], Any], inputs: tuple[Any, ...], tol: dict) -> None:
    compare_module(make, *inputs, **tol)


@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True}])
def test_instance_norm_repr_and_state_match_torch(kw: dict) -> None:
    ours, theirs = gk.nn.InstanceNorm2d(3, **kw), torch.nn.InstanceNorm2d(3, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
