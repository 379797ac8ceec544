"""Linear functions of gradkit.nn.functional."""

from __future__ import annotations


from gradkit import _api as A
from gradkit._api.blas import same_mm_dtypes
from gradkit._core.tensor import Tensor
from gradkit.ops import linalg as L
from ._base import _t
from gradkit._core.autocast import autocast_op

__all__ = ["linear", "bilinear"]


# --- linear layers, dropout, embeddings -------------------------------------------------
@autocast_op
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``."""
    x, w = _t(input), _t(weight, "weight")
    if bias is not None and x.ndim >= 1 and w.ndim == 2:
        b = _t(bias, "bias")
        if b.ndim <= 1 and x.shape[-1] == w.shape[1]:
            same_mm_dtypes(b, x, w)
            # PyTorch's path: one addmm (AddmmBackward0); other ranks go through a 2-D view
            # of the input and back (ViewBackward0 over AddmmBackward0)
            if x.ndim == 2:
                return L.addmm_p(b, x, A.t(w))
            out = L.addmm_p(b, A.reshape(x, (-1, x.shape[-1])), A.t(w))
            return A.reshape(out, tuple(x.shape[:-1]) + (w.shape[0],))
    out = A.matmul(x, A.t(w))
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_o = x1 @ weight[o] @ x2 + bias_o`` over the last dim of ``input1`` and ``input2``."""
    x1, x2, w = _t(input1, "input1"), _t(input2, "input2"), _t(weight, "weight")
    if x1.ndim != x2.ndim or tuple(x1.shape[:-1]) != tuple(x2.shape[:-1]):
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(x1.shape[:-1])} and {list(x2.shape[:-1])}")
    if w.ndim != 3 or w.shape[1] != x1.shape[-1] or w.shape[2] != x2.shape[-1]:
        raise RuntimeError(f"bilinear(): weight of size {list(w.shape)} does not match inputs of "
                           f"sizes {list(x1.shape)} and {list(x2.shape)}")
    o, i, j = w.shape
    lead = tuple(x1.shape[:-1])
    # as PyTorch: the batch dims flattened (views in and out, so the output's node is a view)
    x1, x2 = A.reshape(x1, (-1, i)), A.reshape(x2, (-1, j))
    # x1 @ W as one BLAS product: (n, i) @ (i, o * j), then a dot with x2 over j
    t = A.matmul(x1, A.reshape(A.permute(w, (1, 0, 2)), (i, o * j)))
    t = A.reshape(t, (-1, o, j))
    out = A.reshape((t * A.unsqueeze(x2, -2)).sum(-1), lead + (o,))
    return out if bias is None else out + bias
