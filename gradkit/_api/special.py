"""More PyTorch-style functions (special functions, nan-aware reductions, lerp, index_add, ...).

Kept apart from ``_api`` so that module stays readable; re-exported at top level as
``gradkit.<name>``. Each is a table primitive (ops/) or a composite of them, so
gradients (of any order) come from the one derivative table.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._api import (_binary, _index_array, _other, _scalar_name, _t, _unary, amax, amin,
                          as_tensor_arg, isnan, logical_not, nansum, scatter_add)
from gradkit._api import sum as _sum
from gradkit._core.tensor import Tensor
from gradkit.ops import elementwise as E
from gradkit.ops import reduction as R
from gradkit.ops import shape as S

__all__ = [
    "erfc", "erfinv", "lgamma", "digamma", "polygamma", "sinc", "deg2rad", "rad2deg",
    "nan_to_num", "lerp", "addcmul", "addcdiv", "fmax", "fmin", "xlogy", "copysign", "heaviside",
    "logaddexp2", "logcumsumexp", "count_nonzero", "aminmax", "nanmean", "index_add", "special_xlogy",
]

class _aminmax_ret(tuple):
    """``(min, max)``, printed as ``torch.return_types.aminmax(...)``."""

    __slots__ = ()

    def __new__(cls, min: Any, max: Any) -> Any:  # noqa: A002
        return tuple.__new__(cls, (min, max))

    @property
    def min(self) -> Any:
        return self[0]

    @property
    def max(self) -> Any:
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.aminmax(\nmin={self[0]!r},\nmax={self[1]!r})"


_aminmax_ret.__name__ = _aminmax_ret.__qualname__ = "aminmax"
_aminmax_ret.__module__ = "gradkit.return_types"

erfc = _unary(E.erfc)
erfinv = _unary(E.erfinv)
lgamma = _unary(E.lgamma)
digamma = _unary(E.digamma)
sinc = _unary(E.sinc)
fmax = _binary(E.fmax, "fmax")
fmin = _binary(E.fmin, "fmin")
logaddexp2 = _binary(E.logaddexp2, "logaddexp2")


def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of ``digamma``; its gradient is ``polygamma(n + 1, input)``."""
    if int(n) != n or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return E.polygamma(_t(input), n=int(n))


def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians (integer inputs give the default floating dtype)."""
    return E.deg2rad(_t(input))


def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees (integer inputs give the default floating dtype)."""
    return E.rad2deg(_t(input))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """nan, +inf and -inf replaced by finite values; replaced entries get a zero gradient."""
    x = _t(input)
    if x.is_complex():             # real and imaginary parts each, as PyTorch (nan was kept)
        from gradkit._api.complex import complex as _complex
        return _complex(nan_to_num(x.real, nan, posinf, neginf),
                        nan_to_num(x.imag, nan, posinf, neginf))
    if not x.is_floating_point():
        return x.clone()
    info = np.finfo(x._data.dtype)
    hi = float(info.max) if posinf is None else posinf
    lo = float(info.min) if neginf is None else neginf
    return E.nan_to_num(x, nan=nan, posinf=hi, neginf=lo)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """``input + weight * (end - input)``, evaluated from the nearer end as PyTorch does."""
    x, y = _t(input), _t(end, "end")
    for t in (x, y) + ((weight,) if isinstance(weight, Tensor) else ()):
        if not (t.is_floating_point() or t.is_complex()):
            raise NotImplementedError(f'"lerp_kernel_scalar" not implemented for '
                                      f"'{_scalar_name(t.dtype)}'")
    if not isinstance(weight, Tensor):
        return E.lerp_scalar(x, y, weight=float(weight))      # LerpBackward0, as PyTorch
    return E.lerp(x, y, weight)                                # LerpBackward1


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    x, t1, t2 = _t(input), _t(tensor1, "tensor1"), _other(tensor2)
    if isinstance(t2, Tensor) and all(t.is_floating_point() or t.is_complex() for t in (x, t1, t2)):
        return E.addcmul(x, t1, t2, value=value)               # AddcmulBackward0, as PyTorch
    prod = E.mul(t1, t2)
    if value != 1:
        prod = E.mul(prod, value)
    return E.add(x, prod)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 / tensor2`` (floating inputs only, as PyTorch)."""
    t1, t2 = _t(tensor1, "tensor1"), _t(tensor2, "tensor2")
    if not (t1.is_floating_point() or t1.is_complex()) and not (
            t2.is_floating_point() or t2.is_complex()):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))."
            "to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")
    x = _t(input)
    if all(t.is_floating_point() or t.is_complex() for t in (x, t1, t2)):
        return E.addcdiv(x, t1, t2, value=value)               # AddcdivBackward0, as PyTorch
    q = E.div(t1, t2)
    if value != 1:
        q = E.mul(q, value)
    return E.add(x, q)


def _scalar_first(input: Any, other: Any) -> tuple[Any, Any]:
    other = _other(other)
    if not isinstance(input, Tensor):
        input = as_tensor_arg(input)
        if isinstance(other, Tensor) and input.ndim == 0 and input.dtype is not other.dtype \
                and other.is_floating_point():
            input = input.to(other.dtype)
    return input, other


def xlogy(input: Any, other: Any) -> Tensor:
    """``input * log(other)``, with 0 where ``input == 0`` (unless ``other`` is nan)."""
    x, y = _scalar_first(input, other)
    return E.xlogy(x, y)


special_xlogy = xlogy


def copysign(input: Any, other: Any) -> Tensor:
    """``|input|`` with the sign of ``other``; the gradient to ``other`` is zero."""
    x, y = _scalar_first(input, other)
    return E.copysign(x, y)


def heaviside(input: Tensor, values: Any) -> Tensor:
    """0 where ``input < 0``, 1 where ``> 0``, ``values`` where 0 (not differentiable)."""
    x, v = _t(input), _t(values, "values")
    if x.dtype is not v.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return E.heaviside(x, v, nan_zero=True)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input), dim))`` computed without overflow."""
    x = _t(input)
    if not (x.is_floating_point() or x.is_complex()):
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                  f"'{_scalar_name(x.dtype)}'")
    return R.logcumsumexp_p(x, dim=S.norm_dim(dim, max(x.ndim, 1)) if x.ndim else 0)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """How many elements are nonzero, over ``dim`` (an int or a tuple) or all; int64."""
    x = _t(input)
    return _sum(E.ne(x, 0), dim=dim)


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """``(amin, amax)`` as ``return_types.aminmax(min, max)``; ties share the gradient."""
    x = _t(input)
    if dim is None:
        dims = None
    else:
        if x.ndim == 0 and dim not in (0, -1):
            return _aminmax_ret(amin(x, dim, keepdim), amax(x, dim, keepdim))   # their error
        dims = (S.norm_dim(dim, x.ndim),) if x.ndim else None
    # PyTorch's node: both outputs from one AminmaxBackward0 (a row of the table)
    lo, hi = R.aminmax_p(x, dim=dims, keepdim=keepdim)
    return _aminmax_ret(lo, hi)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean of the non-nan elements (nan where there are none); nan entries get no gradient."""
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_scalar_name(x.dtype)}")
    count = _sum(logical_not(isnan(x)), dim=dim, keepdim=keepdim)
    return E.div(nansum(x, dim, keepdim), count.to(x.dtype))


def index_add(input: Tensor, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """``input`` with ``alpha * source`` slices added at ``index`` along ``dim`` (repeats add up)."""
    x, src = _t(input), _t(source, "source")
    if src.dtype is not x.dtype:
        raise RuntimeError(f"index_add_(): self ({_scalar_name(x.dtype)}) and source "
                           f"({_scalar_name(src.dtype)}) must have the same scalar type")
    d = S.norm_dim(dim, max(x.ndim, 1)) if x.ndim else 0
    idx = _index_array(index).reshape(-1)
    if src.ndim == 0:
        src = src.reshape((1,))
    if x.ndim == 0:
        return index_add(x.reshape((1,)), 0, idx, src, alpha=alpha).reshape(())
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[d]):
        raise IndexError("index out of range in self")
    if src.ndim != x.ndim or src.shape[d] != idx.shape[0]:
        raise IndexError(f"index_add_(): Number of indices ({idx.shape[0]}) should be equal to "
                         f"source.size(dim) ({src.shape[d] if src.ndim > d else 1})")
    other = [s for i, s in enumerate(src.shape) if i != d]
    if other != [s for i, s in enumerate(x.shape) if i != d] or \
            not isinstance(alpha, (int, float)) or isinstance(alpha, bool):
        shape = [1] * src.ndim
        shape[d] = idx.shape[0]
        full = np.broadcast_to(idx.reshape(shape), tuple(src.shape))
        if alpha != 1:
            src = E.mul(src, alpha)
        if src.dtype is not x.dtype:
            src = src.to(x.dtype)
        return scatter_add(x, d, full, src)
    # PyTorch's node: one IndexAddBackward0 (a row of the table)
    return S.index_add_p(x, src, dim=d, index=idx, alpha=alpha)



# --- PyTorch's refusals by dtype (its words) ------------------------------------------------
def _refusing() -> None:
    from gradkit._api.base import _no_kernel, _refuse_kinds
    g = globals()
    for name in ("fmax", "fmin"):
        g[name] = _refuse_kinds(g[name], {"c": (RuntimeError, f"{name} not implemented for complex "
                                                             "tensors.")}, binary=True)
    for name in ("deg2rad", "rad2deg"):
        g[name] = _refuse_kinds(g[name], {"c": (RuntimeError,
                                                f"{name} is not supported for complex tensors.")})
    g["logaddexp2"] = _refuse_kinds(logaddexp2, {"i": _no_kernel("logaddexp2_cpu"),
                                                 "b": _no_kernel("logaddexp2_cpu")}, binary=True)
    g["xlogy"] = g["special_xlogy"] = _refuse_kinds(xlogy, {"c": _no_kernel("xlogy_cpu")},
                                                    binary=True)
    g["aminmax"] = _refuse_kinds(aminmax, {"c": _no_kernel("aminmax_cpu")})
    g["nanmean"] = _refuse_kinds(nanmean, {"c": (RuntimeError, "nansum on CPU does not support "
                                                               "complex inputs")})
    g["digamma"] = _refuse_kinds(digamma, {"c": _no_kernel("digamma")})


_refusing()
