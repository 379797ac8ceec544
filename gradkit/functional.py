"""``gradkit.functional``, PyTorch's ``torch.functional``: the module some tutorials import as
``F`` (``import torch.functional as F``). It holds the same functions as the top level
(``gradkit.functional.einsum is gradkit.einsum``).

PyTorch's ``istft``, ``stft``, ``lu``, ``pca_lowrank``, ``svd_lowrank``, ``unique_consecutive``
and ``unravel_index`` are not in gradkit, so not here either.
"""

from __future__ import annotations

from gradkit._api.blas import chain_matmul
from gradkit._api.construction import atleast_3d, block_diag, cartesian_prod, meshgrid
from gradkit._api.distances import cdist
from gradkit._api.indexing import unique
from gradkit._api.products import einsum, tensordot
from gradkit._api.reduction import norm
from gradkit._api.shape import atleast_1d, atleast_2d, broadcast_shapes, broadcast_tensors, split

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
           "cartesian_prod", "block_diag", "cdist", "chain_matmul", "einsum", "norm", "meshgrid",
           "split", "tensordot", "unique"]

# the same dispatching functions as the top level (gradkit/_core/torch_function.py)
from gradkit._core import torch_function as _torch_function  # noqa: E402
_torch_function.wrap_namespace(globals(), [n for n in __all__ if n != "broadcast_shapes"],
                               "gradkit.functional")
