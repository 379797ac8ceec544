"""Shared helpers of gradkit.nn.functional (argument checks, constants, reductions).

Part of ``gradkit.nn.functional`` (see its docstring).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradkit import _api as A
from gradkit._core.concrete import user_stacklevel
from gradkit._core import backend as _backend
from gradkit._core.tensor import Tensor, _make

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# --- helpers ----------------------------------------------------------------------------
def _t(x: Any, name: str = "input") -> Tensor:
    return A._t(x, name)


def _const(arr: Any, like: Tensor) -> Tensor:
    """A constant (no gradient) in ``like``'s dtype, placed where ``like`` lives (a GPU)."""
    arr = _backend.as_data(arr, like._data.dtype)
    if type(like._data) is not np.ndarray:
        arr = _backend.move(arr, _backend.placement_of(like._data))
    return _make(arr, False, None)


def _inplace(input: Tensor, fn: Any, inplace: bool) -> Tensor:
    """``fn(input)``, written into ``input`` when ``inplace`` (PyTorch's ``relu_`` and kin)."""
    if not inplace:
        return fn(input)
    from gradkit._api.inplace import _inplace as run_inplace
    return run_inplace(input, fn)


def _ntuple(v: Any, n: int, name: str) -> tuple[int, ...]:
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return (int(v[0]),) * n
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                               f"values to match the convolution dimensions, but got {name}={list(v)}")
        return tuple(int(i) for i in v)
    return (int(v),) * n


def _reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{reduction}' instead.", stacklevel=user_stacklevel())
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_size(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=user_stacklevel())


def _weighted(loss: Tensor, input: Tensor, weight: Any, reduction: str, by_weight: bool) -> Tensor:
    """Per-element weights (mse, l1, huber): 'mean' divides by the weights' sum when ``by_weight``."""
    w = _t(weight, "weight")
    if tuple(w.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * w
    if reduction == "mean" and by_weight:
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


def _logsigmoid(x: Tensor) -> Tensor:
    # NOTE: min(x, 0) - log1p(exp(-|x|)) never overflows; at 0 the tie in min gives 1/2, the
    # exact derivative.
    return A.minimum(x, 0.0) - A.log1p(A.exp(-A.abs(x)))


def _follow_layout(out: Any, *refs: Any) -> Any:
    """``out`` (a fresh result, or a tuple of them) laid out channels-last when a reference
    tensor (the input, a convolution's weight) is, as PyTorch's kernels give it (its
    ``suggest_memory_format``); the values are unchanged."""
    from gradkit._core import formats
    fmt = None
    for r in refs:
        if isinstance(r, Tensor) and type(r._data) is np.ndarray:
            f = formats.suggested(r._data)
            if f in formats.CHANNELS_LAST:
                fmt = f
                break
    if fmt is None:
        return out
    rank, order = formats.CHANNELS_LAST[fmt]
    for t in out if isinstance(out, tuple) else (out,):
        if isinstance(t, Tensor) and type(t._data) is np.ndarray and t._data.ndim == rank and \
                t._base is None and not formats.is_laid_out(t._data, order) and \
                not any(isinstance(r, Tensor) and np.may_share_memory(t._data, r._data)
                        for r in refs):
            t._data = formats.relaid(t._data, fmt)
    return out
