"""The rows behind PyTorch's node names (#17): pooling, resampling, embedding, multi_margin_loss,
einsum and bilinear record PyTorch's nodes, with PyTorch's values and gradients, and their
derivatives of every order pass finite differences in float64."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import gradcheck, gradgradcheck

F = gk.nn.functional


def _arr(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape)


#: (label, build(lib, x) on a float64 input, input shape, PyTorch 2.13's grad_fn name)
CASES: list[tuple[str, Callable[[Any, Any], Any], tuple[int, ...], str]] = [
    ("nearest1d", lambda L, x: L.nn.functional.interpolate(x, scale_factor=2), (1, 2, 5),
     "UpsampleNearest1DBackward0"),
    ("nearest3d", lambda L, x: L.nn.functional.interpolate(x, size=(3, 4, 2)), (1, 1, 2, 3, 3),
     "UpsampleNearest3DBackward0"),
    ("nearest_exact", lambda L, x: L.nn.functional.interpolate(x, size=(5, 7), mode="nearest-exact"),
     (1, 2, 4, 4), "UpsampleNearestExact2DBackward0"),
    ("linear", lambda L, x: L.nn.functional.interpolate(x, size=7, mode="linear"), (2, 1, 4),
     "UpsampleLinear1DBackward0"),
    ("bilinear_ac", lambda L, x: L.nn.functional.interpolate(x, size=(5, 6), mode="bilinear",
                                                             align_corners=True), (1, 2, 3, 4),
     "UpsampleBilinear2DBackward0"),
    ("bicubic", lambda L, x: L.nn.functional.interpolate(x, scale_factor=1.5, mode="bicubic"),
     (1, 1, 4, 4), "UpsampleBicubic2DBackward0"),
    ("trilinear", lambda L, x: L.nn.functional.interpolate(x, size=(3, 3, 3), mode="trilinear"),
     (1, 1, 2, 2, 4), "UpsampleTrilinear3DBackward0"),
    ("area2d", lambda L, x: L.nn.functional.interpolate(x, size=(2, 3), mode="area"), (1, 2, 5, 7),
     "AdaptiveAvgPool2DBackward0"),
    ("area3d", lambda L, x: L.nn.functional.interpolate(x, size=(1, 2, 3), mode="area"),
     (1, 1, 3, 4, 5), "AdaptiveAvgPool3DBackward0"),
    ("adaptive_avg", lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (2, 3)), (2, 1, 5, 7),
     "AdaptiveAvgPool2DBackward0"),
    ("adaptive_avg_1", lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, 1), (2, 1, 5, 7),
     "MeanBackward1"),
    ("adaptive_avg_unbatched", lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (3, 2)),
     (2, 5, 4), "AdaptiveAvgPool2DBackward0"),
    ("adaptive_max", lambda L, x: L.nn.functional.adaptive_max_pool2d(x, (2, 3)), (2, 1, 5, 7),
     "AdaptiveMaxPool2DBackward0"),
    ("adaptive_max_unbatched", lambda L, x: L.nn.functional.adaptive_max_pool2d(x, 2), (2, 5, 4),
     "AdaptiveMaxPool2DBackward0"),
    ("adaptive_max1d", lambda L, x: L.nn.functional.adaptive_max_pool1d(x, 3), (2, 2, 7),
     "SqueezeBackward1"),
    ("avg_pad", lambda L, x: L.nn.functional.avg_pool2d(x, 3, 2, padding=1), (1, 2, 6, 5),
     "AvgPool2DBackward0"),
    ("avg_nopad_count", lambda L, x: L.nn.functional.avg_pool2d(
        x, 3, 2, padding=1, ceil_mode=True, count_include_pad=False), (1, 2, 6, 5),
     "AvgPool2DBackward0"),
    ("avg_override", lambda L, x: L.nn.functional.avg_pool2d(x, 2, divisor_override=3),
     (2, 4, 4), "AvgPool2DBackward0"),
    ("avg1d", lambda L, x: L.nn.functional.avg_pool1d(x, 3, 1, padding=1), (1, 2, 6),
     "SqueezeBackward1"),
    ("einsum_outer", lambda L, x: L.einsum("i,j->ij", x[0], x[1]), (2, 3), "MulBackward0"),
    ("einsum_diag", lambda L, x: L.einsum("ii->i", x), (3, 3), "PermuteBackward0"),
    ("einsum_batched", lambda L, x: L.einsum("bij,bkj->bik", x, x * 2.0), (2, 3, 4),
     "ViewBackward0"),
    ("embedding_freq", lambda L, x: L.nn.functional.embedding(
        L.tensor([[0, 2, 2], [1, 0, 2]]), x, padding_idx=1, scale_grad_by_freq=True), (4, 3),
     "EmbeddingBackward0"),
]
BUILDS = {label: (build, shape) for label, build, shape, _ in CASES}


@pytest.mark.parametrize("label, name", [(c[0], c[3]) for c in CASES])
def test_node_name(label: str, name: str) -> None:
    build, shape = BUILDS[label]
    out = build(gk, gk.tensor(_arr(0, *shape), dtype=gk.float64, requires_grad=True))
    assert out.grad_fn.name() == name


#: PyTorch's embedding gradient is no derivative here: 0 at padding_idx, scaled by frequency
NOT_A_DERIVATIVE = {"embedding_freq"}


@pytest.mark.parametrize("label", [c[0] for c in CASES if c[0] not in NOT_A_DERIVATIVE])
def test_every_order_by_finite_differences(label: str) -> None:
    build, shape = BUILDS[label]
    x = gk.tensor(_arr(1, *shape), dtype=gk.float64, requires_grad=True)
    assert gradcheck(lambda t: build(gk, t), (x,), check_forward_ad=True)
    assert gradgradcheck(lambda t: build(gk, t), (x,))


@pytest.mark.parametrize("label", [c[0] for c in CASES])
def test_values_gradients_and_names_match_pytorch(label: str) -> None:
    torch = pytest.importorskip("torch")
    build, shape = BUILDS[label]
    a = _arr(2, *shape)
    outs, grads = [], []
    for lib in (gk, torch):
        x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        out = build(lib, x)
        v = lib.tensor(_arr(3, *tuple(out.shape)), dtype=lib.float64)
        (out * v).sum().backward()
        outs.append(out)
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(outs[0].detach().numpy(), outs[1].detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-14)
    assert outs[0].grad_fn.name() == outs[1].grad_fn.name()
    nxt = [[None if n is None else n.name().replace("torch::autograd::", "")
            for n, _ in o.grad_fn.next_functions] for o in outs]
    assert nxt[0] == nxt[1]


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("one", [False, True])
def test_multi_margin_loss_row(p: int, reduction: str, weighted: bool, one: bool) -> None:
    x = _arr(4, 3) if one else _arr(4, 4, 3)
    target = gk.tensor(1) if one else gk.tensor([0, 1, 2, 0])
    w = gk.tensor([0.5, 2.0, 1.5], dtype=gk.float64) if weighted else None

    def f(t: Any) -> Any:
        return F.multi_margin_loss(t, target, p=p, margin=0.7, weight=w, reduction=reduction)

    out = f(gk.tensor(x, requires_grad=True))
    assert out.grad_fn.name() == "MultiMarginLossBackward0"
    assert gradcheck(f, (gk.tensor(x, requires_grad=True),), check_forward_ad=True)
    assert gradgradcheck(f, (gk.tensor(x, requires_grad=True),))
    # the value from its definition: sum_{j != y} w[y] max(0, margin - x[y] + x[j]) ** p / C
    x2 = x.reshape(-1, 3)
    y = np.atleast_1d(target.numpy())
    z = 0.7 - x2[np.arange(len(y)), y][:, None] + x2
    h = np.where((z > 0) & (np.arange(3)[None, :] != y[:, None]), z ** p, 0.0)
    per = h.sum(1) / 3 * (np.array([0.5, 2.0, 1.5])[y] if weighted else 1.0)
    want = {"mean": per.mean(), "sum": per.sum(), "none": per.reshape(()) if one else per}[reduction]
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12)


def test_multi_margin_loss_weight_that_requires_grad_is_differentiated() -> None:
    # PyTorch does not differentiate the weight; gradkit composes then: d/dw[y] is the hinge sum / C
    x = gk.tensor([[0.2, -0.1, 0.4]], dtype=gk.float64, requires_grad=True)
    w = gk.tensor([1.0, 2.0, 3.0], dtype=gk.float64, requires_grad=True)
    F.multi_margin_loss(x, gk.tensor([0]), weight=w).backward()
    np.testing.assert_allclose(w.grad.numpy(), [(0.7 + 1.2) / 3, 0.0, 0.0], rtol=1e-12)


def test_jvp_create_graph_prints_pytorchs_node() -> None:
    # PyTorch's documentation example: jvp(exp_reducer, inputs, v, create_graph=True) prints
    # grad_fn=<SqueezeBackward1> over SumBackward1 (the double-backward trick)
    def exp_reducer(x: Any) -> Any:
        return x.exp().sum(dim=1)

    x = gk.tensor(_arr(5, 4, 4), dtype=gk.float64, requires_grad=True)
    out, jv = gk.autograd.functional.jvp(exp_reducer, x, gk.ones(4, 4, dtype=gk.float64),
                                         create_graph=True)
    assert "grad_fn=<SumBackward1>" in repr(out)
    assert "grad_fn=<SqueezeBackward1>" in repr(jv)
    assert [n.name() for n, _ in jv.grad_fn.next_functions] == ["SumBackward1"]
    np.testing.assert_allclose(jv.detach().numpy(), np.exp(_arr(5, 4, 4)).sum(1), rtol=1e-12)
    # differentiable: d/dx sum_i (J v)_i = exp(x)
    (g,) = gk.autograd.grad(jv.sum(), x)
    np.testing.assert_allclose(g.numpy(), np.exp(_arr(5, 4, 4)), rtol=1e-12)
    _, jv2 = gk.autograd.functional.jvp(lambda t: t.sin(), x, gk.ones(4, 4, dtype=gk.float64),
                                       create_graph=True)
    assert jv2.grad_fn.name() == "MulBackward0"


#: equations and shapes for gk.einsum (one operand, products, contractions, ellipses)
EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 2)]), ("ij->ji", [(3, 4)]), ("ijk->kji", [(2, 3, 2)]),
    ("ij->", [(3, 4)]), ("ijk->j", [(2, 3, 2)]), ("ii->i", [(3, 3)]), ("iij->j", [(2, 2, 3)]),
    ("i,j->ij", [(3,), (2,)]), ("bi,bi->b", [(3, 4), (3, 4)]), ("ji,jk->ki", [(3, 2), (3, 2)]),
    ("i,ij,j->", [(2,), (2, 3), (3,)]), ("ij,->ij", [(2, 3), ()]), ("ij,jk", [(2, 3), (3, 2)]),
    ("...ij,...jk->...ik", [(1, 2, 3), (2, 3, 2)]), ("i...->...", [(2, 3, 2)]),
    ("...j,j", [(2, 3), (3,)]), ("ii,i->i", [(3, 3), (3,)]), ("ab,cd->abcd", [(2, 1), (1, 3)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum_values_and_every_order(equation: str, shapes: list[tuple[int, ...]]) -> None:
    arrays = [_arr(k, *s) for k, s in enumerate(shapes)]
    xs = tuple(gk.tensor(a, dtype=gk.float64, requires_grad=True) for a in arrays)
    out = gk.einsum(equation, *xs)
    np.testing.assert_allclose(out.detach().numpy(), np.einsum(equation, *arrays), rtol=1e-12,
                               atol=1e-14)
    assert gradcheck(lambda *ts: gk.einsum(equation, *ts), xs, check_forward_ad=True)
    assert gradgradcheck(lambda *ts: gk.einsum(equation, *ts), xs)


@pytest.mark.parametrize("equation, shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum_nodes_match_pytorch(equation: str, shapes: list[tuple[int, ...]]) -> None:
    torch = pytest.importorskip("torch")
    names = []
    for lib in (gk, torch):
        xs = [lib.tensor(_arr(k, *s), dtype=lib.float64, requires_grad=True)
              for k, s in enumerate(shapes)]
        fn = lib.einsum(equation, *xs).grad_fn
        names.append((fn.name(), [None if n is None else n.name().replace("torch::autograd::", "")
                                  for n, _ in fn.next_functions]))
    assert names[0] == names[1]


def test_vdot_conjugates_its_first_argument() -> None:
    # np.vdot's definition: sum(conj(a) * b); the gradient follows PyTorch's convention, checked
    # by finite differences (gradcheck treats complex inputs as pairs of reals)
    a = np.array([1 + 2j, 3 - 1j, -0.5j])
    b = np.array([2 - 1j, 1 + 1j, 0.25 + 0j])
    out = gk.vdot(gk.tensor(a), gk.tensor(b))
    np.testing.assert_allclose(out.numpy(), np.vdot(a, b), rtol=1e-15)
    xs = (gk.tensor(a, requires_grad=True), gk.tensor(b, requires_grad=True))
    assert gk.vdot(*xs).grad_fn.name() == "VdotBackward0"
    assert gradcheck(gk.vdot, xs, check_forward_ad=True)
    assert gradgradcheck(gk.vdot, xs)


def test_inner_of_matrices_sums_the_last_dims() -> None:
    a, b = _arr(6, 2, 3), _arr(7, 4, 3)
    np.testing.assert_allclose(gk.inner(gk.tensor(a), gk.tensor(b)).numpy(), np.inner(a, b), rtol=1e-13)
    with pytest.raises(RuntimeError, match="the last dimension must match"):
        gk.inner(gk.ones(3, 2), gk.ones(3))
