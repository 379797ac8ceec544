"""PyTorch-style distances and norms: ``cdist`` and ``renorm``."""

from __future__ import annotations



from gradkit import _api as A
from gradkit._api.base import _dim
from gradkit._api.base import as_tensor_arg as _t
from gradkit._core.tensor import Tensor
from gradkit.ops import reduction as R
from gradkit._core.autocast import autocast_op

__all__ = [
    "cdist", "renorm",
]


# --- distances, histograms --------------------------------------------------------------
def _safe_root(s: Tensor, p: float) -> Tensor:
    """``s ** (1/p)`` with a zero gradient where ``s == 0`` (PyTorch's cdist convention)."""
    pos = A.gt(s, 0)
    safe = A.where(pos, s, A.add(A.mul(s, 0.0), 1.0))
    root = A.sqrt(safe) if p == 2 else A.pow(safe, 1.0 / p)
    return A.where(pos, root, A.mul(s, 0.0))


@autocast_op
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"
          ) -> Tensor:
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2`` (batched)."""
    a, b = _t(x1), _t(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} "
                           f"X2: {b.shape[-1]}")
    if not a.is_floating_point():
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {a.dtype}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if b.dtype is a.dtype and isinstance(p, (int, float)):
        A.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))   # PyTorch's error
        return R.cdist_p(a, b, p=float(p))          # PyTorch's node: one CdistBackward0
    dif = A.sub(A.unsqueeze(a, -2), A.unsqueeze(b, -3))
    if p == 0:
        return A.sum(A.ne(dif, 0).to(a.dtype), -1)
    if p == float("inf"):
        return A.amax(A.abs(dif), -1)
    if p == 2:
        return _safe_root(A.sum(A.mul(dif, dif), -1), 2)
    if p == 1:
        return A.sum(A.abs(dif), -1)
    return _safe_root(A.sum(A.pow(A.abs(dif), float(p)), -1), float(p))


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` rescaled so that its ``p``-norm is at most ``maxnorm``."""
    x = _t(input)
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if x.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    d = _dim(dim, x.ndim)
    others = tuple(i for i in range(x.ndim) if i != d)
    if isinstance(p, (int, float)) and isinstance(maxnorm, (int, float)):
        # PyTorch's node: one RenormBackward0 (a row of the table)
        return R.renorm_p(x, p=float(p), others=others, maxnorm=float(maxnorm))
    norm = A.norm(x, p, dim=others, keepdim=True)
    # a nan norm leaves its slice as is (nan > maxnorm is False), as in PyTorch
    factor = A.where(A.gt(norm, maxnorm), A.div(maxnorm, A.add(norm, 1e-7)), 1.0)
    return A.mul(x, factor)
