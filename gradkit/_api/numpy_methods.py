"""NumPy's keywords on Tensor methods: ``t.sum(axis=0, keepdims=True)``, ``t.max(axis=1)``,
``t.var(axis=0, ddof=1)``, ``t.astype(float)``, ``t.copy()``, ``t.transpose()``.

NumPy code calls array methods with NumPy's keywords; PyTorch's methods take ``dim`` and
``keepdim``. A method called with NumPy's keywords (``axis``, ``keepdims``, ``ddof``) follows
NumPy, and one called without them stays PyTorch's, so PyTorch code is unchanged:

- ``max``/``min`` with ``axis`` return the values only (NumPy), not PyTorch's (values, indices);
- ``var``/``std`` with ``axis`` or ``ddof`` take NumPy's default ``ddof=0`` (PyTorch's methods
  default to ``correction=1``; called with no keyword they stay PyTorch's);
- ``repeat(n, axis=k)`` is NumPy's element repeat (``repeat_interleave``); without ``axis`` it
  stays PyTorch's tiling ``repeat``.

Only the keyword check is added to a plain PyTorch-style call (one dict lookup when keywords
are given, none otherwise).
"""

from __future__ import annotations

import builtins
import functools
from typing import Any, Callable

import numpy as np

from gradkit import _api as A
from gradkit._api.base import _numpy_rules
from gradkit._core import dtype as _dtype
from gradkit._core.tensor import Tensor

__all__: list[str] = []

_NUMPY_KEYS = frozenset(("axis", "keepdims", "ddof"))


def _axis(x: Tensor, axis: Any) -> Any:
    if axis is None:
        return None
    return tuple(int(a) for a in axis) if isinstance(axis, (tuple, list)) else int(axis)


def _finish(res: Tensor, dtype: Any, out: Any) -> Any:
    if dtype is not None:
        res = res.to(_dtype.as_dtype(np.dtype(dtype)) if not isinstance(dtype, _dtype.dtype) else dtype)
    if out is None:
        return res
    if not isinstance(out, Tensor):
        raise TypeError(f"out must be a gradkit tensor, not {type(out).__name__}")
    out.copy_(res)
    return out


def _reduction(name: str) -> Callable[..., Any]:
    """``sum``/``mean``/``prod``/``any``/``all``/``amax``/``amin``/``max``/``min`` in NumPy's
    spelling: one axis, a tuple of axes or all of them, ``keepdims``."""
    def numpy_style(self: Tensor, axis: Any = None, dtype: Any = None, out: Any = None,
                    keepdims: bool = False, **kw: Any) -> Any:
        if kw:
            raise TypeError(f"{name}() got unexpected keyword arguments {sorted(kw)}")
        dims = _axis(self, axis)
        fn0 = {"max": A.amax, "min": A.amin}.get(name) or getattr(A, name)

        def fn(*a: Any, **k: Any) -> Any:
            return _numpy_rules(fn0, *a, **k)        # NumPy's spelling, NumPy's rules
        if name in ("prod", "any", "all") and isinstance(dims, tuple):
            res = self                      # one axis at a time, the highest first
            for d in sorted((d % max(self.ndim, 1) for d in dims), reverse=True):
                res = fn(res, d, keepdim=keepdims)
        elif dims is None and name in ("prod", "any", "all", "argmax", "argmin"):
            res = fn(self) if not keepdims else fn(self).reshape((1,) * self.ndim)
        else:
            res = fn(self, dims, keepdim=keepdims)
        return _finish(res, dtype, out)
    return numpy_style


def _var_std(name: str) -> Callable[..., Any]:
    def numpy_style(self: Tensor, axis: Any = None, dtype: Any = None, out: Any = None,
                    ddof: float = 0, keepdims: bool = False) -> Any:
        res = getattr(A, name)(self, _axis(self, axis), correction=ddof, keepdim=keepdims)
        return _finish(res, dtype, out)
    return numpy_style


def _cumulative(name: str) -> Callable[..., Any]:
    def numpy_style(self: Tensor, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        x = self.reshape(-1) if axis is None else self
        return _finish(getattr(A, name)(x, 0 if axis is None else int(axis)), dtype, out)
    return numpy_style


def _squeeze(self: Tensor, axis: Any = None) -> Tensor:
    if axis is None:
        return A.squeeze(self)
    dims = _axis(self, axis)
    for d in sorted((d % self.ndim for d in (dims if isinstance(dims, tuple) else (dims,))),
                    reverse=True):
        if self.shape[d] != 1:
            raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
        self = A.squeeze(self, d)
    return self


def _repeat(self: Tensor, repeats: Any, axis: Any = None) -> Tensor:
    return A.repeat_interleave(self, repeats, dim=axis)


_NUMPY_STYLE: dict[str, Callable[..., Any]] = {
    **{n: _reduction(n) for n in ("sum", "mean", "prod", "any", "all", "amax", "amin", "max",
                                  "min", "argmax", "argmin")},
    "var": _var_std("var"), "std": _var_std("std"),
    "cumsum": _cumulative("cumsum"), "cumprod": _cumulative("cumprod"),
    "squeeze": _squeeze, "repeat": _repeat,
}


def _with_numpy_keywords(name: str, torch_style: Callable[..., Any],
                         numpy_style: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(torch_style)
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            if not _NUMPY_KEYS.isdisjoint(kwargs) and "dim" not in kwargs:
                return numpy_style(self, *args, **kwargs)      # out= too, beside axis=
            if "out" in kwargs:
                # NOTE: PyTorch's methods take no out= (t.sum(out=y) is a TypeError there)
                raise TypeError(f"{name}() got an unexpected keyword argument 'out'")
            if "keepdims" in kwargs and "keepdim" not in kwargs:
                # PyTorch takes NumPy's spelling beside dim= (t.sum(dim=1, keepdims=True))
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return torch_style(self, *args, **kwargs)
    return method


def _astype(self: Tensor, dtype: Any, order: str = "K", casting: str = "unsafe",
            subok: bool = True, copy: bool = True) -> Tensor:
    """NumPy's ``astype``: Python ``float``/``int``/``complex``/``bool`` are NumPy's float64,
    int64, complex128 and bool; a NumPy dtype or a gradkit dtype is taken as it is."""
    if not isinstance(dtype, _dtype.dtype):
        dtype = _dtype.as_dtype(np.dtype(dtype))
    res = self.to(dtype)
    return res.clone() if copy and res is self else res


def _transpose(torch_style: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(torch_style)
    def transpose(self: Tensor, *axes: Any) -> Tensor:
        if len(axes) == 2 and builtins.all(isinstance(a, int) for a in axes):
            return torch_style(self, *axes)            # PyTorch: swap two dims
        if not axes or axes == (None,):                # NumPy: reverse the dims
            return A.permute(self, tuple(range(self.ndim - 1, -1, -1)))
        perm = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return A.permute(self, tuple(int(a) for a in perm))
    return transpose


def _dot(torch_style: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(torch_style)
    def dot(self: Tensor, other: Any) -> Tensor:
        if self.ndim == 1 and getattr(other, "ndim", 1) == 1:
            return torch_style(self, other)
        return A.matmul(self, other) if self.ndim and getattr(other, "ndim", 0) else self * other
    return dot


def _round(torch_style: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(torch_style)
    def round(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A001
        if args and "decimals" not in kwargs:          # NumPy: t.round(1)
            kwargs["decimals"] = args[0]
            args = args[1:]
        return torch_style(self, *args, **kwargs)
    return round


def _install() -> None:
    for name, numpy_style in _NUMPY_STYLE.items():
        setattr(Tensor, name, _with_numpy_keywords(name, getattr(Tensor, name), numpy_style))
    Tensor.astype = _astype                            # type: ignore[attr-defined]
    Tensor.copy = lambda self, order="K": A.clone(self)   # type: ignore[attr-defined]
    Tensor.transpose = _transpose(Tensor.transpose)    # type: ignore[method-assign]
    Tensor.dot = _dot(Tensor.dot)                      # type: ignore[method-assign]
    Tensor.round = _round(Tensor.round)                # type: ignore[method-assign]


_install()
