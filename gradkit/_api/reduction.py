"""PyTorch-style reductions (sum, mean, max, var, norm, cumsum, ...), routed to ops/reduction.py.

Part of ``gradkit._api`` (see its docstring); none carries a derivative of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._core.concrete import user_stacklevel
from gradkit._core import dtype as _dtype
from gradkit._core.tensor import Tensor
from gradkit.ops import reduction as R
from gradkit.ops import shape as S
from gradkit.ops._registry import apply, apply1
from gradkit._api.base import (Dims, _dims, _max_ret, _median_ret, _min_ret, _mode_ret, _nanmedian_ret,
                              _scalar_name, _t)
from gradkit._api.pointwise import maximum, minimum, ne, sub
from gradkit._core.autocast import autocast_op

# --- reductions ---------------------------------------------------------------------
def sum(input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dims when None); integer and bool inputs sum as int64."""
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    if dim is None and not keepdim:
        return _as_asked(apply1(R.sum_p.prim, x, _FULL, 0), dtype)
    d = _dims(x, dim)
    return _as_asked(apply1(R.sum_p.prim, x, {"dim": d, "keepdim": keepdim}, 0 if dim is None else 1),
                     dtype)


def _as_asked(out: Tensor, dtype: Any) -> Tensor:
    """The result in the ``dtype=`` asked for: the rows sum integers as int64, PyTorch gives
    ``sum(dtype=int8)`` in int8 (wrapped as it would be accumulating in int8)."""
    if dtype is None or out.dtype == dtype:
        return out
    return out.to(dtype)


_FULL = {"dim": None, "keepdim": False}


def mean(input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Arithmetic mean over ``dim``; needs a floating input as in PyTorch."""
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_scalar_name(x.dtype)}")
    d = _dims(x, dim)
    return apply1(R.mean_p.prim, x, {"dim": d, "keepdim": keepdim}, 0 if dim is None else 1)


def nansum(input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum treating nan as zero; nan entries get no gradient; ``dtype``: the input is cast
    first, as PyTorch's."""
    x = _t(input)
    if dtype is not None:
        to = _dtype.as_dtype(dtype)
        if x.is_floating_point() and not (to.is_floating_point or to.is_complex):
            x = x.masked_fill(x.isnan(), 0)       # nan is skipped, not cast
        x = x.to(to)
    return R.nansum_p(x, dim=_dims(x, dim), keepdim=keepdim)


@autocast_op
def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product over one dim (or all); the gradient is exact when the input holds zeros."""
    x = _t(input)
    if isinstance(dim, (tuple, list)):
        raise _invalid_combination("prod", dim, " * (Tensor input, *, torch.dtype dtype = None)\n"
                                   " * (Tensor input, int dim, bool keepdim = False, *, "
                                   "torch.dtype dtype = None, Tensor out = None)\n")
    if dtype is not None:
        x = x.to(dtype)
    d = None if dim is None else (S.norm_dim(dim, x.ndim),)
    return _as_asked(apply(R.prod_p.prim, (x,), {"dim": d, "keepdim": keepdim},
                           0 if dim is None else 1), dtype)


def _minmax(input: Tensor, dim: Any, keepdim: bool, other: Any, full_prim: Any, dim_prim: Any,
            pair: Any, ret: Any) -> Any:
    x = _t(input)
    if isinstance(dim, Tensor) or (other is not None):
        return pair(x, dim if other is None else other)
    if dim is None:
        params = {"dim": None, "keepdim": False}
        if x._data.dtype.kind in "fV":
            params["nan_share"] = True
        return apply(full_prim.prim, (x,), params, 1)
    name = "max" if dim_prim is R.max_dim_p else "min"
    if isinstance(dim, (tuple, list)):
        raise _invalid_combination(name, dim, " * (Tensor input, *, Tensor out = None)\n"
                                   " * (Tensor input, Tensor other, *, Tensor out = None)\n"
                                   " * (Tensor input, int dim, bool keepdim = False, *, "
                                   "tuple of Tensors out = None)\n")
    d = S.norm_dim(dim, x.ndim)
    R._check_nonempty(x, (d,), name)
    values, indices = dim_prim(x, dim=d, keepdim=keepdim)
    return ret(values, indices)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001
    """Full max (ties share the gradient), ``max(dim)`` -> ``(values, indices)``, or ``max(a, b)``."""
    return _minmax(input, dim, keepdim, other, R.amax_p, R.max_dim_p, maximum, _max_ret)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001
    """Full min (ties share the gradient), ``min(dim)`` -> ``(values, indices)``, or ``min(a, b)``."""
    return _minmax(input, dim, keepdim, other, R.amin_p, R.min_dim_p, minimum, _min_ret)


def amax(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:
    """Max over ``dim`` (all when empty); tied elements share the gradient equally."""
    x = _t(input)
    d = _dims(x, dim)
    R._check_nonempty(x, d, "amax")
    return R.amax_p(x, dim=d, keepdim=keepdim)


def amin(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:
    """Min over ``dim`` (all when empty); tied elements share the gradient equally."""
    x = _t(input)
    d = _dims(x, dim)
    R._check_nonempty(x, d, "amin")
    return R.amin_p(x, dim=d, keepdim=keepdim)


def _int_dim(dim: Any, name: str) -> Any:
    """``dim`` for ops that take a single int, with PyTorch's TypeError otherwise.

    NOTE: PyTorch adds "(position N)" when ``dim`` was passed by position; the keyword form's
    wording is used here.
    """
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return dim


def _invalid_combination(name: str, dim: Any, signatures: str) -> TypeError:
    """PyTorch's argument-parser error for a tuple ``dim`` given to a single-dim reduction.

    NOTE: PyTorch's wording depends on how ``dim`` was passed (``got (Tensor, tuple)`` by
    position, ``got (Tensor, dim=tuple)`` by keyword, ``got (tuple)`` from the method); this
    gives the keyword form of the function, as ``_int_dim`` does.
    """
    return TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                     f"dim={type(dim).__name__}), but expected one of:\n{signatures}")


class _Missing:
    """Default of a required ``dim`` (PyTorch's wording for the TypeError, not Python's)."""

    def __repr__(self) -> str:
        return "<required>"


_NO_DIM: Any = _Missing()


def _required_dim(dim: Any, name: str) -> Any:
    if dim is _NO_DIM:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
    return dim


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Lower median; with ``dim``, ``(values, indices)``.

    The full median splits its gradient evenly over the elements equal to it; ``median(dim)``
    sends it to the returned index (both as in PyTorch).
    """
    x = _t(input)
    if dim is None:
        return apply(R.median_dim_p.prim, (x,), {"dim": None, "keepdim": False}, R.MEDIAN_ALL)[0]
    d = S.norm_dim(_int_dim(dim, "median"), x.ndim)
    R._check_nonempty(x, (d,), "median")
    v, i = R.median_dim_p(x, dim=d, keepdim=keepdim)
    return _median_ret(v, i)


def _arg_extreme(prim: Any, name: str, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    x = _t(input)
    if x._data.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    d = None if dim is None else S.norm_dim(_int_dim(dim, name), x.ndim)
    if x.numel() == 0:
        if d is None or x.ndim == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        if x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return prim(x, dim=d, keepdim=keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg_extreme(R.argmax_p, "argmax", input, dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg_extreme(R.argmin_p, "argmin", input, dim, keepdim)


def all(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    x = _t(input)
    if _no_dims(dim):
        # NOTE: PyTorch's all/any over an empty dim list reduce nothing (elementwise bool),
        # unlike sum/mean/std/var, which reduce over every dim.
        return _uint8_kept(x, ne(x, 0))
    return _uint8_kept(x, R.all_p(x, dim=_dims(x, dim), keepdim=keepdim))


def any(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    x = _t(input)
    if _no_dims(dim):
        return _uint8_kept(x, ne(x, 0))
    return _uint8_kept(x, R.any_p(x, dim=_dims(x, dim), keepdim=keepdim))


def _uint8_kept(x: Tensor, out: Tensor) -> Tensor:
    """PyTorch's all/any of a uint8 tensor answer in uint8 (0 or 1), a legacy it keeps."""
    return out.to(x.dtype) if x._data.dtype == np.uint8 else out


def _no_dims(dim: Any) -> bool:
    return isinstance(dim, (tuple, list)) and len(dim) == 0


def logsumexp(input: Tensor, dim: Dims, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input), dim))`` computed stably (a fused primitive)."""
    x = _t(input)
    if x.is_complex():
        return _complex_logsumexp(x, dim, keepdim)
    if not x.is_floating_point():
        x = x.to(_dtype.get_default_dtype())
    if _no_dims(dim) and x.ndim and x.numel() and not keepdim:
        # NOTE: PyTorch 2.13 reduces over every dim for dim=[] but then fails to write the
        # kept-dims result into its 0-d output; keepdim=True works. Same error here.
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape "
                           f"[{', '.join(['1'] * x.ndim)}]")
    return R.logsumexp_p(x, dim=_dims(x, dim), keepdim=keepdim)


def _complex_logsumexp(x: Tensor, dim: Dims, keepdim: bool) -> Tensor:
    """Complex inputs (it used to cast them to real): ``m + log(sum(exp(x - m)))`` with ``m``
    the largest real part, held constant, as PyTorch computes it."""
    dims = _dims(x, dim)
    m = x.real.detach().amax(dim=dims, keepdim=True)
    m = m.masked_fill(~m.isfinite(), 0.0)
    out = (x - m).exp().sum(dim=dims, keepdim=True).log() + m
    return out if keepdim else out.squeeze(dims if dims is not None else tuple(range(x.ndim)))


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None:
        return correction
    if isinstance(unbiased, bool) or unbiased is None:
        return 1 if unbiased in (None, True) else 0
    return 1


def _std_var_input(input: Any) -> Tensor:
    x = _t(input)
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return x


def var(input: Tensor, dim: Dims = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (1 unless told otherwise)."""
    x = _std_var_input(input)
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return R.var_p(x, dim=_dims(x, dim), correction=_correction(unbiased, correction),
                   keepdim=keepdim)


def std(input: Tensor, dim: Dims = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Standard deviation over ``dim`` with Bessel's ``correction`` (1 unless told otherwise)."""
    x = _std_var_input(input)
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return R.std_p(x, dim=_dims(x, dim), correction=_correction(unbiased, correction),
                   keepdim=keepdim)


def _stat_mean(input: Tensor, dim: Dims, unbiased: Any, keepdim: bool, correction: Any,
               std: bool) -> tuple[Tensor, Tensor]:
    x = _t(input)
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError(f"{'std' if std else 'var'}_mean only support floating point and "
                           "complex dtypes")
    params = {"dim": _dims(x, dim), "correction": _correction(unbiased, correction),
              "keepdim": keepdim, "std": std}
    return tuple(apply(R.std_mean_p.prim, (x,), params, 0 if std else 1))  # type: ignore[return-value]


def var_mean(input: Tensor, dim: Dims = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over ``dim``, one node with two outputs (VarMeanBackward0)."""
    return _stat_mean(input, dim, unbiased, keepdim, correction, False)


def std_mean(input: Tensor, dim: Dims = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over ``dim``, one node with two outputs (StdMeanBackward0)."""
    return _stat_mean(input, dim, unbiased, keepdim, correction, True)


def _vector_norm_input(input: Any) -> Tensor:
    x = _t(input)
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_scalar_name(x.dtype)}")
    return x


def norm(input: Tensor, p: Any = "fro", dim: Dims = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default); the 2-norm of zeros has gradient 0."""
    x = _vector_norm_input(input)
    if dtype is not None:
        x = x.to(dtype)
    if p in ("fro", None):
        p = 2.0
    if p == "nuc":
        raise NotImplementedError("the nuclear norm is not supported yet")
    return R.norm_p(x, ord=float(p), dim=_dims(x, dim), keepdim=keepdim)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    x, y = _t(input), _t(other)
    if not isinstance(p, (int, float)) or isinstance(p, bool):
        return norm(sub(x, y), p)
    S.broadcast_shapes(tuple(x.shape), tuple(y.shape))      # PyTorch's error for a mismatch
    return R.dist_p(x, y, p=float(p))      # PyTorch's node: one DistBackward0


def cumsum(input: Tensor, dim: int = _NO_DIM, *, dtype: Any = None) -> Tensor:
    x = _t(input)
    dim = _required_dim(dim, "cumsum")
    if dtype is not None:
        x = x.to(dtype)
    return _as_asked(R.cumsum_p(x, dim=S.norm_dim(_int_dim(dim, "cumsum"), x.ndim)), dtype)


def cumprod(input: Tensor, dim: int = _NO_DIM, *, dtype: Any = None) -> Tensor:
    x = _t(input)
    dim = _required_dim(dim, "cumprod")
    if dtype is not None:
        x = x.to(dtype)
    return _as_asked(R.cumprod_p(x, dim=S.norm_dim(_int_dim(dim, "cumprod"), x.ndim)), dtype)


# --- quantiles ----------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str,
              ignore_nan: bool) -> Tensor:
    """PyTorch's quantile: sort the slice (nan last), take the rank ``q * (n - 1)`` among the
    valid values and interpolate between its neighbours. Composed of sort, gather and lerp,
    so the gradient goes to the one or two elements each quantile reads."""
    from gradkit._api.indexing import gather, sort
    from gradkit._api.shape import movedim, reshape, squeeze, unsqueeze
    from gradkit._api.special import lerp
    from gradkit._core.tensor import _make

    name = "quantile"                   # PyTorch's messages say quantile() for nanquantile too
    x = _t(input)
    if x.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype is not x.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        qs = np.asarray(q.detach().numpy(), np.float64).reshape(-1)
        one_q = q.ndim == 0
    else:
        qs = np.asarray([float(q)])
        one_q = True
    if x.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    q_tensor = isinstance(q, Tensor)
    for v in qs:
        if not 0 <= v <= 1:
            if q_tensor:                       # PyTorch words a tensor q's check without the value
                raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {v:g}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint "
                           f"or nearest, but got {interpolation}")
    if dim is None:
        rows = reshape(x, (-1,))
    else:
        d = S.norm_dim(_int_dim(dim, name), x.ndim)
        rows = movedim(x, d, -1) if x.ndim else reshape(x, (1,))
    s = sort(rows, dim=-1)[0]                                     # nan sorts last
    n = s.shape[-1]
    nan = np.isnan(s.detach().numpy())
    valid = (n - nan.sum(-1, keepdims=True)) if ignore_nan else np.full(nan.shape[:-1] + (1,), n)
    rank = qs * (valid - 1)                                      # (..., Q)
    # a slice holding nan (quantile) or only nan (nanquantile): its last element, nan
    broken = (valid == 0) if ignore_nan else nan.any(-1, keepdims=True)
    rank = np.where(broken, n - 1, rank)
    lo, hi = np.floor(rank), np.ceil(rank)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(rank)                                 # half to even, as PyTorch
    lo_v = gather(s, -1, _make(lo.astype(np.int64), False, None))
    if interpolation in ("lower", "higher", "nearest"):
        out = lo_v
    else:
        hi_v = gather(s, -1, _make(hi.astype(np.int64), False, None))
        w = np.full(rank.shape, 0.5) if interpolation == "midpoint" else rank - lo
        out = lerp(lo_v, hi_v, _make(w.astype(s._data.dtype), False, None))
    out = movedim(out, -1, 0)                                    # the q dim first
    if keepdim:
        if dim is None:
            out = reshape(out, (out.shape[0],) + (1,) * x.ndim)
        elif x.ndim:
            out = unsqueeze(out, d + 1)
    return squeeze(out, 0) if one_q else out


def cov(input: Tensor, *, correction: int = 1, fweights: Any = None,
        aweights: Any = None) -> Tensor:
    """Covariance of the variables in the rows of ``input`` (columns are observations), with
    frequency and importance weights as ``torch.cov`` (a composite: its gradient follows)."""
    x = _t(input)
    if x.ndim > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {x.ndim} dimensions")
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(_dtype.get_default_dtype())
    x = x.reshape(1, -1) if x.ndim < 2 else x
    n_obs = x.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        wt = _t(wt)
        if wt.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                               f"{name} with {wt.ndim} dimensions")
        integral = not (wt.is_floating_point() or wt.is_complex())
        if (name == "fweights") != integral:
            kind = "integral" if name == "fweights" else "floating point"
            raise RuntimeError(f"cov(): expected {name} to have {kind} dtype but got {name} "
                               f"with {_scalar_name(wt.dtype)} dtype")
        if wt.numel() != n_obs:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                               f"observations in the input but got {wt.numel()} != {n_obs}")
        if bool((wt < 0).any()):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        w = wt if w is None else w * wt
    w_sum = w.sum() if w is not None else n_obs
    avg = (x * w if w is not None else x).sum(1) / w_sum
    if w is None:
        norm_factor: Any = w_sum - correction
    elif correction == 0:
        norm_factor = w_sum
    elif aweights is None:
        norm_factor = w_sum - correction
    else:
        norm_factor = w_sum - correction * (w * _t(aweights)).sum() / w_sum
    if float(norm_factor.detach() if isinstance(norm_factor, Tensor) else norm_factor) <= 0:
        import warnings
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=user_stacklevel())
        norm_factor = 0 * norm_factor if isinstance(norm_factor, Tensor) else 0
    xc = x - avg.unsqueeze(1)
    xw = xc * w if w is not None else xc
    c = xc @ (xw.mT.conj() if xw.is_complex() else xw.mT)
    return (c / norm_factor).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the variables in the rows of ``input``, clipped to
    [-1, 1] as ``torch.corrcoef``."""
    x = _t(input)
    if x.ndim > 2:
        raise RuntimeError("corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {x.ndim} dimensions")
    c = cov(x)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    sd = (d.real if d.is_complex() else d).sqrt()
    c = c / sd.reshape(-1, 1)
    c = c / sd.reshape(1, -1)
    if c.is_complex():
        from gradkit._api.complex import complex as _complex
        return _complex(c.real.clip(-1, 1), c.imag.clip(-1, 1))
    return c.clip(-1, 1)


@autocast_op
def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles of ``input`` (over all elements, or along ``dim``); a q tensor's
    dim comes first. A slice holding nan gives nan."""
    return _quantile(input, q, dim, keepdim, interpolation, False)


@autocast_op
def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` ignoring nan (a slice of only nan gives nan)."""
    return _quantile(input, q, dim, keepdim, interpolation, True)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """``median`` ignoring nan (a slice of only nan gives nan); with ``dim``, ``(values, indices)``."""
    from gradkit._api.indexing import gather, masked_select, sort
    from gradkit._core.tensor import _make

    x = _t(input)
    if dim is None:
        ok = ~np.isnan(x.detach().numpy()) if x.dtype.is_floating_point else None
        if ok is None or ok.all():
            return median(x)
        if not ok.any():
            return median(x)                                      # nan
        return median(masked_select(x, _make(ok, False, None)))  # gradient split as median's
    d = S.norm_dim(_int_dim(dim, "nanmedian"), x.ndim)
    R._check_nonempty(x, (d,), "nanmedian")
    if not x.dtype.is_floating_point or x.ndim == 0:
        return _nanmedian_ret(*median(x, d, keepdim))
    s, order = sort(x, dim=d, stable=True)                        # nan last, ties in order
    valid = x.shape[d] - np.isnan(s.detach().numpy()).sum(d, keepdims=True)
    k = _make(np.maximum(valid - 1, 0) // 2, False, None)
    v, i = gather(s, d, k), gather(order, d, k)
    if not keepdim:
        v, i = S.reshape_as(v, tuple(v.shape[:d] + v.shape[d + 1:])), \
            S.reshape_as(i, tuple(i.shape[:d] + i.shape[d + 1:]))
    return _nanmedian_ret(v, i)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """The most frequent value along ``dim`` (the smallest among ties) and the index of its last
    occurrence, as ``(values, indices)``; the gradient goes to that index."""
    from gradkit._api.indexing import gather
    from gradkit._core.tensor import _make

    x = _t(input)
    d = S.norm_dim(_int_dim(dim, "mode"), x.ndim) if x.ndim else 0
    R._check_nonempty(x, (d,), "mode")
    a = np.moveaxis(np.atleast_1d(x.detach().numpy()), d, -1)
    rows = a.reshape(-1, a.shape[-1])
    idx = np.empty(rows.shape[0], np.int64)
    for r, row in enumerate(rows):
        vals, counts = np.unique(row, return_counts=True, equal_nan=True)
        best = vals[np.argmax(counts)]                            # sorted: the smallest tie
        hit = np.isnan(row) if best != best else row == best
        idx[r] = row.shape[0] - 1 - int(np.argmax(hit[::-1]))
    idx = np.moveaxis(idx.reshape(a.shape[:-1] + (1,)), -1, d)
    if x.ndim == 0:
        return _mode_ret(x, _make(np.zeros((), np.int64), False, None))
    i = _make(idx, False, None)
    v = gather(x, d, i)
    if not keepdim:
        shape = tuple(x.shape[:d] + x.shape[d + 1:])
        v, i = S.reshape_as(v, shape), S.reshape_as(i, shape)
    return _mode_ret(v, i)


def hash_tensor(input: Tensor, dim: Dims = None, *, keepdim: bool = False, mode: int = 0) -> Tensor:
    """The XOR of the elements' bits (``mode=0``, PyTorch's only mode) over ``dim`` (all when
    None), as ``uint64``: floating elements are first converted to float64, integer and bool
    ones to int64, then read as 64-bit unsigned integers. Not differentiable."""
    from gradkit._core.backend import to_numpy
    from gradkit._core.tensor import _make

    x = _t(input)
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    if x.dtype.is_complex:
        raise NotImplementedError(f"\"xor_sum_cpu\" not implemented for '{_scalar_name(x.dtype)}'")
    d = _dims(x, dim)
    if d is None and x.numel() == 0:
        raise RuntimeError("hash_tensor: Expected reduction dim to be specified for input.numel() "
                           "== 0. Specify the reduction dim with the 'dim' argument.")
    for k in d or ():
        if x.shape[k] == 0:
            raise IndexError(f"hash_tensor: Expected reduction dim {k} to have non-zero size.")
    arr = np.asarray(to_numpy(x.detach()._data))
    wide = arr.astype(np.float64 if x.dtype.is_floating_point else np.int64)
    bits = np.ascontiguousarray(wide).view(np.uint64)
    return _make(np.asarray(np.bitwise_xor.reduce(bits, axis=d, keepdims=keepdim),
                            dtype=np.uint64), False, None)


# --- PyTorch's refusals by dtype (its words) ------------------------------------------------
def _refusing() -> None:
    from gradkit._api.base import _no_kernel, _refuse_kinds
    g = globals()
    for name, kernel in (("amax", "max_values_cpu"), ("amin", "min_values_cpu")):
        g[name] = _refuse_kinds(g[name], {"c": _no_kernel(kernel)})
    for name in ("argmax", "argmin"):
        g[name] = _refuse_kinds(g[name], {"c": (RuntimeError,
                                                f"{name}(): does not support complex input")})
    for name in ("median", "nanmedian"):
        g[name] = _refuse_kinds(g[name], {"c": _no_kernel("median_cpu"),
                                          "b": _no_kernel("median_cpu")})
    g["mode"] = _refuse_kinds(mode, {"c": _no_kernel("mode_cpu")})
    g["nansum"] = _refuse_kinds(nansum, {"c": (RuntimeError, "nansum on CPU does not support "
                                                             "complex inputs")})
    for name, kernel in (("max", "max_all"), ("min", "min_all")):
        g[name] = _extremum_refusing(g[name], name, kernel)


def _extremum_refusing(fn: Any, name: str, kernel: str) -> Any:
    """``max``/``min`` of complex numbers: PyTorch's error for each overload (``max(a, b)`` is
    ``maximum``'s)."""
    from gradkit._api.base import _like, _no_kernel, _refuse_kinds
    whole = _refuse_kinds(fn, {"c": _no_kernel(kernel)})
    along = _refuse_kinds(fn, {"c": (RuntimeError, f"{name}(): does not support complex input")})

    def wrapped(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:
        if isinstance(dim, Tensor) or other is not None:
            return fn(input, dim, keepdim, other=other)
        return (whole if dim is None else along)(input, dim, keepdim)
    return _like(wrapped, fn)


_refusing()
