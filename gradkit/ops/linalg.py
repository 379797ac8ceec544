"""Products: matmul (every 1-D/2-D/batched case) and einsum.

``matmul``'s rule promotes 1-D operands to matrices the way the forward does,
multiplies by the other operand transposed, and lets the engine sum away
broadcast batch dimensions.
"""

from __future__ import annotations

import functools

from typing import Any

import numpy as np

from gradkit._core.backend import arange as _arange
from gradkit._core.backend import as_data, backend_of, data_of, to_numpy, values_unknown
from gradkit._core.backend import eye as _eye
from gradkit._core.backend import zeros as _zeros
from ._registry import defop, not_lazy
from .elementwise import _cj
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


def _as_matrices(g: Any, x: Any, y: Any) -> tuple[Any, Any, Any]:
    """Promote 1-D operands (and ``g`` with them) to matrices, as the forward does."""
    x2 = reshape_as(x, (1,) + tuple(x.shape)) if x.ndim == 1 else x
    y2 = reshape_as(y, tuple(y.shape) + (1,)) if y.ndim == 1 else y
    g2 = g
    if x.ndim == 1:
        g2 = reshape_as(g2, tuple(g2.shape[:-1]) + (1, g2.shape[-1]))
    if y.ndim == 1:
        g2 = reshape_as(g2, tuple(g2.shape) + (1,))
    return x2, y2, g2


# NOTE: one rule per operand, so no product is computed for an operand that needs no gradient
# (the input batch of a network); the engine sums broadcast batch dims away.
def _matmul_vjp_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    if x.ndim == 1 and y.ndim == 1:                 # dot: g is a scalar
        return g * _cj(y)
    if x.ndim == 2 and y.ndim == 1:                 # mv: the outer product of g and y
        # NOTE: one node (PyTorch's ``grad.ger(vec.conj())``, a product: its -0.0 stay), not
        # two reshapes and a matmul: the RNN's step records one op instead of three
        return outer_mul_p(g, _cj(y))
    _, y2, g2 = _as_matrices(g, x, y)
    gx = matmul_p(g2, _cj(_mT(y2)))              # g y^H (y^T for real dtypes)
    return reshape_as(gx, tuple(gx.shape[:-2]) + (gx.shape[-1],)) if x.ndim == 1 else gx


#: below this many elements a weight gradient's layout costs little: made as ``x^H g``
_LAYOUT_MIN = 4096


def _transposed_layout(y: Any, x: Any, g: Any) -> bool:
    """Whether ``y`` (a 2-d operand of a product ``x @ y`` of 2-d ``x`` and ``g``) is a
    transposed view (F- and not C-contiguous, as ``linear``'s ``weight.T``) of at least
    ``_LAYOUT_MIN`` elements. Its gradient is then made as ``(g^T x^*)^T``, in ``y``'s own
    layout, as PyTorch's ``mm`` backward does: the transpose back to the weight is then
    C-contiguous, and an optimizer's update ``w - lr * grad`` reads both arrays in one order
    (on a 512x784 float32 weight 1.1 ms against 0.1 ms with a transposed-view gradient)."""
    if y.ndim != 2 or x.ndim != 2 or g.ndim != 2 or y.shape[0] * y.shape[1] < _LAYOUT_MIN:
        return False
    f = getattr(data_of(y), "flags", None)
    return f is not None and f.f_contiguous and not f.c_contiguous


def _matmul_vjp_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    if x.ndim == 1 and y.ndim == 1:
        return g * _cj(x)
    if x.ndim == 2 and y.ndim == 1:                 # mv: x^H g, g as a vector
        # NOTE: NumPy's matmul takes a 1-d second operand as the column (n, 1) (the same
        # gemv), so this is the promoted product's numbers without its two reshapes
        return matmul_p(_cj(_mT(x)), g)
    if _transposed_layout(y, x, g):
        return _mT(matmul_p(_mT(g), _cj(x)))       # (g^T x^*)^T = x^H g, in y's layout
    x2, _, g2 = _as_matrices(g, x, y)
    gy = matmul_p(_cj(_mT(x2)), g2)              # x^H g
    return reshape_as(gy, tuple(gy.shape[:-2]) + (gy.shape[-2],)) if y.ndim == 1 else gy


matmul_p = defop("matmul", _matmul_impl, vjp=(_matmul_vjp_x, _matmul_vjp_y), promote="same",
                 jvp=(lambda t, ans, x, y: matmul_p(t, y), lambda t, ans, x, y: matmul_p(x, t)),
                 names=("MmBackward0", "DotBackward0", "MvBackward0", "SqueezeBackward4",
                        "UnsafeViewBackward0", "BmmBackward0"), batch="matmul", batched_vjp="matmul")
MM, DOT, MV, VM, BATCHED, BMM = range(6)


# --- outer_mul: ``u[:, None] * v[None, :]`` of two vectors (matrix-vector backward) --------
def _outer_mul_impl(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    if u.ndim == 1 and v.ndim == 1:
        try:
            return np.multiply.outer(u, v)
        except TypeError:        # an array type whose protocol has no ufunc.outer (meta)
            pass
    # leading dims broadcast (vmap's physical operands: its "elementwise" rule fits)
    return u[..., :, None] * v[..., None, :]


# NOTE: PyTorch's ``outer`` is ``u.reshape(-1, 1) * v``, so the node is its MulBackward0;
# the rules are matrix-vector products, which broadcast over a batch of cotangents
outer_mul_p = defop(
    "outer_mul", _outer_mul_impl, promote="same",
    vjp=(lambda g, ans, u, v: matmul_p(g, _cj(v)),
         lambda g, ans, u, v: matmul_p(_mT(g), _cj(u))),
    jvp=(lambda t, ans, u, v: outer_mul_p(t, v), lambda t, ans, u, v: outer_mul_p(u, t)),
    names="MulBackward0", batch="elementwise", batched_vjp="broadcast")


# --- addmm: ``beta * b + alpha * (x @ w)`` as one node (nn.Linear's product and bias) -----
def _addmm_impl(b: np.ndarray, x: np.ndarray, w: np.ndarray, beta: Any = 1,
                alpha: Any = 1) -> np.ndarray:
    out = _matmul_impl(x, w)
    if alpha != 1:
        out = out * alpha
    if beta == 0:                 # NOTE: PyTorch ignores b then (its nan and inf do not spread)
        return out + np.zeros_like(b)
    return out + (b if beta == 1 else b * beta)


def _addmm_vjp_b(g: Any, ans: Any, b: Any, x: Any, w: Any, beta: Any = 1, alpha: Any = 1) -> Any:
    return g if beta == 1 else g * beta          # the engine sums a broadcast bias


def _addmm_vjp_x(g: Any, ans: Any, b: Any, x: Any, w: Any, beta: Any = 1, alpha: Any = 1) -> Any:
    if len(w.shape) == 1:                        # addmv: the outer product of g and the vector
        gx = matmul_p(reshape_as(g, (-1, 1)), reshape_as(_cj(w), (1, -1)))
    else:
        gx = matmul_p(g, _cj(_mT(w)))
    return gx if alpha == 1 else gx * alpha


def _addmm_vjp_w(g: Any, ans: Any, b: Any, x: Any, w: Any, beta: Any = 1, alpha: Any = 1) -> Any:
    if _transposed_layout(w, x, g):
        gw = _mT(matmul_p(_mT(g), _cj(x)))        # in w's layout (see _transposed_layout)
    else:
        gw = matmul_p(_cj(_mT(x)), g)
    return gw if alpha == 1 else gw * alpha


def _scaled(v: Any, s: Any) -> Any:
    return v if s == 1 else v * s


# NOTE: fused (speed and PyTorch's node): F.linear on a 2-D input is one AddmmBackward0 node
# instead of mm + add; the rules are matmuls, so every order of derivative works.
addmm_p = defop(
    "addmm", _addmm_impl, vjp=(_addmm_vjp_b, _addmm_vjp_x, _addmm_vjp_w), promote="same",
    jvp=(lambda t, ans, b, x, w, beta=1, alpha=1: _scaled(t, beta),
         lambda t, ans, b, x, w, beta=1, alpha=1: _scaled(matmul_p(t, w), alpha),
         lambda t, ans, b, x, w, beta=1, alpha=1: _scaled(matmul_p(x, t), alpha)),
    names=("AddmmBackward0", "AddmvBackward0", "BaddbmmBackward0"), batch="addmm")
#: addmm_p's variants: addmv (matrix @ vector) and baddbmm (batched) run the same row
ADDMM, ADDMV, BADDBMM = range(3)


def _bias_beta(out: np.ndarray, b: np.ndarray, beta: Any) -> np.ndarray:
    if beta == 0:                 # NOTE: PyTorch ignores b then (its nan and inf do not spread)
        return out + np.zeros_like(b)
    return out + (b if beta == 1 else b * beta)


# --- addr: ``beta * b + alpha * outer(v1, v2)`` as one node (PyTorch's AddrBackward0) ------
def _addr_impl(b: np.ndarray, v1: np.ndarray, v2: np.ndarray, beta: Any = 1,
               alpha: Any = 1) -> np.ndarray:
    out = np.multiply.outer(v1, v2)
    return _bias_beta(out if alpha == 1 else out * alpha, b, beta)


def _outer(u: Any, v: Any) -> Any:
    return matmul_p(reshape_as(u, (-1, 1)), reshape_as(v, (1, -1)))


addr_p = defop(
    "addr", _addr_impl, promote="same",
    vjp=(_addmm_vjp_b,
         lambda g, ans, b, v1, v2, beta=1, alpha=1: _scaled(matmul_p(g, _cj(v2)), alpha),
         lambda g, ans, b, v1, v2, beta=1, alpha=1: _scaled(matmul_p(_mT(g), _cj(v1)), alpha)),
    jvp=(lambda t, ans, b, v1, v2, beta=1, alpha=1: _scaled(t, beta),
         lambda t, ans, b, v1, v2, beta=1, alpha=1: _scaled(_outer(t, v2), alpha),
         lambda t, ans, b, v1, v2, beta=1, alpha=1: _scaled(_outer(v1, t), alpha)),
    names="AddrBackward0")


# --- addbmm: ``beta * b + alpha * sum_i(x[i] @ w[i])`` as one node (AddbmmBackward0) -------
def _addbmm_impl(b: np.ndarray, x: np.ndarray, w: np.ndarray, beta: Any = 1,
                 alpha: Any = 1) -> np.ndarray:
    out = np.matmul(x, w).sum(0)
    return _bias_beta(out if alpha == 1 else out * alpha, b, beta)


def _batch_sum(v: Any) -> Any:
    from .reduction import sum_p
    return sum_p(v, dim=(0,))


# NOTE: the product rules are addmm's: g (n, p) against each batch's (m, p) or (n, m) factor
# broadcasts over the batch, which is the gradient of each x[i] and w[i]
addbmm_p = defop(
    "addbmm", _addbmm_impl, promote="same", vjp=(_addmm_vjp_b, _addmm_vjp_x, _addmm_vjp_w),
    jvp=(lambda t, ans, b, x, w, beta=1, alpha=1: _scaled(t, beta),
         lambda t, ans, b, x, w, beta=1, alpha=1: _scaled(_batch_sum(matmul_p(t, w)), alpha),
         lambda t, ans, b, x, w, beta=1, alpha=1: _scaled(_batch_sum(matmul_p(x, t)), alpha)),
    names="AddbmmBackward0")


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


@functools.lru_cache(maxsize=256)
def _product_plan(equation: str, ndims: tuple[int, ...]) -> Any:
    """For an explicit equation of two or more operands with no index summed and none
    repeated in an operand ('bm,bd->bmd', 'i,j->ij'): per operand, the transpose that puts
    its axes in output order and where each lands in the output. Else None."""
    lhs, arrow, out = equation.replace(" ", "").partition("->")
    subs = lhs.split(",")
    if not arrow or len(subs) < 2 or "." in equation or len(set(out)) != len(out) or \
            len(subs) != len(ndims) or any(
                len(set(sub)) != len(sub) or not set(sub) <= set(out) or len(sub) != nd
                for sub, nd in zip(subs, ndims)):
        return None
    plan = []
    for sub in subs:
        order = tuple(sorted(range(len(sub)), key=lambda k: out.index(sub[k])))
        plan.append((order if order != tuple(range(len(sub))) else None,
                     tuple(out.index(sub[k]) for k in order), len(out)))
    return tuple(plan)


def _einsum_products(ops: tuple[np.ndarray, ...], equation: str) -> np.ndarray | None:
    """The broadcast product of a pure-product equation (``_product_plan``), as PyTorch
    computes it: each entry one product, so a zero keeps its sign (NumPy's einsum adds it
    onto +0). None for any other equation."""
    plan = _product_plan(equation, tuple(o.ndim for o in ops))
    if plan is None:
        return None
    res = None
    for o, (order, positions, n) in zip(ops, plan):
        arr = o if order is None else np.transpose(o, order)
        shape = [1] * n
        for pos, size in zip(positions, arr.shape):
            shape[pos] = size
        arr = arr.reshape(shape)
        res = arr if res is None else res * arr
    return res


def _einsum_impl(*ops: np.ndarray, equation: str) -> np.ndarray:
    if len(ops) > 1 and all(type(o) is np.ndarray for o in ops):
        out = _einsum_products(ops, equation)
        if out is not None:
            return out                  # a new array (a product of two or more operands)
    out = np.einsum(equation, *ops)
    if isinstance(out, np.ndarray) and any(np.may_share_memory(out, o) for o in ops):
        # NOTE: NumPy returns a view for an equation without a sum ('ij->ji', 'ii->i'); an
        # untracked view would let an in-place change of one silently change the other
        out = out.copy()
    return out


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
        gk = einsum_p(g, *[_cj(o) for o in others], equation=eq)     # g * conj(d ans / d op)
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
            eyes.append(_constant(_eye(sizes[c], sizes[c], _dtype_of(gk), data_of(gk)), gk))
        else:
            out += c
    return einsum_p(gk, *eyes, equation=",".join([unique] + terms) + "->" + out)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _dtype_of(a: Any) -> Any:
    return a._data.dtype if hasattr(a, "_data") else a.dtype


def _constant(arr: np.ndarray, like: Any) -> Any:
    """``arr`` as what ``like`` is: a constant Tensor beside a Tensor, else the array."""
    if hasattr(like, "_data"):
        from gradkit._core.tensor import _make
        return _make(arr, False, None)
    return arr


einsum_p = defop("einsum", _einsum_impl, vjp_all=_einsum_vjp, promote="same", batch="einsum")


# =========================================================================================
# gradkit.linalg: inverses, determinants, solves and decompositions
# =========================================================================================
# NOTE: fused primitives (exactness and stability): each forward is one LAPACK call through
# numpy.linalg, batched over leading dims, and each rule is the closed form from the
# literature (the formulas of PyTorch's FunctionsManual.cpp), written with table ops so that
# it can be differentiated again. Norms, powers, lstsq and cross are compositions
# (gradkit/linalg.py).

from gradkit._core.tensor import Tensor  # noqa: E402
from .elementwise import imag, real, where  # noqa: E402
from .reduction import _prod_others  # noqa: E402
from .shape import cat_p, diagonal_backward_p, diagonal_p, getitem_p, tril_p, triu_p  # noqa: E402


class LinAlgError(RuntimeError):
    """A matrix had no inverse or factorization (PyTorch's ``torch.linalg.LinAlgError``)."""


# --- helpers for rules (ndarrays in a plain backward, Tensors with create_graph) ----------
def _data(a: Any) -> np.ndarray:
    return a._data if isinstance(a, Tensor) else as_data(a)


def _unused(g: Any) -> bool:
    """Whether an output's gradient is a constant zero (how the engine fills unused outputs)."""
    if isinstance(g, Tensor):
        return not g._rg and not bool(g._data.any())
    return not bool(np.any(g))


def _col(v: Any) -> Any:
    """``v[..., :, None]``."""
    return reshape_as(v, tuple(v.shape) + (1,))


def _row(v: Any) -> Any:
    """``v[..., None, :]``."""
    return reshape_as(v, tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _mat(s: Any) -> Any:
    """A batch of scalars as a batch of 1x1 matrices."""
    return reshape_as(s, tuple(np.shape(s)) + (1, 1))


def _diag_embed(v: Any) -> Any:
    """Batched ``diag``: ``(..., n) -> (..., n, n)``."""
    nd = v.ndim
    return diagonal_backward_p(v, shape=tuple(v.shape) + (v.shape[-1],), offset=0, dim1=nd - 1,
                               dim2=nd)


def _cols(a: Any, stop: int) -> Any:
    return getitem_p(a, index=(Ellipsis, slice(0, stop)))


def _rows(a: Any, stop: int) -> Any:
    return getitem_p(a, index=(Ellipsis, slice(0, stop), slice(None)))


def _rsolve(b: Any, a: Any) -> Any:
    """``b @ inv(a)``: the ``x`` with ``x @ a = b``."""
    return _mT(solve_p(_mT(a), _mT(b)))


def _batch(a: np.ndarray, i: int) -> str:
    return f"(Batch element {i}): " if a.ndim > 2 else ""


def _first_failure(a: np.ndarray, test: Any) -> tuple[int, int]:
    """The first batch element of ``a`` where ``test`` (matrix -> int, 0 = fine) fails.

    When none does (LAPACK's blocked order of operations met an exact zero that ours rounded
    away), the element and pivot closest to failing: ``test(m, True)`` names a pivot always.
    """
    mats = a.reshape((-1,) + a.shape[-2:])
    for i, m in enumerate(mats):
        k = test(m)
        if k:
            return i, k
    i = int(np.argmin(np.abs(np.linalg.det(mats)))) if len(mats) else 0
    return i, test(mats[i], True) if len(mats) else 1


def _zero_pivot(m: np.ndarray, closest: bool = False) -> int:
    """LAPACK getrf's ``info``: the 1-based index of the first zero pivot of LU with partial
    pivoting (0 when there is none; with ``closest``, the smallest pivot's)."""
    a = np.array(m, dtype=m.dtype, copy=True)
    n = a.shape[0]
    pivots = []
    for j in range(n):
        p = j + int(np.argmax(_pivot_size(a[j:, j])))
        if a[p, j] == 0:
            return j + 1
        a[[j, p]] = a[[p, j]]
        a[j + 1:, j] /= a[j, j]
        a[j + 1:, j + 1:] -= np.outer(a[j + 1:, j], a[j, j + 1:])
        pivots.append(abs(a[j, j]))
    return int(np.argmin(pivots)) + 1 if closest and pivots else 0


def _not_pd_order(m: np.ndarray, closest: bool = False) -> int:
    """The order of the first leading minor that is not positive-definite (0 when none; with
    ``closest``, the full order)."""
    for k in range(1, m.shape[0] + 1):
        try:
            c = np.linalg.cholesky(m[:k, :k])
        except np.linalg.LinAlgError:
            return k
        if np.isnan(c[k - 1, k - 1]):               # LAPACK's potrf stops at a NaN pivot too
            return k
    return m.shape[0] if closest else 0


# --- inverse, determinants, solve ---------------------------------------------------------
def _inv_impl(x: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(x)
    except np.linalg.LinAlgError:
        i, k = _first_failure(x, _zero_pivot)
        raise LinAlgError(f"linalg.inv: {_batch(x, i)}The diagonal element {k} is zero, the inversion "
                          "could not be completed because the input matrix is singular.") from None


def _inv_vjp(g: Any, ans: Any, x: Any) -> Any:
    t = _mH(ans)
    return -matmul_p(t, matmul_p(g, t))              # d inv = -A^-H g A^-H (A^-T for reals)


inv_p = defop("inv", _inv_impl, vjp=_inv_vjp, save_inputs=False, save_ans=True,
              names="LinalgInvExBackward0")


def _cofactor(x: Any, det: Any) -> Any:
    """``det(x) * inv(x)^T``, also where ``x`` is singular (there through the SVD)."""
    try:
        return _mat(det) * _mT(inv_p(x))
    except LinAlgError:
        pass
    # NOTE: x = U S Vh gives cofactor = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh, which
    # stays exact at singular matrices (PyTorch's det gradient is defined there too). For complex
    # x, det(U) det(Vh) is a unit phase and the cofactor phase conj(U diag(...) Vh): the
    # phase is unchanged when a pair (u_i, v_i) turns by the same e^{i phi}.
    u, s, vh = svd_p(x, full_matrices=False)
    phase = np.linalg.det(_data(u)) * np.linalg.det(_data(vh))
    if _data(u).dtype.kind == "c":
        phase = as_data((phase / np.abs(phase)).astype(_data(u).dtype))
        others = _prod_others(s, s.ndim - 1) * _col(_constant(np.conj(phase), s))
        return _cj(matmul_p(u * _row(others), vh))
    sign = as_data(np.sign(phase).astype(_data(s).dtype))
    others = _prod_others(s, s.ndim - 1) * _col(_constant(sign, s))
    return matmul_p(u * _row(others), vh)


det_p = defop("det", np.linalg.det, vjp=lambda g, ans, x: _mat(g) * _cj(_cofactor(x, ans)),
              save_ans=True, names="LinalgDetBackward0")


def _slogdet_impl(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sign, logabsdet = np.linalg.slogdet(x)
    nan = np.isnan(logabsdet)
    if values_unknown(nan) or nan.any():             # no sign for a NaN determinant (PyTorch: 0)
        sign = np.where(nan, 0, sign).astype(sign.dtype, copy=False)
    return sign, logabsdet


def _slogdet_vjp(g: Any, ans: Any, x: Any) -> tuple[Any]:
    gsign, glogabs = g
    complex_ = _data(x).dtype.kind == "c"
    if complex_ and not _unused(gsign):
        # d log det = tr(A^-1 dA) = t: logabsdet moves by Re(t), the phase by sign * i Im(t),
        # so gA = (g_logabsdet - i Im(conj(g_sign) sign)) A^-H
        c = imag(_cj(gsign) * ans[0]) * -1j
        if not _unused(glogabs):
            c = c + glogabs
    elif _unused(glogabs):                          # a real sign is piecewise constant
        return (x * 0.0,)
    else:
        c = glogabs
    try:
        inv = inv_p(x)
    except LinAlgError:
        raise LinAlgError("linalg.slogdet: the gradient of logabsdet is not defined at a singular "
                          "matrix (logabsdet is -inf there)") from None
    return (_mat(c) * _mH(inv),)                     # d logabsdet = A^-H (A^-T for reals)


slogdet_p = defop("slogdet", _slogdet_impl, vjp_all=_slogdet_vjp, n_out=2,
                  names="LinalgSlogdetBackward0")


def _solve_impl(a: np.ndarray, b: np.ndarray, vec: bool = False) -> np.ndarray:
    # NOTE: batch dims are broadcast here, so that NumPy 1.x never reads b as a stack of vectors.
    # ``vec``: b is a (batch of) vector(s), solved as one column; one node, as PyTorch's
    # LinalgSolveExBackward0 for a 1-D b (no Unsqueeze/Squeeze nodes around it).
    if vec:
        return _solve_impl(a, b[..., None])[..., 0]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        i, _ = _first_failure(a, _zero_pivot)
        raise LinAlgError(f"torch.linalg.solve: {_batch(a, i)}The solver failed because the input matrix "
                          "is singular.") from None


def _solve_vjp(g: Any, ans: Any, a: Any, b: Any, vec: bool = False) -> tuple[Any, Any]:
    if vec:
        gb = solve_p(_mH(a), g, vec=True)
        col = reshape_as(gb, tuple(gb.shape) + (1,))
        x = reshape_as(ans, tuple(ans.shape) + (1,))
        return -matmul_p(col, _mH(x)), gb
    gb = solve_p(_mH(a), g)                          # gB = A^-H g (A^-T for real dtypes)
    return -matmul_p(gb, _mH(ans)), gb               # gA = -gB X^H


solve_p = defop("solve", _solve_impl, vjp_all=_solve_vjp, save_ans=True, promote="same",
                names="LinalgSolveExBackward0")


# --- factorizations -----------------------------------------------------------------------
def _nan_pivot(c: np.ndarray) -> bool:
    """Whether a Cholesky factor from NumPy has a NaN on its diagonal: LAPACK's potrf (PyTorch's)
    reports that as a failure, NumPy returns it."""
    return not values_unknown(c) and bool(np.isnan(c.diagonal(0, -2, -1)).any())


def _cholesky_impl(x: np.ndarray) -> np.ndarray:
    try:
        c = np.linalg.cholesky(x)
        if not _nan_pivot(c):
            return c
        raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        i, k = _first_failure(x, _not_pd_order)
        raise LinAlgError(f"linalg.cholesky: {_batch(x, i)}The factorization could not be completed "
                          f"because the input is not positive-definite (the leading minor of order "
                          f"{k} is not positive-definite).") from None


def _cholesky_vjp(g: Any, ans: Any, x: Any) -> Any:
    # Murray (2016), arXiv:1602.07527, as in PyTorch: gA = L^-H P L^-1 with X = tril(L^H gL) and
    # P = (X + tril(X, -1)^H) / 2 (for real inputs symmetric: the lower triangle mirrored, the
    # diagonal halved; for complex ones PyTorch's P keeps the halved complex diagonal).
    p = tril_p(matmul_p(_mH(ans), g))
    p = (p + _mH(tril_p(p, diagonal=-1))) * 0.5
    return _rsolve(solve_p(_mH(ans), p), ans)


cholesky_p = defop("cholesky", _cholesky_impl, vjp=_cholesky_vjp, save_inputs=False, save_ans=True,
                   names="LinalgCholeskyExBackward0")


def _cholesky_upper_impl(x: np.ndarray) -> np.ndarray:
    """``U`` with ``A = U^H U``, from the upper triangle of ``A``."""
    swap = (lambda m: np.conj(np.swapaxes(m, -1, -2))) if x.dtype.kind == "c" else \
        (lambda m: np.swapaxes(m, -1, -2))
    return swap(_cholesky_impl(swap(x)))


cholesky_upper_p = defop("cholesky_upper", _cholesky_upper_impl,
                         vjp=lambda g, ans, x: _cholesky_vjp(_mH(g), _mH(ans), x),
                         save_inputs=False, save_ans=True, names="LinalgCholeskyExBackward0")


def _qr_impl(x: np.ndarray, mode: str = "reduced") -> tuple[np.ndarray, np.ndarray]:
    # mode="r": the reduced factorization, whose Q linalg.qr drops; its backward is refused
    q, r = np.linalg.qr(x, mode="reduced" if mode == "r" else mode)
    return q, r


def _copyltu(m: Any) -> Any:
    """The symmetric (for complex ``m`` Hermitian) matrix with the lower triangle of ``m``; a
    complex diagonal keeps its real part."""
    if _data(m).dtype.kind == "c":
        nd = m.ndim
        low = tril_p(m, diagonal=-1)
        return low + _mH(low) + _diag_embed(real(diagonal_p(m, offset=0, dim1=nd - 2, dim2=nd - 1)))
    return tril_p(m) + _mT(tril_p(m, diagonal=-1))


def _qr_tall_vjp(gq: Any, gr: Any, q: Any, r: Any) -> Any:
    # m >= n (Walter & Lehmann 2018; Liao et al. 2019): M = R gR^H - gQ^H Q,
    # gA = (gQ + Q copyltu(M)) R^-H. For complex inputs LAPACK's R has a real diagonal, so
    # Q^H dQ is skew-Hermitian with an imaginary diagonal and copyltu keeps Re diag(M).
    m = matmul_p(r, _mH(gr)) - matmul_p(_mH(gq), q)
    return _rsolve(gq + matmul_p(q, _copyltu(m)), _mH(r))


def _qr_vjp(g: Any, ans: Any, x: Any, mode: str = "reduced") -> tuple[Any]:
    gq, gr = g
    q, r = ans
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                           "differentiate through linalg.qr.")
    rows, cols = x.shape[-2], x.shape[-1]
    if rows > cols and mode == "complete":
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                           "nrows > ncols.")
    if rows >= cols:
        return (_qr_tall_vjp(gq, gr, q, r),)
    # NOTE: wide A = Q [U | V]: its first ``rows`` columns X = Q U are a square QR; the rest
    # Y = Q V adds Y gV^H to gQ and gets Q gV (PyTorch's case m < n).
    nd = x.ndim
    y = getitem_p(x, index=(Ellipsis, slice(rows, None)))
    gv = getitem_p(gr, index=(Ellipsis, slice(rows, None)))
    gx = _qr_tall_vjp(gq + matmul_p(y, _mH(gv)), _cols(gr, rows), q, _cols(r, rows))
    return (cat_p(gx, matmul_p(q, gv), dim=nd - 1),)


qr_p = defop("qr", _qr_impl, vjp_all=_qr_vjp, n_out=2, names="LinalgQrBackward0")


def _geqrf_impl(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # LAPACK's geqrf: R on and above the diagonal, the Householder vectors below it, and their
    # scales tau (NumPy's mode="raw" returns the factored matrix transposed)
    # NOTE: mode="raw" is NumPy's alone: other array libraries' values go through the host
    from gradkit._core.backend import move, placement_of
    where = placement_of(x)
    a = to_numpy(x)
    if 0 in a.shape[-2:]:
        h, tau = a.copy(), np.zeros(a.shape[:-2] + (min(a.shape[-2:]),), a.dtype)
    else:
        raw, t = np.linalg.qr(a, mode="raw")
        h = np.ascontiguousarray(np.swapaxes(raw, -1, -2), dtype=a.dtype)
        tau = t.astype(a.dtype, copy=False)
    return move(h, where), move(tau, where)


def _geqrf_vjp(g: Any, ans: Any, x: Any) -> tuple[Any]:
    raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


geqrf_p = defop("geqrf", _geqrf_impl, vjp_all=_geqrf_vjp, n_out=2, save_inputs=False)


# --- LDL (Bunch-Kaufman): LAPACK's ?sytrf / ?hetrf and ?sytrs / ?hetrs through SciPy ----------
def _scipy_lapack() -> Any:
    """``scipy.linalg.lapack``, or an ImportError naming the extra that installs it."""
    try:
        import scipy.linalg.lapack as lapack
    except ImportError as e:  # pragma: no cover - SciPy is installed in the test environment
        raise ImportError("torch.linalg.ldl_factor and ldl_solve call LAPACK through SciPy, which is "
                          "not installed: pip install scipy (or pip install gradkit[scipy])") from e
    return lapack


def _ldl_routine(dtype: np.dtype, what: str, hermitian: bool) -> Any:
    """LAPACK's ``?sytr<what>`` (``?hetr<what>`` for a Hermitian complex matrix) for ``dtype``
    (``what``: "f", "s" or "f_lwork")."""
    if dtype.kind == "c":
        kind = "he" if hermitian else "sy"
    else:
        kind = "sy"
    prefix = {np.dtype(np.float32): "s", np.dtype(np.float64): "d",
              np.dtype(np.complex64): "c", np.dtype(np.complex128): "z"}[np.dtype(dtype)]
    return getattr(_scipy_lapack(), f"{prefix}{kind}tr{what}")


def _ldl_factor_impl(x: np.ndarray, hermitian: bool = False) -> tuple[np.ndarray, ...]:
    # NOTE: the lower triangle is read and written (PyTorch's uplo); the strict upper triangle
    # of LD is zero. Pivots are LAPACK's (1-based; a negative pair marks a 2x2 block of D) and
    # info the 1-based index of an exactly zero D(i, i) (0 when D is nonsingular).
    from gradkit._core.backend import move, placement_of
    where_ = placement_of(x)
    a = to_numpy(x)
    n = a.shape[-1]
    mats = a.reshape((int(np.prod(a.shape[:-2], dtype=np.int64)), n, n))
    ld = np.zeros_like(mats)
    piv = np.zeros(mats.shape[:-1], dtype=np.int32)
    info = np.zeros(mats.shape[:1], dtype=np.int32)
    if n and len(mats):
        fn = _ldl_routine(a.dtype, "f", hermitian)
        # NOTE: the optimal work size (LAPACK's blocked algorithm, as PyTorch's query gets)
        lwork = max(int(np.real(_ldl_routine(a.dtype, "f_lwork", hermitian)(n, lower=1)[0])), n, 1)
        for i, m in enumerate(mats):
            out, p, k = fn(m, lower=1, lwork=lwork)
            ld[i], piv[i], info[i] = np.tril(out), p, k
    shape = a.shape[:-2]
    return (move(ld.reshape(a.shape), where_), move(piv.reshape(shape + (n,)), where_),
            move(info.reshape(shape), where_))


def _ldl_factor_vjp(g: Any, ans: Any, x: Any, hermitian: bool = False) -> tuple[Any]:
    raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


ldl_factor_p = defop("ldl_factor", _ldl_factor_impl, vjp_all=_ldl_factor_vjp, n_out=3,
                     save_inputs=False, names="NotImplemented")


def _ldl_solve_impl(ld: np.ndarray, piv: np.ndarray, b: np.ndarray,
                    hermitian: bool = False) -> np.ndarray:
    from gradkit._core.backend import move, placement_of
    where_ = placement_of(b)
    ld, piv, b = to_numpy(ld), to_numpy(piv), to_numpy(b)
    n, k = b.shape[-2:]
    batch = np.broadcast_shapes(ld.shape[:-2], b.shape[:-2])
    count = int(np.prod(batch, dtype=np.int64))
    lds = np.broadcast_to(ld, batch + (n, n)).reshape((count, n, n))
    pivs = np.broadcast_to(piv, batch + (n,)).reshape((count, n)).astype(np.int32)
    bs = np.broadcast_to(b, batch + (n, k)).reshape((count, n, k))
    out = np.zeros(bs.shape, dtype=b.dtype)
    if n and k and len(bs):
        fn = _ldl_routine(b.dtype, "s", hermitian)
        for i in range(len(bs)):
            out[i] = fn(lds[i], pivs[i], bs[i], lower=1)[0]
    return move(out.reshape(batch + (n, k)), where_)


def _ldl_solve_vjp(g: Any, ans: Any, ld: Any, piv: Any, b: Any,
                   hermitian: bool = False) -> tuple[Any, ...]:
    raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


ldl_solve_p = defop("ldl_solve", _ldl_solve_impl, vjp_all=_ldl_solve_vjp, save_inputs=False,
                    names="NotImplemented")


def _inverse_gaps(w: Any, used: np.ndarray, what: str, squared: bool = False) -> Any:
    """``F[i, j] = 1 / (w_j - w_i)`` (of the squares when ``squared``) off the diagonal, else 0.

    Raises where two values are equal up to rounding and the gradient reaches their vectors
    (``used``: per value, whether its vectors have a nonzero gradient).
    """
    wd = _data(w)
    n = wd.shape[-1]
    scale = np.abs(wd).max(axis=-1, keepdims=True)[..., None] if n else 0.0
    close = np.abs(wd[..., None, :] - wd[..., :, None]) <= n * np.finfo(wd.dtype).eps * scale
    eye = _eye(n, n, bool, wd)
    bad = close & ~eye & (used[..., None, :] | used[..., :, None])
    if bool(bad.any()):
        *b, i, j = (int(v) for v in to_numpy(np.argwhere(bad))[0])
        raise RuntimeError(
            f"linalg.{what[0]}: the gradient with respect to the {what[2]} is not defined when "
            f"{what[1]} are repeated ({what[1]} {i} and {j} are equal up to rounding: "
            f"{wd[tuple(b) + (i,)]!r} and {wd[tuple(b) + (j,)]!r}), because their {what[2]} are "
            f"then not unique. Differentiate only the {what[1]}, or make them distinct.")
    skip = close | eye
    w2 = w * w if squared else w
    return where(skip, 0.0, 1.0 / where(skip, 1.0, _row(w2) - _col(w2)))


def _eigh_impl(x: np.ndarray, UPLO: str = "L") -> tuple[np.ndarray, np.ndarray]:
    w, v = np.linalg.eigh(x, UPLO=UPLO)
    return w, v


def _mH(a: Any) -> Any:
    """The conjugate transpose (the transpose for real dtypes)."""
    return _cj(_mT(a))


def _phase_check(d: Any, what: str) -> None:
    """Raise when a complex loss depends on the free phases of the vectors (PyTorch's check,
    with its tolerance): ``d`` is the diagonal of ``V^H gV`` (summed over both sides for SVD)."""
    dd = _data(d)
    if dd.dtype.kind == "c" and not np.allclose(dd.imag, 0.0, rtol=1e-2, atol=1e-2):
        raise RuntimeError(f"linalg.{what}: the {'singular ' if what == 'svd' else 'eigen'}vectors "
                           "of a complex matrix are defined up to multiplication by e^{i phi}; "
                           "the loss depends on this phase, so its gradient is not defined.")


def _eigh_vjp(g: Any, ans: Any, x: Any, UPLO: str = "L") -> tuple[Any]:
    # gA = V (diag(gL) + F o skew(V^H gV)) V^H with F_ij = 1 / (l_j - l_i): Hermitian, as in
    # PyTorch (the input is taken to be Hermitian; only one triangle is read).
    gw, gv = g
    w, v = ans
    inner = _diag_embed(gw)
    if not _unused(gv):
        used = np.any(_data(gv) != 0, axis=-2)
        f = _inverse_gaps(w, used, ("eigh", "eigenvalues", "eigenvectors"))
        vtgv = matmul_p(_mH(v), gv)
        _phase_check(_data(vtgv).diagonal(0, -2, -1), "eigh")
        inner = inner + f * (vtgv - _mH(vtgv)) * 0.5
    return (matmul_p(v, matmul_p(inner, _mH(v))),)


eigh_p = defop("eigh", _eigh_impl, vjp_all=_eigh_vjp, n_out=2, save_inputs=False,
               names="LinalgEighBackward0")


def _eig_impl(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # NOTE: LAPACK's geev refuses inf/nan; those matrices get NaN (linalg.eig raises before)
    bad = None if values_unknown(x) or np.isfinite(x).all() else ~np.isfinite(x).all(axis=(-2, -1))
    if bad is not None:
        x = np.where(bad[..., None, None], 0, x)
    w, v = np.linalg.eig(x)
    if bad is not None:
        w, v = _nan_where(bad, w.astype(np.result_type(w.dtype, np.complex64)),
                          v.astype(np.result_type(v.dtype, np.complex64)))
    dt = np.result_type(x.dtype, np.complex64)         # always complex, as PyTorch's
    return w.astype(dt, copy=False), v.astype(dt, copy=False)


def _eig_vjp(g: Any, ans: Any, x: Any) -> tuple[Any]:
    # PyTorch's linalg_eig_backward: gA = V^-H (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / E*) V^H
    # with E*_ij = conj(l_j) - conj(l_i); the eigenvectors have unit norm (LAPACK's), so the loss
    # must not depend on their phases: Im diag(V^H gV) = 0.
    gw, gv = g
    w, v = ans
    vh = _mH(v)
    inner = _diag_embed(gw)
    if not _unused(gv):
        used = np.any(_data(gv) != 0, axis=-2)
        f = _inverse_gaps(_cj(w), used, ("eig", "eigenvalues", "eigenvectors"))
        vhgv = matmul_p(vh, gv)
        nd = vhgv.ndim
        d = diagonal_p(vhgv, offset=0, dim1=nd - 2, dim2=nd - 1)
        _phase_check(_data(d), "eig")
        inner = inner + f * (vhgv - matmul_p(vh, v * _row(real(d))))
    return (solve_p(vh, matmul_p(inner, vh)),)


eig_p = defop("eig", _eig_impl, vjp_all=_eig_vjp, n_out=2, save_inputs=False, save_ans=True,
              names="LinalgEigBackward0")


def _finite_for_svd(x: Any, name: str = "linalg.svd") -> Any:
    """A matrix holding NaN raises PyTorch's error (naming its batch element). LAPACK's SVD may
    never return on a matrix holding inf (seen with NumPy 2.4), so such matrices are not given to
    it: returns the mask of them (None when there is none), whose results are NaN, as PyTorch's
    singular values are there. A Dask array is not computed for this check."""
    if values_unknown(x):
        return None
    finite = np.isfinite(x)
    if finite.all():
        return None
    nan = np.isnan(x).any(axis=(-2, -1))
    if nan.any():
        i = int(np.flatnonzero(np.reshape(nan, -1))[0])
        raise LinAlgError(f"{name}: {_batch(x, i)}The algorithm failed to converge because the input "
                          "matrix contained non-finite values.")
    return ~finite.all(axis=(-2, -1))


def _nan_where(bad: Any, *outs: np.ndarray) -> tuple[np.ndarray, ...]:
    """``outs`` (of a batch of matrices) with NaN in the elements that ``bad`` marks."""
    return tuple(np.where(np.reshape(bad, np.shape(bad) + (1,) * (o.ndim - np.ndim(bad))),
                          complex(np.nan, np.nan) if o.dtype.kind == "c" else np.nan, o)
                 .astype(o.dtype, copy=False) for o in outs)


def _svd_impl(x: np.ndarray, full_matrices: bool = True) -> tuple[np.ndarray, ...]:
    bad = _finite_for_svd(x)
    if bad is not None:
        x = np.where(bad[..., None, None], 0, x)
    u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
    if bad is not None:
        u, s, vh = _nan_where(bad, u, s, vh)
    return u, s, vh


def _svd_narrow(u: Any, gu: Any, vh: Any, gvh: Any, k: int) -> tuple[Any, ...]:
    """With ``full_matrices``, keep the ``k`` singular vectors that are functions of ``A``."""
    extra = gu[..., k:] if u.shape[-1] > k else gvh[..., k:, :]
    if np.any(_data(extra)):
        raise RuntimeError("linalg.svd: the gradient with respect to the last columns of U (or rows of "
                           "Vh) that full_matrices=True adds is not defined: they are any orthonormal "
                           "completion. Use linalg.svd(A, full_matrices=False).")
    return _cols(u, k), _cols(gu, k), _rows(vh, k), _rows(gvh, k)


def _svd_vjp(g: Any, ans: Any, x: Any, full_matrices: bool = True) -> tuple[Any]:
    gu, gs, gvh = g
    u, s, vh = ans
    rows, cols = x.shape[-2], x.shape[-1]
    k = min(rows, cols)
    if full_matrices and rows != cols:
        u, gu, vh, gvh = _svd_narrow(u, gu, vh, gvh, k)
    no_u, no_vh = _unused(gu), _unused(gvh)
    if no_u and no_vh:                               # svdvals: gA = U diag(gS) Vh
        return (matmul_p(u * _row(gs), vh),)
    # PyTorch's svd_backward: gA = U [(skew(U^H gU) S + S skew(V^H gV)) / E + diag(gS)] Vh,
    # E_ij = s_j^2 - s_i^2, plus the parts of gU (gVh) outside U's (V's) span when m > n (m < n);
    # complex inputs add i Im(diag(U^H gU)) / S on the diagonal (the loss must not depend on
    # the phases of the (u_i, v_i) pairs: Im diag(U^H gU) + Im diag(V^H gV) = 0).
    used_u, used_v = np.any(_data(gu) != 0, axis=-2), np.any(_data(gvh) != 0, axis=-1)
    f = _inverse_gaps(s, used_u | used_v, ("svd", "singular values", "singular vectors"), squared=True)
    inner = _diag_embed(gs)
    cplx = _data(u).dtype.kind == "c"
    phase = 0.0
    if not no_u:
        utgu = matmul_p(_mH(u), gu)
        inner = inner + f * (utgu - _mH(utgu)) * _row(s)
        if cplx:
            phase = _data(utgu).diagonal(0, -2, -1)
    if not no_vh:
        vtgv = matmul_p(vh, _mH(gvh))
        inner = inner + f * _col(s) * (vtgv - _mH(vtgv))
        if cplx:
            phase = phase + _data(vtgv).diagonal(0, -2, -1)
    if cplx:
        _phase_check(phase, "svd")
        if not no_u:
            nd = utgu.ndim
            d = diagonal_p(utgu, offset=0, dim1=nd - 2, dim2=nd - 1)
            safe = where(_data(s) == 0, 1.0, s)
            inner = inner + _diag_embed(imag(d) / safe) * 1j
    tall, wide = rows > cols and not no_u, rows < cols and not no_vh
    if tall or wide:
        s = _nonzero(s, used_u if tall else used_v, "U" if tall else "Vh")
    if tall:
        gus = gu / _row(s)
        ga = matmul_p(u, inner) + gus - matmul_p(u, matmul_p(_mH(u), gus))
        return (matmul_p(ga, vh),)
    if wide:
        sgvh = gvh / _col(s)
        ga = matmul_p(inner, vh) + sgvh - matmul_p(matmul_p(sgvh, _mH(vh)), vh)
        return (matmul_p(u, ga),)
    return (matmul_p(u, matmul_p(inner, vh)),)


def _nonzero(s: Any, used: np.ndarray, which: str) -> Any:
    """``s`` to divide by: raises where a zero singular value's vector in ``which`` (the longer
    side, where it is not unique) has a gradient; elsewhere zeros become ones (0 / 1 = 0)."""
    sd = _data(s)
    k = sd.shape[-1]
    tiny = sd <= k * np.finfo(sd.dtype).eps * (sd.max(axis=-1, keepdims=True) if k else 0.0)
    if bool(np.any(tiny & used)):
        raise RuntimeError(f"linalg.svd: the gradient with respect to {which} is not defined for a "
                           f"non-square matrix with a zero singular value (its singular vector is "
                           f"not unique). Differentiate only the singular values, or use a full-rank "
                           f"input.")
    zero = sd == 0
    return where(zero, 1.0, s) if bool(zero.any()) else s


svd_p = defop("svd", _svd_impl, vjp_all=_svd_vjp, n_out=3, save_inputs=False,
              names="LinalgSvdBackward0")


def _pinv_impl(x: np.ndarray, atol: Any = 0.0, rtol: Any = None, hermitian: bool = False) -> np.ndarray:
    if hermitian:
        w, v = np.linalg.eigh(x)
        s, vh, u = np.abs(w), np.conj(np.swapaxes(v, -1, -2)), v * np.sign(w)[..., None, :]
    else:
        u, s, vh = _svd_impl(x, full_matrices=False)
    if rtol is None:
        rtol = max(x.shape[-2:]) * np.finfo(x.dtype).eps
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else _zeros(s.shape[:-1] + (1,), s.dtype, s)
    atol, rtol = (v[..., None] if backend_of(v) is not None else np.asarray(v)[..., None]
                  if np.ndim(v) else s.dtype.type(v) for v in (atol, rtol))
    cutoff = np.maximum(atol, rtol * smax)
    keep = s > cutoff
    sinv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0).astype(x.dtype)
    if u.dtype.kind == "c":                             # V S^+ U^H
        u, vh = np.conj(u), np.conj(vh)
    return np.matmul(np.swapaxes(vh, -1, -2) * sinv[..., None, :], np.swapaxes(u, -1, -2))


def _pinv_vjp(g: Any, ans: Any, x: Any, atol: Any = 0.0, rtol: Any = None,
              hermitian: bool = False) -> Any:
    # Golub & Pereyra (1973), for inputs of constant rank; PyTorch's pinv_backward
    # (conjugate transposes: the transposes for real inputs).
    p, ph, gh = ans, _mH(ans), _mH(g)
    if x.shape[-2] <= x.shape[-1]:
        k = matmul_p(gh, p)
        kph = matmul_p(k, ph)
        return (-_mH(matmul_p(p, k)) + kph - matmul_p(matmul_p(x, p), kph)
                + matmul_p(matmul_p(ph, p), gh - matmul_p(k, x)))
    k = matmul_p(p, gh)
    phk = matmul_p(ph, k)
    return (-_mH(matmul_p(k, p)) + matmul_p(matmul_p(gh - matmul_p(x, k), p), ph) + phk
            - matmul_p(matmul_p(phk, p), x))


pinv_p = defop("pinv", _pinv_impl, vjp=_pinv_vjp, save_ans=True, names="LinalgPinvBackward0")


# --- lstsq's solution ``pinv(A) @ B`` as one node (PyTorch's LinalgLstsqBackward0) -----------
# NOTE: the rules are pinv's (constant rank, as PyTorch's lstsq backward) and the product's;
# B may be one vector (its 1-D product).
def _lstsq_impl(a: np.ndarray, b: np.ndarray, rtol: Any = None) -> np.ndarray:
    return _matmul_impl(_pinv_impl(a, 0.0, rtol), b)


def _lstsq_vjp_a(g: Any, ans: Any, a: Any, b: Any, rtol: Any = None) -> Any:
    p = pinv_p(a, atol=0.0, rtol=rtol, hermitian=False)
    return _pinv_vjp(_matmul_vjp_x(g, None, p, b), p, a, 0.0, rtol)


def _lstsq_vjp_b(g: Any, ans: Any, a: Any, b: Any, rtol: Any = None) -> Any:
    return _matmul_vjp_y(g, None, pinv_p(a, atol=0.0, rtol=rtol, hermitian=False), b)


lstsq_p = defop("lstsq", _lstsq_impl, vjp=(_lstsq_vjp_a, _lstsq_vjp_b), promote="same",
                names="LinalgLstsqBackward0")


# --- triangular solves, LU, matrix exponential ----------------------------------------------
def _triangle(a: Any, upper: bool, unit: bool) -> Any:
    """The triangle of ``a`` that a triangular solve reads (strict when ``unit``)."""
    k = (1 if upper else -1) if unit else 0
    return triu_p(a, diagonal=k) if upper else tril_p(a, diagonal=k)


def _trisolve_impl(a: np.ndarray, b: np.ndarray, upper: bool = False,
                   unitriangular: bool = False) -> np.ndarray:
    # NOTE: substitution, row by row (vectorized over batch and columns): like LAPACK's trtrs
    # a zero diagonal gives inf/nan instead of an error, as in PyTorch.
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    n = a.shape[-1]
    rows: list[Any] = [None] * n
    order = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in order:
            r = b[..., i, :]
            lo, hi = (i + 1, n) if upper else (0, i)
            if hi > lo:
                done = np.stack(rows[lo:hi], axis=-2)
                r = r - np.matmul(a[..., i:i + 1, lo:hi], done)[..., 0, :]
            if not unitriangular:
                r = r / a[..., i, i][..., None]
            rows[i] = r
    if not n:
        return np.broadcast_to(b, batch + b.shape[-2:]) * 1
    x = np.stack(rows, axis=-2)
    return x.astype(np.result_type(a.dtype, b.dtype), copy=False)


def _trisolve_vjp(g: Any, ans: Any, a: Any, b: Any, upper: bool = False,
                  unitriangular: bool = False) -> tuple[Any, Any]:
    gb = trisolve_p(_mH(a), g, upper=not upper, unitriangular=unitriangular)    # A^-H g
    return _triangle(-matmul_p(gb, _mH(ans)), upper, unitriangular), gb


def _trisolve_jvp_a(t: Any, ans: Any, a: Any, b: Any, upper: bool = False,
                    unitriangular: bool = False) -> Any:
    return -trisolve_p(a, matmul_p(_triangle(t, upper, unitriangular), ans), upper=upper,
                       unitriangular=unitriangular)


def _trisolve_jvp_b(t: Any, ans: Any, a: Any, b: Any, upper: bool = False,
                    unitriangular: bool = False) -> Any:
    return trisolve_p(a, t, upper=upper, unitriangular=unitriangular)


trisolve_p = defop("solve_triangular", _trisolve_impl, vjp_all=_trisolve_vjp, save_ans=True,
                   jvp=(_trisolve_jvp_a, _trisolve_jvp_b), promote="same",
                   names="LinalgSolveTriangularBackward0")


def _pivot_size(col: np.ndarray) -> np.ndarray:
    """How LAPACK's getrf ranks pivot candidates (i?amax): ``|x|``, for complex ``x`` the cheaper
    ``|Re x| + |Im x|``, which can pick another row than the modulus would."""
    return np.abs(col.real) + np.abs(col.imag) if col.dtype.kind == "c" else np.abs(col)


def _lu_steps(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LU with partial pivoting (LAPACK getrf's choices): the packed factors, the row order
    ``perm`` (``A[perm] = L U``) and the 1-based LAPACK pivots."""
    a = a.astype(a.dtype, copy=True)
    m, n = a.shape[-2:]
    k = min(m, n)
    idx0 = np.broadcast_to(_arange(m, a), a.shape[:-1])
    perm = idx0 * 1
    pivots = []
    for j in range(k):
        p = j + np.argmax(_pivot_size(a[..., j:, j]), axis=-1)
        pivots.append(p + 1)
        swap = np.where(idx0 == j, p[..., None], np.where(idx0 == p[..., None], j, idx0))
        a = np.take_along_axis(a, swap[..., None], axis=-2)
        perm = np.take_along_axis(perm, swap, axis=-1)
        piv = a[..., j, j]
        col = a[..., j + 1:, j] / np.where(piv == 0, 1, piv)[..., None]
        a[..., j + 1:, j] = col
        a[..., j + 1:, j + 1:] -= col[..., :, None] * a[..., j:j + 1, j + 1:]
    piv_arr = np.stack(pivots, axis=-1) if pivots else _zeros(a.shape[:-2] + (0,), np.int64, a)
    return a, perm, piv_arr.astype(np.int32)


def _lu_unpack(packed: np.ndarray, perm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = packed.shape[-2:]
    k = min(m, n)
    eye = _eye(m, k, packed.dtype, packed)
    low = np.tril(packed[..., :, :k], -1) + eye
    up = np.triu(packed[..., :k, :])
    pt = _eye(m, m, packed.dtype, packed)[perm]                   # P^T: rows of I in A's order
    return np.swapaxes(pt, -1, -2), low, up


def _lu_impl(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    packed, perm, _ = _lu_steps(a)
    return _lu_unpack(packed, perm)


def _lu_square_grad(gl: Any, gu: Any, low: Any, up: Any) -> Any:
    # PyTorch's linalg_lu_backward (m == n): P^T gA = L^-H [tril(L^H gL, -1) + triu(gU U^H)] U^-H
    # (conjugate transposes: the transposes for real inputs)
    inner = tril_p(matmul_p(_mH(low), gl), diagonal=-1) + triu_p(matmul_p(gu, _mH(up)))
    inner = _mH(trisolve_p(up, _mH(inner), upper=True))                      # inner U^-H
    return trisolve_p(_mH(low), inner, upper=True, unitriangular=True)      # L^-H inner


def _lu_vjp(g: Any, ans: Any, x: Any) -> tuple[Any]:
    _, gl, gu = g
    p, low, up = ans
    m, n = x.shape[-2], x.shape[-1]
    nd = len(x.shape)
    if m == n:
        return (matmul_p(p, _lu_square_grad(gl, gu, low, up)),)
    if m < n:
        # A = P L [U1 | U2]: U2 = L^-1 P^T A2 also moves with L.
        u1, u2 = _cols(up, m), getitem_p(up, index=(Ellipsis, slice(m, None)))
        gu1, gu2 = _cols(gu, m), getitem_p(gu, index=(Ellipsis, slice(m, None)))
        lgu2 = trisolve_p(_mH(low), gu2, upper=True, unitriangular=True)    # L^-H gU2
        top = _lu_square_grad(gl - matmul_p(lgu2, _mH(u2)), gu1, low, u1)
        return (matmul_p(p, cat_p(top, lgu2, dim=nd - 1)),)
    # A = P [L1; L2] U: L2 = (P^T A)_2 U^-1 also moves with U.
    l1, l2 = _rows(low, n), getitem_p(low, index=(Ellipsis, slice(n, None), slice(None)))
    gl1, gl2 = _rows(gl, n), getitem_p(gl, index=(Ellipsis, slice(n, None), slice(None)))
    gl2u = _mH(trisolve_p(up, _mH(gl2), upper=True))                         # gL2 U^-H
    top = _lu_square_grad(gl1, gu - matmul_p(_mH(l2), gl2u), l1, up)
    return (matmul_p(p, cat_p(top, gl2u, dim=nd - 2)),)


lu_p = defop("lu", _lu_impl, vjp_all=_lu_vjp, n_out=3, save_inputs=False, names="LinalgLuBackward0")


_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)


def _expm_impl(a: np.ndarray) -> np.ndarray:
    """Scaling and squaring with the [13/13] Pade approximant (Higham 2005), in float64
    (complex128 for complex inputs)."""
    x = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    n = x.shape[-1]
    if not n or not x.size:
        return a * 1
    norm1 = np.abs(x).sum(axis=-2).max(axis=-1)
    with np.errstate(divide="ignore"):
        s = np.maximum(0, np.ceil(np.log2(norm1 / 5.371920351148152)))
    s = np.where(np.isfinite(s), s, 0).astype(np.int64)
    x = x / (2.0 ** s)[..., None, None]
    b = _PADE13
    eye = _eye(n, n, x.dtype, x)
    x2 = np.matmul(x, x)
    x4 = np.matmul(x2, x2)
    x6 = np.matmul(x4, x2)
    u = np.matmul(x, np.matmul(x6, b[13] * x6 + b[11] * x4 + b[9] * x2)
                  + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    v = (np.matmul(x6, b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4
         + b[2] * x2 + b[0] * eye)
    r = np.linalg.solve(v - u, v + u)
    steps = int(s.max()) if s.size else 0
    for i in range(steps):
        r = np.where((s > i)[..., None, None], np.matmul(r, r), r)
    return r.astype(a.dtype, copy=False)


def _expm_block(a: Any, t: Any) -> Any:
    """The top-right block of ``exp([[a, t], [0, a]])``: the derivative of ``exp`` at ``a`` in
    the direction ``t`` (Mathias 1996)."""
    n, nd = a.shape[-1], len(t.shape)
    shape = tuple(t.shape)
    a = expand_p(a, shape=shape) if tuple(a.shape) != shape else a
    zero = _constant(_zeros(shape, _dtype_of(t), data_of(t)), t)
    big = cat_p(cat_p(a, t, dim=nd - 1), cat_p(zero, a, dim=nd - 1), dim=nd - 2)
    return getitem_p(expm_p(big), index=(Ellipsis, slice(0, n), slice(n, None)))


# NOTE: exp has real Taylor coefficients, so the adjoint of its derivative at A is its
# derivative at A^H (A^T for real inputs)
expm_p = defop("matrix_exp", _expm_impl, vjp=lambda g, ans, a: _expm_block(_mH(a), g),
               jvp=lambda t, ans, a: _expm_block(a, t), names="LinalgMatrixExpBackward0")


# --- on lazy (Dask) arrays -----------------------------------------------------------------
for _fn in (inv_p, det_p, slogdet_p, solve_p, cholesky_p, cholesky_upper_p, qr_p, geqrf_p, eigh_p, eig_p,
            svd_p, pinv_p, lstsq_p, trisolve_p, lu_p, expm_p, ldl_factor_p, ldl_solve_p):
    not_lazy(_fn, False, "is a dense decomposition (Dask's linear algebra covers only some "
             "2-D cases)")


# --- cross product as one node (PyTorch's LinalgCrossBackward0) ------------------------------
# NOTE: bilinear; <a x b, g> = <b x g, a> = <g x a, b>, so the rules are the row again.
def _cross_impl(a: np.ndarray, b: np.ndarray, dim: int) -> np.ndarray:
    if type(a) is np.ndarray and type(b) is np.ndarray:
        return np.cross(a, b, axis=dim)
    # NOTE: other array libraries (Dask) lack np.cross: the three components written out
    (a0, a1, a2), (b0, b1, b2) = np.moveaxis(a, dim, 0), np.moveaxis(b, dim, 0)
    return np.moveaxis(np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]), 0, dim)


linalg_cross_p = defop(
    "linalg_cross", _cross_impl,
    vjp=(lambda g, ans, a, b, dim: linalg_cross_p(_cj(b), g, dim=dim),
         lambda g, ans, a, b, dim: linalg_cross_p(g, _cj(a), dim=dim)),
    jvp=(lambda t, ans, a, b, dim: linalg_cross_p(t, b, dim=dim),
         lambda t, ans, a, b, dim: linalg_cross_p(a, t, dim=dim)),
    promote="same", names="LinalgCrossBackward0")


# --- vdot: sum(conj(x) * y) of two vectors (PyTorch's VdotBackward0) ---------------------------
vdot_p = defop(
    "vdot", lambda x, y: np.asarray(np.vdot(x, y)) if type(x) is np.ndarray and type(y) is np.ndarray
    else (np.conj(x) * y).sum(),
    vjp=(lambda g, ans, x, y: _cj(g) * y, lambda g, ans, x, y: g * x),
    jvp=(lambda t, ans, x, y: vdot_p(t, y), lambda t, ans, x, y: vdot_p(x, t)),
    promote="same", names="VdotBackward0")
