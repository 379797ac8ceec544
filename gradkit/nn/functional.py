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
# NOTE: the functions live by family (``_functional_base``: shared helpers; ``_act``:
# activations; ``_layers``: linear, dropout, embeddings, padding; ``_conv``: convolution and
# pooling; ``_loss``: normalization, losses, similarities); this module gathers them.
from __future__ import annotations

from ._functional_act import *  # noqa: F401,F403
from ._functional_base import (_const, _inplace, _logsigmoid, _ntuple, _reduce,  # noqa: F401
                               _reduction, _t)
from ._functional_conv import *  # noqa: F401,F403
from ._functional_conv import _pool_out  # noqa: F401
from ._functional_layers import *  # noqa: F401,F403
from ._functional_loss import *  # noqa: F401,F403

__all__ = [
    "safe_where",
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus",
    "softsign", "hardtanh", "hardsigmoid", "hardswish", "sigmoid", "tanh", "logsigmoid", "softmax",
    "log_softmax", "softmin", "glu", "normalize", "linear", "bilinear", "dropout", "embedding",
    "one_hot", "pad", "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "layer_norm", "group_norm",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_similarity",
    "pairwise_distance", "cosine_embedding_loss", "margin_ranking_loss",
]


# NOTE: more of torch.nn.functional, kept in its own module (imported last: it builds on the above)
from ._functional_extra import *  # noqa: E402,F401,F403
from ._functional_extra import __all__ as _extra_all  # noqa: E402

from ._functional_more import *  # noqa: E402,F401,F403
from ._functional_more import __all__ as _more_all  # noqa: E402

__all__ += _extra_all + _more_all
