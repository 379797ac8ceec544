"""Products: matmul (every 1-D/2-D/batched case) and einsum.

``matmul``'s rule promotes 1-D operands to matrices the way the forward does,
multiplies by the other operand transposed, and lets the engine sum away
broadcast batch dimensions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._registry import defop
from .shape import expand_p, permute_p, reshape_as


def _matmul_impl(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{x.ndim}D and {y.ndim}D")
    k = x.shape[-1]
    if k != y.shape[-2 if y.ndim > 1 else 0]:
        raise RuntimeError(_matmul_mismatch(x.shape, y.shape))
    return np.matmul(x, y)


def _matmul_mismatch(xs: tuple[int, ...], ys: tuple[int, ...]) -> str:
    """PyTorch's wording for a matmul of incompatible shapes (it depends on the ranks)."""
    k = xs[-1]
    rows = int(np.prod(xs[:-1], dtype=np.int64))
    if len(xs) == 1 and len(ys) == 1:
        return ("inconsistent tensor size, expected tensor [%d] and src [%d] to have the same "
                "number of elements, but got %d and %d elements respectively"
                % (xs[0], ys[0], xs[0], ys[0]))
    if len(ys) == 1:
        return f"size mismatch, got input ({rows}), mat ({rows}x{k}), vec ({ys[0]})"
    if len(ys) == 2:
        return f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and {ys[0]}x{ys[1]})"
    batch = np.broadcast_shapes(tuple(xs[:-2]), tuple(ys[:-2]))
    n = int(np.prod(batch, dtype=np.int64))
    return (f"Expected size for first two dimensions of batch2 tensor to be: [{n}, {k}] but "
            f"got: [{n}, {ys[-2]}].")


def _mT(a: Any) -> Any:
    nd = a.ndim
    dims = tuple(range(nd - 2)) + (nd - 1, nd - 2)
    return permute_p(a, dims=dims)


def _matmul_vjp(g: Any, ans: Any, x: Any, y: Any) -> tuple[Any, Any]:
    x1, y1 = x.ndim == 1, y.ndim == 1
    if x1 and y1:                                   # dot: g is a scalar
        return g * y, g * x
    x2 = reshape_as(x, (1,) + tuple(x.shape)) if x1 else x
    y2 = reshape_as(y, tuple(y.shape) + (1,)) if y1 else y
    g2 = g
    if x1:
        g2 = reshape_as(g2, tuple(g2.shape[:-1]) + (1, g2.shape[-1]))
    if y1:
        g2 = reshape_as(g2, tuple(g2.shape) + (1,))
    gx = matmul_p(g2, _mT(y2))
    gy = matmul_p(_mT(x2), g2)
    if x1:
        gx = reshape_as(gx, tuple(gx.shape[:-2]) + (gx.shape[-1],))
    if y1:
        gy = reshape_as(gy, tuple(gy.shape[:-2]) + (gy.shape[-2],))
    return gx, gy


matmul_p = defop("matmul", _matmul_impl, vjp_all=_matmul_vjp, promote="same",
                 names=("MmBackward0", "DotBackward0", "MvBackward0", "SqueezeBackward4",
                        "UnsafeViewBackward0", "BmmBackward0"))
MM, DOT, MV, VM, BATCHED, BMM = range(6)


def matmul_variant(xnd: int, ynd: int) -> int:
    """Which of PyTorch's node names a matmul of these ranks gets."""
    if xnd == 1 and ynd == 1:
        return DOT
    if xnd == 2 and ynd == 1:
        return MV
    if xnd == 1 and ynd == 2:
        return VM
    if xnd == 2 and ynd == 2:
        return MM
    return BATCHED


def _einsum_impl(*ops: np.ndarray, equation: str) -> np.ndarray:
    return np.einsum(equation, *ops)


def _parse_einsum(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    subs = lhs.split(",")
    if "..." in eq:
        nmax = max(len(s) - len(sub.replace("...", "")) for s, sub in zip(shapes, subs))
        spare = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq)[:nmax]
        subs = [sub.replace("...", spare[nmax - (len(s) - len(sub.replace("...", ""))):])
                for s, sub in zip(shapes, subs)]
        if "->" in eq:
            rhs = rhs.replace("...", spare)
        else:
            rhs = None  # type: ignore[assignment]
    if rhs is None or "->" not in eq:
        counts: dict[str, int] = {}
        for c in "".join(subs):
            counts[c] = counts.get(c, 0) + 1
        bcast = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c in "".join(subs))
        rhs = bcast + "".join(sorted(c for c, n in counts.items() if n == 1 and c.islower()))
    return subs, rhs


def _einsum_vjp(g: Any, ans: Any, *ops: Any, equation: str) -> tuple[Any, ...]:
    subs, rhs = _parse_einsum(equation, [tuple(o.shape) for o in ops])
    used = "".join(subs) + rhs
    grads = []
    for k, (sub, op) in enumerate(zip(subs, ops)):
        others = [o for j, o in enumerate(ops) if j != k]
        other_subs = [s for j, s in enumerate(subs) if j != k]
        present = set(rhs) | set("".join(other_subs))
        target = "".join(c for c in dict.fromkeys(sub) if c in present)
        eq = ",".join([rhs] + other_subs) + "->" + target
        gk = einsum_p(g, *others, equation=eq)
        if target != sub:                       # indices summed only within this operand
            gk = _expand_subscripts(gk, target, sub, tuple(op.shape), used)
        grads.append(gk)
    return tuple(grads)


def _expand_subscripts(gk: Any, target: str, sub: str, shape: tuple[int, ...], used: str) -> Any:
    """Bring a gradient indexed by ``target`` to an operand indexed by ``sub``."""
    unique = "".join(dict.fromkeys(sub))
    sizes = dict(zip(sub, shape))
    if target != unique:                        # broadcast what the operand alone summed over
        view_shape = tuple(sizes[c] if c in target else 1 for c in unique)
        gk = expand_p(reshape_as(gk, view_shape), shape=tuple(sizes[c] for c in unique))
    if unique == sub:
        return gk
    # NOTE: a repeated index (``ii->i``) reads a diagonal, so its gradient goes back on the
    # diagonal: each repeat gets a fresh letter tied to the first by an identity matrix.
    fresh = (c for c in _LETTERS if c not in used)
    out, terms, eyes = "", [], []
    for c in sub:
        if c in out:
            d = next(fresh)
            out, terms = out + d, terms + [c + d]
            eyes.append(_constant(np.eye(sizes[c], dtype=_dtype_of(gk)), gk))
        else:
            out += c
    return einsum_p(gk, *eyes, equation=",".join([unique] + terms) + "->" + out)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _dtype_of(a: Any) -> Any:
    return a._data.dtype if hasattr(a, "_data") else a.dtype


def _constant(arr: np.ndarray, like: Any) -> Any:
    """``arr`` as what ``like`` is: a constant Tensor beside a Tensor, else the array."""
    if hasattr(like, "_data"):
        from .._tensor import _make
        return _make(arr, False, None)
    return arr


einsum_p = defop("einsum", _einsum_impl, vjp_all=_einsum_vjp, promote="same")
