"""PyTorch's "BLAS and LAPACK Operations" beyond ``matmul``: the products with a bias
(``addmm``, ``addmv``, ``addr``, ``addbmm``, ``baddbmm``), ``chain_matmul`` and ``cross``.

Built from gradkit's own differentiable functions, so gradients (and gradients of
gradients) come from their rules.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradkit import _api as A
from gradkit._api.base import _dim
from gradkit._api.base import as_tensor_arg as _t
from gradkit._core.concrete import user_stacklevel
from gradkit._core.tensor import Tensor
from gradkit.ops import linalg as L
from gradkit.ops._registry import apply
from gradkit._core.autocast import autocast_op

__all__ = [
    "cross", "addmm", "addmv", "addr", "addbmm", "baddbmm", "chain_matmul",
]


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (the first dimension of size 3 if None)."""
    a, b = _t(input), _t(other)
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = tuple(np.broadcast_shapes(tuple(a.shape), tuple(b.shape)))
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in a "
                      "future release.", UserWarning, stacklevel=user_stacklevel())
        cands = [i for i, s in enumerate(shape) if s == 3]
        if not cands:
            raise RuntimeError("no dimension of size 3 in input")
        dim = cands[0]
    d = _dim(dim, len(shape))
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    # one node (PyTorch's LinalgCrossBackward0); broadcast inputs get summed gradients
    return L.linalg_cross_p(a, b, dim=d)


# --- products with a bias ---------------------------------------------------------------
def _bias(input: Any, prod: Tensor, beta: Any, alpha: Any) -> Tensor:
    out = prod if alpha == 1 else A.mul(prod, alpha)
    if beta == 0:
        return out                      # NOTE: input is ignored (its NaNs do not propagate)
    inp = _t(input)
    return A.add(inp if beta == 1 else A.mul(inp, beta), out)


def same_mm_dtypes(input: Any, mat1: Tensor, mat2: Tensor) -> None:
    """PyTorch's addmm (and ``F.linear``) refuse mixed dtypes rather than promote."""
    if mat1.dtype is not mat2.dtype or isinstance(input, Tensor) and input.dtype is not mat2.dtype:
        _mixed_mm_dtypes(input, mat1, mat2)


def _mixed_mm_dtypes(input: Any, mat1: Tensor, mat2: Tensor) -> None:
    from gradkit._api.base import _scalar_name

    if mat1.dtype is not mat2.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{_scalar_name(mat1.dtype)} and {_scalar_name(mat2.dtype)}")
    if isinstance(input, Tensor) and input.dtype is not mat2.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{_scalar_name(input.dtype)} and {_scalar_name(mat2.dtype)}")


def _check_shape(input: Any, shape: tuple[int, ...], name: str) -> None:
    s = tuple(_t(input).shape)
    try:
        if tuple(np.broadcast_shapes(s, shape)) != shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({shape[-1]}) must match the existing "
                           f"size ({s[-1] if s else 1}) at non-singleton dimension "
                           f"{len(shape) - 1}.  Target sizes: {list(shape)}.  Tensor sizes: "
                           f"{list(s)}") from None


@autocast_op
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` (``input`` ignored when ``beta == 0``)."""
    m1, m2 = _t(mat1), _t(mat2)
    if m1.ndim != 2:
        raise RuntimeError("mat1 must be a matrix, got " f"{m1.ndim}-D tensor")
    if m2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix, got " f"{m2.ndim}-D tensor")
    shape = (m1.shape[0], m2.shape[1])
    if m1.shape[1] != m2.shape[0]:
        return _bias(input, A.mm(m1, m2), beta, alpha)      # mm raises PyTorch's error
    _check_shape(input, shape, "addmm")
    same_mm_dtypes(input, m1, m2)
    if isinstance(beta, (int, float)) and isinstance(alpha, (int, float)):
        # PyTorch's node: one AddmmBackward0 (the fused row of the table)
        return L.addmm_p(_t(input), m1, m2, beta=beta, alpha=alpha)
    return _bias(input, A.mm(m1, m2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    m, v = _t(mat), _t(vec)
    if m.ndim == 2 and v.ndim == 1 and m.shape[1] == v.shape[0] and \
            isinstance(beta, (int, float)) and isinstance(alpha, (int, float)):
        _check_shape(input, (m.shape[0],), "addmv")
        # PyTorch's node: one AddmvBackward0 (the addmm row of the table)
        return apply(L.addmm_p.prim, (_t(input), m, v), {"beta": beta, "alpha": alpha}, L.ADDMV)
    prod = A.mv(m, v)
    _check_shape(input, tuple(prod.shape), "addmv")
    return _bias(input, prod, beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    v1, v2 = _t(vec1), _t(vec2)
    if v1.ndim != 1 or v2.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {v1.ndim}-D" if v1.ndim != 1
                           else f"addr: Expected 1-D argument vec2, but got {v2.ndim}-D")
    shape = (v1.shape[0], v2.shape[0])
    _check_shape(input, shape, "addr")
    if isinstance(beta, (int, float)) and isinstance(alpha, (int, float)):
        # PyTorch's node: one AddrBackward0 (a row of the table)
        return L.addr_p(_t(input), v1, v2, beta=beta, alpha=alpha)
    return _bias(input, A.outer(v1, v2), beta, alpha)


def _batches(batch1: Any, batch2: Any) -> tuple[Tensor, Tensor]:
    """Both operands of a batched product, checked 3-D (PyTorch's words)."""
    b1, b2 = _t(batch1), _t(batch2)
    if b1.ndim != 3 or b2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if b1.ndim != 3 else
                           "batch2 must be a 3D tensor")
    return b1, b2


@autocast_op
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
           alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * sum_i(batch1[i] @ batch2[i])``."""
    b1, b2 = _batches(batch1, batch2)
    if b1.shape[0] == b2.shape[0] and b1.shape[2] == b2.shape[1] and \
            isinstance(beta, (int, float)) and isinstance(alpha, (int, float)):
        _check_shape(input, (b1.shape[1], b2.shape[2]), "addbmm")
        # PyTorch's node: one AddbmmBackward0 (a row of the table)
        return L.addbmm_p(_t(input), b1, b2, beta=beta, alpha=alpha)
    prod = A.sum(A.bmm(b1, b2), 0)
    _check_shape(input, tuple(prod.shape), "addbmm")
    return _bias(input, prod, beta, alpha)


@autocast_op
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
            alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)`` for each batch."""
    b1, b2 = _batches(batch1, batch2)
    if b1.shape[0] == b2.shape[0] and b1.shape[2] == b2.shape[1] and \
            isinstance(beta, (int, float)) and isinstance(alpha, (int, float)):
        _check_shape(input, (b1.shape[0], b1.shape[1], b2.shape[2]), "baddbmm")
        # PyTorch's node: one BaddbmmBackward0 (the addmm row of the table)
        return apply(L.addmm_p.prim, (_t(input), b1, b2), {"beta": beta, "alpha": alpha}, L.BADDBMM)
    prod = A.bmm(b1, b2)
    _check_shape(input, tuple(prod.shape), "baddbmm")
    return _bias(input, prod, beta, alpha)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of 2-D matrices (deprecated in PyTorch: use ``linalg.multi_dot``)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=user_stacklevel())
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more input tensors")
    ms = [_t(m) for m in matrices]
    for m in ms:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    if len(ms) == 1:
        return A.clone(ms[0])
    return chain_product(ms)


def _chain_order(p: list[int]) -> list[list[int]]:
    """Where to split each sub-chain of the matrix chain with sizes ``p`` (matrix ``i`` is
    ``p[i] x p[i + 1]``) for the fewest multiplications: the textbook dynamic programme, the
    first split of least cost winning a tie (PyTorch's order, hence its nodes)."""
    n = len(p) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for span in range(1, n):
        for i in range(n - span):
            j = i + span
            cost[i][j] = -1
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if cost[i][j] < 0 or q < cost[i][j]:
                    cost[i][j], split[i][j] = q, k
    return split


def chain_product(ts: list[Tensor]) -> Tensor:
    """``linalg.multi_dot``'s product of checked operands (1-D or 2-D ends, 2-D middles) in
    PyTorch's order and nodes: 1-D ends as a row and a column (UnsqueezeBackward0), the
    cheapest order of ``mm``s, then a view to the result's shape (ViewBackward0)."""
    shape = tuple([ts[0].shape[0]] if ts[0].ndim == 2 else []) + \
        tuple([ts[-1].shape[-1]] if ts[-1].ndim == 2 else [])
    ms = list(ts)
    if ms[0].ndim == 1:
        ms[0] = A.unsqueeze(ms[0], 0)
    if ms[-1].ndim == 1:
        ms[-1] = A.unsqueeze(ms[-1], -1)
    if len(ms) == 2:
        out = A.mm(ms[0], ms[1])
    elif len(ms) == 3:
        a, b, c, d = ms[0].shape[0], ms[1].shape[0], ms[2].shape[0], ms[2].shape[1]
        if a * c * (b + d) > b * d * (a + c):
            out = A.mm(ms[0], A.mm(ms[1], ms[2]))
        else:
            out = A.mm(A.mm(ms[0], ms[1]), ms[2])
    else:
        split = _chain_order([m.shape[0] for m in ms] + [ms[-1].shape[1]])

        def product(i: int, j: int) -> Tensor:
            if i == j:
                return ms[i]
            k = split[i][j]
            return A.mm(product(i, k), product(k + 1, j))
        out = product(0, len(ms) - 1)
    return A.view(out, shape)
