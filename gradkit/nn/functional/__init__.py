"""``gradkit.nn.functional``: PyTorch's functional neural-network API on gradkit's table.

Signatures, defaults, error messages and the derivative at kinks follow
``torch.nn.functional``. Most functions are compositions of existing
primitives (exact, so their gradients come for free); the fused rows in
``gradkit/ops/nn.py`` are used where stability (``log_softmax``), speed
(``conv2d``, ``max_pool2d``, ``hardswish``) or PyTorch's kink convention
(``hardtanh``, ``binary_cross_entropy``) asks for them.

Examples
--------
>>> import gradkit as gk
>>> import gradkit.nn.functional as F
>>> x = gk.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
>>> loss = F.cross_entropy(x, gk.tensor([2]))
>>> loss.backward()
>>> x.grad
tensor([[ 0.0900,  0.2447, -0.3348]])
"""

# ruff: noqa: F405
# NOTE: the functions live by family, as in torch.nn.functional's reference: activations,
# convolution, pooling, linear, dropout, sparse (embeddings), vision (padding, resampling),
# normalization, losses, distances, attention; ``_base`` holds the shared helpers.
from __future__ import annotations

from ._activation import *  # noqa: F401,F403
from ._attention import *  # noqa: F401,F403
from ._base import (_const, _inplace, _logsigmoid, _ntuple, _reduce,  # noqa: F401
                    _reduction, _t)
from ._conv import *  # noqa: F401,F403
from ._distance import *  # noqa: F401,F403
from ._dropout import *  # noqa: F401,F403
from ._linear import *  # noqa: F401,F403
from ._loss import *  # noqa: F401,F403
from ._normalization import *  # noqa: F401,F403
from ._pooling import *  # noqa: F401,F403
from ._pooling import _pool_out  # noqa: F401
from ._sparse import *  # noqa: F401,F403
from ._vision import *  # noqa: F401,F403

__all__ = [
    "safe_where", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish",
    "softplus", "softsign", "hardtanh", "hardsigmoid", "hardswish", "sigmoid", "tanh",
    "logsigmoid", "softmax", "log_softmax", "softmin", "glu", "normalize", "linear", "bilinear",
    "dropout", "embedding", "one_hot", "pad", "conv1d", "conv2d", "conv_transpose2d", "max_pool1d",
    "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "layer_norm",
    "group_norm", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy",
    "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "cosine_similarity", "pairwise_distance", "cosine_embedding_loss", "margin_ranking_loss",
    "threshold", "tanhshrink", "softshrink", "hardshrink", "prelu", "rrelu", "conv_transpose1d",
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d", "lp_pool1d", "lp_pool2d",
    "instance_norm", "local_response_norm", "poisson_nll_loss", "gaussian_nll_loss",
    "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
    "multilabel_margin_loss", "triplet_margin_loss", "dropout1d", "dropout2d", "dropout3d",
    "alpha_dropout", "feature_alpha_dropout", "rms_norm", "pixel_shuffle", "pixel_unshuffle",
    "pdist", "embedding_bag", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
    "unfold", "fold", "scaled_dot_product_attention", "conv3d", "max_pool3d", "avg_pool3d",
    "gumbel_softmax", "max_unpool1d", "max_unpool2d", "max_unpool3d", "adaptive_avg_pool3d",
    "adaptive_max_pool3d", "conv_transpose3d", "relu_", "elu_", "leaky_relu_", "hardtanh_",
    "selu_", "celu_", "rrelu_", "threshold_", "channel_shuffle", "lp_pool3d",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices", "triplet_margin_with_distance_loss", "grid_sample",
    "affine_grid", "ctc_loss", "native_channel_shuffle", "fractional_max_pool2d",
    "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices",
]

# the public functions dispatch through __torch_function__ (gradkit/_core/torch_function.py)
from gradkit._core import torch_function as _torch_function  # noqa: E402
_torch_function.wrap_namespace(globals(), __all__, "gradkit.nn.functional")
