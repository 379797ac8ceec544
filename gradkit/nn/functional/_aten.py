"""PyTorch's top-level spellings of neural-network functions (``torch.dropout``,
``torch.layer_norm``, ``torch.kl_div``, ...), with their own signatures, which differ from
``torch.nn.functional``'s: losses take ``reduction`` as an int (0 none, 1 mean, 2 sum),
``batch_norm`` takes the affine weights before the running statistics, ``dropout`` needs ``train``,
``embedding`` takes the weight first. (The losses' ``reduction`` defaults to 0, none, as
PyTorch's top-level bindings do.) Each one calls the ``nn.functional`` function; the root
``gradkit`` loads them on first use.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

from gradkit._core.tensor import Tensor

from . import _activation as _act
from . import _dropout as _drop
from . import _loss
from . import _normalization as _norm
from . import _pooling as _pool
from . import _sparse
from . import _vision
from gradkit._core.autocast import autocast_op

__all__ = ["dropout", "dropout_", "alpha_dropout", "alpha_dropout_", "feature_dropout",
           "feature_alpha_dropout", "feature_alpha_dropout_", "layer_norm",
           "batch_norm", "instance_norm", "group_norm", "rms_norm", "kl_div", "poisson_nll_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss",
           "cosine_embedding_loss", "binary_cross_entropy_with_logits", "embedding",
           "adaptive_max_pool1d", "max_pool1d", "max_pool2d", "max_pool3d", "constant_pad_nd",
           "celu", "celu_", "selu", "selu_", "rrelu", "rrelu_", "threshold", "threshold_",
           "detach"]

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(fn: str, reduction: Any) -> str:
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(f"{fn}(): argument 'reduction' must be int, not {type(reduction).__name__}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _REDUCTIONS[reduction]


# --- dropout (``train`` is required) -------------------------------------------------------
def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.dropout(input, p, train, inplace=True)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.alpha_dropout(input, p, train)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.alpha_dropout(input, p, train, inplace=True)


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Whole features dropped: one draw per (sample, channel), shared along the other dims."""
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    n, c = input.shape[0], input.shape[1]
    flat = input.reshape(n, c, -1, 1)       # NOTE: dropout2d draws one mask entry per (N, C)
    return _drop.dropout2d(flat, p, train).reshape(tuple(input.shape))


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.feature_alpha_dropout(input, p, train, inplace=True)


# --- normalization (weight and bias before the running statistics) --------------------------
def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-05, cudnn_enable: bool = True) -> Tensor:
    return _norm.layer_norm(input, normalized_shape, weight, bias, eps)


def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
               running_mean: Tensor | None, running_var: Tensor | None, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool) -> Tensor:
    return _norm.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
                  running_mean: Tensor | None, running_var: Tensor | None, use_input_stats: bool,
                  momentum: float, eps: float, cudnn_enabled: bool) -> Tensor:
    return _norm.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                               momentum, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-05, cudnn_enabled: bool = True) -> Tensor:
    return _norm.group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    return _norm.rms_norm(input, normalized_shape, weight, eps)


# --- losses (``reduction`` an int) ----------------------------------------------------------
@autocast_op
def kl_div(input: Tensor, target: Tensor, reduction: int = 0, *, log_target: bool = False) -> Tensor:
    # NOTE: PyTorch's top-level kl_div means the plain mean by 1, without F.kl_div's warning
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="reduction: 'mean' divides")
        return _loss.kl_div(input, target, reduction=_reduction("kl_div", reduction),
                            log_target=log_target)


@autocast_op
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: int) -> Tensor:
    return _loss.poisson_nll_loss(input, target, log_input, full, eps=eps,
                                  reduction=_reduction("poisson_nll_loss", reduction))


@autocast_op
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: int = 0) -> Tensor:
    return _loss.margin_ranking_loss(input1, input2, target, margin,
                                     reduction=_reduction("margin_ranking_loss", reduction))


@autocast_op
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         reduction: int = 0) -> Tensor:
    return _loss.hinge_embedding_loss(input, target, margin,
                                      reduction=_reduction("hinge_embedding_loss", reduction))


@autocast_op
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-06, swap: bool = False,
                        reduction: int = 0) -> Tensor:
    return _loss.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                     reduction=_reduction("triplet_margin_loss", reduction))


@autocast_op
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: int = 0) -> Tensor:
    return _loss.cosine_embedding_loss(input1, input2, target, margin,
                                       reduction=_reduction("cosine_embedding_loss", reduction))


@autocast_op
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     pos_weight: Tensor | None = None,
                                     reduction: int = 0) -> Tensor:
    return _loss.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction("binary_cross_entropy_with_logits", reduction),
        pos_weight=pos_weight)


# --- the rest -------------------------------------------------------------------------------
def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of ``weight`` at ``indices`` (weight first; ``padding_idx=-1`` means none)."""
    return _sparse.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                             scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> Any:
    """``(values, indices)``, both always (as PyTorch's top-level function)."""
    return _pool.adaptive_max_pool1d(input, output_size, return_indices=True)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    return _pool.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    return _pool.max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


@autocast_op
def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    return _pool.max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def constant_pad_nd(input: Tensor, pad: Sequence[int], value: float = 0) -> Tensor:
    return _vision.pad(input, pad, "constant", value)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    return _act.celu(input, alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return _act.celu_(input, alpha)


def selu(input: Tensor) -> Tensor:
    return _act.selu(input)


def selu_(input: Tensor) -> Tensor:
    return _act.selu_(input)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, generator: Any = None) -> Tensor:
    if generator is not None:
        raise NotImplementedError("rrelu(generator=...) is not supported by gradkit; draws come "
                                  "from the default generator (gk.manual_seed)")
    return _act.rrelu(input, lower, upper, training)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False, generator: Any = None) -> Tensor:
    if generator is not None:
        raise NotImplementedError("rrelu_(generator=...) is not supported by gradkit; draws come "
                                  "from the default generator (gk.manual_seed)")
    return _act.rrelu_(input, lower, upper, training)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    return _act.threshold(input, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _act.threshold_(input, threshold, value)


def detach(input: Tensor) -> Tensor:
    """``input.detach()``."""
    return input.detach()
