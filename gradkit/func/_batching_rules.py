"""Batching rules for ``vmap``: each runs one primitive on the physical (batch-in-front) values.

A table row names its batching kind (``defop(..., batch="reduction")``); ``KINDS`` maps each kind
to its rule here, the floor that owns vmap's machinery (as JAX registers ``primitive_batchers``
against the primitive). Rows without a kind run per example (``PER_EXAMPLE``).

A rule has the signature ``rule(prim, args, params, variant, level)``; ``args`` are the
primitive's inputs as the function passed them (batched at ``level`` or not) and the
result is batched at ``level``. Anything a rule cannot express raises ``Unbatchable``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from gradkit._core.tensor import Tensor
from gradkit.func._batching import (Unbatchable, _levels, _wrap, as_tensor, broadcast_to_level,
                                    call, physical)
from gradkit.ops import shape as S

__all__ = ["KINDS", "PER_EXAMPLE", "elementwise"]

def _ndim(x: Any) -> int:
    return x.ndim if isinstance(x, (Tensor, np.ndarray)) else 0


def _reshape(p: Any, shape: tuple[int, ...]) -> Any:
    return p if tuple(p.shape) == shape else S.reshape_p(p, shape=shape)


def _lift(p: Any, rank: int) -> Any:
    """A physical value with 1s after the batch axis up to ``rank`` logical dims."""
    shape = tuple(p.shape)
    n = len(shape) - 1
    return p if n >= rank else _reshape(p, shape[:1] + (1,) * (rank - n) + shape[1:])


def elementwise(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    rank = max(_ndim(a) for a in args)
    new = []
    for a in args:
        p, batched = physical(a, level)
        new.append(_lift(p, rank) if batched else a)
    return _wrap(call(prim, new, params, variant), level)


def _dims(dim: Any, n: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(1, n + 1))
    if n == 0:
        return ()
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    return tuple(int(d) % n + 1 for d in dims)


def _int_dim(dim: int, n: int) -> int:
    if n == 0:
        raise Unbatchable("vmap: a dim of a 0-d example")
    return int(dim) % n + 1


def _out(res: Any, level: int) -> Any:
    return tuple(_wrap(r, level) for r in res) if isinstance(res, tuple) else _wrap(res, level)


def reduction(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    p, _ = physical(args[0], level)
    params["dim"] = _dims(params.get("dim"), args[0].ndim)
    return _out(call(prim, [p] + list(args[1:]), params, variant), level)


def arg_reduction(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    p, _ = physical(args[0], level)
    n = args[0].ndim
    if params.get("dim") is None:
        if n == 0:
            raise Unbatchable("vmap: argmax of a 0-d example")
        flat = _reshape(p, (p.shape[0], -1))
        res = call(prim, [flat], {"dim": 1, "keepdim": False}, variant)
        if params.get("keepdim"):
            res = _reshape(res, (p.shape[0],) + (1,) * n)
        return _wrap(res, level)
    params["dim"] = _int_dim(params["dim"], n)
    return _wrap(call(prim, [p], params, variant), level)


def int_dim(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    p, _ = physical(args[0], level)
    params["dim"] = _int_dim(params["dim"], args[0].ndim)
    return _out(call(prim, [p] + list(args[1:]), params, variant), level)


def reshape(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    p, _ = physical(args[0], level)
    params["shape"] = (p.shape[0],) + tuple(params["shape"])
    return _wrap(call(prim, [p], params, variant), level)


def expand(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    p, _ = physical(args[0], level)
    shape = tuple(params["shape"])
    p = _lift(p, len(shape))
    params["shape"] = (p.shape[0],) + shape
    return _wrap(call(prim, [p], params, variant), level)


def repeat(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    p, _ = physical(args[0], level)
    reps = tuple(params["repeats"])
    params["repeats"] = (1,) + reps
    return _wrap(call(prim, [_lift(p, len(reps))], params, variant), level)


def dims_param(name: str) -> Callable[..., Any]:
    def rule(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
        p, _ = physical(args[0], level)
        if params.get(name) is None:
            raise Unbatchable(f"vmap: {prim.name} without dims")
        d = _dims(params[name], args[0].ndim)
        params[name] = (0,) + d if prim.name == "permute" else d
        return _wrap(call(prim, [p], params, variant), level)
    return rule


def same(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    """Ops on the trailing dims only (tril, triu): the batch axis rides along."""
    p, _ = physical(args[0], level)
    if args[0].ndim < 2:
        raise Unbatchable(f"vmap: {prim.name} of a {args[0].ndim}-d example")
    return _wrap(call(prim, [p], params, variant), level)


def diagonal(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    p, _ = physical(args[0], level)
    n = args[0].ndim
    params["dim1"] = _int_dim(params.get("dim1", 0), n)
    params["dim2"] = _int_dim(params.get("dim2", 1), n)
    return _wrap(call(prim, [p], params, variant), level)


def getitem(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    p, _ = physical(args[0], level)
    index = params["index"]
    items = index if isinstance(index, tuple) else (index,)
    arrays = [i for i in items if isinstance(i, (np.ndarray, list))]
    if len(arrays) > 1:
        raise Unbatchable("vmap: more than one index array")     # NumPy may move their dims first
    params["index"] = (slice(None),) + items
    return _wrap(call(prim, [p], params, variant), level)


def _batched_all(args: Any, level: int) -> list[Any]:
    out = []
    for a in args:
        p, batched = physical(a, level)
        out.append(p if batched else broadcast_to_level(a, level)._value)
    return out


def cat(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    n = args[0].ndim + (prim.name == "stack")
    params["dim"] = _int_dim(params.get("dim", 0), n)
    return _wrap(call(prim, _batched_all(args, level), params, variant), level)


def unbind(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    p, _ = physical(args[0], level)
    params["dim"] = _int_dim(params["dim"], args[0].ndim)
    return _out(tuple(call(prim, [p], params, variant)), level)


def einsum(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    eq = params["equation"].replace(" ", "")
    if "..." in eq or "->" not in eq:
        raise Unbatchable("vmap: einsum with an ellipsis or an implicit output")
    lhs, out = eq.split("->")
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in eq)
    terms, ops = [], []
    for term, a in zip(lhs.split(","), args):
        p, batched = physical(a, level)
        terms.append(letter + term if batched else term)
        ops.append(p)
    params["equation"] = ",".join(terms) + "->" + letter + out
    return _wrap(call(prim, ops, params, variant), level)


#: below this many matrix elements (the batch's) a batched mv is a product and a sum
_SMALL_MV = 4096


def matmul(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    x, y = args
    px, bx = physical(x, level)
    py, by = physical(y, level)
    nx, ny = _ndim(x), _ndim(y)
    if nx == 0 or ny == 0:
        raise Unbatchable("vmap: matmul of a 0-d example")
    bsz = _levels[level - 1]
    if bx and not by and ny <= 2:
        if ny == 2 and nx > 2 or ny == 2 and nx == 2 or ny == 1 and nx >= 2:
            # One GEMM (GEMV) for the whole batch: (B*m, d) @ (d[, k]). A vector y stays a
            # 2-D @ 1-D product, whose gradient for x is the outer product of g and y (signed
            # zeros kept, as PyTorch's mv backward, ger), not a GEMM that sums one term onto +0.
            xs = tuple(px.shape)
            flat = call(prim, [_reshape(px, (-1, xs[-1])), y], params)
            return _wrap(_reshape(flat, xs[:-1] + tuple(y.shape)[1:]), level)
        return _wrap(call(prim, [px, y], params), level)          # (B, d) @ (d[, k])
    if by and not bx and nx <= 2 and ny == 1:
        xt = x if nx == 1 else S.permute_p(as_tensor(x), dims=(1, 0))
        return _wrap(call(prim, [py, xt], params), level)         # (B, d) @ x^T
    if bx and by and nx == 1 and ny == 1:
        # dot of two batched vectors: products summed over d, so the gradients are products
        # too (PyTorch's dot backward, grad * other), whose zeros keep their signs; a batched
        # (1, d) @ (d, 1) GEMM sums one term onto +0 for each. (No slower: NumPy's stacked
        # 1 x 1 GEMMs cost more than the product and the sum.)
        from gradkit.ops.elementwise import mul
        from gradkit.ops.reduction import sum_p
        return _wrap(sum_p(mul(px, py), dim=(1,)), level)
    if bx and by and nx == 2 and ny == 1:
        # mv of two batched operands: its matrix gradient is the broadcast product of g and the
        # vector (PyTorch's mv backward, ger: zeros keep their signs), not a batched
        # (m, 1) @ (1, d) GEMM. Measured no slower than the GEMMs: a product and a sum while
        # small (an einsum's bookkeeping costs more there), an einsum above
        # (benchmarks/bench_vmap_signs.py)
        if bsz * int(np.prod(tuple(x.shape), dtype=np.int64)) <= _SMALL_MV:
            from gradkit.ops.elementwise import mul
            from gradkit.ops.reduction import sum_p
            return _wrap(sum_p(mul(px, _reshape(py, (bsz, 1) + tuple(y.shape))), dim=(2,)), level)
        from gradkit.ops.linalg import einsum_p
        return _wrap(einsum_p(px, py, equation="bmd,bd->bm"), level)
    # General case: 1-D operands promoted to matrices, ranks aligned after the batch axis.
    xs = (1,) + tuple(x.shape) if nx == 1 else tuple(x.shape)
    ys = tuple(y.shape) + (1,) if ny == 1 else tuple(y.shape)
    rank = max(len(xs), len(ys))
    ox = _lift(_reshape(px, (bsz,) + xs), rank) if bx else _reshape(as_tensor(x), xs)
    oy = _lift(_reshape(py, (bsz,) + ys), rank) if by else _reshape(as_tensor(y), ys)
    res = call(prim, [ox, oy], params)
    shape = tuple(res.shape)
    if nx == 1:
        shape = shape[:-2] + shape[-1:]
    if ny == 1:
        shape = shape[:-1]
    return _wrap(_reshape(res, shape), level)


# --- the fused rows (gradkit/ops/nn.py, addmm): run as their parts on the physical values ----
def addmm(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    """``beta * b + alpha * (x @ w)`` through the matmul rule and elementwise ops."""
    from gradkit.ops import linalg as L
    b, x, w = args
    out = L.matmul_p(x, w)
    alpha, beta = params.get("alpha", 1), params.get("beta", 1)
    if alpha != 1:
        out = out * alpha
    if beta == 0:                     # b ignored (its nan and inf too), as the row does
        return out
    return out + (b if beta == 1 else b * beta)


def loss(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    """An elementwise loss row: unreduced on the physical values, then reduced per example."""
    red = params.get("reduction", "none")
    params["reduction"] = "none"
    out = elementwise(prim, args, params, variant, level)
    if red == "none":
        return out
    p = out._value
    if p.ndim == 1:                   # 0-d examples: nothing to reduce
        return out
    from gradkit.ops import reduction as R
    dims = tuple(range(1, p.ndim))
    return _wrap((R.sum_p if red == "sum" else R.mean_p)(p, dim=dims), level)


def native_norm(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    """Layer norm of batched inputs (a shared weight and bias): the batch axis is one more
    leading dim. Batch and group norm mix examples' dims and run the loop."""
    x, w, b = args
    p, batched = physical(x, level)
    if params["kind"] != "layer" or not batched or physical(w, level)[1] or physical(b, level)[1]:
        raise Unbatchable("vmap: batch or group norm (or a batched weight) of a batched tensor")
    return _wrap(call(prim, [p, w, b], params, variant), level)


def convolution(prim: Any, args: Any, params: dict[str, Any], variant: int, level: int) -> Any:
    """A convolution of batched (N, C, ...) inputs with a shared weight and bias: the batch
    axis folds into N."""
    x, w, b = args
    p, batched = physical(x, level)
    if not batched or physical(w, level)[1] or physical(b, level)[1]:
        raise Unbatchable("vmap: convolution with a batched weight or bias")
    shape = tuple(p.shape)
    res = call(prim, [_reshape(p, (-1,) + shape[2:]), w, b], params, variant)
    return _wrap(_reshape(res, shape[:2] + tuple(res.shape[1:])), level)


#: one rule per batching kind; a row names its kind (``defop(..., batch=...)``, see
#: ``gradkit.ops._registry.BATCH_KINDS``)
KINDS: dict[str, Callable[..., Any]] = {
    "elementwise": elementwise, "reduction": reduction, "int_dim": int_dim,
    "arg_reduction": arg_reduction, "reshape": reshape, "expand": expand, "repeat": repeat,
    "dims": dims_param("dims"), "trailing": same, "diagonal": diagonal, "getitem": getitem,
    "cat": cat, "unbind": unbind, "einsum": einsum, "matmul": matmul,
    "addmm": addmm, "loss": loss, "native_norm": native_norm, "convolution": convolution,
}

#: the rows vmap runs per example (its loop over the batch): no batching rule yet. Listed so that
#: a new row is a decision (tests/func checks this list against the table).
PER_EXAMPLE = frozenset({
    "convolution_transpose", "fake_quantize",
    "conj", "real", "imag", "angle", "complex", "polar", "view_as_real", "view_as_complex",
    "heaviside", "to_device", "index_backward", "index_put", "gather", "scatter_add", "scatter",
    "diagonal_backward", "unfold", "unfold_backward", "as_strided", "as_strided_backward",
    "diag_embed", "trace", "fft_c2c", "fft_r2c", "fft_c2r", "logcumsumexp", "std_mean", "inv",
    "det", "slogdet", "solve", "cholesky", "cholesky_upper", "qr", "geqrf", "eigh", "eig", "svd", "pinv",
    "ldl_factor", "ldl_solve",
    "solve_triangular",
    "lu", "matrix_exp", "conv2d", "conv2d_input_grad", "conv2d_weight_grad", "max_pool2d",
    "max_pool2d_backward", "nll_loss", "fill", "avg_pool2d", "resample", "adaptive_max_pool2d",
    "embedding", "multi_margin_loss", "convolution3d", "linalg_cross",
    "im2col", "col2im", "vdot", "ctc_loss", "ctc_loss_backward", "addr", "addbmm", "dist",
    "aminmax", "index_add", "lstsq", "cdist", "renorm", "pdist", "max_pool3d", "avg_pool3d",
    "avg_pool3d_backward", "index_copy", "put", "masked_scatter",
    "scatter_reduce", "convolution_transpose3d", "multilabel_margin_loss",
    "embedding_bag", "affine_grid", "fractional_max_pool", "grid_sampler",
})
