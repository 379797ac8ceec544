"""Reductions: sum, mean, prod, max/min (full, per-dim, amax/amin), logsumexp, var/std,
norm, cumulative sums and products, and the non-differentiable argmax/all/any.

Rules bring the gradient back to the input's shape with ``_unreduce`` (put
the reduced dims back as size 1, then expand).
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from gradkit._core.backend import as_data, data_of, max_or_ninf, values_unknown
from gradkit._core.backend import ones as _ones
from gradkit._core.backend import zeros as _zeros
from gradkit._core.grad_mode import _state
from ._registry import LINEAR, bf16_rules, defop, half_in_float32, not_lazy, op, round_bf16, uint_rows
from .elementwise import abs as _abs
from .elementwise import _cj, eq, exp, isnan, log, sign, where
from .shape import UNSQUEEZE, VIEW, expand_p, flip_p, reshape_as, to_p


def _axis(dim: Any, x: np.ndarray) -> Any:
    # NOTE: a 0-d tensor accepts dim 0 (or -1), as in PyTorch; NumPy wants no axis there.
    return None if dim is None or x.ndim == 0 else tuple(dim)


def _keep_shape(shape: tuple[int, ...], dim: Any) -> tuple[int, ...]:
    if dim is None:
        return (1,) * len(shape)
    return tuple(1 if i in dim else s for i, s in enumerate(shape))


def _unreduce(g: Any, shape: tuple[int, ...], dim: Any, keepdim: bool) -> Any:
    """Expand a reduced gradient back to ``shape``."""
    if not keepdim and dim is None and hasattr(g, "_data"):
        return expand_p(g, shape=tuple(shape))     # as PyTorch: a 0-d gradient expands at once
    if not keepdim:
        # NOTE: PyTorch's rule unsqueezes one reduced dim back (UnsqueezeBackward0 in a double
        # backward, whose own derivative is SqueezeBackward1)
        one = dim is not None and len(dim) == 1 and hasattr(g, "_data")
        g = reshape_as(g, _keep_shape(tuple(shape), dim), UNSQUEEZE if one else VIEW)
    return expand_p(g, shape=tuple(shape))


def _mask_like(mask: Any, x: Any) -> Any:
    """A boolean mask as 0/1 in ``x``'s dtype (``mask * 1.0`` would be float64)."""
    return to_p(mask, dtype=x._data.dtype if hasattr(x, "_data") else x.dtype)


def _const(value: np.ndarray, like: Any) -> Any:
    """``value`` as a constant of the same kind as ``like`` (Tensor or array)."""
    if hasattr(like, "_data"):
        from gradkit._core.tensor import _make
        return _make(value, False, None)
    return value


def _weighted_sum_jvp(vjp: Any) -> Any:
    """The JVP of a reduction whose VJP is ``unreduce(g) * F(x)``: ``sum(t * F(x))`` over the dims.

    ``F`` is read off the VJP rule with ``g = 1``, so each row keeps one formula (and its NOTEs
    on ties, zeros and kinks) for both modes.
    """
    def jvp(t: Any, ans: Any, x: Any, **params: Any) -> Any:
        a = data_of(ans)
        ones = _const(_ones(a.shape, a.dtype, a), ans)
        weight = vjp(ones, ans, x, **params)
        if data_of(x).dtype.kind == "c":
            # NOTE: the VJP gives conj(df/dz) (PyTorch's convention): a complex output takes
            # t * conj(weight); a real one (var, norm) Re(conj(weight) t).
            from .elementwise import conj, real
            tw = t * conj(weight)
            tw = tw if a.dtype.kind == "c" else real(tw)
            return sum_p(tw, dim=params.get("dim"), keepdim=params.get("keepdim", False))
        return sum_p(t * weight, dim=params.get("dim"), keepdim=params.get("keepdim", False))
    jvp.__name__ = vjp.__name__.replace("vjp", "jvp")
    return jvp


def _count(shape: tuple[int, ...], dim: Any) -> int:
    if dim is None or not shape:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[d] for d in dim], dtype=np.int64))


# --- sum and mean --------------------------------------------------------------------
def _sum_impl(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
    if x.dtype.kind in "bu" or (x.dtype.kind == "i" and x.dtype.itemsize < 8):
        return np.sum(x, axis=_axis(dim, x), keepdims=keepdim, dtype=np.int64)
    return x.sum(axis=_axis(dim, x), keepdims=keepdim)


sum_p = defop("sum", _sum_impl,
              vjp=lambda g, ans, x, dim=None, keepdim=False: _unreduce(g, x.shape, dim, keepdim),
              jvp=LINEAR, save_inputs=False, names=("SumBackward0", "SumBackward1", "NansumBackward0"),
              batch="reduction", batched_vjp="sum")


def _nansum_impl(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
    if x.dtype.kind not in "fcV":
        return _sum_impl(x, dim, keepdim)
    return np.nansum(x, axis=_axis(dim, x), keepdims=keepdim)


# NOTE: one node (PyTorch's NansumBackward0 reads the input itself): a nan entry gets no
# gradient, in both modes
nansum_p = defop(
    "nansum", _nansum_impl,
    vjp=lambda g, ans, x, dim=None, keepdim=False: where(
        isnan(x), 0.0, _unreduce(g, tuple(x.shape), dim, keepdim)),
    jvp=(lambda t, ans, x, dim=None, keepdim=False: sum_p(where(isnan(x), 0.0, t), dim=dim,
                                                          keepdim=keepdim),),
    names="NansumBackward0", promote="same", batch="reduction")


def sum(x: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Polymorphic sum over normalized dims (used by rules and the engine)."""
    from .shape import norm_dims
    nd = norm_dims(dim, np.ndim(x) if not hasattr(x, "ndim") else x.ndim)
    return sum_p(x, dim=nd, keepdim=keepdim)


#: ``sum_p`` over given dims as PyTorch names it (SumBackward1), e.g. for ``sum_to``'s nodes
_sum_dims = op(sum_p.prim, 1)


def sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over broadcast dimensions so that it has ``shape``."""
    shape = tuple(shape)
    if not shape and g.ndim:
        return sum_p(g)                           # SumBackward0, as PyTorch's sum_to
    lead = g.ndim - len(shape)
    if lead < 0:
        return expand_p(g, shape=shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1)
    if dims:
        g = _sum_dims(g, dim=dims, keepdim=True)
    if tuple(g.shape) != shape:
        g = reshape_as(g, shape)
    return g


def _mean_impl(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
    return np.mean(x, axis=_axis(dim, x), keepdims=keepdim)


def _mean_vjp(g: Any, ans: Any, x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    return _unreduce(g, x.shape, dim, keepdim) / builtins.max(_count(x.shape, dim), 1) \
        if _count(x.shape, dim) else _unreduce(g, x.shape, dim, keepdim) * np.nan


mean_p = defop("mean", _mean_impl, vjp=_mean_vjp, jvp=LINEAR, save_inputs=False,
               names=("MeanBackward0", "MeanBackward1"), batch="reduction", batched_vjp="mean")


# --- products --------------------------------------------------------------------------
def _prod_impl(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
    if x.dtype.kind in "bu" or (x.dtype.kind == "i" and x.dtype.itemsize < 8):
        return np.prod(x, axis=_axis(dim, x), keepdims=keepdim, dtype=np.int64)
    return np.prod(x, axis=_axis(dim, x), keepdims=keepdim)


def _exclusive_cumprod(x: Any, dim: int) -> Any:
    """Product of the elements before each position along ``dim`` (exact with zeros)."""
    from .shape import cat_p, getitem_p
    n = x.shape[dim]
    ones_shape = tuple(1 if i == dim else s for i, s in enumerate(x.shape))
    xd = data_of(x)
    head = _ones(ones_shape, xd.dtype, xd)
    if hasattr(x, "_data"):
        from gradkit._core.tensor import _make
        head = _make(head, False, None)
    idx = tuple(slice(None) if i != dim else slice(0, n - 1) for i in range(x.ndim))
    shifted = cat_p(head, getitem_p(x, index=idx), dim=dim)
    return cumprod_p(shifted, dim=dim)


def _prod_others(x: Any, dim: int) -> Any:
    """For each element, the product of all the other elements along ``dim``."""
    if x.shape[dim] == 0:                   # no elements: nothing to multiply
        return x
    left = _exclusive_cumprod(x, dim)
    right = flip_p(_exclusive_cumprod(flip_p(x, dims=(dim,)), dim), dims=(dim,))
    return left * right


def _prod_vjp(g: Any, ans: Any, x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    # NOTE: exact when the input holds zeros: uses products of the other elements,
    # never ans / x.
    if dim is None or x.ndim == 0:
        flat = reshape_as(x, (-1,))
        others = reshape_as(_prod_others(flat, 0), tuple(x.shape))
        return _unreduce(g, x.shape, None, keepdim) * _cj(others)
    return _unreduce(g, x.shape, dim, keepdim) * _cj(_prod_others(x, dim[0]))


prod_p = defop("prod", _prod_impl, vjp=_prod_vjp, jvp=(_weighted_sum_jvp(_prod_vjp),),
               names=("ProdBackward0", "ProdBackward1"), batch="reduction")


def _cumsum_impl(x: np.ndarray, dim: int) -> np.ndarray:
    if x.ndim == 0:                         # a 0-d tensor is its own running sum (PyTorch)
        return x.reshape(1).cumsum(0, dtype=np.int64 if x.dtype.kind in "biu" else None).reshape(())
    if x.dtype.kind in "bu" or (x.dtype.kind == "i" and x.dtype.itemsize < 8):
        return np.cumsum(x, axis=dim, dtype=np.int64)
    if x.dtype == np.float16:
        # NOTE: PyTorch runs a half sum in float32 and rounds each entry once (a float16
        # running sum of 3000 ones sticks at 2048)
        return np.cumsum(x, axis=dim, dtype=np.float32).astype(np.float16) + np.float16(0)
    out = np.cumsum(x, axis=dim)
    if out.dtype.kind == "f":
        # NOTE: PyTorch's running sum starts from +0.0, so a leading -0.0 becomes 0.0.
        out = out + out.dtype.type(0)
    return out


cumsum_p = defop(
    "cumsum", _cumsum_impl,
    vjp=lambda g, ans, x, dim: g if g.ndim == 0 else flip_p(cumsum_p(flip_p(g, dims=(dim,)), dim=dim),
                                                           dims=(dim,)),
    jvp=LINEAR, save_inputs=False, batch="int_dim")


def _logcumsumexp_impl(x: np.ndarray, dim: int) -> np.ndarray:
    if x.ndim == 0:
        return x.copy()
    if type(x) is np.ndarray:
        return np.logaddexp.accumulate(x, axis=dim)
    # NOTE: other array types may lack ufunc.accumulate: shift by the maximum along dim.
    m = max_or_ninf(x, dim)
    m = np.where(np.isfinite(m), m, x.dtype.type(0))
    return np.log(np.cumsum(np.exp(x - m), axis=dim)) + m


def _rev_lcse(v: Any, dim: int) -> Any:
    return flip_p(logcumsumexp_p(flip_p(v, dims=(dim,)), dim=dim), dims=(dim,))


def _logcumsumexp_vjp(g: Any, ans: Any, x: Any, dim: int) -> Any:
    # grad_i = sum_{j >= i} g_j exp(x_i - ans_j), summed in log space for the positive and the
    # negative parts of g separately (no overflow, and -inf inputs get 0 as in PyTorch).
    if g.ndim == 0:
        return g
    lp, ln = _signed_logs(g)
    return exp(x + _rev_lcse(lp - ans, dim)) - exp(x + _rev_lcse(ln - ans, dim))


def _signed_logs(v: Any) -> tuple[Any, Any]:
    # NOTE: a very negative finite stand-in for log(0) = -inf keeps the rule's own derivative
    # finite (a prefix of -inf entries would give -inf - -inf = nan in a double backward).
    pos = v > 0
    neg = v < 0
    return (where(pos, log(where(pos, v, 1.0)), -1e30),
            where(neg, log(where(neg, -v, 1.0)), -1e30))


def _logcumsumexp_jvp(t: Any, ans: Any, x: Any, dim: int) -> Any:
    if t.ndim == 0:
        return t
    lp, ln = _signed_logs(t)
    return (exp(logcumsumexp_p(x + lp, dim=dim) - ans) -
            exp(logcumsumexp_p(x + ln, dim=dim) - ans))


logcumsumexp_p = defop("logcumsumexp", _logcumsumexp_impl, vjp=_logcumsumexp_vjp, save_ans=True,
                       jvp=(_logcumsumexp_jvp,))


def _cumprod_impl(x: np.ndarray, dim: int) -> np.ndarray:
    if x.ndim == 0:
        return x.reshape(1).cumprod(0, dtype=np.int64 if x.dtype.kind in "biu" else None).reshape(())
    if x.dtype.kind in "bu" or (x.dtype.kind == "i" and x.dtype.itemsize < 8):
        return np.cumprod(x, axis=dim, dtype=np.int64)
    if x.dtype == np.float16:           # in float32, as PyTorch (see _cumsum_impl)
        return np.cumprod(x, axis=dim, dtype=np.float32).astype(np.float16)
    return np.cumprod(x, axis=dim)


def _cumprod_vjp(g: Any, ans: Any, x: Any, dim: int) -> Any:
    # d ans_j / d x_k = prod_{i <= j, i != k} x_i for k <= j. Written as a sum over j of
    # exclusive products so that zeros in x are handled exactly (no division).
    from .shape import getitem_p, stack_p
    n = x.shape[dim]
    cols = []
    for k in range(n):
        sel = tuple(slice(None) if i != dim else slice(k, None) for i in range(x.ndim))
        tail = getitem_p(x, index=sel)
        one = tuple(slice(None) if i != dim else slice(0, 1) for i in range(x.ndim))
        rest = tuple(slice(None) if i != dim else slice(1, None) for i in range(x.ndim))
        before = tuple(slice(None) if i != dim else slice(0, k) for i in range(x.ndim))
        prefix = prod_p(getitem_p(x, index=before), dim=(dim,), keepdim=True) if k else 1.0
        ones = getitem_p(tail, index=one) * 0.0 + 1.0
        partial = cumprod_p(_cat2(ones, getitem_p(tail, index=rest), dim), dim=dim)
        gk = getitem_p(g, index=sel)
        cols.append(sum_p(gk * partial * prefix, dim=(dim,), keepdim=False))
    return stack_p(*cols, dim=dim)


def _cat2(a: Any, b: Any, dim: int) -> Any:
    from .shape import cat_p
    return cat_p(a, b, dim=dim)


def _cumprod_vjp_fast(g: Any, ans: Any, x: Any, dim: int) -> Any:
    if data_of(x).dtype.kind == "c" or data_of(g).dtype.kind == "c":
        # NOTE: the formulas below give sum_j g_j d ans_j / d x_k; PyTorch's convention wants the
        # conjugate derivative, i.e. conj(formula(conj(g))).
        return _cj(_cumprod_vjp_holo(_cj(g), ans, x, dim))
    return _cumprod_vjp_holo(g, ans, x, dim)


def _cumprod_vjp_holo(g: Any, ans: Any, x: Any, dim: int) -> Any:
    xd = data_of(x)
    if x.ndim == 0 or x.shape[dim] == 0:
        return g
    if not values_unknown(xd) and np.all(xd != 0):
        rev = flip_p(cumsum_p(flip_p(g * ans, dims=(dim,)), dim=dim), dims=(dim,))
        return rev / x
    return _cumprod_vjp(g, ans, x, dim)


def _cumprod_jvp(t: Any, ans: Any, x: Any, dim: int) -> Any:
    # d ans_j = sum_{k <= j} t_k prod_{i <= j, i != k} x_i = ans_j * cumsum(t / x)_j without zeros.
    xd = data_of(x)
    if x.ndim == 0 or x.shape[dim] == 0:
        return t
    if not values_unknown(xd) and np.all(xd != 0):
        return ans * cumsum_p(t / x, dim=dim)
    # NOTE: exact with zeros: w_k = t_k prod_{i < k} x_i, spread to j >= k by the products
    # of x over (k, j].
    from .shape import cat_p, getitem_p
    w = t * _exclusive_cumprod(x, dim)
    n = x.shape[dim]
    total = None
    for k in range(n):
        at = tuple(slice(None) if i != dim else slice(k, k + 1) for i in range(x.ndim))
        after = tuple(slice(None) if i != dim else slice(k + 1, None) for i in range(x.ndim))
        wk = getitem_p(w, index=at)
        seg = _const(_ones(wk.shape, xd.dtype, xd), x)
        if k + 1 < n:
            seg = cat_p(seg, cumprod_p(getitem_p(x, index=after), dim=dim), dim=dim)
        part = wk * seg
        if k:
            pad = tuple(k if i == dim else s for i, s in enumerate(x.shape))
            part = cat_p(_const(_zeros(pad, xd.dtype, xd), x), part, dim=dim)
        total = part if total is None else total + part
    return total


cumprod_p = defop("cumprod", _cumprod_impl, vjp=_cumprod_vjp_fast, jvp=(_cumprod_jvp,), save_ans=True,
                  batch="int_dim")


# --- max and min -------------------------------------------------------------------------
def _amax_impl(x: np.ndarray, dim: Any = None, keepdim: bool = False,
               nan_share: bool = False) -> np.ndarray:
    _check_nonempty(x, dim, "max")
    return np.amax(x, axis=_axis(dim, x), keepdims=keepdim)


def _amin_impl(x: np.ndarray, dim: Any = None, keepdim: bool = False,
               nan_share: bool = False) -> np.ndarray:
    _check_nonempty(x, dim, "min")
    return np.amin(x, axis=_axis(dim, x), keepdims=keepdim)


def _check_nonempty(x: Any, dim: Any, name: str) -> None:
    """PyTorch's errors for a max/min-like reduction over no elements."""
    if 0 not in tuple(x.shape):
        return
    if dim is None or x.ndim == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                           "== 0. Specify the reduction dim with the 'dim' argument.")
    for d in dim:
        if x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _share_vjp(g: Any, ans: Any, x: Any, dim: Any = None, keepdim: bool = False,
               nan_share: bool = False) -> Any:
    # NOTE: ties share the gradient equally (max of [1, 3, 3] gives [0, .5, .5]), as PyTorch
    # does for full max/min and for amax/amin. A nan result: the full max()/min()
    # (``nan_share``) share it over the nan elements (PyTorch's evenly_distribute_backward);
    # amax/amin find no element equal to nan and give nan everywhere (0/0), as PyTorch does.
    full = _unreduce(ans, x.shape, dim, keepdim)
    if nan_share:
        xd, fd = data_of(x), data_of(full)
        hit = _mask_like((xd == fd) | (np.isnan(xd) & np.isnan(fd)), x)
    else:
        hit = _mask_like(eq(x, full), x)
    count = sum_p(hit, dim=dim, keepdim=True)
    return _unreduce(g, x.shape, dim, keepdim) * hit / count


amax_p = defop("amax", _amax_impl, vjp=_share_vjp, jvp=(_weighted_sum_jvp(_share_vjp),), save_ans=True,
               names=("AmaxBackward0", "MaxBackward1"), batch="reduction")
amin_p = defop("amin", _amin_impl, vjp=_share_vjp, jvp=(_weighted_sum_jvp(_share_vjp),), save_ans=True,
               names=("AminBackward0", "MinBackward1"), batch="reduction")


def _max_dim_impl(x: np.ndarray, dim: int, keepdim: bool = False) -> tuple[np.ndarray, ...]:
    _check_nonempty(x, (dim,), "max")
    if x.ndim == 0:
        return x.copy(), _zeros((), np.int64, x)
    idx = np.argmax(x, axis=dim, keepdims=True)
    val = np.take_along_axis(x, idx, axis=dim)
    return _finish_dim(val, idx, dim, keepdim)


def _min_dim_impl(x: np.ndarray, dim: int, keepdim: bool = False) -> tuple[np.ndarray, ...]:
    _check_nonempty(x, (dim,), "min")
    if x.ndim == 0:
        return x.copy(), _zeros((), np.int64, x)
    idx = np.argmin(x, axis=dim, keepdims=True)
    val = np.take_along_axis(x, idx, axis=dim)
    return _finish_dim(val, idx, dim, keepdim)


def _finish_dim(val: np.ndarray, idx: np.ndarray, dim: int, keepdim: bool) -> tuple[Any, ...]:
    if not keepdim and val.ndim:
        val, idx = np.squeeze(val, dim), np.squeeze(idx, dim)
    return val, idx.astype(np.int64)


def _index_dim_vjp(g: Any, ans: Any, x: Any, dim: int, keepdim: bool = False) -> Any:
    # NOTE: max(dim) sends the whole gradient to the returned index (PyTorch), no tie split.
    from .shape import _gather_vjp
    gv, idx = g[0], ans[1]
    idx_d = idx._data if hasattr(idx, "_data") else idx
    if not keepdim and x.ndim:
        gv = reshape_as(gv, _keep_shape(tuple(x.shape), (dim,)))
        idx_d = np.expand_dims(idx_d, dim)
    if x.ndim == 0:
        return gv
    return _gather_vjp(gv, None, x, dim, idx_d)


def _index_dim_jvp(t: Any, ans: Any, x: Any, dim: int, keepdim: bool = False) -> tuple[Any, None]:
    # The value's tangent is the tangent at the returned index; the index has none.
    from .shape import gather_p
    if x.ndim == 0:
        return t, None
    idx = ans[1]
    idx_d = idx._data if hasattr(idx, "_data") else np.asarray(idx)
    if not keepdim:
        idx_d = np.expand_dims(idx_d, dim)
    val = gather_p(t, dim=dim, index=idx_d)
    return (val if keepdim else reshape_as(val, tuple(ans[0].shape))), None


max_dim_p = defop("max_dim", _max_dim_impl, vjp=_index_dim_vjp, jvp=(_index_dim_jvp,), save_inputs=False,
                  n_out=2, names="MaxBackward0", batch="int_dim")
min_dim_p = defop("min_dim", _min_dim_impl, vjp=_index_dim_vjp, jvp=(_index_dim_jvp,), save_inputs=False,
                  n_out=2, names="MinBackward0", batch="int_dim")


def _median_impl(x: np.ndarray, dim: Any, keepdim: bool = False,
                 k: Any = None) -> tuple[np.ndarray, ...]:
    """Lower median along ``dim`` (all elements when None), or the ``k``-th smallest (kthvalue)."""
    if dim is None:
        # NOTE: the full median's second output is the 0/1 mask of the elements equal to it
        # (its rule splits the gradient over them); median() returns only the value.
        flat = x.reshape(-1)
        if flat.size == 0 or (flat.dtype.kind in "fcV" and np.isnan(flat).any()):
            value = np.full((), np.nan, x.dtype)
            return value, np.isnan(x).astype(np.int64)
        value = np.sort(flat, kind="stable")[(flat.size - 1) // 2].reshape(())
        return value.copy(), (x == value).astype(np.int64)
    if x.ndim == 0:
        return x.copy(), _zeros((), np.int64, x)
    n = x.shape[dim]
    order = np.argsort(x, axis=dim, kind="stable")
    idx = np.take(order, [(n - 1) // 2 if k is None else k - 1], axis=dim)
    if k is None and x.dtype.kind in "fcV":
        # NOTE: a slice holding nan has median nan, at its first nan (PyTorch); kthvalue
        # sorts nan last instead.
        nan = np.isnan(x)
        has = nan.any(axis=dim, keepdims=True)
        if has.any():
            idx = np.where(has, np.argmax(nan, axis=dim, keepdims=True), idx)
    val = np.take_along_axis(x, idx, axis=dim)
    return _finish_dim(val, idx, dim, keepdim)


def _median_vjp(g: Any, ans: Any, x: Any, dim: Any, keepdim: bool = False, k: Any = None) -> Any:
    if dim is None:
        # NOTE: the full median splits its gradient evenly over the elements equal to it
        # (PyTorch's evenly_distribute_backward); median(dim) and kthvalue send it all to the
        # returned index.
        hit = _mask_like(data_of(ans[1]), x)
        count = hit.sum()
        gx = expand_p(reshape_as(g[0], (1,) * x.ndim), shape=tuple(x.shape))
        return gx * (hit / count if count else hit)
    return _index_dim_vjp(g, ans, x, dim, keepdim)


def _median_jvp(t: Any, ans: Any, x: Any, dim: Any, keepdim: bool = False, k: Any = None) -> Any:
    if dim is None:
        hit = _mask_like(data_of(ans[1]), x)
        count = hit.sum()
        return sum_p(t * (hit / count if count else hit), dim=None, keepdim=False), None
    return _index_dim_jvp(t, ans, x, dim, keepdim)


#: variants of median_dim_p: median(dim), kthvalue, full median
KTHVALUE, MEDIAN_ALL = 1, 2
median_dim_p = defop("median_dim", _median_impl, vjp=_median_vjp, jvp=(_median_jvp,), n_out=2,
                     save_inputs=False,
                     names=("MedianBackward1", "KthvalueBackward0", "MedianBackward0"), batch="int_dim")


def _argmax_impl(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
    if dim is None or x.ndim == 0:
        out = np.argmax(x.reshape(-1))
        return as_data(out).astype(np.int64).reshape((1,) * x.ndim if keepdim else ())
    return np.argmax(x, axis=dim, keepdims=keepdim).astype(np.int64)


def _argmin_impl(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
    if dim is None or x.ndim == 0:
        out = np.argmin(x.reshape(-1))
        return as_data(out).astype(np.int64).reshape((1,) * x.ndim if keepdim else ())
    return np.argmin(x, axis=dim, keepdims=keepdim).astype(np.int64)


argmax_p = defop("argmax", _argmax_impl, batch="arg_reduction")
argmin_p = defop("argmin", _argmin_impl, batch="arg_reduction")


def _all_impl(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
    return np.all(x, axis=_axis(dim, x), keepdims=keepdim)


def _any_impl(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
    return np.any(x, axis=_axis(dim, x), keepdims=keepdim)


all_p = defop("all", _all_impl, batch="reduction")
any_p = defop("any", _any_impl, batch="reduction")


# --- fused for stability -------------------------------------------------------------
def _logsumexp_impl(x: np.ndarray, dim: Any, keepdim: bool = False) -> np.ndarray:
    # NOTE: fused primitive (stability): subtract the max before exp.
    m = max_or_ninf(x, _axis(dim, x))
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):      # an empty sum gives log(0) = -inf, as in PyTorch
        out = np.log(np.sum(np.exp(x - m), axis=_axis(dim, x), keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=_axis(dim, x))


def _logsumexp_vjp(g: Any, ans: Any, x: Any, dim: Any, keepdim: bool = False) -> Any:
    return _unreduce(g, x.shape, dim, keepdim) * exp(x - _unreduce(ans, x.shape, dim, keepdim))


logsumexp_p = defop("logsumexp", _logsumexp_impl, vjp=_logsumexp_vjp,
                    jvp=(_weighted_sum_jvp(_logsumexp_vjp),), save_ans=True,
                    batch="reduction", batched_vjp="logsumexp")


def _first(x: Any, dim: Any) -> Any:
    """The first element along the reduced dims (keepdims): a shift that makes identical values
    exactly 0 before the mean is taken."""
    if x.ndim == 0:
        return x
    first = x[tuple(slice(0, 1) if dim is None or i in dim else slice(None)
                    for i in range(x.ndim))]
    if first.dtype.kind == "f":
        # an infinite first element would turn the finite ones into -inf - -inf = nan
        first = np.where(np.isfinite(first), first, first.dtype.type(0))
    return first


@half_in_float32
def _var_impl(x: np.ndarray, dim: Any = None, correction: float = 1,
              keepdim: bool = False) -> np.ndarray:
    # NOTE: two passes over data shifted by its first element (as NumPy's var, plus the
    # shift): identical values give exactly 0, as PyTorch's Welford does. np.var leaves the
    # rounding of sum/n (100 times 0.1 gives 7.8e-34, so std 2.8e-17 and an O(1) gradient).
    n = _count(x.shape, dim)
    ax = _axis(dim, x)
    d = x - _first(x, dim) if n else x
    c = d - np.mean(d, axis=ax, keepdims=True)
    sq = (c.real * c.real + c.imag * c.imag) if c.dtype.kind == "c" else c * c
    with np.errstate(divide="ignore", invalid="ignore"):
        # PyTorch divides by max(0, N - correction): nan (or inf) with no degrees of freedom
        return np.sum(sq, axis=ax, keepdims=keepdim) / sq.dtype.type(builtins.max(n - correction, 0))


def _centered(x: Any, dim: Any) -> Any:
    """``x - mean(x)``, exactly 0 for identical values (shifted first, as ``_var_impl``)."""
    if x.ndim == 0 or _count(tuple(x.shape), dim) == 0:
        return x - mean_p(x, dim=dim, keepdim=True)
    d = x - _const(_first(data_of(x), dim), x)
    return d - mean_p(d, dim=dim, keepdim=True)


def _var_vjp(g: Any, ans: Any, x: Any, dim: Any = None, correction: float = 1,
             keepdim: bool = False) -> Any:
    n = _count(tuple(x.shape), dim)
    centered = _centered(x, dim)
    # NOTE: no degrees of freedom left (n == correction) gives nan, as in PyTorch, not an error.
    scale = 2.0 / (n - correction) if n > correction else math.inf
    return _unreduce(g, x.shape, dim, keepdim) * centered * scale


var_p = defop("var", _var_impl, vjp=_var_vjp, jvp=(_weighted_sum_jvp(_var_vjp),), batch="reduction")


def _var_vjp_bf16(g: Any, ans: Any, x: Any, dim: Any = None, correction: float = 1,
                  keepdim: bool = False) -> Any:
    """PyTorch's formula on bfloat16, ``(2 / dof * g) * (x - x.mean())``, each tensor op's result
    (the mean included) rounded to bfloat16."""
    n = _count(tuple(x.shape), dim)
    scale = 2.0 / (n - correction) if n > correction else math.inf
    centered = round_bf16(x - round_bf16(mean_p(x, dim=dim, keepdim=True)))
    return round_bf16(_unreduce(g, x.shape, dim, keepdim) * scale) * centered


bf16_rules(var_p, vjp=(_var_vjp_bf16,))


def _std_impl(x: np.ndarray, dim: Any = None, correction: float = 1,
              keepdim: bool = False) -> np.ndarray:
    return np.sqrt(_var_impl(x, dim, correction, keepdim))


def _std_vjp(g: Any, ans: Any, x: Any, dim: Any = None, correction: float = 1,
             keepdim: bool = False) -> Any:
    n = _count(tuple(x.shape), dim)
    centered = _centered(x, dim)
    full = _unreduce(ans, x.shape, dim, keepdim)
    zero = full == 0
    # NOTE: where the std is 0 the gradient is 0, as in PyTorch (masked_fill(result == 0, 0)).
    # The denominator is made safe there too, so the rule's own derivative (a Hessian-vector
    # product at a constant column) is 0, not 0 * inf = nan.
    denom = where(zero, 1.0, full) * builtins.max(n - correction, 0)
    return where(zero, 0.0, _unreduce(g, x.shape, dim, keepdim) * centered / denom)


std_p = defop("std", _std_impl, vjp=_std_vjp, jvp=(_weighted_sum_jvp(_std_vjp),), save_ans=True,
              batch="reduction")


_std_jvp = _weighted_sum_jvp(_std_vjp)
_var_jvp = _weighted_sum_jvp(_var_vjp)


def _stat_mean_impl(x: np.ndarray, dim: Any = None, correction: float = 1, keepdim: bool = False,
                    std: bool = True) -> tuple[np.ndarray, np.ndarray]:
    stat = (_std_impl if std else _var_impl)(x, dim, correction, keepdim)
    return stat, _mean_impl(x, dim, keepdim)


def _stat_mean_vjp(g: Any, ans: Any, x: Any, dim: Any = None, correction: float = 1,
                   keepdim: bool = False, std: bool = True) -> Any:
    rule = _std_vjp if std else _var_vjp
    return rule(g[0], ans[0], x, dim, correction, keepdim) + _mean_vjp(g[1], None, x, dim, keepdim)


def _stat_mean_jvp(t: Any, ans: Any, x: Any, dim: Any = None, correction: float = 1,
                   keepdim: bool = False, std: bool = True) -> Any:
    rule = _std_jvp if std else _var_jvp
    return (rule(t, ans[0], x, dim=dim, correction=correction, keepdim=keepdim),
            mean_p(t, dim=dim, keepdim=keepdim))


# NOTE: std_mean/var_mean are one node with two outputs (StdMeanBackward0/VarMeanBackward0), as in
# PyTorch; variant 0 goes with std=True, variant 1 with std=False.
std_mean_p = defop("std_mean", _stat_mean_impl, jvp=(_stat_mean_jvp,), n_out=2,
                   vjp_all=lambda g, ans, x, **params: (_stat_mean_vjp(g, ans, x, **params),),
                   names=("StdMeanBackward0", "VarMeanBackward0"))


@half_in_float32
def _norm_impl(x: np.ndarray, ord: float = 2.0, dim: Any = None, keepdim: bool = False) -> np.ndarray:
    a = np.abs(x)
    ax = _axis(dim, x)
    if ord == 2:
        return np.sqrt(np.sum(a * a, axis=ax, keepdims=keepdim))
    if ord in (np.inf, -np.inf):
        if 0 in (a.shape if ax is None else [a.shape[i] for i in ax]):
            # NOTE: PyTorch's error (a max over nothing has no identity; 0 was returned)
            raise RuntimeError(f"linalg.vector_norm cannot compute the {'' if ord > 0 else '-'}inf "
                               "norm on an empty tensor because the operation does not have an "
                               "identity")
        return (np.amax if ord > 0 else np.amin)(a, axis=ax, keepdims=keepdim)
    if ord == 0:
        return np.sum(a != 0, axis=ax, keepdims=keepdim).astype(x.dtype)
    if ord == 1:
        return np.sum(a, axis=ax, keepdims=keepdim)
    return np.sum(a ** ord, axis=ax, keepdims=keepdim) ** (1.0 / ord)


def _norm_vjp(g: Any, ans: Any, x: Any, ord: float = 2.0, dim: Any = None,
              keepdim: bool = False) -> Any:
    gx = _unreduce(g, x.shape, dim, keepdim)
    full = _unreduce(ans, x.shape, dim, keepdim)
    if ord == 0:
        # NOTE: the count of nonzeros has no gradient: None, as PyTorch's undefined gradient
        # (x.grad stays None); forward mode gives a zero tangent, as PyTorch's does.
        return None
    if ord == 1:
        return gx * sign(x)
    if ord == 2:
        # NOTE: the gradient of the norm at the zero vector is 0 (PyTorch, and the minimum-norm
        # subgradient), not nan; JAX's convention gives nan (set_subgradient_convention).
        if _state.subgradient == "jax":
            return gx * x / full
        return where(full == 0, 0.0, gx * x / full)
    if ord in (np.inf, -np.inf):
        a = _abs(x)
        hit = _mask_like(eq(a, full), x)
        count = sum_p(hit, dim=dim, keepdim=True)
        return gx * sign(x) * hit / count
    a = _abs(x)
    scaled = x * a ** (ord - 2.0) / full ** (ord - 1.0)
    # NOTE: zero entries get 0 (for ord < 1 the formula would give 0 * inf), as in PyTorch.
    return where((full == 0) | (x == 0), 0.0, gx * scaled)


def _norm_vjp_bf16(g: Any, ans: Any, x: Any, ord: float = 2.0, dim: Any = None,
                   keepdim: bool = False) -> Any:
    """PyTorch's 2-norm formula on bfloat16, ``(x / norm) * g``, the quotient rounded."""
    if ord != 2 or _state.subgradient == "jax":
        return _norm_vjp(g, ans, x, ord, dim, keepdim)
    full = _unreduce(ans, x.shape, dim, keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = round_bf16(x / full)
    return where(full == 0, 0.0, q * _unreduce(g, x.shape, dim, keepdim))


_norm_jvp_p = _weighted_sum_jvp(_norm_vjp)


def _norm_jvp(t: Any, ans: Any, x: Any, **params: Any) -> Any:
    return None if params.get("ord", 2.0) == 0 else _norm_jvp_p(t, ans, x, **params)


norm_p = defop("norm", _norm_impl, vjp=_norm_vjp, jvp=(_norm_jvp,), save_ans=True,
               names=("LinalgVectorNormBackward0", "NormBackward1"), batch="reduction")
bf16_rules(norm_p, vjp=(_norm_vjp_bf16,))


# --- dist: ``norm(x - y, p)`` as one node (PyTorch's DistBackward0) --------------------------
def _dist_impl(x: np.ndarray, y: np.ndarray, p: float = 2.0) -> np.ndarray:
    return _norm_impl(x - y, ord=p)


def _neg(v: Any) -> Any:
    return None if v is None else -v


# NOTE: the rules are the norm's at x - y (the engine sums a broadcast input's gradient)
dist_p = defop(
    "dist", _dist_impl, save_ans=True, promote="same", names="DistBackward0",
    vjp=(lambda g, ans, x, y, p=2.0: _norm_vjp(g, ans, x - y, ord=p),
         lambda g, ans, x, y, p=2.0: _neg(_norm_vjp(g, ans, x - y, ord=p))),
    jvp=(lambda t, ans, x, y, p=2.0: _norm_jvp(t, ans, x - y, ord=p),
         lambda t, ans, x, y, p=2.0: _neg(_norm_jvp(t, ans, x - y, ord=p))))


# --- cdist: the p-norm distance of each row pair as one node (PyTorch's CdistBackward0) ------
def _pairs(x1: Any, x2: Any) -> Any:
    """``x1[..., :, None, :] - x2[..., None, :, :]`` (arrays or Tensors)."""
    a = reshape_as(x1, tuple(x1.shape[:-1]) + (1, x1.shape[-1]))
    b = reshape_as(x2, tuple(x2.shape[:-2]) + (1,) + tuple(x2.shape[-2:]))
    return a - b


def _cdist_impl(x1: np.ndarray, x2: np.ndarray, p: float = 2.0) -> np.ndarray:
    d = x1[..., :, None, :] - x2[..., None, :, :]
    return _norm_impl(d, ord=p, dim=(d.ndim - 1,))


def _cdist_vjp(g: Any, ans: Any, x1: Any, x2: Any, p: float, side: int) -> Any:
    d = _pairs(x1, x2)
    gd = _norm_vjp(g, ans, d, ord=p, dim=(len(d.shape) - 1,))
    if gd is None:                       # p = 0: a count, gradient 0 (as PyTorch's)
        return (x1 if side == 0 else x2) * 0.0
    # NOTE: at a zero distance the norm's rule gives 0 (PyTorch's cdist convention)
    if side == 0:
        return sum_p(gd, dim=(len(d.shape) - 2,))
    return -sum_p(gd, dim=(len(d.shape) - 3,))


def _cdist_jvp(t: Any, ans: Any, x1: Any, x2: Any, p: float, side: int) -> Any:
    d = _pairs(x1, x2)
    if p == 0:
        return ans * 0.0
    tt = _pairs(t, x2 * 0.0) if side == 0 else _pairs(x1 * 0.0, t)
    return _norm_jvp_p(tt, ans, d, ord=p, dim=(len(d.shape) - 1,))


cdist_p = defop(
    "cdist", _cdist_impl, save_ans=True, promote="same", names="CdistBackward0",
    vjp=(lambda g, ans, x1, x2, p=2.0: _cdist_vjp(g, ans, x1, x2, p, 0),
         lambda g, ans, x1, x2, p=2.0: _cdist_vjp(g, ans, x1, x2, p, 1)),
    jvp=(lambda t, ans, x1, x2, p=2.0: _cdist_jvp(t, ans, x1, x2, p, 0),
         lambda t, ans, x1, x2, p=2.0: _cdist_jvp(t, ans, x1, x2, p, 1)))


# --- pdist: cdist's upper triangle of one matrix with itself (PyTorch's PdistBackward0) -------
def _pdist_rows(x: Any, which: int) -> Any:
    from .shape import getitem_p
    return getitem_p(x, index=(np.triu_indices(x.shape[0], 1)[which],))


def _pdist_impl(x: np.ndarray, p: float = 2.0) -> np.ndarray:
    i, j = np.triu_indices(x.shape[0], 1)
    return _norm_impl(x[i] - x[j], ord=p, dim=(1,))


def _pdist_vjp(g: Any, ans: Any, x: Any, p: float = 2.0) -> Any:
    from .shape import index_backward_p
    d = _pdist_rows(x, 0) - _pdist_rows(x, 1)
    gd = _norm_vjp(g, ans, d, ord=p, dim=(1,))
    if gd is None:                       # p = 0: a count, gradient 0 (as PyTorch's)
        return x * 0.0
    # NOTE: at a zero distance the norm's rule gives 0 (PyTorch's pdist convention)
    i, j = np.triu_indices(x.shape[0], 1)
    shape = tuple(x.shape)
    return index_backward_p(gd, shape=shape, index=(i,)) - index_backward_p(gd, shape=shape, index=(j,))


def _pdist_jvp(t: Any, ans: Any, x: Any, p: float = 2.0) -> Any:
    if p == 0:
        return ans * 0.0
    d = _pdist_rows(x, 0) - _pdist_rows(x, 1)
    return _norm_jvp_p(_pdist_rows(t, 0) - _pdist_rows(t, 1), ans, d, ord=p, dim=(1,))


pdist_p = defop("pdist", _pdist_impl, vjp=_pdist_vjp, jvp=(_pdist_jvp,), save_ans=True,
                names="PdistBackward0")
not_lazy(pdist_p, False, "scatters its gradient to the row pairs with np.add.at")


# --- renorm: slices along dim scaled to a p-norm of at most maxnorm (RenormBackward0) --------
def _renorm_impl(x: np.ndarray, p: float, others: tuple[int, ...], maxnorm: float) -> np.ndarray:
    n = _norm_impl(x, ord=p, dim=others, keepdim=True)
    # a nan norm leaves its slice as is (nan > maxnorm is False), as in PyTorch
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(n > maxnorm, maxnorm / (n + 1e-7), 1.0).astype(x.dtype, copy=False)
    return x * f


def _renorm_vjp(g: Any, ans: Any, x: Any, p: float, others: tuple[int, ...],
                maxnorm: float) -> Any:
    # PyTorch's renorm_backward: the scale's own derivative through the norm included
    n = norm_p(x, ord=p, dim=others, keepdim=True)
    s = sum_p(_cj(x) * g, dim=others, keepdim=True)
    nb = _norm_vjp(s, n, x, ord=p, dim=others, keepdim=True)
    inv = 1.0 / (n + 1e-7)
    return where(n > maxnorm, (inv * maxnorm) * (g - inv * nb), g)


def _renorm_jvp(t: Any, ans: Any, x: Any, p: float, others: tuple[int, ...],
                maxnorm: float) -> Any:
    n = norm_p(x, ord=p, dim=others, keepdim=True)
    dn = _norm_jvp(t, n, x, ord=p, dim=others, keepdim=True)
    inv = 1.0 / (n + 1e-7)
    return where(n > maxnorm, (inv * maxnorm) * (t - x * (inv * dn)), t)


renorm_p = defop("renorm", _renorm_impl, vjp=_renorm_vjp, jvp=(_renorm_jvp,), promote="same",
                 names="RenormBackward0")


# --- aminmax: both extremes from one node (PyTorch's AminmaxBackward0) -----------------------
def _aminmax_impl(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> tuple[Any, Any]:
    return _amin_impl(x, dim, keepdim), _amax_impl(x, dim, keepdim)


def _aminmax_vjp(g: Any, ans: Any, x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    # ties share each extreme's gradient equally, as amin/amax
    parts = [_share_vjp(gi, a, x, dim, keepdim) for gi, a in zip(g, ans) if gi is not None]
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


_share_jvp = _weighted_sum_jvp(_share_vjp)
aminmax_p = defop(
    "aminmax", _aminmax_impl, n_out=2, save_ans=True, names="AminmaxBackward0",
    vjp_all=lambda g, ans, x, dim=None, keepdim=False: (_aminmax_vjp(g, ans, x, dim, keepdim),),
    jvp=(lambda t, ans, x, dim=None, keepdim=False: (
        _share_jvp(t, ans[0], x, dim=dim, keepdim=keepdim),
        _share_jvp(t, ans[1], x, dim=dim, keepdim=keepdim)),))


# --- on lazy (Dask) arrays: rows that would need the values ---------------------------------
for _fn in (max_dim_p, min_dim_p, median_dim_p):
    not_lazy(_fn, False, "picks values with take_along_axis/argsort, which Dask arrays lack")


# on uint16/uint32/uint64 PyTorch sums and multiplies in int64 (its result dtype), and tests all/any
uint_rows(sum_p, prod_p, cumsum_p, how="int64")
uint_rows(all_p, any_p)
