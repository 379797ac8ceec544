"""Rows and compositions that give PyTorch's nodes (#17): addr, addbmm, dist, aminmax,
index_add, index_copy, put, masked_scatter, scatter_reduce (prod too), conv_transpose3d,
multilabel_margin_loss, embedding_bag (sum, mean, max), fractional max pooling, grid_sample,
affine_grid, nansum, cdist, pdist, renorm and lstsq's solution are table rows (index_fill the
masked_fill row's IndexFillBackward variants); take, take_along_dim, trapezoid,
linalg.matrix_power, linalg.multi_dot and the 1/inf matrix norms compose as PyTorch does. Values,
first and second derivatives against finite differences in float64 (gradcheck) and, where torch
is installed, PyTorch 2.13's nodes, values and gradients."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import gradcheck, gradgradcheck


def _arr(seed: int, *shape: int, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def _u(lib: Any, *shape: int) -> Any:
    """Fixed random samples in [0, 1) for fractional max pooling."""
    return lib.tensor(_arr(5, *shape, lo=0.0, hi=1.0), dtype=lib.float64)


#: (label, build(lib, *inputs), input shapes)
CASES: list[tuple[str, Callable[..., Any], list[tuple[int, ...]]]] = [
    ("addr", lambda L, b, u, v: L.addr(b, u, v, beta=0.5, alpha=2.0), [(4, 3), (4,), (3,)]),
    ("addr_broadcast", lambda L, b, u, v: L.addr(b, u, v), [(3,), (4,), (3,)]),
    ("addbmm", lambda L, b, x, w: L.addbmm(b, x, w, beta=-1.0, alpha=0.5),
     [(4, 2), (3, 4, 5), (3, 5, 2)]),
    ("dist2_broadcast", lambda L, x, y: L.dist(x, y), [(3, 4), (4,)]),
    ("dist1", lambda L, x, y: L.dist(x, y, 1), [(3, 4), (3, 4)]),
    ("dist3", lambda L, x, y: L.dist(x, y, 3), [(3, 4), (3, 4)]),
    ("dist_inf", lambda L, x, y: L.dist(x, y, float("inf")), [(3, 4), (3, 4)]),
    ("dist_1_5", lambda L, x, y: L.dist(x, y, 1.5), [(5,), (5,)]),
    ("aminmax_full", lambda L, x: L.aminmax(x)[0] * 2 + L.aminmax(x)[1], [(3, 4)]),
    ("aminmax_dim", lambda L, x: L.stack(list(L.aminmax(x, dim=-1, keepdim=True))), [(3, 4)]),
    ("aminmax_max_only", lambda L, x: L.aminmax(x, dim=0).max, [(3, 4)]),
    ("index_add", lambda L, x, s: x.index_add(1, L.tensor([2, 0, 2]), s, alpha=1.5),
     [(3, 4), (3, 3)]),
    ("index_fill", lambda L, x: x.index_fill(1, L.tensor([2, 0, 2]), -1.5), [(3, 4)]),
    ("index_fill_tensor", lambda L, x, v: x.index_fill(0, L.tensor([1]), v), [(3, 4), ()]),
    ("nansum_dim", lambda L, x: L.nansum(x, 0), [(3, 4)]),
    ("take", lambda L, x: L.take(x, L.tensor([[0, -1], [5, 5]])), [(3, 4)]),
    ("take_along_dim", lambda L, x: L.take_along_dim(x, L.tensor([[0], [2], [1]]), 1), [(3, 4)]),
    ("trapezoid_dx", lambda L, y: L.trapezoid(y, dx=0.5, dim=0), [(4, 3)]),
    ("trapezoid_x", lambda L, y: L.trapezoid(y, L.tensor([0.0, 0.5, 2.0], dtype=L.float64)),
     [(4, 3)]),
    ("cumulative_trapezoid", lambda L, y: L.cumulative_trapezoid(y, dx=2.0), [(4, 3)]),
    ("cumulative_trapezoid_x", lambda L, y: L.cumulative_trapezoid(
        y, L.tensor([0.0, 0.5, 2.0], dtype=L.float64)), [(4, 3)]),
    ("matrix_power0", lambda L, a: L.linalg.matrix_power(a, 0), [(3, 3)]),
    ("matrix_power1", lambda L, a: L.linalg.matrix_power(a, 1), [(3, 3)]),
    ("matrix_power3", lambda L, a: L.linalg.matrix_power(a, 3), [(3, 3)]),
    ("matrix_power6", lambda L, a: L.linalg.matrix_power(a, 6), [(2, 3, 3)]),
    ("matrix_power_m1", lambda L, a: L.linalg.matrix_power(a + 3 * L.eye(3, dtype=L.float64), -1),
     [(3, 3)]),
    ("matrix_power_m3", lambda L, a: L.linalg.matrix_power(a + 3 * L.eye(3, dtype=L.float64), -3),
     [(3, 3)]),
    ("multi_dot2", lambda L, a, b: L.linalg.multi_dot([a, b]), [(2, 3), (3, 4)]),
    ("multi_dot3_left", lambda L, a, b, c: L.linalg.multi_dot([a, b, c]), [(5, 2), (2, 4), (4, 3)]),
    ("multi_dot4", lambda L, a, b, c, d: L.linalg.multi_dot([a, b, c, d]),
     [(2, 3), (3, 4), (4, 2), (2, 5)]),
    ("multi_dot5", lambda L, a, b, c, d, e: L.linalg.multi_dot([a, b, c, d, e]),
     [(6, 2), (2, 5), (5, 1), (1, 4), (4, 3)]),
    ("lstsq", lambda L, a, b: L.linalg.lstsq(a, b).solution, [(4, 3), (4, 2)]),
    ("lstsq_vector", lambda L, a, b: L.linalg.lstsq(a, b).solution, [(4, 3), (4,)]),
    ("lstsq_batch", lambda L, a, b: L.linalg.lstsq(a, b).solution, [(2, 4, 3), (2, 4, 2)]),
    ("cdist2", lambda L, a, b: L.cdist(a, b), [(4, 3), (5, 3)]),
    ("cdist1", lambda L, a, b: L.cdist(a, b, 1), [(4, 3), (5, 3)]),
    ("cdist3_batch", lambda L, a, b: L.cdist(a, b, 3), [(2, 4, 3), (2, 5, 3)]),
    ("cdist_inf", lambda L, a, b: L.cdist(a, b, float("inf")), [(4, 3), (5, 3)]),
    ("cdist1_5_broadcast", lambda L, a, b: L.cdist(a, b, 1.5), [(2, 4, 3), (5, 3)]),
    ("matrix_norm1", lambda L, a: L.linalg.matrix_norm(a, 1), [(3, 4)]),
    ("matrix_norm_inf_keepdim", lambda L, a: L.linalg.matrix_norm(a, float("inf"), keepdim=True),
     [(2, 3, 4)]),
    ("matrix_norm_m1_dims", lambda L, a: L.linalg.matrix_norm(a, -1, dim=(2, 0)), [(3, 2, 4)]),
    ("pdist", lambda L, x: L.nn.functional.pdist(x), [(4, 3)]),
    ("pdist1", lambda L, x: L.nn.functional.pdist(x, 1), [(4, 3)]),
    ("pdist_inf", lambda L, x: L.nn.functional.pdist(x, float("inf")), [(4, 3)]),
    ("pdist3", lambda L, x: L.nn.functional.pdist(x, 3), [(5, 2)]),
    ("renorm", lambda L, x: L.renorm(x, 2, 0, 1.0), [(4, 3)]),
    ("renorm_p1_dim1", lambda L, x: L.renorm(x, 1, 1, 1.2), [(4, 3)]),
    ("renorm_p3_3d", lambda L, x: L.renorm(x, 3, 1, 0.5), [(2, 3, 2)]),
    ("multi_dot_vectors", lambda L, a, b, c: L.linalg.multi_dot([a, b, c]), [(3,), (3, 4), (4,)]),
    ("index_copy", lambda L, x, s: x.index_copy(1, L.tensor([3, 0]), s), [(3, 4), (3, 2)]),
    ("index_copy_dim0", lambda L, x, s: L.index_copy(x, 0, L.tensor([2]), s), [(3, 4), (1, 4)]),
    ("put", lambda L, x, s: x.put(L.tensor([[0, -1], [5, 7]]), s), [(3, 4), (2, 2)]),
    ("put_accumulate", lambda L, x, s: x.put(L.tensor([1, 1, -1]), s, accumulate=True),
     [(3, 4), (3,)]),
    ("masked_scatter", lambda L, x, s: x.masked_scatter(
        L.tensor([[True, False, True, False], [False, False, True, True], [True] * 4]), s),
     [(3, 4), (2, 5)]),
    ("masked_scatter_broadcast_mask", lambda L, x, s: x.masked_scatter(
        L.tensor([False, True, True, False]), s), [(3, 4), (7,)]),
    *[(f"scatter_reduce_{r}_{inc}", lambda L, x, s, r=r, inc=inc: x.scatter_reduce(
        1, L.tensor([[3, 0, 3], [1, 1, 2], [0, 2, 0]]), s, r, include_self=inc), [(3, 4), (3, 3)])
      for r in ("sum", "mean", "amax", "amin", "prod") for inc in (True, False)],
    ("conv_transpose3d", lambda L, x, w, b: L.nn.functional.conv_transpose3d(x, w, b),
     [(1, 2, 2, 3, 2), (2, 3, 2, 2, 2), (3,)]),
    ("conv_transpose3d_strided", lambda L, x, w, b: L.nn.functional.conv_transpose3d(
        x, w, b, stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 0), groups=2,
        dilation=(1, 2, 1)), [(2, 4, 2, 3, 3), (4, 1, 3, 2, 2), (2,)]),
    ("conv_transpose3d_unbatched_no_bias", lambda L, x, w: L.nn.functional.conv_transpose3d(
        x, w, stride=2, padding=1, dilation=2, output_padding=1), [(2, 3, 2, 2), (2, 2, 2, 1, 2)]),
    *[(f"multilabel_margin_loss_{r}", lambda L, x, r=r: L.nn.functional.multilabel_margin_loss(
        x, L.tensor([[3, 0, -1, 1], [1, 2, 3, -1], [0, 1, 2, 3]]), reduction=r), [(3, 4)])
      for r in ("mean", "sum", "none")],
    ("multilabel_margin_loss_unbatched", lambda L, x: L.nn.functional.multilabel_margin_loss(
        x, L.tensor([2, -1, 0, 1])), [(4,)]),
    ("embedding_bag_mean", lambda L, w: L.nn.functional.embedding_bag(
        L.tensor([0, 2, 1, 3, 5, 5]), w, L.tensor([0, 2, 2, 5])), [(6, 3)]),
    ("embedding_bag_sum_weights_last_offset", lambda L, w, p: L.nn.functional.embedding_bag(
        L.tensor([0, 2, 1, 3, 5]), w, L.tensor([0, 3, 5]), mode="sum", per_sample_weights=p,
        include_last_offset=True), [(6, 3), (5,)]),
    ("embedding_bag_2d_padding_idx", lambda L, w: L.nn.functional.embedding_bag(
        L.tensor([[0, 2], [1, 5], [4, 4]]), w, padding_idx=4), [(6, 3)]),
    ("embedding_bag_max", lambda L, w: L.nn.functional.embedding_bag(
        L.tensor([0, 2, 1, 3, 5, 5, 2]), w, L.tensor([0, 2, 2, 5]), mode="max"), [(6, 3)]),
    ("embedding_bag_max_2d_padding_idx", lambda L, w: L.nn.functional.embedding_bag(
        L.tensor([[0, 2], [1, 5], [4, 4]]), w, mode="max", padding_idx=4), [(6, 3)]),
    ("fractional_max_pool2d", lambda L, x: L.nn.functional.fractional_max_pool2d(
        x, (2, 3), output_size=(4, 3), _random_samples=_u(L, 2, 3, 2)), [(2, 3, 7, 8)]),
    ("fractional_max_pool2d_unbatched_ratio", lambda L, x: L.nn.functional.fractional_max_pool2d(
        x, 2, output_ratio=(0.5, 0.7), _random_samples=_u(L, 1, 2, 2)), [(2, 9, 7)]),
    ("fractional_max_pool3d", lambda L, x: L.nn.functional.fractional_max_pool3d(
        x, (2, 1, 2), output_size=(3, 4, 2), _random_samples=_u(L, 1, 2, 3)), [(1, 2, 6, 5, 6)]),
    ("fractional_max_pool3d_unbatched", lambda L, x: L.nn.functional.fractional_max_pool3d(
        x, 2, output_size=3, _random_samples=_u(L, 1, 3, 3)), [(3, 5, 6, 5)]),
    *[(f"grid_sample_{m}_{p}_{ac}", lambda L, x, g, m=m, p=p, ac=ac: L.nn.functional.grid_sample(
        x, g * 1.3, mode=m, padding_mode=p, align_corners=ac), [(2, 2, 3, 4), (2, 2, 3, 2)])
      for m in ("bilinear", "bicubic", "nearest") for p in ("zeros", "border", "reflection")
      for ac in (False, True) if m != "nearest" or p == "reflection"],
    *[(f"grid_sample_3d_{m}_{p}", lambda L, x, g, m=m, p=p: L.nn.functional.grid_sample(
        x, g * 1.2, mode=m, padding_mode=p, align_corners=False), [(1, 2, 3, 2, 4), (1, 2, 2, 1, 3)])
      for m in ("bilinear", "nearest") for p in ("zeros", "reflection")],
    ("affine_grid_2d", lambda L, t: L.nn.functional.affine_grid(t, [2, 3, 4, 5], align_corners=False),
     [(2, 2, 3)]),
    ("affine_grid_3d", lambda L, t: L.nn.functional.affine_grid(t, [2, 1, 2, 3, 4], align_corners=True),
     [(2, 3, 4)]),
]


def _inputs(lib: Any, shapes: list[tuple[int, ...]]) -> list[Any]:
    return [lib.tensor(_arr(10 + i, *s), dtype=lib.float64, requires_grad=True)
            for i, s in enumerate(shapes)]


@pytest.mark.parametrize("label,build,shapes", CASES, ids=[c[0] for c in CASES])
def test_derivatives_pass_finite_differences(label: str, build: Any, shapes: Any) -> None:
    xs = _inputs(gk, shapes)
    assert gradcheck(lambda *a: build(gk, *a), tuple(xs))
    assert gradgradcheck(lambda *a: build(gk, *a), tuple(xs))


def _names(out: Any) -> tuple[str, tuple[Any, ...]]:
    fn = out.grad_fn

    def nm(f: Any) -> Any:
        return None if f is None else f.name().replace("torch::autograd::", "")
    return nm(fn), tuple(nm(n) for n, _ in fn.next_functions)


@pytest.mark.parametrize("label,build,shapes", CASES, ids=[c[0] for c in CASES])
def test_nodes_values_and_gradients_match_pytorch(label: str, build: Any, shapes: Any) -> None:
    torch = pytest.importorskip("torch")
    xg, xt = _inputs(gk, shapes), _inputs(torch, shapes)
    og, ot = build(gk, *xg), build(torch, *xt)
    assert _names(og) == _names(ot)
    np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), rtol=1e-10, atol=1e-12)
    v = _arr(99, *tuple(ot.shape), lo=0.5, hi=1.5)
    gg = gk.autograd.grad((og * gk.tensor(v)).sum(), xg, allow_unused=True)
    gt = torch.autograd.grad((ot * torch.tensor(v)).sum(), xt, allow_unused=True)
    for a, b in zip(gg, gt):
        a = np.zeros(1) if a is None else a.numpy()
        b = np.zeros(1) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_nansum_gives_nan_entries_no_gradient() -> None:
    x = gk.tensor([[1.0, float("nan")], [2.0, 3.0]], dtype=gk.float64, requires_grad=True)
    y = gk.nansum(x, 1)
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 5.0])
    (y * gk.tensor([2.0, 3.0], dtype=gk.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0], [3.0, 3.0]])
    assert y.grad_fn.name() == "NansumBackward0"


def test_aminmax_ties_share_the_gradient() -> None:
    # recorded from PyTorch 2.13: (2 * min + 5 * max) of [[1, 3, 3], [2, 2, 0]]
    x = gk.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    lo, hi = gk.aminmax(x)
    (lo * 2 + hi * 5).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 2.5, 2.5], [0.0, 0.0, 2.0]])
    assert lo.grad_fn is hi.grad_fn and lo.grad_fn.name() == "AminmaxBackward0"


def test_multi_dot_takes_the_cheapest_order() -> None:
    # (5x2)(2x4)(4x3): (AB)C costs 5*2*4 + 5*4*3 = 100, A(BC) 2*4*3 + 5*2*3 = 54
    a, b, c = (gk.tensor(_arr(i, *s), requires_grad=True) for i, s in
               enumerate([(5, 2), (2, 4), (4, 3)]))
    out = gk.linalg.multi_dot([a, b, c])
    (mm,) = [n for n, _ in out.grad_fn.next_functions]
    left, right = [n for n, _ in mm.next_functions]
    assert left.variable is a and right.name() == "MmBackward0"
    np.testing.assert_allclose(out.detach().numpy(), a.detach().numpy() @ b.detach().numpy()
                               @ c.detach().numpy(), rtol=1e-12)


def test_index_fill_repeated_index_fills_once() -> None:
    # recorded from PyTorch 2.13: a repeated index fills its slice once, so the value's
    # gradient is the sum over the 6 filled entries (gradkit gave 9 before the row)
    x = gk.rand(3, 4, dtype=gk.float64, requires_grad=True)
    v = gk.tensor(2.0, dtype=gk.float64, requires_grad=True)
    y = x.index_fill(1, gk.tensor([3, 0, 3]), v)
    assert y.grad_fn.name() == "IndexFillBackward1"
    y.sum().backward()
    assert v.grad.item() == 6.0
    np.testing.assert_array_equal(x.grad.numpy(), np.tile([0.0, 1.0, 1.0, 0.0], (3, 1)))


#: recorded from PyTorch 2.13: prod with zeros in self and in src (two zeros of src meet at
#: self[0, 0]), gradients of the sum of the result
_SRP_X = [[2.0, 0.0, 3.0, 4.0], [1.0, 5.0, 0.0, 2.0]]
_SRP_S = [[0.0, 3.0, 0.0], [2.0, 0.0, 7.0]]
_SRP = {True: ([[0.0, 0.0, 3.0, 4.0], [1.0, 5.0, 0.0, 14.0]], [[0.0, 3.0, 1.0, 1.0], [1.0, 1.0, 0.0, 7.0]],
               [[0.0, 0.0, 0.0], [0.0, 0.0, 2.0]]),
        False: ([[0.0, 3.0, 3.0, 4.0], [1.0, 5.0, 0.0, 7.0]], [[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]],
                [[0.0, 1.0, 0.0], [0.0, 2.0, 1.0]])}


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_with_zeros_is_pytorchs(include_self: bool) -> None:
    x = gk.tensor(_SRP_X, dtype=gk.float64, requires_grad=True)
    s = gk.tensor(_SRP_S, dtype=gk.float64, requires_grad=True)
    out = x.scatter_reduce(1, gk.tensor([[0, 1, 0], [2, 2, 3]]), s, "prod", include_self=include_self)
    assert out.grad_fn.name() == "ScatterReduceBackward0"
    want, gx_want, gs_want = _SRP[include_self]
    np.testing.assert_array_equal(out.detach().numpy(), want)
    gx, gs = gk.autograd.grad(out.sum(), [x, s], create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), gx_want)
    np.testing.assert_array_equal(gs.detach().numpy(), gs_want)
    # self's rule differentiates again (the product of the others: PyTorch's values) ...
    hx, hs = gk.autograd.grad(gx.sum(), [x, s], allow_unused=True)
    np.testing.assert_array_equal(hx.numpy(), np.zeros((2, 4)))
    np.testing.assert_array_equal(hs.numpy(), [[0.0, 1.0, 0.0], [0.0, 2.0, 1.0]] if include_self
                                  else np.zeros((2, 3)))
    # ... src's does not where two zeros of src meet in one slot (PyTorch refuses it too)
    with pytest.raises(RuntimeError, match="Double backward is unsupported for src when >1 zeros"):
        gk.autograd.grad(gs.sum(), [x, s], allow_unused=True)


def test_scatter_reduce_prod_with_one_zero_per_slot_differentiates_twice() -> None:
    # one zero per slot: the rule is exact, so finite differences hold at and around the zero
    x = gk.tensor([[2.0, 0.0, 3.0, 4.0], [1.0, 5.0, 0.5, 2.0]], dtype=gk.float64, requires_grad=True)
    s = gk.tensor([[0.0, 3.0, 1.5], [2.0, 0.0, 7.0]], dtype=gk.float64, requires_grad=True)
    idx = gk.tensor([[0, 1, 0], [2, 2, 3]])
    for inc in (True, False):
        def f(a: Any, b: Any, inc: bool = inc) -> Any:
            return a.scatter_reduce(1, idx, b, "prod", include_self=inc)
        assert gradcheck(f, (x, s))
        assert gradgradcheck(f, (x, s))


def test_embedding_bag_max_ties_nan_and_empty_bags() -> None:
    # recorded from PyTorch 2.13: a tie goes to its first member, an empty bag is 0 and gets
    # nothing
    w = gk.tensor([[1.0, 2.0], [3.0, 2.0], [3.0, 1.0]], dtype=gk.float64, requires_grad=True)
    out = gk.nn.functional.embedding_bag(gk.tensor([0, 1, 2]), w, gk.tensor([0, 0]), mode="max")
    np.testing.assert_array_equal(out.detach().numpy(), [[0.0, 0.0], [3.0, 2.0]])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    w.grad = None
    out = gk.nn.functional.embedding_bag(gk.tensor([[0, 1, 2], [2, 1, 0]]), w, mode="max")   # equal bags
    np.testing.assert_array_equal(out.detach().numpy(), [[3.0, 2.0], [3.0, 2.0]])
    (out * gk.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=gk.float64)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0.0, 2.0], [1.0, 4.0], [3.0, 0.0]])
    # a nan is the maximum wherever it is in its bag (as amax and max pooling); PyTorch keeps
    # it only when it comes first ([3, 5] here), which hides it
    w = gk.tensor([[1.0, 2.0], [float("nan"), 5.0], [3.0, float("nan")], [3.0, 0.0]],
                  dtype=gk.float64, requires_grad=True)
    out = gk.nn.functional.embedding_bag(gk.tensor([0, 1, 2, 3]), w, gk.tensor([0]), mode="max")
    np.testing.assert_array_equal(out.detach().numpy(), [[np.nan, np.nan]])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])


def test_embedding_bag_max_refuses_what_pytorch_refuses() -> None:
    w = gk.rand(4, 3, dtype=gk.float64, requires_grad=True)
    with pytest.raises(ValueError, match="max mode does not support scaling the gradient"):
        gk.nn.functional.embedding_bag(gk.tensor([0, 1]), w, gk.tensor([0]), mode="max",
                                       scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match="to have one of the following scalar types"):
        gk.nn.functional.embedding_bag(gk.tensor([0, 1]), gk.ones(3, 2, dtype=gk.int64),
                                       gk.tensor([0]), mode="max")


def test_embedding_bag_max_norm_renormalizes_then_takes_the_row() -> None:
    # max_norm rescales the looked-up rows in place first (as PyTorch), then one node
    wd = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    w = gk.tensor(wd.copy(), dtype=gk.float64, requires_grad=True)
    out = gk.nn.functional.embedding_bag(gk.tensor([0, 1, 2]), w, gk.tensor([0, 2]), mode="max",
                                         max_norm=1.0)
    assert out.grad_fn.name() == "EmbeddingBagBackward0"
    a, b = 1.0 / (5.0 + 1e-7), 1.0 / (10.0 + 1e-7)
    np.testing.assert_allclose(out.detach().numpy(), [[3 * a, 4 * a], [6 * b, 8 * b]], rtol=1e-12)


def test_embedding_bag_scale_grad_by_freq_is_one_node() -> None:
    # each index's gradient divided by its count in input (the documented rule; PyTorch 2.13's CPU
    # kernel gives row 5 here 2/3, the count of index 2, whenever 5, 5 precede 2, 2, 2: a bug)
    w = gk.tensor(_arr(3, 6, 2), dtype=gk.float64, requires_grad=True)
    out = gk.nn.functional.embedding_bag(gk.tensor([0, 2, 1, 2, 5, 5, 2]), w, gk.tensor([0, 2, 2, 5]),
                                         mode="sum", scale_grad_by_freq=True)
    assert out.grad_fn.name() == "EmbeddingBagBackward0"
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1], [1, 1], [1, 1], [0, 0], [0, 0], [1, 1]])
    w.grad = None
    out = gk.nn.functional.embedding_bag(gk.tensor([[0, 2], [1, 5], [5, 5]]), w, scale_grad_by_freq=True)
    (out * gk.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=gk.float64)).sum().backward()
    # (mean mode: recorded from PyTorch 2.13)
    np.testing.assert_allclose(w.grad.numpy(), [[0.5, 1], [1.5, 2], [0.5, 1], [0, 0], [0, 0],
                                                [(1.5 + 5) / 3, (2 + 6) / 3]], rtol=1e-12)


def test_fractional_max_pool_nan_wins_and_empty_batch() -> None:
    # recorded from PyTorch 2.13: a nan is its window's maximum and takes the gradient
    x = gk.tensor(np.arange(36.0).reshape(1, 1, 6, 6), dtype=gk.float64)
    x[0, 0, 1, 1] = float("nan")
    x[0, 0, 4, 4] = float("nan")
    x[0, 0, 0, 0] = 100.0
    x.requires_grad_(True)
    u = gk.tensor([[[0.3, 0.6]]], dtype=gk.float64)
    out, idx = gk.nn.functional.fractional_max_pool2d(x, 2, output_size=3, return_indices=True,
                                                      _random_samples=u)
    assert out.grad_fn.name() == "FractionalMaxPool2DBackward0"
    np.testing.assert_array_equal(out.detach().numpy().ravel(),
                                  [np.nan, 9.0, 11.0, 19.0, 21.0, 23.0, 31.0, 33.0, np.nan])
    np.testing.assert_array_equal(idx.numpy().ravel(), [7, 9, 11, 19, 21, 23, 31, 33, 28])
    out.sum().backward()
    np.testing.assert_array_equal(np.flatnonzero(x.grad.numpy()), [7, 9, 11, 19, 21, 23, 28, 31, 33])
    for shape, fn in (((0, 2, 6, 6), gk.nn.functional.fractional_max_pool2d),
                      ((0, 2, 6, 6, 6), gk.nn.functional.fractional_max_pool3d)):
        e = gk.rand(*shape, dtype=gk.float64, requires_grad=True)
        y = fn(e, 2, output_size=3)
        assert tuple(y.shape) == shape[:2] + (3,) * (len(shape) - 2)
        y.sum().backward()
        assert tuple(e.grad.shape) == shape


def _hostile_grid(mode: str, padding: str, ac: bool) -> tuple[Any, Any, Any, Any]:
    x = gk.tensor(_arr(0, 1, 1, 3, 4), dtype=gk.float64, requires_grad=True)
    g = gk.tensor([[[[float("nan"), 0.1], [0.2, float("inf")], [-float("inf"), 0.3], [1e30, 0.0],
                     [-1e30, 0.4], [0.3, -0.2]]]], dtype=gk.float64, requires_grad=True)
    out = gk.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=ac)
    out.sum().backward()
    return x, g, out.detach().numpy().ravel(), g.grad.numpy().reshape(-1, 2)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
def test_grid_sample_nan_inf_and_far_coordinates(mode: str, padding: str) -> None:
    # A nan or infinite coordinate samples nan in every mode; its grid gradient is nan (nearest:
    # 0, as every nearest grid gradient) and the input gets nothing from it. PyTorch 2.13 gives
    # nan for bilinear and bicubic with zeros padding and for bicubic with any padding, but 0
    # (nearest, zeros), an edge pixel (border, +-inf) or pixel 0 (nearest, nan) elsewhere, and
    # its bilinear border/reflection kernels crash (segfault) on a nan.
    x, g, out, gg = _hostile_grid(mode, padding, False)
    assert np.isnan(out[:3]).all()
    np.testing.assert_array_equal(np.isnan(gg[:3]), np.full((3, 2), mode != "nearest"))
    if mode == "nearest":
        np.testing.assert_array_equal(gg, np.zeros((6, 2)))
    # only the finite points reach the input
    xs = gk.tensor(x.detach().numpy(), requires_grad=True)
    gs = gk.tensor(g.detach().numpy()[:, :, 3:], requires_grad=True)
    F = gk.nn.functional
    F.grid_sample(xs, gs, mode=mode, padding_mode=padding, align_corners=False).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xs.grad.numpy())
    np.testing.assert_array_equal(gg[3:], gs.grad.numpy().reshape(-1, 2))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("ac", [False, True])
def test_grid_sample_far_coordinates_match_pytorch(mode: str, padding: str, ac: bool) -> None:
    # far coordinates (1e30, 1e10) clamp or fall outside without an integer overflow; reflected
    # ones are compared up to 1e8 (PyTorch counts the reflections in an int, which overflows
    # past 2**31 of them: then only that the sample is finite)
    torch = pytest.importorskip("torch")
    xa = _arr(0, 1, 2, 3, 4)
    far, mid = (1e8, 1e7) if padding == "reflection" else (1e30, 1e10)
    ga = np.array([[[[far, 0.1], [-far, 0.3], [0.2, mid], [mid, -mid], [0.3, -0.2]]]])
    if padding == "reflection":
        x = gk.tensor(xa, dtype=gk.float64)
        g = gk.tensor([[[[1e30, 0.1], [-1e30, 1e30]]]], dtype=gk.float64)
        out = gk.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=ac)
        assert np.isfinite(out.numpy()).all()
    outs = []
    for lib in (gk, torch):
        x = lib.tensor(xa, dtype=lib.float64, requires_grad=True)
        g = lib.tensor(ga, dtype=lib.float64, requires_grad=True)
        out = lib.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=ac)
        (out * lib.tensor(_arr(1, *tuple(out.shape)), dtype=lib.float64)).sum().backward()
        outs.append((out.detach().numpy(), x.grad.numpy(), g.grad.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_grid_sample_empty_batch_with_grid_gradient() -> None:
    for xs, gs in (((0, 2, 3, 4), (0, 5, 2, 2)), ((0, 2, 3, 4, 2), (0, 1, 5, 2, 3))):
        x = gk.zeros(*xs, dtype=gk.float64, requires_grad=True)
        g = gk.zeros(*gs, dtype=gk.float64, requires_grad=True)
        out = gk.nn.functional.grid_sample(x, g, align_corners=False)
        assert out.grad_fn.name() == f"GridSampler{len(xs) - 2}DBackward0"
        out.sum().backward()
        assert tuple(x.grad.shape) == xs and tuple(g.grad.shape) == gs
