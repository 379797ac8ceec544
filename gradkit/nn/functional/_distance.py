"""Distance functions of gradkit.nn.functional."""

from __future__ import annotations

import math

import numpy as np

from gradkit import _api as A
from gradkit._api.base import _scalar_name
from gradkit._core import dtype as _dtype
from gradkit._core.tensor import Tensor, _make
from gradkit.ops import elementwise as E
from gradkit.ops import reduction as R
from gradkit.ops._registry import apply
from gradkit.ops import shape as S
from ._base import _const, _t

__all__ = ["cosine_similarity", "pairwise_distance", "pdist"]


# --- similarity and ranking -------------------------------------------------------------
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps), dim)``, as PyTorch computes it.

    Notes
    -----
    As in PyTorch, the clamp of each norm to ``eps`` is not differentiated:
    the gradient flows through the norm as if unclamped.
    """
    a, b = A.broadcast_tensors(_t(x1, "x1"), _t(x2, "x2"))
    common = _dtype.result_type(a, b)
    if not (common.is_floating_point or common.is_complex):
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{_scalar_name(common)}")
    # NOTE: as PyTorch, integer and bool inputs are cast to the common dtype; floating ones are
    # normalized in their own dtype (a float16 input's unit vector is a float16 one)
    a, b = (t if t.is_floating_point() or t.is_complex() else t.to(common) for t in (a, b))
    d = S.norm_dim(dim, a.ndim)
    na = R.norm_p(a, ord=2.0, dim=(d,), keepdim=True)
    nb = R.norm_p(b, ord=2.0, dim=(d,), keepdim=True)
    na = na + _const(np.maximum(na._data, eps) - na._data, na)
    nb = nb + _const(np.maximum(nb._data, eps) - nb._data, nb)
    return ((a / na) * (b / nb)).sum(d)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim."""
    a, b = _t(x1, "x1"), _t(x2, "x2")
    nd = max(a.ndim, b.ndim)
    # PyTorch's graph: at::norm (NormBackward1) of x1 - x2 + eps (a Scalar: AddBackward1)
    diff = apply(E.add.prim, (a - b, eps), None, 1)
    if nd == 0:
        return A.abs(diff)
    return apply(R.norm_p.prim, (diff,), {"ord": float(p), "dim": (nd - 1,), "keepdim": keepdim}, 1)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """p-norm distances between the rows of ``(N, M)``, upper triangle as a flat ``N (N - 1) / 2`` vector.

    The gradient at a zero distance is 0, as PyTorch's.
    """
    x = _t(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = x.shape[0]
    if n >= 2 and x.is_floating_point():
        return R.pdist_p(x, p=float(p))          # PyTorch's node: one PdistBackward0
    i, j = np.triu_indices(n, 1)
    d = A.index_select(x, 0, _make(i, False, None)) - A.index_select(x, 0, _make(j, False, None))
    if p == 0:
        return _const((np.asarray(d._data) != 0).sum(-1), x) + (d * 0.0).sum(-1)
    if math.isinf(p):
        return A.amax(A.abs(d), -1) if d.shape[0] else A.abs(d).sum(-1)
    ad = A.abs(d)
    s = (ad ** p).sum(-1) if p != 2 else (d * d).sum(-1)
    pos = s > 0
    safe = A.where(pos, s, 1.0, safe=True)
    return A.where(pos, safe ** (1.0 / p), 0.0, safe=True)
