"""The grad_fn sweep: the same expression built in PyTorch and in gradkit.

Each case is ``(label, build)``; ``build(lib, t)`` runs the expression with ``lib`` being
``torch`` or ``gradkit`` and ``t(seed, *shape)`` making a float64 input that requires grad
(``t(seed, *shape, grad=False)`` for one that does not). ``names(out)`` reads the output's
``grad_fn`` name and the names of its ``next_functions`` (first level), which is what
``tests/nn/test_grad_fn_names.py`` compares.

Run ``python tests/support/grad_fn_cases.py`` to print every case whose names differ from
the installed PyTorch's (the sweep the expected names in the test were recorded with).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from grad_fn_wide import WIDE
from grad_fn_wider import WIDER

Build = Callable[[Any, Callable[..., Any]], Any]


def maker(lib: Any, leaves: list[Any] | None = None) -> Callable[..., Any]:
    """``t(seed, *shape, grad=True, lo=-1, hi=1)``: a float64 tensor of ``lib``; the ones that
    require grad are appended to ``leaves`` when given."""
    def t(seed: int, *shape: int, grad: bool = True, lo: float = -1.0, hi: float = 1.0) -> Any:
        a = np.random.default_rng(seed).uniform(lo, hi, shape)
        out = lib.tensor(a, dtype=lib.float64, requires_grad=grad)
        if grad and leaves is not None:
            leaves.append(out)
        return out
    return t


def _idx(lib: Any, *vals: int) -> Any:
    return lib.tensor(list(vals), dtype=lib.int64)


def _name(fn: Any) -> str | None:
    if fn is None:
        return None
    name = fn.name() if callable(getattr(fn, "name", None)) else type(fn).__name__
    return name.replace("torch::autograd::", "")


def names(out: Any) -> tuple[str | None, tuple[str | None, ...]]:
    """``(grad_fn name, names of its next_functions)``."""
    fn = out.grad_fn
    if fn is None:
        return None, ()
    return _name(fn), tuple(_name(n) for n, _ in fn.next_functions)


def _F(lib: Any) -> Any:
    return lib.nn.functional


CASES: list[tuple[str, Build]] = [
    # --- linear layers ---------------------------------------------------------------------
    ("linear_2d", lambda L, t: _F(L).linear(t(0, 4, 3), t(1, 5, 3), t(2, 5))),
    ("linear_1d", lambda L, t: _F(L).linear(t(0, 3), t(1, 5, 3), t(2, 5))),
    ("linear_3d", lambda L, t: _F(L).linear(t(0, 2, 4, 3), t(1, 5, 3), t(2, 5))),
    ("linear_nobias_2d", lambda L, t: _F(L).linear(t(0, 4, 3), t(1, 5, 3))),
    ("linear_nobias_1d", lambda L, t: _F(L).linear(t(0, 3), t(1, 5, 3))),
    ("linear_nobias_3d", lambda L, t: _F(L).linear(t(0, 2, 4, 3), t(1, 5, 3))),
    ("linear_const_x", lambda L, t: _F(L).linear(t(0, 4, 3, grad=False), t(1, 5, 3), t(2, 5))),
    ("bilinear", lambda L, t: _F(L).bilinear(t(0, 4, 3), t(1, 4, 2), t(2, 5, 3, 2), t(3, 5))),
    # --- products --------------------------------------------------------------------------
    ("mm", lambda L, t: L.mm(t(0, 4, 3), t(1, 3, 2))),
    ("matmul_2d_2d", lambda L, t: t(0, 4, 3) @ t(1, 3, 2)),
    ("matmul_2d_1d", lambda L, t: t(0, 4, 3) @ t(1, 3)),
    ("matmul_1d_2d", lambda L, t: t(0, 3) @ t(1, 3, 2)),
    ("matmul_1d_1d", lambda L, t: t(0, 3) @ t(1, 3)),
    ("matmul_3d_3d", lambda L, t: t(0, 2, 4, 3) @ t(1, 2, 3, 2)),
    ("matmul_3d_2d", lambda L, t: t(0, 2, 4, 3) @ t(1, 3, 2)),
    ("matmul_2d_3d", lambda L, t: t(0, 4, 3) @ t(1, 2, 3, 2)),
    ("matmul_3d_1d", lambda L, t: t(0, 2, 4, 3) @ t(1, 3)),
    ("bmm", lambda L, t: L.bmm(t(0, 2, 4, 3), t(1, 2, 3, 2))),
    ("mv", lambda L, t: L.mv(t(0, 4, 3), t(1, 3))),
    ("dot", lambda L, t: L.dot(t(0, 3), t(1, 3))),
    ("addmm", lambda L, t: L.addmm(t(2, 4, 2), t(0, 4, 3), t(1, 3, 2))),
    ("outer", lambda L, t: L.outer(t(0, 3), t(1, 4))),
    ("einsum_ij_jk", lambda L, t: L.einsum("ij,jk->ik", t(0, 4, 3), t(1, 3, 2))),
    ("einsum_trace", lambda L, t: L.einsum("ii->", t(0, 3, 3))),
    # --- losses ----------------------------------------------------------------------------
    ("cross_entropy", lambda L, t: _F(L).cross_entropy(t(0, 4, 5), _idx(L, 0, 2, 4, 1))),
    ("cross_entropy_sum", lambda L, t: _F(L).cross_entropy(t(0, 4, 5), _idx(L, 0, 2, 4, 1),
                                                           reduction="sum")),
    ("cross_entropy_none", lambda L, t: _F(L).cross_entropy(t(0, 4, 5), _idx(L, 0, 2, 4, 1),
                                                            reduction="none")),
    ("cross_entropy_probs", lambda L, t: _F(L).cross_entropy(
        t(0, 4, 5), _F(L).softmax(t(1, 4, 5, grad=False), 1))),
    ("cross_entropy_smooth", lambda L, t: _F(L).cross_entropy(
        t(0, 4, 5), _idx(L, 0, 2, 4, 1), label_smoothing=0.1)),
    ("nll_loss", lambda L, t: _F(L).nll_loss(t(0, 4, 5), _idx(L, 0, 2, 4, 1))),
    ("nll_loss_2d", lambda L, t: _F(L).nll_loss(
        t(0, 2, 3, 2, 2), L.tensor([[[0, 1], [2, 0]], [[1, 1], [0, 2]]]))),
    ("mse_loss", lambda L, t: _F(L).mse_loss(t(0, 4, 3), t(1, 4, 3))),
    ("mse_loss_none", lambda L, t: _F(L).mse_loss(t(0, 4, 3), t(1, 4, 3), reduction="none")),
    ("l1_loss", lambda L, t: _F(L).l1_loss(t(0, 4, 3), t(1, 4, 3))),
    ("smooth_l1_loss", lambda L, t: _F(L).smooth_l1_loss(t(0, 4, 3), t(1, 4, 3))),
    ("huber_loss", lambda L, t: _F(L).huber_loss(t(0, 4, 3), t(1, 4, 3))),
    ("bce", lambda L, t: _F(L).binary_cross_entropy(t(0, 4, 3, lo=0.1, hi=0.9),
                                                     t(1, 4, 3, lo=0, hi=1, grad=False))),
    ("bce_with_logits", lambda L, t: _F(L).binary_cross_entropy_with_logits(
        t(0, 4, 3), t(1, 4, 3, lo=0, hi=1, grad=False))),
    ("kl_div", lambda L, t: _F(L).kl_div(t(0, 4, 3), t(1, 4, 3, lo=0.1, hi=1, grad=False),
                                         reduction="batchmean")),
    ("soft_margin_loss", lambda L, t: _F(L).soft_margin_loss(t(0, 4, 3), t(1, 4, 3, grad=False).sign())),
    ("bce_weight", lambda L, t: _F(L).binary_cross_entropy(
        t(0, 4, 3, lo=0.1, hi=0.9), t(1, 4, 3, lo=0, hi=1, grad=False),
        weight=L.ones(4, 3, dtype=L.float64))),
    ("mse_loss_broadcast", lambda L, t: _F(L).mse_loss(t(0, 4, 3), t(1, 1, 3, grad=False))),
    ("poisson_nll_loss", lambda L, t: _F(L).poisson_nll_loss(t(0, 4, 3), t(1, 4, 3, grad=False))),
    ("margin_ranking_loss", lambda L, t: _F(L).margin_ranking_loss(
        t(0, 4), t(1, 4), L.tensor([1.0, -1.0, 1.0, 1.0], dtype=L.float64))),
    ("triplet_margin_loss", lambda L, t: _F(L).triplet_margin_loss(t(0, 4, 3), t(1, 4, 3),
                                                                   t(2, 4, 3))),
    ("multi_margin_loss", lambda L, t: _F(L).multi_margin_loss(t(0, 4, 3), _idx(L, 0, 1, 2, 0))),
    ("cosine_similarity", lambda L, t: _F(L).cosine_similarity(t(0, 4, 3), t(1, 4, 3))),
    ("pairwise_distance", lambda L, t: _F(L).pairwise_distance(t(0, 4, 3), t(1, 4, 3))),
    # --- activations -----------------------------------------------------------------------
    ("softmax", lambda L, t: _F(L).softmax(t(0, 4, 5), 1)),
    ("log_softmax", lambda L, t: _F(L).log_softmax(t(0, 4, 5), 1)),
    ("relu", lambda L, t: _F(L).relu(t(0, 4, 3))),
    ("relu6", lambda L, t: _F(L).relu6(t(0, 4, 3))),
    ("gelu", lambda L, t: _F(L).gelu(t(0, 4, 3))),
    ("gelu_tanh", lambda L, t: _F(L).gelu(t(0, 4, 3), approximate="tanh")),
    ("silu", lambda L, t: _F(L).silu(t(0, 4, 3))),
    ("mish", lambda L, t: _F(L).mish(t(0, 4, 3))),
    ("sigmoid", lambda L, t: L.sigmoid(t(0, 4, 3))),
    ("F_sigmoid", lambda L, t: _F(L).sigmoid(t(0, 4, 3))),
    ("tanh", lambda L, t: L.tanh(t(0, 4, 3))),
    ("leaky_relu", lambda L, t: _F(L).leaky_relu(t(0, 4, 3))),
    ("elu", lambda L, t: _F(L).elu(t(0, 4, 3))),
    ("selu", lambda L, t: _F(L).selu(t(0, 4, 3))),
    ("celu", lambda L, t: _F(L).celu(t(0, 4, 3))),
    ("softplus", lambda L, t: _F(L).softplus(t(0, 4, 3))),
    ("hardtanh", lambda L, t: _F(L).hardtanh(t(0, 4, 3))),
    ("hardsigmoid", lambda L, t: _F(L).hardsigmoid(t(0, 4, 3))),
    ("hardswish", lambda L, t: _F(L).hardswish(t(0, 4, 3))),
    ("logsigmoid", lambda L, t: _F(L).logsigmoid(t(0, 4, 3))),
    ("softsign", lambda L, t: _F(L).softsign(t(0, 4, 3))),
    ("tanhshrink", lambda L, t: _F(L).tanhshrink(t(0, 4, 3))),
    ("prelu", lambda L, t: _F(L).prelu(t(0, 4, 3), t(1, 1))),
    ("glu", lambda L, t: _F(L).glu(t(0, 4, 6))),
    ("normalize", lambda L, t: _F(L).normalize(t(0, 4, 3))),
    ("softshrink", lambda L, t: _F(L).softshrink(t(0, 4, 3))),
    ("hardshrink", lambda L, t: _F(L).hardshrink(t(0, 4, 3))),
    ("threshold", lambda L, t: _F(L).threshold(t(0, 4, 3), 0.1, 0.0)),
    ("embedding_padding_idx", lambda L, t: _F(L).embedding(_idx(L, 0, 2, 1), t(0, 4, 3),
                                                           padding_idx=0)),
    ("linear_module", lambda L, t: L.nn.Linear(3, 2).double()(t(0, 4, 3))),
    ("dropout_eval", lambda L, t: _F(L).dropout(t(0, 4, 3), training=False)),
    # --- normalization, convolution, pooling, embedding ------------------------------------
    ("layer_norm", lambda L, t: _F(L).layer_norm(t(0, 4, 3), (3,), t(1, 3), t(2, 3))),
    ("layer_norm_noaffine", lambda L, t: _F(L).layer_norm(t(0, 4, 3), (3,))),
    ("batch_norm_train", lambda L, t: _F(L).batch_norm(
        t(0, 4, 3), None, None, t(1, 3), t(2, 3), training=True)),
    ("batch_norm_eval", lambda L, t: _F(L).batch_norm(
        t(0, 4, 3), L.tensor([0.1, -0.2, 0.3], dtype=L.float64),
        L.tensor([0.5, 1.5, 2.0], dtype=L.float64), t(1, 3), t(2, 3))),
    ("instance_norm", lambda L, t: _F(L).instance_norm(t(0, 2, 3, 4))),
    ("dropout_train", lambda L, t: _F(L).dropout(t(0, 4, 3), 0.5, training=True)),
    ("softmin", lambda L, t: _F(L).softmin(t(0, 4, 5), 1)),
    ("rms_norm", lambda L, t: _F(L).rms_norm(t(0, 4, 3), (3,))),
    ("group_norm", lambda L, t: _F(L).group_norm(t(0, 2, 4, 3), 2, t(1, 4), t(2, 4))),
    ("conv1d", lambda L, t: _F(L).conv1d(t(0, 2, 3, 7), t(1, 4, 3, 3), t(2, 4))),
    ("conv2d", lambda L, t: _F(L).conv2d(t(0, 2, 3, 6, 6), t(1, 4, 3, 3, 3), t(2, 4))),
    ("conv2d_nobias", lambda L, t: _F(L).conv2d(t(0, 2, 3, 6, 6), t(1, 4, 3, 3, 3))),
    ("conv2d_unbatched", lambda L, t: _F(L).conv2d(t(0, 3, 5, 5), t(1, 2, 3, 2, 2), t(2, 2),
                                                   padding=1)),
    ("conv1d_grouped", lambda L, t: _F(L).conv1d(t(0, 2, 4, 7), t(1, 4, 2, 3), stride=2, groups=2)),
    ("conv3d", lambda L, t: _F(L).conv3d(t(0, 1, 2, 4, 4, 4), t(1, 3, 2, 2, 2, 2), t(2, 3))),
    ("conv_transpose2d", lambda L, t: _F(L).conv_transpose2d(t(0, 1, 3, 4, 4), t(1, 3, 2, 2, 2),
                                                             t(2, 2))),
    ("conv_transpose1d", lambda L, t: _F(L).conv_transpose1d(t(0, 1, 3, 4), t(1, 3, 2, 2))),
    ("max_pool1d", lambda L, t: _F(L).max_pool1d(t(0, 1, 3, 8), 2)),
    ("avg_pool1d", lambda L, t: _F(L).avg_pool1d(t(0, 1, 3, 8), 2)),
    ("adaptive_max_pool2d", lambda L, t: _F(L).adaptive_max_pool2d(t(0, 1, 3, 4, 4), 2)),
    ("pad", lambda L, t: _F(L).pad(t(0, 2, 3), (1, 1))),
    ("interpolate", lambda L, t: _F(L).interpolate(t(0, 1, 2, 4, 4), scale_factor=2)),
    ("scaled_dot_product_attention", lambda L, t: _F(L).scaled_dot_product_attention(
        t(0, 2, 4, 3), t(1, 2, 4, 3), t(2, 2, 4, 3))),
    ("max_pool2d", lambda L, t: _F(L).max_pool2d(t(0, 2, 3, 6, 6), 2)),
    ("avg_pool2d", lambda L, t: _F(L).avg_pool2d(t(0, 2, 3, 6, 6), 2)),
    ("adaptive_avg_pool2d", lambda L, t: _F(L).adaptive_avg_pool2d(t(0, 2, 3, 6, 6), 1)),
    ("embedding", lambda L, t: _F(L).embedding(_idx(L, 0, 2, 1), t(0, 4, 3))),
    # --- reductions ------------------------------------------------------------------------
    ("sum", lambda L, t: t(0, 4, 3).sum()),
    ("sum_dim", lambda L, t: t(0, 4, 3).sum(1)),
    ("mean", lambda L, t: t(0, 4, 3).mean()),
    ("mean_dim", lambda L, t: t(0, 4, 3).mean(1)),
    ("max", lambda L, t: t(0, 4, 3).max()),
    ("max_dim", lambda L, t: t(0, 4, 3).max(1)[0]),
    ("min", lambda L, t: t(0, 4, 3).min()),
    ("amax", lambda L, t: t(0, 4, 3).amax(1)),
    ("prod", lambda L, t: t(0, 4, 3).prod()),
    ("var", lambda L, t: t(0, 4, 3).var()),
    ("std_dim", lambda L, t: t(0, 4, 3).std(1)),
    ("logsumexp", lambda L, t: t(0, 4, 3).logsumexp(1)),
    ("norm", lambda L, t: t(0, 4, 3).norm()),
    ("norm_dim", lambda L, t: t(0, 4, 3).norm(dim=1)),
    ("linalg_norm", lambda L, t: L.linalg.norm(t(0, 4, 3))),
    ("linalg_vector_norm", lambda L, t: L.linalg.vector_norm(t(0, 4, 3))),
    ("cumsum", lambda L, t: t(0, 4, 3).cumsum(1)),
    ("cumprod", lambda L, t: t(0, 4, 3).cumprod(1)),
    # --- pointwise -------------------------------------------------------------------------
    ("pow_scalar", lambda L, t: t(0, 4, 3) ** 2),
    ("pow_tensor", lambda L, t: t(0, 4, 3, lo=0.1) ** t(1, 4, 3)),
    ("rpow", lambda L, t: 2.0 ** t(0, 4, 3)),
    ("add", lambda L, t: t(0, 4, 3) + t(1, 4, 3)),
    ("add_scalar", lambda L, t: t(0, 4, 3) + 1),
    ("sub", lambda L, t: t(0, 4, 3) - t(1, 4, 3)),
    ("rsub", lambda L, t: 1 - t(0, 4, 3)),
    ("mul", lambda L, t: t(0, 4, 3) * t(1, 4, 3)),
    ("div", lambda L, t: t(0, 4, 3) / t(1, 4, 3, lo=1, hi=2)),
    ("neg", lambda L, t: -t(0, 4, 3)),
    ("exp", lambda L, t: t(0, 4, 3).exp()),
    ("log", lambda L, t: t(0, 4, 3, lo=0.1).log()),
    ("sqrt", lambda L, t: t(0, 4, 3, lo=0.1).sqrt()),
    ("abs", lambda L, t: t(0, 4, 3).abs()),
    ("clamp", lambda L, t: t(0, 4, 3).clamp(-0.5, 0.5)),
    ("clamp_min", lambda L, t: t(0, 4, 3).clamp(min=0)),
    ("where", lambda L, t: L.where(t(2, 4, 3, grad=False) > 0, t(0, 4, 3), t(1, 4, 3))),
    ("maximum", lambda L, t: L.maximum(t(0, 4, 3), t(1, 4, 3))),
    # --- shape and indexing ----------------------------------------------------------------
    ("T", lambda L, t: t(0, 4, 3).T),
    ("t", lambda L, t: t(0, 4, 3).t()),
    ("mT", lambda L, t: t(0, 2, 4, 3).mT),
    ("transpose", lambda L, t: t(0, 2, 4, 3).transpose(0, 2)),
    ("permute", lambda L, t: t(0, 2, 4, 3).permute(2, 0, 1)),
    ("view", lambda L, t: t(0, 4, 3).view(12)),
    ("reshape", lambda L, t: t(0, 4, 3).reshape(3, 4)),
    ("flatten", lambda L, t: t(0, 2, 4, 3).flatten(1)),
    ("unsqueeze", lambda L, t: t(0, 4, 3).unsqueeze(0)),
    ("squeeze", lambda L, t: t(0, 4, 1).squeeze(1)),
    ("expand", lambda L, t: t(0, 1, 3).expand(4, 3)),
    ("repeat", lambda L, t: t(0, 2, 3).repeat(2, 1)),
    ("select", lambda L, t: t(0, 4, 3)[1]),
    ("slice", lambda L, t: t(0, 4, 3)[1:3]),
    ("slice_dim1", lambda L, t: t(0, 4, 3)[:, 1:]),
    ("index_tensor", lambda L, t: t(0, 4, 3)[_idx(L, 0, 2)]),
    ("index_bool", lambda L, t: t(0, 4, 3)[L.tensor([True, False, True, False])]),
    ("index_select", lambda L, t: t(0, 4, 3).index_select(0, _idx(L, 0, 2))),
    ("gather", lambda L, t: t(0, 4, 3).gather(1, L.tensor([[0], [2], [1], [0]]))),
    ("clone", lambda L, t: t(0, 4, 3).clone()),
    ("cat", lambda L, t: L.cat([t(0, 4, 3), t(1, 2, 3)])),
    ("stack", lambda L, t: L.stack([t(0, 4, 3), t(1, 4, 3)])),
    ("chunk", lambda L, t: t(0, 4, 3).chunk(2)[0]),
    ("split", lambda L, t: t(0, 4, 3).split(2)[1]),
    ("flip", lambda L, t: t(0, 4, 3).flip(0)),
    ("roll", lambda L, t: t(0, 4, 3).roll(1, 0)),
    ("tril", lambda L, t: t(0, 4, 3).tril()),
    ("diag", lambda L, t: L.diag(t(0, 3))),
    ("diagonal", lambda L, t: t(0, 3, 3).diagonal()),
    ("trace", lambda L, t: t(0, 3, 3).trace()),
    ("masked_fill", lambda L, t: t(0, 4, 3).masked_fill(t(1, 4, 3, grad=False) > 0, 0.0)),
    ("to_float32", lambda L, t: t(0, 4, 3).to(L.float32)),
    # --- #17: rows that were compositions ------------------------------------------------------
    ("grid_sample", lambda L, t: _F(L).grid_sample(t(0, 2, 3, 4, 5), t(1, 2, 3, 2, 2),
                                                   align_corners=False)),
    ("grid_sample_bicubic_border", lambda L, t: _F(L).grid_sample(
        t(0, 1, 2, 4, 5), t(1, 1, 3, 2, 2, lo=-1.3, hi=1.3), mode="bicubic", padding_mode="border",
        align_corners=True)),
    ("grid_sample_nearest_reflection", lambda L, t: _F(L).grid_sample(
        t(0, 1, 2, 4, 5), t(1, 1, 3, 2, 2, lo=-2, hi=2), mode="nearest", padding_mode="reflection",
        align_corners=False)),
    ("grid_sample_const_grid", lambda L, t: _F(L).grid_sample(t(0, 1, 2, 4, 5),
                                                              t(1, 1, 3, 2, 2, grad=False),
                                                              align_corners=False)),
    ("grid_sample_3d", lambda L, t: _F(L).grid_sample(t(0, 1, 2, 3, 4, 3), t(1, 1, 2, 2, 2, 3),
                                                      align_corners=False)),
    ("grid_sample_3d_nearest", lambda L, t: _F(L).grid_sample(
        t(0, 1, 2, 3, 4, 3), t(1, 1, 2, 2, 2, 3), mode="nearest", padding_mode="border",
        align_corners=True)),
    ("fractional_max_pool2d", lambda L, t: _F(L).fractional_max_pool2d(
        t(0, 2, 3, 7, 7), 2, output_size=3, _random_samples=t(1, 2, 3, 2, grad=False, lo=0))),
    ("fractional_max_pool2d_unbatched", lambda L, t: _F(L).fractional_max_pool2d(
        t(0, 3, 7, 6), (2, 3), output_ratio=(0.5, 0.5), _random_samples=t(1, 1, 3, 2, grad=False, lo=0))),
    ("fractional_max_pool3d", lambda L, t: _F(L).fractional_max_pool3d(
        t(0, 1, 2, 6, 7, 6), 2, output_size=(3, 4, 2), _random_samples=t(1, 1, 2, 3, grad=False, lo=0))),
    ("fractional_max_pool3d_unbatched", lambda L, t: _F(L).fractional_max_pool3d(
        t(0, 2, 5, 5, 5), 2, output_size=3, _random_samples=t(1, 1, 2, 3, grad=False, lo=0))),
    ("FractionalMaxPool2d", lambda L, t: L.nn.FractionalMaxPool2d(
        2, output_ratio=0.5, _random_samples=t(1, 1, 2, 2, grad=False, lo=0))(t(0, 1, 2, 6, 6))),
    ("scatter_reduce_prod", lambda L, t: t(0, 3, 4).scatter_reduce(
        1, L.tensor([[0, 1], [2, 2], [3, 0]]), t(1, 3, 2), "prod")),
    ("scatter_reduce_prod_noself", lambda L, t: t(0, 3, 4).scatter_reduce(
        0, L.tensor([[0, 1, 2, 2], [0, 0, 1, 2]]), t(1, 2, 4), "prod", include_self=False)),
    ("embedding_bag_max", lambda L, t: _F(L).embedding_bag(_idx(L, 0, 2, 1, 3, 3), t(0, 4, 3),
                                                           _idx(L, 0, 2, 2), mode="max")),
    ("embedding_bag_max_2d", lambda L, t: _F(L).embedding_bag(
        L.tensor([[0, 2], [1, 3], [2, 2]]), t(0, 4, 3), mode="max", padding_idx=2)),
]


CASES += WIDE
CASES += WIDER


def run(lib: Any, build: Build) -> tuple[str | None, tuple[str | None, ...]]:
    """The names ``build`` gives with ``lib`` (with the global seed fixed for dropout)."""
    return names(build(lib, maker(lib)))


def main() -> None:
    import torch

    import gradkit
    same = 0
    for label, build in CASES:
        try:
            want = run(torch, build)
        except Exception as e:  # noqa: BLE001 (a case torch itself refuses is reported)
            print(f"{label:24s} torch raised {type(e).__name__}: {e}")
            continue
        try:
            got = run(gradkit, build)
        except Exception as e:  # noqa: BLE001
            print(f"{label:24s} gradkit raised {type(e).__name__}: {e}")
            continue
        if got == want:
            same += 1
        else:
            print(f"{label:24s} torch {want[0]} {list(want[1])}\n{'':24s} gk    {got[0]} "
                  f"{list(got[1])}")
    print(f"{same}/{len(CASES)} cases name the same nodes")


if __name__ == "__main__":
    main()
